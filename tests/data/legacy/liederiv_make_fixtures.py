"""Write the liederiv legacy fixtures with symmetrykit 0.1 (its ``save_model`` format).

Run with the old code first on the path, from the repository root:

    PYTHONPATH=/path/to/symmetrykit-0.1/src python tests/data/legacy/liederiv_make_fixtures.py

``liederiv_dictionary_model``: a two-output quadratic :class:`DictionaryModel` in two variables.
``liederiv_equivariant``: an SO(2)-equivariant cubic vector field fitted by
``EquivariantRegressor`` and saved the way ``symmetrykit lie enforce`` saved it.
"""

from pathlib import Path

import numpy as np

import symmetrykit as sk
from symmetrykit import liederiv

HERE = Path(__file__).resolve().parent
COEF = np.array([[1.0, 0.5, -0.25, 2.0, 0.0, 2.0], [0.0, 1.0, 0.0, 0.0, 3.0, 0.0]])


def spiral_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(15, 2))
    r2 = (X**2).sum(axis=1, keepdims=True)
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    return X, (1 - r2) * X + 0.5 * X @ J.T


def main() -> None:
    dictionary = liederiv.PolynomialDictionary(2, 2)
    liederiv.save_model(liederiv.DictionaryModel(dictionary, COEF),
                        HERE / "liederiv_dictionary_model")
    X, Y = spiral_data()
    model = liederiv.EquivariantRegressor(3, sk.lie.so(2), "tangent", random_state=0).fit(X, Y)
    liederiv.save_model(model, HERE / "liederiv_equivariant",
                        config={"command": "lie enforce", "algebra": "so(2)", "output": "tangent",
                                "degree": 3, "alpha": 0.0})


if __name__ == "__main__":
    main()

"""Write the format-1 fixture runs of SymmetryLens, LieGAN and SymmetryGAN (symmetrykit 0.1).

Run with the code of symmetrykit 0.1 (before the shared estimator contract) on the path, from
this directory::

    PYTHONPATH=/path/to/symmetrykit-0.1/src python lens_make_v1_fixtures.py

Each run directory gets a sibling ``<name>_expected.npz`` with a few samples and what the fitted
estimator gave for them, which ``tests/test_lens_io.py`` and ``tests/test_baselines_io.py``
compare against after loading with the current code.
"""

import shutil
from pathlib import Path

import numpy as np

import symmetrykit as sk
from symmetrykit.baselines import LieGAN, SymmetryGAN
from symmetrykit.lens import SymmetryLens

HERE = Path(__file__).resolve().parent


def _fresh(name: str) -> Path:
    path = HERE / name
    if path.exists():
        shutil.rmtree(path)
    return path


def main() -> None:
    ds = sk.datasets.local_signals(n_samples=300, dim=5, random_state=0)
    X, probe = ds.X, ds.X[:4]
    tiny = {"n_steps": 8, "warmup_steps": 2, "batch_size": 50, "log_every": 4,
            "progress": "none", "random_state": 0}

    lens = SymmetryLens(**tiny).fit(X)  # warm start: the run keeps a WarmStart
    lens.save(_fresh("lens_v1"), metrics={"note": "fixture"})
    np.savez(HERE / "lens_v1_expected.npz", X=probe, transform=lens.transform(probe),
             generator=lens.generator_, filter=lens.filter_)

    # The options removed later (recenter_at, filter_init="pca") with non-default values.
    dead = SymmetryLens(init="random", recenter_at=(0.5,), filter_init="pca", n_restarts=2,
                        **tiny).fit(X)
    dead.save(_fresh("lens_v1_dead_options"))
    np.savez(HERE / "lens_v1_dead_options_expected.npz", X=probe,
             transform=dead.transform(probe), generator=dead.generator_, filter=dead.filter_)

    baseline = {"n_steps": 8, "batch_size": 32, "log_every": 4, "progress": "none",
                "random_state": 0}
    liegan = LieGAN(n_generators=2, **baseline).fit(X)
    liegan.save(_fresh("liegan_v1"))
    np.savez(HERE / "liegan_v1_expected.npz", generators=liegan.generators_,
             generator=liegan.generator_)

    gan = SymmetryGAN(**baseline).fit(X)
    gan.save(_fresh("symmetrygan_v1"))
    np.savez(HERE / "symmetrygan_v1_expected.npz", X=probe, transform=gan.transform(probe),
             generator=gan.generator_)


if __name__ == "__main__":
    main()

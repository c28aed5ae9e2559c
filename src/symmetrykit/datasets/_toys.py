"""Two cheap 2-D toy data sets, the home tasks of the adversarial baselines.

* :func:`gaussian_ring` — SymmetryGAN's ring of eight narrow Gaussians (Desai, Nachman & Thaler
  2022), invariant under the dihedral group D8 of the regular octagon (16 elements) and nothing
  more; ground truth the rotation by 45°.
* :func:`rotation_invariant` — LieGAN's rotation-invariant toy (Yang et al. 2023): a ring with
  radial noise and uniform angle, invariant under all of SO(2); ground truth a representative
  rotation, the quarter turn ``R(90°) = J``, which is also the algebra element of SO(2).

Both return a :class:`SymmetryDataset` whose ``generator`` is an orthogonal group element, as
for every vector set. Recipes and defaults in ``docs/data.md`` ("2-D toys").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._common import check_int, check_nonnegative, check_positive, resolve_random_state
from ._core import SymmetryDataset

__all__ = ["gaussian_ring", "rotation", "rotation_invariant"]

_N_CENTRES = 8
# The quarter turn R(90°), exactly; also the generator of so(2): expm(t J) = R(t).
_J = np.array([[0.0, -1.0], [1.0, 0.0]])


def rotation(angle: float) -> np.ndarray:
    """The 2-D rotation ``[[cos a, −sin a], [sin a, cos a]]`` by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def _add_noise(x: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    # Isotropic Gaussian noise commutes with every rotation and reflection: the symmetry stays.
    # Nothing is drawn without noise, so the other draws do not depend on it.
    if noise > 0:
        x += noise * rng.standard_normal(x.shape)
    return x


def gaussian_ring(
    n_samples: int = 20_000,
    width: float = 0.1,
    noise: float = 0.0,
    random_state: Any = None,
) -> SymmetryDataset:
    """SymmetryGAN's 2-D ring of eight narrow Gaussians, symmetric under D8 only.

    Each sample picks one of eight centres ``(cos(kπ/4), sin(kπ/4))``, ``k = 0 … 7``, uniformly
    and adds ``N(0, width² I)``. The distribution is invariant under the dihedral group of the
    regular octagon (rotations by multiples of 45° and the eight reflections through the
    centre lines, 16 elements), the task on which SymmetryGAN learns a discrete group.

    Parameters
    ----------
    n_samples
        Number of samples (>= 2).
    width
        Standard deviation of each Gaussian (>= 0); 0.1 keeps them well apart (neighbouring
        centres are 0.77 apart).
    noise
        Standard deviation of extra isotropic Gaussian noise (>= 0, default 0); it keeps the
        symmetry and only widens the bumps.
    random_state
        None, a non-negative int or a :class:`numpy.random.Generator`.

    Returns
    -------
    SymmetryDataset
        ``X`` of shape ``(n_samples, 2)``; ``generator`` the rotation by 45° (order 8);
        ``params["reflection"]`` the reflection ``diag(1, −1)`` that completes D8.

    Raises
    ------
    ValueError
        On a bad parameter; the message names it.
    """
    n_samples = check_int("n_samples", n_samples, 2)
    width = check_nonnegative("width", width)
    noise = check_nonnegative("noise", noise)
    rng, seed = resolve_random_state(random_state)
    angles = np.arange(_N_CENTRES) * (2.0 * math.pi / _N_CENTRES)
    centres = np.c_[np.cos(angles), np.sin(angles)]
    x = centres[rng.integers(0, _N_CENTRES, n_samples)]
    x = x + width * rng.standard_normal((n_samples, 2))
    x = _add_noise(x, noise, rng)
    params = {
        "n_samples": n_samples,
        "width": width,
        "noise": noise,
        "centres": "(cos(k·pi/4), sin(k·pi/4)), k = 0..7",
        "group": "D8, the 16 symmetries of the regular octagon",
        "generator": "rotation by 45 degrees",
        "reflection": [[1.0, 0.0], [0.0, -1.0]],
        "random_state": seed,
    }
    return SymmetryDataset(
        X=x, generator=rotation(math.pi / 4), name="gaussian-ring", params=params,
        description=(
            f"Ring of 8 Gaussians (std {width:g}) centred on the unit circle at angles k·45°; "
            "symmetric under D8 (SymmetryGAN's 2-D task)."
        ),
    )


def rotation_invariant(
    n_samples: int = 20_000,
    radius: float = 1.0,
    radial_std: float = 0.1,
    noise: float = 0.0,
    random_state: Any = None,
) -> SymmetryDataset:
    """LieGAN's rotation-invariant 2-D toy: a noisy ring, symmetric under all of SO(2).

    Each sample has angle ``θ ~ U(0, 2π)`` and radius ``ρ ~ N(radius, radial_std²)``, and is
    ``ρ (cos θ, sin θ)``. (A negative ``ρ``, which the defaults make vanishingly rare, is the
    point at ``θ + π``: the distribution stays rotation-invariant.) Every rotation is a
    symmetry, and so is every reflection through the origin's lines: the group is O(2), whose
    continuous part SO(2) (algebra spanned by ``J``) is what LieGAN learns. A scaling is not a
    symmetry: the radius is fixed.

    Parameters
    ----------
    n_samples
        Number of samples (>= 2).
    radius, radial_std
        Mean (> 0) and standard deviation (>= 0) of the radius.
    noise
        Standard deviation of extra isotropic Gaussian noise (>= 0, default 0); it keeps the
        symmetry.
    random_state
        None, a non-negative int or a :class:`numpy.random.Generator`.

    Returns
    -------
    SymmetryDataset
        ``X`` of shape ``(n_samples, 2)``; ``generator`` the quarter turn ``R(90°)``, a
        representative element of the continuous group, chosen because it equals the algebra
        element ``J = [[0, −1], [1, 0]]`` of SO(2) (``expm(t J) = R(t)``), which
        ``params["algebra_element"]`` records too.

    Raises
    ------
    ValueError
        On a bad parameter; the message names it.
    """
    n_samples = check_int("n_samples", n_samples, 2)
    radius = check_positive("radius", radius)
    radial_std = check_nonnegative("radial_std", radial_std)
    noise = check_nonnegative("noise", noise)
    rng, seed = resolve_random_state(random_state)
    theta = rng.uniform(0.0, 2.0 * math.pi, n_samples)
    rho = radius + radial_std * rng.standard_normal(n_samples)
    x = _add_noise(rho[:, None] * np.c_[np.cos(theta), np.sin(theta)], noise, rng)
    params = {
        "n_samples": n_samples,
        "radius": radius,
        "radial_std": radial_std,
        "noise": noise,
        "group": "O(2): all rotations (SO(2), algebra element J) and reflections",
        "generator": "rotation by 90 degrees (a representative element)",
        "algebra_element": _J.tolist(),
        "random_state": seed,
    }
    return SymmetryDataset(
        X=x, generator=_J.copy(), name="rotation-invariant", params=params,
        description=(
            f"Ring of radius ~ N({radius:g}, {radial_std:g}²) at uniform angle; symmetric "
            "under every rotation (LieGAN's 2-D task)."
        ),
    )

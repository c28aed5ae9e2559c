"""Compare learned generator fields with known symmetries (Ko, Kim & Lee 2024, Fig. 4):
:func:`compare`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ._pde_data import _grid_samples, _is_pde_dataset, pde_points, pde_reference_fields
from ._regularizers import field_similarity

__all__ = ["FlowComparison", "compare"]


@dataclass(frozen=True)
class FlowComparison:
    """Per-slot comparison of a fitted :class:`GeneratorFlow` with reference fields.

    Attributes
    ----------
    reference_names : tuple of str
        Names of the reference fields (columns of ``inner_products``).
    inner_products : ndarray, shape (K, J)
        Cosines ``<V_k, G_j>`` with the Gram-Schmidt-orthonormalised reference fields.
    projection_norms : ndarray, shape (K,)
        Cosine of the angle between each slot and the reference span.
    principal_angles : ndarray
        Principal angles (radians) between the span of all slots and the reference span.
    galilean : ndarray or None, shape (K,)
        Coefficient of each slot on the Galilean boost when the slot is expanded in the basis
        ``(∂_x, ∂_t, ∂_u, gal)``, ``gal`` the unit boost orthogonalised against the
        translations: 1 for the exact boost, 0 for ``∂_u`` and the translations (``∂_u``
        alone projects strongly onto the Galilean field, so the projection norm cannot tell
        them apart); ``None`` when the reference set has no Galilean field.
    validity : ndarray or None, shape (K,)
        Mean validity of the evaluation samples flowed by ``±s_range`` along each slot.
    identity_validity : float or None
        Validity of the untransformed evaluation samples (the floor).
    rows : list of dict
        One row per slot with all of the above.
    """

    reference_names: tuple[str, ...]
    inner_products: np.ndarray
    projection_norms: np.ndarray
    principal_angles: np.ndarray
    galilean: np.ndarray | None
    validity: np.ndarray | None
    identity_validity: float | None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_markdown(self, digits: int = 2) -> str:
        """The rows as a GitHub-flavoured markdown table."""
        if not self.rows:
            return ""
        columns = list(self.rows[0])
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for row in self.rows:
            cells = []
            for name in columns:
                value = row[name]
                if isinstance(value, float):
                    cells.append(f"{value:.{digits}f}")
                else:
                    cells.append(str(value))
            lines.append("| " + " | ".join(cells) + " |")
        angles = ", ".join(f"{np.degrees(a):.1f}" for a in self.principal_angles)
        lines.append("")
        lines.append(f"principal angles (degrees) between span(V) and span(G): {angles}")
        if self.identity_validity is not None:
            lines.append(f"validity of the untransformed data: {self.identity_validity:.{digits}f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


def _orthogonal_part(field: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``field`` minus its point-mean L2 projection onto span(others), shapes (N, D), (J, N, D)."""
    flat = others.reshape(others.shape[0], -1).T
    coefficients, *_ = np.linalg.lstsq(flat, field.reshape(-1), rcond=None)
    return field - (flat @ coefficients).reshape(field.shape)


def _sample_points(grids: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    flat = grids.reshape(-1, grids.shape[-1])
    n = max(int(round(fraction * flat.shape[0])), min(flat.shape[0], 16))
    return flat[rng.choice(flat.shape[0], size=n, replace=False)]


def compare(
    flow,
    data,
    reference: Sequence[Callable[[np.ndarray], np.ndarray]] | None = None,
    reference_names: Sequence[str] | None = None,
    fraction: float = 0.01,
    n_validity_samples: int = 4,
    random_state: int | np.random.Generator | None = 0,
) -> FlowComparison:
    """Table of inner products, projection norms, principal angles and validity per slot.

    Parameters
    ----------
    flow : GeneratorFlow
        A fitted estimator.
    data : PDEDataset or array_like, shape ``(n_samples, *grid, D)``
        Data the fields are compared on (usually the training data).
    reference : sequence of callable, optional
        Reference fields ``(N, D) -> (N, D)`` in the learning coordinates; default for PDE data:
        ``data.reference_symmetries`` converted to learning coordinates. Required otherwise.
    reference_names : sequence of str, optional
    fraction : float, default 0.01
        Fraction of all data points used for the inner products (the paper: 1 %).
    n_validity_samples : int, default 4
        Samples flowed by ``±s_range`` per slot to score validity (0 skips the validity).
    random_state : int, Generator or None, default 0

    Returns
    -------
    FlowComparison
    """
    flow._check_fitted()
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(random_state)
    is_pde = _is_pde_dataset(data)
    grids = pde_points(data) if is_pde else _grid_samples(data, "compare")
    if grids.ndim < 3 or grids.shape[-1] != flow.field_.dim:
        raise ValueError(f"data must have points of dimension {flow.field_.dim}")
    points = _sample_points(grids, fraction, rng)

    galilean = None
    if reference is None:
        if not is_pde:
            raise ValueError("reference fields are needed for data that is not a PDEDataset")
        symmetries = data.reference_symmetries
        names = tuple(s.name for s in symmetries)
        true = pde_reference_fields(data, points, symmetries)
        gal_index = [i for i, name in enumerate(names) if "galilean" in name]
        if gal_index:
            # Order (∂x, ∂t, ∂u, gal): Gram-Schmidt leaves the part of gal that ∂u cannot explain.
            scale = float(data.params["u_scale"])
            unit = np.zeros_like(points)
            unit[:, 0] = 1.0
            axes = [unit.copy(), np.roll(unit, 1, axis=1), np.roll(unit, 2, axis=1) * scale]
            gal = true[gal_index[0]]
            basis = np.stack([*axes, gal])
            # Coefficient of V on the Galilean field when V is expanded in (∂x, ∂t, ∂u, gal):
            # <V, q> / <gal_hat, q>, q the part of gal that ∂x, ∂t, ∂u cannot explain and gal_hat
            # the unit Galilean field orthogonalised against the translations (the reference
            # column of the paper's table). The exact boost scores 1, ∂u and translations 0.
            translations = np.stack([true[i] for i, name in enumerate(names)
                                     if "translation" in name])
            gal_hat = _orthogonal_part(gal, translations)
            learned_q = field_similarity(flow.evaluate(points), basis).inner_products[:, 3]
            exact_q = field_similarity(gal_hat[None], basis).inner_products[0, 3]
            galilean = learned_q / exact_q
    else:
        names = tuple(reference_names or (f"G{j}" for j in range(len(reference))))
        if len(names) != len(reference):
            raise ValueError("reference_names must name every reference field")
        true = np.stack([np.asarray(g(points), dtype=np.float64) for g in reference])
    learned = flow.evaluate(points)
    similarity = field_similarity(learned, true)

    validity = identity = None
    if n_validity_samples > 0 and getattr(flow, "validity_", None) is not None:
        chosen = rng.choice(grids.shape[0], size=min(n_validity_samples, grids.shape[0]),
                            replace=False)
        samples = grids[np.sort(chosen)]
        score = flow.validity_
        with torch.no_grad():
            identity = float(torch.as_tensor(score(torch.as_tensor(samples))).mean())
            validity = np.zeros(flow.n_generators)
            for k in range(flow.n_generators):
                values = [
                    float(torch.as_tensor(score(torch.as_tensor(
                        flow.transform(samples, sign * float(flow.s_range), k)))).mean())
                    for sign in (-1.0, 1.0)
                ]
                validity[k] = float(np.mean(values))

    rows = []
    for k in range(flow.n_generators):
        row: dict[str, Any] = {"slot": f"V{k + 1}"}
        for j, name in enumerate(names):
            row[name] = float(similarity.inner_products[k, j])
        row["projection"] = float(similarity.projection_norms[k])
        if galilean is not None:
            row["galilean (no ∂u)"] = float(galilean[k])
        if validity is not None:
            row["validity"] = float(validity[k])
        rows.append(row)
    return FlowComparison(
        reference_names=names,
        inner_products=similarity.inner_products,
        projection_norms=similarity.projection_norms,
        principal_angles=similarity.principal_angles,
        galilean=galilean,
        validity=validity,
        identity_validity=identity,
        rows=rows,
    )

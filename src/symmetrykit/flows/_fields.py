"""Learnable vector fields and their one-parameter flows (Ko, Kim & Lee 2024, §4.2-4.3).

A :class:`GeneratorField` holds ``K`` vector fields on ``R^D`` as one MLP: a shared trunk followed
by a small head per field. Each field is divided by its (optionally weighted) RMS norm over the
point set it is evaluated on, so the zero field, and with it the identity flow, cannot be learned.
:func:`flow` integrates ``dp/dtau = V(p)`` from ``0`` to ``s`` with fixed-step RK4; it is plain
differentiable PyTorch, so gradients reach the field's parameters by backpropagation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import torch

__all__ = ["GeneratorField", "TrunkFeatures", "build_field", "flow", "field_norms"]

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "silu": torch.nn.functional.silu,
    "tanh": torch.tanh,
    "gelu": torch.nn.functional.gelu,
    "softplus": torch.nn.functional.softplus,
}


class TrunkFeatures(NamedTuple):
    """What :meth:`GeneratorField.trunk` hands to the heads.

    ``hidden`` ``(..., N, h)`` are the trunk's last features; ``skip`` ``(..., N, e)`` the
    centred, scaled input the linear skip acts on (``None`` without the skip). Kept apart
    rather than concatenated: the heads use them separately, and a concatenation sliced apart
    again costs a copy forward and zero-filled gradients backward at every RK4 stage.
    """

    hidden: torch.Tensor
    skip: torch.Tensor | None

    def detach(self) -> TrunkFeatures:
        return self.map(torch.Tensor.detach)

    def map(self, function: Callable[[torch.Tensor], torch.Tensor]) -> TrunkFeatures:
        """Apply one reshaping (indexing, ``expand``, ...) to both parts."""
        return TrunkFeatures(function(self.hidden),
                             None if self.skip is None else function(self.skip))


def _uniform(shape, bound: float, rng: torch.Generator | None) -> torch.Tensor:
    # PyTorch's default Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    values = torch.rand(shape, generator=rng, dtype=torch.float64)
    return (2.0 * values - 1.0) * bound


def _shape(value) -> object:
    return tuple(value.shape) if hasattr(value, "shape") else type(value).__name__


def field_norms(fields: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """RMS norm of each field over its points, ``sqrt(sum_p w_p |V(p)|^2 / sum_p w_p)``.

    Parameters
    ----------
    fields : torch.Tensor, shape (..., N, D)
        Field values at ``N`` points; leading axes index fields.
    weights : torch.Tensor, shape (N,) or (..., N), optional
        Non-negative point weights (the image weight map ``w(z)``); uniform when omitted.

    Returns
    -------
    torch.Tensor, shape (...)
    """
    if fields.ndim < 2:
        raise ValueError(f"fields must have shape (..., N, D), got {tuple(fields.shape)}")
    squared = (fields * fields).sum(dim=-1)
    if weights is None:
        return squared.mean(dim=-1).sqrt()
    weights = torch.as_tensor(weights, dtype=fields.dtype, device=fields.device)
    if weights.shape[-1] != fields.shape[-2]:
        raise ValueError(
            f"weights has {weights.shape[-1]} points but fields have {fields.shape[-2]}"
        )
    if bool((weights < 0).any()) or not bool((weights.sum(dim=-1) > 0).all()):
        raise ValueError("weights must be non-negative with a positive sum")
    return ((weights * squared).sum(dim=-1) / weights.sum(dim=-1)).sqrt()


class GeneratorField(torch.nn.Module):
    """``K`` learnable vector fields on ``R^D``: shared MLP trunk, one head per field.

    Architecture (the paper's App. B.1): ``Linear(D, h_1), act, ..., Linear(h_{L-1}, h_L), act``
    shared, then per field ``k`` a head ``Linear(h_L, head_hidden), act, Linear(head_hidden, D)``
    (or a single ``Linear(h_L, D)`` when ``head_hidden`` is ``None``). With ``normalize=True`` every
    field is divided by its RMS norm over the evaluated point set (see :func:`field_norms`), so each
    field has unit norm in the point-mean inner product.

    Parameters
    ----------
    n_generators : int
        Number of fields ``K``.
    dim : int
        Dimension ``D`` of the space (3 for PDE points ``(x, t, u)``, 2 for pixel coordinates).
    hidden : sequence of int, default (256, 256)
        Widths of the shared trunk.
    head_hidden : int or None, default 32
        Width of each head's hidden layer; ``None`` for a purely linear head.
    activation : {"silu", "tanh", "gelu", "softplus"}, default "silu"
        Nonlinearity (the paper uses Swish = SiLU).
    normalize : bool, default True
        Divide each field by its RMS norm over the evaluated points.
    rng : torch.Generator, optional
        Source of randomness for the initial weights (a CPU generator).
    dtype : torch.dtype, default torch.float32
    device : torch.device or str, optional
    periodic : sequence of int, default ()
        Coordinates that are periodic with period 1 (e.g. ``x_n`` of a PDE on a circle). Each
        enters the trunk as ``(cos 2 pi p, sin 2 pi p)`` instead of ``p``, so every field is
        exactly periodic in it at the cost of one network evaluation (the paper blends two
        evaluations near the seam instead).
    linear_skip : bool, default False
        Add to every head a linear map of the (embedded) input, initialised at zero. Affine
        symmetries (translations, Galilean boosts, scalings) are then one linear layer away
        instead of having to be built from the nonlinearity, which shortens CPU-length
        training runs considerably; non-affine fields still come from the MLP.
    skip_center : sequence of float, optional
        Point (length ``dim``) subtracted from the non-periodic coordinates before the linear
        skip (periodic ones enter as cos/sin, already centred on a full period). With the data
        mean here, a linear term the skip learns has zero mean over the data, so growing it
        (e.g. the shear ``t d_x`` of a Galilean boost) does not also add a constant field that
        overlaps the translations found in earlier slots. ``None``: no shift.
    skip_gain : float, default 1.0
        Factor on the (centred) skip input. Under Adam, whose steps do not depend on the
        gradient's scale, this makes the linear part learn ``skip_gain`` times faster than
        the trunk and heads: an affine field whose linear coefficient is O(1) is reached in
        a CPU-length run.
    """

    def __init__(
        self,
        n_generators: int,
        dim: int,
        hidden: Sequence[int] = (256, 256),
        head_hidden: int | None = 32,
        activation: str = "silu",
        normalize: bool = True,
        rng: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        periodic: Sequence[int] = (),
        linear_skip: bool = False,
        skip_center: Sequence[float] | None = None,
        skip_gain: float = 1.0,
    ) -> None:
        super().__init__()
        if int(n_generators) < 1:
            raise ValueError(f"n_generators must be >= 1, got {n_generators}")
        if int(dim) < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        hidden = tuple(int(h) for h in hidden)
        if not hidden or min(hidden) < 1:
            raise ValueError(f"hidden must be non-empty positive widths, got {hidden}")
        if head_hidden is not None and int(head_hidden) < 1:
            raise ValueError(f"head_hidden must be positive or None, got {head_hidden}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be in {sorted(_ACTIVATIONS)}, got {activation!r}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        periodic = tuple(sorted({int(p) for p in periodic}))
        if periodic and not 0 <= periodic[0] <= periodic[-1] < int(dim):
            raise ValueError(f"periodic coordinates must be in [0, {int(dim)}), got {periodic}")
        if skip_center is not None:
            skip_center = tuple(float(c) for c in skip_center)
            if len(skip_center) != int(dim) or not all(math.isfinite(c) for c in skip_center):
                raise ValueError(f"skip_center must be {int(dim)} finite numbers, "
                                 f"got {skip_center}")
        self.skip_center = skip_center
        if isinstance(skip_gain, bool) or not isinstance(skip_gain, (int, float)) or not (
                0 < skip_gain < math.inf):
            raise ValueError(f"skip_gain must be a positive finite number, got {skip_gain!r}")
        self.skip_gain = float(skip_gain)
        self.n_generators = int(n_generators)
        self.dim = int(dim)
        self.periodic = periodic
        self.linear_skip = bool(linear_skip)
        self.hidden = hidden
        self.head_hidden = None if head_hidden is None else int(head_hidden)
        self.activation = activation
        self.normalize = bool(normalize)
        self._act = _ACTIVATIONS[activation]

        def param(shape, fan_in):
            values = _uniform(shape, 1.0 / math.sqrt(fan_in), rng)
            return torch.nn.Parameter(values.to(dtype=dtype, device=device))

        embedded = self.dim + len(periodic)
        widths = (embedded, *hidden)
        layers = list(zip(widths[:-1], widths[1:], strict=True))
        self.trunk_weights = torch.nn.ParameterList(
            [param((w_out, w_in), w_in) for w_in, w_out in layers]
        )
        self.trunk_biases = torch.nn.ParameterList(
            [param((w_out,), w_in) for w_in, w_out in layers]
        )
        # Heads are stored stacked (K, out, in) so all K fields cost one batched matmul.
        head_widths = [hidden[-1]] + ([] if self.head_hidden is None else [self.head_hidden])
        head_widths.append(self.dim)
        self.head_weights = torch.nn.ParameterList(
            [
                param((self.n_generators, w_out, w_in), w_in)
                for w_in, w_out in zip(head_widths[:-1], head_widths[1:], strict=True)
            ]
        )
        self.head_biases = torch.nn.ParameterList(
            [
                param((self.n_generators, w_out), w_in)
                for w_in, w_out in zip(head_widths[:-1], head_widths[1:], strict=True)
            ]
        )
        self.skip_weights = None
        self._skip_shift = None
        if skip_center is not None:
            # Kept out of the parameters and buffers so that checkpoints stay unchanged.
            shift: list[float] = []
            for axis, center in enumerate(skip_center):
                shift += [0.0, 0.0] if axis in periodic else [center]
            self._skip_shift = torch.tensor(shift, dtype=dtype, device=device)
        if self.linear_skip:
            zeros = torch.zeros(self.n_generators, self.dim, embedded, dtype=dtype, device=device)
            self.skip_weights = torch.nn.Parameter(zeros)

    def _check_points(self, points: torch.Tensor) -> None:
        if not isinstance(points, torch.Tensor):
            raise ValueError("points must be a torch.Tensor")
        if points.ndim not in (2, 3) or points.shape[-1] != self.dim:
            raise ValueError(
                f"points must have shape (N, {self.dim}) or ({self.n_generators}, N, {self.dim}),"
                f" got {tuple(points.shape)}"
            )
        if points.ndim == 3 and points.shape[0] != self.n_generators:
            raise ValueError(
                f"stacked points must have {self.n_generators} slices, got {points.shape[0]}"
            )

    def _embed(self, points: torch.Tensor) -> torch.Tensor:
        if not self.periodic:
            return points
        columns = []
        for axis in range(self.dim):
            if axis in self.periodic:
                angle = (2 * math.pi) * points[..., axis]
                columns += [torch.cos(angle), torch.sin(angle)]
            else:
                columns.append(points[..., axis])
        return torch.stack(columns, dim=-1)

    def config(self) -> dict:
        """Constructor arguments that rebuild this architecture (for saving)."""
        return {"n_generators": self.n_generators, "dim": self.dim, "hidden": list(self.hidden),
                "head_hidden": self.head_hidden, "activation": self.activation,
                "normalize": self.normalize, "periodic": list(self.periodic),
                "linear_skip": self.linear_skip,
                "skip_center": None if self.skip_center is None else list(self.skip_center),
                "skip_gain": self.skip_gain,
                "dtype": str(next(self.parameters()).dtype).removeprefix("torch.")}

    def _trunk(self, points: torch.Tensor) -> TrunkFeatures:
        embedded = features = self._embed(points)
        for weight, bias in zip(self.trunk_weights, self.trunk_biases, strict=True):
            features = self._act(features @ weight.T + bias)
        if not self.linear_skip:
            return TrunkFeatures(features, None)
        if self._skip_shift is not None:
            embedded = embedded - self._skip_shift.to(embedded)
        if self.skip_gain != 1.0:
            embedded = self.skip_gain * embedded
        return TrunkFeatures(features, embedded)

    def _heads(self, trunk: TrunkFeatures, slots: slice | list[int]) -> torch.Tensor:
        # trunk parts (k, N, .) -> (k, N, D) with head slots[j] applied to part j.
        features, embedded = trunk
        n_layers = len(self.head_weights)
        layers = zip(self.head_weights, self.head_biases, strict=True)
        for layer, (weight, bias) in enumerate(layers):
            features = torch.einsum("knh,koh->kno", features, weight[slots]) + bias[slots][:, None]
            if layer < n_layers - 1:
                features = self._act(features)
        if embedded is not None:
            features = features + torch.einsum("kne,kde->knd", embedded, self.skip_weights[slots])
        return features

    def raw(self, points: torch.Tensor) -> torch.Tensor:
        """Unnormalised field values.

        Parameters
        ----------
        points : torch.Tensor, shape (N, D) or (K, N, D)
            Shared points, or one point set per field (field ``k`` evaluated on ``points[k]``,
            as needed when the ``K`` flows are integrated together).

        Returns
        -------
        torch.Tensor, shape (K, N, D)
        """
        self._check_points(points)
        trunk = self._trunk(points)
        if points.ndim == 2:
            trunk = trunk.map(lambda part: part.expand(self.n_generators, *part.shape))
        return self._heads(trunk, slice(None))

    def raw_all(self, points: torch.Tensor) -> torch.Tensor:
        """Every unnormalised field at every point set: ``(S, N, D) -> (S, K, N, D)``.

        Needed when each of ``S`` point sets (e.g. the ``K`` flows integrated together) must see
        all fields, as in a linear recombination of the fields (Gram-Schmidt slots).
        """
        if not isinstance(points, torch.Tensor) or points.ndim != 3 or points.shape[-1] != self.dim:
            raise ValueError(f"points must have shape (S, N, {self.dim}), got {_shape(points)}")
        return self.heads_all(self._trunk(points))

    def trunk(self, points: torch.Tensor) -> TrunkFeatures:
        """Shared trunk features of points ``(..., N, D)`` (:class:`TrunkFeatures`)."""
        return self._trunk(points)

    def heads(self, trunk: TrunkFeatures) -> torch.Tensor:
        """Head ``k`` applied to the trunk features of point set ``k``: ``-> (K, N, D)``."""
        return self._heads(trunk, slice(None))

    def heads_earlier(self, trunk: TrunkFeatures) -> torch.Tensor:
        """Heads ``j < k`` on point set ``k``: ``(K, N, .) -> (K, K, N, D)``, zeros for ``j >= k``.

        What a lower-triangular recombination of the fields needs, at about a third of the
        cost of :meth:`heads_all` for ``K = 4``.
        """
        k, n, _ = trunk.hidden.shape
        out = trunk.hidden.new_zeros(k, k, n, self.dim)
        for slot in range(1, k):
            shared = trunk.map(lambda part, slot=slot: part[slot].expand(slot, *part.shape[1:]))
            out[slot, :slot] = self._heads(shared, slice(0, slot))
        return out

    def heads_all(self, trunk: TrunkFeatures) -> torch.Tensor:
        """Every head on every point set: ``(S, N, .) -> (S, K, N, D)``."""
        features, embedded = trunk
        s, n, _ = features.shape
        k = self.n_generators
        n_layers = len(self.head_weights)
        layers = zip(self.head_weights, self.head_biases, strict=True)
        for layer, (weight, bias) in enumerate(layers):
            out = weight.shape[1]
            if layer == 0:
                # One wide matmul for all heads: (S, N, h) @ (h, K*out).
                stacked = weight.reshape(k * out, -1).T
                features = (features @ stacked).reshape(s, n, k, out).permute(0, 2, 1, 3)
            else:
                features = torch.einsum("sknh,koh->skno", features, weight)
            features = features + bias[:, None]
            if layer < n_layers - 1:
                features = self._act(features)
        if embedded is not None:
            features = features + torch.einsum("sne,kde->sknd", embedded, self.skip_weights)
        return features

    def norms(self, points: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """RMS norms ``(K,)`` of the raw fields over ``points`` (the normalisation constants)."""
        return field_norms(self.raw(points), weights)

    def forward(
        self,
        points: torch.Tensor,
        weights: torch.Tensor | None = None,
        scales: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Field values ``(K, N, D)``, each field normalised over the given points.

        Parameters
        ----------
        points : torch.Tensor, shape (N, D) or (K, N, D)
        weights : torch.Tensor, shape (N,), optional
            Point weights of the norm (image weight map); uniform when omitted.
        scales : torch.Tensor, shape (K,), optional
            Fixed normalisation constants (e.g. ``self.norms(reference_points).detach()`` or not
            detached) used instead of the norms over ``points``; this keeps the ODE autonomous
            while integrating (an autonomous variant of the paper's per-point-set
            normalisation).
        """
        values = self.raw(points)
        if scales is not None:
            scales = torch.as_tensor(scales, dtype=values.dtype, device=values.device)
            if scales.shape != (self.n_generators,):
                raise ValueError(
                    f"scales must have shape ({self.n_generators},), got {tuple(scales.shape)}"
                )
            return values / scales[:, None, None]
        if not self.normalize:
            return values
        return values / field_norms(values, weights)[:, None, None]

    def field(
        self,
        k: int,
        weights: torch.Tensor | None = None,
        scale: torch.Tensor | float | None = None,
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """The ``k``-th field as a callable ``points (N, D) -> (N, D)``.

        Only head ``k`` is evaluated. The field is normalised over the points it is called on,
        unless a fixed ``scale`` is given.
        """
        if not 0 <= int(k) < self.n_generators:
            raise ValueError(f"k must be in [0, {self.n_generators}), got {k}")
        k = int(k)

        def field_k(points: torch.Tensor) -> torch.Tensor:
            if not isinstance(points, torch.Tensor) or points.ndim != 2:
                raise ValueError("points must be a torch.Tensor of shape (N, D)")
            if points.shape[-1] != self.dim:
                raise ValueError(f"points must have {self.dim} columns, got {points.shape[-1]}")
            values = self._heads(self._trunk(points).map(lambda part: part[None]), [k])[0]
            if scale is not None:
                return values / scale
            if not self.normalize:
                return values
            return values / field_norms(values, weights)

        return field_k

    def extra_repr(self) -> str:
        return (
            f"n_generators={self.n_generators}, dim={self.dim}, hidden={self.hidden}, "
            f"head_hidden={self.head_hidden}, activation={self.activation!r}, "
            f"normalize={self.normalize}, periodic={self.periodic}, "
            f"linear_skip={self.linear_skip}, skip_gain={self.skip_gain}"
        )


def flow(
    field_fn: Callable[[torch.Tensor], torch.Tensor],
    points: torch.Tensor,
    s: float | torch.Tensor,
    n_steps: int = 10,
    return_path: bool = False,
) -> torch.Tensor:
    """Integrate ``dp/dtau = V(p)`` from ``tau = 0`` to ``s`` with fixed-step classical RK4.

    Substituting ``tau = s * r`` turns this into ``dp/dr = s V(p)`` on ``r in [0, 1]``, which
    allows a different (possibly negative) ``s`` per point, per sample or per field.

    Parameters
    ----------
    field_fn : callable
        ``points -> velocities`` of the same shape as ``points``, e.g. ``GeneratorField.field(k)``
        for ``(N, D)`` points or a ``GeneratorField`` itself for stacked ``(K, N, D)`` points.
    points : torch.Tensor, shape (..., D)
        Initial points.
    s : float or torch.Tensor
        Flow time; a tensor must broadcast against ``points.shape[:-1]`` (e.g. ``(N,)`` per
        point or ``(K, 1)`` per field for stacked points).
    n_steps : int, default 10
        Number of RK4 steps (step ``s / n_steps``).
    return_path : bool, default False
        Also return the intermediate states.

    Returns
    -------
    torch.Tensor
        ``phi_s(points)`` of shape ``points.shape``, or with ``return_path`` the states after
        every step, shape ``(n_steps + 1, *points.shape)`` (index 0 is the start).
    """
    if not isinstance(points, torch.Tensor) or points.ndim < 1:
        raise ValueError("points must be a torch.Tensor of shape (..., D)")
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    n_steps = int(n_steps)
    s = torch.as_tensor(s, dtype=points.dtype, device=points.device)
    try:
        torch.broadcast_shapes(s.shape, points.shape[:-1])
    except RuntimeError as err:
        raise ValueError(
            f"s of shape {tuple(s.shape)} does not broadcast against points "
            f"{tuple(points.shape[:-1])}"
        ) from err
    step = (s / n_steps)[..., None]

    def velocity(state: torch.Tensor) -> torch.Tensor:
        value = field_fn(state)
        if value.shape != state.shape:
            raise ValueError(
                f"field_fn returned shape {tuple(value.shape)} for points {tuple(state.shape)}"
            )
        return value

    state = points
    path = [state] if return_path else None
    for _ in range(n_steps):
        k1 = velocity(state)
        k2 = velocity(state + 0.5 * step * k1)
        k3 = velocity(state + 0.5 * step * k2)
        k4 = velocity(state + step * k3)
        state = state + step * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0
        if path is not None:
            path.append(state)
    if path is not None:
        return torch.stack(path)
    return state


_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def build_field(config: Mapping[str, Any], device: Any = "cpu") -> GeneratorField:
    """An untrained :class:`GeneratorField` from ``field.config()`` (to load saved weights into)."""
    config = dict(config)
    dtype_name = config.pop("dtype", "float32")
    if dtype_name not in _DTYPES:
        raise ValueError(f"saved field has unsupported dtype {dtype_name!r}")
    try:
        # A private generator: the initial weights are overwritten by the saved ones.
        return GeneratorField(**config, dtype=_DTYPES[dtype_name], device=device,
                              rng=torch.Generator())
    except TypeError as exc:
        raise ValueError(f"saved field configuration is invalid: {exc}") from exc

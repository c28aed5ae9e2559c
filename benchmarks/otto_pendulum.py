"""Reduced double-spring-pendulum neural ODE of Otto et al. (v3): no / promoted / enforced symmetry.

Run by hand; not a test. A reduced version of the paper's symmetry-promoting neural-ODE experiment
(v3 of Otto et al., on the double spring pendulum of EMLP, Finzi, Welling & Wilson 2021; setup in
``docs/benchmarks.md``): the data are generated here with SciPy from that system's Hamiltonian,

    H = ½‖p₁‖² + ½‖p₂‖² + ½(‖q₁‖ − 1)² + (‖q₁ − q₂‖ − 1)² + q₁,z + q₂,z,

state ``z = (q₁, q₂, p₁, p₂) ∈ R¹²``, initial conditions ``q₁ ≈ (0, 0, −1.5)``, ``q₂ ≈ (0, 0, −3)``
plus ``0.2·N(0, 1)``, ``p ~ 0.4·N(0, 1)``; each trajectory is integrated to ``t = 30`` and one chunk
of 5 states ``dt = 0.2`` apart is taken at a random time. A vector field ``ż = f_θ(z)`` is learned
by integrating it with a fixed-step RK4 (two steps per ``dt``) from the chunk's first state; the
loss is the MSE of the predicted states at ``t = 0.2 … 0.8``. Gravity breaks SO(3) down to the
rotations about the z axis (true symmetry O(2); its identity component SO(2)).

Models (all tanh MLPs with three hidden layers of 42 units, as in the authors' MLP):

* ``none`` — the plain MLP ``R¹² → R¹²``.
* ``promoted-so3`` / ``promoted-se3`` — the same MLP trained with ``γ · ‖ξ ↦ L_ξ f‖_*``
  (:class:`~symmetrykit.liederiv.NuclearNormPenalty`, function level, normalised generators):
  so(3) acting block-diagonally on the four 3-vectors, output action the same (a vector field
  under a linear action); se(3) adds simultaneous translations of ``q₁, q₂`` (momenta untouched),
  output action the tangent lift. Sample points: the training states plus 256 points uniform in
  the bounding box of the training data.
* ``enforced-so2`` — exactly SO(2)-equivariant about z, by construction: writing each 3-vector as
  ``(u_a ∈ R², w_a ∈ R)`` (horizontal, vertical), an MLP of the 20 invariants ``w_a``,
  ``u_a·u_b`` (a ≤ b), ``u_a × u_b`` (a < b) (divided by fixed scales 2 / 4) outputs
  scalars ``α_ab, β_ab, γ_a`` and ``f = (Σ_b α_ab u_b + β_ab J u_b, γ_a)_a`` — every smooth
  SO(2)-equivariant field has this form.
* ``enforced-so3`` (wrong on purpose) — the same construction for SO(3): an MLP of the Gram matrix
  ``v_a·v_b`` and the triple products ``det(v_a, v_b, v_c)`` outputs ``α_ab`` and ``β_a,bc`` with
  ``f_a = Σ_b α_ab v_b + Σ_{b<c} β_a,bc v_b × v_c``; it cannot represent gravity.

Reported per training-set size: test MSE on held-out 5-state chunks (the training metric), MSE of
a 20-step rollout (``t ≤ 4``) from held-out initial states, and the singular values of each learned
field's so(3) Lie-derivative matrix on the held-out states (normalised generators; the true field
has ``(0, ½, ½)``: so(2) about z kept, the two tilts broken by gravity).

Examples
--------
    python benchmarks/otto_pendulum.py --quick
    python benchmarks/otto_pendulum.py           # the full reduced grid (~20 min, 1 thread)
    python benchmarks/otto_pendulum.py --sizes 100 --models none promoted-so3 --gamma 1e-3
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
from _common import Stopwatch, provenance, update_readme_section, write_results
from scipy.integrate import solve_ivp

from symmetrykit.lie import LieAlgebra, so
from symmetrykit.liederiv import NuclearNormPenalty

README_BEGIN = "<!-- otto-pendulum:begin -->"
README_END = "<!-- otto-pendulum:end -->"
MODELS = ("none", "promoted-so3", "promoted-se3", "enforced-so2", "enforced-so3")
DT = 0.2
TRAIN_STEPS = 4  # predicted states per training chunk (t = 0.2 … 0.8)
DTYPE = torch.float64


# ---------------------------------------------------------------------------- the system
def true_field(z: np.ndarray) -> np.ndarray:
    """``ż = (p₁, p₂, −∂V/∂q₁, −∂V/∂q₂)`` for states of shape ``(..., 12)``."""
    q1, q2, p1, p2 = z[..., 0:3], z[..., 3:6], z[..., 6:9], z[..., 9:12]
    r1 = np.linalg.norm(q1, axis=-1, keepdims=True)
    d = q1 - q2
    r12 = np.linalg.norm(d, axis=-1, keepdims=True)
    ez = np.array([0.0, 0.0, 1.0])
    spring1 = (r1 - 1.0) * q1 / r1
    spring2 = 2.0 * (r12 - 1.0) * d / r12
    return np.concatenate([p1, p2, -spring1 - spring2 - ez, spring2 - ez], axis=-1)


def true_field_torch(z: torch.Tensor) -> torch.Tensor:
    q1, q2, p1, p2 = z[:, 0:3], z[:, 3:6], z[:, 6:9], z[:, 9:12]
    r1 = q1.norm(dim=1, keepdim=True)
    d = q1 - q2
    r12 = d.norm(dim=1, keepdim=True)
    ez = torch.tensor([0.0, 0.0, 1.0], dtype=z.dtype)
    spring1 = (r1 - 1.0) * q1 / r1
    spring2 = 2.0 * (r12 - 1.0) * d / r12
    return torch.cat([p1, p2, -spring1 - spring2 - ez, spring2 - ez], dim=1)


def make_chunks(n: int, length: int, rng: np.random.Generator, horizon: float = 30.0) -> np.ndarray:
    """``n`` chunks of ``length`` states ``DT`` apart, shape ``(n, length, 12)``.

    All trajectories are integrated together (one vectorised system, DOP853, tolerances 1e-10)
    to ``horizon``; each chunk starts at a random multiple of ``DT``.
    """
    q1 = np.array([0.0, 0.0, -1.5]) + 0.2 * rng.normal(size=(n, 3))
    q2 = np.array([0.0, 0.0, -3.0]) + 0.2 * rng.normal(size=(n, 3))
    p = 0.4 * rng.normal(size=(n, 6))
    z0 = np.concatenate([q1, q2, p], axis=1)
    times = np.arange(0.0, horizon + DT / 2, DT)
    solution = solve_ivp(
        lambda t, y: true_field(y.reshape(n, 12)).ravel(), (0.0, times[-1]), z0.ravel(),
        method="DOP853", t_eval=times, rtol=1e-10, atol=1e-10,
    )
    if not solution.success:
        raise RuntimeError(f"data integration failed: {solution.message}")
    states = solution.y.reshape(n, 12, len(times)).transpose(0, 2, 1)
    starts = rng.integers(0, len(times) - length + 1, size=n)
    return np.stack([states[i, s : s + length] for i, s in enumerate(starts)])


def rollout(field, z0: torch.Tensor, n_steps: int, substeps: int = 2) -> torch.Tensor:
    """Fixed-step RK4 states at ``t = 0, DT, …, n_steps·DT``, shape ``(n_steps + 1, B, 12)``."""
    h = DT / substeps
    states = [z0]
    z = z0
    for _ in range(n_steps):
        for _ in range(substeps):
            k1 = field(z)
            k2 = field(z + 0.5 * h * k1)
            k3 = field(z + 0.5 * h * k2)
            k4 = field(z + h * k3)
            z = z + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        states.append(z)
    return torch.stack(states)


# ---------------------------------------------------------------------------- models
def _init_(module: torch.nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default ``U(±1/√fan_in)`` for every linear layer, from an explicit generator."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            bound = 1.0 / np.sqrt(layer.in_features)
            with torch.no_grad():
                for parameter in (layer.weight, layer.bias):
                    parameter.copy_((2 * torch.rand(parameter.shape, generator=generator,
                                                    dtype=DTYPE) - 1) * bound)


def mlp(n_in: int, n_out: int, generator: torch.Generator, hidden: int = 42,
        depth: int = 3) -> torch.nn.Sequential:
    sizes = [n_in] + [hidden] * depth
    layers: list[torch.nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [torch.nn.Linear(a, b, dtype=DTYPE), torch.nn.Tanh()]
    layers.append(torch.nn.Linear(sizes[-1], n_out, dtype=DTYPE))
    net = torch.nn.Sequential(*layers)
    _init_(net, generator)
    return net


_PAIRS = [(a, b) for a in range(4) for b in range(a + 1, 4)]
_PAIRS_EQ = [(a, b) for a in range(4) for b in range(a, 4)]
_TRIPLES = [(a, b, c) for a in range(4) for b in range(a + 1, 4) for c in range(b + 1, 4)]
_P_A, _P_B = (torch.tensor(index) for index in zip(*_PAIRS, strict=True))
_E_A, _E_B = (torch.tensor(index) for index in zip(*_PAIRS_EQ, strict=True))
_T = torch.tensor(_TRIPLES)


def _so2_invariants(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    v = z.reshape(-1, 4, 3)
    u, w = v[:, :, :2], v[:, :, 2]
    dots = (u[:, _E_A] * u[:, _E_B]).sum(-1)
    cross = u[:, _P_A, 0] * u[:, _P_B, 1] - u[:, _P_A, 1] * u[:, _P_B, 0]
    return torch.cat([w, dots, cross], dim=1), u, w


def _so3_invariants(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    v = z.reshape(-1, 4, 3)
    gram = (v[:, _E_A] * v[:, _E_B]).sum(-1)
    triple = torch.linalg.det(v[:, _T])  # (n, 4): det(v_a, v_b, v_c) for a < b < c
    return torch.cat([gram, triple], dim=1), v


# Fixed feature scales by polynomial degree (state entries are O(1–4)). Standardising with the
# training states' statistics instead was measured to fail at 10 trajectories: 50 states give
# tiny standard deviations for some invariants and held-out states then extrapolate far (test MSE
# 3–8e-2 against 0.6–1.7e-2 with these fixed scales).
_SO2_SCALE = torch.tensor([2.0] * 4 + [4.0] * (len(_PAIRS_EQ) + len(_PAIRS)), dtype=DTYPE)
_SO3_SCALE = torch.tensor([4.0] * len(_PAIRS_EQ) + [8.0] * len(_TRIPLES), dtype=DTYPE)


class EquivariantSO2Field(torch.nn.Module):
    """Exactly SO(2)-equivariant (rotations about z of all four 3-vectors) vector field."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.net = mlp(len(_SO2_SCALE), 16 + 16 + 4, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features, u, w = _so2_invariants(z)
        out = self.net(features / _SO2_SCALE)
        alpha, beta, gamma = out[:, :16].reshape(-1, 4, 4), out[:, 16:32].reshape(-1, 4, 4), \
            out[:, 32:]
        ju = torch.stack([-u[..., 1], u[..., 0]], dim=-1)  # rotation by +90° about z
        horizontal = torch.einsum("nab,nbi->nai", alpha, u) + torch.einsum("nab,nbi->nai", beta, ju)
        return torch.cat([horizontal, gamma[..., None]], dim=-1).reshape(-1, 12)


class EquivariantSO3Field(torch.nn.Module):
    """Exactly SO(3)-equivariant vector field (wrong for this system: gravity breaks SO(3))."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.net = mlp(len(_SO3_SCALE), 16 + 4 * len(_PAIRS), generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features, v = _so3_invariants(z)
        out = self.net(features / _SO3_SCALE)
        alpha = out[:, :16].reshape(-1, 4, 4)
        beta = out[:, 16:].reshape(-1, 4, len(_PAIRS))
        crosses = torch.linalg.cross(v[:, _P_A], v[:, _P_B])  # (n, 6, 3)
        field = torch.einsum("nab,nbi->nai", alpha, v) + torch.einsum("nac,nci->nai", beta, crosses)
        return field.reshape(-1, 12)


def state_so3() -> LieAlgebra:
    """so(3) rotating the four 3-vectors of the state together (generator 0: about z)."""
    return so(3).repeated(4)


def state_se3() -> LieAlgebra:
    """se(3): the rotations of :func:`state_so3` plus translations of both positions."""
    rotations = state_so3().generators
    stack = np.zeros((6, 13, 13))
    stack[:3, :12, :12] = rotations
    for k in range(3):
        stack[3 + k, k, 12] = 1.0  # q₁
        stack[3 + k, 3 + k, 12] = 1.0  # q₂
    return LieAlgebra(stack, name="se(3) on (q1, q2, p1, p2)", affine=True)


# ---------------------------------------------------------------------------- one run
def penalty_points(train: np.ndarray, n_box: int, rng: np.random.Generator) -> np.ndarray:
    states = train.reshape(-1, 12)
    low, high = states.min(0), states.max(0)
    if n_box == 0:
        return states
    return np.concatenate([states, rng.uniform(low, high, size=(n_box, 12))])


def build(name: str, train: np.ndarray, seed: int, gamma: float, n_box: int):
    generator = torch.Generator().manual_seed(seed)
    penalty = None
    if name == "enforced-so2":
        return EquivariantSO2Field(generator), None
    if name == "enforced-so3":
        return EquivariantSO3Field(generator), None
    model = mlp(12, 12, generator)
    if name.startswith("promoted") and gamma > 0:
        points = penalty_points(train, n_box, np.random.default_rng(1000 + seed))
        if name == "promoted-so3":
            algebra = state_so3()
            penalty = NuclearNormPenalty(algebra, points, algebra, eps=1e-6)
        elif name == "promoted-se3":
            penalty = NuclearNormPenalty(state_se3(), points, "tangent", eps=1e-6)
        else:
            raise ValueError(f"unknown model {name!r}")
    elif name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {MODELS}")
    return model, penalty


def evaluate(field, test: np.ndarray) -> dict:
    z = torch.as_tensor(test, dtype=DTYPE)
    with torch.no_grad():
        pred = rollout(field, z[:, 0], test.shape[1] - 1)
    errors = ((pred.transpose(0, 1) - z) ** 2).mean(dim=2)  # (B, steps+1)
    chunk = errors[:, 1 : TRAIN_STEPS + 1].mean().item()
    long = errors[:, 1:].mean(dim=1)
    long = torch.where(torch.isfinite(long), long, torch.full_like(long, float("inf")))
    return {"test_chunk_mse": chunk, "rollout_mse": long.mean().item(),
            "rollout_mse_median": long.median().item()}


def so3_spectrum(field, states: np.ndarray) -> dict:
    """Singular values of the so(3) Lie-derivative matrix of a vector field (ascending)."""
    algebra = state_so3()
    matrix = NuclearNormPenalty(algebra, states, algebra).matrix(field).detach().numpy()
    _, values, vt = np.linalg.svd(matrix, full_matrices=False)
    order = np.argsort(values)
    smallest = vt[order[0]]
    return {"so3_singular_values": values[order].tolist(),
            "so3_relative": (values[order] / values.max()).tolist(),
            # |cos| between the least-broken generator and the rotation about z (basis index 0)
            "so3_least_broken_cos_z": None if values.max() < 1e-10  # exactly so(3): undefined
            else float(abs(smallest[0]) / np.linalg.norm(smallest))}


def _chunk_mse(field, chunks: torch.Tensor) -> float:
    with torch.no_grad():
        pred = rollout(field, chunks[:, 0], TRAIN_STEPS)
    value = ((pred[1:] - chunks.transpose(0, 1)[1:]) ** 2).mean().item()
    return value if np.isfinite(value) else float("inf")


def train_one(name: str, n_traj: int, seed: int, pool: np.ndarray, val: np.ndarray,
              test: np.ndarray, args: argparse.Namespace) -> dict:
    order = np.random.default_rng(seed).permutation(len(pool))
    train = pool[order[:n_traj]]
    model, penalty = build(name, train, seed, args.gamma, args.box_points)
    target = torch.as_tensor(train[:, : TRAIN_STEPS + 1], dtype=DTYPE)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.steps,
                                                          eta_min=args.lr / 100)
    val_chunks = torch.as_tensor(val, dtype=DTYPE)
    wall0 = time.perf_counter()
    mse = penalty_value = torch.tensor(float("nan"))
    best = (float("inf"), -1, None)
    for step in range(args.steps + 1):
        # Model selection on held-out chunks, as the authors' runs validate every few steps.
        if step % args.val_every == 0 or step == args.steps:
            score = _chunk_mse(model, val_chunks)
            if score < best[0]:
                best = (score, step, copy.deepcopy(model.state_dict()))
        if step == args.steps:
            break
        optimizer.zero_grad()
        pred = rollout(model, target[:, 0], TRAIN_STEPS)
        mse = ((pred[1:] - target.transpose(0, 1)[1:]) ** 2).mean()
        loss = mse
        if penalty is not None:
            penalty_value = penalty(model)
            loss = loss + args.gamma * penalty_value
        loss.backward()
        optimizer.step()
        schedule.step()
    wall = time.perf_counter() - wall0
    model.load_state_dict(best[2])
    if penalty is not None:
        with torch.no_grad():
            penalty_value = penalty(model)
    row = {"model": name, "n_traj": n_traj, "seed": seed, "gamma": args.gamma if penalty else 0.0,
           "train_mse": mse.item(), "penalty": penalty_value.item(), "wall_s": wall,
           "steps": args.steps, "val_mse": best[0], "best_step": best[1],
           "last_train_mse": mse.item()}
    with torch.no_grad():
        pred = rollout(model, target[:, 0], TRAIN_STEPS)
        row["train_mse"] = ((pred[1:] - target.transpose(0, 1)[1:]) ** 2).mean().item()
    row.update(evaluate(model, test))
    row.update(so3_spectrum(model, test[:, 0]))
    return row


# ---------------------------------------------------------------------------- reporting
def _mean_or_none(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def summarise(rows: list[dict]) -> list[dict]:
    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        cells.setdefault((row["n_traj"], row["model"]), []).append(row)
    summary = []
    for (n_traj, name), group in sorted(cells.items(), key=lambda c: (c[0][0],
                                                                     MODELS.index(c[0][1]))):
        spectra = np.array([r["so3_singular_values"] for r in group])
        summary.append({
            "n_traj": n_traj, "model": name, "n_seeds": len(group),
            "test_chunk_mse": float(np.mean([r["test_chunk_mse"] for r in group])),
            "rollout_mse": float(np.mean([r["rollout_mse"] for r in group])),
            "rollout_mse_median": float(np.mean([r["rollout_mse_median"] for r in group])),
            "train_mse": float(np.mean([r["train_mse"] for r in group])),
            "so3_singular_values_mean": spectra.mean(0).tolist(),
            "so3_least_broken_cos_z": _mean_or_none([r["so3_least_broken_cos_z"]
                                                    for r in group]),
            "wall_s_mean": float(np.mean([r["wall_s"] for r in group])),
        })
    return summary


def _fmt_sigma(value: float) -> str:
    return f"{value:.3f}" if value >= 1e-3 else f"{value:.0e}"


def markdown(summary: list[dict], meta: dict) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (commit {meta['commit'] or 'unknown'}, "
        f"{meta['threads']} thread): {meta['steps']} full-batch Adam steps (lr {meta['lr']}, "
        f"cosine), γ = {meta['gamma']}, seeds {meta['seeds']}, {meta['n_test']} test initial "
        f"states; true field with the same RK4: chunk MSE {meta['truth']['test_chunk_mse']:.1e}, "
        f"rollout MSE {meta['truth']['rollout_mse']:.1e}.",
        "",
        "| trajectories | model | test MSE (t ≤ 0.8) | rollout MSE (t ≤ 4) mean / median "
        "| train MSE | so(3) σ (truth 0, 0.5, 0.5) | least-broken ≈ z-rotation (cos) | s/run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        spectrum = ", ".join(_fmt_sigma(v) for v in s["so3_singular_values_mean"])
        cos = "–" if s["so3_least_broken_cos_z"] is None else f"{s['so3_least_broken_cos_z']:.3f}"
        lines.append(
            f"| {s['n_traj']} | {s['model']} | {s['test_chunk_mse']:.2e} | "
            f"{s['rollout_mse']:.2e} / {s['rollout_mse_median']:.2e} | {s['train_mse']:.1e} | "
            f"{spectrum} | {cos} | {s['wall_s_mean']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 30, 100])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--gamma", type=float, default=1e-3,
                        help="weight of the nuclear-norm penalty (promoted models)")
    parser.add_argument("--box-points", type=int, default=256,
                        help="penalty points uniform in the training data's bounding box")
    parser.add_argument("--n-val", type=int, default=100, help="validation chunks")
    parser.add_argument("--val-every", type=int, default=25)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument("--rollout-steps", type=int, default=20)
    parser.add_argument("--data-seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="a seconds-long smoke run (10 trajectories, 40 steps, 1 seed)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.seeds, args.steps, args.n_test = [10], [0], 40, 20
        args.rollout_steps, args.box_points, args.n_val, args.val_every = 10, 32, 20, 10
    out = args.out or ("benchmarks/results/otto_pendulum_quick.json" if args.quick
                       else "benchmarks/results/otto_pendulum.json")
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.data_seed)
    clock = Stopwatch()
    pool = make_chunks(max(args.sizes), TRAIN_STEPS + 1, rng)
    val = make_chunks(args.n_val, TRAIN_STEPS + 1, rng)
    test = make_chunks(args.n_test, args.rollout_steps + 1, rng)
    data_s = clock.wall_s
    truth = evaluate(true_field_torch, test)
    truth.update(so3_spectrum(true_field_torch, test[:, 0]))
    print(f"data: {len(pool)} training chunks, {len(test)} test rollouts in {data_s:.1f} s; "
          f"true field: chunk MSE {truth['test_chunk_mse']:.2e}, rollout MSE "
          f"{truth['rollout_mse']:.2e}, so(3) σ {np.round(truth['so3_singular_values'], 4)}",
          flush=True)

    rows = []
    for n_traj in args.sizes:
        for seed in args.seeds:
            for name in args.models:
                row = train_one(name, n_traj, seed, pool, val, test, args)
                rows.append(row)
                print(f"n={n_traj:4d} seed {seed} {name:13s} train {row['train_mse']:.2e} "
                      f"test {row['test_chunk_mse']:.2e} rollout {row['rollout_mse']:.2e} "
                      f"so(3) σ {np.round(row['so3_singular_values'], 4)} "
                      f"{row['wall_s']:.0f} s", flush=True)

    meta = {**provenance(), "threads": args.threads,
            "sizes": args.sizes, "models": args.models, "seeds": args.seeds,
            "steps": args.steps, "lr": args.lr, "gamma": args.gamma,
            "box_points": args.box_points, "n_test": args.n_test, "n_val": args.n_val,
            "val_every": args.val_every,
            "rollout_steps": args.rollout_steps, "data_seed": args.data_seed, "dt": DT,
            "rk4_substeps": 2, "hidden": [42, 42, 42], "quick": args.quick,
            "data_seconds": data_s, "truth": truth,
            "total_seconds": clock.wall_s}
    summary = summarise(rows)
    write_results(out, meta, summary, rows)
    table = markdown(summary, meta)
    print(table)
    if args.update_readme:
        update_readme_section(README_BEGIN, README_END, table, missing_ok=True)


if __name__ == "__main__":
    main()

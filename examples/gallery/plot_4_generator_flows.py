"""
Generator flows: the validity score
===================================

Generator flows (Ko, Kim & Lee 2024) learn vector fields ``V = ξ ∂x + τ ∂t + φ ∂u`` whose
flows keep data *valid*. For PDE data the validity is the log residual of the governing
equation, re-estimated on the deformed grid (:class:`symmetrykit.flows.PDEResidual`): flowing a
solution along a true symmetry gives another solution and the score stays at its floor, while
any other field raises it. Training pushes every learned slot towards fields that keep the
score low.

A real fit (:class:`symmetrykit.GeneratorFlow`) takes about 8.5 minutes of CPU, far too long
to run while this page is built. This example therefore runs the part that decides what a fit
can learn — the score itself — on the true symmetries of KdV and on two fields that are not
symmetries. It fits nothing.
"""

# %%
# KdV trajectories and their symmetries
# -------------------------------------
# Two trajectories, the last 32 saved time steps each. ``data.reference_symmetries`` are the
# symmetries that keep the periodic ``x`` domain (the x- and t-translations and the Galilean
# boost ``t ∂x + ∂u``): the fields a fit is compared with. (The
# :doc:`closed-form example <plot_3_pde_discovery>` draws the trajectories and the fields.)
import math

import numpy as np
import torch

import symmetrykit as sk

data = sk.datasets.pde("kdv", n_trajectories=2, nt=32, random_state=0)
print(f"u: {data.u.shape}; reference symmetries:",
      ", ".join(sym.name for sym in data.reference_symmetries))

# %%
# The score
# ---------
# :func:`symmetrykit.flows.deform_solution` pushes every grid sample ``(x, t, u)`` through the
# flow of a field for time ``s`` (RK4); the residual scores the deformed solutions, one value
# per trajectory (mean log residual, lower is better). The floor is the score of the data
# themselves.
residual = sk.flows.PDEResidual.for_dataset(data, method="chain")
u, x, t = (torch.from_numpy(array) for array in (data.u, data.x, data.t))


def score(field, s):
    return residual(sk.flows.deform_solution(field, u, x, t, s)).mean().item()


floor = score(lambda points: torch.zeros_like(points), 0.0)
print(f"floor (untransformed data): {floor:.2f}")

# %%
# Fields to flow along
# --------------------
# Fields act on physical ``(x, t, u)``. So that one flow time ``s`` moves every field about
# equally far, each is scaled to unit RMS in the learning coordinates
# ``(x / L, t / (nt dt), c u)`` of :func:`symmetrykit.flows.pde_points`. Two fields that are
# *not* symmetries: shifting ``u`` (``∂u``) and scaling it (``u ∂u``).
length = data.params["length"]
duration = data.params["nt"] * data.params["dt"]
c = data.params["u_scale"]
grid_x, grid_t = np.meshgrid(data.x, data.t)


def as_field(symmetry):
    """A PointSymmetry as a torch field on physical points, unit RMS in learning units."""
    xi, tau, phi = np.broadcast_arrays(*symmetry(grid_x[None], grid_t[None], data.u))
    norm = math.sqrt(np.mean((xi / length) ** 2 + (tau / duration) ** 2 + (phi * c) ** 2))

    def field(points):
        values = np.broadcast_arrays(*symmetry(*points.detach().numpy().T))
        return torch.from_numpy(np.stack(values, axis=-1)) / norm

    return field


fields = {sym.name: as_field(sym) for sym in data.reference_symmetries}
fields["∂u (not a symmetry)"] = lambda p: torch.tensor([0.0, 0.0, 1.0 / c],
                                                        dtype=p.dtype).expand_as(p)
u_rms = math.sqrt(np.mean((c * data.u) ** 2))
fields["u ∂u (not a symmetry)"] = lambda p: torch.stack(
    [torch.zeros_like(p[:, 0]), torch.zeros_like(p[:, 0]), p[:, 2] / u_rms], dim=-1)

# %%
# How the score reacts
# --------------------
# The rise of the score over its floor, for flow times ``s`` from −0.4 to 0.4 (the range a fit
# samples from): flat at zero for the three true symmetries (their lines lie on top of each
# other), several nats up for the others.
flow_times = np.linspace(-0.4, 0.4, 9)
rises = {name: [score(field, s) - floor for s in flow_times] for name, field in fields.items()}
for name, values in rises.items():
    print(f"{name:>24}: rise at s = ±0.4: {values[0]:+.2f} / {values[-1]:+.2f}")

fig_curves = sk.plot.loss_curves({"step": list(flow_times), **rises})
ax = fig_curves.axes[0]
ax.set_xlabel("flow time s")
ax.set_ylabel("validity rise over the floor (nats)")
ax.set_title("KdV: the score along true and wrong generators")

# %%
# The same at the largest flow time, one bar per field.
fig_bars = sk.plot.comparison_bars(
    [name.replace(" (not a symmetry)", "\n(wrong)") for name in rises],
    [values[-1] for values in rises.values()], ylabel="validity rise at s = 0.4 (nats)")
fig_bars.axes[0].set_ylim(-0.5, 1.15 * max(max(values) for values in rises.values()))
fig_bars.axes[0].set_title("a fit keeps the fields that do not raise the score")

# %%
# The fit itself (not run here)
# -----------------------------
# With the score in hand, a fit learns ``K`` slots at once (more than the expected number of
# symmetries), each a small network, regularised to be orthogonal and smooth:
#
# .. code-block:: python
#
#    data = sk.datasets.pde("kdv", n_trajectories=32, random_state=0)
#    flow = sk.GeneratorFlow.preset("pde-cpu", random_state=0).fit(data)  # ≈ 8.5 CPU minutes
#    print(sk.flows.compare(flow, data).to_markdown())
#
# or ``symmetrykit flow discover --data kdv`` on the command line. Measured with that preset
# (README, "Generator flows"): the translations and the Galilean boost of KdV and KS on every
# seed, ``e^{−t/50} ∂t`` of nKdV and the cylindrical boost of cKdV (12 of 12 fits). For images
# the same estimator runs on pixel fields with a classifier-based validity
# (:class:`symmetrykit.ImageGeneratorFlow`, ``ImageGeneratorFlow.preset("mnist")``).

"""
SymmetryLens: the hidden shift in raw vectors
=============================================

SymmetryLens (Efe & Ozakin 2025) learns, from unlabelled samples alone, the minimal generator
``G`` of a one-parameter symmetry: the matrix whose powers ``G^k`` act on the data as the
group does. Here the data are 20,000 seven-pixel signals (sums of random Gaussian bumps) whose
hidden symmetry is the pixel shift; the fit never sees it, and the known shift is used only to
score the result afterwards.
"""

# %%
# The data
# --------
# :func:`symmetrykit.datasets.local_signals` returns a :class:`~symmetrykit.SymmetryDataset`:
# the samples ``X`` (one row per sample, one column per coordinate) together with the true
# minimal generator, so that a result can be checked.
import symmetrykit as sk

ds = sk.datasets.local_signals(n_samples=20_000, dim=7, symmetry="translation",
                               random_state=0)
print(ds)
fig_samples = sk.plot.signal_samples(ds.X, n=6, random_state=0,
                                     title="6 of the 20,000 training signals")

# %%
# The fit
# -------
# The defaults start from a closed-form warm start and refine it until the unsupervised loss
# has converged (about 100 model steps here, a few seconds of CPU).
lens = sk.SymmetryLens(random_state=0, progress="none").fit(ds.X)
print(f"stopped after {lens.run_steps_[0]} steps ({lens.stop_reasons_[0]}), "
      f"{lens.fit_time_['cpu_s']:.1f} s of CPU")

# %%
# Learned against true generator
# ------------------------------
# :func:`symmetrykit.generator_similarity` is the Frobenius cosine, taken as the best of
# ``G_true`` and its inverse (a lens may learn the shift in either direction). The heat maps
# share one colour scale; the right panel is the difference.
cos = sk.generator_similarity(lens.generator_, ds.generator)
print(f"cos(G_learned, G_true) = {cos:.4f}")
fig_generator = sk.plot.generator_heatmaps(
    lens.generator_, ds.generator,
    titles=("learned G", "true G (pixel shift)", "error (true − learned)"))

# %%
# The group convolution and the scores
# ------------------------------------
# The second output of SymmetryLens is a group convolution ``Φ`` (the learned filter moved
# by every power of ``G``): ``lens.transform(X) = X Φᵀ`` is the symmetry-based
# representation. The method's registered evaluation (the same one the command line and
# the sweeps use) scores both against the ground truth and draws the figures on request.
evaluation = sk.get_method("lens").evaluate(lens, ds)
print("\n".join(evaluation.lines))
fig_phi = evaluation.figures["group_convolution"]()

# %%
# The training curves: the loss terms of the refinement, and (recorded by the evaluation's
# monitor, never seen by the model) the similarities to the ground truth.
fig_loss = evaluation.figures["loss_curves"]()

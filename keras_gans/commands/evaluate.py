"""`keras-gans evaluate RUN_DIR_OR_REPO`: FID and KID of a trained model.

Example:

```bash
keras-gans evaluate runs/dcgan-mnist5k
keras-gans evaluate me/dcgan-mnist --dataset mnist5k --num-samples 5000
```
"""

import argparse
import os


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `evaluate` subcommand to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "evaluate",
        help="FID and KID of a run folder or a Hub model",
        description=(
            "Generates images from a run folder's model.keras, a saved model folder or "
            "a Hub repo and compares them with the real images it was trained on: FID "
            "and KID in the features of the offline digit classifier (grayscale) or "
            "InceptionV3 (colour, needs its ImageNet weights). A run folder gets the "
            "result in evaluation.json."
        ),
    )
    parser.add_argument("source", help="a run folder, a model folder, or owner/name on the Hub")
    parser.add_argument(
        "--dataset",
        metavar="NAME_OR_FOLDER",
        help="real images to compare with (default: the dataset the model was trained on)",
    )
    parser.add_argument(
        "--num-samples", type=int, default=2000, metavar="N", help="generated images (2000)"
    )
    parser.add_argument(
        "--extractor",
        choices=("mnist5k_classifier", "fid_inception", "inception_v3_imagenet"),
        help="feature extractor (default: the recipe's, else by the number of channels)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated images")
    parser.set_defaults(func=evaluate_command)
    return parser


def evaluate_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans evaluate` with parsed `args`; returns the exit status."""
    from keras_gans import runner
    from keras_gans.runner.run_folder import RUN_FILE
    from keras_gans.utils.files import write_json

    if args.num_samples < 2:
        raise ValueError("--num-samples must be at least 2.")
    results = runner.evaluate(
        args.source,
        dataset=args.dataset,
        num_samples=args.num_samples,
        extractor=args.extractor,
        seed=args.seed,
    )
    context = ("feature_extractor", "num_samples", "dataset", "reference", "reference_images")
    values = ", ".join(f"{key} {value:.5g}" for key, value in results.items() if key not in context)
    print(
        f"{args.source}: {values} ({results['feature_extractor']} features, "
        f"{results['num_samples']} generated vs {results['reference']})"
    )
    if os.path.exists(os.path.join(args.source, RUN_FILE)):
        path = os.path.join(args.source, "evaluation.json")
        write_json(path, results)
        print(f"Saved {path}")
    return 0

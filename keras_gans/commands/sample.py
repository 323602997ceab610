"""`keras-gans sample REPO --num 64 --out grid.png`: a grid of samples from a Hub model.

Example:

```bash
keras-gans sample me/dcgan-mnist --num 64 --out grid.png
keras-gans sample me/cgan-mnist --num 30 --labels 0,1,2 --seed 1 --out digits.png
```
"""

import argparse
import os


def parse_labels(text: str) -> list[int]:
    """`"0,1,2"` -> `[0, 1, 2]`; a bad value becomes an argparse usage error."""
    try:
        labels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated class ids such as 0,1,2; received {text!r}"
        ) from None
    if not labels:
        raise argparse.ArgumentTypeError("expected at least one class id, e.g. 0,1,2")
    return labels


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `sample` subcommand to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "sample",
        help="save a grid of samples from a model on the Hub, in a directory or a run folder",
        description=(
            "Loads a keras-gans model (hf://owner/name, owner/name or a local "
            "directory) and saves a grid of generated images. Conditional models "
            "get one row per label."
        ),
    )
    parser.add_argument(
        "repo", help="owner/name, hf://owner/name, a saved directory, a run folder or a .keras file"
    )
    parser.add_argument("--num", type=int, default=64, help="number of images (default 64)")
    parser.add_argument("--out", default="grid.png", help="output image (default grid.png)")
    parser.add_argument(
        "--labels",
        type=parse_labels,
        default=None,
        help="class ids for conditional models, one grid row each, e.g. 0,1,2 "
        "(default: the first 10 classes)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise")
    parser.add_argument("--revision", default=None, help="branch or commit sha")
    parser.set_defaults(func=sample_command)
    return parser


def sample_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans sample` with parsed `args`; returns the exit status.

    Args:
        args: `repo`, `num`, `out`, `labels` (list of ints or None), `seed`
            and `revision`, as `add_parser` defines them.

    Example:

    ```python
    args = argparse.Namespace(repo="me/dcgan-mnist", num=16, out="grid.png",
                              labels=None, seed=0, revision=None)
    sample_command(args)
    ```
    """
    if args.num < 1:
        raise ValueError(f"--num must be a positive integer; received {args.num}.")
    from keras_gans import hub
    from keras_gans.hub.card import is_translation
    from keras_gans.images import save_image

    model = load_model(args.repo, args.revision)
    if is_translation(model):
        raise ValueError(
            f"{args.repo} is a {type(model).__name__}, which translates images rather than "
            f"generating them; use `keras-gans translate {args.repo} INPUT... --out DIR`."
        )
    grid = hub.sample_grid(model, num_images=args.num, labels=args.labels, seed=args.seed)
    save_image(grid, args.out)
    print(f"Saved {args.num} samples from {args.repo} to {args.out}")
    return 0


def load_model(source: str, revision: str | None = None):
    """The model of a run folder, or whatever `keras_gans.from_pretrained` loads from `source`."""
    from keras_gans.models import from_pretrained
    from keras_gans.runner import load_run_model
    from keras_gans.runner.run_folder import RUN_FILE

    if os.path.exists(os.path.join(source, RUN_FILE)):  # a run folder
        if revision is not None:
            raise ValueError("--revision applies to Hub repos; a run folder has none.")
        model, _ = load_run_model(source)
        return model
    return from_pretrained(source, revision=revision)

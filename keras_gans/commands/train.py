"""`keras-gans train RECIPE_OR_ARCH`: train a zoo recipe, or an architecture on your images.

Example:

```bash
keras-gans train dcgan.mnist5k --out runs/dcgan-mnist5k
keras-gans train dcgan.mnist --backend jax --out runs/dcgan-mnist
keras-gans train dcgan --data ./my_images/ --image-size 64 --epochs 100
keras-gans train --resume runs/dcgan-mnist5k --epochs 40
```
"""

import argparse
import os
import subprocess
import sys

BACKENDS = ("jax", "tensorflow", "torch")
_SWITCHED = "KERAS_GANS_BACKEND_SWITCHED"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `train` subcommand to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "train",
        help="train a zoo recipe, or an architecture on a folder of images",
        description=(
            "Trains a zoo recipe (see `keras-gans list`), or an architecture (gan, dcgan, "
            "cgan) on a folder of images, with Keras' progress bar. The run folder gets "
            "image grids, a GIF timelapse, a loss plot, a metrics CSV, the model and a "
            "model card. Interrupted runs (a crash, Ctrl-C) carry on from the last "
            "finished epoch when run again."
        ),
    )
    parser.add_argument(
        "recipe",
        nargs="?",
        help="a recipe such as dcgan.mnist5k, or gan, dcgan or cgan with --data "
        "(may be left out with --resume DIR)",
    )
    parser.add_argument(
        "--data",
        metavar="FOLDER",
        help="a folder of images to train on (class sub-folders give labels for cgan)",
    )
    parser.add_argument("--image-size", type=int, metavar="N", help="resize images to NxN")
    parser.add_argument("--epochs", type=int, metavar="N", help="total epochs to train")
    parser.add_argument("--batch-size", type=int, metavar="N", help="images per step")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: KERAS_BACKEND, else Keras' configured default, "
        "tensorflow: the fastest of the three for convolutions on CPU)",
    )
    parser.add_argument("--out", metavar="DIR", help="run folder (default runs/ARCH-DATASET)")
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="DIR",
        help="carry on the run in DIR (or --out); a finished run trains on to --epochs",
    )
    parser.add_argument(
        "--max-images", type=int, metavar="N", help="train on at most N images of the dataset"
    )
    parser.add_argument("--no-eval", action="store_true", help="skip FID/KID during training")
    parser.set_defaults(func=train_command)
    return parser


def _argv(args: argparse.Namespace) -> list[str]:
    """The `keras-gans train ...` arguments that reproduce `args`, without --backend."""
    argv = ["train"] + ([args.recipe] if args.recipe else [])
    for flag in ("data", "image_size", "epochs", "batch_size", "out", "max_images"):
        value = getattr(args, flag)
        if value is not None:
            argv += [f"--{flag.replace('_', '-')}", str(value)]
    if args.resume is True:
        argv.append("--resume")
    elif args.resume:
        argv += ["--resume", args.resume]
    if args.no_eval:
        argv.append("--no-eval")
    return argv


def _run_on_backend(args: argparse.Namespace) -> int:
    """Runs this command again in a fresh interpreter with KERAS_BACKEND set.

    Keras picks its backend once, when it is first imported, and the
    `keras-gans` command has imported it before the arguments are read.
    """
    if os.environ.get(_SWITCHED):
        raise ValueError(
            f"Could not switch Keras to the {args.backend} backend; is it installed? "
            f"(`pip install {'torch' if args.backend == 'torch' else args.backend}`)"
        )
    env = {**os.environ, "KERAS_BACKEND": args.backend, _SWITCHED: "1"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, "-m", "keras_gans.cli", *_argv(args)]
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return process.wait()


def train_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans train` with parsed `args`; returns the exit status.

    Example:

    ```python
    from keras_gans import cli
    cli.main(["train", "gan.digits", "--epochs", "1", "--out", "runs/try"])
    ```
    """
    import keras

    if args.backend and args.backend != keras.backend.backend():
        return _run_on_backend(args)
    for flag in ("image_size", "epochs", "batch_size", "max_images"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be a positive integer.")
    out = args.out
    if isinstance(args.resume, str):
        if out is not None and os.path.abspath(out) != os.path.abspath(args.resume):
            raise ValueError("Give the run folder once: --resume DIR or --out DIR.")
        out = args.resume
    if args.recipe is None and not args.resume:
        raise ValueError(
            "Name a recipe (see `keras-gans list`) or an architecture with --data, "
            "or --resume a run folder."
        )
    if args.recipe is None and out is None:
        raise ValueError("--resume needs the run folder: --resume DIR.")
    from keras_gans import zoo

    if out is None:
        out = zoo.default_out_dir(zoo.resolve(args.recipe, data=args.data))
    try:
        zoo.train(
            args.recipe,
            out,
            epochs=args.epochs,
            batch_size=args.batch_size,
            data=args.data,
            image_size=args.image_size,
            max_images=args.max_images,
            resume=bool(args.resume),
            evaluate=not args.no_eval,
        )
    except KeyboardInterrupt:
        print(
            f"\nInterrupted. Run the same command again (or `keras-gans train --resume "
            f"{out}`) to carry on from the last finished epoch.",
            file=sys.stderr,
        )
        return 130
    return 0

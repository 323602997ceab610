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
import sys

from keras_gans.utils.precision import CHOICES as PRECISIONS


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
    parser.add_argument(
        "--pretrained",
        metavar="PICKLE",
        help="start from NVIDIA's StyleGAN2-ADA network: a name such as nvlabs:ffhq256, a .pkl "
        "or a URL (stylegan2 recipes, e.g. stylegan2.finetune; kept on resume)",
    )
    parser.add_argument("--epochs", type=int, metavar="N", help="total epochs to train")
    parser.add_argument("--batch-size", type=int, metavar="N", help="images per step")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="Keras dtype policy to train in (default the recipe's; auto: mixed_bfloat16 on "
        "TensorFlow or torch with a CPU that has bfloat16 instructions, else float32; kept on "
        "resume)",
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
    parser.add_argument(
        "--no-eval", action="store_true", help="skip metrics during training (kept on resume)"
    )
    parser.add_argument(
        "--max-loss",
        type=float,
        metavar="X",
        help="a loss above X counts as divergence and stops the run (default 1e6)",
    )
    parser.add_argument(
        "--backup-every",
        type=int,
        metavar="STEPS",
        help="back up every STEPS steps too, so a kill mid-epoch loses at most STEPS steps "
        "(kept on resume; default: after each epoch)",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="decode the --data folder batch by batch instead of loading it whole (kept on resume)",
    )
    group = parser.add_argument_group(
        "several processes (JAX; one command per host, see docs/distributed.md)"
    )
    group.add_argument("--num-processes", type=int, metavar="N", help="processes training together")
    group.add_argument("--process-id", type=int, metavar="I", help="this process, 0 to N-1")
    group.add_argument(
        "--coordinator", metavar="HOST:PORT", help="process 0's address, the same for every process"
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="append the finished run's figures to the zoo's results.csv",
    )
    parser.add_argument(
        "--lr-scale",
        type=float,
        metavar="F",
        help="with --resume: multiply both learning rates by F (e.g. 0.1 after a divergence)",
    )
    parser.set_defaults(func=train_command)
    return parser


def train_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans train` with parsed `args`; returns the exit status.

    Example:

    ```python
    from keras_gans import cli
    cli.main(["train", "gan.digits", "--epochs", "1", "--out", "runs/try"])
    ```
    """
    for flag in ("image_size", "epochs", "batch_size", "max_images", "backup_every"):
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
    from keras_gans import distribute

    # Before anything touches the backend: several JAX processes must connect first.
    distribute.initialize(args.num_processes, args.process_id, args.coordinator)
    from keras_gans import recipes, runner
    from keras_gans.runner import run_folder

    if out is None:
        out = run_folder.default_out_dir(recipes.resolve(args.recipe, data=args.data))
    image_size, overrides = args.image_size, None
    pretrained = getattr(args, "pretrained", None)
    if pretrained:
        overrides = {"pretrained": pretrained}
    elif args.recipe is not None:
        pretrained = recipes.resolve(args.recipe, data=args.data).model.get("pretrained")
    if pretrained and image_size is None:
        from keras_gans.convert import presets

        if presets.is_preset_name(pretrained):  # train at the network's resolution
            image_size = presets.lookup(pretrained)["resolution"]
    try:
        run = runner.train(
            args.recipe,
            out,
            epochs=args.epochs,
            batch_size=args.batch_size,
            data=args.data,
            image_size=image_size,
            max_images=args.max_images,
            precision=args.precision,
            resume=bool(args.resume),
            evaluate=False if args.no_eval else None,
            lr_scale=args.lr_scale,
            max_loss=args.max_loss,
            backup_every=args.backup_every,
            stream=True if args.stream else None,
            model_overrides=overrides,
        )
    except KeyboardInterrupt:
        print(
            f"\nInterrupted. Run the same command again (or `keras-gans train --resume "
            f"{out}`) to carry on from the last backup.",
            file=sys.stderr,
        )
        return 130
    if args.record:
        from keras_gans.runner.run_folder import result_row

        command = "keras-gans " + " ".join(sys.argv[1:])
        print(f"Recorded in {recipes.record_result(result_row(run, command))}")
    return 0

"""`keras-gans sample MODEL --num 64 --out grid.png`: a grid of samples from a model.

MODEL is a Hub repo, a saved folder, a run folder, a `.keras` file, or one of
NVIDIA's StyleGAN2-ADA pickles (a `.pkl` path or URL, or a name such as `nvlabs:ffhq`),
converted on the fly.

Example:

```bash
keras-gans sample me/dcgan-mnist --num 64 --out grid.png
keras-gans sample me/cgan-mnist --num 30 --labels 0,1,2 --seed 1 --out digits.png
keras-gans sample nvlabs:afhqcat --num 4 --truncation-psi 0.7 --out cats.png
keras-gans sample runs/dcgan-mnist5k --video walk.gif --seeds 0,1,2 --frames 48
keras-gans sample nvlabs:stylegan3-r-afhqv2-512 --video turn.mp4 --rotate 90 --translate-x 0.2
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
        help="save a grid of samples from a model on the Hub, in a folder, or an NVIDIA pickle",
        description=(
            "Loads a keras-gans model (hf://owner/name, owner/name, a local directory, a "
            "run folder, a .keras file) or converts an NVIDIA StyleGAN2-ADA pickle (a .pkl, "
            "a URL or a name such as nvlabs:ffhq) and saves a grid of generated images. "
            "Conditional models get one row per label."
        ),
    )
    parser.add_argument(
        "repo",
        help="owner/name, hf://owner/name, a saved directory, a run folder, a .keras file, "
        "or an NVIDIA pickle (.pkl, URL, nvlabs:NAME)",
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
    parser.add_argument(
        "--truncation-psi",
        type=float,
        default=None,
        help="StyleGAN2: w = w_avg + psi (w - w_avg); 0.5-0.7 gives typical images (default 1)",
    )
    parser.add_argument(
        "--truncation-cutoff",
        type=int,
        default=None,
        help="StyleGAN2: truncate only the first N ws",
    )
    parser.add_argument(
        "--noise-mode",
        choices=("const", "random", "none"),
        default=None,
        help="StyleGAN2 per-pixel noise (default const)",
    )
    video = parser.add_argument_group("video (instead of a grid)")
    video.add_argument("--video", metavar="PATH", help="write an animation: .gif, .webp or .mp4")
    video.add_argument("--frames", type=int, default=48, help="frames of the video (default 48)")
    video.add_argument("--fps", type=float, default=24.0, help="frames per second (default 24)")
    video.add_argument("--seeds", type=parse_labels, default=None, metavar="S,S,...",
                       help="walk through these seeds (default: --seed, --seed + 1)")  # fmt: skip
    video.add_argument("--space", choices=("z", "w"), default="z",
                       help="interpolate in z, or in w (StyleGAN2/3)")  # fmt: skip
    for flag, what in (
        ("--translate-x", "translation along x, a fraction of the side"),
        ("--translate-y", "translation along y"),
        ("--rotate", "rotation, degrees"),
    ):
        video.add_argument(flag, type=float, default=None,
                           help=f"StyleGAN3: animate the input's {what} up to this")  # fmt: skip
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
    options = {
        key: value
        for key in ("truncation_psi", "truncation_cutoff", "noise_mode")
        if (value := getattr(args, key, None)) is not None
    }
    unknown = sorted(set(options) - set(getattr(model, "SAMPLING_OPTIONS", ())))
    if unknown:
        flags = ", ".join("--" + key.replace("_", "-") for key in unknown)
        raise ValueError(f"{flags}: {type(model).__name__} has no such sampling option.")
    if getattr(args, "video", None):
        return _video(model, args, options)
    grid = hub.sample_grid(
        model, num_images=args.num, labels=args.labels, seed=args.seed, **options
    )
    save_image(grid, args.out)
    print(f"Saved {args.num} samples from {args.repo} to {args.out}")
    return 0


def _video(model, args, options) -> int:
    """`--video`: a walk through seeds, or (StyleGAN3) the input translated and turned."""
    import numpy as np

    from keras_gans.images import save_video
    from keras_gans.models.explore import interpolate

    if args.frames < 2:
        raise ValueError(f"--frames must be at least 2; received {args.frames}.")
    label = None if args.labels is None else args.labels[0]
    moves = {"tx": args.translate_x, "ty": args.translate_y, "rotate": args.rotate}
    if any(value is not None for value in moves.values()):
        if "rotate" not in getattr(model, "SAMPLING_OPTIONS", ()):
            raise ValueError(
                f"--translate-x/--translate-y/--rotate move StyleGAN3's input; "
                f"{type(model).__name__} has none."
            )
        tx, ty, angle = (float(value or 0.0) for value in moves.values())
        latent = model.sample_latent(1, args.seed)
        labels = None if model.num_classes is None else [label or 0]
        frames = [
            model.generate(latent=latent, labels=labels, translate=(t * tx, t * ty),
                           rotate=t * angle, **options)[0]
            for t in np.linspace(0.0, 1.0, args.frames)
        ]  # fmt: skip
    else:
        seeds = args.seeds or [args.seed, args.seed + 1]
        if len(seeds) < 2:
            raise ValueError("--seeds needs at least two seeds to walk between.")
        steps = -(-(args.frames - 1) // (len(seeds) - 1)) + 1  # frames per leg, endpoints shared
        legs = [
            interpolate(model, start, end, steps=steps, space=args.space,
                        labels=None if model.num_classes is None else (label or 0), **options)
            for start, end in zip(seeds, seeds[1:])
        ]  # fmt: skip
        frames = np.concatenate([leg if i == 0 else leg[1:] for i, leg in enumerate(legs)])
        frames = frames[np.linspace(0, len(frames) - 1, args.frames).round().astype(int)]
    save_video(frames, args.video, fps=args.fps)
    print(f"Saved a {len(frames)}-frame video from {args.repo} to {args.video}")
    return 0


def is_nvlabs_pickle(source: str) -> bool:
    """Whether `source` names an NVIDIA network pickle: `nvlabs:NAME`, a `.pkl` path or URL."""
    from keras_gans.convert.presets import is_preset_name

    return is_preset_name(source) or source.split("?")[0].lower().endswith(".pkl")


def load_model(source: str, revision: str | None = None):
    """The model of a run folder or NVIDIA pickle, or what `keras_gans.from_pretrained` loads."""
    from keras_gans.models import from_pretrained
    from keras_gans.runner import load_run_model
    from keras_gans.runner.run_folder import RUN_FILE

    if is_nvlabs_pickle(source):
        from keras_gans.models import from_nvlabs

        if revision is not None:
            raise ValueError("--revision applies to Hub repos, not to NVIDIA pickles.")
        return from_nvlabs(source)
    if os.path.exists(os.path.join(source, RUN_FILE)):  # a run folder
        if revision is not None:
            raise ValueError("--revision applies to Hub repos; a run folder has none.")
        model, _ = load_run_model(source)
        return model
    return from_pretrained(source, revision=revision)

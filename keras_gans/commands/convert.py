"""`keras-gans convert PICKLE_OR_NAME --out DIR [--push user/repo]`: NVIDIA pickles to Keras.

Reads a StyleGAN2-ADA or StyleGAN3 network pickle (a path, a URL or a name such as `nvlabs:ffhq`)
without running any code from it, and writes a keras-gans model folder (Keras'
`config.json` + weights, a sample grid and a model card naming the source and
NVIDIA's licence) that loads on JAX, TensorFlow and PyTorch with
`keras_gans.from_pretrained(DIR)` or `keras.saving.load_model(DIR)`.

Example:

```bash
keras-gans convert nvlabs:afhqcat --out afhqcat
keras-gans convert network-snapshot-000400.pkl --out mine --push me/stylegan2-mine
```
"""

import argparse
import os
import time


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `convert` subcommand to an `argparse` subparsers object."""
    from keras_gans.convert.presets import PRESETS

    parser = subparsers.add_parser(
        "convert",
        help="convert an NVIDIA StyleGAN2-ADA or StyleGAN3 pickle into a keras-gans model folder",
        description=(
            "Converts NVIDIA's StyleGAN2-ADA or StyleGAN3 network pickle into a keras-gans "
            "StyleGAN2 / StyleGAN3 folder that loads on every backend. Nothing in the pickle "
            "is run and PyTorch is not needed. Names: " + ", ".join(sorted(PRESETS)) + "."
        ),
    )
    parser.add_argument("source", help="a .pkl file, an https:// URL or a name such as nvlabs:ffhq")
    parser.add_argument("--out", required=True, help="the folder to write (must not exist yet)")
    parser.add_argument("--push", metavar="OWNER/NAME", help="also push the model to this Hub repo")
    parser.add_argument("--private", action="store_true", help="create the Hub repo private")
    parser.add_argument("--token", help="Hugging Face token (default HF_TOKEN or the login)")
    parser.add_argument(
        "--cache-dir", help="where downloads are kept (default ~/.cache/keras_gans)"
    )
    parser.add_argument(
        "--truncation-psi",
        type=float,
        default=1.0,
        help="truncation of the card's sample grid (default 1: none)",
    )
    parser.set_defaults(func=convert_command)
    return parser


def convert_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans convert` with parsed `args`; returns the exit status."""
    out = os.path.abspath(args.out)
    if os.path.exists(out) and os.listdir(out):
        raise FileExistsError(f"--out {args.out} exists and is not empty; choose a new folder.")
    from keras_gans import hub
    from keras_gans.models import from_nvlabs

    start = time.perf_counter()
    model = from_nvlabs(args.source, cache_dir=args.cache_dir)
    seconds = time.perf_counter() - start
    height, width, channels = model.image_shape
    print(f"Converted {args.source} in {seconds:.1f} s: {type(model).__name__} "
          f"{height}x{width}x{channels}"
          + (f", {model.num_classes} classes" if model.num_classes else ""))  # fmt: skip
    # Written beside the target, then moved: a failed conversion leaves no half folder.
    parent = os.path.dirname(out) or "."
    partial = os.path.join(parent, f".{os.path.basename(out)}.{os.getpid()}.partial")
    options = {"truncation_psi": args.truncation_psi}
    try:
        hub.save_pretrained(model, partial, grid_options=options)
        if os.path.isdir(out):
            os.rmdir(out)  # empty, checked above
        os.replace(partial, out)
    except BaseException:
        import shutil

        shutil.rmtree(partial, ignore_errors=True)
        raise
    print(f"Wrote {args.out}: load it with keras_gans.from_pretrained({args.out!r})")
    if args.push:
        info = hub.push_to_hub(model, args.push, private=True if args.private else None,
                               token=args.token, grid_options=options)  # fmt: skip
        url = getattr(info, "commit_url", None) or f"https://huggingface.co/{args.push}"
        print(f"Pushed to {args.push}: {url}")
    return 0

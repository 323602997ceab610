"""`keras-gans translate MODEL INPUT... --out DIR`: translate image files with Pix2Pix or CycleGAN.

Example:

```bash
keras-gans translate me/pix2pix-facades photos/ --out labels/ --grid grid.png
keras-gans translate runs/cyclegan horse1.jpg horse2.jpg --out zebras/ --direction a_to_b
```
"""

import argparse
import os

DIRECTIONS = ("a_to_b", "b_to_a")
GRID_MAX_IMAGES = 16


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `translate` subcommand to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "translate",
        help="translate image files with an image-to-image model (Pix2Pix, CycleGAN)",
        description=(
            "Loads a keras-gans translation model and writes the translation of every "
            "input image to --out as a PNG of the same name (photo.jpg -> DIR/photo.png). "
            "Images are prepared as training folders are: centre-cropped to the model's "
            "aspect ratio, resized to its source size (the command says which) and scaled "
            "to [-1, 1]."
        ),
    )
    parser.add_argument(
        "model",
        help="owner/name, hf://owner/name, a saved directory, a run folder or a .keras file",
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files and/or folders of images"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder of the translated images"
    )
    parser.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default=None,
        help="CycleGAN only: which way to translate (default a_to_b)",
    )
    parser.add_argument(
        "--grid",
        default=None,
        metavar="PNG",
        help=f"also write a source | translation grid of the first {GRID_MAX_IMAGES} images",
    )
    parser.add_argument("--batch-size", type=int, default=16, help="images per generator call")
    parser.add_argument("--revision", default=None, help="branch or commit sha")
    parser.set_defaults(func=translate_command)
    return parser


def input_files(inputs) -> list[str]:
    """The image files named by `inputs`: files as given, folders' images sorted by name.

    Folders are read one level deep (`.png`, `.jpg`, `.jpeg`, `.bmp`, `.gif`).

    Raises:
        FileNotFoundError: an input does not exist.
        ValueError: a folder holds no images, or two inputs share a file name.
    """
    from keras_gans.data.folders import IMAGE_EXTENSIONS

    paths = []
    for source in inputs:
        if os.path.isdir(source):
            found = [
                os.path.join(source, name)
                for name in sorted(os.listdir(source))
                if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
            ]
            if not found:
                raise ValueError(
                    f"INPUT folder {source!r} holds no images; keras-gans reads "
                    f"{', '.join(IMAGE_EXTENSIONS)} files directly inside it."
                )
            paths += found
        elif os.path.isfile(source):
            paths.append(source)
        else:
            raise FileNotFoundError(
                f"INPUT {source!r} does not exist; give image files or folders of images."
            )
    seen = {}
    for path in paths:
        name = output_name(path)
        if name in seen:
            raise ValueError(
                f"INPUT {seen[name]!r} and {path!r} would both be written as {name}; "
                "translate them in separate runs or rename one."
            )
        seen[name] = path
    return paths


def output_name(path: str) -> str:
    """`photos/cat.jpg` -> `cat.png`: the input's file name with a PNG extension."""
    return os.path.splitext(os.path.basename(path))[0] + ".png"


def read_image(path: str, shape) -> tuple:
    """`path` as a float32 `(H, W, C)` array in [-1, 1] of `shape`, and its size before resizing.

    Prepared as the training folders are (`keras_gans.data.pixels.model_input`):
    centre-cropped to the model's aspect ratio, then resized.

    Example:

    ```python
    image, (width, height) = read_image("cat.jpg", (256, 256, 3))
    ```
    """
    from PIL import Image, UnidentifiedImageError

    from keras_gans.data.pixels import model_input

    try:
        with Image.open(path) as image:
            return model_input(image, shape), image.size
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"INPUT {path!r} is not a readable image ({error}).") from None


def translate_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans translate` with parsed `args`; returns the exit status.

    Args:
        args: `model`, `inputs`, `out`, `direction`, `grid`, `batch_size` and
            `revision`, as `add_parser` defines them.

    Example:

    ```python
    args = argparse.Namespace(model="pix2pix.keras", inputs=["photos"], out="out",
                              direction=None, grid=None, batch_size=16, revision=None)
    translate_command(args)
    ```
    """
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be a positive integer; received {args.batch_size}.")
    if os.path.isfile(args.out):
        raise ValueError(f"--out {args.out!r} is a file; give a folder for the translated images.")
    paths = input_files(args.inputs)
    outputs = [os.path.join(args.out, output_name(path)) for path in paths]
    for path, output in zip(paths, outputs):
        if os.path.abspath(path) == os.path.abspath(output):
            raise ValueError(f"--out {args.out!r} would overwrite INPUT {path!r}; choose another.")

    import numpy as np

    from keras_gans.commands.sample import load_model
    from keras_gans.hub.card import is_translation
    from keras_gans.images import make_row_grid, save_image

    model = load_model(args.model, args.revision)
    name = type(model).__name__
    if not is_translation(model):
        raise ValueError(
            f"{args.model} is a {name}, which generates images rather than translating "
            f"them; use `keras-gans sample {args.model}`."
        )
    if args.direction is not None and args.direction not in model.directions:
        raise ValueError(
            f"--direction {args.direction}: a {name} translates one way only; leave it out."
        )
    direction = args.direction or model.directions[0]
    shape = model._source_shape(direction)
    resized, grid_rows = [], []
    for start in range(0, len(paths), args.batch_size):
        chunk = paths[start : start + args.batch_size]
        images = []
        for path in chunk:
            image, (width, height) = read_image(path, shape)
            if (width, height) != (shape[1], shape[0]):
                resized.append(f"{os.path.basename(path)} ({width}x{height})")
            images.append(image)
        images = np.stack(images)
        translations = model.translate(images, direction=direction, batch_size=args.batch_size)
        for translation, output in zip(translations, outputs[start:]):
            save_image(translation, output)
        grid_rows += list(zip(images, translations))[: GRID_MAX_IMAGES - len(grid_rows)]
    if resized:
        shown = ", ".join(resized[:5]) + (", ..." if len(resized) > 5 else "")
        print(
            f"Resized {len(resized)} of {len(paths)} images to {shape[1]}x{shape[0]}, "
            f"the model's source size (centre-cropped to its aspect first): {shown}"
        )
    way = "" if direction is None else f" ({direction})"
    count = f"{len(paths)} image{'' if len(paths) == 1 else 's'}"
    print(f"Translated {count} with {args.model}{way} into {args.out}")
    if args.grid:
        save_image(make_row_grid(grid_rows), args.grid)
        print(f"Saved a source | translation grid of {len(grid_rows)} images to {args.grid}")
    return 0

"""Turning generated images into files: uint8 conversion, grids, labels, atomic writes.

Everything here is NumPy and Pillow; no backend is involved, so the
functions work on the output of `gan.generate()` under JAX, TensorFlow and
PyTorch alike.
"""

import math
import os

import numpy as np

from keras_gans.utils.arguments import check_integer
from keras_gans.utils.files import atomic_path

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def to_uint8(images) -> np.ndarray:
    """Maps images from [-1, 1] to uint8 [0, 255], rounding and clipping.

    Values outside [-1, 1] are clipped and NaNs become 0, so a diverged
    generator still gives a viewable (black) image. uint8 input is returned
    unchanged.

    Args:
        images: array-like of any shape, floats in [-1, 1], or uint8.

    Returns:
        A uint8 NumPy array of the same shape.

    Example:

    ```python
    to_uint8(np.array([-1.0, 0.0, 1.0]))   # array([  0, 128, 255], dtype=uint8)
    ```
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    scaled = (np.nan_to_num(images.astype("float32"), nan=-1.0) + 1.0) * 127.5
    return np.clip(np.rint(scaled), 0, 255).astype("uint8")


def grid_shape(num_images: int, rows=None, cols=None) -> tuple[int, int]:
    """Rows and columns for `num_images` cells; a near-square grid by default.

    Args:
        num_images: number of images to place.
        rows: number of rows, or None to derive it.
        cols: number of columns, or None to derive it.

    Example:

    ```python
    grid_shape(10)            # (3, 4)
    grid_shape(10, rows=2)    # (2, 5)
    ```
    """
    if num_images < 1:
        raise ValueError(f"A grid needs at least one image; received {num_images}.")
    check_integer("rows", rows, allow_none=True)
    check_integer("cols", cols, allow_none=True)
    if rows is None and cols is None:
        cols = math.ceil(math.sqrt(num_images))
    if rows is None:
        rows = math.ceil(num_images / cols)
    elif cols is None:
        cols = math.ceil(num_images / rows)
    if rows * cols < num_images:
        raise ValueError(
            f"A {rows}x{cols} grid holds {rows * cols} images but {num_images} "
            "were given; raise `rows` or `cols`, or leave one of them out."
        )
    return int(rows), int(cols)


def make_grid(images, rows=None, cols=None, padding=2, pad_value=255) -> np.ndarray:
    """Tiles a batch of images into one uint8 image.

    Images fill the grid row by row; `padding` pixels of `pad_value`
    surround every cell, so the result is `rows * H + (rows + 1) * padding`
    pixels high and `cols * W + (cols + 1) * padding` wide. Unused cells are
    left at `pad_value`. The channel axis is kept: grayscale stays one
    channel.

    Args:
        images: `(N, H, W, C)` (or `(N, H, W)`) floats in [-1, 1], or uint8.
        rows: number of rows; derived from `cols` (or near-square) if None.
        cols: number of columns; derived from `rows` (or near-square) if None.
        padding: pixels between and around the cells.
        pad_value: uint8 value (0-255) of the padding.

    Returns:
        A uint8 array `(H', W', C)`.

    Example:

    ```python
    grid = make_grid(gan.generate(16, seed=0), rows=4)
    save_image(grid, "samples.png")
    ```
    """
    images = to_uint8(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"`images` must have shape (N, H, W, C) or (N, H, W); received shape {images.shape}."
        )
    if padding < 0:
        raise ValueError(f"`padding` must be >= 0. Received: {padding!r}")
    if not 0 <= pad_value <= 255:
        raise ValueError(f"`pad_value` must be in [0, 255]. Received: {pad_value!r}")
    num_images, height, width, channels = images.shape
    rows, cols = grid_shape(num_images, rows, cols)
    step_y, step_x = height + padding, width + padding
    grid = np.empty((rows * step_y + padding, cols * step_x + padding, channels), dtype="uint8")
    grid[...] = _color(pad_value, channels)
    for index, image in enumerate(images):
        row, col = divmod(index, cols)
        top, left = padding + row * step_y, padding + col * step_x
        grid[top : top + height, left : left + width] = image
    return grid


def make_row_grid(rows, padding=2, pad_value=255) -> np.ndarray:
    """Tiles rows of images, e.g. `source | translation | target`, into one uint8 grid.

    Every row is one grid row; a row shorter than the longest leaves its last
    cells at `pad_value`. Grayscale images are shown as colour when any image
    of the grid has colour, so a 1-channel source sits beside its RGB
    translation.

    Args:
        rows: a sequence of rows, each a sequence of `(H, W, C)` images of one
            height and width (floats in [-1, 1], or uint8).
        padding: pixels between and around the cells.
        pad_value: uint8 value (0-255) of the padding and of empty cells.

    Returns:
        A uint8 array `(H', W', C)`.

    Example:

    ```python
    outputs = pix2pix.translate(sources)
    grid = make_row_grid(list(zip(sources, outputs, targets)))   # 3 columns
    ```
    """
    rows = [[_as_hwc(image) for image in row] for row in rows]
    cells = [image for row in rows for image in row]
    if not cells or not all(rows):
        raise ValueError("`rows` must hold at least one image per row.")
    if len({image.shape[:2] for image in cells}) > 1 or any(image.ndim != 3 for image in cells):
        raise ValueError(
            "Every image of `rows` must have shape (H, W, C) with one height and width; "
            f"received shapes {sorted({image.shape for image in cells})}."
        )
    channels = max(image.shape[-1] for image in cells)
    if any(image.shape[-1] not in (1, channels) for image in cells):
        raise ValueError(
            f"Cannot tile images of {sorted({image.shape[-1] for image in cells})} channels "
            "together; give grayscale images and images of one other channel count."
        )
    blank = np.empty((*cells[0].shape[:2], channels), dtype="uint8")
    blank[...] = _color(pad_value, channels)
    cols = max(len(row) for row in rows)
    tiles = []
    for row in rows:
        tiles += [_expand_gray(image, channels) for image in row] + [blank] * (cols - len(row))
    return make_grid(np.stack(tiles), cols=cols, padding=padding, pad_value=pad_value)


def _as_hwc(image):
    image = to_uint8(image)
    return image[..., None] if image.ndim == 2 else image


def _expand_gray(image, channels):
    """A 1-channel image as `channels` channels: gray RGB, plus an opaque alpha for RGBA."""
    if image.shape[-1] == channels:
        return image
    color = np.repeat(image, min(channels, 3), axis=-1)
    alpha = np.full(image.shape[:2] + (max(channels - 3, 0),), 255, dtype="uint8")
    return np.concatenate([color, alpha], axis=-1)


def _color(value, channels):
    """A Pillow fill for a gray `value`: opaque when there is an alpha channel."""
    return int(value) if channels == 1 else (int(value),) * 3 + (255,) * (channels - 3)


def label_rows(grid, names, padding=2, pad_value=255, font_size=None) -> np.ndarray:
    """Writes one name at the left of each row of a `make_grid` grid.

    A margin as wide as the longest name is added on the left; the grid
    itself is unchanged and sits at the right of the result. Rows are
    found from the grid height, so `padding` must be the one the grid was
    made with.

    Args:
        grid: a `(H', W', C)` uint8 array from `make_grid`.
        names: one string (or number) per grid row.
        padding: the padding `make_grid` used.
        pad_value: uint8 value of the margin, normally the grid's padding.
        font_size: text height in pixels; default fits the row height
            (8 to 16 px). Pillow's default font is used.

    Returns:
        A uint8 array `(H', margin + W', C)`.

    Example:

    ```python
    images = cgan.generate(labels=np.repeat([0, 1, 2], 8), seed=0)
    grid = label_rows(make_grid(images, rows=3), ["cat", "dog", "bird"])
    ```
    """
    from PIL import Image, ImageDraw, ImageFont

    grid = np.asarray(grid)
    if grid.ndim == 2:
        grid = grid[..., None]
    names = [str(name) for name in names]
    if not names:
        raise ValueError("`names` must hold one name per grid row; it is empty.")
    height, _, channels = grid.shape
    cell = (height - padding) / len(names)
    if cell <= padding or cell != int(cell):
        raise ValueError(
            f"A grid {height} pixels high with padding={padding} cannot hold "
            f"{len(names)} equal rows; give one name per row and make_grid's padding."
        )
    cell = int(cell)
    size = font_size or int(min(max(cell - padding, 8), 16))
    font = ImageFont.load_default(size=size)
    boxes = [font.getbbox(name) for name in names]
    margin = max(box[2] for box in boxes) + 2 * max(padding, 2)
    mode = _MODES.get(channels)
    if mode is None:
        raise ValueError(f"Grids must have 1, 3 or 4 channels; received {channels}.")
    canvas = Image.new(mode, (margin, height), _color(pad_value, channels))
    draw = ImageDraw.Draw(canvas)
    fill = _color(0 if pad_value > 127 else 255, channels)
    for row, (name, box) in enumerate(zip(names, boxes)):
        center = padding + row * cell + (cell - padding) / 2
        top = round(center - (box[1] + box[3]) / 2)
        draw.text((max(padding, 2), top), name, fill=fill, font=font)
    margin_array = np.asarray(canvas).reshape(height, margin, channels)
    return np.concatenate([margin_array, grid], axis=1)


def to_pil(array):
    """Converts an `(H, W)` or `(H, W, C)` image to a Pillow image ("L", "RGB", "RGBA").

    Args:
        array: uint8, or floats in [-1, 1].
    """
    from PIL import Image

    array = to_uint8(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        return Image.fromarray(array, mode="L")
    if array.ndim != 3 or array.shape[-1] not in _MODES:
        raise ValueError(
            "An image must have shape (H, W) or (H, W, C) with C in 1, 3, 4; "
            f"received shape {array.shape}."
        )
    return Image.fromarray(array, mode=_MODES[array.shape[-1]])


def save_image(array, path) -> str:
    """Writes one image (e.g. a `make_grid` grid) to `path`, atomically.

    One channel is saved as grayscale ("L"), three as "RGB", four as
    "RGBA"; the format follows the file extension.

    Args:
        array: `(H, W)` or `(H, W, C)`, uint8 or floats in [-1, 1].
        path: destination; parent directories are created.

    Returns:
        `path`, as a string.

    Example:

    ```python
    save_image(make_grid(gan.generate(64, seed=0)), "samples/grid.png")
    ```
    """
    image = to_pil(array)
    path = os.fspath(path)
    with atomic_path(path) as temporary:
        image.save(temporary)
    return path


VIDEO_FORMATS = (".gif", ".webp", ".mp4")


def save_video(frames, path, fps: float = 12.0, loop: bool = True) -> str:
    """Writes frames (e.g. from `keras_gans.interpolate`) as an animation, atomically.

    `.gif` and `.webp` are written with Pillow; `.mp4` (H.264) needs `imageio` with
    `imageio-ffmpeg` (`pip install imageio imageio-ffmpeg`), and says so when missing.

    Args:
        frames: `(N, H, W, C)` (or a list of `(H, W, C)`), uint8 or floats in [-1, 1].
        path: destination ending in `.gif`, `.webp` or `.mp4`.
        fps: frames per second.
        loop: play forever (GIF/WebP).

    Returns:
        `path`, as a string.

    Example:

    ```python
    frames = keras_gans.interpolate(gan, start=0, end=1, steps=48)
    save_video(frames, "walk.gif", fps=24)
    ```
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in VIDEO_FORMATS:
        raise ValueError(f"`path` must end in one of {VIDEO_FORMATS}; received {path!r}.")
    frames = [to_uint8(frame) for frame in frames]
    if not frames:
        raise ValueError("`frames` is empty; give at least one image.")
    if not float(fps) > 0:
        raise ValueError(f"`fps` must be positive. Received: {fps!r}")
    if extension == ".mp4":
        return _save_mp4(frames, path, fps)
    images = [to_pil(frame) for frame in frames]
    duration = max(1, round(1000.0 / float(fps)))
    options = {"loop": 0} if loop else {}
    with atomic_path(path) as temporary:
        images[0].save(temporary, save_all=True, append_images=images[1:], duration=duration,
                       **options)  # fmt: skip
    return path


def _save_mp4(frames, path, fps):
    try:
        import imageio.v2 as imageio
        import imageio_ffmpeg  # noqa: F401  (the encoder imageio needs for .mp4)
    except ImportError as error:
        raise ImportError(
            "Writing .mp4 needs imageio and imageio-ffmpeg: pip install imageio imageio-ffmpeg "
            "(or save a .gif / .webp, which need nothing more)."
        ) from error
    frames = [np.repeat(f, 3, axis=-1) if f.ndim == 3 and f.shape[-1] == 1 else f for f in frames]
    # H.264 wants even sides: pad by one pixel where needed
    height, width = frames[0].shape[:2]
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    frames = [np.pad(f, pad, mode="edge") for f in frames]
    with atomic_path(path) as temporary:
        with imageio.get_writer(temporary, fps=float(fps), codec="libx264", format="FFMPEG",
                                macro_block_size=1) as writer:  # fmt: skip
            for frame in frames:
                writer.append_data(frame)
    return path

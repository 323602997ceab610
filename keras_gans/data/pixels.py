"""Pixels: the one image-size parser, grey/colour rule, crop/resize rule and [-1, 1] scaling.

Every image keras-gans reads goes through these: built-in arrays (`resize_images`),
folders in memory or streamed and image pairs (`decode_image`).

- Size: an int for square images or `(height, width)` (`parse_image_size`).
- Grey or colour: 1 channel when every image looked at is greyscale, else 3
  (`channels_of`); 16-bit greyscale keeps its top 8 bits, as TensorFlow's decoder does.
- Crop and resize: the largest centred box with the target's aspect ratio
  (`crop_box`), resized with Pillow's bilinear filter (antialiased when shrinking).
- Scale: uint8 `[0, 255]` to float32 `[-1, 1]` (`scale_images`).

Example:

```python
from keras_gans.data import pixels

pixels.parse_image_size(64)                       # (64, 64)
pixels.decode_image("face.jpg", (64, 48), 3)      # uint8 (64, 48, 3), centre-cropped
pixels.scale_images(np.array([0, 255], "uint8"))  # array([-1.,  1.], dtype=float32)
```
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

GRAYSCALE_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


def parse_image_size(image_size) -> tuple[int, int] | None:
    """`(height, width)` from an int or a pair; None stays None.

    Raises:
        ValueError: not a positive int or a pair of positive ints.
    """
    if image_size is None:
        return None
    if type(image_size) is tuple and len(image_size) == 2:  # already parsed: as it is
        height, width = image_size
        if type(height) is int and type(width) is int and min(height, width) >= 1:
            return image_size
    if isinstance(image_size, (int, np.integer)):
        size = (int(image_size), int(image_size))
    else:
        size = tuple(int(d) for d in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"`image_size` must be a positive integer or (height, width). Received: {image_size!r}"
        )
    return size


def channels_of(modes: Iterable[str]) -> int:
    """1 when every Pillow mode in `modes` is greyscale, else 3."""
    return 1 if set(modes) <= GRAYSCALE_MODES else 3


def crop_box(width: int, height: int, image_size) -> tuple[int, int, int, int]:
    """The largest centred box of a `width` x `height` image with the aspect ratio of `image_size`.

    Returns `(left, top, right, bottom)`, the whole image when the ratios already agree.
    """
    target_height, target_width = image_size
    crop_width = min(width, round(height * target_width / target_height))
    crop_height = min(height, round(width * target_height / target_width))
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    return left, top, left + crop_width, top + crop_height


def _crop_and_resize(image, image_size):
    """A Pillow image centre-cropped to the aspect ratio of `image_size`, then resized to it."""
    from PIL import Image

    box = crop_box(*image.size, image_size)
    if box != (0, 0, *image.size):
        image = image.crop(box)  # cropped first: the filter never reads past the box
    return image.resize((image_size[1], image_size[0]), Image.Resampling.BILINEAR)


def scale_images(images) -> np.ndarray:
    """Maps uint8 pixels in [0, 255] to float32 in [-1, 1] (`x / 127.5 - 1`).

    Example:

    ```python
    scale_images(np.array([0, 255], "uint8"))   # array([-1.,  1.], dtype=float32)
    ```
    """
    images = np.asarray(images)
    return (images.astype("float32") / 127.5 - 1.0).astype("float32")


def resize_images(images: np.ndarray, image_size) -> np.ndarray:
    """Resizes `(N, H, W, C)` images: centre-cropped to the target's aspect ratio, then bilinear.

    uint8 images stay uint8; float images are resized per channel in float32
    (and clipped to [-1, 1]). Pillow does the work, so the result is the same on
    every Keras backend.

    Example:

    ```python
    resize_images(np.zeros((2, 8, 8, 1), "float32"), 16).shape   # (2, 16, 16, 1)
    ```
    """
    from PIL import Image

    height, width = parse_image_size(image_size)
    if tuple(images.shape[1:3]) == (height, width):
        return images
    out = np.empty((len(images), height, width, images.shape[-1]), dtype=images.dtype)
    for i, image in enumerate(images):
        if images.dtype == np.uint8:
            pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
            out[i] = np.asarray(_crop_and_resize(pil, (height, width))).reshape(height, width, -1)
        else:
            for c in range(images.shape[-1]):
                pil = Image.fromarray(image[..., c].astype("float32"), mode="F")
                out[i, ..., c] = np.asarray(_crop_and_resize(pil, (height, width)))
    if out.dtype != np.uint8:
        np.clip(out, -1.0, 1.0, out=out)
    return out


def _grey_or_colour(image, channels: int):
    """`image` as Pillow "L" (1 channel) or "RGB" (3); 16-bit greyscale keeps its top 8 bits."""
    from PIL import Image

    if image.mode in _SIXTEEN_BIT_MODES:  # Pillow's own conversion would clip at 255
        top_bits = np.clip(np.asarray(image, dtype="int64"), 0, 65535) >> 8
        image = Image.fromarray(top_bits.astype("uint8"))
    return image.convert("L" if channels == 1 else "RGB")


def model_input(image, shape) -> np.ndarray:
    """A Pillow image as a model input of `shape`, prepared as training images are.

    Grey or colour by the model's channels, centre-cropped to the aspect ratio of
    `(height, width)` and resized (the folder readers' rule), then scaled to [-1, 1].
    `keras-gans translate` and the demo's uploads go through it, so a model sees
    the same preparation at inference as in training.

    Args:
        image: a `PIL.Image.Image` of any size and mode.
        shape: the model's `(height, width, channels)`, with 1 or 3 channels.

    Example:

    ```python
    from PIL import Image
    source = model_input(Image.open("facade.jpg"), model.source_shape)  # float32 in [-1, 1]
    ```
    """
    height, width, channels = shape
    if channels not in (1, 3):
        raise ValueError(
            f"The model takes {channels}-channel images; image files are read as 1 (grey) "
            "or 3 (RGB) channels."
        )
    image = _crop_and_resize(_grey_or_colour(image, channels), (height, width))
    pixels = np.asarray(image, dtype="float32").reshape(height, width, channels)
    return pixels / 127.5 - 1.0


def decode_image(path, image_size=None, channels: int = 3, half: str | None = None) -> np.ndarray:
    """One image file as uint8 `(height, width, channels)`.

    Args:
        path: the image file.
        image_size: `(height, width)` (or an int): centre-crop to its aspect
            ratio and resize; None keeps the image's own size.
        channels: 1 (greyscale) or 3 (RGB).
        half: `"left"` or `"right"` half of a side-by-side image, or None.

    Raises:
        Whatever Pillow raises for a file it cannot decode (OSError, ValueError, ...).
    """
    from PIL import Image

    with Image.open(path) as opened:
        image = _grey_or_colour(opened, channels)  # decodes the whole file
    if half:
        width, height = image.size[0] // 2, image.size[1]
        left = width if half == "right" else 0
        image = image.crop((left, 0, left + width, height))
    size = parse_image_size(image_size)
    if size is not None:
        image = _crop_and_resize(image, size)
    return np.asarray(image, dtype="uint8").reshape(image.size[1], image.size[0], channels)

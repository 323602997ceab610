"""Folders of images streamed batch by batch: decoded, resized and scaled as `fit` asks.

`datasets.load("./folder")` reads a whole folder into memory; `ImageFolderStream`
keeps only the file list (and the labels of class sub-folders) and decodes each
batch when `fit` asks for it, so memory does not grow with the folder. It is a
`keras.utils.PyDataset` and runs on every backend.

- Order: epoch `e` visits the images in a permutation drawn from `(seed, e)` alone,
  the same on every process and after a restart.
- Resuming mid-epoch: `initial_step=s` starts epoch `initial_epoch` at its batch `s`,
  so a restarted run sees the rest of that epoch and no image twice.
- Several processes: with `num_shards=P, shard_index=p` each process decodes only its
  slice `p` of every global batch of `batch_size` images; the slices, stacked in process
  order, are the global batch a single process would see.
- Unreadable files (truncated, not an image) are skipped with a warning and counted in
  `skipped`; the next readable image of the epoch's order takes the place, so batches
  keep their size.

Pixels: converted to grayscale or RGB, center-cropped to the target aspect ratio,
resized with Pillow (bilinear, antialiased), scaled to [-1, 1] float32.

Example:

```python
from keras_gans.streaming import ImageFolderStream

stream = ImageFolderStream("./faces", batch_size=64, image_size=(64, 48), seed=0)
gan.fit(stream, epochs=10, shuffle=False, callbacks=[stream.epoch_setter()])
stream.skipped          # {path: reason} of the files that could not be decoded
```
"""

from __future__ import annotations

import collections
import math
import os
import threading
import warnings

import keras
import numpy as np

from keras_gans import datasets

_GEOMETRY_SAMPLE = 256
_WARNINGS_SHOWN = 10


def _target_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)):
        return int(image_size), int(image_size)
    size = tuple(int(d) for d in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"`image_size` must be a positive integer or (height, width). Received: {image_size!r}"
        )
    return size


def decode_image(path: str, image_size: tuple[int, int], channels: int) -> np.ndarray:
    """One image file as uint8 `(height, width, channels)`, center-cropped and resized.

    Raises whatever Pillow raises for a file it cannot decode (OSError, ValueError, ...).
    """
    from PIL import Image

    height, width = image_size
    with Image.open(path) as opened:
        image = opened.convert("L" if channels == 1 else "RGB")  # decodes the whole file
    source_width, source_height = image.size
    # Crop the largest centered box with the target aspect ratio, then resize.
    crop_width = min(source_width, round(source_height * width / height))
    crop_height = min(source_height, round(source_width * height / width))
    left = (source_width - crop_width) // 2
    top = (source_height - crop_height) // 2
    box = (left, top, left + crop_width, top + crop_height)
    image = image.resize((width, height), Image.Resampling.BILINEAR, box=box)
    return np.asarray(image, dtype="uint8").reshape(height, width, channels)


def _geometry(paths, image_size, channels):
    """Target size and channels from a sample of readable headers."""
    from PIL import Image

    step = max(1, len(paths) // _GEOMETRY_SAMPLE)
    sizes, modes = collections.Counter(), set()
    for path in paths[::step]:
        try:
            with Image.open(path) as image:
                sizes[image.size] += 1
                modes.add(image.mode)
        except Exception:  # counted when its batch is decoded
            continue
    if not sizes:
        raise ValueError(f"None of the {len(paths[::step])} sampled files could be read as images.")
    if image_size is None:
        if len(sizes) > 1:
            found = ", ".join(f"{w}x{h}" for w, h in sizes)
            raise ValueError(
                f"The images have different sizes ({found[:200]}); pass `image_size` "
                "(an int or (height, width)) to resize them all."
            )
        (width, height), _ = sizes.popitem()
        image_size = (height, width)
    if channels is None:
        channels = 1 if modes <= set(datasets._GRAYSCALE_MODES) else 3
    if channels not in (1, 3):
        raise ValueError(f"`channels` must be 1 or 3. Received: {channels!r}")
    return image_size, channels


class ImageFolderStream(keras.utils.PyDataset):
    """A folder of images (class sub-folders give labels) decoded batch by batch.

    Args:
        folder: a folder of images, or of class sub-folders of images.
        batch_size: the global batch: images per step over all processes.
        image_size: int or `(height, width)`; None keeps the images' own size
            (they must all have one).
        channels: 1 or 3; default 1 when the sampled images are all grayscale.
        seed: seed of the per-epoch order.
        initial_epoch: the epoch `fit` starts at.
        initial_step: the batch of `initial_epoch` to start at (a run resumed
            mid-epoch); later epochs start at 0.
        num_shards: processes sharing each global batch (1 on one host).
        shard_index: this process's slice of each global batch (0-based).
        drop_remainder: drop the last, smaller batch of an epoch. Always on when
            `num_shards > 1` (every process must take the same number of steps).
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of
            `keras.utils.PyDataset` (with worker processes, `skipped` stays
            in the workers).

    Attributes:
        paths: the image files, in folder order.
        labels: int32 class ids `(N,)`, or None for a folder without class sub-folders.
        class_names: the class sub-folders, or None.
        image_shape: `(height, width, channels)` of the batches.
        skipped: `{path: reason}` of the files that could not be decoded so far.
        position: `(epoch, step)` of the next batch to train on, for a checkpoint.
    """

    def __init__(
        self,
        folder,
        batch_size: int,
        image_size=None,
        *,
        channels: int | None = None,
        seed: int = 0,
        initial_epoch: int = 0,
        initial_step: int = 0,
        num_shards: int = 1,
        shard_index: int = 0,
        drop_remainder: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.folder = os.fspath(folder)
        self.paths, self.class_names = datasets.scan_folder(self.folder)
        self.labels = None
        if self.class_names is not None:
            index = {name: i for i, name in enumerate(self.class_names)}
            parents = [os.path.relpath(p, self.folder).split(os.sep)[0] for p in self.paths]
            self.labels = np.array([index[name] for name in parents], dtype="int32")
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.num_shards, self.shard_index = int(num_shards), int(shard_index)
        if not 0 <= self.shard_index < self.num_shards:
            raise ValueError(f"`shard_index` must be in [0, {self.num_shards}). Got {shard_index}.")
        if self.batch_size % self.num_shards:
            raise ValueError(
                f"`batch_size` ({batch_size}) is the global batch: it must divide evenly "
                f"between the {num_shards} processes."
            )
        self.drop_remainder = bool(drop_remainder) or self.num_shards > 1
        if self.drop_remainder and len(self.paths) < self.batch_size:
            raise ValueError(
                f"{self.folder!r} holds {len(self.paths)} images: fewer than one batch "
                f"of {self.batch_size}."
            )
        size, self.channels = _geometry(self.paths, _target_size(image_size), channels)
        self.image_size = tuple(int(d) for d in size)
        self.skipped: dict[str, str] = {}
        self._lock = threading.Lock()
        self.initial_epoch, self.initial_step = int(initial_epoch), int(initial_step)
        if not 0 <= self.initial_step < self.steps_per_epoch:
            raise ValueError(
                f"`initial_step` must be in [0, {self.steps_per_epoch}). Got {initial_step}."
            )
        self.set_epoch(self.initial_epoch, self.initial_step)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)

    @property
    def num_classes(self) -> int | None:
        return None if self.class_names is None else len(self.class_names)

    @property
    def steps_per_epoch(self) -> int:
        """Global batches in a whole epoch."""
        count = len(self.paths) / self.batch_size
        return math.floor(count) if self.drop_remainder else math.ceil(count)

    def set_epoch(self, epoch: int, step: int = 0) -> None:
        """Uses the order of epoch `epoch` for the next pass, starting at its batch `step`."""
        self.epoch, self.step = int(epoch), int(step)
        self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.paths))
        self.position = (self.epoch, self.step)

    def __len__(self) -> int:
        return self.steps_per_epoch - self.step

    def rows(self, index: int) -> np.ndarray:
        """Positions in the epoch's order of this process's images of batch `index`."""
        start = (self.step + index) * self.batch_size
        stop = min(start + self.batch_size, len(self.paths))
        per_shard = (stop - start) // self.num_shards
        start += self.shard_index * per_shard
        return np.arange(start, start + per_shard)

    def __getitem__(self, index):
        images, picked = [], []
        for position in self.rows(index):
            image, row = self._decode_from(int(position))
            images.append(image)
            picked.append(row)
        batch = datasets.scale_images(np.stack(images))
        return batch if self.labels is None else (batch, self.labels[picked])

    def _decode_from(self, position: int):
        """The image at `position` of the order, or the next readable one after it."""
        count = len(self.order)
        for offset in range(count):
            row = int(self.order[(position + offset) % count])
            path = self.paths[row]
            if path in self.skipped:
                continue
            try:
                return decode_image(path, self.image_size, self.channels), row
            except Exception as error:  # any decoder failure: skip the file, never stop
                self._skip(path, error)
        raise ValueError(f"No image in {self.folder!r} could be decoded.")

    def _skip(self, path, error) -> None:
        with self._lock:
            self.skipped[path] = f"{type(error).__name__}: {error}"
            count = len(self.skipped)
        if count <= _WARNINGS_SHOWN:
            more = " (further skips are counted silently)" if count == _WARNINGS_SHOWN else ""
            warnings.warn(
                f"Skipped unreadable image {path!r} ({type(error).__name__}: {error}); "
                f"{count} skipped so far{more}. The next image of the epoch takes its place.",
                stacklevel=2,
            )

    def epoch_setter(self) -> keras.callbacks.Callback:
        """A callback that sets the epoch `fit` begins and tracks `position`.

        Pass `shuffle=False` to `fit`. The first epoch begun is `initial_epoch`
        from `initial_step`; every later one starts at step 0. Keras reads the
        number of steps once per `fit`, so a run resumed mid-epoch finishes that
        epoch in one `fit(..., epochs=initial_epoch + 1)` call and trains the
        remaining epochs in a second one (see docs/distributed.md).
        """
        return _StreamEpochs(self)


class _StreamEpochs(keras.callbacks.Callback):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def on_epoch_begin(self, epoch, logs=None):
        stream = self.stream
        resuming = epoch == stream.initial_epoch and stream.initial_step
        stream.set_epoch(epoch, stream.initial_step if resuming else 0)
        if resuming:
            stream.initial_step = 0  # a later fit over the same epoch starts it afresh

    def on_train_batch_end(self, batch, logs=None):
        stream = self.stream
        stream.position = (stream.epoch, stream.step + batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        stream = self.stream
        stream.position = (epoch + 1, 0)
        if stream.skipped:
            warnings.warn(
                f"{len(stream.skipped)} unreadable image(s) in {stream.folder!r} skipped so far.",
                stacklevel=2,
            )


def tf_dataset(stream: ImageFolderStream):
    """The stream as a `tf.data.Dataset` (TensorFlow installed): batches prefetched.

    Decoding stays in the stream (Pillow), so images and order are the same as
    feeding the stream itself; tf.data overlaps decoding with the step.
    """
    import tensorflow as tf

    height, width, channels = stream.image_shape
    images = tf.TensorSpec((None, height, width, channels), tf.float32)
    spec = images if stream.labels is None else (images, tf.TensorSpec((None,), tf.int32))

    def batches():
        for index in range(len(stream)):
            yield stream[index]

    dataset = tf.data.Dataset.from_generator(batches, output_signature=spec)
    return dataset.prefetch(tf.data.AUTOTUNE)

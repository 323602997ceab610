"""Folders of images streamed batch by batch: decoded, resized and scaled as `fit` asks.

`load("./folder")` reads a whole folder into memory; `ImageFolderStream` keeps
only the file list (and the labels of class sub-folders) and decodes each batch
when `fit` asks for it, so memory does not grow with the folder. It is a
`keras.utils.PyDataset` and runs on every backend.

Both read the folder the same way (`keras_gans.data.folders`: which files and
labels, one size, grey or colour, centre crop and bilinear resize) and the
stream visits it in the seeded per-epoch order of `keras_gans.data.order`:
the same on every process and after a restart, sharded over processes,
resumable mid-epoch with `initial_step`.

Unreadable files (truncated, not an image) are skipped with a warning and
counted in `skipped`; the next readable image of the epoch's order takes the
place, so batches keep their size.

Example:

```python
from keras_gans.data import ImageFolderStream

stream = ImageFolderStream("./faces", batch_size=64, image_size=(64, 48), seed=0)
gan.fit(stream, epochs=10, shuffle=False, callbacks=[stream.epoch_setter()])
stream.skipped          # {path: reason} of the files that could not be decoded
```
"""

from __future__ import annotations

import os
import threading
import warnings

import numpy as np

from keras_gans.data import folders, pixels
from keras_gans.data.order import EpochOrder

_WARNINGS_SHOWN = 10


class ImageFolderStream(EpochOrder):
    """A folder of images (class sub-folders give labels) decoded batch by batch.

    Args:
        folder: a folder of images, or of class sub-folders of images.
        batch_size: the global batch: images per step over all processes.
        image_size: int or `(height, width)`; None keeps the images' own size
            (they must all have one).
        channels: 1 or 3; default 1 when the sampled images are all grayscale.
        seed, initial_epoch, initial_step, num_shards, shard_index, drop_remainder:
            the per-epoch order, where to start it (`initial_step` resumes
            `initial_epoch` mid-epoch) and the processes sharing each global
            batch; see `keras_gans.data.order.EpochOrder`.
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
        self.folder = os.fspath(folder)
        self.paths, self.class_names = folders.scan_folder(self.folder)
        self.labels = folders.folder_labels(self.folder, self.paths, self.class_names)
        self.skipped: dict[str, str] = {}
        self._lock = threading.Lock()
        super().__init__(
            len(self.paths),
            batch_size,
            seed,
            initial_epoch=initial_epoch,
            initial_step=initial_step,
            num_shards=num_shards,
            shard_index=shard_index,
            drop_remainder=drop_remainder,
            source=repr(self.folder),
            **kwargs,
        )
        size, self.channels = folders.folder_geometry(
            self.paths, image_size, channels, strict=False
        )
        self.image_size = tuple(int(d) for d in size)

    @property
    def name(self) -> str:
        """The folder, as `ImageData.name` names a loaded dataset."""
        return self.folder

    @property
    def num_images(self) -> int:
        """Images in the folder (`len` is the steps left in the epoch)."""
        return len(self.paths)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)

    @property
    def num_classes(self) -> int | None:
        return None if self.class_names is None else len(self.class_names)

    def decode(self, row: int) -> np.ndarray:
        """The image file `paths[row]` as uint8 at the stream's size and channels."""
        return pixels.decode_image(self.paths[row], self.image_size, self.channels)

    def batch(self, positions):
        images, picked = [], []
        for position in positions:
            image, row = self._decode_from(int(position))
            images.append(image)
            picked.append(row)
        batch = pixels.scale_images(np.stack(images))
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
                return self.decode(row), row
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

    def epoch_ended(self, epoch: int) -> None:
        if self.skipped:
            warnings.warn(
                f"{len(self.skipped)} unreadable image(s) in {self.folder!r} skipped so far.",
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

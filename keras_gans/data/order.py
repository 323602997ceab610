"""The per-epoch order of training images, and each process's share of every global batch.

Written once for arrays in memory (`EpochBatches`) and folders streamed from disk
(`keras_gans.data.ImageFolderStream`):

- Order: epoch `e` visits the images in a permutation drawn from `(seed, e)`
  alone, the same on every backend, every process and after a restart,
  whatever happened to any global random state in between.
- Global batch `b` of epoch `e` is the permutation's `b`-th run of `batch_size`
  images, taken in ascending image order (a gather that reads forward).
- Several processes: with `num_shards=P, shard_index=p` each process takes
  slice `p` of every global batch; the slices, stacked in process order, are
  the global batch one process would see. Every epoch then drops its last,
  smaller batch, so that every process takes the same steps.
- Resuming mid-epoch: `initial_step=s` starts epoch `initial_epoch` at its
  batch `s`, so a restarted run sees the rest of that epoch and no image twice.

Pass `shuffle=False` to `fit` and the batches' `epoch_setter()` as a callback:
Keras also calls `PyDataset.on_epoch_end` after peeking at the first batch, so
the epoch is taken from `fit`'s own count instead.

Example:

```python
batches = EpochBatches(images_uint8, None, batch_size=64, seed=0, initial_epoch=3)
gan.fit(batches, epochs=10, initial_epoch=3, shuffle=False,
        callbacks=[batches.epoch_setter()])
```
"""

from __future__ import annotations

import math

import keras
import numpy as np

from keras_gans.data import pixels


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The generator of epoch `epoch`'s order: drawn from `(seed, epoch)` alone."""
    return np.random.default_rng([int(seed), int(epoch)])


class EpochSetter(keras.callbacks.Callback):
    """Calls `batches.set_epoch(epoch)` as each epoch of `fit` begins (resumed runs included).

    Keras also calls `PyDataset.on_epoch_end` after peeking at the first batch, so
    batches whose order depends on the epoch take it from `fit`'s own count.

    Args:
        batches: anything with `set_epoch(epoch)`.
    """

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)


class EpochOrder(keras.utils.PyDataset):
    """A `PyDataset` of `count` images in the seeded per-epoch order, sharded over processes.

    Subclasses give `batch(positions)`: the batch of the images at those
    positions of the epoch's `order`.

    Args:
        count: how many images an epoch visits.
        batch_size: the global batch: images per step over all processes.
        seed: seed of the per-epoch order.
        initial_epoch: the epoch `fit` starts at.
        initial_step: the batch of `initial_epoch` to start at (a run resumed
            mid-epoch); later epochs start at 0.
        num_shards: processes sharing each global batch (1 on one host).
        shard_index: this process's slice of each global batch (0-based).
        drop_remainder: drop the last, smaller batch of an epoch. Always on when
            `num_shards > 1` (every process must take the same number of steps).
        source: what holds the images, for messages.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of
            `keras.utils.PyDataset`.

    Attributes:
        order: the image rows in the order of the current epoch.
        position: `(epoch, step)` of the next batch to train on, for a checkpoint.
    """

    def __init__(
        self,
        count: int,
        batch_size: int,
        seed: int = 0,
        *,
        initial_epoch: int = 0,
        initial_step: int = 0,
        num_shards: int = 1,
        shard_index: int = 0,
        drop_remainder: bool = False,
        source: str = "The data",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.count, self.batch_size, self.seed = int(count), int(batch_size), int(seed)
        self.num_shards, self.shard_index = int(num_shards), int(shard_index)
        if not 0 <= self.shard_index < self.num_shards:
            raise ValueError(f"`shard_index` must be in [0, {self.num_shards}). Got {shard_index}.")
        if self.batch_size % self.num_shards:
            raise ValueError(
                f"`batch_size` ({batch_size}) is the global batch: it must divide evenly "
                f"between the {num_shards} processes."
            )
        self.drop_remainder = bool(drop_remainder) or self.num_shards > 1
        if self.drop_remainder and self.count < self.batch_size:
            raise ValueError(
                f"{source} holds {self.count} images: fewer than one batch of {self.batch_size}."
            )
        self.initial_epoch, self.initial_step = int(initial_epoch), int(initial_step)
        if not 0 <= self.initial_step < max(1, self.steps_per_epoch):
            raise ValueError(
                f"`initial_step` must be in [0, {self.steps_per_epoch}). Got {initial_step}."
            )
        self.set_epoch(self.initial_epoch, self.initial_step)

    @property
    def steps_per_epoch(self) -> int:
        """Global batches in a whole epoch."""
        count = self.count / self.batch_size
        return math.floor(count) if self.drop_remainder else math.ceil(count)

    def set_epoch(self, epoch: int, step: int = 0) -> None:
        """Uses the order of epoch `epoch` for the next pass, starting at its batch `step`."""
        self.epoch, self.step = int(epoch), int(step)
        self.order = epoch_rng(self.seed, self.epoch).permutation(self.count)
        self.position = (self.epoch, self.step)

    def __len__(self) -> int:
        return self.steps_per_epoch - self.step

    def positions(self, index: int) -> np.ndarray:
        """Positions in the epoch's `order` of this process's images of batch `index`."""
        start = (self.step + index) * self.batch_size
        batch = np.arange(start, min(start + self.batch_size, self.count))
        batch = batch[np.argsort(self.order[batch], kind="stable")]
        per_shard = len(batch) // self.num_shards
        return batch[self.shard_index * per_shard : (self.shard_index + 1) * per_shard]

    def rows(self, index: int) -> np.ndarray:
        """The image rows of this process's share of batch `index`."""
        return self.order[self.positions(index)]

    def __getitem__(self, index):
        return self.batch(self.positions(index))

    def batch(self, positions: np.ndarray):
        raise NotImplementedError

    def epoch_ended(self, epoch: int) -> None:
        """Called by the `epoch_setter()` callback as each epoch of `fit` ends."""

    def epoch_setter(self) -> keras.callbacks.Callback:
        """A callback that sets the epoch `fit` begins and tracks `position`.

        Pass `shuffle=False` to `fit`. The first epoch begun is `initial_epoch`
        from `initial_step`; every later one starts at step 0. Keras reads the
        number of steps once per `fit`, so a run resumed mid-epoch finishes that
        epoch in one `fit(..., epochs=initial_epoch + 1)` call and trains the
        remaining epochs in a second one (see docs/distributed.md).
        """
        return _OrderedEpochs(self)


class _OrderedEpochs(EpochSetter):
    def on_epoch_begin(self, epoch, logs=None):
        batches = self.batches
        resuming = epoch == batches.initial_epoch and batches.initial_step
        batches.set_epoch(epoch, batches.initial_step if resuming else 0)
        if resuming:
            batches.initial_step = 0  # a later fit over the same epoch starts it afresh

    def on_train_batch_end(self, batch, logs=None):
        batches = self.batches
        batches.position = (batches.epoch, batches.step + batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self.batches.position = (epoch + 1, 0)
        self.batches.epoch_ended(epoch)


class EpochBatches(EpochOrder):
    """Batches of uint8 images (and labels) scaled to [-1, 1], in the seeded per-epoch order.

    Args:
        images: uint8 array `(N, H, W, C)`.
        labels: int array `(N,)` or None.
        batch_size: the global batch (the last batch of an epoch may be smaller
            on one process).
        seed: seed of the per-epoch order.
        initial_epoch: the epoch `fit` starts at (a resumed run's).
        num_shards, shard_index, **kwargs: see `EpochOrder`.
    """

    def __init__(self, images, labels, batch_size, seed=0, initial_epoch=0, **kwargs):
        self.images, self.labels = images, labels
        super().__init__(len(images), batch_size, seed, initial_epoch=initial_epoch, **kwargs)

    def batch(self, positions):
        rows = self.order[positions]
        images = pixels.scale_images(self.images[rows])
        return images if self.labels is None else (images, self.labels[rows])

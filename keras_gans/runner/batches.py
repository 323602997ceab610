"""The runner's training data: uint8 images scaled batch by batch, in a seeded per-epoch order.

The order of epoch `e` is a permutation drawn from `(seed, e)` alone, so a run
resumed at epoch `e` sees exactly the batches an uninterrupted run sees, on every
backend, whatever happened to any global random state in between.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from keras_gans import datasets
from keras_gans.data_pairs import EpochSetter


class EpochBatches(keras.utils.PyDataset):
    """Batches of uint8 images (and labels) scaled to [-1, 1], shuffled per epoch from a seed.

    Args:
        images: uint8 array `(N, H, W, C)`.
        labels: int array `(N,)` or None.
        batch_size: images per batch (the last batch may be smaller).
        seed: seed of the shuffling.
        initial_epoch: the epoch `fit` starts at (a resumed run's).
        num_shards: processes sharing each global batch of `batch_size`
            images (1 on one process). With several, each epoch drops its last,
            smaller batch, so that every process takes the same steps.
        shard_index: this process's slice of each global batch.

    Example:

    ```python
    batches = EpochBatches(data.images, None, batch_size=64, seed=0, initial_epoch=3)
    gan.fit(batches, epochs=10, initial_epoch=3, shuffle=False,
            callbacks=[batches.epoch_setter()])
    ```
    """

    def __init__(
        self, images, labels, batch_size, seed=0, initial_epoch=0, num_shards=1, shard_index=0
    ):
        super().__init__()
        self.images, self.labels, self.batch_size = images, labels, int(batch_size)
        self.seed = int(seed)
        self.num_shards, self.shard_index = int(num_shards), int(shard_index)
        if not 0 <= self.shard_index < self.num_shards:
            raise ValueError(f"`shard_index` must be in [0, {self.num_shards}). Got {shard_index}.")
        if self.batch_size % self.num_shards or len(images) < self.batch_size * (num_shards > 1):
            raise ValueError(
                f"The batch size {batch_size} is the global batch: it must divide evenly "
                f"between the {num_shards} processes, and {len(images)} images must fill it."
            )
        self.set_epoch(initial_epoch)

    def set_epoch(self, epoch: int) -> None:
        """Uses the order of epoch `epoch` for the next pass."""
        self.epoch = int(epoch)
        rng = np.random.default_rng([self.seed, self.epoch])
        self.order = rng.permutation(len(self.images))

    def __len__(self):
        batches = len(self.images) / self.batch_size
        return math.floor(batches) if self.num_shards > 1 else math.ceil(batches)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        per_shard = len(rows) // self.num_shards
        rows = np.sort(rows[self.shard_index * per_shard : (self.shard_index + 1) * per_shard])
        images = datasets.scale_images(self.images[rows])
        return images if self.labels is None else (images, self.labels[rows])

    def epoch_setter(self) -> keras.callbacks.Callback:
        """A callback that tells this dataset which epoch begins (resumed runs included).

        Keras also calls `PyDataset.on_epoch_end` after peeking at the first batch,
        so the epoch is set from `fit`'s own count instead. Pass `shuffle=False` to
        `fit`: the order within an epoch is this dataset's.
        """
        return EpochSetter(self)

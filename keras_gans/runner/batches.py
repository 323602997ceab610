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


class EpochBatches(keras.utils.PyDataset):
    """Batches of uint8 images (and labels) scaled to [-1, 1], shuffled per epoch from a seed.

    Args:
        images: uint8 array `(N, H, W, C)`.
        labels: int array `(N,)` or None.
        batch_size: images per batch (the last batch may be smaller).
        seed: seed of the shuffling.
        initial_epoch: the epoch `fit` starts at (a resumed run's).

    Example:

    ```python
    batches = EpochBatches(data.images, None, batch_size=64, seed=0, initial_epoch=3)
    gan.fit(batches, epochs=10, initial_epoch=3, shuffle=False,
            callbacks=[batches.epoch_setter()])
    ```
    """

    def __init__(self, images, labels, batch_size, seed=0, initial_epoch=0):
        super().__init__()
        self.images, self.labels, self.batch_size = images, labels, int(batch_size)
        self.seed = int(seed)
        self.set_epoch(initial_epoch)

    def set_epoch(self, epoch: int) -> None:
        """Uses the order of epoch `epoch` for the next pass."""
        self.epoch = int(epoch)
        rng = np.random.default_rng([self.seed, self.epoch])
        self.order = rng.permutation(len(self.images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = np.sort(self.order[index * self.batch_size : (index + 1) * self.batch_size])
        images = datasets.scale_images(self.images[rows])
        return images if self.labels is None else (images, self.labels[rows])

    def epoch_setter(self) -> keras.callbacks.Callback:
        """A callback that tells this dataset which epoch begins (resumed runs included).

        Keras also calls `PyDataset.on_epoch_end` after peeking at the first batch,
        so the epoch is set from `fit`'s own count instead. Pass `shuffle=False` to
        `fit`: the order within an epoch is this dataset's.
        """
        return _SetEpoch(self)


class _SetEpoch(keras.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)

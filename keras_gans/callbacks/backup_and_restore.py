"""`BackupAndRestore` that resumes mid-epoch without training a batch twice."""

from __future__ import annotations

import os
import sys

import keras
import numpy as np

from keras_gans.utils import files


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """Backs up the training state and resumes exactly where it stopped, mid-epoch included.

    Keras' own callback with `save_freq=N` restores the weights of the last
    save but restarts that epoch from its first batch, so the batches between
    the epoch's start and the save are trained twice. This one records how
    many batches of the epoch were trained and has the model pass over them
    (they are drawn, so the data order carries on, but not trained). It also
    saves the global random states that choose the data order (NumPy's, which
    Keras uses to shuffle arrays on JAX, and torch's, which its `DataLoader`
    uses) as they were when the epoch began, so `fit(..., shuffle=True)` on
    arrays resumes with the same permutation.

    What is exact: on JAX and TensorFlow, a run killed after any backup and
    resumed ends with the weights of an uninterrupted run (given the same
    `fit` arguments and a seeded model). On torch the order is restored, but
    Keras' torch dropout draws from torch's global generator, which the skipped
    batches did not advance, so models with dropout differ slightly.

    Weights and metadata are written to temporary files and renamed, the
    previous backup kept beside (`double_checkpoint`); if the two files of a
    backup come from different saves after a kill, the model's step counter
    (`optimizer.iterations`, restored with the weights) says by how many steps,
    and the position is corrected by that.

    Args:
        backup_dir: folder of the backup, used by this callback only.
        save_freq: `"epoch"`, or back up every this many batches.
        double_checkpoint: keep the previous backup too, used if the latest
            one cannot be read.
        delete_checkpoint: delete the backup when `fit` ends.

    Example:

    ```python
    backup = keras_gans.callbacks.BackupAndRestore("backup", save_freq=100)
    gan.fit(images, epochs=20, callbacks=[backup])  # killed at any step? run it again
    ```
    """

    def __init__(
        self, backup_dir, save_freq="epoch", double_checkpoint=True, delete_checkpoint=True
    ):
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(
                "`save_freq` must be 'epoch' or a positive number of batches. "
                f"Received: {save_freq!r}"
            )
        super().__init__(
            backup_dir,
            save_freq=save_freq,
            double_checkpoint=double_checkpoint,
            delete_checkpoint=delete_checkpoint,
        )
        self._epoch = 0
        self._batches_done = 0
        self._random_states = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # weights, optimizer and `initial_epoch`
        metadata = files.read_json(self._training_metadata_path) if self._has_metadata() else {}
        if not metadata:
            return
        epoch, batches_done = self._position(metadata)
        self.model._initial_epoch = epoch
        self.model.steps_to_skip = batches_done
        _set_random_states(metadata.get("random_states"))

    def _has_metadata(self):
        return os.path.exists(self._training_metadata_path)

    def _position(self, metadata):
        """`(epoch, batches done in it)` of the restored weights."""
        epoch = int(metadata.get("epoch", 0))
        batches_done = int(metadata.get("batches_done", 0))
        saved_steps = metadata.get("iterations")
        steps_per_epoch = self.params.get("steps") if self.params else None
        if saved_steps is None or not steps_per_epoch:
            return epoch, batches_done
        # Weights from one save and metadata from another (a kill between the two
        # renames): the restored step counter says how far the weights really are.
        behind = _iterations(self.model) - int(saved_steps)
        position = epoch * steps_per_epoch + batches_done + behind
        return divmod(max(position, 0), steps_per_epoch)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._batches_done = 0
        self._random_states = _random_states()

    def on_train_batch_end(self, batch, logs=None):
        self._batches_done = batch + 1
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._batches_done = 0
        self._random_states = _random_states()  # what draws the next epoch's order
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            os.replace(self._weights_path, self._prev_weights_path)
            if os.path.exists(self._training_metadata_path):
                os.replace(self._training_metadata_path, self._prev_training_metadata_path)
        epoch, batches_done = self._epoch, self._batches_done
        steps_per_epoch = self.params.get("steps") if self.params else None
        if steps_per_epoch and batches_done >= steps_per_epoch:
            epoch, batches_done = epoch + 1, 0  # the epoch's last batch: the next one starts fresh
        with files.atomic_path(self._weights_path) as temporary:
            self.model.save_weights(temporary, overwrite=True)
        metadata = {
            "epoch": epoch,
            "batches_done": batches_done,
            "iterations": _iterations(self.model),
            "random_states": self._random_states,
        }
        files.write_json(self._training_metadata_path, metadata)


def _iterations(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return 0
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def _random_states():
    """NumPy's global random state (and torch's, if loaded) as JSON-able values."""
    name, keys, position, has_gauss, cached = np.random.get_state()
    states = {"numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached)]}
    torch = sys.modules.get("torch")
    if torch is not None:
        states["torch"] = torch.get_rng_state().tolist()
    return states


def _set_random_states(states):
    if not states:
        return
    name, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    torch = sys.modules.get("torch")
    if torch is not None and "torch" in states:
        torch.set_rng_state(torch.tensor(states["torch"], dtype=torch.uint8))

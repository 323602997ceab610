"""`BackupAndRestore` that resumes mid-epoch without training a batch twice."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

import h5py
import keras
import numpy as np

from keras_gans.utils import files

# The root attribute of a backup's weights file that holds its position.
_POSITION_ATTRIBUTE = "keras_gans_position"


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

    Each backup is one weights file that also holds its position (epoch,
    batches done, step count, random states), written to a temporary file and
    renamed, so a kill at any instant leaves complete backups only; the
    previous one is kept beside (`double_checkpoint`) and used when the latest
    is missing or unreadable. `training_metadata.json` repeats the position
    for Keras and for people; for a weights file without a position of its own
    (one Keras' callback wrote) it is used, corrected by the restored step
    counter (`optimizer.iterations`) when the two come from different saves,
    and without it the step counter alone places the weights (epochs of equal
    steps since the model's first step; the random states are then not known).

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
        restored = restore_backup(self.model, self.backup_dir)
        if restored is None:
            return
        path, metadata = restored
        epoch, batches_done = self._position(path, metadata)
        self.model._initial_epoch = epoch
        self.model.steps_to_skip = batches_done
        _set_random_states((metadata or {}).get("random_states"))

    def _position(self, path, metadata):
        """`(epoch, batches done in it)` of the weights restored from `path`."""
        steps_per_epoch = self.params.get("steps") if self.params else None
        if metadata is None:
            json_path = self._training_metadata_path
            if path == self._prev_weights_path:
                json_path = self._prev_training_metadata_path
            metadata = files.read_json(json_path) if os.path.exists(json_path) else None
        if metadata is None:
            # No position at all: the step counter says how many steps the weights trained.
            if not steps_per_epoch:
                return 0, 0
            return divmod(_iterations(self.model), steps_per_epoch)
        epoch = int(metadata.get("epoch", 0))
        batches_done = int(metadata.get("batches_done", 0))
        saved_steps = metadata.get("iterations")
        if saved_steps is None or not steps_per_epoch:
            return epoch, batches_done
        # Weights from one save and metadata from another (a kill between the two
        # renames of Keras' own layout): the restored step counter says how far the
        # weights really are.
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
        metadata = {
            "epoch": epoch,
            "batches_done": batches_done,
            "iterations": _iterations(self.model),
            "random_states": self._random_states,
        }
        with files.atomic_path(self._weights_path) as temporary:
            self.model.save_weights(temporary, overwrite=True)
            with h5py.File(temporary, "a") as written:
                written.attrs[_POSITION_ATTRIBUTE] = json.dumps(metadata)
        files.write_json(self._training_metadata_path, metadata)


def backup_position(backup_dir) -> dict | None:
    """The position of the backup in `backup_dir` that `BackupAndRestore` would restore.

    Reads the newest weights file that opens (the latest, else the previous
    one) without loading it.

    Returns:
        `{"epoch": e, "batches_done": b, "iterations": n, ...}` (`e` epochs and
        `b` batches of the next one trained), or None without a readable backup.
        A weights file without a position of its own gets that of
        `training_metadata.json` beside it, or `{"epoch": 0, "batches_done": 0}`.
    """
    for weights, metadata_path in _generations(backup_dir):
        if not os.path.exists(weights):
            continue
        try:
            metadata = _embedded_position(weights)
        except OSError:
            continue  # unreadable: the previous generation is restored instead
        if metadata is None and os.path.exists(metadata_path):
            metadata = files.read_json(metadata_path)
        return metadata or {"epoch": 0, "batches_done": 0}
    return None


def restore_backup(model, backup_dir):
    """Loads the newest readable backup of `backup_dir` into `model`.

    Returns:
        `(weights path, position or None)`, or None when there is no backup.

    Raises:
        OSError or ValueError: no backup file could be read.
    """
    if not model.built:
        raise ValueError(
            "To use the BackupAndRestore callback, the model must be built before `fit()`."
        )
    error = None
    for weights, _ in _generations(backup_dir):
        if not os.path.exists(weights):
            continue
        try:
            metadata = _embedded_position(weights)
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and not optimizer.built:
                optimizer.build(model.trainable_variables)  # its variables must exist first
            _load_weights(model, weights)
        except (OSError, ValueError) as failure:
            error = failure
            continue
        return weights, metadata
    if error is not None:
        raise error
    return None


def _generations(backup_dir):
    """`(weights, metadata)` paths of the latest backup, then of the previous one."""
    weights = os.path.join(os.fspath(backup_dir), "latest.weights.h5")
    metadata = os.path.join(os.fspath(backup_dir), "training_metadata.json")
    return [(weights, metadata), (weights + ".bkp", metadata + ".bkp")]


def _embedded_position(weights):
    with h5py.File(weights, "r") as file:
        text = file.attrs.get(_POSITION_ATTRIBUTE)
    return None if text is None else json.loads(text)


def _load_weights(model, weights):
    if weights.endswith(".weights.h5"):
        model.load_weights(weights)
        return
    # Keras reads weights files by their name's ending: the previous generation
    # (`.weights.h5.bkp`) is read through a correctly named link.
    with tempfile.TemporaryDirectory(prefix="keras-gans-backup-") as folder:
        link = os.path.join(folder, "previous.weights.h5")
        try:
            os.symlink(os.path.abspath(weights), link)
        except OSError:
            shutil.copyfile(weights, link)
        model.load_weights(link)


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

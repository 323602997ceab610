"""Callbacks the runner adds to every run: metrics CSV, timing, safe backups, learning rates.

The divergence guard is the public `keras_gans.callbacks.DivergenceGuard`.
"""

from __future__ import annotations

import csv
import math
import os
import time

import keras
import numpy as np

from keras_gans.callbacks.backup_and_restore import BackupAndRestore


class MetricsCSV(keras.callbacks.Callback):
    """One CSV row per epoch under a fixed header, consistent across resumed runs.

    The columns are fixed when the file is created (`epoch`, the given `keys`,
    then any other logged key of the first epoch); a resumed run appends under
    the header it finds, leaving a key it does not log empty. Each row is
    flushed and fsynced, so a killed run keeps every finished epoch.

    Args:
        path: the CSV file.
        keys: columns to have even if the first epoch does not log them (FID).
    """

    def __init__(self, path, keys=()):
        super().__init__()
        self.path = os.fspath(path)
        self.keys = tuple(keys)
        self.columns = read_header(self.path)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.columns is None:
            self.columns = ["epoch", *self.keys, *sorted(set(logs) - set(self.keys))]
            with open(self.path, "w", newline="") as file:
                csv.writer(file).writerow(self.columns)
        cells = [str(epoch) if key == "epoch" else _cell(logs.get(key)) for key in self.columns]
        with open(self.path, "a", newline="") as file:
            csv.writer(file).writerow(cells)
            file.flush()
            os.fsync(file.fileno())


def read_header(path):
    """The header of a CSV file, or None if it is missing or empty."""
    if not os.path.exists(path):
        return None
    with open(path, newline="") as file:
        header = next(csv.reader(file), None)
    return header or None


def _cell(value):
    if value is None:
        return ""
    value = float(np.asarray(value))
    return repr(value) if math.isfinite(value) else str(value)


class EpochTimer(keras.callbacks.Callback):
    """Seconds spent in the training steps, without the epoch-end grids and metrics."""

    def __init__(self):
        super().__init__()
        self.seconds = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start


def weights_are_finite(model) -> bool:
    """Whether every weight of `model` is finite (NaN/inf weights are never saved)."""
    return all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights)


class SafeBackupAndRestore(BackupAndRestore):
    """`BackupAndRestore` that never backs up a diverged model and keeps its backup at the end.

    The runner deletes the backup itself once the final model file is in place,
    so a kill at any instant leaves either the backup or the finished model.

    Args:
        backup_dir: the run's `backup/` folder.
        guard: the run's `keras_gans.callbacks.DivergenceGuard`; nothing is backed up
            once it fired.
        save_freq: `"epoch"` or a number of steps (backups happen after each
            epoch either way).
    """

    def __init__(self, backup_dir, guard=None, save_freq="epoch"):
        super().__init__(backup_dir, save_freq, double_checkpoint=True, delete_checkpoint=False)
        self.guard = guard

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.save_freq != "epoch":
            self._save_model()  # the epoch's end is a backup point too

    def _save_model(self):
        if self.guard is not None and self.guard.diverged_at is not None:
            return
        if not weights_are_finite(self.model):
            return
        super()._save_model()


class LearningRateScale(keras.callbacks.Callback):
    """Multiplies every optimizer's learning rate once, after a resumed state is restored.

    Args:
        scale: the factor, e.g. 0.1 to carry on a diverged run more gently.
    """

    def __init__(self, scale):
        super().__init__()
        self.scale = float(scale)

    def on_train_begin(self, logs=None):
        # model.optimizer is the NetworkOptimizers of every family: one optimizer per network
        for optimizer in self.model.optimizer.optimizers:
            rate = optimizer.learning_rate
            if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
                raise ValueError("lr_scale cannot scale a learning-rate schedule.")
            optimizer.learning_rate = float(keras.ops.convert_to_numpy(rate)) * self.scale


class RenameLogs(keras.callbacks.Callback):
    """Renames epoch-log keys in place for the callbacks after it (`fid` -> `fd_digits`).

    Args:
        names: `{logged name: published name}`.
    """

    def __init__(self, names):
        super().__init__()
        self.names = dict(names)

    def on_epoch_end(self, epoch, logs=None):
        for old, new in self.names.items():
            if logs is not None and old in logs:
                logs[new] = logs.pop(old)

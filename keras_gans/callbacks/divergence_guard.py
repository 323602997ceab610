"""`DivergenceGuard`: stop `fit` at a non-finite or exploding loss, keep the last good weights."""

from __future__ import annotations

import math

import keras
import numpy as np


class DivergenceGuard(keras.callbacks.Callback):
    """Stops `fit` at the first non-finite or exploding loss and restores the last good weights.

    Keras' `TerminateOnNaN` stops only on NaN/inf, leaves the model with the
    weights that produced them, and never fires on a GAN whose losses explode
    to large finite values (1e24). This callback checks every monitored loss
    after each step; at the first one that is NaN, infinite or above
    `max_loss` in absolute value, it stops `fit` and puts back the model's and
    its optimizers' variables (Adam's moments, the step count) as they were at
    the last copy it kept: a copy (in host memory) is taken when `fit` starts
    and at each epoch's end (or every `keep_every` batches) while no loss has
    diverged, and kept only if every value in it is finite.

    Put it first in `callbacks`: the callbacks after it (`ModelCheckpoint`,
    `BackupAndRestore`, image grids) then see the restored weights at the step
    it stops, never the diverged ones.

    Args:
        max_loss: a monitored loss whose absolute value exceeds this counts as
            divergence (the CLI's `--max-loss`); None: only NaN/inf.
        monitor: names of the logged values to watch; default every logged
            value whose name ends in `loss` (`d_loss`, `g_loss`, `loss`).
        restore: put the last good weights back when it stops.
        keep_every: `"epoch"`, or take a copy every this many batch ends.

    Attributes:
        diverged_at: `{"epoch": e, "step": s, "loss": name, "value": v}`
            (1-based epoch and step) once it stopped `fit`, else None.
        restored_step: the optimizer's step count of the restored weights, or
            None when nothing was restored.

    Example:

    ```python
    guard = keras_gans.callbacks.DivergenceGuard(max_loss=1e6)
    gan.fit(images, epochs=20, callbacks=[guard, keras.callbacks.ModelCheckpoint("gan.keras")])
    guard.diverged_at  # None, or where it stopped; the model holds finite weights either way
    ```
    """

    def __init__(
        self, max_loss: float | None = 1e6, monitor=None, restore=True, keep_every="epoch"
    ):
        super().__init__()
        if max_loss is not None and not float(max_loss) > 0:
            raise ValueError(f"`max_loss` must be a positive number or None. Got {max_loss!r}")
        if keep_every != "epoch" and (
            isinstance(keep_every, bool) or not isinstance(keep_every, int) or keep_every < 1
        ):
            raise ValueError(
                f"`keep_every` must be 'epoch' or a positive number of batches. Received: "
                f"{keep_every!r}"
            )
        self.max_loss = None if max_loss is None else float(max_loss)
        self.monitor = None if monitor is None else tuple(monitor)
        self.restore = bool(restore)
        self.keep_every = keep_every
        self.diverged_at = None
        self.restored_step = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.diverged_at = None
        self.restored_step = None
        self._batch_ends = 0
        self._good = self._copy() if self.restore else None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.diverged_at is not None:
            return
        bad = self._first_bad_loss(logs or {})
        if bad is not None:
            name, value = bad
            self.diverged_at = {
                "epoch": self._epoch + 1,
                "step": batch + 1,
                "loss": name,
                "value": value if math.isfinite(value) else str(value),
            }
            self.model.stop_training = True
            if self.restore:
                self._put_back(self._good)
            return
        self._batch_ends += 1
        if self.restore and self.keep_every != "epoch" and self._batch_ends % self.keep_every == 0:
            self._keep()

    def on_epoch_end(self, epoch, logs=None):
        if self.restore and self.diverged_at is None and self.keep_every == "epoch":
            self._keep()

    def _keep(self):
        copy = self._copy()
        if copy is not None:
            self._good = copy

    def _first_bad_loss(self, logs):
        names = self.monitor or [name for name in logs if name.endswith("loss")]
        for name in names:
            if name not in logs:
                continue
            value = float(np.asarray(logs[name]))
            exploded = self.max_loss is not None and abs(value) > self.max_loss
            if not math.isfinite(value) or exploded:
                return name, value
        return None

    def _variables(self):
        model = self.model  # on JAX, reading `model` hands the training state back to it
        variables = list(model.weights)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            if not optimizer.built:  # its slots must exist before the first copy
                optimizer.build(model.trainable_variables)
            variables += list(optimizer.variables)
        return list({id(variable): variable for variable in variables}.values())

    def _copy(self):
        """`(variable, value)` pairs, or None if a value is NaN/inf (never a good state)."""
        copy = [(v, np.array(keras.ops.convert_to_numpy(v))) for v in self._variables()]
        for _, value in copy:
            if value.dtype.kind not in "biu" and not np.isfinite(value.astype("float32")).all():
                return None
        return copy

    def _put_back(self, copy):
        if copy is None:
            return
        self._variables()  # on JAX, the training state must be back in the variables first
        for variable, value in copy:
            variable.assign(value)
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            self.restored_step = int(keras.ops.convert_to_numpy(optimizer.iterations))

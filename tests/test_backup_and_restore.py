"""keras_gans.callbacks.BackupAndRestore: resuming mid-epoch trains no batch twice (issue 16)."""

import json

import keras
import numpy as np
import pytest

from keras_gans import runner
from keras_gans.callbacks import BackupAndRestore
from tests import helpers

BACKEND = keras.backend.backend()
STEPS_PER_EPOCH, EPOCHS = 8, 3


class InterruptAt(keras.callbacks.Callback):
    """Raises as if killed when batch `batch` of epoch `epoch` begins."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self._epoch = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self._epoch, batch) == (self.epoch, self.batch):
            raise KeyboardInterrupt


def _assert_same(a, b):
    for x, y in zip(a, b, strict=True):
        if BACKEND == "torch":
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(x, y)


def _train(images, callbacks):
    """A fresh seeded GAN trained on `images` with `fit`'s default shuffling."""
    keras.utils.set_random_seed(0)  # as a new process would
    gan = helpers.make_model("GAN", seed=0)
    gan.compile()
    gan.fit(
        images,
        batch_size=len(images) // STEPS_PER_EPOCH,
        epochs=EPOCHS,
        callbacks=callbacks,
        verbose=0,
    )
    return gan


def _steps(gan):
    return int(keras.ops.convert_to_numpy(gan.optimizer.iterations))


def test_fit_resumed_mid_epoch_trains_each_batch_once(tmp_path):
    images = helpers.training_data(helpers.make_model("GAN"), num_images=64)
    whole = _train(images, [])
    backup = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        _train(images, [BackupAndRestore(backup, save_freq=3), InterruptAt(1, 5)])
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert (metadata["epoch"], metadata["batches_done"], metadata["iterations"]) == (1, 4, 12)
    resumed = _train(images, [BackupAndRestore(backup, save_freq=3)])
    assert _steps(resumed) == _steps(whole) == EPOCHS * STEPS_PER_EPOCH
    _assert_same(helpers.weights_of(resumed), helpers.weights_of(whole))
    assert not (tmp_path / "backup").exists()  # deleted once fit ends, as Keras does


def test_weights_newer_than_the_metadata_move_the_position(tmp_path):
    images = helpers.training_data(helpers.make_model("GAN"), num_images=64)
    whole = _train(images, [])
    backup = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        _train(images, [BackupAndRestore(str(backup), save_freq=2), InterruptAt(1, 7)])
    # A kill between the two renames of a save: the new weights, the old metadata.
    metadata_path = backup / "training_metadata.json"
    newest = json.loads(metadata_path.read_text())
    previous = json.loads((backup / "training_metadata.json.bkp").read_text())
    assert newest["iterations"] - previous["iterations"] == 2
    metadata_path.write_text(json.dumps(previous))
    resumed = _train(images, [BackupAndRestore(str(backup), save_freq=2)])
    assert _steps(resumed) == EPOCHS * STEPS_PER_EPOCH
    _assert_same(helpers.weights_of(resumed), helpers.weights_of(whole))


def test_save_freq_must_be_a_positive_number_of_batches(tmp_path):
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="save_freq"):
            BackupAndRestore(str(tmp_path), save_freq=bad)


def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_weights(tmp_path):
    tiny = dict(max_images=128, batch_size=32, evaluate=False, verbose=0)  # 4 steps per epoch
    whole = tmp_path / "whole"
    runner.train("gan.digits", whole, epochs=3, **tiny)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        runner.train(
            "gan.digits", out, epochs=3, backup_every=1, callbacks=[InterruptAt(1, 2)], **tiny
        )
    run = json.loads((out / "run.json").read_text())
    assert run["options"]["backup_every"] == 1 and run["epochs_done"] == 1
    resumed = runner.train("gan.digits", out, epochs=3, **tiny)  # backup_every kept
    assert resumed["status"] == "finished"
    model = keras.saving.load_model(out / "model.keras")
    assert _steps(model) == 3 * 4
    expected = keras.saving.load_model(whole / "model.keras")
    _assert_same(helpers.weights_of(model), helpers.weights_of(expected))

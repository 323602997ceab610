"""keras_gans.callbacks.BackupAndRestore: a kill at any instant of a save resumes exactly (#30).

A save rotates the latest backup to `.bkp`, then writes the new weights file (which
holds its own position) and `training_metadata.json`. Each test leaves the backup
folder as a kill at one instant of that would, then resumes.
"""

import os

import h5py
import keras
import numpy as np
import pytest

from keras_gans.callbacks import BackupAndRestore, backup_and_restore
from tests import helpers

STEPS_PER_EPOCH, EPOCHS = 8, 3


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self._epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self._epoch, batch) == self.at:
            raise KeyboardInterrupt


def _train(images, callbacks):
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


@pytest.fixture(scope="module")
def images():
    return helpers.training_data(helpers.make_model("GAN"), num_images=64)


@pytest.fixture(scope="module")
def uninterrupted(images):
    return helpers.weights_of(_train(images, []))


def _first_backup_without_its_json(backup):
    os.remove(backup / "training_metadata.json")  # killed before the JSON of the first save


def _weights_without_any_position(backup):
    for name in ("latest.weights.h5", "latest.weights.h5.bkp"):
        with h5py.File(backup / name, "a") as file:
            del file.attrs[backup_and_restore._POSITION_ATTRIBUTE]  # as Keras' callback writes
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        os.remove(backup / name)


def _killed_between_rotating_renames(backup):
    os.replace(backup / "latest.weights.h5", backup / "latest.weights.h5.bkp")


def _latest_weights_damaged(backup):
    path = backup / "latest.weights.h5"
    path.write_bytes(path.read_bytes()[:2000])


# Backups every 3 steps; interrupted at step 5 (after the backup of step 3) or at step 12
# (after those of steps 3, 6 and 9). Positions are (epochs done, batches of the next one).
CASES = {
    "killed before the JSON of the first backup": (_first_backup_without_its_json, (0, 4), (0, 3)),
    "weights without any position (Keras' own)": (_weights_without_any_position, (1, 3), None),
    "killed between the two renames that rotate": (
        _killed_between_rotating_renames,
        (1, 3),
        (1, 1),
    ),
    "latest weights damaged: the previous one": (_latest_weights_damaged, (1, 3), (0, 6)),
}


@pytest.mark.parametrize("case", CASES)
def test_a_kill_at_any_instant_of_a_save_resumes_to_the_uninterrupted_weights(
    tmp_path, images, uninterrupted, case
):
    damage, interrupt_at, position = CASES[case]
    backup = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        _train(images, [BackupAndRestore(str(backup), save_freq=3), InterruptAt(*interrupt_at)])
    damage(backup)
    if position is not None:  # what the runner counts as trained (run.json, metrics.csv)
        found = backup_and_restore.backup_position(backup)
        assert (found["epoch"], found["batches_done"]) == position
    resumed = _train(images, [BackupAndRestore(str(backup), save_freq=3)])
    assert _steps(resumed) == EPOCHS * STEPS_PER_EPOCH  # no batch trained twice or skipped
    if position is None:
        return  # placed by its step count alone: the shuffled order it resumed in is fit's own
    for x, y in zip(helpers.weights_of(resumed), uninterrupted, strict=True):
        if helpers.BACKEND == "torch":
            np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
        else:
            np.testing.assert_array_equal(x, y)

"""Keras' own callbacks and options keep working with keras-gans models."""

import glob
import json
import os

import keras
import numpy as np
import pytest

import keras_gans
from tests import helpers


def _compiled(name="DCGAN", **kwargs):
    model = helpers.make_model(name, **kwargs)
    model.compile()
    return model


class _CrashAt(keras.callbacks.Callback):
    """Raises in the middle of epoch `epoch` (after `batch` batches), like a killed job."""

    def __init__(self, epoch, batch=0):
        super().__init__()
        self.epoch, self.batch = epoch, batch
        self.current_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.current_epoch == self.epoch and batch == self.batch:
            raise RuntimeError("simulated crash")


class _RecordWeights(keras.callbacks.Callback):
    def __init__(self, at_epoch_end=None):
        super().__init__()
        self.at_epoch_end = at_epoch_end
        self.weights = None

    def on_train_begin(self, logs=None):
        if self.at_epoch_end is None:
            self.weights = [np.array(w) for w in self.model.weights]

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch_end:
            self.model._sync_training_state()
            self.weights = [np.array(w) for w in self.model.weights]


def test_backup_and_restore_resumes_with_nothing_lost(tmp_path, digits):
    images = digits[0][:64]
    fit_args = dict(batch_size=16, epochs=4, shuffle=False, verbose=0)

    keras.utils.set_random_seed(3)
    reference = _compiled()
    after_two_epochs = _RecordWeights(at_epoch_end=1)
    reference.fit(images, callbacks=[after_two_epochs], **fit_args)

    keras.utils.set_random_seed(3)
    model = _compiled()
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        model.fit(images, callbacks=[backup, _CrashAt(epoch=2, batch=2)], **fit_args)

    # A new process would rebuild the model from scratch: do the same.
    keras.utils.set_random_seed(99)
    resumed = _compiled()
    at_restart = _RecordWeights()
    history = resumed.fit(images, callbacks=[backup, at_restart], **fit_args)
    assert len(history.history["d_loss"]) == 2  # epochs 3 and 4 only
    # Training restarted from exactly the state saved after epoch 2.
    for want, got, variable in zip(after_two_epochs.weights, at_restart.weights, resumed.weights):
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=variable.path)
    assert int(resumed.g_optimizer.iterations) == int(reference.g_optimizer.iterations) == 16
    np.testing.assert_allclose(
        np.array(reference.seed_generator.state), np.array(resumed.seed_generator.state)
    )
    if helpers.BACKEND == "torch":
        # Keras' torch dropout draws from torch's global RNG (a seeded mask is
        # 3x slower), so the dropout masks after a restart differ there.
        return
    # Same noise and dropout draws too: the run ends exactly where an
    # uninterrupted one does.
    for a, b in zip(reference.weights, resumed.weights):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5, err_msg=a.path)


def test_backup_mid_epoch_keeps_the_batches_already_trained(tmp_path):
    model = _compiled()
    data = helpers.training_data(model, 64)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"), save_freq=2)
    with pytest.raises(RuntimeError):
        model.fit(data, batch_size=16, epochs=2, callbacks=[backup, _CrashAt(1, 3)], verbose=0)
    resumed = _compiled()
    resumed.fit(data, batch_size=16, epochs=2, callbacks=[backup], verbose=0)
    # Weights of the crashed run's last backup (epoch 1, batch 2) were restored,
    # so the second epoch was trained on top of the first: 8 updates in all.
    assert int(resumed.g_optimizer.iterations) >= 8


def test_model_checkpoint_writes_loadable_models(tmp_path):
    model = _compiled("ConditionalGAN")
    path = str(tmp_path / "ckpt-{epoch:02d}.keras")
    model.fit(
        helpers.training_data(model),
        batch_size=16,
        epochs=2,
        callbacks=[keras.callbacks.ModelCheckpoint(path, monitor="g_loss", mode="min")],
        verbose=0,
    )
    files = sorted(glob.glob(str(tmp_path / "ckpt-*.keras")))
    assert len(files) == 2
    loaded = keras.saving.load_model(files[-1])
    np.testing.assert_allclose(
        helpers.generate_some(loaded), helpers.generate_some(model), atol=1e-6
    )


def test_tensorboard_logs_gan_scalars(tmp_path):
    model = _compiled()
    model.fit(
        helpers.training_data(model),
        batch_size=16,
        epochs=1,
        callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "tb"))],
        verbose=0,
    )
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path / "tb" / "train"))
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"]) | set(accumulator.Tags()["scalars"])
    assert {"epoch_d_loss", "epoch_g_loss"} <= tags


def test_early_stopping_on_a_gan_metric():
    model = _compiled()
    history = model.fit(
        helpers.training_data(model, 32),
        batch_size=16,
        epochs=20,
        callbacks=[keras.callbacks.EarlyStopping(monitor="d_loss", patience=0, mode="max")],
        verbose=0,
    )
    assert len(history.history["d_loss"]) < 20


def test_terminate_on_nan_stops_a_diverged_run():
    model = _compiled()
    images = helpers.training_data(model, 64)
    # A diverged network (NaN images are refused before training: tests/test_run_safety.py).
    weight = model.discriminator.trainable_weights[0]
    weight.assign(keras.ops.full(weight.shape, float("nan"), weight.dtype))
    history = model.fit(
        images, batch_size=16, epochs=3, callbacks=[keras.callbacks.TerminateOnNaN()], verbose=0
    )
    assert int(model.g_optimizer.iterations) == 1
    assert len(history.history.get("d_loss", [])) <= 1


def test_learning_rate_scheduler_sets_both_optimizers():
    model = _compiled()
    model.fit(
        helpers.training_data(model, 32),
        batch_size=16,
        epochs=1,
        callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, lr: 1e-5)],
        verbose=0,
    )
    assert float(model.d_optimizer.learning_rate) == pytest.approx(1e-5)
    assert float(model.g_optimizer.learning_rate) == pytest.approx(1e-5)


def test_fit_accepts_tf_data_pydataset_and_torch_dataloader(digits):
    import tensorflow as tf

    images = digits[0][:64]
    model = _compiled()
    model.fit(tf.data.Dataset.from_tensor_slices(images).batch(16), epochs=1, verbose=0)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return images[index * 16 : (index + 1) * 16]

    model.fit(Batches(), epochs=1, verbose=0)
    assert int(model.g_optimizer.iterations) == 8

    if helpers.BACKEND == "torch":
        import torch

        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(images)), batch_size=16
        )
        model.fit(loader, epochs=1, verbose=0)
        assert int(model.g_optimizer.iterations) == 12

    cgan = _compiled("ConditionalGAN")
    labels = digits[1][:64] % 3
    cgan.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(16), epochs=1, verbose=0)
    assert int(cgan.g_optimizer.iterations) == 4


def test_checkpoint_files_are_not_left_half_written(tmp_path):
    model = _compiled()
    model.save(tmp_path / "model.keras")
    assert os.listdir(tmp_path) == ["model.keras"]


def _multi_optimizer_twin(model):
    """Keras' MultiOptimizer over copies of the model's optimizers, built the same way."""
    copies = {id(o): o.__class__.from_config(o.get_config()) for o in model.optimizer.optimizers}
    twin = keras.optimizers.MultiOptimizer(lambda v: copies[id(model.optimizer._owner(v))])
    twin.build(model.trainable_variables)
    return twin


@pytest.mark.parametrize("case", ["DCGAN", "frozen_discriminator", "Pix2Pix", "CycleGAN"])
def test_optimizer_state_keeps_the_multi_optimizer_layout_older_files_hold(case):
    # Files saved before NetworkOptimizers hold MultiOptimizer's variable order: the
    # step count, then each optimizer owning trained variables, by its first variable.
    from tests.test_cyclegan import TINY as CYCLEGAN
    from tests.test_pix2pix import TINY as PIX2PIX
    from tests.test_pix2pix import TINY_D

    if case == "Pix2Pix":
        model = keras_gans.Pix2Pix(**PIX2PIX, **TINY_D)
    elif case == "CycleGAN":
        model = keras_gans.CycleGAN(**CYCLEGAN)
    else:
        model = helpers.make_model("DCGAN")
        model.discriminator.trainable = case != "frozen_discriminator"
    model.compile()
    twin = _multi_optimizer_twin(model)
    layout = [(v.name, tuple(v.shape)) for v in model.optimizer.variables]
    assert layout == [(v.name, tuple(v.shape)) for v in twin.variables]
    if case == "frozen_discriminator":  # an optimizer with nothing to train holds no state
        assert not any(
            v is w for v in model.optimizer.variables for w in model.d_optimizer.variables
        )


def test_keras_gans_imported_before_keras_still_registers_its_classes(tmp_path):
    model = helpers.make_model("DCGAN")
    model.save(tmp_path / "dcgan.keras")
    expected = helpers.generate_some(model, 2)
    code = (
        "import json, numpy, keras_gans, sys\n"
        "assert 'keras' not in sys.modules, 'keras_gans imported Keras'\n"
        "import keras\n"
        f"model = keras.saving.load_model({str(tmp_path / 'dcgan.keras')!r})\n"
        "print(json.dumps(model.generate(2, seed=0).tolist()))\n"
    )
    for backend in helpers.BACKENDS:
        output = helpers.run_python(code, backend).strip().splitlines()[-1]
        np.testing.assert_allclose(np.array(json.loads(output)), expected, atol=1e-5)
    # A keras-gans module that imports Keras while loading closes no import cycle.
    first = "from keras_gans.convert import stylegan2\nimport keras_gans\nkeras_gans.DCGAN\n"
    helpers.run_python(first, helpers.BACKEND)

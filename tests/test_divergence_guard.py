"""keras_gans.callbacks.DivergenceGuard: fit stops at a diverging loss, keeps good weights (#30)."""

import keras
import numpy as np
import pytest

from keras_gans.callbacks import DivergenceGuard
from tests import helpers

STEPS_PER_EPOCH = 4


class LearningRateAt(keras.callbacks.Callback):
    """Sets every network's learning rate to `rate` when `epoch` begins (a diverging run)."""

    def __init__(self, epoch, rate):
        super().__init__()
        self.epoch, self.rate = epoch, rate

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            for optimizer in self.model.optimizer.optimizers:
                optimizer.learning_rate = self.rate


class PoisonAt(keras.callbacks.Callback):
    """Turns the generator's weights to NaN before step `step` (0-based, over all epochs)."""

    def __init__(self, step):
        super().__init__()
        self.step, self.steps = step, 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.steps == self.step:
            for weight in self.model.generator.trainable_weights:
                weight.assign(keras.ops.full(weight.shape, float("nan"), weight.dtype))
        self.steps += 1


class StateAt(keras.callbacks.Callback):
    """Records the model's and its optimizer's variables after each step."""

    def __init__(self):
        super().__init__()
        self.states = {}

    def on_train_batch_end(self, batch, logs=None):
        model = self.model
        values = [np.array(v) for v in [*model.weights, *model.optimizer.variables]]
        self.states[_steps(model)] = values


def _steps(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def _state(model):
    return [np.array(v) for v in [*model.weights, *model.optimizer.variables]]


def _gan_and_images():
    gan = helpers.make_model("GAN", seed=0)
    gan.compile()
    return gan, helpers.training_data(gan, num_images=8 * STEPS_PER_EPOCH)


def _assert_same(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_an_exploding_learning_rate_stops_fit_with_the_last_good_epoch():
    gan, images = _gan_and_images()
    guard, states = DivergenceGuard(max_loss=1e6), StateAt()
    rate = float(keras.ops.convert_to_numpy(gan.g_optimizer.learning_rate))
    history = gan.fit(
        images,
        batch_size=8,
        epochs=4,
        callbacks=[guard, LearningRateAt(epoch=1, rate=1e8), states],
        verbose=0,
    )
    where = guard.diverged_at
    assert where is not None and where["epoch"] == 2 and where["loss"].endswith("loss")
    assert len(history.history["d_loss"]) == 2  # fit stopped in the second epoch
    # Back to the end of the first epoch: weights, Adam's moments, step count, learning rate.
    assert _steps(gan) == guard.restored_step == STEPS_PER_EPOCH
    _assert_same(_state(gan), states.states[STEPS_PER_EPOCH])
    assert float(keras.ops.convert_to_numpy(gan.g_optimizer.learning_rate)) == rate
    assert np.isfinite(gan.generate(4, seed=0)).all()


def test_a_nan_mid_epoch_goes_back_to_the_last_copy_of_the_steps():
    gan, images = _gan_and_images()
    guard, states = DivergenceGuard(max_loss=None, keep_every=2), StateAt()
    gan.fit(images, batch_size=8, epochs=3, callbacks=[guard, PoisonAt(7), states], verbose=0)
    # Step 8 (epoch 2, step 4) logs NaN; the copies were taken after steps 2, 4 and 6.
    assert guard.diverged_at["epoch"] == 2 and guard.diverged_at["step"] == 4
    assert guard.diverged_at["value"] == "nan"
    assert _steps(gan) == 6
    _assert_same(_state(gan), states.states[6])


def test_without_restore_it_only_stops():
    gan, images = _gan_and_images()
    guard = DivergenceGuard(restore=False)
    gan.fit(images, batch_size=8, epochs=3, callbacks=[guard, PoisonAt(5)], verbose=0)
    assert guard.diverged_at["epoch"] == 2 and guard.restored_step is None
    assert _steps(gan) == 6  # stopped at the NaN step, nothing put back


def test_a_healthy_run_is_left_alone():
    gan, images = _gan_and_images()
    guard = DivergenceGuard()
    gan.fit(images, batch_size=8, epochs=2, callbacks=[guard], verbose=0)
    assert guard.diverged_at is None and guard.restored_step is None
    assert _steps(gan) == 2 * STEPS_PER_EPOCH


def test_bad_arguments_are_named():
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="max_loss"):
            DivergenceGuard(max_loss=bad)
    for bad in (0, 2.5, True, "step"):
        with pytest.raises(ValueError, match="keep_every"):
            DivergenceGuard(keep_every=bad)

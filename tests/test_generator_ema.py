import keras
import numpy as np
import pytest

from keras_gans.callbacks import GeneratorEMA
from tests import helpers


def _ema_by_hand(model, weights_per_step, decay):
    """Replays the EMA recurrence over recorded generator weights."""
    average = [np.array(w) for w in weights_per_step[0]]
    for step, weights in enumerate(weights_per_step[1:]):
        d = min(decay, (1 + step) / (10 + step))
        average = [w + d * (a - w) for a, w in zip(average, weights)]
    return average


class _RecordGenerator(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_train_begin(self, logs=None):
        self.weights.append([np.array(w) for w in self.model.generator.weights])

    def on_train_batch_end(self, batch, logs=None):
        self.model._sync_training_state()
        self.weights.append([np.array(w) for w in self.model.generator.weights])


def test_ema_follows_the_recurrence_inside_the_compiled_step():
    model = helpers.make_model("DCGAN")
    model.compile()
    recorder = _RecordGenerator()
    model.fit(
        helpers.training_data(model, 64),
        batch_size=16,
        epochs=1,
        callbacks=[GeneratorEMA(0.9), recorder],
        verbose=0,
    )
    expected = _ema_by_hand(model, recorder.weights, 0.9)
    for want, got in zip(expected, model.ema_generator.weights):
        np.testing.assert_allclose(np.array(got), want, rtol=1e-4, atol=1e-5)
    # Sampling uses the average, not the raw generator.
    latent = model.sample_latent(3, seed=0)
    raw = keras.ops.convert_to_numpy(model.generator(latent, training=False))
    assert not np.allclose(model.generate(latent=latent), raw)


def test_ema_is_saved_and_loaded(tmp_path):
    model = helpers.make_model("ConditionalGAN", ema_decay=0.99)
    model.compile()
    model.fit(helpers.training_data(model, 32), batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.ema_decay == pytest.approx(0.99)
    for a, b in zip(model.ema_generator.weights, loaded.ema_generator.weights):
        np.testing.assert_allclose(np.array(a), np.array(b))
    np.testing.assert_allclose(helpers.generate_some(model), helpers.generate_some(loaded))


def test_bad_decay():
    with pytest.raises(ValueError, match="decay"):
        helpers.make_model("DCGAN", ema_decay=1.5)

"""Keras' LearningRateScheduler and ReduceLROnPlateau in fit reach every network (issue 30)."""

import keras
import numpy as np
import pytest

import keras_gans
from tests import helpers


def _images(count, shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (count, *shape)).astype("float32")


TRANSLATION = dict(width=4, num_discriminator_layers=2)
FAMILIES = {  # a tiny model of each family and what its `fit` takes
    "GAN": lambda: helpers.make_model("GAN"),
    "DCGAN": lambda: helpers.make_model("DCGAN"),
    "ConditionalGAN": lambda: helpers.make_model("ConditionalGAN"),
    "WGANGP": lambda: helpers.make_model("WGANGP"),
    "StyleGAN2": lambda: keras_gans.StyleGAN2(
        latent_dim=8, image_shape=(8, 8, 1), mapping_layers=2, channel_base=32, channel_max=8
    ),
    "R3GAN": lambda: keras_gans.R3GAN(
        latent_dim=8, image_shape=(8, 8, 1), width=8, cardinality=2, blocks=1
    ),
    "Pix2Pix": lambda: keras_gans.Pix2Pix((16, 16, 1), (16, 16, 3), **TRANSLATION),
    "CycleGAN": lambda: keras_gans.CycleGAN((16, 16, 3), num_blocks=1, pool_size=4, **TRANSLATION),
}


def _data(model):
    if isinstance(model, keras_gans.Pix2Pix):
        return _images(8, model.source_shape), _images(8, model.target_shape, seed=1)
    if isinstance(model, keras_gans.CycleGAN):
        return _images(8, model.shape_a), _images(8, model.shape_b, seed=1)
    return helpers.training_data(model, num_images=8)


def _rates(model):
    return [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in model.optimizer.optimizers]


@pytest.mark.parametrize("family", FAMILIES)
def test_learning_rate_scheduler_schedules_every_network(family):
    model = FAMILIES[family]()
    model.compile()
    before = _rates(model)
    assert len(before) >= 2
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, rate: rate * 0.5)
    history = model.fit(_data(model), batch_size=4, epochs=2, callbacks=[halve], verbose=0)
    assert _rates(model) == pytest.approx([0.25 * rate for rate in before], rel=1e-6)
    logged = [key for key in history.history if key.startswith("learning_rate_")]
    assert len(logged) == len(before)  # one logged rate per network's optimizer


def test_reduce_lr_on_plateau_reduces_every_network():
    model = helpers.make_model("DCGAN")
    model.compile()
    before = _rates(model)
    plateau = keras.callbacks.ReduceLROnPlateau("g_loss", mode="min", patience=0, min_delta=1e9)
    model.fit(_data(model), batch_size=4, epochs=2, callbacks=[plateau], verbose=0)
    assert _rates(model) == pytest.approx([0.1 * rate for rate in before], rel=1e-6)

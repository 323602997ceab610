"""Behaviour every keras-gans model shares, swept over the model classes."""

import keras
import numpy as np
import pytest

import keras_gans
from tests import helpers

MODELS = list(helpers.TINY)


@pytest.mark.parametrize("name", MODELS)
def test_fit_reports_gan_metrics_and_generate_gives_images(name):
    model = helpers.make_model(name)
    model.compile()
    history = model.fit(helpers.training_data(model), batch_size=16, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "d_loss", "g_loss", "real_accuracy", "fake_accuracy"}
    for values in history.history.values():
        assert len(values) == 2 and all(np.isfinite(values))
    for key in ("real_accuracy", "fake_accuracy"):
        assert all(0.0 <= v <= 1.0 for v in history.history[key])
    images = helpers.generate_some(model, 5)
    assert images.shape == (5, 8, 8, 1) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    # One model step is one generator update.
    assert int(model.optimizer.iterations) == 8
    assert int(model.g_optimizer.iterations) == 8


# WGANGP's critic bias gets no gradient from the Wasserstein loss (mean(fake) - mean(real)).
@pytest.mark.parametrize("name", [name for name in MODELS if name != "WGANGP"])
def test_each_update_changes_only_its_own_network(name):
    """d_steps discriminator updates then one generator update per step."""
    model = helpers.make_model(name, d_steps=3)
    model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.0))
    d_before = [np.array(v) for v in model.discriminator.trainable_variables]
    g_before = [np.array(v) for v in model.generator.trainable_variables]
    model.fit(helpers.training_data(model, 32), batch_size=16, epochs=1, verbose=0)
    assert int(model.d_optimizer.iterations) == 6
    assert int(model.g_optimizer.iterations) == 2
    # The generator's learning rate is 0: its weights must not move at all.
    for before, v in zip(g_before, model.generator.trainable_variables):
        np.testing.assert_array_equal(before, np.array(v))
    moved = [
        not np.allclose(b, np.array(v))
        for b, v in zip(d_before, model.discriminator.trainable_variables)
    ]
    assert all(moved)


def test_generator_update_leaves_discriminator_untouched():
    model = helpers.make_model("DCGAN")
    model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.1))
    d_before = [np.array(v) for v in model.discriminator.trainable_variables]
    model.fit(helpers.training_data(model, 32), batch_size=16, epochs=1, verbose=0)
    for before, v in zip(d_before, model.discriminator.trainable_variables):
        np.testing.assert_array_equal(before, np.array(v))


def test_batchnorm_statistics_and_seed_state_are_carried():
    model = helpers.make_model("DCGAN")
    model.compile()
    moving_mean = model.generator.get_layer("project_bn").moving_mean
    before_mean = np.array(moving_mean)
    before_seed = np.array(model.seed_generator.state)
    model.fit(helpers.training_data(model, 32), batch_size=16, epochs=1, verbose=0)
    assert not np.allclose(before_mean, np.array(moving_mean))
    assert not np.array_equal(before_seed, np.array(model.seed_generator.state))


def test_metrics_reset_every_epoch():
    model = helpers.make_model("DCGAN")
    model.compile()
    data = helpers.training_data(model, 32)
    model.fit(data, batch_size=16, epochs=1, verbose=0)
    first = {m.name: float(m.result()) for m in model.metrics}
    model.fit(data, batch_size=16, epochs=1, verbose=0)
    # The Mean trackers count only this epoch's two batches.
    assert float(model.d_loss_tracker.count) == 2.0
    assert first.keys() == {m.name for m in model.metrics}


@pytest.mark.parametrize("name", MODELS)
def test_save_and_load_restores_networks_and_both_optimizers(name, tmp_path):
    model = helpers.make_model(name, loss="hinge", d_steps=2, label_smoothing=0.1)
    model.compile(
        d_optimizer=keras.optimizers.Adam(3e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.RMSprop(1e-4),
    )
    model.fit(helpers.training_data(model, 32), batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    with pytest.warns(None) if False else _no_compile_warning():
        loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.gan_loss.name == "hinge" and loaded.d_steps == 2
    assert loaded.label_smoothing == pytest.approx(0.1)
    assert isinstance(loaded.g_optimizer, keras.optimizers.RMSprop)
    assert float(loaded.d_optimizer.learning_rate) == pytest.approx(3e-4)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(np.array(a), np.array(b))
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_allclose(np.array(a), np.array(b), err_msg=a.path)
    np.testing.assert_allclose(
        helpers.generate_some(model), helpers.generate_some(loaded), atol=1e-6
    )
    # Training carries on from the restored optimizer state.
    loaded.fit(helpers.training_data(loaded, 32), batch_size=16, epochs=1, verbose=0)
    assert int(loaded.d_optimizer.iterations) == 8


class _no_compile_warning:
    def __enter__(self):
        import warnings

        self._catcher = warnings.catch_warnings(record=True)
        self.records = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._catcher.__exit__(*exc)
        messages = [str(r.message) for r in self.records]
        assert not [m for m in messages if "compile" in m], messages


@pytest.mark.parametrize("name", MODELS)
def test_config_round_trip(name):
    model = helpers.make_model(name, seed=3)
    config = model.get_config()
    clone = type(model).from_config(config)
    assert clone.get_config()["latent_dim"] == model.latent_dim
    assert clone.image_shape == model.image_shape
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_seeded_training_is_reproducible():
    def run():
        keras.utils.set_random_seed(7)
        model = helpers.make_model("DCGAN")
        model.compile()
        history = model.fit(helpers.training_data(model, 32), batch_size=16, epochs=2, verbose=0)
        return history.history, helpers.generate_some(model)

    history_a, images_a = run()
    history_b, images_b = run()
    for key in history_a:
        np.testing.assert_allclose(history_a[key], history_b[key], rtol=1e-5)
    np.testing.assert_allclose(images_a, images_b, atol=1e-5)


def test_generate_is_deterministic_per_seed():
    model = helpers.make_model("DCGAN")
    np.testing.assert_array_equal(model.generate(3, seed=1), model.generate(3, seed=1))
    assert not np.allclose(model.generate(3, seed=1), model.generate(3, seed=2))
    latent = model.sample_latent(3, seed=1)
    np.testing.assert_allclose(model.generate(latent=latent), model.generate(3, seed=1))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.predict(latent, verbose=0)),
        model.generate(latent=latent),
        atol=1e-6,
    )


def test_steps_per_execution():
    model = helpers.make_model("DCGAN")
    model.compile(steps_per_execution=2)
    data = helpers.training_data(model, 64)
    if helpers.BACKEND == "torch":
        with pytest.raises(ValueError, match="steps_per_execution` must be 1 with the PyTorch"):
            model.fit(data, batch_size=16, epochs=1, verbose=0)
        return
    history = model.fit(data, batch_size=16, epochs=1, verbose=0)
    assert int(model.g_optimizer.iterations) == 4
    assert np.isfinite(history.history["d_loss"][0])


def test_validation_data_reports_val_metrics(digits):
    images = digits[0][:96]
    model = helpers.make_model("DCGAN")
    model.compile()
    history = model.fit(
        images[:64], validation_data=images[64:], batch_size=16, epochs=1, verbose=0
    )
    assert {"val_d_loss", "val_g_loss", "val_real_accuracy"} <= set(history.history)
    scores = model.evaluate(images[64:], batch_size=16, verbose=0, return_dict=True)
    assert set(scores) == {"loss", "d_loss", "g_loss", "real_accuracy", "fake_accuracy"}


def test_user_supplied_networks():
    latent_dim = 4
    generator = keras.Sequential(
        [
            keras.Input((latent_dim,)),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Reshape((4, 4, 1)),
        ]
    )
    discriminator = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    gan = keras_gans.GAN(generator=generator, discriminator=discriminator, latent_dim=latent_dim)
    assert gan.image_shape == (4, 4, 1)
    gan.compile()
    gan.fit(np.zeros((8, 4, 4, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    assert gan.generate(2, seed=0).shape == (2, 4, 4, 1)


def test_dcgan_image_sizes_and_channels():
    for size, channels in ((28, 1), (32, 3), (64, 3)):
        gan = keras_gans.DCGAN(latent_dim=4, image_shape=(size, size, channels), width=4)
        assert gan.generator.output_shape == (None, size, size, channels)
        assert gan.discriminator.output_shape == (None, 1)
    paper = keras_gans.DCGAN(latent_dim=100, image_shape=(28, 28, 1))
    # Same shapes as the TensorFlow DCGAN tutorial's networks.
    assert [
        layer.output.shape[-1]
        for layer in paper.generator.layers
        if "deconv" in layer.name and "bn" not in layer.name
    ] == [128, 64]

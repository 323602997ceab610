"""The patch route JAX's CPU backend takes for small strided convolutions: Keras' results."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from keras_gans.networks.convolution import Conv2D, conv_2d, patch_conv_2d

CASES = list(
    itertools.product(
        [(1, 1), (3, 3), (4, 4), (5, 5), (5, 2)],  # kernel
        [(1, 1), (2, 2), (3, 2)],  # strides
        [(8, 8), (7, 5), (5, 5)],  # input height, width
    )
)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_equals_keras_conv_for_every_kernel_stride_and_size(padding):
    rng = np.random.default_rng(0)
    for kernel_size, strides, size in CASES:
        x = rng.normal(size=(2, *size, 3)).astype("float32")
        kernel = rng.normal(size=(*kernel_size, 3, 4)).astype("float32")
        expected = ops.convert_to_numpy(ops.conv(x, kernel, strides, padding))
        got = ops.convert_to_numpy(patch_conv_2d(x, kernel, strides, padding))
        assert got.shape == expected.shape, (kernel_size, strides, size)
        np.testing.assert_allclose(got, expected, atol=2e-5, err_msg=str((kernel_size, strides)))


def test_the_layer_is_keras_layer_with_the_same_weights_and_outputs(tmp_path):
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 16)).astype("float32")
    ours = Conv2D(8, 5, strides=2, padding="same", activation="relu")
    theirs = keras.layers.Conv2D(8, 5, strides=2, padding="same", activation="relu")
    ours.build(x.shape), theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(outputs(ours, x), outputs(theirs, x), atol=1e-5)
    model = keras.Sequential([keras.Input((8, 8, 16)), keras.layers.SpectralNormalization(ours)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0].layer) is Conv2D
    assert loaded.layers[0].layer.get_config() == ours.get_config()


def outputs(layer, x):
    return ops.convert_to_numpy(layer(x))


@pytest.mark.backends("jax")
@pytest.mark.parametrize("size, strides", [(8, 2), (7, 2), (4, 1)])
def test_gradients_on_jax_equal_keras_conv(size, strides):
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.normal(size=(2, size, size, 16)).astype("float32"))
    kernel = jnp.asarray(rng.normal(size=(5, 5, 16, 8)).astype("float32"))

    def gradients(function):
        return jax.grad(lambda x, k: jnp.sum(jnp.sin(function(x, k))), argnums=(0, 1))

    ours = gradients(lambda x, k: conv_2d(x, k, strides))(x, kernel)
    keras_own = gradients(lambda x, k: ops.conv(x, k, strides, "same"))(x, kernel)
    for got, expected in zip(ours, keras_own):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


def test_public_layers_drop_into_the_tf_tutorial_networks():
    import keras_gans.networks
    from benchmarks.tutorial_networks import tutorial_networks

    assert keras_gans.networks.Conv2D is Conv2D
    keras.utils.set_random_seed(0)
    generator, discriminator = tutorial_networks("keras_gans")
    keras.utils.set_random_seed(0)
    stock_generator, stock_discriminator = tutorial_networks("keras")
    ours = [type(layer) for layer in generator.layers + discriminator.layers]
    assert ours.count(keras_gans.networks.Conv2DTranspose) == 3 and ours.count(Conv2D) == 2
    noise = np.random.default_rng(0).normal(size=(2, 100)).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(generator(noise)),
        ops.convert_to_numpy(stock_generator(noise)),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="convolutions"):
        tutorial_networks("torch")

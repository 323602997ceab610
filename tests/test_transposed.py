"""The sub-pixel transposed convolution JAX's CPU backend takes: Keras' results, any shape."""

import itertools

import keras
import numpy as np
import pytest
from keras import ops

from keras_gans.networks.transposed import Conv2DTranspose, sub_pixel_conv_transpose_2d

CASES = list(
    itertools.product(
        [(1, 1), (2, 2), (3, 2), (4, 4), (5, 5), (6, 3)],  # kernel
        [(1, 1), (2, 2), (3, 2)],  # strides
        ["same", "valid"],
        [(1, 1), (4, 4), (3, 5)],  # input height, width
    )
)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_equals_keras_conv_transpose_for_every_kernel_stride_and_size(padding):
    rng = np.random.default_rng(0)
    for kernel_size, strides, _, size in [case for case in CASES if case[2] == padding]:
        x = rng.normal(size=(2, *size, 3)).astype("float32")
        kernel = rng.normal(size=(*kernel_size, 4, 3)).astype("float32")
        expected = ops.convert_to_numpy(ops.conv_transpose(x, kernel, strides, padding))
        got = ops.convert_to_numpy(sub_pixel_conv_transpose_2d(x, kernel, strides, padding))
        assert got.shape == expected.shape, (kernel_size, strides, size)
        np.testing.assert_allclose(got, expected, atol=2e-5, err_msg=str((kernel_size, strides)))


def test_the_layer_is_keras_layer_with_the_same_weights_and_outputs(tmp_path):
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 16)).astype("float32")
    ours = Conv2DTranspose(8, 5, strides=2, padding="same", activation="tanh")
    theirs = keras.layers.Conv2DTranspose(8, 5, strides=2, padding="same", activation="tanh")
    ours.build(x.shape), theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(outputs(ours, x), outputs(theirs, x), atol=1e-5)
    model = keras.Sequential([keras.Input((4, 4, 16)), ours])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[0]) is Conv2DTranspose
    np.testing.assert_allclose(outputs(loaded, x), outputs(theirs, x), atol=1e-5)


def outputs(layer, x):
    return ops.convert_to_numpy(layer(x))


@pytest.mark.backends("jax")
@pytest.mark.parametrize("strides, filters, size", [(2, 8, 4), (1, 8, 4), (2, 3, 8)])
def test_gradients_on_jax_equal_the_dilated_form(strides, filters, size):
    import jax
    import jax.numpy as jnp

    from keras_gans.networks.transposed import conv_transpose_2d

    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.normal(size=(2, size, size, 16)).astype("float32"))
    kernel = jnp.asarray(rng.normal(size=(5, 5, filters, 16)).astype("float32"))

    def loss(function):
        return jax.grad(lambda x, k: jnp.sum(jnp.sin(function(x, k))), argnums=(0, 1))

    ours = loss(lambda x, k: conv_transpose_2d(x, k, strides))(x, kernel)
    keras_own = loss(lambda x, k: ops.conv_transpose(x, k, strides, "same"))(x, kernel)
    for got, expected in zip(ours, keras_own):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)

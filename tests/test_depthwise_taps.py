"""The sum-of-taps depthwise correlation JAX's CPU backend takes in StyleGAN3's filters."""

import itertools

import numpy as np
import pytest
from keras import ops

from keras_gans.networks import filtered_lrelu


def depthwise_conv(x, kernel, strides):
    """The grouped-convolution route, in the filters' internal layout on this backend."""
    channels = int(x.shape[filtered_lrelu._C])
    kernel = ops.tile(kernel[:, :, None, :], (1, 1, channels, 1))
    return ops.depthwise_conv(
        x, kernel, strides=strides, padding="valid", data_format=filtered_lrelu._FORMAT
    )


@pytest.mark.parametrize(
    "kernel_shape, strides",
    list(
        itertools.product(
            [(1, 12, 1), (12, 1, 1), (1, 6, 2), (6, 6, 1), (4, 3, 2)],
            [(1, 1), (2, 2), (1, 2), (3, 2)],
        )
    ),  # fmt: skip
)
def test_equals_the_grouped_convolution(kernel_shape, strides):
    rng = np.random.default_rng(0)
    x = filtered_lrelu._to_internal(rng.normal(size=(2, 15, 14, 3)).astype("float32"))
    kernel = rng.normal(size=kernel_shape).astype("float32")
    expected = ops.convert_to_numpy(depthwise_conv(x, kernel, strides))
    got = ops.convert_to_numpy(filtered_lrelu._depthwise_by_taps(x, kernel, strides))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-5)

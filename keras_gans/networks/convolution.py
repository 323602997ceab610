"""Strided convolutions with a few output pixels, lowered so XLA's CPU backend runs them well.

A stride-2 convolution whose output is 4x4 (DCGAN's last discriminator stage at 32x32)
costs XLA's CPU backend 7-8x TensorFlow's time in training: its input gradient is a
transposed convolution over a 4x4 map, the case `networks.transposed` describes. The same
sums as one matrix product over the input's patches (im2col) run at TensorFlow's speed
(measured on 2 CPU cores, batch 64, 8x8x128 -> 4x4x256 with a 5x5 kernel: 265 ms for the
forward and both gradients by `keras.ops.conv`, 32 ms by patches; TensorFlow 32 ms).

`conv_2d` takes the patch route only on JAX with a CPU as the default device, for strided
convolutions with at most 16 output pixels. Every other case is `keras.ops.conv`, so other
backends and devices give the same results as before. `Conv2D` is Keras' layer with that call.
"""

import keras
from keras import ops

from keras_gans.utils.device import jax_on_cpu

_register = keras.saving.register_keras_serializable(package="keras_gans")

# Outputs up to this many pixels take the patch route (4x4; measured 7x7 is faster by XLA).
PATCH_ROUTE_MAX_PIXELS = 16


def _same_padding(size: int, kernel_size: int, stride: int) -> tuple[int, int, int]:
    """(output size, left, right) of TensorFlow's and XLA's "same" padding along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel_size - size, 0)
    return out, total // 2, total - total // 2


def patch_conv_2d(inputs, kernel, strides, padding="same"):
    """`keras.ops.conv` (channels last, no dilation) as one matrix product over patches.

    Args:
        inputs: `(batch, height, width, in_channels)`.
        kernel: `(kh, kw, in_channels, out_channels)`.
        strides: an int or `(sh, sw)`.
        padding: `"same"` or `"valid"`.

    Example:

    ```python
    y = patch_conv_2d(x, kernel, strides=2)  # ops.conv(x, kernel, strides=2, padding="same")
    ```
    """
    sh, sw = (strides, strides) if isinstance(strides, int) else tuple(strides)
    kh, kw, in_channels, out_channels = (int(d) for d in kernel.shape)
    height, width = int(inputs.shape[1]), int(inputs.shape[2])
    if padding == "same":
        out_h, top, bottom = _same_padding(height, kh, sh)
        out_w, left, right = _same_padding(width, kw, sw)
        inputs = ops.pad(inputs, ((0, 0), (top, bottom), (left, right), (0, 0)))
    else:
        out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    patches = [
        inputs[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    weights = ops.reshape(ops.cast(kernel, inputs.dtype), (kh * kw * in_channels, out_channels))
    return ops.matmul(ops.concatenate(patches, axis=-1), weights)


def conv_2d(inputs, kernel, strides, padding="same"):
    """`keras.ops.conv` (channels last, no dilation), by patches where XLA's CPU is slow.

    Args:
        inputs, kernel, strides, padding: as `patch_conv_2d`.

    Example:

    ```python
    y = conv_2d(x, kernel, strides=2)
    ```
    """
    strides = (strides, strides) if isinstance(strides, int) else tuple(strides)
    if max(strides) > 1 and jax_on_cpu():
        kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
        height, width = int(inputs.shape[1]), int(inputs.shape[2])
        if padding == "same":
            out_pixels = -(-height // strides[0]) * -(-width // strides[1])
        else:
            out_pixels = ((height - kh) // strides[0] + 1) * ((width - kw) // strides[1] + 1)
        if kh * kw > 1 and out_pixels <= PATCH_ROUTE_MAX_PIXELS:
            return patch_conv_2d(inputs, kernel, strides, padding)
    return ops.conv(inputs, kernel, strides=strides, padding=padding)


def bias_and_activation(layer, outputs):
    """What Keras' convolution layers do after the convolution: `layer`'s bias, then activation."""
    if layer.use_bias:
        outputs = ops.add(outputs, ops.reshape(layer.bias, (1, 1, 1, layer.filters)))
    if layer.activation is not None:
        return layer.activation(outputs)
    return outputs


@_register
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` computed by `conv_2d` where it can be.

    Same arguments, weights and results (to float rounding) as Keras' layer; with
    channels-last data, no dilation and one group, a strided convolution with at most 16
    output pixels is a matrix product over patches on JAX's CPU backend. Anything else
    is Keras' own call.

    Example:

    ```python
    down = Conv2D(256, 5, strides=2, padding="same")
    ```
    """

    def call(self, inputs):
        plain = (
            self.data_format == "channels_last"
            and tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1
            and self.padding in ("same", "valid")
        )
        if not plain:
            return super().call(inputs)
        outputs = conv_2d(inputs, self.kernel, self.strides, self.padding)
        return bias_and_activation(self, outputs)

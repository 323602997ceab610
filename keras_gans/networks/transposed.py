"""Strided transposed convolutions that XLA's CPU backend runs well.

`keras.ops.conv_transpose` lowers on JAX to a convolution over a zero-interleaved
(lhs-dilated) input. XLA's CPU backend runs that, and its kernel gradient, far below
the speed of a plain convolution: a 64x64 DCGAN generator samples 30x slower on JAX
than on TensorFlow on the same cores. A stride-`s` transposed convolution is also `s*s`
ordinary stride-1 convolutions, one per output phase, over the undilated input, their
outputs interleaved (depth to space, "sub-pixel convolution"). Written as one
convolution with `s*s` times the output channels, it sums the same products (plus
zeros) as the dilated form, so results agree to float rounding.

`conv_transpose_2d` takes that route only where it pays: on JAX with a CPU as the
default device, for strides above 1. Every other backend and device keeps
`keras.ops.conv_transpose`, so their results do not change. `Conv2DTranspose` is
Keras' layer with that call, for the networks to use.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_gans.networks.convolution import bias_and_activation
from keras_gans.utils.device import jax_on_cpu

_register = keras.saving.register_keras_serializable(package="keras_gans")


def _keras_padding(kernel_size: int, stride: int, padding: str) -> tuple[int, int]:
    """(left, right) padding of the dilated input, as Keras sets it for JAX (no output_padding)."""
    if padding == "valid":
        return kernel_size - 1, kernel_size - 1 + max(kernel_size, stride) - kernel_size
    total = stride + kernel_size - 2
    left = min(total // 2 + total % 2, kernel_size - 1)
    return left, total - left


def _phase_taps(kernel_size: int, stride: int, size: int, padding: str):
    """One axis's plan: the taps each output phase reads, as a stride-1 correlation.

    Output `o = q * stride + r` reads input `q + j` through tap `t` of the (unflipped)
    kernel wherever `q * stride + r == (q + j) * stride + t - shift`, where `shift` is
    `kernel_size - 1 - left padding`. Returns `(taps, first, pad_left, pad_right,
    out_size, phases_size)`: `taps[r, j - first]` is the tap (or `kernel_size`, a zero
    slot) for offset `j`; the input is padded (or cropped, if negative) by `pad_left`
    and `pad_right` so that each phase yields `phases_size` outputs.
    """
    left, right = _keras_padding(kernel_size, stride, padding)
    shift = kernel_size - 1 - left
    out_size = (size - 1) * stride + left + right - kernel_size + 2
    offsets = {}
    for r in range(stride):
        for t in range(kernel_size):
            if (r + shift - t) % stride == 0:
                offsets[(r, (r + shift - t) // stride)] = t
    first = min(0, *(j for _, j in offsets))
    last = max(0, *(j for _, j in offsets))
    taps = np.full((stride, last - first + 1), kernel_size, dtype="int32")
    for (r, j), t in offsets.items():
        taps[r, j - first] = t
    phases_size = math.ceil(out_size / stride)
    pad_left = -first
    pad_right = phases_size - size - pad_left + (last - first)
    return taps, pad_left, pad_right, out_size, phases_size


def _stride_one_conv(x, weights, out_h, out_w):
    """A stride-1 "valid" correlation; as patches times a matrix when the output is tiny.

    XLA's CPU convolution slows down 30-70x when the kernel overhangs an input of a few
    pixels (a 5x5 kernel over DCGAN's 4x4 start: 2.3 s for 8 images, 74 ms for the
    same products as one matrix product), so outputs of at most 4x4 take that route.
    """
    lh, lw, in_channels, out_channels = (int(d) for d in weights.shape)
    if out_h * out_w > 16 or lh * lw == 1:
        return ops.conv(x, weights, strides=1, padding="valid")
    patches = [x[:, i : i + out_h, j : j + out_w] for i in range(lh) for j in range(lw)]
    return ops.matmul(
        ops.concatenate(patches, axis=-1),
        ops.reshape(weights, (lh * lw * in_channels, out_channels)),
    )


def sub_pixel_conv_transpose_2d(inputs, kernel, strides, padding="same"):
    """`keras.ops.conv_transpose` (channels last, no output padding or dilation) as one
    stride-1 convolution followed by depth to space.

    Args:
        inputs: `(batch, height, width, in_channels)`.
        kernel: `(kh, kw, out_channels, in_channels)`, Keras' transposed-convolution layout.
        strides: an int or `(sh, sw)`.
        padding: `"same"` or `"valid"`, as Keras' transposed convolutions take them.

    Example:

    ```python
    y = sub_pixel_conv_transpose_2d(x, kernel, strides=2)  # ops.conv_transpose(x, kernel, 2)
    ```
    """
    sh, sw = (strides, strides) if isinstance(strides, int) else tuple(strides)
    kh, kw, out_channels, in_channels = (int(d) for d in kernel.shape)
    height, width = int(inputs.shape[1]), int(inputs.shape[2])
    plan_h = _phase_taps(kh, sh, height, padding)
    plan_w = _phase_taps(kw, sw, width, padding)
    taps_h, taps_w = plan_h[0], plan_w[0]
    # (kh, kw, out, in) -> (kh + 1, kw + 1, in, out), the extra row and column zero
    weights = ops.pad(ops.transpose(kernel, (0, 1, 3, 2)), ((0, 1), (0, 1), (0, 0), (0, 0)))
    weights = ops.take(weights, taps_h.reshape(-1), axis=0)
    weights = ops.take(weights, taps_w.reshape(-1), axis=1)
    lh, lw = taps_h.shape[1], taps_w.shape[1]
    weights = ops.reshape(weights, (sh, lh, sw, lw, in_channels, out_channels))
    weights = ops.transpose(weights, (1, 3, 4, 0, 2, 5))
    weights = ops.reshape(weights, (lh, lw, in_channels, sh * sw * out_channels))
    x = inputs
    (_, top, bottom, out_h, phases_h), (_, left, right, out_w, phases_w) = plan_h, plan_w
    x = x[:, max(-top, 0) : height + min(bottom, 0), max(-left, 0) : width + min(right, 0)]
    x = ops.pad(x, ((0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0)), (0, 0)))
    y = _stride_one_conv(x, ops.cast(weights, x.dtype), phases_h, phases_w)
    y = ops.reshape(y, (-1, phases_h, phases_w, sh, sw, out_channels))
    y = ops.transpose(y, (0, 1, 3, 2, 4, 5))
    y = ops.reshape(y, (-1, phases_h * sh, phases_w * sw, out_channels))
    return y[:, :out_h, :out_w]


def conv_transpose_2d(inputs, kernel, strides, padding="same"):
    """`keras.ops.conv_transpose` (channels last), by the sub-pixel route where it is faster.

    Args:
        inputs, kernel, strides, padding: as `sub_pixel_conv_transpose_2d`.

    Example:

    ```python
    y = conv_transpose_2d(x, kernel, strides=2)
    ```
    """
    strides = (strides, strides) if isinstance(strides, int) else tuple(strides)
    if jax_on_cpu():
        kh, kw, out_channels, _ = (int(d) for d in kernel.shape)
        # Measured on 2 CPU cores: strided with 8+ output channels, gradients 5-8x faster;
        # with the 1-3 channels of a to-pixels layer, XLA's own form is faster.
        strided = max(strides) > 1 and out_channels >= 8
        tiny = max(strides) == 1 and kh * kw > 1 and inputs.shape[1] * inputs.shape[2] <= 16
        if strided or tiny:
            return sub_pixel_conv_transpose_2d(inputs, kernel, strides, padding)
    return ops.conv_transpose(inputs, kernel, strides=strides, padding=padding)


@_register
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` computed by `conv_transpose_2d` where it can be.

    Same arguments, weights and results (to float rounding) as Keras' layer; with
    channels-last data, no `output_padding` and no dilation it takes the sub-pixel
    route on JAX's CPU backend. Anything else is Keras' own call.

    Example:

    ```python
    up = Conv2DTranspose(64, 5, strides=2, padding="same")
    ```
    """

    def call(self, inputs):
        plain = (
            self.data_format == "channels_last"
            and self.output_padding is None
            and tuple(self.dilation_rate) == (1, 1)
        )
        if not plain:
            return super().call(inputs)
        outputs = conv_transpose_2d(inputs, self.kernel, self.strides, self.padding)
        return bias_and_activation(self, outputs)

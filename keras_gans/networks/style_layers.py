"""Layers StyleGAN2 and R3GAN share, in plain Keras layers and `keras.ops` (no custom ops).

Equalized-learning-rate dense and convolution layers as NVIDIA's StyleGAN2 defines
them (weights scaled at run time, FIR-filtered resampling, bias-activation with gain
and clamp), minibatch standard deviation, R3GAN's bilinear 2x resampling, a
projection logit for class-conditional discriminators, and a NumPy-drawn normal
initializer.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from keras_gans.networks import resample

SQRT2 = math.sqrt(2.0)
_register = keras.saving.register_keras_serializable(package="keras_gans")


@_register
class NormalInit(keras.initializers.Initializer):
    """N(mean, stddev^2) drawn with NumPy (stddev 0: the constant `mean`).

    NumPy, not the backend: on JAX every new weight shape drawn with `jax.random`
    compiles one XLA program, which made building (and loading) these networks take
    tens of seconds on CPU. The seed comes from NumPy's global generator, which
    `keras.utils.set_random_seed` seeds.
    """

    def __init__(self, stddev=1.0, mean=0.0):
        self.stddev, self.mean = float(stddev), float(mean)

    def __call__(self, shape, dtype=None):
        values = np.full(shape, self.mean, dtype="float32")
        if self.stddev:
            rng = np.random.default_rng(np.random.randint(2**31))
            values = values + rng.standard_normal(shape).astype("float32") * self.stddev
        return ops.convert_to_tensor(values, dtype=dtype or "float32")

    def get_config(self):
        return {"stddev": self.stddev, "mean": self.mean}


def bias_act(x, bias=None, activation="linear", gain=None, clamp=None):
    """`clamp(act(x + bias) * gain, -clamp, clamp)`, StyleGAN2's bias-activation (`bias_act`).

    Args:
        x: a tensor whose last axis matches `bias`.
        bias: per-channel bias or None.
        activation: `"lrelu"` (leaky ReLU, slope 0.2) or `"linear"`.
        gain: the output gain; None is the activation's default (sqrt(2) for `"lrelu"`, 1).
        clamp: clip the result to [-clamp, clamp]; None does not clip.
    """
    if bias is not None:
        x = x + ops.cast(bias, x.dtype)
    if activation == "lrelu":
        x = ops.leaky_relu(x, 0.2)
        gain = SQRT2 if gain is None else gain
    elif activation != "linear":
        raise ValueError(f"`activation` must be 'lrelu' or 'linear'. Received: {activation!r}")
    if gain is not None and gain != 1:
        x = x * gain
    if clamp is not None:
        x = ops.clip(x, -clamp, clamp)
    return x


def activate(x, activation):
    """`"lrelu"`: leaky ReLU (0.2) times sqrt(2), StyleGAN's gain; `"linear"`: x."""
    return bias_act(x, None, activation)


def upsample_2x(x):
    """2x bilinear upsampling (half-pixel centres, edges clamped): repeat, then [1, 2, 1] / 4."""
    for axis in (1, 2):
        x = ops.repeat(x, 2, axis=axis)
        first = [slice(None)] * axis + [slice(0, 1)]
        last = [slice(None)] * axis + [slice(-1, None)]
        x = ops.concatenate([x[tuple(first)], x, x[tuple(last)]], axis=axis)  # clamp edges
        n = x.shape[axis]
        lo, mid, hi = ([slice(None)] * axis + [slice(start, n - 2 + start)] for start in (0, 1, 2))
        x = 0.25 * x[tuple(lo)] + 0.5 * x[tuple(mid)] + 0.25 * x[tuple(hi)]
    return x


def downsample_2x(x):
    """2x downsampling: the mean of each 2x2 block."""
    _, height, width, channels = x.shape
    x = ops.reshape(x, (-1, height // 2, 2, width // 2, 2, channels))
    return ops.mean(x, axis=(2, 4))


@_register
class Resample2x(layers.Layer):
    """2x resampling as a layer: `mode="up"` or `"down"`.

    Without `resample_filter`: bilinear upsampling and 2x2-mean downsampling (R3GAN).
    With FIR taps, e.g. `(1, 3, 3, 1)`: StyleGAN2's filtered `upsample2d` / `downsample2d`.
    """

    def __init__(self, mode="up", resample_filter=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("up", "down"):
            raise ValueError(f"`mode` must be 'up' or 'down'. Received: {mode!r}")
        self.mode = mode
        self.resample_filter = (
            None if resample_filter is None else tuple(float(t) for t in resample_filter)
        )

    def call(self, x):
        if self.resample_filter is not None:
            taps = resample.normalized_taps(self.resample_filter)
            if self.mode == "up":
                return resample.upsample_2d(x, taps)
            return resample.downsample_2d(x, taps)
        return upsample_2x(x) if self.mode == "up" else downsample_2x(x)

    def compute_output_shape(self, shape):
        factor = 2.0 if self.mode == "up" else 0.5
        return (shape[0], int(shape[1] * factor), int(shape[2] * factor), shape[3])

    def get_config(self):
        taps = None if self.resample_filter is None else list(self.resample_filter)
        return {**super().get_config(), "mode": self.mode, "resample_filter": taps}


@_register
class EqualizedDense(layers.Layer):
    """Dense layer, equalized learning rate: N(0, 1/lr_mul) weights times lr_mul/sqrt(fan_in)."""

    def __init__(
        self, units, lr_multiplier=1.0, bias_init=0.0, activation="linear", use_bias=True, **kwargs
    ):
        super().__init__(**kwargs)
        self.units = int(units)
        self.lr_multiplier = float(lr_multiplier)
        self.bias_init = float(bias_init)
        self.activation = activation
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(fan_in, self.units),
            initializer=NormalInit(1.0 / self.lr_multiplier),
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                initializer=NormalInit(0.0, self.bias_init),
                name="bias",
            )
        self.weight_gain = self.lr_multiplier / math.sqrt(fan_in)

    def call(self, x):
        x = ops.matmul(x, self.kernel * self.weight_gain)
        if self.use_bias:
            x = x + self.bias * self.lr_multiplier
        return activate(x, self.activation)

    def compute_output_shape(self, shape):
        return (*shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            **{
                k: getattr(self, k)
                for k in (
                    "units",
                    "lr_multiplier",
                    "bias_init",
                    "activation",
                    "use_bias",
                )
            },
        }


@_register
class EqualizedConv2D(layers.Layer):
    """StyleGAN2's convolution layer (NVIDIA's `Conv2dLayer`), equalized learning rate.

    The kernel is N(0, 1) scaled by `1 / sqrt(in_channels * k * k)` at run time; `up` is
    a transposed convolution followed by the low-pass `resample_filter`, `down` filters
    first and then strides; then bias, activation, `gain` and the optional clamp.

    Args:
        filters: output channels.
        kernel_size: odd kernel size (1 or 3 in StyleGAN2).
        activation: `"lrelu"` or `"linear"`.
        use_bias: add a learned bias.
        up, down: 2x upsampling or downsampling.
        resample_filter: the 1-D FIR taps of the resampling filter.
        conv_clamp: clamp the output to +-`conv_clamp * gain`; None does not clamp.
        gain: extra output gain (sqrt(0.5) on residual branches).

    Example:

    ```python
    layer = EqualizedConv2D(64, 3, down=True, conv_clamp=256)   # (B, 32, 32, C) -> (B, 16, 16, 64)
    ```
    """

    def __init__(self, filters, kernel_size=3, activation="lrelu", use_bias=True, down=False,
                 up=False, resample_filter=(1, 3, 3, 1), conv_clamp=None, gain=1.0,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.up, self.down = bool(up), bool(down)
        if self.up and self.down:
            raise ValueError("`up` and `down` cannot both be True.")
        self.resample_filter = tuple(float(t) for t in resample_filter)
        self.conv_clamp = None if conv_clamp is None else float(conv_clamp)
        self.gain = float(gain)
        self.taps = resample.normalized_taps(self.resample_filter)

    def build(self, input_shape):
        in_channels, k = int(input_shape[-1]), self.kernel_size
        self.kernel = self.add_weight(
            shape=(k, k, in_channels, self.filters), initializer=NormalInit(1.0), name="kernel"
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,), initializer=NormalInit(0.0), name="bias"
            )
        self.weight_gain = 1.0 / math.sqrt(in_channels * k * k)

    def call(self, x):
        kernel = self.kernel * self.weight_gain
        if self.up:
            x = resample.conv_up_2d(x, kernel, self.taps)
        elif self.down:
            x = resample.conv_down_2d(x, kernel, self.taps)
        else:
            x = resample.conv_2d(x, kernel)
        default_gain = SQRT2 if self.activation == "lrelu" else 1.0
        clamp = None if self.conv_clamp is None else self.conv_clamp * self.gain
        bias = self.bias if self.use_bias else None
        return bias_act(x, bias, self.activation, default_gain * self.gain, clamp)

    def compute_output_shape(self, shape):
        height, width = shape[1], shape[2]
        if self.up:
            height, width = height * 2, width * 2
        elif self.down:
            height, width = height // 2, width // 2
        return (shape[0], height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "up": self.up,
            "down": self.down,
            "resample_filter": list(self.resample_filter),
            "conv_clamp": self.conv_clamp,
            "gain": self.gain,
        }


@_register
class MinibatchStdDev(layers.Layer):
    """Appends the standard deviation over groups of images as `num_channels` channels.

    Images `n = g * M + m` (g < group) form group m, as NVIDIA's `MinibatchStdLayer`
    reshapes; the channels split into `num_channels` consecutive parts, each averaged
    to one feature. A batch that is not a multiple of `group_size` (or unknown while
    tracing) uses the largest divisor up to `group_size`; `group_size=None` is the batch.

    Args:
        group_size: images per group (4), or None for the whole batch.
        num_channels: features appended (1).
    """

    def __init__(self, group_size=4, num_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.group_size = None if group_size is None else int(group_size)
        self.num_channels = int(num_channels)

    def call(self, x):
        _, height, width, channels = x.shape
        features = self.num_channels
        batch = x.shape[0]
        if batch is None:
            group = None  # unknown batch: one group of all images
        else:
            limit = batch if self.group_size is None else min(self.group_size, batch)
            group = max(g for g in range(1, limit + 1) if batch % g == 0)
        shape = (height, width, features, channels // features)
        grouped = ops.reshape(x, (-1, 1, *shape) if group is None else (group, -1, *shape))
        # sigma = sqrt(Var_G(x) + 1e-8), averaged over pixels and channels of each part
        std = ops.mean(ops.sqrt(ops.var(grouped, axis=0) + 1e-8), axis=(1, 2, 4))  # [M, F]
        if group is not None:
            std = ops.tile(std, (group, 1))  # image n = g * M + m gets std[m]
        std = ops.broadcast_to(std[:, None, None, :], (ops.shape(x)[0], height, width, features))
        return ops.concatenate([x, ops.cast(std, x.dtype)], axis=-1)

    def compute_output_shape(self, shape):
        return (*shape[:-1], shape[-1] + self.num_channels)

    def get_config(self):
        return {
            **super().get_config(),
            "group_size": self.group_size,
            "num_channels": self.num_channels,
        }


@_register
class ProjectionLogit(layers.Layer):
    """`[features, class embedding]` -> `sum(features * embedding) / sqrt(dim)`."""

    def call(self, inputs):
        features, embedding = inputs
        dim = features.shape[-1]
        return ops.sum(features * embedding, axis=-1, keepdims=True) / math.sqrt(dim)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

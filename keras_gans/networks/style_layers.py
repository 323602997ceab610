"""Layers StyleGAN2 and R3GAN share, in plain Keras layers and `keras.ops` (no custom ops).

Equalized-learning-rate dense and convolution layers (weights scaled at run time),
2x resampling with a fixed [1, 2, 1] (bilinear) filter, minibatch standard deviation,
a projection logit for class-conditional discriminators, and a NumPy-drawn normal
initializer.
"""

import math

import keras
import numpy as np
from keras import layers, ops

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


def activate(x, activation):
    """`"lrelu"`: leaky ReLU (0.2) times sqrt(2), StyleGAN's gain; `"linear"`: x."""
    if activation == "lrelu":
        return ops.leaky_relu(x, 0.2) * SQRT2
    return x


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
    """`mode="up"` (bilinear 2x) or `"down"` (2x2 mean), as a layer."""

    def __init__(self, mode="up", **kwargs):
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, x):
        return upsample_2x(x) if self.mode == "up" else downsample_2x(x)

    def compute_output_shape(self, shape):
        factor = 2.0 if self.mode == "up" else 0.5
        return (shape[0], int(shape[1] * factor), int(shape[2] * factor), shape[3])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


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
    """Stride-1 'same' convolution, equalized learning rate (weights scaled by 1/sqrt(fan_in)).

    `down=True` halves the resolution first (2x2 mean), StyleGAN2's downsampling
    convolution in non-fused form.
    """

    def __init__(
        self, filters, kernel_size=3, activation="lrelu", use_bias=True, down=False, **kwargs
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.down = bool(down)

    def build(self, input_shape):
        fan_in = int(input_shape[-1]) * self.kernel_size**2
        k = self.kernel_size
        self.kernel = self.add_weight(
            shape=(k, k, int(input_shape[-1]), self.filters),
            initializer=NormalInit(1.0),
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,), initializer=NormalInit(0.0), name="bias"
            )
        self.weight_gain = 1.0 / math.sqrt(fan_in)

    def call(self, x):
        if self.down:
            x = downsample_2x(x)
        x = ops.conv(x, self.kernel * self.weight_gain, padding="same")
        if self.use_bias:
            x = x + self.bias
        return activate(x, self.activation)

    def compute_output_shape(self, shape):
        scale = 2 if self.down else 1
        return (shape[0], shape[1] // scale, shape[2] // scale, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            **{
                k: getattr(self, k)
                for k in (
                    "filters",
                    "kernel_size",
                    "activation",
                    "use_bias",
                    "down",
                )
            },
        }


@_register
class MinibatchStdDev(layers.Layer):
    """Appends the mean standard deviation over groups of `group_size` images as a channel.

    With a batch that is not a multiple of `group_size` (or unknown while tracing) the
    largest divisor up to `group_size` (or the whole batch) forms the groups.
    """

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)

    def call(self, x):
        _, height, width, channels = x.shape
        batch = x.shape[0]
        if batch is None:
            group = None  # unknown batch: one group of all images
        else:
            group = max(g for g in range(1, min(self.group_size, batch) + 1) if batch % g == 0)
        if group is None:
            grouped = ops.reshape(x, (-1, 1, height, width, channels))  # [N, 1, H, W, C]
        else:
            grouped = ops.reshape(x, (group, -1, height, width, channels))  # [G, M, H, W, C]
        # sigma = sqrt(Var_G(x) + 1e-8), averaged over pixels and channels per group member
        std = ops.mean(ops.sqrt(ops.var(grouped, axis=0) + 1e-8), axis=(1, 2, 3))  # [M]
        if group is not None:
            std = ops.tile(std, (group,))  # image n = g * M + m gets std[m]
        std = ops.broadcast_to(std[:, None, None, None], (ops.shape(x)[0], height, width, 1))
        return ops.concatenate([x, ops.cast(std, x.dtype)], axis=-1)

    def compute_output_shape(self, shape):
        return (*shape[:-1], shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


@_register
class ProjectionLogit(layers.Layer):
    """`[features, class embedding]` -> `sum(features * embedding) / sqrt(dim)`."""

    def call(self, inputs):
        features, embedding = inputs
        dim = features.shape[-1]
        return ops.sum(features * embedding, axis=-1, keepdims=True) / math.sqrt(dim)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

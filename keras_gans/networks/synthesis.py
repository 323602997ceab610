"""StyleGAN2's synthesis network: ws -> images through modulated convolutions (NVIDIA's layout).

`SynthesisNetwork` is a layer holding one block per resolution: the learned constant
and one modulated convolution at the start resolution, then per 2x step an upsampling
modulated convolution and a plain one; toRGB layers sum into the image (`"skip"`),
only the last one makes it (`"orig"`), or blocks add a 1x1 upsampled shortcut
(`"resnet"`). Every layer reads its own w from `ws` (NVIDIA's `w_idx` order).

Example:

```python
synthesis = SynthesisNetwork((64, 64, 3), w_dim=512, conv_clamp=256, name="synthesis")
images = synthesis(ws)                          # ws: (batch, synthesis.num_ws, 512)
images = synthesis(ws, noise_mode="none")       # no per-pixel noise
```
"""

import math

import keras
from keras import layers, ops

from keras_gans.networks import resample
from keras_gans.networks.style_layers import EqualizedConv2D, EqualizedDense, NormalInit, bias_act

ARCHITECTURES = ("orig", "skip", "resnet")
NOISE_MODES = ("random", "const", "none")
_register = keras.saving.register_keras_serializable(package="keras_gans")


def synthesis_plan(image_shape):
    """`(start_h, start_w, doublings)` for an image shape; both sides must double alike."""
    height, width = (int(side) for side in image_shape[:2])
    doublings = 0
    while height % 2 == 0 and width % 2 == 0 and min(height, width) // 2 >= 4:
        height, width, doublings = height // 2, width // 2, doublings + 1
    if doublings < 1 or max(height, width) > 4 * min(height, width):
        raise ValueError(
            f"`image_shape`={tuple(image_shape)}: both sides need the same number (>= 1) of "
            "2x steps from a start of at least 4 (e.g. 32x32, 64x64, 256x256, or 32x64 "
            "from 4x8)."
        )
    return height, width, doublings


def channels_at(block, channel_base, channel_max):
    """Feature maps of block `block` (resolution 4 * 2**block): min(base / res, max)."""
    return max(1, min(channel_base // (4 * 2**block), channel_max))


def num_ws_for(image_shape):
    """How many w vectors the synthesis network of `image_shape` consumes: 2 * doublings + 2."""
    return 2 * synthesis_plan(image_shape)[2] + 2


@_register
class BroadcastW(layers.Layer):
    """`(batch, w_dim)` -> `(batch, num_ws, w_dim)`: one w per synthesis layer."""

    def __init__(self, num_ws, **kwargs):
        super().__init__(**kwargs)
        self.num_ws = int(num_ws)

    def call(self, w):
        return ops.repeat(ops.expand_dims(w, 1), self.num_ws, axis=1)

    def compute_output_shape(self, shape):
        return (shape[0], self.num_ws, shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_ws": self.num_ws}


@_register
class ModulatedConv2D(layers.Layer):
    """A synthesis layer (NVIDIA's `SynthesisLayer`, or `ToRGBLayer` without demodulation).

    `styles = affine(ws[:, w_index])` (bias initialised to 1) scale the input channels;
    one convolution (transposed and filtered when `up`); demodulation multiplies each
    output channel by `rsqrt(sum_{i,k} (weight * style)^2 + 1e-8)` of the raw weights;
    per-pixel noise times a learned strength; bias, activation, gain and clamp. Without
    demodulation (toRGB) the style carries the `1 / sqrt(fan_in)` gain instead.

    Call with `[x, ws]` and `noise_mode`: `"random"` (fresh noise), `"const"` (the stored
    map) or `"none"`; None picks `"random"` while training and `"const"` otherwise.
    """

    def __init__(self, filters, kernel_size=3, w_index=0, demodulate=True, up=False,
                 use_noise=True, activation="lrelu", conv_clamp=None, gain=1.0,
                 resample_filter=(1, 3, 3, 1), **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.w_index = int(w_index)
        self.demodulate, self.up, self.use_noise = bool(demodulate), bool(up), bool(use_noise)
        self.activation = activation
        self.conv_clamp = None if conv_clamp is None else float(conv_clamp)
        self.gain = float(gain)
        self.resample_filter = tuple(float(t) for t in resample_filter)
        self.taps = resample.normalized_taps(self.resample_filter)
        self.noise_seed = keras.random.SeedGenerator(name="noise_seed") if use_noise else None
        self.trainable_noise = False  # set before build to optimise the noise map (projection)

    def build(self, input_shape):
        x_shape, ws_shape = input_shape
        in_channels, k = int(x_shape[-1]), self.kernel_size
        # Styles stay in the variables' precision (float32 under a mixed policy), as NVIDIA's.
        self.affine = EqualizedDense(
            in_channels, bias_init=1.0, dtype=self.dtype_policy.variable_dtype, name="affine"
        )
        self.affine.build((None, int(ws_shape[-1])))
        self.kernel = self.add_weight(
            shape=(k, k, in_channels, self.filters), initializer=NormalInit(1.0), name="kernel"
        )
        self.bias = self.add_weight(shape=(self.filters,), initializer=NormalInit(0.0), name="bias")
        self.weight_gain = 1.0 / math.sqrt(in_channels * k * k)
        if self.use_noise:
            scale = 2 if self.up else 1
            self.noise_const = self.add_weight(
                shape=(int(x_shape[1]) * scale, int(x_shape[2]) * scale),
                initializer=NormalInit(1.0),
                trainable=self.trainable_noise,
                name="noise_const",
            )
            self.noise_strength = self.add_weight(
                shape=(), initializer=NormalInit(0.0), name="noise_strength"
            )

    def call(self, inputs, training=False, noise_mode=None):
        x, ws = inputs
        styles = self.affine(ws[:, self.w_index])  # (batch, in_channels)
        kernel = self.kernel
        if not self.demodulate:
            styles = styles * self.weight_gain
        elif x.dtype == "float16":
            # Pre-normalise weights and styles so float16 cannot overflow (NVIDIA's order).
            kernel = kernel * (
                self.weight_gain / ops.max(ops.abs(kernel), axis=(0, 1, 2), keepdims=True)
            )
            styles = styles / ops.max(ops.abs(styles), axis=1, keepdims=True)
        # x * s: modulate the input channels
        x = x * ops.cast(styles, x.dtype)[:, None, None, :]
        if self.up:
            x = resample.conv_up_2d(x, kernel, self.taps)
        else:
            x = resample.conv_2d(x, kernel)
        if self.demodulate:
            # d_j = 1 / sqrt(sum_{i,k} (w_ijk s_i)^2 + 1e-8): unit-variance outputs
            kernel = ops.cast(kernel, styles.dtype)
            squared = ops.einsum("hwio,bi->bo", ops.square(kernel), ops.square(styles))
            x = x * ops.cast(ops.rsqrt(squared + 1e-8), x.dtype)[:, None, None, :]
        noise = self._noise(x, training, noise_mode)
        if noise is not None:
            x = x + noise
        default_gain = math.sqrt(2.0) if self.activation == "lrelu" else 1.0
        clamp = None if self.conv_clamp is None else self.conv_clamp * self.gain
        return bias_act(x, self.bias, self.activation, default_gain * self.gain, clamp)

    def _noise(self, x, training, noise_mode):
        if not self.use_noise:
            return None
        noise_mode = noise_mode or ("random" if training else "const")
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"`noise_mode` must be one of {NOISE_MODES}. Received: {noise_mode!r}")
        if noise_mode == "none":
            return None
        if noise_mode == "random":
            shape = (ops.shape(x)[0], *self.noise_const.shape, 1)
            noise = keras.random.normal(shape, seed=self.noise_seed, dtype=x.dtype)
        else:
            noise = ops.cast(self.noise_const, x.dtype)[None, :, :, None]
        return noise * ops.cast(self.noise_strength, x.dtype)

    def compute_output_shape(self, input_shape):
        x_shape = input_shape[0]
        scale = 2 if self.up else 1
        return (x_shape[0], x_shape[1] * scale, x_shape[2] * scale, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "w_index": self.w_index,
            "demodulate": self.demodulate,
            "up": self.up,
            "use_noise": self.use_noise,
            "activation": self.activation,
            "conv_clamp": self.conv_clamp,
            "gain": self.gain,
            "resample_filter": list(self.resample_filter),
        }


@_register
class SynthesisNetwork(layers.Layer):
    """ws `(batch, num_ws, w_dim)` -> images, NVIDIA's StyleGAN2 synthesis network.

    Args:
        image_shape: `(height, width, channels)`; both sides take the same number of 2x
            steps from a start of 4 or more (32x32, 1024x1024, 32x64 from 4x8).
        w_dim: size of each w.
        channel_base, channel_max: feature maps at resolution r: `min(base / r, max)`.
        architecture: `"skip"` (NVIDIA's default), `"orig"` or `"resnet"`.
        conv_clamp: clamp convolution outputs to +-`conv_clamp` (256 in NVIDIA's configs).
        resample_filter: FIR taps of the upsampling filter.
        num_fp16_res: under a mixed-precision policy only this many highest resolutions
            compute in half precision (NVIDIA's `num_fp16_res`); None: all follow it.
    """

    def __init__(self, image_shape, w_dim, channel_base=16384, channel_max=512,
                 architecture="skip", conv_clamp=None, resample_filter=(1, 3, 3, 1),
                 num_fp16_res=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        if architecture not in ARCHITECTURES:
            raise ValueError(f"`architecture` must be one of {ARCHITECTURES}: {architecture!r}")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.w_dim = int(w_dim)
        self.channel_base, self.channel_max = int(channel_base), int(channel_max)
        self.architecture = architecture
        self.conv_clamp = None if conv_clamp is None else float(conv_clamp)
        self.resample_filter = tuple(float(t) for t in resample_filter)
        self.taps = resample.normalized_taps(self.resample_filter)
        self.num_fp16_res = None if num_fp16_res is None else int(num_fp16_res)
        self.start_h, self.start_w, self.doublings = synthesis_plan(self.image_shape)
        self.num_ws = 2 * self.doublings + 2
        # One dict of layer names per block; the layers are attributes (so Keras tracks them).
        self.block_names = [self._make_block(block) for block in range(self.doublings + 1)]

    def _make_block(self, block):
        res = self.start_h * 2**block
        width = channels_at(block, self.channel_base, self.channel_max)
        top = self.start_h * 2**self.doublings
        dtype = None
        if self.num_fp16_res is not None:
            fp16_resolution = max(top * 2 // 2**self.num_fp16_res, 8)
            dtype = None if res >= fp16_resolution else "float32"
        common = dict(conv_clamp=self.conv_clamp, resample_filter=self.resample_filter,
                      dtype=dtype)  # fmt: skip
        parts = {}
        if block == 0:
            parts["const"] = ConstantInput(width, self.start_h, self.start_w, name=f"b{res}_const")
            parts["conv1"] = ModulatedConv2D(width, w_index=0, name=f"b{res}_conv1", **common)
        else:
            parts["conv0"] = ModulatedConv2D(
                width, w_index=2 * block - 1, up=True, name=f"b{res}_conv0", **common
            )
            gain = math.sqrt(0.5) if self.architecture == "resnet" else 1.0
            parts["conv1"] = ModulatedConv2D(
                width, w_index=2 * block, gain=gain, name=f"b{res}_conv1", **common
            )
            if self.architecture == "resnet":
                parts["skip"] = EqualizedConv2D(
                    width, 1, "linear", use_bias=False, up=True, gain=math.sqrt(0.5),
                    resample_filter=self.resample_filter, dtype=dtype, name=f"b{res}_skip",
                )  # fmt: skip
        if block == self.doublings or self.architecture == "skip":
            parts["torgb"] = ModulatedConv2D(
                self.image_shape[2], 1, 2 * block + 1, demodulate=False, use_noise=False,
                activation="linear", name=f"b{res}_torgb", **common,
            )  # fmt: skip
        for layer in parts.values():
            setattr(self, layer.name, layer)
        return {role: layer.name for role, layer in parts.items()}

    def _block(self, block):
        return {role: getattr(self, name) for role, name in self.block_names[block].items()}

    def build(self, ws_shape=None):
        ws_shape = (None, self.num_ws, self.w_dim)
        x_shape = None
        for block in range(self.doublings + 1):
            parts = self._block(block)
            if block == 0:
                parts["const"].build(ws_shape)
                x_shape = (None, self.start_h, self.start_w, parts["const"].channels)
            else:
                if "skip" in parts:
                    parts["skip"].build(x_shape)
                parts["conv0"].build((x_shape, ws_shape))
                x_shape = parts["conv0"].compute_output_shape((x_shape, ws_shape))
            parts["conv1"].build((x_shape, ws_shape))
            x_shape = parts["conv1"].compute_output_shape((x_shape, ws_shape))
            if "torgb" in parts:
                parts["torgb"].build((x_shape, ws_shape))
        self.built = True

    def call(self, ws, training=False, noise_mode=None):
        x = img = None
        for block in range(self.doublings + 1):
            parts = self._block(block)
            layer_kwargs = dict(training=training, noise_mode=noise_mode)
            if block == 0:
                x = parts["const"](ws)
                x = parts["conv1"]([x, ws], **layer_kwargs)
            elif self.architecture == "resnet":
                shortcut = parts["skip"](x)
                x = parts["conv0"]([x, ws], **layer_kwargs)
                x = parts["conv1"]([x, ws], **layer_kwargs)
                x = ops.add(ops.cast(shortcut, x.dtype), x)
            else:
                x = parts["conv0"]([x, ws], **layer_kwargs)
                x = parts["conv1"]([x, ws], **layer_kwargs)
            if img is not None:
                img = resample.upsample_2d(img, self.taps)
            if "torgb" in parts:
                # img = upsample(img) + toRGB(x): skip outputs, summed in float32
                rgb = ops.cast(parts["torgb"]([x, ws], **layer_kwargs), "float32")
                img = rgb if img is None else img + rgb
        return img

    def compute_output_shape(self, ws_shape):
        return (ws_shape[0], *self.image_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": list(self.image_shape),
            "w_dim": self.w_dim,
            "channel_base": self.channel_base,
            "channel_max": self.channel_max,
            "architecture": self.architecture,
            "conv_clamp": self.conv_clamp,
            "resample_filter": list(self.resample_filter),
            "num_fp16_res": self.num_fp16_res,
        }


@_register
class ConstantInput(layers.Layer):
    """The learned constant `(height, width, channels)` the synthesis network starts from."""

    def __init__(self, channels, height, width, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.height, self.width = int(channels), int(height), int(width)

    def build(self, input_shape=None):
        self.const = self.add_weight(
            shape=(self.height, self.width, self.channels), initializer=NormalInit(1.0),
            name="const",
        )  # fmt: skip

    def call(self, ws):
        batch = ops.shape(ws)[0]
        return ops.broadcast_to(self.const[None], (batch, self.height, self.width, self.channels))

    def compute_output_shape(self, shape):
        return (shape[0], self.height, self.width, self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "height": self.height,
                "width": self.width}  # fmt: skip

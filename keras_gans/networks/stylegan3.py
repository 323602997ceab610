"""StyleGAN3 (alias-free) generator (Karras et al., 2021), NVIDIA's architecture, in Keras layers.

The layers compute what NVlabs' `training/networks_stylegan3.py` computes, channels
last and in `keras.ops` only, so NVIDIA's pickles convert into them exactly
(`keras_gans.StyleGAN3.from_nvlabs`):

- `FourierInput` (NVIDIA's `SynthesisInput`): sinusoids of fixed random frequencies
  inside a disc of radius `bandwidth`, rotated and translated by an affine of the
  first w and by the user's input `transform`, faded out where the transform pushes
  them past the sampling rate's Nyquist band, then mixed by a learned matrix.
- `AliasFreeLayer` (NVIDIA's `SynthesisLayer`): modulated convolution (demodulated;
  the ToRGB layer is not) with the input gain `1 / sqrt(magnitude_ema)`, then the
  filtered leaky ReLU of `filtered_lrelu.py` with the layer's own low-pass filters
  (Kaiser-windowed sinc; radially symmetric jinc downsampling filters for R). The
  padding crops the margin back to the next layer's size; the last two layers are
  the image size.
- `AliasFreeSynthesis`: the input and `num_layers + 1` layers whose cutoffs,
  stopbands, sampling rates, sizes and widths follow `synthesis_layout`'s geometric
  progression (`alias_free.py`); the output times `output_scale`.

Example:

```python
from keras_gans.networks import stylegan3

generator = stylegan3.stylegan3_generator(512, (256, 256, 3), config="t")
synthesis = generator.get_layer("synthesis")            # ws (batch, num_ws, w_dim) -> images
m = stylegan3.input_transform(translate=(0.1, 0), rotate=10)
images = synthesis(ws, transform=m)                     # the input translated and rotated
```
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from keras_gans.networks.alias_free import (
    CONFIGS,
    LAYER_DEFAULTS,
    LAYOUT_DEFAULTS,
    RESAMPLING_OPTIONS,
    design_lowpass_filter,
    input_transform,
    layer_plan,
    layer_settings,
    synthesis_layout,
)
from keras_gans.networks.filtered_lrelu import filtered_lrelu
from keras_gans.networks.style_layers import EqualizedDense, NormalInit
from keras_gans.networks.stylegan2 import MappingNetwork, mapped_generator

__all__ = [
    "CONFIGS",
    "LAYER_DEFAULTS",
    "LAYOUT_DEFAULTS",
    "RESAMPLING_OPTIONS",
    "AliasFreeLayer",
    "AliasFreeSynthesis",
    "FourierInput",
    "design_lowpass_filter",
    "input_transform",
    "layer_plan",
    "layer_settings",
    "stylegan3_generator",
    "synthesis_layout",
]

_register = keras.saving.register_keras_serializable(package="keras_gans")


@_register
class FourierInput(layers.Layer):
    """w -> `(batch, size, size, channels)` Fourier features (NVIDIA's `SynthesisInput`).

    Args:
        w_dim: size of w.
        channels: number of features.
        size: spatial side (the first layer's sampling rate plus margins).
        sampling_rate: samples per unit; bandwidth: the frequencies' radius.

    Call with `w` and optionally `transform`, a `(3, 3)` or `(batch, 3, 3)` matrix that
    replaces the stored `transform` for this call.

    Example:

    ```python
    fourier = FourierInput(w_dim=512, channels=512, size=36, sampling_rate=16, bandwidth=2)
    features = fourier(w, transform=input_transform(rotate=90))    # (batch, 36, 36, 512)
    ```
    """

    def __init__(self, w_dim, channels, size, sampling_rate, bandwidth, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.w_dim, self.channels, self.size = int(w_dim), int(channels), int(size)
        self.sampling_rate, self.bandwidth = float(sampling_rate), float(bandwidth)
        # Rotation (r_c, r_s) and translation (t_x, t_y) from w; starts at the identity.
        self.affine = EqualizedDense(4, dtype=self.dtype_policy, name="affine")

    def build(self, input_shape=None):
        self.affine.build((None, self.w_dim))
        self.affine.kernel.assign(np.zeros((self.w_dim, 4), "float32"))
        self.affine.bias.assign(np.array([1.0, 0.0, 0.0, 0.0], "float32"))
        rng = np.random.default_rng(np.random.randint(2**31))
        # Frequencies drawn uniformly-ish from the disc of radius `bandwidth` (NVIDIA's draw)
        freqs = rng.standard_normal((self.channels, 2))
        radii = np.sqrt(np.sum(np.square(freqs), axis=1, keepdims=True))
        freqs = freqs / (radii * np.exp(np.square(radii)) ** 0.25) * self.bandwidth
        phases = rng.uniform(size=self.channels) - 0.5
        constant = keras.initializers.Constant
        self.kernel = self.add_weight(shape=(self.channels, self.channels),
                                      initializer=NormalInit(1.0), name="kernel")  # fmt: skip
        self.freqs = self.add_weight(shape=(self.channels, 2), trainable=False, name="freqs",
                                     initializer=constant(freqs.astype("float32")))  # fmt: skip
        self.phases = self.add_weight(shape=(self.channels,), trainable=False, name="phases",
                                      initializer=constant(phases.astype("float32")))  # fmt: skip
        identity = constant(np.eye(3, dtype="float32"))
        self.transform = self.add_weight(shape=(3, 3), trainable=False, name="transform",
                                         initializer=identity)  # fmt: skip

    def call(self, w, transform=None):
        w = ops.cast(w, "float32")
        t = self.affine(w)  # (r_c, r_s, t_x, t_y), rotation normalised to unit length
        t = t / ops.sqrt(ops.sum(ops.square(t[:, :2]), axis=1, keepdims=True))
        cos, sin, tx, ty = t[:, 0], t[:, 1], t[:, 2], t[:, 3]
        zero, one = ops.zeros_like(cos), ops.ones_like(cos)
        # Inverse rotation, then inverse translation, both with respect to the image
        rotation = ops.stack([ops.stack([cos, -sin, zero], 1), ops.stack([sin, cos, zero], 1),
                              ops.stack([zero, zero, one], 1)], 1)  # fmt: skip
        translation = ops.stack([ops.stack([one, zero, -tx], 1), ops.stack([zero, one, -ty], 1),
                                 ops.stack([zero, zero, one], 1)], 1)  # fmt: skip
        user = ops.cast(self.transform if transform is None else transform, "float32")
        if len(user.shape) == 2:
            user = ops.broadcast_to(user[None], (ops.shape(w)[0], 3, 3))
        transforms = ops.matmul(ops.matmul(rotation, translation), user)
        freqs = ops.convert_to_tensor(self.freqs)
        # phases + f . t and f A: the sinusoids seen through the transform
        phases = self.phases[None] + ops.einsum("cj,bj->bc", freqs, transforms[:, :2, 2])
        freqs = ops.einsum("cj,bjk->bck", freqs, transforms[:, :2, :2])
        norms = ops.sqrt(ops.sum(ops.square(freqs), axis=2))
        # Fade out frequencies the transform pushed beyond the band the layer can carry
        half_band = self.sampling_rate / 2 - self.bandwidth
        amplitudes = ops.clip(1 - (norms - self.bandwidth) / half_band, 0.0, 1.0)
        # Pixel centres at (i + 0.5 - size / 2) / sampling_rate
        grid = (np.arange(self.size, dtype="float32") + 0.5 - self.size / 2) / self.sampling_rate
        grid = ops.convert_to_tensor(grid.astype("float32"))
        x = (grid[None, None, :, None] * freqs[:, None, None, :, 0]
             + grid[None, :, None, None] * freqs[:, None, None, :, 1])  # fmt: skip
        x = ops.sin((x + phases[:, None, None, :]) * (2 * np.pi)) * amplitudes[:, None, None, :]
        return ops.matmul(x, self.kernel / math.sqrt(self.channels))

    def compute_output_shape(self, shape):
        return (shape[0], self.size, self.size, self.channels)

    def get_config(self):
        return {**super().get_config(), "w_dim": self.w_dim, "channels": self.channels,
                "size": self.size, "sampling_rate": self.sampling_rate,
                "bandwidth": self.bandwidth}  # fmt: skip


@_register
class AliasFreeLayer(layers.Layer):
    """One StyleGAN3 synthesis layer (NVIDIA's `SynthesisLayer`): `[x, w]` -> x.

    Modulated convolution (`conv_kernel`, padded `conv_kernel - 1` on each side;
    demodulated unless `is_torgb`) with the input gain `rsqrt(magnitude_ema)`, then
    `filtered_lrelu` with the layer's up/down filters and padding (`layer_settings`).
    Call with `update_emas=True` (training) to update `magnitude_ema`, the running
    mean square of the input, before it is used.

    Args:
        w_dim, is_torgb, is_critically_sampled, in_channels, out_channels, in_size,
            out_size, in_sampling_rate, out_sampling_rate, in_cutoff, out_cutoff,
            in_half_width, out_half_width: the layer's place in `synthesis_layout`.
        conv_kernel, filter_size, lrelu_upsampling, use_radial_filters: as NVIDIA's.
        conv_clamp: clamp of the activation (None: none).
        magnitude_ema_beta: decay of `magnitude_ema`.

    Example:

    ```python
    spec = layer_plan((32, 32, 3), 32, 1024, 32)[0]          # NVIDIA's L0_36_32
    layer = AliasFreeLayer(**{k: v for k, v in spec.items() if k not in ("name", "settings")})
    x = layer([x, w], update_emas=True)                       # (batch, 36, 36, 32)
    ```
    """

    SPEC = ("w_dim", "is_torgb", "is_critically_sampled", "in_channels", "out_channels",
            "in_size", "out_size", "in_sampling_rate", "out_sampling_rate", "in_cutoff",
            "out_cutoff", "in_half_width", "out_half_width")  # fmt: skip

    def __init__(self, w_dim, is_torgb, is_critically_sampled, in_channels, out_channels,
                 in_size, out_size, in_sampling_rate, out_sampling_rate, in_cutoff, out_cutoff,
                 in_half_width, out_half_width, conv_kernel=3, filter_size=6, lrelu_upsampling=2,
                 use_radial_filters=False, conv_clamp=256.0, magnitude_ema_beta=0.999,
                 **kwargs):  # fmt: skip
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        values = dict(w_dim=w_dim, is_torgb=is_torgb, is_critically_sampled=is_critically_sampled,
                      in_channels=in_channels, out_channels=out_channels, in_size=in_size,
                      out_size=out_size, in_sampling_rate=in_sampling_rate,
                      out_sampling_rate=out_sampling_rate, in_cutoff=in_cutoff,
                      out_cutoff=out_cutoff, in_half_width=in_half_width,
                      out_half_width=out_half_width)  # fmt: skip
        for name, value in values.items():
            if name.startswith("is_"):
                value = bool(value)
            elif "cutoff" in name or "half_width" in name:
                value = float(value)
            else:
                value = int(value)
            setattr(self, name, value)
        self.filter_size, self.lrelu_upsampling = int(filter_size), lrelu_upsampling
        self.use_radial_filters = bool(use_radial_filters)
        self.conv_clamp = None if conv_clamp is None else float(conv_clamp)
        self.magnitude_ema_beta = float(magnitude_ema_beta)
        self.settings = layer_settings(**values, conv_kernel=conv_kernel,
                                       filter_size=self.filter_size,
                                       lrelu_upsampling=lrelu_upsampling,
                                       use_radial_filters=self.use_radial_filters)  # fmt: skip
        self.conv_kernel = self.settings["conv_kernel"]
        self.affine = EqualizedDense(self.in_channels, bias_init=1.0, dtype=self.dtype_policy,
                                     name="affine")  # fmt: skip

    def _filter(self, taps, cutoff, half_width, radial, name):
        rate = self.settings["tmp_sampling_rate"]
        values = design_lowpass_filter(taps, cutoff, half_width * 2, rate, radial)
        if values is None:
            return None
        values = np.asarray(values, "float32")
        return self.add_weight(shape=values.shape, trainable=False, name=name,
                               initializer=keras.initializers.Constant(values))  # fmt: skip

    def build(self, input_shape=None):
        self.affine.build((None, self.w_dim))
        k = self.conv_kernel
        self.kernel = self.add_weight(shape=(k, k, self.in_channels, self.out_channels),
                                      initializer=NormalInit(1.0), name="kernel")  # fmt: skip
        self.bias = self.add_weight(shape=(self.out_channels,), initializer="zeros", name="bias")
        self.magnitude_ema = self.add_weight(shape=(), initializer="ones", trainable=False,
                                             name="magnitude_ema")  # fmt: skip
        s = self.settings
        self.up_filter = self._filter(s["up_taps"], self.in_cutoff, self.in_half_width, False,
                                      "up_filter")  # fmt: skip
        self.down_filter = self._filter(s["down_taps"], self.out_cutoff, self.out_half_width,
                                        s["down_radial"], "down_filter")  # fmt: skip

    def call(self, inputs, update_emas=False):
        x, w = inputs
        x = ops.cast(x, "float32")
        if update_emas:
            # magnitude_ema <- lerp(mean(x^2), magnitude_ema, beta), then used at once
            magnitude = ops.mean(ops.square(ops.stop_gradient(x)))
            ema = magnitude + self.magnitude_ema_beta * (self.magnitude_ema - magnitude)
            self.magnitude_ema.assign(ema)
        else:
            ema = ops.convert_to_tensor(self.magnitude_ema)
        styles = self.affine(ops.cast(w, "float32"))  # (batch, in_channels)
        kernel = ops.convert_to_tensor(self.kernel)
        if self.is_torgb:
            styles = styles / math.sqrt(self.in_channels * self.conv_kernel**2)
        else:
            # Pre-normalise the weights (per output) and the styles (over the whole batch)
            kernel = kernel * ops.rsqrt(ops.mean(ops.square(kernel), axis=(0, 1, 2), keepdims=True))
            styles = styles * ops.rsqrt(ops.mean(ops.square(styles)))
        # x * s * input_gain around one shared convolution, then demodulation per output
        x = x * (styles * ops.rsqrt(ema))[:, None, None, :]
        pad = self.conv_kernel - 1
        if pad:
            x = ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        x = ops.conv(x, kernel, padding="valid")
        if not self.is_torgb:
            # d_o = 1 / sqrt(sum_{i,k} (w_oik s_i)^2 + 1e-8)
            squared = ops.einsum("hwio,bi->bo", ops.square(kernel), ops.square(styles))
            x = x * ops.rsqrt(squared + 1e-8)[:, None, None, :]
        s = self.settings
        gain, slope = (1.0, 1.0) if self.is_torgb else (math.sqrt(2), 0.2)
        return filtered_lrelu(
            x, self.up_filter, self.down_filter, self.bias, up=s["up_factor"],
            down=s["down_factor"], padding=s["padding"], gain=gain, slope=slope,
            clamp=self.conv_clamp,
        )  # fmt: skip

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.out_size, self.out_size, self.out_channels)

    def get_config(self):
        return {**super().get_config(), **{name: getattr(self, name) for name in self.SPEC},
                "conv_kernel": self.conv_kernel, "filter_size": self.filter_size,
                "lrelu_upsampling": self.lrelu_upsampling,
                "use_radial_filters": self.use_radial_filters, "conv_clamp": self.conv_clamp,
                "magnitude_ema_beta": self.magnitude_ema_beta}  # fmt: skip


@_register
class AliasFreeSynthesis(layers.Layer):
    """ws `(batch, num_layers + 2, w_dim)` -> images: NVIDIA's StyleGAN3 `SynthesisNetwork`.

    Args:
        image_shape: `(resolution, resolution, channels)`: square, any channel count.
        w_dim: size of each w.
        channel_base, channel_max: widths `min(channel_base / 2 / cutoff, channel_max)`.
        num_layers, num_critical, first_cutoff, first_stopband, last_stopband_rel,
            margin_size: the layout (`synthesis_layout`).
        output_scale: the images' scale (0.25).
        conv_kernel, filter_size, lrelu_upsampling, use_radial_filters, conv_clamp,
            magnitude_ema_beta: every layer's (`AliasFreeLayer`).

    It computes in float32 under a mixed-precision policy (pass `dtype` to change it).
    Call with `ws`, and optionally `transform` (the input's, see `input_transform`),
    `update_emas` (training: update the magnitude averages) and `noise_mode` (accepted
    for StyleGAN2's signature; StyleGAN3 has no noise).

    Example:

    ```python
    synthesis = AliasFreeSynthesis((256, 256, 3), 512, conv_kernel=1, use_radial_filters=True,
                                   channel_base=65536, channel_max=1024)    # StyleGAN3-R
    images = synthesis(ws, transform=input_transform(translate=(0.25, 0.0)))
    ```
    """

    def __init__(self, image_shape, w_dim, channel_base=32768, channel_max=512, num_layers=14,
                 num_critical=2, first_cutoff=2.0, first_stopband=2**2.1,
                 last_stopband_rel=2**0.3, margin_size=10, output_scale=0.25, conv_kernel=3,
                 filter_size=6, lrelu_upsampling=2, use_radial_filters=False, conv_clamp=256.0,
                 magnitude_ema_beta=0.999, **kwargs):  # fmt: skip
        kwargs.setdefault("dtype", "float32")  # NVIDIA's float16 layers are a CUDA-kernel matter
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        resolution, width, channels = self.image_shape
        if resolution != width or resolution < 4:
            raise ValueError(
                f"`image_shape` must be square (StyleGAN3 makes square images), at least 4x4. "
                f"Received: {tuple(image_shape)}"
            )
        self.w_dim = int(w_dim)
        self.layout_options = dict(
            channel_base=int(channel_base), channel_max=int(channel_max),
            num_layers=int(num_layers), num_critical=int(num_critical),
            first_cutoff=float(first_cutoff), first_stopband=float(first_stopband),
            last_stopband_rel=float(last_stopband_rel), margin_size=int(margin_size),
        )  # fmt: skip
        self.layer_options = dict(
            conv_kernel=int(conv_kernel), filter_size=int(filter_size),
            lrelu_upsampling=lrelu_upsampling, use_radial_filters=bool(use_radial_filters),
            conv_clamp=None if conv_clamp is None else float(conv_clamp),
            magnitude_ema_beta=float(magnitude_ema_beta),
        )  # fmt: skip
        self.output_scale = float(output_scale)
        self.num_ws = self.layout_options["num_layers"] + 2
        layout = synthesis_layout(resolution, channels, **self.layout_options)
        self.fourier_input = FourierInput(
            self.w_dim, int(layout["channels"][0]), int(layout["sizes"][0]),
            layout["sampling_rates"][0], layout["cutoffs"][0], dtype=self.dtype_policy,
            name="input",
        )  # fmt: skip
        self.layer_names = []
        resampling = {key: self.layer_options[key] for key in RESAMPLING_OPTIONS}
        for spec in layer_plan(self.image_shape, self.w_dim, **self.layout_options, **resampling):
            name = spec.pop("name")
            spec.pop("settings")
            layer = AliasFreeLayer(**spec, **self.layer_options, dtype=self.dtype_policy, name=name)
            setattr(self, name, layer)
            self.layer_names.append(name)

    @property
    def synthesis_layers(self):
        """The `AliasFreeLayer`s in order (NVIDIA's `layer_names`)."""
        return [getattr(self, name) for name in self.layer_names]

    def build(self, ws_shape=None):
        self.fourier_input.build((None, self.w_dim))
        for layer in self.synthesis_layers:
            layer.build()
        self.built = True

    def call(self, ws, training=False, transform=None, update_emas=False, noise_mode=None):
        x = self.fourier_input(ws[:, 0], transform=transform)
        for index, layer in enumerate(self.synthesis_layers):
            x = layer([x, ws[:, index + 1]], update_emas=update_emas)
        return x * self.output_scale if self.output_scale != 1 else x

    def compute_output_shape(self, ws_shape):
        return (ws_shape[0], *self.image_shape)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "w_dim": self.w_dim, **self.layout_options, "output_scale": self.output_scale,
                **self.layer_options}  # fmt: skip


def stylegan3_generator(latent_dim, image_shape, w_dim=None, config="t", mapping_layers=2,
                        num_classes=None, mapping_lr_multiplier=0.01,
                        **synthesis_options) -> keras.Model:  # fmt: skip
    """The StyleGAN3 generator: z (and labels) -> mapping -> broadcast w -> alias-free synthesis.

    Args:
        latent_dim: size of z; w_dim: size of w (default `latent_dim`).
        image_shape: `(resolution, resolution, channels)`.
        config: `"t"` (translation equivariant) or `"r"` (rotation too: 1x1 convolutions,
            radial filters, twice the widths); `synthesis_options` override it.
        mapping_layers: dense layers of the mapping network (2).
        num_classes: class-conditional (a label embedding in the mapping) when set.
        mapping_lr_multiplier: the mapping's learning-rate multiplier (0.01).
        **synthesis_options: `AliasFreeSynthesis` arguments.

    Example:

    ```python
    generator = stylegan3_generator(64, (32, 32, 3), config="r", channel_base=4096)
    ```
    """
    if config not in CONFIGS:
        raise ValueError(f"`config` must be one of {sorted(CONFIGS)}. Received: {config!r}")
    w_dim = int(w_dim or latent_dim)
    mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, num_classes, mapping_lr_multiplier,
                             name="mapping")  # fmt: skip
    synthesis = AliasFreeSynthesis(image_shape, w_dim, **{**CONFIGS[config], **synthesis_options},
                                   name="synthesis")  # fmt: skip
    return mapped_generator(mapping, synthesis, latent_dim, num_classes)

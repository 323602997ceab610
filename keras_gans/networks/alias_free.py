"""The alias-free layout of StyleGAN3's synthesis network, as NVIDIA computes it (NumPy only).

What `AliasFreeSynthesis` builds and what the converter checks a pickle against:
`synthesis_layout` (the geometric progression of cutoffs and stopbands, the sampling
rates, transition half widths, sizes and widths of every layer), `layer_settings`
(each layer's resampling factors, filter taps and padding), `layer_plan` (both, per
layer, with NVIDIA's layer names), `design_lowpass_filter` (Kaiser-windowed sinc, or
the radially symmetric jinc of StyleGAN3-R) and `input_transform` (the Fourier input's
transform for a translation and rotation, as NVIDIA's `gen_images.py` sets it).

Example:

```python
from keras_gans.networks import alias_free

alias_free.synthesis_layout(1024, 3, 32768, 512)["sampling_rates"]   # 16, 16, ..., 1024
[layer["name"] for layer in alias_free.layer_plan((32, 32, 3), 32, 1024, 32)][-1]   # L14_32_3
alias_free.input_transform(translate=(0.25, 0.0), rotate=30)          # (3, 3) float32
```
"""

from __future__ import annotations

import numpy as np

# NVIDIA's train.py: R doubles the widths, uses 1x1 convolutions and radial filters.
CONFIGS = {
    "t": dict(channel_base=32768, channel_max=512, conv_kernel=3, use_radial_filters=False),
    "r": dict(channel_base=65536, channel_max=1024, conv_kernel=1, use_radial_filters=True),
}
# SynthesisNetwork's defaults in NVIDIA's code.
LAYOUT_DEFAULTS = dict(num_layers=14, num_critical=2, first_cutoff=2.0, first_stopband=2**2.1,
                       last_stopband_rel=2**0.3, margin_size=10)  # fmt: skip
RESAMPLING_OPTIONS = ("conv_kernel", "filter_size", "lrelu_upsampling", "use_radial_filters")
LAYER_DEFAULTS = dict(conv_kernel=3, filter_size=6, lrelu_upsampling=2, use_radial_filters=False,
                      conv_clamp=256.0, magnitude_ema_beta=0.999)  # fmt: skip


def synthesis_layout(resolution, image_channels, channel_base, channel_max, num_layers=14,
                     num_critical=2, first_cutoff=2.0, first_stopband=2**2.1,
                     last_stopband_rel=2**0.3, margin_size=10) -> dict:  # fmt: skip
    """Per-layer cutoffs, stopbands, sampling rates, half widths, sizes and widths.

    Index i is layer i (0: the Fourier input's output, `num_layers`: ToRGB), computed
    as NVIDIA's `SynthesisNetwork` does: cutoffs and stopbands grow geometrically up to
    `num_layers - num_critical`, then stay at the image's Nyquist frequency.

    Args:
        resolution: the image side; image_channels: its channels.
        channel_base, channel_max: widths `rint(min(channel_base / 2 / cutoff, max))`.
        num_layers, num_critical: layers after the input (14), critically sampled ones (2).
        first_cutoff, first_stopband: f_c and f_t of the first layer.
        last_stopband_rel: the last stopband relative to the last cutoff.
        margin_size: samples kept around the image in the layers before the last two.

    Returns:
        A dict of float64 arrays of length `num_layers + 1`: "cutoffs", "stopbands",
        "sampling_rates", "half_widths", "sizes", "channels".

    Example:

    ```python
    synthesis_layout(1024, 3, 32768, 512)["sampling_rates"][-1]   # 1024.0
    ```
    """
    if num_layers <= num_critical or num_critical < 0:
        raise ValueError(
            f"`num_layers` must exceed `num_critical` >= 0. Received: num_layers={num_layers!r}, "
            f"num_critical={num_critical!r}"
        )
    last_cutoff = resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    exponents = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
    stopbands = first_stopband * (last_stopband / first_stopband) ** exponents
    sampling_rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, resolution))))
    half_widths = np.maximum(stopbands, sampling_rates / 2) - cutoffs
    sizes = sampling_rates + margin_size * 2
    sizes[-2:] = resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = image_channels
    return dict(cutoffs=cutoffs, stopbands=stopbands, sampling_rates=sampling_rates,
                half_widths=half_widths, sizes=sizes, channels=channels)  # fmt: skip


def design_lowpass_filter(numtaps, cutoff, width, fs, radial=False):
    """NVIDIA's low-pass filters: None for 1 tap, a Kaiser-windowed sinc, or a radial jinc.

    Args:
        numtaps: taps per axis; cutoff, width: cutoff frequency and transition width.
        fs: sampling rate.
        radial: a radially symmetric 2-D filter `(numtaps, numtaps)` instead of 1-D taps.

    Example:

    ```python
    design_lowpass_filter(12, cutoff=2.0, width=12.0, fs=32).shape         # (12,)
    design_lowpass_filter(12, 2.0, 12.0, 32, radial=True).sum()           # 1.0
    ```
    """
    import scipy.signal
    import scipy.special

    if numtaps == 1:
        return None
    if not radial:
        return scipy.signal.firwin(numtaps=numtaps, cutoff=cutoff, width=width, fs=fs)
    positions = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    radius = np.hypot(*np.meshgrid(positions, positions))
    safe = np.where(radius == 0, 1.0, radius)
    # jinc: J1(2 pi f_c r) / (pi r), whose limit at r = 0 is f_c
    jinc = np.where(
        radius == 0, cutoff, scipy.special.j1(2 * cutoff * np.pi * safe) / (np.pi * safe)
    )
    attenuation = scipy.signal.kaiser_atten(numtaps, width / (fs / 2))
    window = np.kaiser(numtaps, scipy.signal.kaiser_beta(attenuation))
    filtered = jinc * np.outer(window, window)
    return filtered / np.sum(filtered)


def layer_settings(w_dim, is_torgb, is_critically_sampled, in_channels, out_channels, in_size,
                   out_size, in_sampling_rate, out_sampling_rate, in_cutoff, out_cutoff,
                   in_half_width, out_half_width, conv_kernel=3, filter_size=6,
                   lrelu_upsampling=2, use_radial_filters=False) -> dict:  # fmt: skip
    """A synthesis layer's resampling: factors, filter taps, radial or not, and padding.

    Returns:
        `tmp_sampling_rate`, `conv_kernel` (1 for ToRGB), `up_factor`, `up_taps`,
        `down_factor`, `down_taps`, `down_radial` and `padding` (x0, x1, y0, y1), as
        NVIDIA's `SynthesisLayer` derives them.

    Example:

    ```python
    layer_settings(32, False, False, 64, 64, 36, 36, 16, 16, 2.0, 2.0, 6.0, 6.0)["padding"]
    # [11, 10, 11, 10]: 2x up and down with 12-tap filters, the margin kept
    ```
    """
    tmp_rate = max(in_sampling_rate, out_sampling_rate) * (1 if is_torgb else lrelu_upsampling)
    kernel = 1 if is_torgb else int(conv_kernel)
    up = int(np.rint(tmp_rate / in_sampling_rate))
    down = int(np.rint(tmp_rate / out_sampling_rate))
    if in_sampling_rate * up != tmp_rate or out_sampling_rate * down != tmp_rate:
        raise ValueError(
            f"Sampling rates {in_sampling_rate} -> {out_sampling_rate} with "
            f"lrelu_upsampling={lrelu_upsampling} do not give integer resampling factors."
        )
    up_taps = filter_size * up if up > 1 and not is_torgb else 1
    down_taps = filter_size * down if down > 1 and not is_torgb else 1
    # The output before downsampling, less the input after upsampling and the filters' reach
    total = (out_size - 1) * down + 1 - (in_size + kernel - 1) * up + up_taps + down_taps - 2
    low = (total + up) // 2  # sample positions of the symmetric interpretation
    return dict(tmp_sampling_rate=tmp_rate, conv_kernel=kernel, up_factor=up, up_taps=up_taps,
                down_factor=down, down_taps=down_taps,
                down_radial=bool(use_radial_filters and not is_critically_sampled),
                padding=[int(low), int(total - low)] * 2)  # fmt: skip


def layer_plan(
    image_shape,
    w_dim,
    channel_base,
    channel_max,
    num_layers=14,
    num_critical=2,
    first_cutoff=2.0,
    first_stopband=2**2.1,
    last_stopband_rel=2**0.3,
    margin_size=10,
    conv_kernel=3,
    filter_size=6,
    lrelu_upsampling=2,
    use_radial_filters=False,
) -> list:
    """Every synthesis layer's name, place in the layout and resampling (`layer_settings`).

    Returns:
        One dict per layer, input to ToRGB: `name` (NVIDIA's `L{index}_{size}_{channels}`),
        the `AliasFreeLayer` arguments that place it, and its `layer_settings`.

    Example:

    ```python
    [layer["name"] for layer in layer_plan((32, 32, 3), 32, 1024, 32)][-1]    # "L14_32_3"
    ```
    """
    resolution, _, channels = (int(d) for d in image_shape)
    layout = synthesis_layout(resolution, channels, channel_base, channel_max, num_layers,
                              num_critical, first_cutoff, first_stopband, last_stopband_rel,
                              margin_size)  # fmt: skip
    plan = []
    for index in range(num_layers + 1):
        prev = max(index - 1, 0)
        spec = dict(w_dim=int(w_dim), is_torgb=index == num_layers,
                    is_critically_sampled=index >= num_layers - num_critical)  # fmt: skip
        for key, part in (("channels", "channels"), ("sizes", "size"),
                          ("sampling_rates", "sampling_rate"), ("cutoffs", "cutoff"),
                          ("half_widths", "half_width")):  # fmt: skip
            spec[f"in_{part}"], spec[f"out_{part}"] = layout[key][prev], layout[key][index]
        for key in ("in_channels", "out_channels", "in_size", "out_size", "in_sampling_rate",
                    "out_sampling_rate"):  # fmt: skip
            spec[key] = int(spec[key])
        settings = layer_settings(**spec, conv_kernel=conv_kernel, filter_size=filter_size,
                                  lrelu_upsampling=lrelu_upsampling,
                                  use_radial_filters=use_radial_filters)  # fmt: skip
        name = f"L{index}_{spec['out_size']}_{spec['out_channels']}"
        plan.append({"name": name, **spec, "settings": settings})
    return plan


def input_transform(translate=(0.0, 0.0), rotate=0.0) -> np.ndarray:
    """The Fourier input's `transform` that translates and rotates the image, as gen_images.py.

    The inverse of `[[cos, sin, tx], [-sin, cos, ty], [0, 0, 1]]` (angle in degrees):
    the input's coordinates move opposite to the image.

    Args:
        translate: `(tx, ty)` in units of the image side: +x moves the image right, +y
            down (0.5: half the image).
        rotate: degrees, counter-clockwise.

    Example:

    ```python
    synthesis(ws, transform=input_transform(translate=(0.25, -0.125)))   # gen_images.py's
    ```
    """
    tx, ty = (float(t) for t in translate)
    angle = float(rotate) / 360.0 * 2 * np.pi
    sin, cos = np.sin(angle), np.cos(angle)
    forward = np.array([[cos, sin, tx], [-sin, cos, ty], [0.0, 0.0, 1.0]])
    return np.linalg.inv(forward).astype("float32")

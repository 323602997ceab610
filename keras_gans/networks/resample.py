"""FIR resampling and resampled convolutions in `keras.ops` (NHWC), as StyleGAN2 defines them.

NVIDIA's `upfirdn2d` (upsample by inserting zeros, pad, convolve with a low-pass
FIR filter, keep every `down`-th sample) and the up/down convolutions built on it
(`conv2d_resample`), written with slicing and standard convolutions so they run on
every backend and device without custom ops. The filter is separable: the 2-D
filter is the outer product of `taps` with itself, normalised to sum 1, as
`setup_filter([1, 3, 3, 1])` makes it.

Example:

```python
from keras_gans.networks import resample

taps = resample.normalized_taps((1, 3, 3, 1))
bigger = resample.upsample_2d(images, taps)                 # (B, 2H, 2W, C)
smaller = resample.downsample_2d(images, taps)              # (B, H/2, W/2, C)
y = resample.conv_up_2d(x, kernel, taps)                    # transposed conv + filter
```
"""

from __future__ import annotations

import numpy as np
from keras import ops


def normalized_taps(taps) -> tuple[float, ...]:
    """The 1-D filter `taps / sum(taps)` (a 2-D filter is its outer product with itself).

    Args:
        taps: a sequence of filter taps, e.g. `(1, 3, 3, 1)`.
    """
    array = np.asarray(taps, dtype="float64").reshape(-1)
    if array.size == 0 or not np.isfinite(array).all() or array.sum() == 0:
        raise ValueError(f"`resample_filter` must be finite taps with a non-zero sum: {taps!r}")
    return tuple(float(t) for t in array / array.sum())


def _fir_1d(x, taps, axis, up, down, pad0, pad1, gain):
    """One axis of upfirdn: zero-insert by `up`, pad (< 0 crops), convolve, keep every `down`."""
    if up > 1:
        stacked = ops.stack([x] + [ops.zeros_like(x)] * (up - 1), axis=axis + 1)
        shape = [-1] + [int(side) for side in x.shape[1:]]
        shape[axis] *= up
        x = ops.reshape(stacked, shape)
    length = x.shape[axis]
    if pad0 > 0 or pad1 > 0:
        widths = [[0, 0]] * len(x.shape)
        widths[axis] = [max(pad0, 0), max(pad1, 0)]
        x = ops.pad(x, widths)
        length += max(pad0, 0) + max(pad1, 0)
    if pad0 < 0 or pad1 < 0:
        x = _slice(x, axis, max(-pad0, 0), length - max(-pad1, 0))
        length -= max(-pad0, 0) + max(-pad1, 0)
    # A true convolution: the flipped taps correlate with the signal.
    flipped = [float(t) * gain for t in reversed(taps)]
    out_length = length - len(taps) + 1
    result = None
    for k, tap in enumerate(flipped):
        if tap == 0.0:
            continue
        term = _slice(x, axis, k, k + out_length) * tap
        result = term if result is None else result + term
    if result is None:
        result = _slice(x, axis, 0, out_length) * 0.0
    if down > 1:
        result = _slice(result, axis, 0, out_length, down)
    return result


def _slice(x, axis, start, stop, step=1):
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, stop, step)
    return x[tuple(index)]


def upfirdn_2d(x, taps, up=1, down=1, padding=(0, 0, 0, 0), gain=1.0):
    """NVIDIA's `upfirdn2d` on NHWC images with the separable filter `outer(taps, taps)`.

    Args:
        x: images `(batch, height, width, channels)`.
        taps: the normalised 1-D filter (`normalized_taps`).
        up: upsampling factor (zeros inserted after each sample).
        down: downsampling factor.
        padding: `(x_before, x_after, y_before, y_after)` in upsampled pixels; negative crops.
        gain: overall gain of the 2-D filter (`up ** 2` keeps the signal's magnitude).
    """
    px0, px1, py0, py1 = (int(p) for p in padding)
    axis_gain = float(gain) ** 0.5
    x = _fir_1d(x, taps, 2, up, down, px0, px1, axis_gain)
    return _fir_1d(x, taps, 1, up, down, py0, py1, axis_gain)


def upsample_2d(x, taps, up=2):
    """`x` upsampled `up` times with the filter, shape `(B, up H, up W, C)`."""
    size = len(taps)
    before, after = (size + up - 1) // 2, (size - up) // 2
    return upfirdn_2d(x, taps, up=up, padding=(before, after, before, after), gain=up * up)


def downsample_2d(x, taps, down=2):
    """`x` low-pass filtered and downsampled `down` times, shape `(B, H / down, W / down, C)`."""
    size = len(taps)
    before, after = (size - down + 1) // 2, (size - down) // 2
    return upfirdn_2d(x, taps, down=down, padding=(before, after, before, after))


def conv_2d(x, kernel):
    """Stride-1 correlation with a `(k, k, in, out)` kernel, padded by `k // 2` on each side."""
    return ops.conv(x, kernel, padding="same") if kernel.shape[0] % 2 else _even(x, kernel)


def _even(x, kernel):
    pad = kernel.shape[0] // 2
    x = ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    return ops.conv(x, kernel, padding="valid")


def conv_up_2d(x, kernel, taps, up=2):
    """Convolution with 2x upsampling: a strided transposed convolution, then the filter.

    `kernel` is `(k, k, in, out)`; the result is `(B, up H, up W, out)` (NVIDIA's
    `conv2d_resample(up=2, padding=k // 2)` with the weight as SynthesisLayer passes it).
    """
    k, size = int(kernel.shape[0]), len(taps)
    if k == 1:
        return upsample_2d(ops.conv(x, kernel), taps, up)
    pad = k // 2
    p0 = pad + (size + up - 1) // 2 - (k - 1)
    p1 = pad + (size - up) // 2 - (k - up)
    # conv_transpose takes (k, k, out, in): the same weights, input and output swapped.
    # (Keras' op, not networks.transposed: for NVIDIA's 256 px generator on JAX/CPU the
    # sub-pixel form measured ~20% slower, 1.19 against 1.47 images/s.)
    x = ops.conv_transpose(x, ops.transpose(kernel, (0, 1, 3, 2)), strides=up, padding="valid")
    return upfirdn_2d(x, taps, padding=(p0, p1, p0, p1), gain=up * up)


def conv_down_2d(x, kernel, taps, down=2):
    """Convolution with 2x downsampling: the filter first, then a strided correlation.

    `kernel` is `(k, k, in, out)`; the result is `(B, H / down, W / down, out)`.
    """
    k, size = int(kernel.shape[0]), len(taps)
    pad = k // 2
    p0, p1 = pad + (size - down + 1) // 2, pad + (size - down) // 2
    if k == 1:
        x = upfirdn_2d(x, taps, down=down, padding=(p0, p1, p0, p1))
        return ops.conv(x, kernel)
    x = upfirdn_2d(x, taps, padding=(p0, p1, p0, p1))
    return ops.conv(x, kernel, strides=down, padding="valid")

"""StyleGAN3's filtered leaky ReLU and its FIR resampling, in `keras.ops` (NHWC), no custom ops.

`upfirdn(x, f, up, down, padding, gain)` is NVIDIA's `upfirdn2d` for a filter held
in a tensor (a weight of the network): insert `up - 1` zeros after each sample, pad
(negative: crop), convolve with `f` (1-D: separable, applied along the width and then
the height; 2-D: non-separable, e.g. StyleGAN3-R's radial filters), keep every
`down`-th sample. Filters are depthwise convolutions (one axis at a time when separable);
separable upsampling computes each output phase from the input samples it meets (no
multiplications by the inserted zeros) and downsampling only the kept samples. Inputs
and outputs are NHWC; on torch the filtering runs channels-first inside (Keras' torch
convolutions copy NHWC inputs twice per call, the bulk of the time at 1024x1024).

`filtered_lrelu` is the alias-free non-linearity, in NVIDIA's documented order:
add the bias, upsample `up` times with `up_filter` (gain `up ** 2`), pad, leaky ReLU
(`slope`) times `gain`, clamp to +-`clamp`, filter with `down_filter` and keep every
`down`-th sample. Its output size per axis is
`(in * up + pad0 + pad1 - (len(up_filter) - 1) - (len(down_filter) - 1) + down - 1) // down`.

Example:

```python
from keras_gans.networks.filtered_lrelu import filtered_lrelu

# (B, 36, 36, C) -> 2x up, 12-tap filters, back down: (B, 36, 36, C)
y = filtered_lrelu(x, up_filter, down_filter, bias, up=2, down=2, padding=(11, 10, 11, 10),
                   gain=2**0.5, slope=0.2, clamp=256)
```
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_gans.utils.device import jax_on_cpu

SQRT2 = math.sqrt(2.0)
# The layout the filtering runs in: (batch, channels, height, width) on torch.
_CHANNELS_FIRST = keras.backend.backend() == "torch"
_FORMAT = "channels_first" if _CHANNELS_FIRST else "channels_last"
_H, _W, _C = (2, 3, 1) if _CHANNELS_FIRST else (1, 2, 3)


def _to_internal(x):
    return ops.transpose(x, (0, 3, 1, 2)) if _CHANNELS_FIRST else x


def _to_nhwc(x):
    return ops.transpose(x, (0, 2, 3, 1)) if _CHANNELS_FIRST else x


def _slice(x, axis, start, stop, step=1):
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, stop, step)
    return x[tuple(index)]


def _pad_axis(x, axis, before, after):
    """Zero-pads (positive) or crops (negative) `x` along `axis`."""
    if before > 0 or after > 0:
        widths = [[0, 0]] * len(x.shape)
        widths[axis] = [max(before, 0), max(after, 0)]
        x = ops.pad(x, widths)
    if before < 0 or after < 0:
        length = int(x.shape[axis])
        x = _slice(x, axis, max(-before, 0), length - max(-after, 0))
    return x


def _merge(x, axis, factor):
    """`(..., n, ..., factor)` stacked after `axis` -> `(..., n * factor, ...)`."""
    shape = [-1] + [int(side) for side in x.shape[1:]]
    del shape[axis + 1]
    shape[axis] *= factor
    return ops.reshape(x, shape)


def _zero_insert(x, axis, up):
    """`up - 1` zeros after each sample along `axis`."""
    return _merge(ops.stack([x] + [ops.zeros_like(x)] * (up - 1), axis=axis + 1), axis, up)


def _depthwise(x, kernel, strides):
    """Depthwise correlation of `x` (internal layout) with `kernel` `(kh, kw, M)`, valid.

    Output channel `c * M + m` is channel c with kernel m, as `depthwise_conv` orders them.
    """
    if jax_on_cpu():
        return _depthwise_by_taps(x, kernel, strides)
    channels = int(x.shape[_C])
    kernel = ops.tile(kernel[:, :, None, :], (1, 1, channels, 1))
    return ops.depthwise_conv(x, kernel, strides=strides, padding="valid", data_format=_FORMAT)


def _phases(x, axis, stride, length):
    """`[x[..., r::stride, ...] for r in range(stride)]`, each `length` long along `axis`.

    By a reshape, not strided slices: the gradient of a strided slice is an interior
    padding that XLA's CPU backend writes out once per slice.
    """
    if stride == 1:
        return [_pad_axis(x, axis, 0, length - int(x.shape[axis]))]
    x = _pad_axis(x, axis, 0, length * stride - int(x.shape[axis]))
    shape = [-1] + [int(side) for side in x.shape[1:]]
    shape[axis : axis + 1] = [length, stride]
    x = ops.reshape(x, shape)
    return [ops.squeeze(_slice(x, axis + 1, r, r + 1), axis + 1) for r in range(stride)]


def _depthwise_by_taps(x, kernel, strides):
    """`_depthwise` as a sum over the taps of shifted, strided slices times each tap.

    XLA's CPU backend runs grouped convolutions, and their gradients most of all, far
    below this elementwise sum it fuses into one loop (12-tap 2x up- and downsampling
    of 8x36x36x64, forward and input gradient: 388 and 108 ms as convolutions, 92 and
    11 ms as sums, on 2 cores). The products and their order of summation per output
    are the convolution's, so results agree to float rounding.
    """
    kh, kw, outputs = (int(d) for d in kernel.shape)
    sh, sw = strides
    out_h = (int(x.shape[_H]) - kh) // sh + 1
    out_w = (int(x.shape[_W]) - kw) // sw + 1
    kernel = ops.cast(kernel, x.dtype)
    phases = [_phases(rows, _W, sw, out_w + (kw - 1) // sw)
              for rows in _phases(x, _H, sh, out_h + (kh - 1) // sh)]  # fmt: skip
    per_output = []
    for m in range(outputs):
        total = None
        for i in range(kh):
            for j in range(kw):
                window = _slice(phases[i % sh][j % sw], _H, i // sh, i // sh + out_h)
                term = _slice(window, _W, j // sw, j // sw + out_w) * kernel[i, j, m]
                total = term if total is None else total + term
        per_output.append(total)
    if outputs == 1:
        return per_output[0]
    y = ops.stack(per_output, axis=_C + 1)  # channel c, output m -> channel c * M + m
    return _merge(y, _C, outputs)


def _depthwise_axis(x, taps, axis, stride=1):
    """Each channel correlated along `axis` with `taps` `(T, M)` (M outputs per channel)."""
    if axis == _W:
        return _depthwise(x, taps[None], (1, stride))
    return _depthwise(x, taps[:, None], (stride, 1))


def _upsample_axis(x, taps, axis, up, pad0, pad1):
    """Zero-insert by `up`, pad, correlate with `taps`: every output phase in one convolution.

    Output `m = up * j + r` only meets the taps `r'` congruent to `pad0 - r` (mod up) and
    input samples `j + t + offset_r`: one column of taps per phase, aligned to a common
    window, so that one depthwise convolution with `up` outputs per channel computes all
    phases, then interleaved. No multiplication by the inserted zeros.
    """
    length, num_taps = int(x.shape[axis]), int(taps.shape[0])
    out_length = length * up + pad0 + pad1 - num_taps + 1
    count = -(-out_length // up)  # outputs per phase
    phases = []
    for phase in range(up):
        first = (pad0 - phase) % up  # the first tap that meets an input sample
        offset = (phase + first - pad0) // up  # input index of output 0 under that tap
        phases.append((first, len(range(first, num_taps, up)), offset))
    start = min(offset for _, _, offset in phases)
    width = max(offset - start + size for _, size, offset in phases)
    columns = []
    for first, size, offset in phases:
        parts = [ops.zeros((offset - start,), taps.dtype), taps[first::up][:size],
                 ops.zeros((width - (offset - start) - size,), taps.dtype)]  # fmt: skip
        columns.append(ops.concatenate(parts, axis=0))
    stop = start + count + width - 1  # the window of input samples, zero outside x
    x = _pad_axis(x, axis, -start, stop - length)
    y = _depthwise_axis(x, ops.stack(columns, axis=1), axis)  # channels * up outputs
    # (..., channels * up, ...) -> the phase axis right after `axis`, then merged into it
    shape = [-1] + [int(side) for side in y.shape[1:]]
    shape[_C : _C + 1] = [shape[_C] // up, up]
    y = ops.reshape(y, shape)
    order = [dim for dim in range(5) if dim != _C + 1]
    order.insert(axis + 1, _C + 1)
    y = _merge(ops.transpose(y, order), axis, up)
    return _slice(y, axis, 0, out_length)


def _separable_axis(x, taps, axis, up, down, pad0, pad1):
    if up > 1 and down == 1:
        return _upsample_axis(x, taps, axis, up, pad0, pad1)
    if up > 1:
        x = _zero_insert(x, axis, up)
    x = _pad_axis(x, axis, pad0, pad1)
    return _depthwise_axis(x, taps[:, None], axis, down)


def _check_resampling(up, down, padding):
    for name, value in (("up", up), ("down", down)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {value!r}")
    if isinstance(padding, int):
        padding = (padding,) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        padding = (padding[0], padding[0], padding[1], padding[1])
    if len(padding) != 4:
        raise ValueError(
            "`padding` must be an int, (x, y) or (x_before, x_after, y_before, y_after). "
            f"Received: {padding!r}"
        )
    return int(up), int(down), padding


def _upfirdn(x, f, up, down, padding, gain):
    """`upfirdn` in the internal layout."""
    px0, px1, py0, py1 = padding
    dtype = x.dtype
    if f is None and up == 1 and down == 1:
        x = _pad_axis(_pad_axis(x, _W, px0, px1), _H, py0, py1)
        return x if float(gain) == 1.0 else x * float(gain)
    if f is None:
        f = ops.ones((1,), dtype)
    f = ops.cast(ops.convert_to_tensor(f), dtype)
    if len(f.shape) == 1:
        taps = ops.flip(f, 0) * math.sqrt(float(gain))  # convolution: flipped taps correlate
        x = _separable_axis(x, taps, _W, up, down, px0, px1)
        return _separable_axis(x, taps, _H, up, down, py0, py1)
    if len(f.shape) != 2:
        raise ValueError(f"`f` must be None, 1-D taps or a 2-D filter. Received shape {f.shape}")
    if up > 1:
        x = _zero_insert(_zero_insert(x, _H, up), _W, up)
    x = _pad_axis(_pad_axis(x, _W, px0, px1), _H, py0, py1)
    # A depthwise correlation with the flipped filter is the filter's convolution.
    kernel = ops.flip(ops.flip(f, 0), 1) * float(gain)
    return _depthwise(x, kernel[:, :, None], (down, down))


def upfirdn(x, f=None, up=1, down=1, padding=0, gain=1.0):
    """NVIDIA's `upfirdn2d` on NHWC images with a filter held in a tensor or array.

    Args:
        x: images `(batch, height, width, channels)`.
        f: the FIR filter: None (identity), 1-D taps (separable: the same taps along the
            width and the height) or a 2-D `(height, width)` filter. A convolution: the
            filter is flipped before it slides over the samples.
        up: upsampling factor (`up - 1` zeros after each sample).
        down: downsampling factor (every `down`-th sample kept).
        padding: int, `(x, y)` or `(x_before, x_after, y_before, y_after)` in upsampled
            samples; negative values crop.
        gain: overall gain of the filter (`up ** 2` keeps the magnitude when upsampling).

    Returns:
        `(batch, out_h, out_w, channels)` with `out = (in * up + pad0 + pad1 - taps + down)
        // down` per axis.

    Example:

    ```python
    y = upfirdn(x, taps, up=2, padding=(6, 5, 6, 5), gain=4)   # 12 taps: (B, 2H, 2W, C)
    ```
    """
    up, down, padding = _check_resampling(up, down, padding)
    x = _to_internal(ops.convert_to_tensor(x))
    return _to_nhwc(_upfirdn(x, f, up, down, padding, gain))


def filtered_lrelu(x, up_filter=None, down_filter=None, bias=None, up=1, down=1, padding=0,
                   gain=SQRT2, slope=0.2, clamp=None):  # fmt: skip
    """Bias, `up`x upsampling, leaky ReLU, gain, clamp and `down`x downsampling (StyleGAN3).

    What NVIDIA's `filtered_lrelu` documents, step by step: add `bias` per channel;
    insert `up - 1` zeros after each sample, pad by `padding` and convolve with
    `up_filter` (gain `up ** 2`); leaky ReLU with negative `slope`, times `gain`; clamp
    to [-clamp, clamp]; convolve with `down_filter` and keep every `down`-th sample.

    Args:
        x: `(batch, height, width, channels)`.
        up_filter, down_filter: None (identity), 1-D separable taps or a 2-D filter.
        bias: `(channels,)` or None.
        up, down: integer resampling factors.
        padding: padding of the upsampled image (int, `(x, y)` or four values); negative
            crops.
        gain: output gain of the activation (sqrt(2); 1 for ToRGB).
        slope: the leaky ReLU's negative slope (0.2; 1 is linear).
        clamp: None or the clamp of the activation's output.

    Example:

    ```python
    y = filtered_lrelu(x, fu, fd, bias, up=2, down=2, padding=(11, 10, 11, 10), clamp=256)
    ```
    """
    up, down, padding = _check_resampling(up, down, padding)
    if float(gain) <= 0 or float(slope) < 0 or (clamp is not None and float(clamp) < 0):
        raise ValueError(
            f"`gain` must be > 0, `slope` >= 0 and `clamp` None or >= 0. Received: "
            f"gain={gain!r}, slope={slope!r}, clamp={clamp!r}"
        )
    x = ops.convert_to_tensor(x)
    if bias is not None:
        x = x + ops.cast(bias, x.dtype)
    x = _to_internal(x)
    # gain * lrelu(x) = lrelu(gain * x) for gain > 0: the gain rides on the upsampling filter
    x = _upfirdn(x, up_filter, up, 1, padding, up * up * float(gain))
    if float(slope) != 1.0:
        x = ops.leaky_relu(x, negative_slope=float(slope))
    if clamp is not None:
        x = ops.clip(x, -float(clamp), float(clamp))
    return _to_nhwc(_upfirdn(x, down_filter, 1, down, (0, 0, 0, 0), 1.0))

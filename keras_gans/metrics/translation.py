"""Scores of image-to-image translations: L1, PSNR and SSIM against targets, class agreement.

Images are in [-1, 1] (data range 2). Each function returns the mean over images.

Example:

```python
from keras_gans.metrics import translation

translated = pix2pix.translate(test_edges)
translation.mean_absolute_error(translated, test_digits)   # L1
translation.psnr(translated, test_digits)                   # dB
translation.ssim(translated, test_digits)
```
"""

from __future__ import annotations

import numpy as np

DATA_RANGE = 2.0  # [-1, 1]


def _pair(images, targets):
    images, targets = np.asarray(images, "float64"), np.asarray(targets, "float64")
    if images.shape != targets.shape or images.ndim != 4:
        raise ValueError(
            "`images` and `targets` must be batches (N, H, W, C) of one shape; received "
            f"{images.shape} and {targets.shape}."
        )
    return images, targets


def mean_absolute_error(images, targets) -> float:
    """Mean absolute pixel difference (the L1 of Pix2Pix's objective)."""
    images, targets = _pair(images, targets)
    return float(np.mean(np.abs(images - targets)))


def psnr(images, targets) -> float:
    """Mean peak signal-to-noise ratio in dB: `10 log10(range^2 / MSE)` per image."""
    images, targets = _pair(images, targets)
    mse = np.mean((images - targets) ** 2, axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(DATA_RANGE**2 / np.maximum(mse, 1e-10))))


def ssim(images, targets, window: int = 7) -> float:
    """Mean structural similarity (Wang et al., 2004), uniform `window` x `window`, per channel.

    Local means, variances and the covariance come from a sliding box (as
    scikit-image's default); the map is averaged over windows that fit inside
    the image, then over channels and images.
    """
    images, targets = _pair(images, targets)
    if min(images.shape[1:3]) < window:
        raise ValueError(f"SSIM needs images of at least {window}x{window} pixels.")
    c1, c2 = (0.01 * DATA_RANGE) ** 2, (0.03 * DATA_RANGE) ** 2

    def local_mean(x):
        windows = np.lib.stride_tricks.sliding_window_view(x, (window, window), axis=(1, 2))
        return windows.mean(axis=(-2, -1))

    mean_x, mean_y = local_mean(images), local_mean(targets)
    var_x = local_mean(images * images) - mean_x**2  # E[x^2] - E[x]^2
    var_y = local_mean(targets * targets) - mean_y**2
    cov = local_mean(images * targets) - mean_x * mean_y  # E[xy] - E[x]E[y]
    # Sample (not population) statistics over the window, as in the paper's reference code.
    correction = window * window / (window * window - 1)
    var_x, var_y, cov = var_x * correction, var_y * correction, cov * correction
    numerator = (2 * mean_x * mean_y + c1) * (2 * cov + c2)
    denominator = (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
    return float(np.mean(numerator / denominator))


def class_agreement(classify, sources, translations) -> float:
    """How often a classifier gives a source and its translation the same class.

    Args:
        classify: a function from images to class logits (or probabilities).
        sources: the images before translation.
        translations: the same images translated, in the same order.
    """
    before = np.argmax(np.asarray(classify(sources)), axis=-1)
    after = np.argmax(np.asarray(classify(translations)), axis=-1)
    return float(np.mean(before == after))


def paired_scores(images, targets) -> dict:
    """`{"l1": ..., "psnr": ..., "ssim": ...}` of translations against their targets."""
    return {
        "l1": mean_absolute_error(images, targets),
        "psnr": psnr(images, targets),
        "ssim": ssim(images, targets),
    }

"""Kernel distance (KID): unbiased MMD^2 with a cubic polynomial kernel."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from keras_gans.metrics.extractors import FeatureExtractor, get_feature_extractor
from keras_gans.metrics.statistics import FeatureStatistics, as_statistics


def _cubic_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    k = x @ y.T
    k /= x.shape[1]
    k += 1.0
    cube = k * k
    cube *= k
    return cube


def _polynomial_mmd(x: np.ndarray, y: np.ndarray) -> float:
    m = x.shape[0]
    k_xx, k_yy, k_xy = _cubic_kernel(x, x), _cubic_kernel(y, y), _cubic_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.mean())


def kernel_distance(
    features_a: Any,
    features_b: Any,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel distance: unbiased MMD^2 with `k(x, y) = (x.y / d + 1)^3`.

    As in Binkowski et al. (2018), "Demystifying MMD GANs": the unbiased
    estimate is averaged over `num_subsets` random subsets of `subset_size`
    rows drawn without replacement from each set. It can be slightly
    negative when the two sets come from the same distribution.

    Args:
        features_a: Features `(N_a, D)`.
        features_b: Features `(N_b, D)`.
        num_subsets: Number of random subsets.
        subset_size: Rows per subset, capped at `min(N_a, N_b)`.
        seed: Seed of the subset draws.

    Returns:
        `(mean, standard_error)`: the mean over subsets and the standard error
        of that mean (`std(ddof=1) / sqrt(num_subsets)`; subsets overlap, so
        it understates the true uncertainty; `nan` for a single subset).

    Example:

    ```python
    kid, kid_se = kernel_distance(real_features, fake_features)
    ```
    """
    a = np.asarray(features_a, dtype="float64")
    b = np.asarray(features_b, dtype="float64")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"Features must be (N, D) arrays with the same D; got shapes {a.shape} and {b.shape}."
        )
    if num_subsets < 1:
        raise ValueError(f"`num_subsets` must be positive, got {num_subsets}.")
    m = min(subset_size, a.shape[0], b.shape[0])
    if m < 2:
        raise ValueError(
            "The kernel distance needs at least 2 rows in each set; got "
            f"{a.shape[0]} and {b.shape[0]} (subset_size={subset_size})."
        )
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        x = a[rng.choice(a.shape[0], m, replace=False)]
        y = b[rng.choice(b.shape[0], m, replace=False)]
        values[i] = _polynomial_mmd(x, y)
    if num_subsets == 1:
        return float(values[0]), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(num_subsets))


def _features_of(
    images_or_stats: Any,
    extractor: FeatureExtractor,
    batch_size: int,
    max_features: int | None,
) -> np.ndarray:
    if isinstance(images_or_stats, FeatureStatistics):
        return images_or_stats.features
    stats = as_statistics(images_or_stats, extractor, batch_size, True, max_features=max_features)
    return stats.features


def kernel_inception_distance(
    real: Any,
    fake: Any,
    extractor: str | FeatureExtractor | Any = "fid_inception",
    batch_size: int = 50,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    max_features: int | None = None,
) -> tuple[float, float]:
    """KID: the kernel distance between the features of two image sets.

    Args:
        real: Images `(N, H, W, C)` in `[-1, 1]`, an iterable of such batches,
            or `FeatureStatistics` made with `keep_features=True`.
        fake: Same as `real`, for the generated images.
        extractor: `"fid_inception"`, a `FeatureExtractor`, a `keras.Model` or
            a callable; see `get_feature_extractor`.
        batch_size: Images per extractor call.
        num_subsets: Number of random subsets.
        subset_size: Rows per subset, capped by the sample counts.
        seed: Seed of the subset draws.
        max_features: Cap on the features kept per set (random subset).

    Returns:
        `(mean, standard_error)`; see `kernel_distance`.

    Example:

    ```python
    kid, kid_se = kernel_inception_distance(x_test, gan.generate(5000, seed=0))
    ```
    """
    extractor = get_feature_extractor(extractor)
    a = _features_of(real, extractor, batch_size, max_features)
    b = _features_of(fake, extractor, batch_size, max_features)
    return kernel_distance(a, b, num_subsets, subset_size, seed)

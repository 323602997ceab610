"""Frechet distance between Gaussians fitted to features (FID)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.linalg

from keras_gans.metrics.extractors import FeatureExtractor, get_feature_extractor
from keras_gans.metrics.statistics import as_statistics


def _sqrtm(matrix: np.ndarray) -> tuple[np.ndarray, bool]:
    """Returns `(sqrtm(matrix), ok)`; `ok` is False if scipy warned or failed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
        try:
            root = scipy.linalg.sqrtm(matrix)
        except (scipy.linalg.LinAlgWarning, scipy.linalg.LinAlgError):
            return np.full_like(matrix, np.nan), False
    return root, bool(np.isfinite(root).all())


def frechet_distance(
    mu1: Any,
    sigma1: Any,
    mu2: Any,
    sigma2: Any,
    eps: float = 1e-6,
) -> float:
    """Frechet distance between two Gaussians `N(mu1, sigma1)` and `N(mu2, sigma2)`.

    `d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrtm(sigma1 sigma2))`.
    If `sigma1 @ sigma2` is singular (e.g. fewer samples than feature
    dimensions), `eps * I` is added to both covariances. Imaginary parts of
    the matrix square root left by round-off are dropped; large ones raise.

    Args:
        mu1: Mean `(D,)` of the first Gaussian.
        sigma1: Covariance `(D, D)` of the first Gaussian.
        mu2: Mean `(D,)` of the second Gaussian.
        sigma2: Covariance `(D, D)` of the second Gaussian.
        eps: Diagonal offset used when the product is singular.

    Returns:
        The squared Frechet distance, a Python float.

    Example:

    ```python
    d = frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))  # 2.0
    ```
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype="float64"))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype="float64"))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype="float64"))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype="float64"))
    if mu1.ndim != 1 or mu1.shape != mu2.shape:
        raise ValueError(
            f"Means must be vectors of the same length; got {mu1.shape} and {mu2.shape}."
        )
    d = mu1.shape[0]
    if sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"Covariances must have shape ({d}, {d}); got {sigma1.shape} and {sigma2.shape}."
        )
    diff = mu1 - mu2
    covmean, ok = _sqrtm(sigma1 @ sigma2)
    if not ok:
        offset = np.eye(d) * eps
        covmean, ok = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if not ok:
            raise ValueError(
                "Could not compute the matrix square root of the covariance "
                f"product, even with an offset of {eps} on the diagonal. Check "
                "the features for NaNs or use more samples."
            )
    if np.iscomplexobj(covmean):
        imaginary = np.max(np.abs(np.diagonal(covmean).imag))
        if imaginary > 1e-3:
            raise ValueError(
                "The matrix square root of the covariance product has a large "
                f"imaginary component ({imaginary:.3g}); the covariances are "
                "probably ill-conditioned. Use more samples."
            )
        covmean = covmean.real
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)
    return float(value)


def frechet_inception_distance(
    real: Any,
    fake: Any,
    extractor: str | FeatureExtractor | Any = "fid_inception",
    batch_size: int = 50,
) -> float:
    """FID: the Frechet distance between feature Gaussians of two image sets.

    Args:
        real: Images `(N, H, W, C)` in `[-1, 1]`, an iterable of such batches,
            or precomputed `FeatureStatistics` (see `reference_statistics`).
        fake: Same as `real`, for the generated images.
        extractor: `"fid_inception"`, a `FeatureExtractor`, a `keras.Model` or
            a callable; see `get_feature_extractor`.
        batch_size: Images per extractor call.

    Returns:
        The FID, a Python float (lower is better).

    Example:

    ```python
    fake = gan.generate(10_000, seed=0)
    fid = frechet_inception_distance(x_test, fake)
    ```
    """
    extractor = get_feature_extractor(extractor)
    a = as_statistics(real, extractor, batch_size)
    b = as_statistics(fake, extractor, batch_size)
    return frechet_distance(a.mean, a.covariance, b.mean, b.covariance)

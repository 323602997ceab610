"""Precision / recall (Kynkaanniemi et al. 2019) and density / coverage (Naeem et al. 2020).

All four compare k-nearest-neighbour balls around feature vectors:

- precision: share of fake samples inside at least one real sample's ball
  (its radius: the distance to its k-th nearest real neighbour);
- recall: share of real samples inside at least one fake sample's ball;
- density: number of real balls holding each fake sample, divided by k and
  averaged (about 1 when fakes are distributed like the reals; unbounded);
- coverage: share of real samples whose ball holds at least one fake sample.

Comparisons are strict (`distance < radius`) as in the `prdc` reference code
of Naeem et al., and a sample is its own nearest neighbour (distance 0), so
the radius is the `(k + 1)`-th smallest distance to the sample's own set.

Example:

```python
from keras_gans.metrics import precision_recall

scores = precision_recall(real_features, fake_features, k=3)
scores["precision"], scores["recall"], scores["density"], scores["coverage"]
```
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_gans.utils.arguments import check_integer

METRIC_NAMES = ("precision", "recall", "density", "coverage")


def _as_features(name: str, features: Any) -> np.ndarray:
    x = np.asarray(features, dtype="float64")
    if x.ndim != 2:
        raise ValueError(f"`{name}` must be a feature array of shape (N, D); got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return x


def _distances(a: np.ndarray, b: np.ndarray, a_sq: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    squared = a_sq[:, None] - 2.0 * (a @ b.T) + b_sq[None, :]
    return np.sqrt(np.maximum(squared, 0.0))


def nearest_neighbour_radii(features: Any, k: int = 3, batch_size: int = 1000) -> np.ndarray:
    """Distance of each row to its k-th nearest other row (itself excluded).

    Args:
        features: Array `(N, D)`, `N > k`.
        k: Neighbour rank, a positive integer.
        batch_size: Rows per block of the `(batch_size, N)` distance matrix.

    Returns:
        Float64 radii `(N,)`.

    Example:

    ```python
    radii = nearest_neighbour_radii(np.random.randn(100, 8), k=3)
    ```
    """
    x = _as_features("features", features)
    _check_k(k, x.shape[0], "features")
    squared = np.einsum("ij,ij->i", x, x)
    radii = np.empty(x.shape[0])
    for start in range(0, x.shape[0], batch_size):
        block = _distances(
            x[start : start + batch_size], x, squared[start : start + batch_size], squared
        )
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = 0.0  # Exactly 0 to itself, whatever the round-off.
        radii[start : start + len(block)] = np.partition(block, k, axis=1)[:, k]
    return radii


def _check_k(k: Any, n: int, name: str) -> None:
    check_integer("k", k)
    if n <= k:
        raise ValueError(f"`{name}` needs more than k={k} rows to find k neighbours; got {n}.")


def precision_recall(
    real_features: Any,
    fake_features: Any,
    k: int = 3,
    batch_size: int = 1000,
) -> dict[str, float]:
    """Precision, recall, density and coverage of fake features against real ones.

    Precision and recall are those of Kynkaanniemi et al. 2019 ("Improved
    precision and recall metric for assessing generative models"), density
    and coverage those of Naeem et al. 2020 ("Reliable fidelity and diversity
    metrics for generative models"), computed like the `prdc` package, with
    `k = 3` neighbours by default (the value Naeem et al. recommend for
    density and coverage; Kynkaanniemi et al. use k = 3 too). Distances are
    computed in float64 blocks of `batch_size` rows, so 10k x 10k features
    need about `8 * batch_size * 10k` bytes at a time, not `8 * 10k * 10k`.

    Args:
        real_features: Real features `(N, D)` (e.g. FID Inception pool3).
        fake_features: Generated features `(M, D)`.
        k: Nearest-neighbour rank of the ball radii.
        batch_size: Rows per block of the distance matrices.

    Returns:
        `{"precision", "recall", "density", "coverage"}` as Python floats;
        precision, recall and coverage are in `[0, 1]`, density is `>= 0`.

    Example:

    ```python
    real = np.random.randn(1000, 64)
    scores = precision_recall(real, real + 0.1 * np.random.randn(1000, 64))
    ```
    """
    real = _as_features("real_features", real_features)
    fake = _as_features("fake_features", fake_features)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"`real_features` and `fake_features` must have the same D; got "
            f"{real.shape[1]} and {fake.shape[1]}."
        )
    check_integer("batch_size", batch_size)
    _check_k(k, real.shape[0], "real_features")
    _check_k(k, fake.shape[0], "fake_features")
    real_radii = nearest_neighbour_radii(real, k, batch_size)
    fake_radii = nearest_neighbour_radii(fake, k, batch_size)
    real_sq = np.einsum("ij,ij->i", real, real)
    fake_sq = np.einsum("ij,ij->i", fake, fake)
    inside_real = np.zeros(fake.shape[0], dtype="int64")  # Real balls holding each fake.
    recalled = np.zeros(real.shape[0], dtype=bool)  # Real inside some fake ball.
    nearest_fake = np.full(real.shape[0], np.inf)  # Distance of each real to its nearest fake.
    for start in range(0, fake.shape[0], batch_size):
        stop = start + batch_size
        block = _distances(real, fake[start:stop], real_sq, fake_sq[start:stop])  # (N, b)
        inside_real[start:stop] = (block < real_radii[:, None]).sum(axis=0)
        recalled |= (block < fake_radii[None, start:stop]).any(axis=1)
        np.minimum(nearest_fake, block.min(axis=1), out=nearest_fake)
    return {
        "precision": float((inside_real > 0).mean()),
        "recall": float(recalled.mean()),
        "density": float(inside_real.mean() / k),
        "coverage": float((nearest_fake < real_radii).mean()),
    }

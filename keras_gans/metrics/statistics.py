"""Streaming feature statistics and the on-disk cache of reference statistics."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from typing import Any

import numpy as np

from keras_gans.metrics.extractors import FeatureExtractor, get_feature_extractor
from keras_gans.utils import files


class FeatureStatistics:
    """Running mean and covariance of feature vectors, fed batch by batch.

    Sums are kept in float64 and merged with Chan's parallel update, so `mean`
    and `covariance` match `numpy.mean(x, 0)` and `numpy.cov(x, rowvar=False)`
    (unbiased, divided by N - 1) of all rows seen, to float64 round-off.

    Args:
        keep_features: Whether to also keep the raw feature rows (the kernel
            distance needs them). They are stored as float32.
        max_features: Keep at most this many rows. Once more rows have been
            seen, a uniform random subset of this size is kept (reservoir
            sampling, seeded by `seed`). `None` keeps all of them.
        seed: Seed of the reservoir sampling.

    Example:

    ```python
    stats = FeatureStatistics()
    for batch in np.array_split(features, 10):
        stats.update(batch)
    stats.mean, stats.covariance
    ```
    """

    def __init__(
        self,
        keep_features: bool = False,
        max_features: int | None = None,
        seed: int = 0,
    ):
        if max_features is not None and max_features < 1:
            raise ValueError(f"`max_features` must be positive, got {max_features}.")
        self.keep_features = keep_features
        self.max_features = max_features
        self.seed = seed
        self.metadata: dict[str, Any] = {}
        self._count = 0
        self._mean: np.ndarray | None = None
        self._m2: np.ndarray | None = None
        self._chunks: list[np.ndarray] = []
        self._rng = np.random.default_rng(seed)

    @classmethod
    def from_features(
        cls,
        features: np.ndarray,
        keep_features: bool = False,
        max_features: int | None = None,
    ) -> FeatureStatistics:
        """Builds statistics from one `(N, D)` array of features.

        Args:
            features: Array of shape `(N, D)`.
            keep_features: Whether to keep the rows themselves.
            max_features: Cap on the rows kept.

        Example:

        ```python
        stats = FeatureStatistics.from_features(np.random.randn(100, 8))
        ```
        """
        return cls(keep_features=keep_features, max_features=max_features).update(features)

    @property
    def count(self) -> int:
        """Number of feature rows seen."""
        return self._count

    @property
    def dim(self) -> int | None:
        """Feature dimension, or `None` before the first update."""
        return None if self._mean is None else self._mean.shape[0]

    @property
    def mean(self) -> np.ndarray:
        """Mean feature vector, float64 of shape `(D,)`."""
        if self._count == 0:
            raise ValueError("No features seen yet: call `update()` first.")
        return self._mean.copy()

    @property
    def covariance(self) -> np.ndarray:
        """Unbiased covariance (divided by N - 1), float64 of shape `(D, D)`."""
        if self._count < 2:
            raise ValueError(f"The covariance needs at least 2 feature rows, got {self._count}.")
        return self._m2 / (self._count - 1)

    @property
    def features(self) -> np.ndarray:
        """The kept feature rows, float32 of shape `(min(N, max_features), D)`."""
        if not self.keep_features:
            raise ValueError(
                "These statistics do not keep raw features; create them with "
                "`keep_features=True` (the kernel distance needs them)."
            )
        self._consolidate()
        if not self._chunks:
            return np.zeros((0, self.dim or 0), dtype="float32")
        return self._chunks[0]

    def update(self, features: Any) -> FeatureStatistics:
        """Adds a batch of feature rows.

        Args:
            features: Array-like of shape `(N, D)`.

        Returns:
            `self`, so calls can be chained.

        Example:

        ```python
        stats = FeatureStatistics().update(batch_a).update(batch_b)
        ```
        """
        batch = np.asarray(features, dtype="float64")
        if batch.ndim != 2:
            raise ValueError(f"Features must have shape (N, D); got shape {batch.shape}.")
        if self._mean is not None and batch.shape[1] != self._mean.shape[0]:
            raise ValueError(
                f"Feature dimension changed from {self._mean.shape[0]} to {batch.shape[1]}."
            )
        n_b = batch.shape[0]
        if n_b == 0:
            return self
        mean_b = batch.mean(axis=0)
        centered = batch - mean_b
        m2_b = centered.T @ centered
        if self._count == 0:
            self._mean, self._m2 = mean_b, m2_b
        else:
            n_a = self._count
            n = n_a + n_b
            delta = mean_b - self._mean
            self._mean = self._mean + delta * (n_b / n)
            self._m2 = self._m2 + m2_b + np.outer(delta, delta) * (n_a * n_b / n)
        if self.keep_features:
            self._keep(batch.astype("float32"))
        self._count += n_b
        return self

    def _keep(self, batch: np.ndarray) -> None:
        cap = self.max_features
        kept = sum(len(chunk) for chunk in self._chunks)
        take = len(batch) if cap is None else max(0, min(cap - kept, len(batch)))
        if take:
            self._chunks.append(batch[:take])
        rest = batch[take:]
        if len(rest):
            # Reservoir sampling: the row with global index t replaces a kept
            # row with probability cap / (t + 1).
            self._consolidate()
            store = self._chunks[0]
            t = np.arange(self._count + take, self._count + len(batch))
            slots = self._rng.integers(0, t + 1)
            hit = slots < cap
            store[slots[hit]] = rest[hit]

    def _consolidate(self) -> None:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]

    def save(self, path: str | os.PathLike) -> None:
        """Writes the statistics to a `.npz` file, atomically.

        Args:
            path: Destination file.

        Example:

        ```python
        stats.save("cifar10_train.npz")
        stats = FeatureStatistics.load("cifar10_train.npz")
        ```
        """
        arrays = {
            "count": np.asarray(self._count, dtype="int64"),
            "mean": self._mean if self._mean is not None else np.zeros(0),
            "m2": self._m2 if self._m2 is not None else np.zeros((0, 0)),
            "keep_features": np.asarray(self.keep_features),
            "max_features": np.asarray(-1 if self.max_features is None else self.max_features),
            "seed": np.asarray(self.seed),
            "metadata": np.asarray(json.dumps(self.metadata, sort_keys=True)),
        }
        if self.keep_features:
            arrays["features"] = self.features
        _atomic_savez(path, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureStatistics:
        """Reads statistics written by `save()`.

        Args:
            path: A `.npz` file written by `FeatureStatistics.save`.

        Example:

        ```python
        stats = FeatureStatistics.load("cifar10_train.npz")
        ```
        """
        with np.load(path, allow_pickle=False) as data:
            max_features = int(data["max_features"])
            stats = cls(
                keep_features=bool(data["keep_features"]),
                max_features=None if max_features < 0 else max_features,
                seed=int(data["seed"]),
            )
            stats._count = int(data["count"])
            if stats._count:
                stats._mean = data["mean"].astype("float64")
                stats._m2 = data["m2"].astype("float64")
            if stats.keep_features and "features" in data:
                stats._chunks = [data["features"].astype("float32")]
            stats.metadata = json.loads(str(data["metadata"]))
        return stats

    def __repr__(self) -> str:
        return (
            f"FeatureStatistics(count={self._count}, dim={self.dim}, "
            f"keep_features={self.keep_features})"
        )


def _atomic_savez(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    with files.atomic_path(path) as temporary, open(temporary, "wb") as file:
        np.savez(file, **arrays)


def compute_statistics(
    images: Any,
    extractor: str | FeatureExtractor | Any = "fid_inception",
    batch_size: int = 50,
    keep_features: bool = False,
    max_features: int | None = None,
) -> FeatureStatistics:
    """Runs a feature extractor over images and accumulates feature statistics.

    Args:
        images: Array `(N, H, W, C)` with values in `[-1, 1]`, or an iterable
            of such batches (a generator, a `tf.data.Dataset`, ...); an
            `(images, labels)` tuple yields its first element.
        extractor: `"fid_inception"`, a `FeatureExtractor`, a `keras.Model` or a
            callable mapping images to `(N, D)` features; see
            `get_feature_extractor`.
        batch_size: Images per extractor call.
        keep_features: Whether to keep the raw features (for the kernel
            distance).
        max_features: Cap on the raw features kept.

    Returns:
        A `FeatureStatistics`.

    Example:

    ```python
    stats = compute_statistics(x_train, extractor="fid_inception")
    ```
    """
    extractor = get_feature_extractor(extractor)
    stats = FeatureStatistics(keep_features=keep_features, max_features=max_features)
    for features in extractor.iter_features(images, batch_size=batch_size):
        stats.update(features)
    if stats.count == 0:
        raise ValueError("No images were given.")
    stats.metadata["extractor"] = extractor.name
    return stats


def default_cache_dir() -> str:
    """Returns the default folder of cached reference statistics.

    It is `$KERAS_GANS_CACHE/fid` when that variable is set, else
    `~/.cache/keras_gans/fid`.

    Example:

    ```python
    print(default_cache_dir())
    ```
    """
    return files.cache_dir("fid")


def data_fingerprint(images: Any) -> str:
    """Returns a sha256 hex digest of an array's bytes, shape and dtype.

    Args:
        images: Array-like.

    Example:

    ```python
    key = data_fingerprint(x_train)
    ```
    """
    array = np.ascontiguousarray(np.asarray(images))
    digest = hashlib.sha256()
    digest.update(f"{array.shape}|{array.dtype.str}|".encode())
    digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def reference_statistics(
    real_images: Any,
    extractor: str | FeatureExtractor | Any = "fid_inception",
    batch_size: int = 50,
    cache_dir: str | os.PathLike | None = None,
    keep_features: bool = False,
    max_features: int | None = 10_000,
    use_cache: bool = True,
) -> FeatureStatistics:
    """Computes the statistics of real images once and caches them on disk.

    The cache file is keyed by a hash of the image array (bytes, shape and
    dtype), the extractor's identity (its name and a fingerprint of its
    weights) and the feature-keeping settings, and is written atomically.

    Args:
        real_images: Array `(N, H, W, C)` with values in `[-1, 1]`. It is
            materialised with `numpy.asarray` to be hashed.
        extractor: See `get_feature_extractor`.
        batch_size: Images per extractor call.
        cache_dir: Cache folder; default `default_cache_dir()`.
        keep_features: Whether to keep raw features (the kernel distance
            needs them).
        max_features: Cap on the raw features kept.
        use_cache: Set to `False` to neither read nor write the cache.

    Returns:
        A `FeatureStatistics`.

    Example:

    ```python
    ref = reference_statistics(x_train, extractor="fid_inception")
    fid = frechet_inception_distance(ref, fake_images)
    ```
    """
    extractor = get_feature_extractor(extractor)
    images = np.asarray(real_images)
    if not use_cache:
        return compute_statistics(images, extractor, batch_size, keep_features, max_features)
    key = reference_cache_key(images, extractor, keep_features, max_features)
    cache_dir = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
    path = os.path.join(cache_dir, f"{extractor.name}-{key[:32]}.npz")
    if os.path.exists(path):
        try:
            return FeatureStatistics.load(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # A corrupt or foreign file: recompute and overwrite it.
    stats = compute_statistics(images, extractor, batch_size, keep_features, max_features)
    stats.metadata["cache_key"] = key
    stats.save(path)
    return stats


def reference_cache_key(
    images: np.ndarray,
    extractor: FeatureExtractor,
    keep_features: bool,
    max_features: int | None,
) -> str:
    """Returns the cache key of `reference_statistics` (a sha256 hex digest).

    Args:
        images: The real images.
        extractor: A `FeatureExtractor`.
        keep_features: Whether raw features are kept.
        max_features: Cap on the raw features kept.

    Example:

    ```python
    key = reference_cache_key(x, get_feature_extractor(model), False, None)
    ```
    """
    features = f"features={max_features}" if keep_features else "features=none"
    parts = [data_fingerprint(images), extractor.name, extractor.fingerprint()]
    return hashlib.sha256("|".join([*parts, features]).encode()).hexdigest()


def as_statistics(
    images_or_stats: Any,
    extractor: FeatureExtractor,
    batch_size: int,
    keep_features: bool = False,
    max_features: int | None = None,
) -> FeatureStatistics:
    """Returns `images_or_stats` if it is a `FeatureStatistics`, else computes one.

    Args:
        images_or_stats: A `FeatureStatistics`, or images / batches of images.
        extractor: A `FeatureExtractor`.
        batch_size: Images per extractor call.
        keep_features: Whether to keep raw features.
        max_features: Cap on the raw features kept.

    Example:

    ```python
    stats = as_statistics(images, get_feature_extractor(model), 64)
    ```
    """
    if isinstance(images_or_stats, FeatureStatistics):
        return images_or_stats
    if isinstance(images_or_stats, Iterable) or hasattr(images_or_stats, "shape"):
        return compute_statistics(
            images_or_stats, extractor, batch_size, keep_features, max_features
        )
    raise TypeError(
        "Expected images, an iterable of image batches or a FeatureStatistics; "
        f"got {type(images_or_stats).__name__}."
    )

"""`FrechetDistance`: FID (KID, precision/recall) of generated images, logged during `fit`."""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_gans.callbacks.periodic_evaluation import PeriodicEvaluation
from keras_gans.metrics.extractors import get_feature_extractor
from keras_gans.metrics.frechet import frechet_distance
from keras_gans.metrics.kernel import kernel_distance
from keras_gans.metrics.precision_recall import precision_recall
from keras_gans.metrics.statistics import (
    FeatureStatistics,
    compute_statistics,
    reference_statistics,
)
from keras_gans.utils.arguments import check_integer


class FrechetDistance(PeriodicEvaluation):
    """Computes FID (and KID, precision/recall) of generated images every few epochs.

    When training begins, the features of `real_images` are computed once and
    cached on disk (see `keras_gans.metrics.reference_statistics`). Every
    `every_n_epochs` epochs, and after the last epoch, `num_samples` images
    are drawn with `model.generate(num_samples, seed=seed)` (always the same
    noise, so successive values differ only by what training changed),
    clipped to `[-1, 1]`, and compared with the reference: `logs["fid"]`, and with `kid`,
    `logs["kid"]` and `logs["kid_std"]` (the standard error of the KID mean
    over its random subsets) are written. With `precision_recall=True`,
    `logs["precision"]` and `logs["recall"]` (Kynkaanniemi et al. 2019) and
    `logs["density"]` and `logs["coverage"]` (Naeem et al. 2020), all with
    `precision_recall_k` neighbours, are written too (see
    `keras_gans.metrics.precision_recall`); they compare the generated
    features with the kept reference features (at most
    `max_reference_features` of them): use as many real as generated images.

    The keys exist only on the epochs where the metric was computed; nothing
    stale is carried over. `History` thus records one value per evaluation,
    and `keras.callbacks.EarlyStopping(monitor="fid", mode="min")` and
    `ModelCheckpoint(monitor="fid", mode="min", save_best_only=True)` act on
    evaluation epochs and skip the others (each warns once that the key is
    missing): EarlyStopping's `patience` counts evaluations. Pass
    `mode="min"`: Keras cannot infer the direction of a logged value that is
    not a compiled metric, and raises in `mode="auto"`. List
    `FrechetDistance` before them in `callbacks`, since callbacks run in
    order.

    Conditional models (`model.num_classes` set) get `labels` if given, else
    a balanced, shuffled draw over the classes; pass labels drawn like the
    real data's when its classes are unbalanced.

    Args:
        real_images: Real images `(N, H, W, C)` in `[-1, 1]`, or precomputed
            `keras_gans.metrics.FeatureStatistics` (with `keep_features=True`
            for KID).
        every_n_epochs: Evaluate after every this many epochs (and after the
            last one).
        num_samples: Number of generated images per evaluation (ignored when
            `labels` is given: one image per label). FID is biased upwards
            for small samples: compare values taken with the same number.
        extractor: `"fid_inception"` (pytorch-fid's network: FIDs comparable
            with published ones), `"inception_v3_imagenet"`, or a
            `keras.Model` or callable mapping images in `[-1, 1]` to `(N, D)`
            features; see `keras_gans.metrics.get_feature_extractor`.
        kid: Whether to also compute the kernel distance.
        precision_recall: Whether to also compute precision, recall, density
            and coverage.
        precision_recall_k: Neighbour rank `k` of those four metrics.
        batch_size: Images per feature extractor call.
        seed: Seed of the generated images (and of the drawn labels).
        labels: Conditional models only: class ids of the generated images.
        weights: Weights of a named extractor: `"default"` (its pretrained
            weights), `"random"`, or a file; see `get_feature_extractor`.
        cache_dir: Folder of cached reference statistics; default
            `keras_gans.metrics.default_cache_dir()`.
        use_cache: Set to `False` to neither read nor write that cache.
        kid_subsets: Number of random subsets KID averages over.
        kid_subset_size: Rows per KID subset (capped by the sample counts).
        max_reference_features: Real features kept for KID and precision /
            recall (a random subset).

    Attributes:
        history: One dict per evaluation: `{"epoch": epochs done, "fid": ...,
            "kid": ..., "kid_std": ...}` (and `"precision"`, `"recall"`,
            `"density"`, `"coverage"`).

    Example:

    ```python
    fid = keras_gans.callbacks.FrechetDistance(x_test, every_n_epochs=5)
    stop = keras.callbacks.EarlyStopping(monitor="fid", mode="min", patience=3)
    gan.fit(x_train, epochs=100, callbacks=[fid, stop])
    fid.history[-1]["fid"]
    ```
    """

    def __init__(
        self,
        real_images: Any,
        every_n_epochs: int = 5,
        num_samples: int = 5000,
        extractor: Any = "fid_inception",
        kid: bool = True,
        batch_size: int = 50,
        seed: int = 0,
        labels: Any = None,
        weights: str | None = "default",
        cache_dir: str | None = None,
        use_cache: bool = True,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        max_reference_features: int | None = 10_000,
        precision_recall: bool = False,
        precision_recall_k: int = 3,
    ):
        super().__init__()
        check_integer("every_n_epochs", every_n_epochs)
        check_integer("num_samples", num_samples)
        check_integer("batch_size", batch_size)
        check_integer("precision_recall_k", precision_recall_k)
        self.real_images = real_images
        self.every_n_epochs = every_n_epochs
        self.num_samples = num_samples
        self.extractor = extractor
        self.kid = kid
        self.batch_size = batch_size
        self.seed = seed
        self.labels = labels
        self.weights = weights
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.max_reference_features = max_reference_features
        self.precision_recall = precision_recall
        self.precision_recall_k = precision_recall_k
        self.history: list[dict[str, float]] = []
        self._extractor = None
        self._reference: FeatureStatistics | None = None

    @property
    def reference(self) -> FeatureStatistics | None:
        """The reference statistics, once training has begun."""
        return self._reference

    def on_train_begin(self, logs=None):
        if self._extractor is None:
            self._extractor = get_feature_extractor(self.extractor, self.weights)
        if self._reference is not None:
            return
        if isinstance(self.real_images, FeatureStatistics):
            reference = self.real_images
        else:
            reference = reference_statistics(
                self.real_images,
                self._extractor,
                batch_size=self.batch_size,
                cache_dir=self.cache_dir,
                keep_features=self._keep_features,
                max_features=self.max_reference_features,
                use_cache=self.use_cache,
            )
        if self._keep_features and not reference.keep_features:
            raise ValueError(
                "KID and precision/recall need the real features: compute the "
                "reference statistics with `keep_features=True`, or pass `kid=False` "
                "and `precision_recall=False`."
            )
        self._reference = reference

    def evaluate(self, images: Any = None) -> dict[str, float]:
        """Returns the FID (KID, precision...) of generated images.

        Args:
            images: images already generated by the model, in [-1, 1], to measure
                instead of generating `num_samples` new ones (a caller that also
                classifies them generates once). Default: generate them.

        Example:

        ```python
        callback.evaluate()  # {"fid": 12.3, "kid": 0.004, "kid_std": 0.0003}
        ```
        """
        if self._reference is None:
            self.on_train_begin()
        if images is None:
            images = self._generate()
        # Generated images are compared as they would be shown: clipped.
        images = np.clip(np.asarray(images), -1.0, 1.0)
        fake = compute_statistics(
            images,
            self._extractor,
            batch_size=self.batch_size,
            keep_features=self._keep_features,
        )
        ref = self._reference
        results = {"fid": frechet_distance(ref.mean, ref.covariance, fake.mean, fake.covariance)}
        if self.kid:
            mean, std = kernel_distance(
                ref.features,
                fake.features,
                num_subsets=self.kid_subsets,
                subset_size=self.kid_subset_size,
                seed=self.seed,
            )
            results.update(kid=mean, kid_std=std)
        if self.precision_recall:
            results.update(precision_recall(ref.features, fake.features, k=self.precision_recall_k))
        return results

    @property
    def _keep_features(self) -> bool:
        return bool(self.kid or self.precision_recall)

    def _generate(self) -> np.ndarray:
        model = self.model
        if not hasattr(model, "generate"):
            raise TypeError(
                "FrechetDistance needs a model with a `generate(num_images, "
                f"labels=None, seed=None)` method; got {type(model).__name__}."
            )
        num_classes = getattr(model, "num_classes", None)
        if num_classes is None:
            if self.labels is not None:
                raise ValueError("`labels` were given but the model is unconditional.")
            return model.generate(self.num_samples, seed=self.seed)
        if self.labels is not None:
            labels = np.asarray(self.labels, dtype="int32").reshape(-1)
        else:
            rng = np.random.default_rng(self.seed)
            labels = np.arange(self.num_samples, dtype="int32") % int(num_classes)
            labels = rng.permutation(labels)
        return model.generate(len(labels), labels=labels, seed=self.seed)

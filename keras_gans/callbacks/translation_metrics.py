"""`TranslationMetrics`: scores of a Pix2Pix or CycleGAN's translations, logged during `fit`."""

from __future__ import annotations

import numpy as np

from keras_gans.callbacks.periodic_evaluation import PeriodicEvaluation
from keras_gans.metrics import translation as scores
from keras_gans.metrics.digits_classifier import OFFLINE_EXTRACTOR, distance_names
from keras_gans.metrics.extractors import get_feature_extractor
from keras_gans.metrics.frechet import frechet_distance
from keras_gans.metrics.kernel import kernel_distance
from keras_gans.metrics.statistics import compute_statistics


class TranslationMetrics(PeriodicEvaluation):
    """Translates fixed images every few epochs and logs how good the translations are.

    For each direction given in `tasks`, the `sources` are translated with
    `model.translate` (clipped to [-1, 1]) and scored with whatever the task
    provides:

    - `targets` (paired data): `l1`, `psnr`, `ssim` against the targets;
    - `classify` (a function from images to class logits): `agreement`, how
      often the source and its translation get the same class;
    - `reference` (real images of the target domain) and `extractor`:
      `fd_<name>` / `kd_<name>`, the Frechet and kernel distances of the
      translations' features to the reference's (`fid`/`kid` with the FID
      Inception; `fd_digits`/`kd_digits` with the offline digit classifier).

    Keys are the metric name, followed by `_<direction>` for models with two
    directions (`agreement_a_to_b`). They are logged on evaluation epochs only
    (every `every_n_epochs` and the last), and kept in `history`.

    Args:
        tasks: `{direction: {"sources": ..., "targets": ..., "classify": ...,
            "reference": ...}}`; use direction None for Pix2Pix.
        extractor: feature extractor name (or `FeatureExtractor`) for the
            distances, when a task has a `reference`.
        every_n_epochs: evaluate every this many epochs (and after the last).
        batch_size: images translated per call.

    Example:

    ```python
    test_edges, test_digits = keras_gans.data.edges2digits("test")
    metrics = TranslationMetrics({None: {"sources": test_edges, "targets": test_digits}})
    pix2pix.fit((edges, digits), epochs=5, callbacks=[metrics])
    metrics.history[-1]   # {'epoch': 5, 'l1': 0.1, 'psnr': 17.2, 'ssim': 0.71}
    ```
    """

    def __init__(self, tasks, extractor=OFFLINE_EXTRACTOR, every_n_epochs=1, batch_size=250):
        super().__init__()
        if not tasks:
            raise ValueError("`tasks` must give at least one direction to score.")
        for direction, task in tasks.items():
            if "sources" not in task:
                raise ValueError(f"The task of direction {direction!r} needs `sources`.")
        if not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(
                f"`every_n_epochs` must be a positive integer. Received: {every_n_epochs!r}"
            )
        self.tasks = dict(tasks)
        self.extractor = extractor
        self.every_n_epochs, self.batch_size = every_n_epochs, batch_size
        self.history: list[dict] = []
        self._extractor = None
        self._references = {}

    def evaluate(self) -> dict[str, float]:
        """Scores the translations now; returns the logged values."""
        results = {}
        for direction, task in self.tasks.items():
            suffix = f"_{direction}" if direction else ""
            sources = np.asarray(task["sources"], "float32")
            kwargs = {"direction": direction} if direction else {}
            translated = self.model.translate(sources, batch_size=self.batch_size, **kwargs)
            translated = np.clip(np.asarray(translated, "float32"), -1.0, 1.0)
            if task.get("targets") is not None:
                for name, value in scores.paired_scores(translated, task["targets"]).items():
                    results[name + suffix] = value
            if task.get("classify") is not None:
                agreement = scores.class_agreement(task["classify"], sources, translated)
                results["agreement" + suffix] = agreement
            if task.get("reference") is not None:
                results.update(self._distances(direction, task["reference"], translated, suffix))
        return results

    def _distances(self, direction, reference, translated, suffix):
        if self._extractor is None:
            self._extractor = get_feature_extractor(self.extractor)
        if direction not in self._references:
            self._references[direction] = compute_statistics(
                np.asarray(reference, "float32"), self._extractor, keep_features=True
            )
        real = self._references[direction]
        fake = compute_statistics(translated, self._extractor, keep_features=True)
        names = distance_names(self._extractor.name)
        fd_key, kd_key = names["fid"], names["kid"]
        subset = min(1000, len(real.features), len(fake.features))
        kid, _ = kernel_distance(real.features, fake.features, subset_size=subset, seed=0)
        return {
            fd_key + suffix: frechet_distance(
                real.mean, real.covariance, fake.mean, fake.covariance
            ),
            kd_key + suffix: kid,
        }

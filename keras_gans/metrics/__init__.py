"""Image-quality metrics: Frechet distance (FID) and kernel distance (KID)."""

from keras_gans.metrics.extractors import (
    FeatureExtractor,
    build_inception_v3,
    get_feature_extractor,
    preprocess_for_inception,
    validate_images,
)
from keras_gans.metrics.frechet import frechet_distance, frechet_inception_distance
from keras_gans.metrics.kernel import kernel_distance, kernel_inception_distance
from keras_gans.metrics.statistics import (
    FeatureStatistics,
    compute_statistics,
    default_cache_dir,
    reference_statistics,
)

__all__ = [
    "FeatureExtractor",
    "FeatureStatistics",
    "build_inception_v3",
    "compute_statistics",
    "default_cache_dir",
    "frechet_distance",
    "frechet_inception_distance",
    "get_feature_extractor",
    "kernel_distance",
    "kernel_inception_distance",
    "preprocess_for_inception",
    "reference_statistics",
    "validate_images",
]

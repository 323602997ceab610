"""Image-quality metrics: FID, KID, precision/recall and density/coverage."""

from keras_gans.metrics.digits_classifier import offline_extractor
from keras_gans.metrics.extractors import (
    FeatureExtractor,
    build_inception_v3,
    get_feature_extractor,
    preprocess_for_fid_inception,
    preprocess_for_inception,
    register_extractor,
    validate_images,
)
from keras_gans.metrics.fid_inception import (
    convert_pytorch_fid_weights,
    fid_inception_model,
    fid_inception_v3,
)
from keras_gans.metrics.frechet import frechet_distance, frechet_inception_distance
from keras_gans.metrics.kernel import kernel_distance, kernel_inception_distance
from keras_gans.metrics.precision_recall import precision_recall
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
    "convert_pytorch_fid_weights",
    "default_cache_dir",
    "fid_inception_model",
    "fid_inception_v3",
    "frechet_distance",
    "frechet_inception_distance",
    "get_feature_extractor",
    "kernel_distance",
    "kernel_inception_distance",
    "offline_extractor",
    "register_extractor",
    "precision_recall",
    "preprocess_for_fid_inception",
    "preprocess_for_inception",
    "reference_statistics",
    "validate_images",
]

"""Tests of the FID / KID metrics, feature statistics and extractors."""

import os

import keras
import numpy as np
import pytest
import scipy.linalg

from keras_gans.metrics import (
    FeatureExtractor,
    FeatureStatistics,
    build_inception_v3,
    compute_statistics,
    frechet_distance,
    frechet_inception_distance,
    get_feature_extractor,
    kernel_distance,
    kernel_inception_distance,
    preprocess_for_inception,
    reference_statistics,
)
from keras_gans.metrics.statistics import reference_cache_key

# metric plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends


def _random_covariance(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _pool_features(images):
    """A tiny deterministic extractor: 2x2 average pooling, flattened."""
    x = np.asarray(images)
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4)).reshape(n, -1)


# Streaming statistics


def test_streaming_statistics_match_numpy():
    rng = np.random.default_rng(0)
    features = rng.normal(loc=100.0, scale=2.0, size=(503, 7))
    stats = FeatureStatistics()
    for batch in np.array_split(features, [1, 50, 51, 300]):
        stats.update(batch)
    assert stats.count == 503
    np.testing.assert_allclose(stats.mean, features.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        stats.covariance, np.cov(features, rowvar=False), rtol=1e-9, atol=1e-12
    )


def test_keep_features_all_and_capped():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(200, 4)).astype("float32")
    everything = FeatureStatistics(keep_features=True)
    for batch in np.array_split(features, 6):
        everything.update(batch)
    np.testing.assert_array_equal(everything.features, features)

    capped = FeatureStatistics(keep_features=True, max_features=50)
    for batch in np.array_split(features, 6):
        capped.update(batch)
    kept = capped.features
    assert kept.shape == (50, 4)
    # A random subset of distinct rows, not just the first 50.
    rows = {tuple(row) for row in features}
    assert all(tuple(row) in rows for row in kept)
    assert len({tuple(row) for row in kept}) == 50
    assert not np.array_equal(kept, features[:50])
    # The statistics still use every row.
    np.testing.assert_allclose(capped.mean, features.mean(axis=0), rtol=1e-6)


def test_statistics_errors():
    stats = FeatureStatistics()
    with pytest.raises(ValueError, match="No features"):
        _ = stats.mean
    with pytest.raises(ValueError, match="keep_features"):
        _ = FeatureStatistics.from_features(np.ones((3, 2))).features
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        stats.update(np.ones(5))
    stats.update(np.ones((3, 2)))
    with pytest.raises(ValueError, match="dimension"):
        stats.update(np.ones((3, 4)))


def test_statistics_save_load_roundtrip(tmp_path):
    rng = np.random.default_rng(2)
    features = rng.normal(size=(40, 3))
    stats = FeatureStatistics.from_features(features, keep_features=True)
    stats.metadata["extractor"] = "test"
    path = tmp_path / "stats.npz"
    stats.save(path)
    loaded = FeatureStatistics.load(path)
    assert loaded.count == 40
    assert loaded.metadata == {"extractor": "test"}
    np.testing.assert_array_equal(loaded.mean, stats.mean)
    np.testing.assert_array_equal(loaded.covariance, stats.covariance)
    np.testing.assert_array_equal(loaded.features, stats.features)
    assert os.listdir(tmp_path) == ["stats.npz"]


# Frechet distance


def test_frechet_identical_is_zero():
    rng = np.random.default_rng(3)
    mu, sigma = rng.normal(size=6), _random_covariance(rng, 6)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-8


def test_frechet_diagonal_closed_form():
    m1, m2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((m1 - m2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    value = frechet_distance(m1, np.diag(s1), m2, np.diag(s2))
    assert value == pytest.approx(expected, rel=1e-10)
    # 1-D Gaussians: (m1 - m2)^2 + (sd1 - sd2)^2.
    assert frechet_distance(0.0, 4.0, 3.0, 1.0) == pytest.approx(9.0 + 1.0)


def test_frechet_matches_direct_scipy_computation():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(400, 10))
    b = rng.normal(loc=0.3, size=(300, 10)) @ rng.normal(size=(10, 10)) * 0.5
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    stats_a = FeatureStatistics.from_features(a)
    stats_b = FeatureStatistics.from_features(b)
    value = frechet_distance(stats_a.mean, stats_a.covariance, stats_b.mean, stats_b.covariance)
    assert value == pytest.approx(expected, rel=1e-8)


def test_frechet_singular_covariances_are_handled():
    rng = np.random.default_rng(5)
    few = rng.normal(size=(5, 20))  # Fewer samples than dimensions.
    stats = FeatureStatistics.from_features(few)
    same = frechet_distance(stats.mean, stats.covariance, stats.mean, stats.covariance)
    assert np.isfinite(same) and abs(same) < 1e-2
    other = FeatureStatistics.from_features(rng.normal(loc=2.0, size=(5, 20)))
    value = frechet_distance(stats.mean, stats.covariance, other.mean, other.covariance)
    assert np.isfinite(value) and value > 40.0


def test_frechet_shape_errors():
    with pytest.raises(ValueError, match="same length"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="Covariances"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


# Kernel distance


def _direct_mmd(x, y):
    d = x.shape[1]
    m = x.shape[0]
    k = lambda p, q: (p @ q.T / d + 1.0) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    off = lambda mat: mat.sum() - np.trace(mat)  # noqa: E731
    return off(kxx) / (m * (m - 1)) + off(kyy) / (m * (m - 1)) - 2 * kxy.mean()


def test_kernel_distance_matches_direct_computation():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(60, 8)), rng.normal(loc=0.5, size=(60, 8))
    # With subset_size = N every subset is a permutation: the value is exact.
    mean, se = kernel_distance(x, y, num_subsets=3, subset_size=1000)
    assert mean == pytest.approx(_direct_mmd(x, y), rel=1e-10)
    assert se == pytest.approx(0.0, abs=1e-12)
    # Identical sets: the estimate is exactly the formula, which is O(1/N)
    # (the cross term keeps the diagonal), so near zero for large N.
    big = rng.normal(size=(1000, 8))
    same, _ = kernel_distance(big, big, num_subsets=1)
    assert same == pytest.approx(_direct_mmd(big, big), rel=1e-10)
    assert abs(same) < 0.05 * mean


def test_kernel_distance_unbiased_and_detects_shift():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(1000, 16)), rng.normal(size=(1000, 16))
    shifted = rng.normal(loc=0.3, size=(1000, 16))
    same_mean, same_se = kernel_distance(a, b, num_subsets=30, subset_size=200)
    shift_mean, shift_se = kernel_distance(a, shifted, num_subsets=30, subset_size=200)
    assert abs(same_mean) < 0.01
    assert abs(same_mean) < 4 * same_se + 1e-3
    assert shift_mean > 0.05 and shift_mean > 20 * shift_se


def test_kernel_distance_subset_size_capped_and_errors():
    rng = np.random.default_rng(8)
    mean, se = kernel_distance(rng.normal(size=(5, 3)), rng.normal(size=(7, 3)))
    assert np.isfinite(mean) and np.isfinite(se)
    assert np.isnan(kernel_distance(np.eye(3), np.eye(3), num_subsets=1)[1])
    with pytest.raises(ValueError, match="at least 2"):
        kernel_distance(np.ones((1, 3)), np.ones((5, 3)))
    with pytest.raises(ValueError, match="same D"):
        kernel_distance(np.ones((4, 3)), np.ones((4, 2)))


# Extractors and high-level functions


def test_keras_model_extractor_batches_match_predict():
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(5)]
    )
    images = np.random.default_rng(9).uniform(-1, 1, (10, 8, 8, 1)).astype("float32")
    extractor = get_feature_extractor(model)
    features = extractor(images, batch_size=4)  # Batches of 4, 4, 2 (padded).
    assert features.dtype == np.float64 and features.shape == (10, 5)
    np.testing.assert_allclose(
        features, keras.ops.convert_to_numpy(model(images)), rtol=1e-5, atol=1e-5
    )


def test_compute_statistics_from_array_and_iterable():
    rng = np.random.default_rng(10)
    images = rng.uniform(-1, 1, (30, 4, 4, 1)).astype("float32")
    labels = np.zeros(30)
    from_array = compute_statistics(images, _pool_features, batch_size=7)
    batches = ((images[i : i + 8], labels[i : i + 8]) for i in range(0, 30, 8))
    from_iter = compute_statistics(batches, _pool_features, batch_size=7)
    expected = _pool_features(images).astype("float64")
    np.testing.assert_allclose(from_array.mean, expected.mean(0), atol=1e-7)
    np.testing.assert_allclose(from_iter.covariance, np.cov(expected, rowvar=False))
    fid = frechet_inception_distance(images, from_array, extractor=_pool_features)
    assert abs(fid) < 1e-8


def test_image_validation_errors():
    extractor = get_feature_extractor(_pool_features)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        extractor(np.full((2, 4, 4, 1), 255.0))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        extractor(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        extractor(np.full((2, 4, 4, 1), np.nan))
    with pytest.raises(ValueError, match="channels"):
        preprocess_for_inception(np.zeros((2, 8, 8, 2)))
    with pytest.raises(ValueError, match="Unknown feature extractor"):
        get_feature_extractor("vgg_nope")
    with pytest.raises(ValueError, match=r"\(2, D\)"):
        get_feature_extractor(lambda x: x)(np.zeros((2, 4, 4, 1)))


def test_reference_statistics_cache_hits_and_keys(tmp_path, monkeypatch):
    calls = []

    def counting(images):
        calls.append(len(images))
        return _pool_features(images)

    extractor = FeatureExtractor(counting, name="counting")
    rng = np.random.default_rng(11)
    images = rng.uniform(-1, 1, (20, 4, 4, 1)).astype("float32")

    first = reference_statistics(images, extractor, batch_size=8, cache_dir=tmp_path)
    assert len(calls) == 3
    second = reference_statistics(images, extractor, batch_size=8, cache_dir=tmp_path)
    assert len(calls) == 3  # Cache hit: the extractor was not called.
    np.testing.assert_array_equal(first.covariance, second.covariance)
    assert len(os.listdir(tmp_path)) == 1  # No temporary files left.

    reference_statistics(images[:-1], extractor, batch_size=8, cache_dir=tmp_path)
    assert len(calls) == 6  # Other data: a miss.
    renamed = FeatureExtractor(counting, name="counting_v2")
    reference_statistics(images, renamed, batch_size=8, cache_dir=tmp_path)
    assert len(calls) == 9  # Other extractor: a miss.
    kept = reference_statistics(
        images, extractor, batch_size=8, cache_dir=tmp_path, keep_features=True
    )
    assert len(calls) == 12 and kept.features.shape == (20, 4)

    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "env"))
    reference_statistics(images, extractor, batch_size=8)
    assert len(os.listdir(tmp_path / "env" / "fid")) == 1


def test_cache_key_depends_on_model_weights():
    def make():
        return keras.Sequential(
            [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
        )

    images = np.zeros((2, 4, 4, 1), "float32")
    a, b = make(), make()
    key = lambda m: reference_cache_key(  # noqa: E731
        images, get_feature_extractor(m, name="net"), False, None
    )
    assert key(a) == key(a)
    assert key(a) != key(b)
    b.set_weights(a.get_weights())
    assert key(a) == key(b)


def test_preprocess_for_inception_maps_range_and_shape():
    images = np.random.default_rng(12).uniform(-1, 1, (2, 28, 28, 1))
    images[0] = 0.5
    images[1, :14] = -1.0
    images[1, 14:] = 1.0
    x = keras.ops.convert_to_numpy(preprocess_for_inception(images))
    assert x.shape == (2, 299, 299, 3)
    assert x.min() >= -1.0 and x.max() <= 1.0
    # The [-1, 1] range maps onto InceptionV3's own [-1, 1] input range.
    np.testing.assert_allclose(x[0], 0.5, atol=1e-5)
    np.testing.assert_allclose(x[1, :100], -1.0, atol=1e-5)
    np.testing.assert_allclose(x[1, -100:], 1.0, atol=1e-5)
    np.testing.assert_allclose(x[..., 0], x[..., 2])


def test_inception_v3_download_failure_names_the_offline_route(monkeypatch):
    def offline(**kwargs):
        raise Exception("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(RuntimeError, match="~/.keras/models") as error:
        build_inception_v3(weights="imagenet")
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5" in str(error.value)
    assert "keras.Model or callable" in str(error.value)


@pytest.mark.slow
def test_inception_v3_features_shape():
    # Building InceptionV3 takes 5-30 s on CPU (jax compiles each initializer).
    images = np.random.default_rng(12).uniform(-1, 1, (2, 28, 28, 1))
    extractor = get_feature_extractor("inception_v3_imagenet", weights=None)
    assert extractor.name == "inception_v3_imagenet"
    features = extractor(images, batch_size=2)
    assert features.shape == (2, 2048) and features.dtype == np.float64
    assert np.isfinite(features).all()


def test_registered_extractor_names(monkeypatch):
    from keras_gans.metrics import extractors

    assert sorted(extractors.EXTRACTORS) == [
        "fid_inception",
        "inception_v3_imagenet",
        "mnist5k_classifier",
    ]
    with pytest.raises(ValueError, match="renamed") as error:
        get_feature_extractor("inception_v3")
    assert "'fid_inception'" in str(error.value)
    assert "'inception_v3_imagenet'" in str(error.value)
    calls = []

    def builder(**kwargs):
        calls.append(kwargs)
        return FeatureExtractor(_pool_features, name="stub")

    monkeypatch.setitem(extractors.EXTRACTORS, "stub", builder)
    get_feature_extractor("stub")  # "default": the builder's own default weights.
    get_feature_extractor("stub", weights="random")
    assert get_feature_extractor("stub", weights="random") is get_feature_extractor(
        "stub", weights="random"
    )
    assert calls == [{}, {"weights": "random"}]
    extractors._BUILT.pop(("stub", "default"))
    extractors._BUILT.pop(("stub", "random"))


# Real data: sklearn digits with a small classifier as the feature extractor


@pytest.fixture(scope="module")
def digits_encoder(digits):
    images, labels = digits
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    hidden = keras.layers.Dense(64, activation="relu")(keras.layers.Flatten()(inputs))
    penultimate = keras.layers.Dense(32, activation="relu")(hidden)
    classifier = keras.Model(inputs, keras.layers.Dense(10)(penultimate))
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = classifier.fit(images, labels, epochs=5, batch_size=128, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    encoder = keras.Model(inputs, penultimate)
    return images, get_feature_extractor(encoder, name="digits_encoder")


def test_fid_and_kid_rank_real_digits_above_corruptions(digits_encoder):
    images, extractor = digits_encoder
    rng = np.random.default_rng(13)
    order = rng.permutation(len(images))
    split_a, split_b = images[order[:900]], images[order[900:]]
    noise = rng.uniform(-1, 1, split_b.shape).astype("float32")
    flat = split_b.reshape(len(split_b), -1)
    shuffled = np.stack([row[rng.permutation(64)] for row in flat])
    shuffled = shuffled.reshape(split_b.shape)

    reference = compute_statistics(split_a, extractor, batch_size=128)
    fid = {
        name: frechet_inception_distance(reference, x, extractor, batch_size=128)
        for name, x in [("real", split_b), ("noise", noise), ("shuffled", shuffled)]
    }
    assert fid["real"] >= 0.0
    assert 10 * fid["real"] < fid["noise"]
    assert 10 * fid["real"] < fid["shuffled"]

    kid_real, _ = kernel_inception_distance(
        split_a, split_b, extractor, batch_size=128, num_subsets=20, subset_size=300
    )
    kid_noise, _ = kernel_inception_distance(
        split_a, noise, extractor, batch_size=128, num_subsets=20, subset_size=300
    )
    assert 10 * abs(kid_real) < kid_noise


def test_label_agreement_compares_the_classifier_reading_with_the_labels_asked_for():
    from keras_gans import data
    from keras_gans.metrics import digits_classifier

    images, labels = data.load("mnist5k")
    images, labels = np.asarray(images), np.asarray(labels)
    by_label = {digit: images[labels == digit] for digit in range(10)}

    def real_digits(shift):
        # A "generator" drawing real digits of the label asked for (+ shift).
        def generate(asked, seed):
            rng = np.random.default_rng(seed)
            return np.stack([rng.choice(by_label[(a + shift) % 10]) for a in asked])

        return generate

    obeys = digits_classifier.label_agreement(real_digits(0), per_class=20)
    ignores = digits_classifier.label_agreement(real_digits(1), per_class=20)
    assert obeys > 0.9 and ignores < 0.1, (obeys, ignores)

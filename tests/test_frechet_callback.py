"""Tests of the FrechetDistance callback with real GAN models."""

import os

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans.callbacks.frechet_distance import FrechetDistance
from keras_gans.metrics import FeatureExtractor, FeatureStatistics

# callback plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends


def _pool_features(images):
    """A tiny deterministic extractor: 2x2 average pooling of 8x8 images."""
    x = np.asarray(images)
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4)).reshape(n, -1)


@pytest.fixture
def real(digits):
    images, labels = digits
    return images[:256], labels[:256]


def _dcgan():
    gan = keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8)
    gan.compile()
    return gan


def _callback(images, tmp_path, **kwargs):
    options = dict(
        every_n_epochs=1,
        num_samples=64,
        extractor=_pool_features,
        batch_size=32,
        cache_dir=tmp_path,
        kid_subsets=10,
        kid_subset_size=32,
    )
    return FrechetDistance(images, **{**options, **kwargs})


def test_fid_and_kid_are_logged(real, tmp_path):
    images, _ = real
    callback = _callback(images, tmp_path)
    history = _dcgan().fit(images, epochs=2, batch_size=32, callbacks=[callback])
    for key in ("fid", "kid", "kid_std"):
        assert key in history.history and len(history.history[key]) == 2
        assert np.isfinite(history.history[key]).all()
    assert min(history.history["fid"]) > 0.0
    assert [entry["epoch"] for entry in callback.history] == [1, 2]
    assert callback.history[-1]["fid"] == history.history["fid"][-1]


def test_runs_every_n_epochs_and_at_the_last(real, tmp_path):
    images, _ = real
    callback = _callback(images, tmp_path, every_n_epochs=2, kid=False)
    history = _dcgan().fit(images, epochs=3, batch_size=64, callbacks=[callback])
    assert [entry["epoch"] for entry in callback.history] == [2, 3]
    assert len(history.history["fid"]) == 2
    assert "kid" not in history.history


def test_early_stopping_and_checkpoint_monitor_fid(real, tmp_path):
    images, _ = real
    callback = _callback(images, tmp_path, kid=False)
    # No FID improves by 1e9: training stops at the first chance (epoch 2).
    stop = keras.callbacks.EarlyStopping(monitor="fid", mode="min", min_delta=1e9, patience=0)
    path = str(tmp_path / "best.weights.h5")
    checkpoint = keras.callbacks.ModelCheckpoint(
        path, monitor="fid", mode="min", save_best_only=True, save_weights_only=True
    )
    history = _dcgan().fit(images, epochs=5, batch_size=64, callbacks=[callback, stop, checkpoint])
    assert len(history.epoch) == 2
    assert stop.stopped_epoch == 1
    assert os.path.exists(path)


def test_reference_is_lazy_and_cached(real, tmp_path):
    images, _ = real
    seen = []

    def counting(batch):
        seen.append(len(batch))
        return _pool_features(batch)

    extractor = FeatureExtractor(counting, name="counting")
    callback = _callback(images, tmp_path, extractor=extractor, kid=False)
    assert seen == []  # The constructor only stores its arguments.
    _dcgan().fit(images, epochs=1, batch_size=64, callbacks=[callback])
    assert sum(seen) == 256 + 64  # Real images once, then the samples.
    assert len(os.listdir(tmp_path)) == 1

    seen.clear()
    again = _callback(images, tmp_path, extractor=extractor, kid=False)
    _dcgan().fit(images, epochs=1, batch_size=64, callbacks=[again])
    assert sum(seen) == 64  # The reference came from the cache.


def test_conditional_model_gets_balanced_labels(real, tmp_path):
    images, labels = real
    labels = labels % 3
    gan = keras_gans.ConditionalGAN(num_classes=3, latent_dim=8, image_shape=(8, 8, 1), width=8)
    gan.compile()
    drawn = []
    generate = gan.generate

    def spy(*args, **kwargs):
        drawn.append(np.asarray(kwargs["labels"]))
        return generate(*args, **kwargs)

    gan.generate = spy
    callback = _callback(images, tmp_path, num_samples=60, kid=False)
    history = gan.fit(images, labels, epochs=1, batch_size=64, callbacks=[callback], verbose=0)
    assert np.isfinite(history.history["fid"]).all()
    assert np.bincount(drawn[0], minlength=3).tolist() == [20, 20, 20]


def test_argument_checks():
    with pytest.raises(ValueError, match="every_n_epochs"):
        FrechetDistance(np.zeros((4, 8, 8, 1)), every_n_epochs=0)
    with pytest.raises(ValueError, match="num_samples"):
        FrechetDistance(np.zeros((4, 8, 8, 1)), num_samples=-1)


def test_precision_recall_are_logged_on_request(real, tmp_path):
    images, _ = real
    callback = _callback(images, tmp_path, kid=False, precision_recall=True)
    history = _dcgan().fit(images, epochs=1, batch_size=64, callbacks=[callback], verbose=0)
    for key in ("fid", "precision", "recall", "density", "coverage"):
        assert len(history.history[key]) == 1, key
    for key in ("precision", "recall", "coverage"):
        assert 0.0 <= history.history[key][0] <= 1.0
    assert history.history["density"][0] >= 0.0
    assert "kid" not in history.history
    assert set(callback.history[-1]) == {
        "epoch",
        "fid",
        "precision",
        "recall",
        "density",
        "coverage",
    }
    # Without the option none of them is logged.
    plain = _callback(images, tmp_path, kid=False)
    history = _dcgan().fit(images, epochs=1, batch_size=64, callbacks=[plain], verbose=0)
    assert "precision" not in history.history


def test_precision_recall_of_real_images_against_themselves(real, tmp_path):
    images, _ = real

    class Replay(keras.Model):
        """A 'generator' that returns real images: its precision and recall are high."""

        def generate(self, num_images, labels=None, seed=None):
            return images[:num_images]

    callback = _callback(images, tmp_path, num_samples=256, kid=False, precision_recall=True)
    callback.set_model(Replay())
    results = callback.evaluate()
    assert results["fid"] < 1e-6
    assert results["precision"] == results["recall"] == results["coverage"] == 1.0
    assert results["density"] > 0.9


def test_precision_recall_need_kept_reference_features(real, tmp_path):
    images, _ = real
    stats = FeatureStatistics.from_features(_pool_features(images))
    callback = _callback(stats, tmp_path, kid=False, precision_recall=True)
    with pytest.raises(ValueError, match="precision_recall=False"):
        callback.on_train_begin()
    with pytest.raises(ValueError, match="precision_recall_k"):
        _callback(images, tmp_path, precision_recall_k=0)


def test_evaluate_measures_given_images_without_generating(real, tmp_path):
    images, _ = real
    gan = _dcgan()
    callback = _callback(images, tmp_path)
    callback.set_model(gan)
    generated = callback._generate()
    calls = []
    gan.generate = lambda *args, **kwargs: calls.append(args) or generated
    given = callback.evaluate(generated)
    assert calls == []
    assert given == callback.evaluate()
    assert len(calls) == 1
    assert given["fid"] > 0.0

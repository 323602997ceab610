"""Precision / recall and density / coverage against the `prdc` reference code."""

import numpy as np
import pytest

from keras_gans.metrics import precision_recall
from keras_gans.metrics.precision_recall import nearest_neighbour_radii

prdc = pytest.importorskip("prdc")


def _prdc(real, fake, k):
    scores = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    return {name: float(value) for name, value in scores.items()}


@pytest.mark.parametrize(
    "n_real, n_fake, dim, shift, k",
    [(300, 200, 16, 0.5, 3), (150, 250, 8, 0.0, 5), (200, 200, 64, 1.5, 1)],
)
def test_matches_prdc(n_real, n_fake, dim, shift, k):
    rng = np.random.default_rng(n_real + dim)
    real = rng.normal(size=(n_real, dim))
    fake = rng.normal(loc=shift, scale=1.2, size=(n_fake, dim))
    # Small blocks, so the batched accumulation is exercised.
    ours = precision_recall(real, fake, k=k, batch_size=37)
    assert ours == pytest.approx(_prdc(real, fake, k), abs=1e-12)


def test_batch_size_does_not_change_the_result():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(120, 10)), rng.normal(0.3, 1.0, size=(90, 10))
    expected = precision_recall(real, fake, batch_size=1000)
    for batch_size in (1, 7, 89, 120):
        assert precision_recall(real, fake, batch_size=batch_size) == expected


def test_limits():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(200, 8))
    same = precision_recall(real, real)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = precision_recall(real, real + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    # A mode-collapsed generator: precise but with little recall and coverage.
    collapsed = real[:1] + 0.01 * rng.normal(size=(200, 8))
    scores = precision_recall(real, collapsed)
    assert scores["precision"] == 1.0 and scores["recall"] < 0.05 and scores["coverage"] < 0.05


def test_radii_are_kth_neighbour_distances():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4))
    distances = np.linalg.norm(x[:, None] - x[None], axis=-1)
    expected = np.sort(distances, axis=1)[:, 3]  # Column 0 is the point itself.
    np.testing.assert_allclose(nearest_neighbour_radii(x, k=3, batch_size=16), expected)


def test_argument_errors():
    x = np.zeros((10, 4))
    with pytest.raises(ValueError, match=r"`real_features`.*\(N, D\)"):
        precision_recall(np.zeros(4), x)
    with pytest.raises(ValueError, match="same D"):
        precision_recall(x, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="`k` must be a positive integer"):
        precision_recall(x, x, k=0)
    with pytest.raises(ValueError, match="more than k=3 rows"):
        precision_recall(x, x[:3])
    with pytest.raises(ValueError, match="`batch_size`"):
        precision_recall(x, x, batch_size=0)
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(np.full((10, 4), np.nan), x)

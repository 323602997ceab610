import numpy as np
import pytest
from keras import ops

from keras_gans import losses


def _np(x):
    return float(ops.convert_to_numpy(x))


def softplus(x):
    return np.log1p(np.exp(x))


REAL = np.array([2.0, -1.0, 0.5], dtype="float32")
FAKE = np.array([-3.0, 0.0, 1.0], dtype="float32")


def test_non_saturating_matches_binary_cross_entropy():
    loss = losses.get("non_saturating")
    expected_d = np.mean(softplus(-REAL)) + np.mean(softplus(FAKE))
    assert _np(loss.discriminator_loss(REAL, FAKE)) == pytest.approx(expected_d, rel=1e-5)
    assert _np(loss.generator_loss(FAKE)) == pytest.approx(np.mean(softplus(-FAKE)), rel=1e-5)


def test_label_smoothing_changes_only_the_real_target():
    smooth = losses.get("non_saturating", label_smoothing=0.1)
    p = 1 / (1 + np.exp(-REAL))
    expected_real = np.mean(-(0.9 * np.log(p) + 0.1 * np.log(1 - p)))
    expected = expected_real + np.mean(softplus(FAKE))
    assert _np(smooth.discriminator_loss(REAL, FAKE)) == pytest.approx(expected, rel=1e-5)
    assert _np(smooth.generator_loss(FAKE)) == pytest.approx(
        _np(losses.get("non_saturating").generator_loss(FAKE))
    )


def test_closed_forms_of_other_losses():
    ls = losses.get("least_squares")
    assert _np(ls.discriminator_loss(REAL, FAKE)) == pytest.approx(
        0.5 * (np.mean((REAL - 1) ** 2) + np.mean(FAKE**2)), rel=1e-5
    )
    hinge = losses.get("hinge")
    assert _np(hinge.discriminator_loss(REAL, FAKE)) == pytest.approx(
        np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)), rel=1e-5
    )
    w = losses.get("wasserstein")
    assert _np(w.discriminator_loss(REAL, FAKE)) == pytest.approx(FAKE.mean() - REAL.mean())
    assert _np(w.generator_loss(FAKE)) == pytest.approx(-FAKE.mean())
    minimax = losses.get("minimax")
    assert _np(minimax.generator_loss(FAKE)) == pytest.approx(-np.mean(softplus(FAKE)), rel=1e-5)


def test_unknown_loss_and_bad_smoothing_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown GAN loss: 'nope'"):
        losses.get("nope")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.get("hinge", label_smoothing=1.5)

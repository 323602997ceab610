"""Adaptive augmentation: identity at p = 0, the p update rule, and exact resume of its state."""

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans.objective import ada
from tests import helpers
from tests.test_keras_integration import _CrashAt
from tests.test_stylegan2 import TINY


def test_p_zero_is_the_identity_and_p_one_changes_every_image():
    images = np.random.default_rng(0).uniform(-1, 1, (6, 8, 8, 3)).astype("float32")
    seed = keras.random.SeedGenerator(0)
    same = keras.ops.convert_to_numpy(ada.augment(images, 0.0, seed))
    np.testing.assert_allclose(same, images, atol=1e-5)
    changed = keras.ops.convert_to_numpy(ada.augment(images, 1.0, seed))
    assert changed.shape == images.shape and np.isfinite(changed).all()
    assert (np.abs(changed - images).reshape(6, -1).max(axis=1) > 1e-3).all()


def test_p_moves_by_the_sign_of_real_logits_every_interval():
    # 2 steps of 4 images: N = 8 per adjustment; kimg * 1000 = 32 gives steps of 0.25.
    layer = ada.AdaptiveAugment(target=0.6, kimg=0.032, interval=2)
    confident, unsure = np.ones(4, "float32"), -np.ones(4, "float32")
    layer.update(confident)
    assert float(layer.p) == 0.0  # not yet an interval
    layer.update(confident)
    assert float(layer.p) == pytest.approx(0.25)  # r_t = 1 > 0.6: more augmentation
    for logits in (unsure, unsure, unsure, unsure):
        layer.update(logits)
    assert float(layer.p) == 0.0  # r_t = -1 < 0.6: less, clipped at 0


def test_backup_and_restore_resumes_stylegan2_state_exactly(tmp_path):
    images = helpers.training_data(keras_gans.StyleGAN2(**TINY), 32)
    fit_args = dict(batch_size=16, epochs=2, shuffle=False, verbose=0)
    kwargs = dict(TINY, ada_target=0.0, ada_kimg=0.01)  # p moves at every adjustment

    def compiled():
        model = keras_gans.StyleGAN2(**kwargs)
        model.compile()
        return model

    keras.utils.set_random_seed(3)
    reference = compiled()
    reference.fit(images, **fit_args)

    keras.utils.set_random_seed(3)
    crashed = compiled()
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.fit(images, callbacks=[backup, _CrashAt(epoch=1, batch=1)], **fit_args)

    keras.utils.set_random_seed(99)
    resumed = compiled()
    history = resumed.fit(images, callbacks=[backup], **fit_args)
    assert len(history.history["d_loss"]) == 1  # epoch 2 only
    # The w average, path-length mean, lazy counters and ADA's p came back with the weights.
    for name in ("w_avg", "pl_mean", "d_reg_step", "g_reg_step"):
        np.testing.assert_allclose(
            np.array(getattr(resumed, name)), np.array(getattr(reference, name)), atol=1e-5
        )
    assert float(reference.ada.p) > 0
    assert float(resumed.ada.p) == pytest.approx(float(reference.ada.p))
    for a, b in zip(reference.weights, resumed.weights):
        np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-5, err_msg=a.path)

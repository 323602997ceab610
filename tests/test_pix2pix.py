"""Pix2Pix: paired translation through compile/fit, saving, portability and learning."""

import json

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans import data
from tests import helpers
from tests.test_case import GANTestCase

TINY = dict(source_shape=(16, 16, 1), target_shape=(16, 16, 3), width=4)
TINY_D = dict(num_discriminator_layers=2, seed=1)


def pairs(num_pairs=16, seed=0):
    rng = np.random.default_rng(seed)
    sources = rng.uniform(-1, 1, (num_pairs, 16, 16, 1)).astype("float32")
    return sources, rng.uniform(-1, 1, (num_pairs, 16, 16, 3)).astype("float32")


def numpy_variables(variables):
    return [keras.ops.convert_to_numpy(v) for v in variables]


def check_portable(cases, tmp_path):
    """Each saved model translates its images as expected on the other two backends.

    Args:
        cases: `(path, images, expected, direction)` per saved model; one
            interpreter per backend checks them all.
    """
    lines = ["import json, keras, numpy as np, keras_gans", "out = []"]
    for i, (path, images, _, direction) in enumerate(cases):
        np.save(tmp_path / f"images_{i}.npy", images)
        kwargs = "" if direction is None else f", direction={direction!r}"
        lines += [
            f"model = keras.saving.load_model({str(path)!r}, compile=False)",
            f"images = np.load({str(tmp_path / f'images_{i}.npy')!r})",
            f"out.append(model.translate(images{kwargs}).tolist())",
        ]
    lines.append("print(json.dumps(out))")
    for backend in helpers.BACKENDS:
        if backend != helpers.BACKEND:
            output = helpers.run_python("\n".join(lines), backend)
            for got, (_, _, expected, _) in zip(json.loads(output.strip().splitlines()[-1]), cases):
                np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=backend)


class TestPix2Pix(GANTestCase):
    model_class = keras_gans.Pix2Pix
    init_kwargs = {**TINY, **TINY_D}
    expected_logs = {"loss", "d_loss", "g_loss", "g_adversarial", "l1"}

    def test_fit_save_load_translate(self, tmp_path):
        model = self.run_gan_test(expected_image_shape=(16, 16, 3), num_images=16, batch_size=8)
        sources = pairs(4, seed=1)[0]
        # no dropout noise at inference: the same sources, the same images
        np.testing.assert_array_equal(model.translate(sources), model.translate(sources))
        loaded = self.run_saving_test(model, tmp_path)
        assert json.dumps(loaded.get_config()) == json.dumps(model.get_config())

    def test_hub_round_trip(self, hub, hub_repo_id):
        from tests.hub_fixtures import HUB_TOKEN

        model = self.make()
        model.compile()
        self.run_hub_round_trip(model, hub_repo_id, HUB_TOKEN, examples=pairs(3)[0])


def test_unmatched_pairs_and_wrong_shapes_are_named():
    model = keras_gans.Pix2Pix(**TINY, **TINY_D)
    model.compile()
    sources, targets = pairs()
    with pytest.raises(ValueError, match="16 sources but 15 targets"):
        model.fit((sources, targets[:15]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"targets must have shape \(N, 16, 16, 3\)"):
        model.fit((sources, targets[..., :1]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="sources are empty"):
        model.fit((sources[:0], targets[:0]), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`images` must have shape \(N, 16, 16, 1\)"):
        model.translate(targets)
    with pytest.raises(ValueError, match="must share height and width"):
        keras_gans.Pix2Pix((16, 16, 1), (32, 32, 3))
    with pytest.raises(ValueError, match="the same instance"):
        optimizer = keras.optimizers.Adam()
        model.compile(d_optimizer=optimizer, g_optimizer=optimizer)


def held_out_l1(model, sources, targets):
    return float(np.abs(model.translate(sources, batch_size=256) - targets).mean())


@pytest.mark.slow
@pytest.mark.spread_across_backends  # a learning test: one backend of a run
def test_learns_edges2digits():
    """On held-out pairs of real digits, a short run beats the untrained model's L1 by far."""
    edges, digits = data.edges2digits("train")
    test_edges, test_digits = data.edges2digits("test", num_test=500)
    model = keras_gans.Pix2Pix((32, 32, 1), width=8, seed=0)
    untrained = held_out_l1(model, test_edges, test_digits)
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
    )
    model.fit((edges[:2048], digits[:2048]), batch_size=32, epochs=1, verbose=0)
    trained = held_out_l1(model, test_edges, test_digits)
    # untrained ~0.6-0.9 (noise around 0); a mean-digit predictor is ~0.35
    print(f"edges2digits held-out L1: untrained {untrained:.3f}, trained {trained:.3f}")
    assert trained < 0.5 * untrained and trained < 0.25, (trained, untrained)

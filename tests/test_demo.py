"""The demo's actions and pages for every family on every backend (browser: test_demo_browser)."""

import numpy as np
import pytest

import keras_gans
from keras_gans.demo.actions import DemoActions, DemoInputError, parse_seeds
from keras_gans.demo.app import build_demo
from keras_gans.images import to_uint8
from tests import helpers
from tests.test_cyclegan import TINY as CYCLEGAN
from tests.test_pix2pix import TINY as PIX2PIX
from tests.test_r3gan import TINY as R3GAN
from tests.test_stylegan2 import TINY as STYLEGAN2


@pytest.fixture(scope="module")
def converted():
    return keras_gans.StyleGAN2.from_nvlabs(helpers.shared_fixture("stylegan2-ada/cond32-rgb.pkl"))


def test_the_same_seed_gives_generates_image_on_every_generator():
    models = [helpers.make_model(name) for name in ("GAN", "DCGAN", "WGANGP")]
    models.append(keras_gans.R3GAN(**R3GAN))
    for model in models:
        actions = DemoActions(model)
        np.testing.assert_array_equal(
            actions.generate(seed=7), to_uint8(model.generate(1, seed=7))[0]
        )
        grid = actions.generate(seed=7, count=4)
        assert grid.ndim == 3 and grid.shape[0] > model.image_shape[0]
        build_demo(model)  # the page builds


def test_classes_truncation_noise_and_bad_input(converted):
    actions = DemoActions(converted)
    assert actions.capabilities["truncation"] and actions.capabilities["mix"]
    expected = converted.generate(labels=[3], seed=2, truncation_psi=0.7, noise_mode="none")
    image = actions.generate(seed=2, class_name="3", truncation_psi=0.7, noise_mode="none")
    np.testing.assert_array_equal(image, to_uint8(expected)[0])
    for bad in ({"seed": -1}, {"seed": 2**32}, {"seed": 1.5}, {"seed": "x"}):
        with pytest.raises(DemoInputError, match="whole number"):
            actions.generate(**bad, class_name="0")
    with pytest.raises(DemoInputError, match="does not exist"):
        actions.generate(seed=0, class_name="10")
    with pytest.raises(DemoInputError, match="Count"):
        actions.generate(seed=0, count=0, class_name="0")
    assert parse_seeds("1, 3-5") == [1, 3, 4, 5]
    with pytest.raises(DemoInputError, match="not a seed"):
        parse_seeds("1,a")
    build_demo(converted)


def test_interpolation_mixing_and_projection_pages(converted):
    actions = DemoActions(converted)
    strip, frames = actions.interpolate(0, 1, steps=5, space="w", class_name="1",
                                        end_class_name="4")  # fmt: skip
    assert frames.shape == (5, 32, 32, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[0], to_uint8(converted.generate(labels=[1], seed=0))[0])
    np.testing.assert_array_equal(frames[-1], to_uint8(converted.generate(labels=[4], seed=1))[0])
    figure = actions.mix("1,2", "3,4,5", 0, 3, class_name="0")
    assert figure.shape == (3 * 32 + 4 * 2, 4 * 32 + 5 * 2, 3)
    with pytest.raises(DemoInputError, match="Layers"):
        actions.mix("1", "2", 5, 2, class_name="0")
    photo = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    seen = []
    target, remade, ws = actions.project(photo, steps=3, class_name="0",
                                         progress=lambda f, desc: seen.append(desc))  # fmt: skip
    assert target.shape == remade.shape == (32, 32, 3) and ws.shape == (1, converted.num_ws, 64)
    assert seen and "step 3 of 3" in seen[-1]
    with pytest.raises(DemoInputError, match="Upload an image"):
        actions.project(None, steps=3, class_name="0")
    with pytest.raises(DemoInputError, match="under"):
        actions.prepare_upload(np.zeros((8000, 6000, 3), np.uint8), (32, 32, 3))
    with pytest.raises(DemoInputError, match="not an image"):
        actions.prepare_upload(np.zeros((4,), np.uint8), (32, 32, 3))


def test_translators_take_uploads_in_either_direction():
    for model in (keras_gans.Pix2Pix(**PIX2PIX), keras_gans.CycleGAN(**CYCLEGAN)):
        actions = DemoActions(model)
        assert actions.capabilities == {**actions.capabilities, "translate": True,
                                        "generate": False}  # fmt: skip
        photo = np.random.default_rng(1).integers(0, 256, (40, 30, 3), dtype=np.uint8)
        for direction in model.directions:
            source = actions.prepare_upload(photo, model._source_shape(direction))
            kwargs = {"direction": direction} if direction else {}
            expected = to_uint8(model.translate(source[None], **kwargs)[0])
            np.testing.assert_array_equal(actions.translate(photo, direction), expected)
        with pytest.raises(DemoInputError, match="Direction"):
            actions.translate(photo, "sideways")
        build_demo(model)


def test_a_stylegan2_trained_here_has_every_tab():
    model = keras_gans.StyleGAN2(**STYLEGAN2)
    actions = DemoActions(model)
    assert all(actions.capabilities[k] for k in ("generate", "truncation", "mix", "project"))
    demo = build_demo(model)
    labels = {getattr(block, "label", None) for block in demo.blocks.values()}
    assert {"Truncation psi", "Row seeds", "Your image"} <= labels
    assert any(str(label).startswith("Seed") for label in labels)

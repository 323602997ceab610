"""`export()` writes a generator for serving; the artifact makes the same images as the model."""

import numpy as np
import onnxruntime
import pytest

import keras_gans
from tests import helpers
from tests.test_cyclegan import TINY as CYCLEGAN
from tests.test_pix2pix import TINY as PIX2PIX
from tests.test_r3gan import TINY as R3GAN
from tests.test_stylegan2 import TINY as STYLEGAN2

GENERATORS = {
    "GAN": lambda: helpers.make_model("GAN"),
    "DCGAN": lambda: helpers.make_model("DCGAN"),
    "ConditionalGAN": lambda: helpers.make_model("ConditionalGAN"),
    "WGANGP": lambda: helpers.make_model("WGANGP"),
    "StyleGAN2": lambda: keras_gans.StyleGAN2(**{**STYLEGAN2, "num_classes": 3}),
    "R3GAN": lambda: keras_gans.R3GAN(**R3GAN),
}


def _run_onnx(path, inputs):
    session = onnxruntime.InferenceSession(str(path))
    names = [node.name for node in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))[0]


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_onnx_generator_makes_the_same_images(name, tmp_path):
    model = GENERATORS[name]()
    if name == "R3GAN" and helpers.BACKEND == "tensorflow":  # tf2onnx: no grouped convs
        with pytest.raises(ValueError, match="jax or torch can"):
            model.export(tmp_path / "generator.onnx", format="onnx")
        return
    latent = model.sample_latent(3, seed=0)
    labels = None if model.num_classes is None else np.array([0, 1, 2], "int32")
    path = model.export(tmp_path / "generator.onnx", format="onnx")
    images = _run_onnx(path, [latent] if labels is None else [latent, labels])
    expected = model.generate(latent=latent, labels=labels)
    np.testing.assert_allclose(np.clip(images, -1, 1), expected, atol=1e-5)


@pytest.mark.parametrize("name", ["Pix2Pix", "CycleGAN"])
def test_onnx_translator_makes_the_same_translations(name, tmp_path):
    model = keras_gans.Pix2Pix(**PIX2PIX) if name == "Pix2Pix" else keras_gans.CycleGAN(**CYCLEGAN)
    direction = model.directions[-1]
    shape = model._source_shape(direction)
    sources = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype("float32")
    path = model.export(tmp_path / "translate.onnx", format="onnx", direction=direction)
    np.testing.assert_allclose(
        _run_onnx(path, [sources]), model.translate(sources, direction=direction), atol=1e-5
    )


def test_saved_model_export_or_a_clear_refusal(tmp_path):
    model = helpers.make_model("ConditionalGAN")
    latent, labels = model.sample_latent(3, seed=0), np.array([0, 1, 2], "int32")
    if helpers.BACKEND == "torch":
        with pytest.raises(ValueError, match="jax or tensorflow can"):
            model.export(tmp_path / "saved")
        return
    import tensorflow as tf

    model.export(tmp_path / "saved")
    loaded = tf.saved_model.load(str(tmp_path / "saved"))  # kept: it owns the variables
    served = loaded.serve([latent, labels])
    np.testing.assert_allclose(
        np.asarray(served), model.generate(latent=latent, labels=labels), atol=1e-5
    )


def test_formats_a_backend_cannot_write_name_those_that_can(tmp_path):
    model = helpers.make_model("DCGAN")
    with pytest.raises(ValueError, match="`format` must be one of"):
        model.export(tmp_path / "x", format="gif")
    refused = {
        "jax": ("litert", "tensorflow or torch can"),
        "tensorflow": ("torch", "torch can"),
        "torch": ("tf_saved_model", "jax or tensorflow can"),
    }
    format, message = refused[helpers.BACKEND]
    with pytest.raises(ValueError, match=message):
        model.export(tmp_path / "artifact", format=format)
    assert not (tmp_path / "artifact").exists()


@pytest.mark.spread_across_backends
def test_the_export_command_checks_its_onnx_file(tmp_path, capsys):
    from keras_gans import cli

    model = helpers.make_model("ConditionalGAN")
    model.save(tmp_path / "model.keras")
    out = tmp_path / "generator.onnx"
    argv = ["export", str(tmp_path / "model.keras"), "--out", str(out), "--check"]
    assert cli.main(argv) == 0
    assert "matches the model's within" in capsys.readouterr().out and out.exists()
    assert cli.main([*argv[:4], "--direction", "a_to_b"]) == 1
    assert "--direction applies to Pix2Pix and CycleGAN" in capsys.readouterr().err

"""NVIDIA's StyleGAN2-ADA pickles: converted exactly on every backend, fine-tuned, saved, refused.

The fixtures in `../shared/fixtures/stylegan2-ada/` were written by NVIDIA's own code
with random weights, together with NVIDIA's outputs for them (their README says which).
"""

import json
import os

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans import cli
from keras_gans.convert import presets
from keras_gans.convert.pickle_reader import NetworkPickleError
from tests import helpers
from tests.http_fixtures import serve_files

FIXTURES = ("cond32-rgb", "uncond64-rgb")


def fixture(name):
    """`(pickle path, NVIDIA's reference outputs)` of a shared StyleGAN2-ADA fixture."""
    path = helpers.shared_fixture(f"stylegan2-ada/{name}.pkl")
    return path, np.load(path.replace(".pkl", "-reference.npz"))


def nhwc(images):
    return np.transpose(images, (0, 2, 3, 1))


def class_ids(reference):
    return reference["c"].argmax(axis=1).astype("int32") if reference["c"].size else None


@pytest.mark.parametrize("name", FIXTURES)
def test_converted_networks_equal_nvidias(name):
    path, reference = fixture(name)
    model = keras_gans.StyleGAN2.from_nvlabs(path)
    z, labels = reference["z"], class_ids(reference)
    assert model.num_classes == (reference["c"].shape[1] or None)
    cases = {
        "images_const": {},
        "images_psi07_const": {"truncation_psi": 0.7},
        "images_noise_none": {"noise_mode": "none"},
    }
    for key, options in cases.items():
        images = model.generate(latent=z, labels=labels, **options)
        expected = np.clip(nhwc(reference[key]), -1.0, 1.0)
        np.testing.assert_allclose(images, expected, atol=1e-3, rtol=0, err_msg=key)
    inputs = z if labels is None else [z, labels]
    # The training generator G (not the EMA one), unclipped.
    g_images = keras.ops.convert_to_numpy(model.generator(inputs, training=False))
    np.testing.assert_allclose(g_images, nhwc(reference["g_images_const"]), atol=1e-3, rtol=0)
    w = keras.ops.convert_to_numpy(model.ema_generator.get_layer("mapping")(inputs))
    np.testing.assert_allclose(w, reference["ws"][:, 0], atol=1e-4, rtol=0)
    real = nhwc(reference["images_const"])
    logits = model.discriminator(real if labels is None else [real, labels])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(logits), reference["d_logits"], rtol=1e-3, atol=1e-6
    )


def test_the_pickles_architecture_is_recorded():
    path, _ = fixture("cond32-rgb")
    model = keras_gans.StyleGAN2.from_nvlabs(path)
    config = model.get_config()
    # cond32-rgb: z/w 64, mapping 2 layers, channel_base 2048 / max 64, clamp 256, resnet D.
    assert model.image_shape == (32, 32, 3) and model.latent_dim == 64 and model.w_dim == 64
    assert (config["mapping_layers"], config["channel_base"], config["channel_max"]) == (
        2, 2048, 64,
    )  # fmt: skip
    assert config["conv_clamp"] == 256 and config["num_fp16_res"] == 0
    assert (config["architecture"], config["d_architecture"]) == ("skip", "resnet")
    assert config["mbstd_group_size"] == 4 and config["ema_warmup"] is False
    assert config["pretrained_source"]["path"] == os.path.abspath(path)
    assert config["pretrained_source"]["classes"] == list(range(10))


@pytest.mark.parametrize("mode", ["random", "none"])
def test_noise_modes_and_cutoff(mode):
    path, reference = fixture("uncond64-rgb")
    model = keras_gans.StyleGAN2.from_nvlabs(path)
    z = reference["z"][:2]
    const = model.generate(latent=z)
    other = model.generate(latent=z, noise_mode=mode)
    assert not np.allclose(const, other)
    if mode == "random":  # fresh noise on every call
        assert not np.allclose(other, model.generate(latent=z, noise_mode="random"))
    # A cutoff of num_ws truncates every w, as no cutoff does; 0 truncates none.
    # (Equal up to float rounding: each setting is its own compiled function on JAX.)
    psi = dict(truncation_psi=0.5)
    np.testing.assert_allclose(
        model.generate(latent=z, truncation_cutoff=model.num_ws, **psi),
        model.generate(latent=z, **psi),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        model.generate(latent=z, truncation_cutoff=0, **psi), const, atol=1e-5
    )
    with pytest.raises(ValueError, match="noise_mode"):
        model.generate(latent=z, noise_mode="loud")
    with pytest.raises(ValueError, match="truncation_cutoff"):
        model.generate(latent=z, truncation_cutoff=-1)


def test_fine_tuning_continues_from_nvidias_networks(tmp_path):
    path, reference = fixture("cond32-rgb")
    model = keras_gans.StyleGAN2.from_nvlabs(path, ada_target=0.6, seed=0)
    ema_before = [np.array(w) for w in model.ema_generator.weights]
    g_before = [np.array(w) for w in model.generator.weights]
    model.compile()
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    labels = rng.integers(0, 10, 8).astype("int32")
    history = model.fit((images, labels), batch_size=4, epochs=1, verbose=0)
    for key, values in history.history.items():
        assert np.isfinite(values).all(), key
    # The EMA continued from G_ema (no warm-up toward G): after two steps at decay 0.999
    # it is still G_ema's to within the step sizes, far from G.
    ema_after = [np.array(w) for w in model.ema_generator.weights]
    moved = max(np.abs(a - b).max() for a, b in zip(ema_after, ema_before))
    apart = max(np.abs(a - b).max() for a, b in zip(ema_before, g_before))
    assert moved < 0.01 * apart
    saved = tmp_path / "finetuned.keras"
    model.save(saved)
    loaded = keras.saving.load_model(saved)
    np.testing.assert_allclose(
        loaded.generate(latent=reference["z"], labels=labels, truncation_psi=0.7),
        model.generate(latent=reference["z"], labels=labels, truncation_psi=0.7),
        atol=1e-6,
    )
    assert loaded.pretrained_source == model.pretrained_source


# Conversion, folders and names ------------------------------------------------------


@pytest.mark.spread_across_backends
def test_converted_folder_loads_on_every_backend_without_the_converter(tmp_path):
    path, reference = fixture("cond32-rgb")
    out = tmp_path / "converted"
    assert cli.main(["convert", path, "--out", str(out), "--truncation-psi", "0.7"]) == 0
    assert {"config.json", "model.weights.h5", "README.md", "samples.png"} <= set(os.listdir(out))
    card = (out / "README.md").read_text()
    assert "Source and license" in card and "cond32-rgb.pkl" in card
    expected = np.clip(nhwc(reference["images_psi07_const"]), -1, 1)
    code = (
        "import sys, json, numpy as np\n"
        "sys.modules['keras_gans.convert'] = None  # the folder needs no converter\n"
        "import keras_gans\n"
        f"model = keras_gans.from_pretrained({str(out)!r})\n"
        f"z = np.load({path.replace('.pkl', '-reference.npz')!r})['z']\n"
        "images = model.generate(latent=z, labels=np.arange(8) % 10, truncation_psi=0.7)\n"
        "print(json.dumps(images.tolist()))\n"
    )
    for backend in helpers.BACKENDS:
        images = np.array(json.loads(helpers.run_python(code, backend).strip().splitlines()[-1]))
        np.testing.assert_allclose(images, expected, atol=1e-3, err_msg=backend)


@pytest.mark.spread_across_backends
def test_a_url_downloads_once_then_converts(tmp_path):
    path, _ = fixture("uncond64-rgb")
    with serve_files({"/nets/uncond64.pkl": open(path, "rb").read()}) as server:
        url = f"{server.url}/nets/uncond64.pkl"
        first = keras_gans.StyleGAN2.from_nvlabs(url, cache_dir=str(tmp_path))
        second = keras_gans.StyleGAN2.from_nvlabs(url, cache_dir=str(tmp_path))
        assert server.requests == ["/nets/uncond64.pkl"]  # the second came from the cache
    np.testing.assert_array_equal(first.generate(2, seed=0), second.generate(2, seed=0))
    assert first.pretrained_source["url"] == url


@pytest.mark.spread_across_backends
def test_a_name_converts_and_its_card_names_nvidias_license(
    tmp_path, monkeypatch, hub_repo_id, hub_token
):
    path, _ = fixture("uncond64-rgb")
    with serve_files({"/uncond64.pkl": open(path, "rb").read()}) as server:
        preset = {**presets.NVLABS_STYLEGAN2["nvlabs:afhqcat"], "url": f"{server.url}/uncond64.pkl",
                  "resolution": 64, "dataset": "AFHQ Cat (stand-in)"}  # fmt: skip
        monkeypatch.setitem(presets.PRESETS, "nvlabs:fixture64", preset)
        monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))
        model = keras_gans.StyleGAN2.from_nvlabs("nvlabs:fixture64")
    assert model.pretrained_source["name"] == "nvlabs:fixture64"
    info = model.push_to_hub(hub_repo_id, token=hub_token)
    from huggingface_hub import ModelCard

    card = ModelCard.load(hub_repo_id, token=hub_token)
    assert card.data.license == "other"
    assert card.data.license_link == presets.ADA_LICENSE["url"]
    assert "non-commercial" in card.text and "not Apache-2.0" in card.text
    assert preset["url"] in card.text and "64x64" in card.text
    loaded = keras_gans.from_pretrained(hub_repo_id, revision=info.oid)
    np.testing.assert_allclose(loaded.generate(2, seed=3), model.generate(2, seed=3), atol=1e-6)


@pytest.mark.spread_across_backends
def test_sample_takes_nvlabs_pickles_and_truncation(tmp_path, capsys):
    path, _ = fixture("uncond64-rgb")
    out = tmp_path / "grid.png"
    argv = ["sample", path, "--num", "4", "--truncation-psi", "0.6", "--noise-mode", "none"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    from PIL import Image

    assert Image.open(out).size == (2 * 64 + 3 * 2, 2 * 64 + 3 * 2)  # 2x2 cells, 2 px padding
    assert cli.main(["sample", path, "--revision", "x", "--out", str(out)]) == 1
    assert "--revision applies to Hub repos" in capsys.readouterr().err


# Bad input: one clear line each, nothing written half ---------------------------------


def _convert_fails(argv, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["convert", *argv, "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if "partial" in p]
    return err


@pytest.mark.spread_across_backends
def test_bad_pickles_are_refused_in_one_line(tmp_path, capsys):
    path, _ = fixture("cond32-rgb")
    data = open(path, "rb").read()
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(data[: len(data) // 2])
    assert "truncated" in _convert_fails([str(truncated)], tmp_path, capsys)
    import pickle

    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    assert "not a StyleGAN2 network pickle" in _convert_fails([str(other)], tmp_path, capsys)

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = tmp_path / "payload.pkl"
    payload.write_bytes(pickle.dumps({"G_ema": Payload()}))
    assert "refused" in _convert_fails([str(payload)], tmp_path, capsys)
    assert not marker.exists()
    sg3 = helpers.shared_fixture("stylegan3/t32-rgb.pkl")  # the CLI converts it as StyleGAN3
    with pytest.raises(NetworkPickleError, match="StyleGAN3"):
        keras_gans.StyleGAN2.from_nvlabs(sg3)
    assert "Known names" in _convert_fails(["nvlabs:nope"], tmp_path, capsys)
    assert "is not a file" in _convert_fails([str(tmp_path / "missing.pkl")], tmp_path, capsys)


@pytest.mark.spread_across_backends
def test_bad_urls_and_no_network_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))
    with serve_files({}) as server:
        err = _convert_fails([f"{server.url}/missing.pkl"], tmp_path, capsys)
        assert "404" in err
        closed = server.url  # the server stops at the end of the block
    err = _convert_fails([f"{closed}/net.pkl"], tmp_path, capsys)
    assert "could not reach" in err
    cached = [name for _, _, names in os.walk(tmp_path / "cache") for name in names]
    assert not [name for name in cached if not name.endswith(".part")]


def test_stylegan2_network_settings_validate():
    with pytest.raises(ValueError, match="architecture"):
        keras_gans.StyleGAN2(image_shape=(8, 8, 1), latent_dim=8, architecture="unet")
    with pytest.raises(TypeError, match="truncation_psi"):
        keras_gans.R3GAN(latent_dim=8, image_shape=(8, 8, 3), width=8, cardinality=2).generate(
            2, noise_mode="const"
        )


@pytest.mark.slow
@pytest.mark.spread_across_backends
def test_the_finetune_recipe_trains_a_pickle_on_a_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(8):  # 48x48 images: resized to the pickle's 64x64
        pixels = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.png")
    path, _ = fixture("uncond64-rgb")
    run = tmp_path / "run"
    argv = ["train", "stylegan2.finetune", "--data", str(folder), "--pretrained", path]
    argv += ["--image-size", "64", "--epochs", "1", "--batch-size", "4", "--no-eval"]
    assert cli.main([*argv, "--out", str(run)]) == 0
    state = json.loads((run / "run.json").read_text())
    assert state["status"] == "finished" and state["epochs_done"] == 1
    assert state["model_overrides"] == {"pretrained": path}
    model = keras.saving.load_model(run / "model.keras")
    assert model.pretrained_source["path"] == os.path.abspath(path)
    assert np.isfinite(model.generate(2, seed=0)).all()

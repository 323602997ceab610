"""The zoo (recipes + runner): every recipe parses, builds and trains; runs, resume, evaluation."""

import json
import os
import re

import keras
import numpy as np
import pytest

import keras_gans
from keras_gans import data, recipes, runner
from keras_gans.metrics import digits_classifier, extractors
from keras_gans.metrics.extractors import FeatureExtractor
from tests import helpers

# runner plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends

RECIPES = recipes.list_recipes()
# Overrides that make each recipe's model tiny while keeping its class, shape and optimizers.
TINY = {
    "DCGAN": {"width": 8},
    "ConditionalGAN": {"width": 8},
    "StyleGAN2": {"channel_base": 32, "channel_max": 8, "mapping_layers": 1},
    "StyleGAN3": {
        "channel_base": 64,
        "channel_max": 8,
        "mapping_layers": 1,
        "num_layers": 4,
        "d_channel_base": 32,
        "d_channel_max": 8,
    },
    "R3GAN": {"width": 8, "cardinality": 2, "blocks": 1},
    "Pix2Pix": {"width": 4},
    "CycleGAN": {"width": 4, "num_blocks": 1},
}
# Offline tasks of the translation recipes (data.OFFLINE holds the image datasets).
OFFLINE_TASKS = ("edges2digits", "digits2mnist")


# Recipes that start from NVIDIA's pickles start, here, from a shared fixture pickle instead.
PRETRAINED_FIXTURE = "stylegan2-ada/uncond64-rgb.pkl"


def tiny_model(recipe):
    if "pretrained" in recipe.model:
        fixture = helpers.shared_fixture(PRETRAINED_FIXTURE)
        return runner.build_model(recipe, image_shape=(64, 64, 3), pretrained=fixture)
    return runner.build_model(recipe, **TINY.get(recipe.model_class, {}))


def pixel_extractor():
    """A cheap stand-in for the offline classifier: 4x4 average-pooled pixels."""

    def features(images):
        images = data.resize_images(np.asarray(images), 4)
        return images.reshape(len(images), -1)

    return FeatureExtractor(features, name="pooled_pixels")


@pytest.fixture
def cheap_extractor(monkeypatch, tmp_path):
    monkeypatch.setattr(
        extractors, "get_feature_extractor", lambda name, *args, **kwargs: pixel_extractor()
    )
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))


# Recipes ---------------------------------------------------------------------------


def test_the_zoo_has_the_promised_recipes():
    promised = {"gan.mnist", "gan.fashion_mnist", "dcgan.mnist", "cgan.mnist", "cgan.cifar10"}
    assert promised <= set(RECIPES)
    assert {"dcgan.mnist5k", "cgan.mnist5k", "gan.digits"} <= set(RECIPES)
    assert recipes.get("dcgan.celeba64").image_shape == (64, 64, 3)
    assert recipes.get("cgan.cifar10").image_shape == (32, 32, 3)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_parses_and_says_everything(name):
    recipe = recipes.get(name)
    arch, dataset = name.split(".")
    assert recipes.ARCHITECTURES[arch] == recipe.model_class
    assert recipe.description
    shapes = {"source_shape", "target_shape"} if arch == "pix2pix" else {"shape_a", "shape_b"}
    assert ({"latent_dim", "image_shape"} if not recipe.is_translation else shapes) <= set(
        recipe.model
    )
    assert recipe.batch_size >= 1 and recipe.epochs >= 1 and isinstance(recipe.seed, int)
    assert re.fullmatch(r"keras-gans/[a-z0-9-]+", recipe.repo_id)
    for role in recipe.optimizer_roles:
        assert isinstance(runner.build_optimizer(recipe.optimizers[role]), keras.optimizers.Adam)
    offline = recipe.dataset_name in (*data.OFFLINE, *OFFLINE_TASKS)
    rows = recipes.results(name)
    if offline:
        # Offline datasets run here, so their results must be measured, with a protocol.
        assert rows, f"{name} runs offline; measure it (keras-gans train {name} --record)"
    for row in rows:
        assert set(row) == set(recipes.RESULT_COLUMNS)
        assert float(row["wall_time_s"]) > 0 and float(row["images_per_s"]) > 0
        assert row["backend"] in helpers.BACKENDS
        if recipe.is_translation:
            assert row["protocol"] and (row["l1"] or row["agreement"])
        else:
            assert "features" in row["protocol"]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_builds_and_trains_a_few_steps(name):
    recipe = recipes.get(name)
    model = tiny_model(recipe)
    # Every recipe builds; the smallest recipe of each model class also trains (the others
    # differ only in sizes and settings, and compiling a StyleGAN2 step costs ~40 s).
    same_class = [n for n in RECIPES if recipes.get(n).model_class == recipe.model_class]
    first_of_class = min(same_class, key=lambda n: (np.prod(recipes.get(n).image_shape), n))
    assert type(model).__name__ == recipe.model_class
    if recipe.is_translation:
        # CycleGAN's smallest recipe trains through the runner in
        # test_translation_recipes_run_scored_and_resume (a step traces for ~40 s on TF).
        train = name == first_of_class and recipe.model_class != "CycleGAN"
        _check_translation_recipe(recipe, model, train=train)
        return
    if "pretrained" in recipe.model:  # the pickle's networks, the recipe's training options
        assert model.pretrained_source and model.ada_target == recipe.model["ada_target"]
        assert model.r1_gamma == recipe.model["r1_gamma"] and model.ema_warmup is False
        return
    assert model.image_shape == recipe.image_shape
    assert model.latent_dim == recipe.model["latent_dim"]
    assert model.d_optimizer.learning_rate.numpy() == pytest.approx(
        recipe.optimizers["discriminator"]["learning_rate"]
    )
    assert helpers.generate_some(model, 2).shape == (2,) + model.image_shape
    if name != first_of_class:
        return
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16,) + model.image_shape).astype("float32")
    x = images
    if model.num_classes is not None:
        x = (images, rng.integers(0, model.num_classes, 16).astype("int32"))
    history = model.fit(x, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])


def _check_translation_recipe(recipe, model, train):
    direction = {"direction": "a_to_b"} if recipe.model_class == "CycleGAN" else {}
    source = recipe.model.get("source_shape") or recipe.model["shape_a"]
    rate = keras.ops.convert_to_numpy(model.g_optimizer.learning_rate)
    built = runner.build_optimizer(recipe.optimizers["generator"])
    assert float(rate) == pytest.approx(float(keras.ops.convert_to_numpy(built.learning_rate)))
    images = np.zeros((2, *source), "float32")
    assert model.translate(images, **direction).shape == (2, *recipe.image_shape)
    if train:
        rng = np.random.default_rng(0)
        pair = tuple(rng.uniform(-1, 1, (8, *source)).astype("float32") for _ in range(2))
        history = model.fit(pair, batch_size=4, epochs=1, verbose=0)
        assert all(np.isfinite(values[0]) for values in history.history.values())


def test_unknown_recipe_lists_known_names_and_close_matches():
    with pytest.raises(ValueError, match=r"Did you mean 'dcgan.mnist5k'.*Known recipes: cgan"):
        recipes.get("dcgan.mnist5")
    with pytest.raises(ValueError, match="Known recipes"):
        recipes.get("stylegan.ffhq")


def test_malformed_recipes_are_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(recipes.ZOO_ENV_VAR, str(tmp_path))
    (tmp_path / "bad.toml").write_text("[model\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        recipes.get("bad")
    base = recipes.Recipe.from_dict  # the checks every file goes through
    good = {
        "name": "x.y",
        "model": {"class": "GAN"},
        "optimizers": {"discriminator": {"class": "Adam"}, "generator": {"class": "Adam"}},
        "training": {"batch_size": 8, "epochs": 1},
        "dataset": {"name": "digits"},
    }
    assert base(good).seed == 0
    with pytest.raises(ValueError, match="class must be one of"):
        base({**good, "model": {"class": "VAE"}})
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        base({**good, "training": {"batch_size": 8, "epochs": 0}})
    with pytest.raises(ValueError, match="unknown keys"):
        base({**good, "trainer": {}})


def test_architecture_with_a_folder_takes_shape_and_classes_from_the_data():
    recipe = recipes.resolve("cgan", data="some/faces", image_size=32, epochs=3)
    assert recipe.name == "cgan.faces" and recipe.epochs == 3
    assert recipe.dataset == {"name": "some/faces", "image_size": 32}
    assert "image_shape" not in recipe.model and not recipe.repo_id
    assert recipes.resolve("dcgan").name == recipes.ARCHITECTURE_BASES["dcgan"]
    assert recipes.resolve("dcgan", data="mnist5k") == recipes.get("dcgan.mnist5k")


# Training runs ----------------------------------------------------------------------

RUN_FILES = ("model.keras", "progress.gif", "losses.png", "metrics.csv", "README.md", "run.json")


def train_tiny(out_dir, **kwargs):
    options = dict(max_images=64, batch_size=32, model_overrides={"width": 8}, verbose=0)
    options.update(kwargs)
    return runner.train(options.pop("recipe", "dcgan.mnist5k"), out_dir, **options)


def test_train_writes_the_run_folder(tmp_path, cheap_extractor, capsys):
    out = tmp_path / "run"
    run = train_tiny(out, recipe="cgan.mnist5k", epochs=2)
    for name in RUN_FILES:
        assert (out / name).exists(), name
    assert sorted(os.listdir(out / "samples")) == ["epoch_0001.png", "epoch_0002.png"]
    assert not (out / "backup").exists()
    assert run["status"] == "finished" and run["epochs_done"] == 2
    assert run["backend"] == keras.backend.backend() and run["num_images"] == 64
    assert run["metrics"]["feature_extractor"] == "pooled_pixels"
    # Named for the extractor that measured it: only the FID Inception gives "fid".
    assert "fid" not in run["metrics"]
    assert np.isfinite(run["metrics"]["fd_pooled_pixels"]) and run["images_per_s"] > 0
    assert json.loads((out / "run.json").read_text())["files"]["grid"].endswith("0002.png")
    header = (out / "metrics.csv").read_text().splitlines()[0]
    header = header.split(",")
    assert "fd_pooled_pixels" in header and "fid" not in header and "d_loss" in header
    card = (out / "README.md").read_text()
    assert "cgan.mnist5k" in card and "samples/epoch_0002.png" in card
    assert "fd_pooled_pixels" in card and "pooled_pixels" in card
    model = keras.saving.load_model(out / "model.keras")
    assert isinstance(model, keras_gans.ConditionalGAN) and model.optimizer is not None
    printed = capsys.readouterr().out
    assert "model.keras" in printed and "progress.gif" in printed


class StopAt(keras.callbacks.Callback):
    """Simulates Ctrl-C at the end of an epoch, before the backup is saved."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_an_interrupted_run_carries_on_when_run_again(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_tiny(out, epochs=3, evaluate=False, callbacks=[StopAt(1)])
    assert (out / "backup").exists()
    assert json.loads((out / "run.json").read_text())["epochs_done"] == 1
    run = train_tiny(out, epochs=3, evaluate=False)
    assert run["epochs_done"] == 3 and not (out / "backup").exists()
    epochs = [line.split(",")[0] for line in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]
    assert len(os.listdir(out / "samples")) == 3
    model = keras.saving.load_model(out / "model.keras")
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    assert steps == 3 * 2  # 3 epochs of 2 steps: nothing lost, nothing repeated


def test_a_finished_run_trains_further_only_with_resume(tmp_path):
    out = tmp_path / "run"
    train_tiny(out, epochs=1, evaluate=False)
    with pytest.raises(ValueError, match="already holds a finished run.*--resume"):
        train_tiny(out, epochs=2, evaluate=False)
    with pytest.raises(ValueError, match="--epochs N with N > 1"):
        runner.train(None, out, resume=True, verbose=0)
    run = runner.train(None, out, resume=True, epochs=2, evaluate=False, verbose=0)
    assert run["epochs_done"] == 2
    assert sorted(os.listdir(out / "samples")) == ["epoch_0001.png", "epoch_0002.png"]
    with pytest.raises(ValueError, match="another batch size"):
        train_tiny(out, epochs=3, batch_size=16, resume=True, evaluate=False)


def test_run_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Nothing to resume"):
        runner.train(None, tmp_path / "nothing", resume=True)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty and holds no keras-gans run"):
        train_tiny(tmp_path / "busy", epochs=1)
    with pytest.raises(ValueError, match="no labels"):
        train_tiny(tmp_path / "r", recipe="cgan", data=_folder(tmp_path), image_size=8)


def _folder(tmp_path):
    from tests.test_datasets import write_images

    write_images(tmp_path / "imgs", 8, size=(8, 8))
    return str(tmp_path / "imgs")


def test_architecture_trains_on_a_folder_of_class_sub_folders(tmp_path):
    from tests.test_datasets import write_images

    for i, name in enumerate(("a", "b", "c")):
        write_images(tmp_path / "imgs" / name, 4, size=(10, 10), mode="RGB", seed=i)
    run = runner.train(
        "cgan",
        tmp_path / "run",
        data=tmp_path / "imgs",
        image_size=8,
        epochs=1,
        batch_size=4,
        model_overrides={"width": 8},
        evaluate=False,
        verbose=0,
    )
    assert run["image_shape"] == [8, 8, 3] and run["num_images"] == 12
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.num_classes == 3


def test_evaluate_a_run_folder(tmp_path, cheap_extractor):
    out = tmp_path / "run"
    train_tiny(out, epochs=1, evaluate=False)
    results = runner.evaluate(out, num_samples=50)
    assert results["feature_extractor"] == "pooled_pixels" and results["num_samples"] == 50
    assert results["fd_pooled_pixels"] > 0 and results["dataset"] == "mnist5k"
    again = runner.evaluate(out, num_samples=50)
    assert again["fd_pooled_pixels"] == pytest.approx(results["fd_pooled_pixels"])


@pytest.mark.slow
def test_offline_extractor_is_trained_once_and_separates_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path))
    monkeypatch.setattr(
        digits_classifier, "_CLASSIFIER_EPOCHS", 1
    )  # 6 in real use; 1 keeps torch quick
    extractor = digits_classifier.offline_extractor()
    assert os.path.exists(tmp_path / "extractors" / "mnist5k_classifier.weights.h5")
    images, labels = data.load("digits", image_size=28)
    features = extractor(images[:200])
    assert features.shape == (200, 128)
    # Same-class features are closer than other-class ones: the features know digits.
    labels = labels[:200]
    centers = np.stack([features[labels == k].mean(0) for k in range(10)])
    nearest = np.argmin(((features[:, None] - centers[None]) ** 2).sum(-1), axis=1)
    assert (nearest == labels).mean() > 0.6


def test_translation_recipes_run_scored_and_resume(tmp_path):
    out = tmp_path / "pix2pix"
    overrides = {"width": 4}
    run = runner.train(
        "pix2pix.edges2digits", out, epochs=1, max_images=64, model_overrides=overrides, verbose=0
    )
    assert set(run["metrics"]) >= {"l1", "psnr", "ssim", "protocol"}
    assert 0 < run["metrics"]["l1"] < 2 and run["num_images"] == 64
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"l1", "psnr", "ssim", "d_loss", "g_loss"} <= set(header)
    card = (out / "README.md").read_text()
    assert "pipeline_tag: image-to-image" in card and "held-out pairs" in card
    row = runner.run_folder.result_row(run, "keras-gans train pix2pix.edges2digits")
    assert row["l1"] and row["psnr"] and row["protocol"].startswith("L1")
    # CycleGAN, killed mid-epoch and resumed: the same weights as one run.
    options = dict(
        epochs=2,
        max_images=32,
        batch_size=8,
        evaluate=False,
        verbose=0,
        model_overrides={"width": 4, "num_blocks": 1},
    )
    runner.train("cyclegan.digits2mnist", tmp_path / "whole", **options)
    stop = _StopAtStep(6)  # mid-epoch 2 (4 steps per epoch)
    with pytest.raises(KeyboardInterrupt):
        runner.train(
            "cyclegan.digits2mnist", tmp_path / "cut", backup_every=1, callbacks=[stop], **options
        )
    runner.train("cyclegan.digits2mnist", tmp_path / "cut", **options)
    expected = keras.saving.load_model(tmp_path / "whole" / "model.keras")
    resumed = keras.saving.load_model(tmp_path / "cut" / "model.keras")
    assert int(resumed.optimizer.iterations.numpy()) == 8
    for a, b in zip(expected.weights, resumed.weights, strict=True):
        if helpers.BACKEND == "torch":
            np.testing.assert_allclose(np.array(a), np.array(b), atol=1e-4)
        else:
            np.testing.assert_array_equal(np.array(a), np.array(b))


class _StopAtStep(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step, self.seen = step, 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.seen == self.step:
            raise KeyboardInterrupt
        self.seen += 1


def test_digit_conditional_runs_report_label_agreement_with_its_protocol():
    from keras_gans.runner import run_folder, summary

    model = keras_gans.ConditionalGAN(
        num_classes=10, latent_dim=8, image_shape=(28, 28, 1), width=8, seed=0
    )
    measured = summary.label_agreement(model, "mnist5k_classifier", per_class=20)
    assert 0.0 <= measured["agreement"] <= 1.0
    assert "200 generated digits (20 per label)" in measured["protocols"]["agreement"]
    # Other extractors, label counts or colour images: not digits asked for, nothing measured.
    assert summary.label_agreement(model, "pooled_pixels") == {}
    colour = keras_gans.ConditionalGAN(
        num_classes=10, latent_dim=8, image_shape=(28, 28, 3), width=8
    )
    assert summary.label_agreement(colour, "mnist5k_classifier") == {}
    run = {
        "recipe": {"name": "cgan.mnist5k"},
        "backend": "jax",
        "device": "cpu",
        "epochs_done": 1,
        "wall_time_s": 1.0,
        "images_per_s": 1.0,
        "metrics": {
            "fd_digits": 1.0,
            "feature_extractor": "mnist5k_classifier",
            "num_samples": 200,
            **measured,
        },
    }
    row = run_folder.result_row(run, "keras-gans train cgan.mnist5k")
    assert row["agreement"] == round(measured["agreement"], 3)
    assert (
        row["protocol"].startswith("mnist5k_classifier features")
        and "agreement:" in row["protocol"]
    )

"""push_to_hub / from_pretrained through the real `huggingface_hub` client and the test Hub.

The server (`tests/hub_server.py`) runs in this process; `HF_ENDPOINT` and a
temporary `HF_HOME` point the client at it. Read-only tests share two repos
pushed once per module; tests that change a repo get their own.
"""

import importlib.util
import io
import json
import os

import keras
import numpy as np
import pytest
import yaml
from huggingface_hub import HfApi, ModelCard
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from PIL import Image

import keras_gans
from keras_gans import cli
from keras_gans.hub import from_pretrained, push_to_hub, save_pretrained
from keras_gans.images import make_grid
from tests import helpers
from tests.hub_fixtures import HUB_TOKEN, HUB_USER, OTHER_TOKEN, start_session_server

# Hub plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends

MODEL_FILES = {
    ".gitattributes",
    "config.json",
    "metadata.json",
    "model.weights.h5",
    "README.md",
    "samples.png",
}
METRICS = {"fid": 12.5, "kid": 0.0125, "feature_extractor": "fid_inception", "num_samples": 512}
TRAINING_INFO = {"epochs": 1, "batch_size": 32}


def _front_matter(text):
    assert text.startswith("---\n")
    metadata, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(metadata), body


def _images(model, seed=0):
    return helpers.generate_some(model, num_images=6, seed=seed)


def _pushed_model(name, repo_id, train=False, **push_kwargs):
    """A tiny model (compiled and trained for 2 steps if `train`) and its push's CommitInfo."""
    model = helpers.make_model(name)
    if train:
        model.compile()
        model.fit(helpers.training_data(model), epochs=1, batch_size=32, verbose=0)
    info = push_to_hub(model, repo_id, token=HUB_TOKEN, **push_kwargs)
    return model, info


@pytest.fixture(scope="module")
def shared():
    """name -> (repo_id, reference images): a DCGAN and a ConditionalGAN, pushed once."""
    start_session_server()
    repos = {}
    keras.utils.set_random_seed(0)
    for name, kwargs in (
        ("DCGAN", dict(train=True, dataset="digits", training_info=TRAINING_INFO, metrics=METRICS)),
        ("ConditionalGAN", {}),
    ):
        repo_id = f"{HUB_USER}/shared-{name.lower()}"
        model, _ = _pushed_model(name, repo_id, **kwargs)
        repos[name] = (repo_id, _images(model))
    keras.backend.clear_session()
    return repos


# Round trip and repo content ------------------------------------------------------


@pytest.mark.parametrize("name", ["DCGAN", "ConditionalGAN"])
def test_round_trip_restores_class_and_samples(hub, shared, name):
    repo_id, expected = shared[name]
    assert set(hub.commits(repo_id)[0].files) == MODEL_FILES
    for source in (f"hf://{repo_id}", repo_id):
        model = from_pretrained(source)
        assert type(model) is getattr(keras_gans, name)
        assert not model.compiled  # no optimizer state by default
        np.testing.assert_allclose(_images(model), expected, atol=1e-6)


@pytest.mark.parametrize("name", ["DCGAN", "ConditionalGAN"])
def test_config_json_names_class_versions_and_shapes(hub, shared, name):
    config = json.loads(hub.read_file(shared[name][0], "config.json"))
    assert config["library"] == "keras-gans"
    assert config["class_name"] == name  # Keras' own part: what keras.saving loads
    assert config["keras_gans"] == {
        "class_name": name,
        "version": keras_gans.__version__,
        "keras_version": keras.__version__,
        "backend": helpers.BACKEND,
        "latent_dim": 8,
        "image_shape": [8, 8, 1],
        "num_classes": 3 if name == "ConditionalGAN" else None,
        "include_optimizer": False,
        **({"dataset": "digits"} if name == "DCGAN" else {}),
    }


def test_model_card_metadata_and_body(hub, shared):
    repo_id = shared["DCGAN"][0]
    metadata, body = _front_matter(hub.read_file(repo_id, "README.md").decode())
    assert metadata["library_name"] == "keras"
    assert metadata["pipeline_tag"] == "unconditional-image-generation"
    assert metadata["tags"] == ["keras-gans", "gan", "dcgan", "unconditional-image-generation"]
    assert metadata["datasets"] == ["digits"]
    results = metadata["model-index"][0]["results"][0]
    assert results["dataset"]["name"] == "digits"
    assert {m["type"]: m["value"] for m in results["metrics"]} == {"fid": 12.5, "kid": 0.0125}
    for text in (
        "![Samples](samples.png)",
        f'keras_gans.from_pretrained("hf://{repo_id}")',
        f"keras-gans sample {repo_id}",
        "| Epochs | 1 |",
        "| Batch size | 32 |",
        "| Steps | 2 |",
        f"| Backend | {helpers.BACKEND} |",
        "| Generator optimizer | Adam(learning_rate=0.0002, beta_1=0.5",
        "| FID | 12.5 |",
        "| KID | 0.0125 |",
        "feature extractor: fid_inception, num samples: 512",
    ):
        assert text in body
    # The client reads the same metadata back.
    assert ModelCard.load(repo_id).data.tags == metadata["tags"]


def test_conditional_card_is_tagged_class_conditional(hub, shared):
    metadata, body = _front_matter(hub.read_file(shared["ConditionalGAN"][0], "README.md").decode())
    assert "class-conditional-image-generation" in metadata["tags"]
    assert "conditional-gan" in metadata["tags"]
    assert "model-index" not in metadata and "## Metrics" not in body
    assert "gan.generate(labels=" in body


@pytest.mark.parametrize("name, size", [("DCGAN", (82, 82)), ("ConditionalGAN", (82, 32))])
def test_sample_grid_png(hub, shared, name, size):
    image = Image.open(io.BytesIO(hub.read_file(shared[name][0], "samples.png")))
    assert image.format == "PNG" and image.size == size  # 8x8 grid; 3 classes x 8


def test_keras_load_model_reads_hf_path(hub, shared):
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip(
            "keras.saving.load_model('hf://...') asks TensorFlow's gfile whether the path "
            "is a directory before downloading; without TensorFlow it fails in Keras."
        )
    repo_id, expected = shared["DCGAN"]
    model = keras.saving.load_model(f"hf://{repo_id}")
    assert type(model) is keras_gans.DCGAN
    np.testing.assert_allclose(_images(model), expected, atol=1e-6)


def test_other_backend_loads_same_model(hub, shared, tmp_path):
    repo_id, expected = shared["ConditionalGAN"]
    other = helpers.BACKENDS[(helpers.BACKENDS.index(helpers.BACKEND) + 1) % 3]
    output = tmp_path / "images.npy"
    code = (
        "import numpy as np\n"
        "import keras_gans\n"
        "from tests import helpers\n"
        f"model = keras_gans.from_pretrained('hf://{repo_id}')\n"
        f"np.save({str(output)!r}, helpers.generate_some(model, num_images=6, seed=0))\n"
        "print(type(model).__name__)\n"
    )
    assert helpers.run_python(code, other).strip().endswith("ConditionalGAN")
    np.testing.assert_allclose(np.load(output), expected, atol=1e-4)


# Commits ------------------------------------------------------------------------------


def test_each_push_is_one_commit(hub, hub_repo_id):
    _, first = _pushed_model("DCGAN", hub_repo_id, commit_message="first")
    assert [c.title for c in hub.commits(hub_repo_id)] == ["first", "initial commit"]
    _, second = _pushed_model("DCGAN", hub_repo_id)
    commits = hub.commits(hub_repo_id)
    assert [c.oid for c in commits] == [second.oid, first.oid, commits[-1].oid]
    assert commits[0].title == f"Upload DCGAN with keras-gans {keras_gans.__version__}"
    assert set(commits[0].files) == MODEL_FILES


def test_failed_push_leaves_repo_unchanged(hub, hub_repo_id):
    _pushed_model("DCGAN", hub_repo_id)
    before = [commit.oid for commit in hub.commits(hub_repo_id)]
    hub.fail_next_commit(500)
    with pytest.raises(OSError, match="Nothing was committed") as error:
        _pushed_model("DCGAN", hub_repo_id)  # new weights: a real commit to make
    assert hub_repo_id in str(error.value) and "500" in str(error.value)
    assert isinstance(error.value.__cause__, HfHubHTTPError)
    assert [commit.oid for commit in hub.commits(hub_repo_id)] == before


def test_push_needs_a_token_that_can_write(hub, hub_repo_id):
    model = helpers.make_model("DCGAN")
    with pytest.raises(PermissionError, match="401.*HF_TOKEN"):
        push_to_hub(model, hub_repo_id)
    with pytest.raises(PermissionError, match="Invalid credentials"):
        push_to_hub(model, hub_repo_id, token="hf_not_a_token")
    with pytest.raises(PermissionError, match="403"):
        push_to_hub(model, hub_repo_id, token=OTHER_TOKEN)
    with pytest.raises(ValueError, match="include_optimizer=True needs a compiled model"):
        push_to_hub(model, hub_repo_id, token=HUB_TOKEN, include_optimizer=True)


# Loading: revisions, cache, access ---------------------------------------------------


def test_revision_loads_that_commit(hub, hub_repo_id):
    first_model, first = _pushed_model("DCGAN", hub_repo_id)
    second_model, second = _pushed_model("DCGAN", hub_repo_id)
    first_images, second_images = _images(first_model), _images(second_model)
    assert not np.allclose(first_images, second_images)
    old = from_pretrained(hub_repo_id, revision=first.oid)
    np.testing.assert_allclose(_images(old), first_images, atol=1e-6)
    for revision in (None, "main", second.oid):
        latest = from_pretrained(hub_repo_id, revision=revision)
        np.testing.assert_allclose(_images(latest), second_images, atol=1e-6)


def test_offline_mode_loads_from_cache(hub, hub_repo_id, request):
    model, _ = _pushed_model("DCGAN", hub_repo_id)
    from_pretrained(hub_repo_id)  # fills the cache
    request.getfixturevalue("hub_offline")
    requests = len(hub.requests)
    offline = from_pretrained(f"hf://{hub_repo_id}")
    assert len(hub.requests) == requests
    np.testing.assert_allclose(_images(offline), _images(model), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="not in the local Hugging Face cache"):
        from_pretrained(f"{HUB_USER}/never-downloaded")


def test_private_repo_needs_its_token(hub, hub_token, hub_repo_id, monkeypatch):
    model = helpers.make_model("DCGAN")
    push_to_hub(model, hub_repo_id, private=True)  # token from HF_TOKEN
    assert HfApi().model_info(hub_repo_id).private
    expected = _images(model)
    np.testing.assert_allclose(_images(from_pretrained(hub_repo_id)), expected, atol=1e-6)

    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(FileNotFoundError, match=f"{hub_repo_id} was not found.*private") as error:
        from_pretrained(hub_repo_id)
    assert isinstance(error.value.__cause__, RepositoryNotFoundError)
    with pytest.raises(PermissionError, match="rejected the token.*401") as error:
        from_pretrained(hub_repo_id, token="hf_not_a_token")
    assert error.value.__cause__.response.status_code == 401
    loaded = from_pretrained(hub_repo_id, token=HUB_TOKEN)
    np.testing.assert_allclose(_images(loaded), expected, atol=1e-6)


def test_missing_repo_revision_or_bad_name(hub):
    with pytest.raises(FileNotFoundError, match=f"{HUB_USER}/no-such-model was not found"):
        from_pretrained(f"{HUB_USER}/no-such-model")
    with pytest.raises(ValueError, match="neither a local directory nor a Hub repo id"):
        from_pretrained("not a repo")


def test_missing_revision(hub, shared):
    with pytest.raises(FileNotFoundError, match="Revision 'v9' was not found"):
        from_pretrained(shared["DCGAN"][0], revision="v9")


# Loading: what the repo holds -----------------------------------------------------------


def test_not_a_keras_gans_repo(hub, hub_token, hub_repo_id, tmp_path):
    api = HfApi()
    api.create_repo(hub_repo_id)
    api.upload_file(repo_id=hub_repo_id, path_or_fileobj=b"just notes\n", path_in_repo="notes.txt")
    with pytest.raises(ValueError, match=f"{hub_repo_id} is not a keras-gans model.*config.json"):
        from_pretrained(hub_repo_id)

    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    keras_repo = f"{hub_repo_id}-keras"
    keras.saving.save_model(plain, f"hf://{keras_repo}")  # Keras' own Hub upload
    with pytest.raises(ValueError, match=f"{keras_repo} is not a keras-gans model.*marker"):
        from_pretrained(keras_repo)


def test_class_mismatch_names_both_classes(hub, shared):
    with pytest.raises(ValueError, match="holds a ConditionalGAN, not a DCGAN"):
        from_pretrained(shared["ConditionalGAN"][0], expected_class=keras_gans.DCGAN)
    model = from_pretrained(shared["DCGAN"][0], expected_class=keras_gans.GAN)
    assert type(model) is keras_gans.DCGAN  # a subclass is fine


def test_corrupt_download_is_detected(hub, hub_repo_id):
    model, _ = _pushed_model("DCGAN", hub_repo_id)
    hub.corrupt_file(hub_repo_id, "model.weights.h5")
    with pytest.raises(OSError, match="Corrupt download.*model.weights.h5.*force_download=True"):
        from_pretrained(hub_repo_id)
    hub.clear_faults()
    repaired = from_pretrained(hub_repo_id, force_download=True)
    np.testing.assert_allclose(_images(repaired), _images(model), atol=1e-6)


def test_include_optimizer_lets_training_resume(hub, hub_repo_id):
    model, _ = _pushed_model("ConditionalGAN", hub_repo_id, train=True, include_optimizer=True)
    config = json.loads(hub.read_file(hub_repo_id, "config.json"))
    assert config["keras_gans"]["include_optimizer"] is True
    loaded = from_pretrained(hub_repo_id)
    assert loaded.compiled
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 2
    for restored, original in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(restored), keras.ops.convert_to_numpy(original)
        )
    loaded.fit(helpers.training_data(loaded), epochs=1, batch_size=32, verbose=0)
    assert int(loaded.optimizer.iterations) == 4


def test_save_pretrained_directory_round_trip(tmp_path):
    model = helpers.make_model("ConditionalGAN")
    folder = save_pretrained(model, tmp_path / "cgan", dataset="digits")
    assert set(os.listdir(folder)) >= MODEL_FILES - {".gitattributes"}
    loaded = from_pretrained(folder)
    np.testing.assert_allclose(_images(loaded), _images(model), atol=1e-6)
    with pytest.raises(ValueError, match="local directory"):
        from_pretrained(folder, revision="main")
    with pytest.raises(ValueError, match="not a keras-gans model: it has no config.json"):
        from_pretrained(str(tmp_path))


# Command line -----------------------------------------------------------------------------


def test_cli_sample_writes_grid(hub, shared, tmp_path, capsys):
    repo_id = shared["DCGAN"][0]
    out = tmp_path / "grid.png"
    assert cli.main(["sample", repo_id, "--num", "6", "--seed", "1", "--out", str(out)]) == 0
    expected = make_grid(from_pretrained(repo_id).generate(6, seed=1))
    np.testing.assert_array_equal(np.asarray(Image.open(out))[..., None], expected)

    repo_id = shared["ConditionalGAN"][0]
    args = ["sample", f"hf://{repo_id}", "--num", "4", "--labels", "0,2", "--out", str(out)]
    assert cli.main(args) == 0
    model = from_pretrained(repo_id)
    expected = make_grid(model.generate(labels=[0, 0, 2, 2], seed=0), cols=2)
    np.testing.assert_array_equal(np.asarray(Image.open(out))[..., None], expected)


def test_cli_sample_reports_errors(hub, shared, tmp_path, capsys):
    out = str(tmp_path / "grid.png")
    assert cli.main(["sample", f"{HUB_USER}/no-such-model", "--out", out]) == 1
    assert "keras-gans sample: error: Repository" in capsys.readouterr().err
    assert cli.main(["sample", shared["DCGAN"][0], "--labels", "0,1", "--out", out]) == 1
    assert "unconditional" in capsys.readouterr().err
    assert not os.path.exists(out)


# The models' own Hub methods ------------------------------------------------------------


def test_model_methods_push_and_pull(hub, hub_repo_id):
    model = helpers.make_model("DCGAN")
    model.push_to_hub(hub_repo_id, token=HUB_TOKEN, commit_message="via the method")
    assert hub.commits(hub_repo_id)[0].title == "via the method"
    loaded = keras_gans.DCGAN.from_pretrained(f"hf://{hub_repo_id}")
    np.testing.assert_allclose(_images(loaded), _images(model), atol=1e-6)
    with pytest.raises(ValueError, match="holds a DCGAN, not a ConditionalGAN"):
        keras_gans.ConditionalGAN.from_pretrained(hub_repo_id)


def test_package_level_from_pretrained(hub, shared):
    repo_id, expected = shared["DCGAN"]
    np.testing.assert_allclose(
        _images(keras_gans.from_pretrained(f"hf://{repo_id}")), expected, atol=1e-6
    )


def test_a_zoo_recipe_name_resolves_to_its_hub_repo(hub):
    from keras_gans import recipes

    repo_id = recipes.get("gan.digits").repo_id
    # Nothing is published on the test server: the error names the recipe's repo.
    with pytest.raises(FileNotFoundError, match=repo_id):
        keras_gans.from_pretrained("gan.digits")
    with pytest.raises(ValueError, match="Did you mean 'gan.digits'"):
        keras_gans.from_pretrained("gan.digit")

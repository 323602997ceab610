"""Tests of the `keras-gans` command line, run in-process through `keras_gans.cli.main`."""

import json
import os
import subprocess
import sys

import keras
import pytest

from keras_gans import cli, recipes
from keras_gans.metrics import extractors
from tests.test_datasets import write_images
from tests.test_zoo import pixel_extractor

# command-line plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends

COMMANDS = ("list", "train", "evaluate", "sample", "translate", "push")
QUICK = ["--epochs", "1", "--max-images", "64", "--no-eval"]


def run_cli(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(capsys, *argv):
    status, _, err = run_cli(capsys, *argv)
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"keras-gans {argv[0]}: error: ")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: keras-gans {command}" in capsys.readouterr().out


def test_list_shows_every_recipe_with_its_hub_repo(capsys):
    status, out, _ = run_cli(capsys, "list")
    assert status == 0
    for name in recipes.list_recipes():
        assert name in out
    assert "keras-gans/dcgan-mnist5k" in out and "ConditionalGAN" in out


def test_train_errors_are_one_line(tmp_path, capsys):
    assert "Did you mean 'dcgan.mnist5k'" in one_line_error(capsys, "train", "dcgan.mnist5")
    missing = str(tmp_path / "missing")
    assert "No such folder" in one_line_error(capsys, "train", "dcgan", "--data", missing)
    (tmp_path / "empty").mkdir()
    empty = str(tmp_path / "empty")
    assert "no images" in one_line_error(capsys, "train", "dcgan", "--data", empty)
    write_images(tmp_path / "mixed", 1, size=(8, 8), seed=1)
    write_images(tmp_path / "mixed", 1, size=(9, 9), seed=2)
    mixed = str(tmp_path / "mixed")
    assert "different sizes" in one_line_error(capsys, "train", "dcgan", "--data", mixed)
    assert "positive integer" in one_line_error(capsys, "train", "gan.digits", "--epochs", "0")
    assert "Name a recipe" in one_line_error(capsys, "train")


def test_unreachable_dataset_is_one_line_naming_the_offline_ones(capsys, monkeypatch, tmp_path):
    def fail():
        raise Exception("URL fetch failure: no internet")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fail)
    out = str(tmp_path / "run")
    message = one_line_error(capsys, "train", "dcgan.mnist", "--out", out)
    assert "mnist5k" in message and "digits" in message


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A one-epoch `keras-gans train gan.digits` run folder, shared by the tests below."""
    out = str(tmp_path_factory.mktemp("cli") / "gan-digits")
    assert cli.main(["train", "gan.digits", "--out", out, *QUICK]) == 0
    return out


def test_train_writes_the_run_folder_and_says_where(trained_run):
    for name in ("model.keras", "progress.gif", "losses.png", "metrics.csv", "README.md"):
        assert os.path.exists(os.path.join(trained_run, name)), name
    assert os.listdir(os.path.join(trained_run, "samples")) == ["epoch_0001.png"]
    run = json.load(open(os.path.join(trained_run, "run.json")))
    assert run["recipe"]["name"] == "gan.digits" and run["num_images"] == 64


def test_finished_run_needs_resume_and_more_epochs(trained_run, capsys):
    message = one_line_error(capsys, "train", "gan.digits", "--out", trained_run, *QUICK)
    assert "already holds a finished run" in message
    message = one_line_error(capsys, "train", "--resume", trained_run)
    assert "--epochs N with N > 1" in message


@pytest.fixture
def cheap_extractor(monkeypatch, tmp_path):
    monkeypatch.setattr(
        extractors, "get_feature_extractor", lambda name, *args, **kwargs: pixel_extractor()
    )
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))


def test_evaluate_a_run_folder(trained_run, cheap_extractor, capsys):
    status, out, _ = run_cli(capsys, "evaluate", trained_run, "--num-samples", "40")
    assert status == 0 and "fd_pooled_pixels" in out and "kd_pooled_pixels" in out
    results = json.load(open(os.path.join(trained_run, "evaluation.json")))
    assert results["num_samples"] == 40 and results["dataset"] == "digits"


def test_evaluate_errors_are_one_line(tmp_path, capsys):
    message = one_line_error(capsys, "evaluate", str(tmp_path / "nope"))
    assert "neither a local directory nor a Hub repo id" in message


def test_push_then_evaluate_the_hub_repo(
    trained_run, cheap_extractor, hub_token, hub_repo_id, capsys
):
    status, out, _ = run_cli(capsys, "push", trained_run, hub_repo_id)
    assert status == 0 and hub_repo_id in out
    status, out, _ = run_cli(capsys, "evaluate", hub_repo_id, "--num-samples", "40")
    assert status == 0 and "digits" in out


def test_push_without_a_token_is_one_line(trained_run, hub, hub_repo_id, capsys):
    assert "token" in one_line_error(capsys, "push", trained_run, hub_repo_id)


def _cli_subprocess(*argv, env=None, cwd=None):
    command = [sys.executable, "-c", "import sys; from keras_gans import cli; sys.exit(cli.main())"]
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND",)}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    environment.update(env or {})
    return subprocess.run(
        [*command, *argv], capture_output=True, text=True, env=environment, cwd=cwd, timeout=600
    )


def test_backend_flag_selects_the_backend_in_process(tmp_path):
    other = "jax" if keras.backend.backend() != "jax" else "tensorflow"
    out = str(tmp_path / "run")
    result = _cli_subprocess("--backend", other, "train", "gan.digits", "--out", out, *QUICK)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.load(open(os.path.join(out, "run.json")))["backend"] == other
    # TensorFlow's and XLA's C++ start-up lines stay out of the terminal.
    for noise in ("oneDNN", "cpu_feature_guard", "absl::InitializeLog", "remapper"):
        assert noise not in result.stderr


def test_help_and_list_import_no_backend():
    probe = (
        "import sys\n"
        "from keras_gans import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "cli.main(['list'])\n"
        "loaded = [m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules]\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout


def test_unexpected_errors_are_one_line_without_verbose(tmp_path, capsys):
    broken = tmp_path / "run"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    line = one_line_error(capsys, "train", "--resume", str(broken))
    assert "run.json" in line or "JSON" in line or "Expecting" in line

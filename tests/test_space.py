"""`keras-gans space`: a Gradio Space serving a Hub model, pushed to the suite's Hub server."""

import pytest
from huggingface_hub import HfApi, hf_hub_download

from keras_gans import cli
from tests import helpers

pytestmark = pytest.mark.spread_across_backends


def test_a_space_for_a_local_model_pushes_both(hub, hub_token, hub_repo_id, tmp_path, capsys):
    model = helpers.make_model("ConditionalGAN")
    model.save(tmp_path / "cgan.keras")
    space = f"{hub_repo_id}-space"
    argv = ["space", str(tmp_path / "cgan.keras"), "--repo", space]
    assert cli.main(argv) == 1
    assert "--model-repo" in capsys.readouterr().err
    argv += ["--model-repo", hub_repo_id, "--title", "Digits demo", "--out", str(tmp_path / "s")]
    assert cli.main(argv) == 0
    api = HfApi(token=hub_token)
    files = set(api.list_repo_files(space, repo_type="space"))
    assert {"app.py", "requirements.txt", "README.md"} <= files
    assert "config.json" in set(api.list_repo_files(hub_repo_id))  # the model it serves
    readme = open(hf_hub_download(space, "README.md", repo_type="space", token=hub_token)).read()
    assert "sdk: gradio" in readme and f"- {hub_repo_id}" in readme and "Digits demo" in readme
    app = (tmp_path / "s" / "app.py").read_text()
    assert f'from_pretrained("{hub_repo_id}")' in app and "build_demo" in app
    compile(app, "app.py", "exec")
    assert "keras-gans[jax,demo]" in (tmp_path / "s" / "requirements.txt").read_text()


def test_a_space_for_a_hub_model(hub, hub_token, hub_repo_id):
    model = helpers.make_model("DCGAN")
    model.push_to_hub(hub_repo_id, token=hub_token)
    space = f"{hub_repo_id}-demo"
    assert cli.main(["space", hub_repo_id, "--repo", space, "--space-backend", "torch"]) == 0
    path = hf_hub_download(space, "requirements.txt", repo_type="space", token=hub_token)
    assert "keras-gans[torch,demo]" in open(path).read()

"""The test Hub server, driven only through the real `huggingface_hub` client."""

import hashlib
import json
import os
import socket
import subprocess
import sys

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    RepoFolder,
    file_exists,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    LocalTokenNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.hub_fixtures import HUB_TOKEN, HUB_USER, OTHER_TOKEN
from tests.hub_server import HubServer

CONFIG = b'{"latent_dim": 8}\n'
README = b"---\nlibrary_name: keras\ntags:\n- gan\n---\n# A GAN\n"
WEIGHTS = bytes(range(256)) * 64  # 16 KiB with NUL bytes: a binary file, sent through LFS


@pytest.fixture
def api(hub):
    return HfApi(token=HUB_TOKEN)


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "config.json").write_bytes(CONFIG)
    (folder / "README.md").write_bytes(README)
    (folder / "weights" / "generator.weights.h5").write_bytes(WEIGHTS)
    return folder


@pytest.fixture
def pushed_repo(api, hub_repo_id, model_dir):
    """A public repo holding `model_dir` in one commit; returns (repo_id, commit sha)."""
    api.create_repo(hub_repo_id)
    commit = api.upload_folder(
        repo_id=hub_repo_id, folder_path=model_dir, commit_message="Upload model"
    )
    return hub_repo_id, commit.oid


def test_whoami_accepts_valid_token_and_rejects_invalid_one(api):
    assert api.whoami()["name"] == HUB_USER
    with pytest.raises(HfHubHTTPError) as error:
        api.whoami(token="hf_not_a_token")
    assert error.value.response.status_code == 401
    with pytest.raises(LocalTokenNotFoundError):
        HfApi().whoami()


def test_token_from_environment_is_used(hub_token, hub_repo_id):
    api = HfApi()
    assert api.whoami()["name"] == HUB_USER
    assert api.create_repo(hub_repo_id).repo_id == hub_repo_id


def test_create_repo_private_and_exist_ok(api, hub_repo_id):
    url = api.create_repo(hub_repo_id, private=True)
    assert url.repo_id == hub_repo_id
    with pytest.raises(HfHubHTTPError) as error:
        api.create_repo(hub_repo_id)
    assert error.value.response.status_code == 409
    assert api.create_repo(hub_repo_id, exist_ok=True).repo_id == hub_repo_id
    info = api.repo_info(hub_repo_id)
    assert info.private
    assert [c.title for c in api.list_repo_commits(hub_repo_id)] == ["initial commit"]


@pytest.mark.parametrize("transfer", ["xet", "lfs"])
def test_upload_folder_sends_binary_files_through_xet_or_lfs(
    hub, api, hub_repo_id, model_dir, transfer, monkeypatch
):
    from huggingface_hub import constants

    # Xet is the client's default with hf_xet installed; HF_HUB_DISABLE_XET=1 selects LFS.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", transfer == "lfs")
    # Bytes of this case only: the server stores objects by content, across repos.
    weights_bytes = WEIGHTS + transfer.encode()
    (model_dir / "weights" / "generator.weights.h5").write_bytes(weights_bytes)
    api.create_repo(hub_repo_id)
    start = len(hub.requests)
    sha = api.upload_folder(repo_id=hub_repo_id, folder_path=model_dir).oid
    log = hub.requests[start:]
    xet_uploads = [path for method, path in log if path.startswith("/xet-cas/v1/xorbs/")]
    lfs_uploads = [path for method, path in log if path.startswith("/lfs-upload/")]
    if transfer == "xet":
        assert ("GET", f"/api/models/{hub_repo_id}/xet-write-token/main") in log
        assert len(xet_uploads) == 1 and ("POST", "/xet-cas/v1/shards") in log
        assert not lfs_uploads
    else:
        assert ("POST", f"/{hub_repo_id}.git/info/lfs/objects/batch") in log
        assert len(lfs_uploads) == 1 and not xet_uploads
    assert log[-1] == ("POST", f"/api/models/{hub_repo_id}/commit/main")

    files = {f.path: f for f in api.list_repo_tree(hub_repo_id, recursive=True)}
    weights = files["weights/generator.weights.h5"]
    assert weights.lfs.sha256 == hashlib.sha256(weights_bytes).hexdigest()
    assert weights.size == len(weights_bytes)
    assert hub.read_file(hub_repo_id, "weights/generator.weights.h5") == weights_bytes
    assert files["config.json"].lfs is None
    assert isinstance(files["weights"], RepoFolder)

    info = api.model_info(hub_repo_id, files_metadata=True)
    assert info.sha == sha
    assert info.library_name == "keras" and "gan" in info.tags
    assert info.card_data["library_name"] == "keras"
    assert {s.rfilename for s in info.siblings} == {
        ".gitattributes",
        "README.md",
        "config.json",
        "weights/generator.weights.h5",
    }


def test_create_commit_round_trips_regular_and_lfs_files(api, hub_repo_id):
    api.create_repo(hub_repo_id)
    api.create_commit(
        hub_repo_id,
        operations=[
            CommitOperationAdd("config.json", CONFIG),
            CommitOperationAdd("model.weights.h5", WEIGHTS),
        ],
        commit_message="Add files",
    )
    config = hf_hub_download(hub_repo_id, "config.json")
    weights = hf_hub_download(hub_repo_id, "model.weights.h5")
    with open(config, "rb") as f:
        assert f.read() == CONFIG
    with open(weights, "rb") as f:
        assert f.read() == WEIGHTS


def test_revisions_by_commit_sha_and_main(hub, api, pushed_repo):
    repo_id, first = pushed_repo
    second = api.create_commit(
        repo_id,
        operations=[
            CommitOperationAdd("config.json", b'{"latent_dim": 16}\n'),
            CommitOperationDelete("weights/"),
        ],
        commit_message="Shrink model",
    ).oid
    assert len(first) == len(second) == 40 and first != second

    old = snapshot_download(repo_id, revision=first)
    new = snapshot_download(repo_id, revision="main")
    assert os.path.basename(old) == first and os.path.basename(new) == second
    with open(os.path.join(old, "config.json"), "rb") as f:
        assert f.read() == CONFIG
    with open(os.path.join(new, "config.json"), "rb") as f:
        assert json.load(f) == {"latent_dim": 16}
    assert os.path.exists(os.path.join(old, "weights", "generator.weights.h5"))
    assert not os.path.exists(os.path.join(new, "weights"))

    assert api.model_info(repo_id, revision=first).sha == first
    assert api.repo_info(repo_id).sha == second
    commits = api.list_repo_commits(repo_id)
    assert [c.title for c in commits] == ["Shrink model", "Upload model", "initial commit"]
    assert [c.commit_id for c in commits] == [c.oid for c in hub.commits(repo_id)]
    assert api.list_repo_refs(repo_id).branches[0].target_commit == second
    assert hub.read_file(repo_id, "config.json", revision=first) == CONFIG


def test_unchanged_upload_makes_no_commit(api, pushed_repo, model_dir):
    repo_id, sha = pushed_repo
    again = api.upload_folder(repo_id=repo_id, folder_path=model_dir)
    assert again.oid == sha
    assert len(api.list_repo_commits(repo_id)) == 2


def test_missing_repo_revision_and_file(api, pushed_repo):
    repo_id, _ = pushed_repo
    assert file_exists(repo_id, "config.json")
    assert not file_exists(repo_id, "missing.json")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.json")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(f"{HUB_USER}/no-such-repo", "config.json")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(f"{HUB_USER}/no-such-repo")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "config.json", revision="no-such-branch")


def test_private_repo_needs_the_owners_token(api, hub_repo_id, tmp_path):
    api.create_repo(hub_repo_id, private=True)
    api.upload_file(path_or_fileobj=CONFIG, path_in_repo="config.json", repo_id=hub_repo_id)

    with pytest.raises(RepositoryNotFoundError) as error:
        hf_hub_download(hub_repo_id, "config.json", cache_dir=tmp_path)
    assert error.value.response.status_code == 401
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download(hub_repo_id, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        HfApi().model_info(hub_repo_id)
    with pytest.raises(RepositoryNotFoundError) as error:
        hf_hub_download(hub_repo_id, "config.json", cache_dir=tmp_path, token=OTHER_TOKEN)
    assert error.value.response.status_code == 404

    path = hf_hub_download(hub_repo_id, "config.json", cache_dir=tmp_path, token=HUB_TOKEN)
    with open(path, "rb") as f:
        assert f.read() == CONFIG


def test_pushing_to_someone_elses_repo_is_forbidden(pushed_repo, model_dir):
    repo_id, _ = pushed_repo
    with pytest.raises(HfHubHTTPError) as error:
        HfApi(token=OTHER_TOKEN).upload_folder(repo_id=repo_id, folder_path=model_dir)
    assert error.value.response.status_code == 403


def test_failed_commit_leaves_repo_unchanged(hub, api, pushed_repo, model_dir):
    repo_id, sha = pushed_repo
    (model_dir / "config.json").write_bytes(b'{"latent_dim": 32}\n')
    hub.fail_next_commit()
    # upload_folder retries a failed commit when Xet is on; create_commit doesn't.
    change = CommitOperationAdd("config.json", model_dir / "config.json")
    with pytest.raises(HfHubHTTPError) as error:
        api.create_commit(repo_id=repo_id, operations=[change], commit_message="change")
    assert error.value.response.status_code == 500
    assert api.repo_info(repo_id).sha == sha
    assert [c.oid for c in hub.commits(repo_id)][0] == sha
    assert hub.read_file(repo_id, "config.json") == CONFIG

    assert api.upload_folder(repo_id=repo_id, folder_path=model_dir).oid != sha


def test_stale_parent_commit_is_rejected(api, pushed_repo):
    repo_id, sha = pushed_repo
    api.upload_file(path_or_fileobj=b"v2", path_in_repo="notes.txt", repo_id=repo_id)
    with pytest.raises(HfHubHTTPError) as error:
        api.create_commit(
            repo_id,
            operations=[CommitOperationAdd("notes.txt", b"v3")],
            commit_message="Based on an old commit",
            parent_commit=sha,
        )
    assert error.value.response.status_code == 412


def test_corrupt_file_keeps_size_but_fails_the_checksum(hub, pushed_repo, tmp_path):
    repo_id, _ = pushed_repo
    path_in_repo = "weights/generator.weights.h5"
    hub.corrupt_file(repo_id, path_in_repo)
    path = hf_hub_download(repo_id, path_in_repo, cache_dir=tmp_path)
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) == len(WEIGHTS) and data != WEIGHTS
    (entry,) = HfApi().get_paths_info(repo_id, [path_in_repo])
    assert hashlib.sha256(data).hexdigest() != entry.lfs.sha256


def test_offline_mode_without_cache_raises(pushed_repo, hub_offline):
    repo_id, _ = pushed_repo
    with pytest.raises(LocalEntryNotFoundError):
        snapshot_download(repo_id)  # nothing cached yet, and no network


def test_offline_mode_returns_the_cached_snapshot(pushed_repo, monkeypatch):
    repo_id, _ = pushed_repo
    cached = snapshot_download(repo_id)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert snapshot_download(repo_id) == cached
    assert hf_hub_download(repo_id, "config.json").startswith(cached)

    # The real switch, HF_HUB_OFFLINE=1 set before the client is imported.
    script = "import sys, huggingface_hub as h; print(h.snapshot_download(sys.argv[1]))"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-c", script, repo_id],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == cached


def test_dataset_repos_and_delete_repo(api, hub_repo_id):
    api.create_repo(hub_repo_id, repo_type="dataset")
    api.upload_file(
        path_or_fileobj=WEIGHTS,
        path_in_repo="data/train.npz",
        repo_id=hub_repo_id,
        repo_type="dataset",
    )
    path = hf_hub_download(hub_repo_id, "data/train.npz", repo_type="dataset")
    with open(path, "rb") as f:
        assert f.read() == WEIGHTS
    assert api.dataset_info(hub_repo_id).siblings is not None
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(hub_repo_id)  # same id, other repo type
    api.delete_repo(hub_repo_id, repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info(hub_repo_id)


def test_a_server_of_its_own_with_an_explicit_endpoint(tmp_path):
    with HubServer(tokens={"hf_valid_token": "me"}, lfs_threshold=4) as server:
        api = HfApi(endpoint=server.endpoint, token="hf_valid_token")
        api.create_repo("me/model")
        api.upload_file(path_or_fileobj=b"hello", path_in_repo="notes.txt", repo_id="me/model")
        (entry,) = api.get_paths_info("me/model", ["notes.txt"])
        assert entry.lfs is not None  # 5 bytes, over the 4-byte threshold
        path = hf_hub_download(
            "me/model", "notes.txt", endpoint=server.endpoint, cache_dir=tmp_path
        )
        with open(path, "rb") as f:
            assert f.read() == b"hello"
        host, port = server.endpoint.removeprefix("http://").split(":")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=1)

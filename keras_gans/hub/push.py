"""`push_to_hub`: a model, its config, a sample grid and its card in one Hub commit."""

from __future__ import annotations

import pathlib
import tempfile

from keras_gans.hub import repo
from keras_gans.hub.save import save_pretrained
from keras_gans.utils.version import VERSION


def push_to_hub(
    model,
    repo_id: str,
    *,
    commit_message: str | None = None,
    commit_description: str | None = None,
    private: bool | None = None,
    token: str | None = None,
    include_optimizer: bool = False,
    dataset: str | None = None,
    training_info: dict | None = None,
    metrics: dict | None = None,
    grid_seed: int = 0,
    revision: str | None = None,
    examples=None,
    grid_options: dict | None = None,
):
    """Uploads a model, its config, a sample grid and a model card in one commit.

    The repo is created if needed. Files already in the repo that a push
    does not write are kept. When every file is unchanged, `huggingface_hub`
    skips the empty commit and the head commit's info comes back.

    Args:
        model: a `keras_gans.BaseGAN`.
        repo_id: `"owner/name"` or `"hf://owner/name"`.
        commit_message: summary of the commit; default names the class and
            keras-gans version.
        commit_description: longer description of the commit.
        private: make a newly created repo private (existing repos keep
            their visibility). None: the Hub's default.
        token: Hugging Face token with write access; default: `HF_TOKEN` or
            the token saved by `hf auth login`.
        include_optimizer: also upload the optimizer state so that training
            can resume after `from_pretrained`.
        dataset: name or Hub id of the training data, for the card.
        training_info: training settings for the card (epochs, batch size,
            ...); see `keras_gans.hub.card.training_settings`.
        metrics: measured metrics for the card, e.g. `{"fid": 12.3, "kid":
            0.011, "feature_extractor": "fid_inception", "num_samples": 10000}`.
        grid_seed: seed of the sample grid.
        revision: the branch to commit to (default `main`); it must exist.
        examples: source images for a translation model's sample grid.
        grid_options: `generate` options of the sample grid, e.g. `{"truncation_psi": 0.7}`.

    Returns:
        The `huggingface_hub.CommitInfo` of the commit (`.oid` is its sha, a
        `revision=` for `from_pretrained`).

    Raises:
        PermissionError: no token, an invalid token, or no write access.
        OSError: the Hub refused the commit; the repo is unchanged.

    Example:

    ```python
    info = push_to_hub(gan, "me/dcgan-mnist", commit_message="50 epochs",
                       dataset="mnist", metrics={"fid": 12.3})
    print(info.oid)
    ```
    """
    repo_id = repo.repo_id(repo_id)
    client = repo.api(token)
    message = commit_message or (f"Upload {type(model).__name__} with keras-gans {VERSION}")
    with tempfile.TemporaryDirectory(prefix="keras-gans-push-") as folder:
        try:
            # First, so that a missing or read-only token fails before the model is saved.
            client.create_repo(repo_id, private=private, exist_ok=True)
        except Exception as error:  # HTTP errors and refused or dropped connections alike
            raise repo.push_error(error, repo_id) from error
        save_pretrained(
            model,
            folder,
            include_optimizer=include_optimizer,
            dataset=dataset,
            training_info=training_info,
            metrics=metrics,
            repo_id=repo_id,
            grid_seed=grid_seed,
            examples=examples,
            grid_options=grid_options,
        )
        try:
            # One commit: a failed push leaves the repo as it was. (With Xet, upload_folder
            # may split a folder into several commits and retries them; create_commit doesn't.)
            return client.create_commit(
                repo_id=repo_id,
                operations=_additions(folder),
                commit_message=message,
                commit_description=commit_description,
                revision=revision,
            )
        except Exception as error:  # HTTP errors, dropped connections, Xet transfer errors
            raise repo.push_error(error, repo_id) from error


def _additions(folder):
    """One `CommitOperationAdd` per file under `folder`, at its path relative to it."""
    from huggingface_hub import CommitOperationAdd

    root = pathlib.Path(folder)
    return [
        CommitOperationAdd(path_in_repo=path.relative_to(root).as_posix(), path_or_fileobj=path)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    ]


def push_folder(
    folder,
    repo_id: str,
    *,
    repo_type: str = "space",
    space_sdk: str | None = "gradio",
    commit_message: str | None = None,
    private: bool | None = None,
    token: str | None = None,
):
    """Uploads every file of `folder` to a Hub repo in one commit (a Space, by default).

    The same path as model pushes: the repo is created if needed, one `create_commit`
    (Xet or LFS), and one clear error if the Hub refuses or the connection drops.

    Args:
        folder: a local directory, e.g. one written by `keras_gans.demo.write_space`.
        repo_id: `"owner/name"`.
        repo_type: `"space"`, `"model"` or `"dataset"`.
        space_sdk: the SDK of a new Space (`"gradio"`).
        commit_message: summary of the commit.
        private: make a newly created repo private.
        token: a token with write access (default `HF_TOKEN` or the login).

    Returns:
        The `huggingface_hub.CommitInfo` of the commit.

    Example:

    ```python
    push_folder("my-space", "me/dcgan-demo")      # https://huggingface.co/spaces/me/dcgan-demo
    ```
    """
    repo_id = repo.repo_id(repo_id)
    client = repo.api(token)
    try:
        client.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True,
                           space_sdk=space_sdk if repo_type == "space" else None)  # fmt: skip
    except Exception as error:  # HTTP errors and refused or dropped connections alike
        raise repo.push_error(error, repo_id) from error
    try:
        return client.create_commit(
            repo_id=repo_id,
            repo_type=repo_type,
            operations=_additions(folder),
            commit_message=commit_message or f"Upload with keras-gans {VERSION}",
        )
    except Exception as error:
        raise repo.push_error(error, repo_id) from error

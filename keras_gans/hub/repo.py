"""Hub plumbing every Hub module shares: file names, repo ids, the API client, errors.

Imports no model module: recipe names resolve through the pure-data
`keras_gans.recipes` registry.
"""

from __future__ import annotations

import re

from keras_gans import recipes
from keras_gans.utils.version import VERSION

LIBRARY = "keras-gans"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
GRID_FILE = "samples.png"
CARD_FILE = "README.md"
# What from_pretrained downloads: Keras' model folder, not the card or the grid.
MODEL_FILES = [CONFIG_FILE, METADATA_FILE, "model.weights.*", "assets/*"]

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def repo_id(name: str) -> str:
    """The Hub repo id `name` means: `hf://owner/name`, `owner/name` or a zoo recipe name."""
    repo_id = name[len("hf://") :] if name.startswith("hf://") else name
    if "/" not in repo_id and not name.startswith("hf://"):
        # A zoo recipe name such as "dcgan.mnist": its published repo.
        try:
            return recipes.repo_id_of(repo_id)
        except ValueError as error:
            raise ValueError(
                f"{name!r} is neither a local directory nor a Hub repo id such as "
                f"'owner/name' or 'hf://owner/name', nor a zoo recipe: {error}"
            ) from error
    if not _REPO_ID.fullmatch(repo_id):
        raise ValueError(
            f"{name!r} is neither a local directory nor a Hub repo id such as "
            "'owner/name' or 'hf://owner/name'."
        )
    return repo_id


def api(token):
    """An `HfApi` that identifies keras-gans to the Hub."""
    from huggingface_hub import HfApi

    return HfApi(token=token, library_name=LIBRARY, library_version=VERSION)


def status_and_message(error):
    """The HTTP status and the Hub's message of a `huggingface_hub` error."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    lines = str(error).strip().splitlines()
    message = getattr(error, "server_message", None) or (lines[0] if lines else "no message")
    return status, message


def push_error(error, repo_id):
    """A builtin exception for a failed push: PermissionError for 401/403, else OSError."""
    status, message = status_and_message(error)
    if status is None:  # no answer at all: the connection failed or dropped mid-push
        return OSError(
            f"Pushing to {repo_id} failed: the connection to the Hub broke before it answered "
            f"({type(error).__name__}: {message}). Nothing was committed, so the repo is as it "
            "was; check the network and retry the push."
        )
    if status == 401:
        return PermissionError(
            f"Pushing to {repo_id} needs a valid Hugging Face token with write access; "
            f"the Hub answered 401 ({message}). Set HF_TOKEN, run `hf auth login`, or "
            "pass token=."
        )
    if status == 403:
        return PermissionError(
            f"This token may not write to {repo_id}; the Hub answered 403 ({message}). "
            "Use a token with write access to that namespace."
        )
    return OSError(
        f"Pushing to {repo_id} failed: the Hub answered {status} ({message}). Nothing "
        "was committed, so the repo is as it was; retry the push."
    )

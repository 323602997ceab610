"""Sharing models on the Hugging Face Hub: `push_to_hub`, `from_pretrained`, `save_pretrained`.

A keras-gans repo is the folder Keras itself writes for a Hub path
(`keras.saving.save_model(model, folder, zipped=False)`), so that
`keras.saving.load_model("hf://owner/name")` works as well as
`keras_gans.from_pretrained`:

- `config.json`: Keras' model config, plus a `"library": "keras-gans"` marker
  and a `"keras_gans"` block (class, keras-gans and Keras versions, backend,
  latent_dim, image_shape, num_classes, whether optimizer state is included).
  It is fetched first on every load: it tells what the repo holds before the
  weights are downloaded, and the Hub counts a download when it is fetched.
- `metadata.json`, `model.weights.h5`: Keras' metadata and the weights (and
  the optimizer state with `include_optimizer=True`).
- `samples.png`: a grid of samples, seed 0.
- `README.md`: the model card (`keras_gans.model_card`).

A push is one commit (`HfApi.create_commit`), so a failed push leaves the
repo as it was. Loading never unpickles anything: Keras' safe mode stays on,
the class must be a registered keras-gans model, and every downloaded file is
checked against the checksum the Hub lists for it.

Errors are builtin exceptions that keep the `huggingface_hub` error as
`__cause__`: `FileNotFoundError` (no such repo, revision, or nothing cached
offline), `PermissionError` (missing, invalid or read-only token), `ValueError`
(not a keras-gans model, or not the class asked for) and `OSError` (a corrupt
download, a failed push).

Example:

```python
from keras_gans import hub

hub.push_to_hub(gan, "me/dcgan-mnist", dataset="mnist",
                training_info={"epochs": 50, "batch_size": 128})
gan = hub.from_pretrained("hf://me/dcgan-mnist")
```
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile

import keras
import numpy as np

import keras_gans
from keras_gans import images as image_utils
from keras_gans import model_card
from keras_gans.models.base import BaseGAN

LIBRARY = "keras-gans"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
GRID_FILE = "samples.png"
CARD_FILE = "README.md"
# What from_pretrained downloads: Keras' model folder, not the card or the grid.
MODEL_FILES = [CONFIG_FILE, METADATA_FILE, "model.weights.*", "assets/*"]

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_GRID_COLUMNS = 8
_GRID_MAX_CLASSES = 10


# Saving ---------------------------------------------------------------------------


def _copy_without_optimizer(model):
    """An uncompiled copy of `model` with the same variables, seed states included."""
    copy = type(model).from_config(model.get_config())
    if len(copy.variables) != len(model.variables):
        raise ValueError(
            f"Cannot save {type(model).__name__} without its optimizer: a copy built "
            f"from get_config() has {len(copy.variables)} variables, the model "
            f"{len(model.variables)}. Push with include_optimizer=True, or make "
            "get_config() describe every network."
        )
    for target, source in zip(copy.variables, model.variables):
        if tuple(target.shape) != tuple(source.shape):
            raise ValueError(
                f"Cannot save {type(model).__name__} without its optimizer: variable "
                f"{source.path} has shape {tuple(source.shape)} but the copy built from "
                f"get_config() has {tuple(target.shape)} there."
            )
        target.assign(source)
    return copy


def sample_grid(model, num_images: int | None = None, labels=None, seed: int = 0) -> np.ndarray:
    """Generates images and tiles them into one uint8 grid.

    Unconditional models: `num_images` samples (default 64), near-square.
    Conditional models: one row per label in `labels` (default: the first 10
    classes), `num_images` in all (default 8 per row).

    Args:
        model: a `keras_gans.BaseGAN`.
        num_images: number of images in the grid.
        labels: class ids, one row each (conditional models only).
        seed: seed of the latent noise.

    Returns:
        A `(H, W, C)` uint8 array; `keras_gans.images.save_image` writes it.

    Example:

    ```python
    grid = sample_grid(cgan, num_images=30, labels=[0, 1, 2])   # 3 rows of 10
    save_image(grid, "grid.png")
    ```
    """
    if model.num_classes is None:
        if labels is not None:
            raise ValueError(
                f"This {type(model).__name__} is unconditional; labels apply to "
                "class-conditional models only."
            )
        images = model.generate(64 if num_images is None else int(num_images), seed=seed)
        return image_utils.make_grid(images)
    if labels is None:
        labels = range(min(model.num_classes, _GRID_MAX_CLASSES))
    rows = [int(label) for label in np.atleast_1d(labels)]
    if not rows:
        raise ValueError("`labels` is empty; give at least one class id.")
    total = len(rows) * _GRID_COLUMNS if num_images is None else int(num_images)
    if total < 1:
        raise ValueError(f"`num_images` must be a positive integer. Received: {num_images!r}")
    per_row = math.ceil(total / len(rows))
    grid_labels = np.repeat(rows, per_row)[:total]
    images = model.generate(labels=grid_labels, seed=seed)
    return image_utils.make_grid(images, cols=per_row)


def _grid_caption(model, grid_seed):
    if model.num_classes is None:
        return f"64 samples, seed {grid_seed}."
    shown = min(model.num_classes, _GRID_MAX_CLASSES)
    return (
        f"{_GRID_COLUMNS} samples per class for classes 0 to {shown - 1}, one class "
        f"per row, seed {grid_seed}."
    )


def _keras_gans_config(model, dataset, include_optimizer):
    config = {
        "class_name": type(model).__name__,
        "version": keras_gans.__version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "latent_dim": model.latent_dim,
        "image_shape": list(model.image_shape),
        "num_classes": model.num_classes,
        "include_optimizer": bool(include_optimizer),
    }
    if dataset:
        config["dataset"] = dataset
    return config


def save_pretrained(
    model,
    directory,
    *,
    include_optimizer: bool = False,
    dataset: str | None = None,
    training_info: dict | None = None,
    metrics: dict | None = None,
    repo_id: str | None = None,
    grid_seed: int = 0,
) -> str:
    """Writes the files of a keras-gans Hub repo into a local directory.

    `push_to_hub` commits exactly these files; `from_pretrained(directory)`
    loads them back.

    Args:
        model: a `keras_gans.BaseGAN`.
        directory: where to write; created if missing, files overwritten.
        include_optimizer: also save the optimizer state (and compile
            config), so that `fit` can resume after loading. Without it the
            model loads uncompiled.
        dataset: name or Hub id of the training data, for the card.
        training_info: training settings for the card, e.g. `{"epochs": 50,
            "batch_size": 128}`.
        metrics: measured metrics for the card, e.g. `{"fid": 12.3,
            "feature_extractor": "inception_v3", "num_samples": 10000}`.
        repo_id: `owner/name` shown in the card's usage snippet.
        grid_seed: seed of the sample grid.

    Returns:
        `directory`, as a string.

    Example:

    ```python
    save_pretrained(gan, "dcgan-mnist", dataset="mnist")
    gan = from_pretrained("dcgan-mnist")
    ```
    """
    if not isinstance(model, BaseGAN):
        raise TypeError(
            f"Expected a keras_gans model (a BaseGAN); received {type(model).__name__}."
        )
    if include_optimizer and not model.compiled:
        raise ValueError(
            "include_optimizer=True needs a compiled model: there is no optimizer state "
            "to save. Call compile() (and fit()) first, or push without it."
        )
    directory = os.fspath(directory)
    model._sync_training_state()
    saved = model if include_optimizer else _copy_without_optimizer(model)
    os.makedirs(directory, exist_ok=True)
    keras.saving.save_model(saved, directory, zipped=False)

    config_path = os.path.join(directory, CONFIG_FILE)
    with open(config_path) as file:
        config = json.load(file)
    config["library"] = LIBRARY
    config["keras_gans"] = _keras_gans_config(model, dataset, include_optimizer)
    with open(config_path, "w") as file:
        json.dump(config, file, indent=2)

    image_utils.save_image(sample_grid(model, seed=grid_seed), os.path.join(directory, GRID_FILE))
    card = model_card.make_model_card(
        model,
        repo_id=repo_id,
        dataset=dataset,
        training_info=training_info,
        metrics=metrics,
        include_optimizer=include_optimizer,
        grid_file=GRID_FILE,
        grid_caption=_grid_caption(model, grid_seed),
    )
    card.save(os.path.join(directory, CARD_FILE))
    return directory


# Pushing --------------------------------------------------------------------------


def _repo_id(name: str) -> str:
    repo_id = name[len("hf://") :] if name.startswith("hf://") else name
    if "/" not in repo_id and not name.startswith("hf://"):
        # A zoo recipe name such as "dcgan.mnist": its published repo.
        from keras_gans import zoo

        try:
            recipe = zoo.recipe(repo_id)
        except ValueError as error:
            raise ValueError(
                f"{name!r} is neither a local directory nor a Hub repo id such as "
                f"'owner/name' or 'hf://owner/name', nor a zoo recipe: {error}"
            ) from error
        if not recipe.repo_id:
            raise ValueError(f"Zoo recipe {repo_id!r} names no Hub repo to load from.")
        return recipe.repo_id
    if not _REPO_ID.fullmatch(repo_id):
        raise ValueError(
            f"{name!r} is neither a local directory nor a Hub repo id such as "
            "'owner/name' or 'hf://owner/name'."
        )
    return repo_id


def _api(token):
    from huggingface_hub import HfApi

    return HfApi(token=token, library_name=LIBRARY, library_version=keras_gans.__version__)


def _status_and_message(error):
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    message = getattr(error, "server_message", None) or str(error).splitlines()[0]
    return status, message


def _push_error(error, repo_id):
    status, message = _status_and_message(error)
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
            ...); see `keras_gans.model_card.training_settings`.
        metrics: measured metrics for the card, e.g. `{"fid": 12.3, "kid":
            0.011, "feature_extractor": "inception_v3", "num_samples": 10000}`.
        grid_seed: seed of the sample grid.

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
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    repo_id = _repo_id(repo_id)
    api = _api(token)
    message = commit_message or (
        f"Upload {type(model).__name__} with keras-gans {keras_gans.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="keras-gans-push-") as folder:
        try:
            # First, so that a missing or read-only token fails before the model is saved.
            api.create_repo(repo_id, private=private, exist_ok=True)
        except HfHubHTTPError as error:
            raise _push_error(error, repo_id) from error
        save_pretrained(
            model,
            folder,
            include_optimizer=include_optimizer,
            dataset=dataset,
            training_info=training_info,
            metrics=metrics,
            repo_id=repo_id,
            grid_seed=grid_seed,
        )
        operations = [
            CommitOperationAdd(path_in_repo=path, path_or_fileobj=os.path.join(folder, path))
            for path in _files_under(folder)
        ]
        try:
            return api.create_commit(
                repo_id,
                operations,
                commit_message=message,
                commit_description=commit_description,
            )
        except HfHubHTTPError as error:
            raise _push_error(error, repo_id) from error


def _files_under(folder):
    """Relative paths, with `/`, of the files under `folder`, sorted."""
    paths = []
    for root, _, files in os.walk(folder):
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), folder)
            paths.append(relative.replace(os.sep, "/"))
    return sorted(paths)


# Loading --------------------------------------------------------------------------


def _read_config(path, where):
    try:
        with open(path) as file:
            config = json.load(file)
    except FileNotFoundError as error:
        raise ValueError(f"{where} is not a keras-gans model: it has no {CONFIG_FILE}.") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{where} is not a keras-gans model: its {CONFIG_FILE} is not valid JSON "
            f"({error}). If it was damaged in download, retry with force_download=True."
        ) from error
    return config


def _model_class(config, where, expected_class):
    """The keras-gans class `config` names, checked against `expected_class`."""
    if not isinstance(config, dict) or config.get("library") != LIBRARY:
        raise ValueError(
            f'{where} is not a keras-gans model: its {CONFIG_FILE} has no "library": '
            f'"{LIBRARY}" marker. Load other Keras models with keras.saving.load_model.'
        )
    info = config.get("keras_gans") or {}
    name = info.get("class_name") or config.get("class_name")
    registered = config.get("registered_name") or f"keras_gans>{name}"
    cls = keras.saving.get_registered_object(registered)
    if not (isinstance(cls, type) and issubclass(cls, BaseGAN)):
        raise ValueError(
            f"{where} holds a {name} saved with keras-gans {info.get('version', '?')}, a "
            f"class this installation (keras-gans {keras_gans.__version__}) does not know "
            f"(registered name {registered!r}). Upgrade keras-gans, or import the module "
            f"that defines {name} first."
        )
    if not issubclass(cls, expected_class):
        raise ValueError(
            f"{where} holds a {cls.__name__}, not a {expected_class.__name__}. Load it "
            f"with keras_gans.from_pretrained(...) or {cls.__name__}.from_pretrained(...)."
        )
    return cls


def _git_blob_id(path):
    digest = hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_download(folder, repo_info, where):
    """Checks each downloaded file against the sha256 (LFS) or git blob id the Hub lists."""
    for sibling in repo_info.siblings or []:
        path = os.path.join(folder, *sibling.rfilename.split("/"))
        if not os.path.isfile(path):
            continue
        if sibling.lfs is not None:
            kind, expected, actual = "sha256", sibling.lfs.sha256, _sha256(path)
        elif sibling.blob_id:
            kind, expected, actual = "git blob id", sibling.blob_id, _git_blob_id(path)
        else:
            continue
        if actual != expected:
            raise OSError(
                f"Corrupt download: {sibling.rfilename} from {where} does not match the "
                f"{kind} the Hub lists for it ({actual[:12]}... instead of "
                f"{expected[:12]}...). Retry with force_download=True."
            )


@contextlib.contextmanager
def _download_errors(repo_id, revision):
    """Turns `huggingface_hub` download errors into clear builtin ones."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = repo_id if revision is None else f"{repo_id} at revision {revision!r}"
    try:
        yield
    except LocalEntryNotFoundError as error:
        raise FileNotFoundError(
            f"{where} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) "
            "and the Hub cannot be reached (HF_HUB_OFFLINE=1, or no network). Load it "
            "once online; later loads work offline."
        ) from error
    except GatedRepoError as error:
        raise PermissionError(
            f"{repo_id} is gated: accept its conditions on the Hub with your account, "
            "then pass that account's token (token= or HF_TOKEN)."
        ) from error
    except RepositoryNotFoundError as error:
        raise FileNotFoundError(
            f"Repository {repo_id} was not found on {constants.ENDPOINT}. Check the "
            "name; if the repo is private, pass a token that can read it (token=, "
            "HF_TOKEN, or `hf auth login`)."
        ) from error
    except RevisionNotFoundError as error:
        raise FileNotFoundError(
            f"Revision {revision!r} was not found in {repo_id}: give a branch name or a "
            "full commit sha from the repo's history."
        ) from error
    except HfHubHTTPError as error:
        status, message = _status_and_message(error)
        if status in (401, 403):
            raise PermissionError(
                f"The Hub rejected the token used to read {repo_id}: {status} "
                f"({message}). Check HF_TOKEN or the token= argument."
            ) from error
        raise OSError(f"Downloading {where} failed: {status} ({message}).") from error


def _download(repo_id, revision, token, cache_dir, force_download, expected_class):
    """Fetches config.json, checks it, then the model files; returns (folder, class).

    Downloads go by the revision asked for (None: `main`), so the cache records
    which commit that branch pointed to and a later offline load finds it.
    """
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
    )

    where = repo_id if revision is None else f"{repo_id} at revision {revision!r}"
    common = dict(
        repo_id=repo_id,
        revision=revision,
        token=token,
        cache_dir=cache_dir,
        force_download=force_download,
        library_name=LIBRARY,
        library_version=keras_gans.__version__,
    )
    with _download_errors(repo_id, revision):
        try:
            config_path = hf_hub_download(filename=CONFIG_FILE, **common)
        except LocalEntryNotFoundError:
            raise
        except EntryNotFoundError as error:
            raise ValueError(
                f"{where} is not a keras-gans model: it has no {CONFIG_FILE}."
            ) from error
        _model_class(_read_config(config_path, where), where, expected_class)
        folder = snapshot_download(allow_patterns=MODEL_FILES, **common)
        # The snapshot folder is named after its commit: check the files against
        # the checksums the Hub lists for that commit (offline, they were checked
        # when downloaded).
        try:
            info = _api(token).model_info(
                repo_id, revision=os.path.basename(folder), files_metadata=True
            )
        except OfflineModeIsEnabled:
            info = None
    if info is not None:
        _verify_download(folder, info, where)
    # A push may have landed between the two downloads: check the snapshot's own config.
    config = _read_config(os.path.join(folder, CONFIG_FILE), where)
    return folder, _model_class(config, where, expected_class)


def from_pretrained(
    name_or_path,
    *,
    revision: str | None = None,
    token: str | None = None,
    cache_dir: str | None = None,
    force_download: bool = False,
    expected_class: type | None = None,
    compile: bool = True,
):
    """Loads a keras-gans model from the Hub or from a local directory.

    Downloads go through the `huggingface_hub` cache, so a model loaded once
    loads again with `HF_HUB_OFFLINE=1`. `config.json` is fetched first and
    checked before anything else is downloaded; the model is then loaded
    with Keras' safe mode on.

    Args:
        name_or_path: `"hf://owner/name"`, `"owner/name"`, a zoo recipe name
            such as `"dcgan.mnist"` (its published repo), or a directory
            written by `save_pretrained` (an existing directory wins over a
            repo id; `hf://` always means the Hub).
        revision: branch name or commit sha; default the `main` branch.
        token: token for private repos; default `HF_TOKEN` or the saved login.
        cache_dir: Hugging Face cache folder; default `HF_HUB_CACHE`.
        force_download: download again even if cached (e.g. after a corrupt
            download).
        expected_class: raise unless the repo holds this class or a subclass
            of it (what `DCGAN.from_pretrained` passes).
        compile: compile the model when the repo holds optimizer state.

    Returns:
        The model, of the class it was pushed as.

    Raises:
        FileNotFoundError: no such repo or revision, or not cached offline.
        PermissionError: an invalid token, or a gated repo.
        ValueError: not a keras-gans model, or not an `expected_class`.
        OSError: a corrupt download (retry with `force_download=True`).

    Example:

    ```python
    gan = from_pretrained("hf://me/dcgan-mnist")
    old = from_pretrained("me/dcgan-mnist", revision="3f2a...")   # a pinned commit
    images = gan.generate(16, seed=0)
    ```
    """
    expected_class = expected_class or BaseGAN
    source = os.fspath(name_or_path)
    if not source.startswith("hf://") and os.path.isdir(source):
        if revision is not None:
            raise ValueError(f"revision= applies to Hub repos; {source!r} is a local directory.")
        where = f"Directory {source!r}"
        folder = source
        cls = _model_class(
            _read_config(os.path.join(folder, CONFIG_FILE), where), where, expected_class
        )
    else:
        repo_id = _repo_id(source)
        where = repo_id if revision is None else f"{repo_id} at revision {revision!r}"
        folder, cls = _download(repo_id, revision, token, cache_dir, force_download, expected_class)
    try:
        model = keras.saving.load_model(folder, compile=compile, safe_mode=True)
    except Exception as error:
        raise OSError(
            f"Could not load the model from {where}: {type(error).__name__}: {error}. "
            "If the files were damaged in download, retry with force_download=True."
        ) from error
    if not isinstance(model, cls):
        raise ValueError(
            f"{where} loaded as a {type(model).__name__}, but its config.json names {cls.__name__}."
        )
    return model

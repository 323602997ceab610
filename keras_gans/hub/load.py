"""`from_pretrained`: a keras-gans model from the Hub or a folder, checked before it loads.

Loading never unpickles anything: Keras' safe mode stays on, the class must be one
keras-gans registered with Keras, and every downloaded file is checked against the
checksum the Hub lists for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile

import keras

from keras_gans.hub.repo import CONFIG_FILE, LIBRARY, MODEL_FILES, api, repo_id, status_and_message
from keras_gans.utils.version import VERSION


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
    known = registered.startswith("keras_gans>") and isinstance(cls, type)
    usable = hasattr(cls, "generate") or hasattr(cls, "translate")
    if not (known and issubclass(cls, keras.Model) and usable):
        raise ValueError(
            f"{where} holds a {name} saved with keras-gans {info.get('version', '?')}, a "
            f"class this installation (keras-gans {VERSION}) does not know "
            f"(registered name {registered!r}). Load it with keras_gans.from_pretrained (which "
            f"registers keras-gans' classes), upgrade keras-gans, or import the module that "
            f"defines {name} first."
        )
    if expected_class is not None and not issubclass(cls, expected_class):
        raise ValueError(
            f"{where} holds a {cls.__name__}, not a {expected_class.__name__}. Load it "
            f"with keras_gans.from_pretrained(...) or {cls.__name__}.from_pretrained(...)."
        )
    return cls


def _verify_download(folder, repo_id, revision, token, where):
    """Checks every downloaded file against the sha256 (LFS) or git blob id the Hub lists.

    Uses `HfApi.verify_repo_checksums` on the snapshot folder, at the snapshot's commit.
    """
    verification = api(token).verify_repo_checksums(repo_id, revision=revision, local_dir=folder)
    if verification.mismatches:
        bad = verification.mismatches[0]
        raise OSError(
            f"Corrupt download: {bad['path']} from {where} does not match the "
            f"{bad['algorithm']} the Hub lists for it ({bad['actual'][:12]}... instead of "
            f"{bad['expected'][:12]}...). Retry with force_download=True."
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
        status, message = status_and_message(error)
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
        library_version=VERSION,
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
            _verify_download(folder, repo_id, os.path.basename(folder), token, where)
        except OfflineModeIsEnabled:
            pass
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
    source = os.fspath(name_or_path)
    if not source.startswith("hf://") and _looks_like_file(source):
        return _load_file(source, expected_class, compile)
    if not source.startswith("hf://") and os.path.isdir(source):
        if revision is not None:
            raise ValueError(f"revision= applies to Hub repos; {source!r} is a local directory.")
        where = f"Directory {source!r}"
        folder = source
        cls = _model_class(
            _read_config(os.path.join(folder, CONFIG_FILE), where), where, expected_class
        )
    else:
        repo = repo_id(source)
        where = repo if revision is None else f"{repo} at revision {revision!r}"
        folder, cls = _download(repo, revision, token, cache_dir, force_download, expected_class)
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


def _looks_like_file(source):
    """A `.keras` file path (existing or not), or any existing file: never a repo id."""
    return source.endswith(".keras") or os.path.isfile(source)


def _damage(path, error):
    """What is wrong with a `.keras` file Keras could not load, in a few words."""
    size = os.path.getsize(path)
    if not zipfile.is_zipfile(path):
        return f"its {size} bytes are not a whole .keras (zip) archive (cut short or damaged)"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        missing = [name for name in ("config.json", "model.weights.h5") if name not in names]
        if missing:
            return f"the archive lacks {' and '.join(missing)}"
        damaged = archive.testzip()
    if damaged is not None:
        return f"its {damaged} is damaged (checksum mismatch)"
    first_line = str(error).splitlines()[0] if str(error) else "no message"
    return f"its content does not load ({type(error).__name__}: {first_line})"


def _load_file(path, expected_class, compile):
    """Loads a `.keras` file (a run's `model.keras`), with the same class checks."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No such model file: {path!r}. Give an existing .keras file, a folder written "
            "by save_pretrained, or a Hub repo id such as 'owner/name'."
        )
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as error:
        raise ValueError(
            f"{path!r} exists but is not a readable Keras model file: {_damage(path, error)}. "
            "Re-save it, or resume the run that wrote it."
        ) from error
    if not (hasattr(model, "generate") or hasattr(model, "translate")):
        raise ValueError(f"{path!r} holds a {type(model).__name__}, not a keras-gans model.")
    if expected_class is not None and not isinstance(model, expected_class):
        raise ValueError(
            f"{path!r} holds a {type(model).__name__}, not a {expected_class.__name__}."
        )
    return model

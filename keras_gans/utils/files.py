"""File helpers every layer shares: one atomic writer, JSON, and the cache folder.

Example:

```python
from keras_gans.utils import files

with files.atomic_path("grid.png") as temporary:
    image.save(temporary)
files.write_json("run.json", {"status": "finished"})
files.cache_dir("fid")          # ~/.cache/keras_gans/fid, or $KERAS_GANS_CACHE/fid
```
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import uuid

CACHE_ENV_VAR = "KERAS_GANS_CACHE"
TEMPORARY_MARK = ".tmp"


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`, moved onto `path` on success.

    The temporary file is in the same directory (so `os.replace` is atomic)
    and keeps the extensions, so writers that pick the format from the name
    still work. On error it is removed and `path` is left untouched: a
    reader never sees a half-written file. A temporary left by a killed
    process starts with `.` and holds `.tmp`; `remove_stale_temporaries`
    cleans such files.

    Args:
        path: the final file path; missing parent directories are created.

    Example:

    ```python
    with atomic_path("grid.png") as tmp:
        Image.fromarray(array).save(tmp)
    ```
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # Everything after the first dot stays at the end: `x.weights.h5` keeps `.weights.h5`.
    base, dot, extension = os.path.basename(path).partition(".")
    extension = dot + extension
    temporary = os.path.join(
        directory, f".{base}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMPORARY_MARK}{extension}"
    )
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def remove_stale_temporaries(directory) -> list[str]:
    """Deletes the temporaries `atomic_path` left in `directory` (a killed writer).

    Args:
        directory: the folder to clean (not recursive).

    Returns:
        The paths removed.
    """
    removed = []
    for path in glob.glob(os.path.join(os.fspath(directory), f".*{TEMPORARY_MARK}*")):
        with contextlib.suppress(OSError):
            os.remove(path)
            removed.append(path)
    return removed


def read_json(path):
    """The parsed content of a JSON file."""
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def write_json(path, data) -> None:
    """Writes `data` as indented JSON, atomically."""
    with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)
        file.write("\n")


def cache_dir(*parts: str) -> str:
    """A folder of the keras-gans cache: `$KERAS_GANS_CACHE` or `~/.cache/keras_gans`.

    Args:
        *parts: sub-folders, e.g. `"fid"` or `"extractors"`.

    Returns:
        The path (not created).
    """
    root = os.environ.get(CACHE_ENV_VAR) or os.path.join(
        os.path.expanduser("~"), ".cache", "keras_gans"
    )
    return os.path.join(root, *parts)

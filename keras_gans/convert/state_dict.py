"""PyTorch state dicts (`.pth`, `torch.save`'s zip or legacy format) read with NumPy, safely.

For published weights such as torchvision's VGG16 and LPIPS' linear layers: only
tensors, parameters, storages and `OrderedDict` may appear; anything else in the
pickle is refused before it runs, and PyTorch is not needed.

Example:

```python
from keras_gans.convert.state_dict import read_state_dict

weights = read_state_dict("vgg16-397923af.pth")     # {"features.0.weight": array, ...}
```
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
from typing import Any

import numpy as np

from keras_gans.convert.pickle_reader import (
    _LEGACY_MAGIC,
    _STORAGE_DTYPES,
    NetworkPickleError,
    _rebuild_parameter,
    _rebuild_tensor,
    _Storage,
)


class _Pending:
    """A tensor whose storage's bytes come later in a legacy file."""

    def __init__(self, storage, args):
        self.storage, self.args = storage, args


def _tensor(storage, *args):
    if isinstance(storage, _Storage) and storage.array is None:
        return _Pending(storage, args)
    return _rebuild_tensor(storage, *args)


def _parameter(data, *args):
    return data if isinstance(data, _Pending) else _rebuild_parameter(data, *args)


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _tensor,
    ("torch._utils", "_rebuild_parameter"): _parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch", "Size"): tuple,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, load_storage):
        super().__init__(file)
        self.load_storage = load_storage

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise NetworkPickleError(
            f"refused: the state dict asks for `{module}.{name}`, which a file of weights "
            "never contains; nothing from it was run"
        )

    def persistent_load(self, pid: Any) -> Any:
        # ("storage", storage type name, key, location, numel[, view])
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[1] in _STORAGE_DTYPES):
            raise NetworkPickleError(f"a tensor storage has an unknown reference {pid!r}")
        return self.load_storage(pid[1], str(pid[2]))


def _as_array(name, raw):
    array = np.frombuffer(raw, dtype=np.dtype(_STORAGE_DTYPES[name]))
    if name == "BFloat16Storage":
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _read_zip(path, label):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data = next((n for n in names if n.endswith("data.pkl")), None)
        if data is None:
            raise NetworkPickleError(f"{label} is a zip archive without data.pkl")
        prefix = data[: -len("data.pkl")]

        def load_storage(name, key):
            return _Storage(_as_array(name, archive.read(f"{prefix}data/{key}")))

        return _Unpickler(io.BytesIO(archive.read(data)), load_storage).load()


def _read_legacy(file, label):
    storages, kinds = {}, {}

    def load_storage(name, key):  # the bytes follow the pickle: filled in below
        kinds[key] = name
        return storages.setdefault(key, _Storage(None))

    if _Unpickler(file, load_storage).load() != _LEGACY_MAGIC:
        raise NetworkPickleError(f"{label} is not a torch.save file")
    for _ in range(2):  # protocol version, system info
        _Unpickler(file, load_storage).load()
    content = _Unpickler(file, load_storage).load()
    for key in _Unpickler(file, load_storage).load():
        (count,) = struct.unpack("<q", file.read(8))
        dtype = np.dtype(_STORAGE_DTYPES[kinds[key]])
        raw = file.read(count * dtype.itemsize)
        if len(raw) != count * dtype.itemsize:
            raise NetworkPickleError(f"{label} is truncated")
        storages[key].array = _as_array(kinds[key], raw)
    return content


def read_state_dict(path) -> dict[str, np.ndarray]:
    """The tensors of a `torch.save`d state dict as `{name: np.ndarray}`, nothing executed.

    Args:
        path: a `.pth` / `.pt` file in the zip format (PyTorch >= 1.6) or the legacy one.

    Raises:
        NetworkPickleError: not a state dict, truncated, or naming anything but tensors.
    """
    path = os.fspath(path)
    label = f"state dict {path!r}"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path!r} (a .pth file of weights).")
    try:
        if zipfile.is_zipfile(path):
            content = _read_zip(path, label)
        else:
            with open(path, "rb") as file:
                content = _read_legacy(file, label)
    except NetworkPickleError:
        raise
    except (EOFError, pickle.UnpicklingError, struct.error, KeyError, zipfile.BadZipFile) as error:
        raise NetworkPickleError(f"{label} is truncated or corrupt ({error})") from None
    if isinstance(content, dict) and "state_dict" in content:
        content = content["state_dict"]
    if not isinstance(content, dict):
        raise NetworkPickleError(f"{label} holds a {type(content).__name__}, not a state dict")
    result = {}
    for name, value in content.items():
        if isinstance(value, _Pending):
            value = _rebuild_tensor(value.storage, *value.args)
        if isinstance(value, np.ndarray):
            result[str(name)] = value
    return result

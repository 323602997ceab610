"""Reads NVIDIA's StyleGAN2-ADA / StyleGAN3 network pickles as data, running nothing from them.

NVIDIA's `network-snapshot-*.pkl` files are pickles of PyTorch modules whose classes carry
their own Python source (`torch_utils.persistence`): `pickle.load` would execute that source.
This reader unpickles with an allow-list instead. Every global the pickle names is checked
before anything is called; tensors become NumPy arrays (PyTorch's legacy storage format is
parsed here, PyTorch is not imported); each persistent network becomes a `PersistentRecord`
with its parameters, buffers, children, constructor arguments and the embedded source as text.

Example:

```python
from keras_gans.convert.pickle_reader import read_network_pickle

data = read_network_pickle("network-snapshot-000000.pkl")
G = data["G_ema"]
G.init_kwargs["w_dim"]                       # 512
G.child("mapping").buffers["w_avg"].shape    # (512,)
weights = G.state_dict()                     # {"mapping.fc0.weight": array, ...}
```
"""

from __future__ import annotations

import collections
import dataclasses
import io
import os
import pickle
import struct
from typing import IO, Any

import numpy as np

try:  # NumPy 2 (and the name NumPy 2 writes)
    from numpy._core import multiarray as _multiarray
except ImportError:  # NumPy 1.26
    from numpy.core import multiarray as _multiarray

# torch.save's legacy (non-zip) format, which `torch.storage._load_from_bytes` reads.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# PyTorch storage classes -> the NumPy dtype of their raw little-endian bytes.
_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",  # widened to float32 below: bfloat16 is float32's upper half
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}

# torch.nn.Module's bookkeeping in a module's state (and its hooks): not the network's attributes.
_MODULE_INTERNALS = "training _parameters _buffers _non_persistent_buffers_set _modules".split()
_MODULE_INTERNALS += ["_init_args", "_init_kwargs"]  # NVIDIA's (init_args, init_kwargs)


class NetworkPickleError(ValueError):
    """A network pickle that cannot be read, or that asks for something this reader refuses."""


class EasyDict(dict):
    """A dict whose keys also read as attributes; stands in for `dnnlib.util.EasyDict`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclasses.dataclass(eq=False, repr=False)
class PersistentRecord:
    """One of NVIDIA's persistent objects (a network or a layer), read as data.

    Nothing from the pickle was run to build it: `module_src` is the class's Python source,
    kept as text only.

    Attributes:
        class_name: the class in NVIDIA's source, e.g. `"Generator"` or `"SynthesisLayer"`.
        module_src: the embedded source of the class's module (never executed).
        init_args: the positional arguments the object was built with.
        init_kwargs: the keyword arguments it was built with (`z_dim`, `w_dim`, ...).
        parameters: the module's own parameters, name -> array.
        buffers: its own persistent buffers (those `state_dict` holds), name -> array.
        children: its sub-modules, name -> record (or None where the module holds None).
        attributes: the other entries of its state (`w_dim`, `img_resolution`, ...).
        version: the version of NVIDIA's persistence format (6 in every known pickle).

    Example:

    ```python
    G = read_network_pickle("snapshot.pkl")["G_ema"]
    G.child("synthesis.b4.conv1").parameters["weight"].shape
    ```
    """

    class_name: str
    module_src: str
    init_args: tuple = ()
    init_kwargs: dict = dataclasses.field(default_factory=EasyDict)
    parameters: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    buffers: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    children: dict[str, PersistentRecord | None] = dataclasses.field(default_factory=dict)
    attributes: dict = dataclasses.field(default_factory=dict)
    version: int | None = None

    def state_dict(self) -> dict[str, np.ndarray]:
        """The arrays of the whole tree under flat names, in the order PyTorch's `state_dict` uses.

        Each module gives its parameters, then its persistent buffers, then its children's
        entries under `child_name.`.

        Returns:
            A dict such as `{"mapping.fc0.weight": array, "mapping.w_avg": array, ...}`.

        Example:

        ```python
        weights = record.state_dict()
        weights["synthesis.b4.const"].shape
        ```
        """
        entries: dict[str, np.ndarray] = {}
        self._collect("", entries)
        return entries

    def _collect(self, prefix: str, entries: dict[str, np.ndarray]) -> None:
        for name, value in {**self.parameters, **self.buffers}.items():
            entries[prefix + name] = value
        for name, child in self.children.items():
            if child is not None:
                child._collect(f"{prefix}{name}.", entries)

    def child(self, dotted: str) -> PersistentRecord:
        """The sub-module at a dotted path.

        Args:
            dotted: names from this record down, e.g. `"synthesis.b4.conv1"`.

        Returns:
            The record at that path.

        Raises:
            NetworkPickleError: a name on the path does not exist (the message lists the ones
                that do) or holds None.

        Example:

        ```python
        G.child("mapping").buffers["w_avg"]
        ```
        """
        if not isinstance(dotted, str) or not dotted:
            raise NetworkPickleError(
                f"child: `dotted` must be a dotted name like 'synthesis.b4.conv1', got {dotted!r}"
            )
        record, walked = self, self.class_name
        for name in dotted.split("."):
            if name not in record.children:
                names = ", ".join(record.children) or "none"
                raise NetworkPickleError(
                    f"{walked} ({record.class_name}) has no child {name!r}; its children: {names}"
                )
            found = record.children[name]
            walked = f"{walked}.{name}"
            if found is None:
                raise NetworkPickleError(f"{walked} is None in the pickle (no module there)")
            record = found
        return record

    def __repr__(self) -> str:
        values = sum(int(v.size) for v in self.state_dict().values())
        return (
            f"PersistentRecord({self.class_name!r}, parameters={len(self.parameters)}, "
            f"buffers={len(self.buffers)}, values_in_tree={values:,}, "
            f"children={list(self.children)})"
        )


def _reconstruct_persistent_obj(meta: Any) -> PersistentRecord:
    """Stands in for `torch_utils.persistence._reconstruct_persistent_obj`, without its `exec`."""
    if not isinstance(meta, dict):
        raise NetworkPickleError(
            f"a persistent object's record is a {type(meta).__name__}, expected a dict"
        )
    if meta.get("type") != "class":
        raise NetworkPickleError(
            f"a persistent object has type {meta.get('type')!r}; only NVIDIA's 'class' records "
            "are known"
        )
    class_name, source, state = meta.get("class_name"), meta.get("module_src"), meta.get("state")
    if not isinstance(class_name, str) or not isinstance(source, str):
        raise NetworkPickleError("a persistent object's record lacks its class name or source")
    if not isinstance(state, dict):
        raise NetworkPickleError(f"the state of {class_name} is not a dict")

    def arrays(key: str) -> dict[str, np.ndarray]:
        found = {}
        for name, value in (state.get(key) or {}).items():
            if value is not None and not isinstance(value, np.ndarray):
                raise NetworkPickleError(
                    f"{class_name}.{key}[{name!r}] is a {type(value).__name__}, expected a tensor"
                )
            if value is not None:
                found[name] = value
        return found

    non_persistent = set(state.get("_non_persistent_buffers_set") or ())
    children = dict(state.get("_modules") or {})
    for name, value in children.items():
        if value is not None and not isinstance(value, PersistentRecord):
            raise NetworkPickleError(
                f"the child {name!r} of {class_name} is a {type(value).__name__}, not one of "
                "NVIDIA's persistent classes"
            )
    return PersistentRecord(
        class_name=class_name,
        module_src=source,
        init_args=tuple(state.get("_init_args") or ()),
        init_kwargs=EasyDict(state.get("_init_kwargs") or {}),
        parameters=arrays("_parameters"),
        buffers={k: v for k, v in arrays("_buffers").items() if k not in non_persistent},
        children=children,
        attributes={
            key: value
            for key, value in state.items()
            if key not in _MODULE_INTERNALS and not (key.startswith("_") and "hook" in key)
        },
        version=meta.get("version"),
    )


@dataclasses.dataclass
class _StorageType:
    """Stands in for a class such as `torch.FloatStorage`."""

    name: str


@dataclasses.dataclass
class _Storage:
    """A tensor storage: its elements as a flat, read-only NumPy array."""

    array: np.ndarray


def _refusal(module: str, name: str) -> NetworkPickleError:
    qualified = f"{module}.{name}"
    if module == "torch.nn" or module.startswith("torch.nn."):
        return NetworkPickleError(
            f"refused: the pickle holds `{qualified}`, a plain PyTorch module rather than one of "
            "NVIDIA's persistent classes, and rebuilding it would run its code; nothing from "
            "it was run"
        )
    return NetworkPickleError(
        f"refused: the pickle asks for `{qualified}`, which a network pickle never contains; "
        "nothing from it was run"
    )


class _StorageUnpickler(pickle.Unpickler):
    """Reads one pickle of torch.save's legacy format: storage classes are the only globals."""

    def __init__(self, file: IO[bytes]):
        super().__init__(file)
        self.storages: dict[str, _StorageType] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise _refusal(module, name)

    def persistent_load(self, pid: Any) -> tuple:
        # ("storage", storage_type, key, location, numel, view_metadata)
        if not (
            isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] in ("storage", b"storage")
        ):
            raise NetworkPickleError(f"a tensor storage has an unknown reference {pid!r}")
        storage_type, key, view = pid[1], str(pid[2]), (pid[5] if len(pid) == 6 else None)
        if not isinstance(storage_type, _StorageType):
            raise NetworkPickleError(f"a tensor storage has no storage type: {pid!r}")
        self.storages[key] = storage_type
        return (key, view)


def _load_storage(payload: Any) -> _Storage:
    """Stands in for `torch.storage._load_from_bytes`: parses one legacy torch.save of a storage."""
    if not isinstance(payload, (bytes, bytearray)):
        raise NetworkPickleError(f"a tensor storage is a {type(payload).__name__}, expected bytes")
    stream = io.BytesIO(payload)
    try:
        magic, protocol, sys_info = (_StorageUnpickler(stream).load() for _ in range(3))
        if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL:
            raise NetworkPickleError(
                f"a tensor storage is not in torch.save's legacy format (magic {magic!r}, "
                f"protocol {protocol!r})"
            )
        if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
            raise NetworkPickleError("a tensor storage was written on a big-endian machine")
        unpickler = _StorageUnpickler(stream)
        reference = unpickler.load()
        keys = _StorageUnpickler(stream).load()
    except (EOFError, pickle.UnpicklingError) as error:
        raise NetworkPickleError(f"a tensor storage is truncated or corrupt ({error})") from None
    if not isinstance(reference, tuple) or reference[0] not in unpickler.storages:
        raise NetworkPickleError("a tensor storage's bytes hold no storage")
    arrays = {}
    position = stream.tell()
    for key in keys:
        if key not in unpickler.storages:
            raise NetworkPickleError(f"a tensor storage lists an unknown key {key!r}")
        dtype = np.dtype(_STORAGE_DTYPES[unpickler.storages[key].name])
        if position + 8 > len(payload):
            raise NetworkPickleError("a tensor storage is truncated (its element count is missing)")
        (count,) = struct.unpack_from("<q", payload, position)
        position += 8
        if count < 0 or position + count * dtype.itemsize > len(payload):
            raise NetworkPickleError(
                f"a tensor storage is truncated ({count} elements of {dtype.itemsize} bytes "
                f"announced, {len(payload) - position} bytes left)"
            )
        arrays[key] = np.frombuffer(payload, dtype=dtype, count=count, offset=position)
        position += count * dtype.itemsize
    key, view = reference
    if key not in arrays:
        raise NetworkPickleError(f"a tensor storage holds no data for its key {key!r}")
    array = arrays[key]
    if view is not None:  # (view_key, offset, size) in elements
        if not (isinstance(view, tuple) and len(view) == 3 and all(map(_is_index, view[1:]))):
            raise NetworkPickleError(f"a tensor storage has an invalid view {view!r}")
        array = array[view[1] : view[1] + view[2]]
    if unpickler.storages[key].name == "BFloat16Storage":
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return _Storage(array)


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> np.ndarray:
    """Stands in for `torch._utils._rebuild_tensor_v2`: a contiguous NumPy copy of the view."""
    if not isinstance(storage, _Storage):
        raise NetworkPickleError(f"a tensor's storage is a {type(storage).__name__}")
    metadata = rest[2] if len(rest) > 2 else None  # rest: requires_grad, hooks[, metadata]
    if metadata and any(metadata.values()):
        raise NetworkPickleError(f"a tensor has metadata {metadata!r} (conj/neg), unsupported")
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or not all(map(_is_index, (offset, *size, *stride))):
        raise NetworkPickleError(f"a tensor has an invalid layout (size {size}, stride {stride})")
    flat = storage.array
    if 0 in size:
        return np.zeros(size, dtype=flat.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= flat.size:
        raise NetworkPickleError(
            f"a tensor of size {size} reaches element {last} of a storage of {flat.size}"
        )
    strides = [s * flat.itemsize for s in stride]
    view = np.lib.stride_tricks.as_strided(flat[offset:], size, strides, writeable=False)
    return np.array(view, order="C")


def _rebuild_parameter(
    data: Any, requires_grad: Any = False, backward_hooks: Any = None, state: Any = None
) -> np.ndarray:
    """Stands in for `torch._utils._rebuild_parameter` (and `..._with_state`): the data only."""
    if not isinstance(data, np.ndarray):
        raise NetworkPickleError(f"a parameter's data is a {type(data).__name__}")
    return data


# Everything a network pickle may name, and what each name becomes here.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("torch", "Size"): tuple,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
}
for _core in ("numpy.core.multiarray", "numpy._core.multiarray"):  # NumPy 1 and NumPy 2 names
    _ALLOWED[(_core, "scalar")] = _multiarray.scalar
    _ALLOWED[(_core, "_reconstruct")] = _multiarray._reconstruct


class _NetworkUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise _refusal(module, name)

    def persistent_load(self, pid: Any) -> Any:
        raise NetworkPickleError(
            f"the pickle holds a persistent id {pid!r}, which a network pickle never contains"
        )


def _read(file: IO[bytes], label: str) -> Any:
    try:
        start = file.tell()
        total = file.seek(0, io.SEEK_END)
        file.seek(start)
    except (AttributeError, OSError):  # not seekable: read it all, to look at the header first
        file = io.BytesIO(file.read())
        start, total = 0, len(file.getbuffer())
    head = file.read(16)
    file.seek(start)
    if not head:
        raise NetworkPickleError(f"{label} is empty")
    if head.startswith(b"PK\x03\x04"):
        raise NetworkPickleError(
            f"{label} is a zip archive (torch.save's format), not a network pickle"
        )
    if head[0] != pickle.PROTO[0]:
        raise NetworkPickleError(
            f"{label} is not a pickle (it starts with {head!r}); expected a network pickle "
            "(.pkl) written by NVIDIA's training code"
        )
    try:
        return _NetworkUnpickler(file).load()
    except NetworkPickleError as error:
        raise NetworkPickleError(f"{label}: {error}") from None
    except (EOFError, pickle.UnpicklingError) as error:
        position = file.tell()
        if position >= total:
            raise NetworkPickleError(
                f"{label} is truncated or corrupt (the pickle data ended at byte {position:,} "
                f"of {total:,}, the end of the file, before the pickle was complete)"
            ) from None
        raise NetworkPickleError(
            f"{label} is corrupt near byte {position:,} of {total:,} ({error})"
        ) from None
    except MemoryError:
        raise
    except Exception as error:  # malformed arguments to an allowed global
        raise NetworkPickleError(f"{label} is corrupt ({type(error).__name__}: {error})") from None


def read_network_pickle(source: str | os.PathLike | IO[bytes]) -> Any:
    """Reads a StyleGAN2-ADA / StyleGAN3 network pickle without running anything from it.

    Only the globals such pickles use are allowed (NVIDIA's persistent-object hook, PyTorch's
    tensor and parameter rebuilders, storages, NumPy scalars and arrays, `OrderedDict`,
    `EasyDict`); any other one is refused before it is called. PyTorch is not needed.

    Args:
        source: a path (`str` or `os.PathLike`) or a binary file object.

    Returns:
        The pickled object, normally a dict with `"G"`, `"D"`, `"G_ema"` (each a
        `PersistentRecord`), `"augment_pipe"` and `"training_set_kwargs"`. Tensors are NumPy
        arrays (bfloat16 ones widened to float32).

    Raises:
        NetworkPickleError: the file is missing, not a pickle, truncated or corrupt, or it asks
            for a global outside the allow-list (such as `os.system`).

    Example:

    ```python
    G = read_network_pickle("stylegan2-ffhq-1024x1024.pkl")["G_ema"]
    print(G.init_kwargs)
    ```
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        label = f"network pickle {path!r}"
        try:
            file = open(path, "rb")
        except OSError as error:
            raise NetworkPickleError(f"cannot open {label}: {error.strerror}") from None
        with file:
            return _read(file, label)
    if not callable(getattr(source, "read", None)):
        raise NetworkPickleError(
            "read_network_pickle: `source` must be a path or a binary file object, got a "
            f"{type(source).__name__}"
        )
    name = getattr(source, "name", None)
    return _read(source, f"network pickle {name!r}" if isinstance(name, str) else "network pickle")

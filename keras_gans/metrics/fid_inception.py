"""pytorch-fid's FID Inception network, written once in Keras 3 layers.

The network of `pytorch_fid.inception.fid_inception_v3()`: torchvision's
`Inception3` with the `FIDInceptionA/C/E_1/E_2` blocks (average pools that
ignore the padding, a max pool in the last block), BatchNorm `eps=0.001`, no
1008-class head, pool3 (2048-d) features. With pytorch-fid's weights (a port
of the TensorFlow FID graph) its FIDs are pytorch-fid's.

Example:

```python
from keras_gans.metrics import fid_inception_v3

extractor = fid_inception_v3()  # Downloads or reuses pytorch-fid's weights.
features = extractor(images)     # (N, 2048), images in [-1, 1]
```
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
import pickle
import re
import shutil
import tempfile
import zipfile

import keras
import numpy as np

from keras_gans.metrics.extractors import (
    FID_INCEPTION_SIZE,
    RESIZE_MODES,
    FeatureExtractor,
    preprocess_for_fid_inception,
    register_extractor,
)
from keras_gans.utils import files

FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FID_WEIGHTS_FILE
)
# Like torch.hub's `check_hash`: the hex after the last "-" of the file name is
# the start of the sha256 of the file's bytes.
FID_WEIGHTS_SHA256_PREFIX = "6726825d"
_CONVERSION_VERSION = "v1"
_LAYERS = keras.layers
_CL = "channels_last"
_conv2d = functools.partial(_LAYERS.Conv2D, data_format=_CL, use_bias=False)


# The network.


class _HeNormal:
    """Seeded numpy He-normal kernels: 10x faster to build on jax than Keras' initializers."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, dtype=None):
        std = np.sqrt(2.0 / np.prod(shape[:-1]))
        return (self.rng.standard_normal(shape) * std).astype(dtype or "float32")


def _conv_bn(x, prefixes, prefix, filters, kernel, strides=1, padding="same"):
    """torchvision's BasicConv2d: conv (no bias), BatchNorm(eps=1e-3), ReLU.

    Every padded torch conv here is stride 1 with padding `k // 2`: "same".
    """
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = "valid" if strides != 1 else padding
    name = prefix.replace(".", "_")
    prefixes.append(prefix)
    init = _HeNormal(len(prefixes))
    x = _conv2d(filters, kernel, strides, padding, kernel_initializer=init, name=f"{name}_conv")(x)
    x = _LAYERS.BatchNormalization(axis=-1, epsilon=1e-3, name=f"{name}_bn")(x)
    return _LAYERS.ReLU()(x)


def _avg_pool(x):
    # Keras' "same" average excludes the padding, as count_include_pad=False.
    return _LAYERS.AveragePooling2D(3, 1, "same", data_format=_CL)(x)


def _block_a(x, p, name, pool_features):
    b1 = _conv_bn(x, p, f"{name}.branch1x1", 64, 1)
    b5 = _conv_bn(x, p, f"{name}.branch5x5_1", 48, 1)
    b5 = _conv_bn(b5, p, f"{name}.branch5x5_2", 64, 5)
    b3 = _conv_bn(x, p, f"{name}.branch3x3dbl_1", 64, 1)
    b3 = _conv_bn(b3, p, f"{name}.branch3x3dbl_2", 96, 3)
    b3 = _conv_bn(b3, p, f"{name}.branch3x3dbl_3", 96, 3)
    pool = _conv_bn(_avg_pool(x), p, f"{name}.branch_pool", pool_features, 1)
    return _LAYERS.Concatenate(axis=-1)([b1, b5, b3, pool])


def _block_b(x, p, name):
    b3 = _conv_bn(x, p, f"{name}.branch3x3", 384, 3, strides=2)
    dbl = _conv_bn(x, p, f"{name}.branch3x3dbl_1", 64, 1)
    dbl = _conv_bn(dbl, p, f"{name}.branch3x3dbl_2", 96, 3)
    dbl = _conv_bn(dbl, p, f"{name}.branch3x3dbl_3", 96, 3, strides=2)
    pool = _LAYERS.MaxPooling2D(3, 2, data_format=_CL)(x)
    return _LAYERS.Concatenate(axis=-1)([b3, dbl, pool])


def _block_c(x, p, name, c7):
    b1 = _conv_bn(x, p, f"{name}.branch1x1", 192, 1)
    b7 = _conv_bn(x, p, f"{name}.branch7x7_1", c7, 1)
    b7 = _conv_bn(b7, p, f"{name}.branch7x7_2", c7, (1, 7))
    b7 = _conv_bn(b7, p, f"{name}.branch7x7_3", 192, (7, 1))
    dbl = _conv_bn(x, p, f"{name}.branch7x7dbl_1", c7, 1)
    for i, (filters, kernel) in enumerate(
        [(c7, (7, 1)), (c7, (1, 7)), (c7, (7, 1)), (192, (1, 7))], start=2
    ):
        dbl = _conv_bn(dbl, p, f"{name}.branch7x7dbl_{i}", filters, kernel)
    pool = _conv_bn(_avg_pool(x), p, f"{name}.branch_pool", 192, 1)
    return _LAYERS.Concatenate(axis=-1)([b1, b7, dbl, pool])


def _block_d(x, p, name):
    b3 = _conv_bn(x, p, f"{name}.branch3x3_1", 192, 1)
    b3 = _conv_bn(b3, p, f"{name}.branch3x3_2", 320, 3, strides=2)
    b7 = _conv_bn(x, p, f"{name}.branch7x7x3_1", 192, 1)
    b7 = _conv_bn(b7, p, f"{name}.branch7x7x3_2", 192, (1, 7))
    b7 = _conv_bn(b7, p, f"{name}.branch7x7x3_3", 192, (7, 1))
    b7 = _conv_bn(b7, p, f"{name}.branch7x7x3_4", 192, 3, strides=2)
    pool = _LAYERS.MaxPooling2D(3, 2, data_format=_CL)(x)
    return _LAYERS.Concatenate(axis=-1)([b3, b7, pool])


def _block_e(x, p, name, max_pool):
    def split(y, stem):
        a = _conv_bn(y, p, f"{name}.{stem}a", 384, (1, 3))
        b = _conv_bn(y, p, f"{name}.{stem}b", 384, (3, 1))
        return _LAYERS.Concatenate(axis=-1)([a, b])

    b1 = _conv_bn(x, p, f"{name}.branch1x1", 320, 1)
    b3 = split(_conv_bn(x, p, f"{name}.branch3x3_1", 384, 1), "branch3x3_2")
    dbl = _conv_bn(x, p, f"{name}.branch3x3dbl_1", 448, 1)
    dbl = split(_conv_bn(dbl, p, f"{name}.branch3x3dbl_2", 384, 3), "branch3x3dbl_3")
    if max_pool:  # FIDInceptionE_2: the TF graph max-pools here.
        pool = _LAYERS.MaxPooling2D(3, 1, "same", data_format=_CL)(x)
    else:
        pool = _avg_pool(x)
    pool = _conv_bn(pool, p, f"{name}.branch_pool", 192, 1)
    return _LAYERS.Concatenate(axis=-1)([b1, b3, dbl, pool])


def _build(prefixes: list[str]) -> keras.Model:
    inputs = keras.Input((FID_INCEPTION_SIZE, FID_INCEPTION_SIZE, 3), name="images")
    x = _conv_bn(inputs, prefixes, "Conv2d_1a_3x3", 32, 3, strides=2)
    x = _conv_bn(x, prefixes, "Conv2d_2a_3x3", 32, 3, padding="valid")
    x = _conv_bn(x, prefixes, "Conv2d_2b_3x3", 64, 3)
    x = _LAYERS.MaxPooling2D(3, 2, data_format=_CL)(x)
    x = _conv_bn(x, prefixes, "Conv2d_3b_1x1", 80, 1)
    x = _conv_bn(x, prefixes, "Conv2d_4a_3x3", 192, 3, padding="valid")
    x = _LAYERS.MaxPooling2D(3, 2, data_format=_CL)(x)
    x = _block_a(x, prefixes, "Mixed_5b", 32)
    x = _block_a(x, prefixes, "Mixed_5c", 64)
    x = _block_a(x, prefixes, "Mixed_5d", 64)
    x = _block_b(x, prefixes, "Mixed_6a")
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = _block_c(x, prefixes, name, c7)
    x = _block_d(x, prefixes, "Mixed_7a")
    x = _block_e(x, prefixes, "Mixed_7b", max_pool=False)
    x = _block_e(x, prefixes, "Mixed_7c", max_pool=True)
    outputs = _LAYERS.GlobalAveragePooling2D(data_format=_CL, name="pool3")(x)
    return keras.Model(inputs, outputs, name="fid_inception")


def fid_inception_model() -> keras.Model:
    """Builds the FID Inception network with (seeded, He-normal) random weights.

    It maps `(N, 299, 299, 3)` channels-last images in `[-1, 1]` to `(N, 2048)`
    pool3 features; the conv and BatchNorm layers are named after pytorch-fid's
    state-dict keys (`Mixed_5b.branch1x1.conv` -> `Mixed_5b_branch1x1_conv`).

    Example:

    ```python
    model = fid_inception_model()
    model.output.shape  # (None, 2048)
    ```
    """
    return _build([])


# Weights: pytorch-fid's .pth -> Keras .weights.h5, cached.


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file's bytes.

    Example:

    ```python
    file_sha256("pt_inception-2015-12-05-6726825d.pth")[:8]  # "6726825d"
    ```
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_torch_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads the tensors of a PyTorch state-dict file without running pickle code.

    With torch installed, this is `torch.load(path, map_location="cpu",
    weights_only=True)`. Without it, a restricted reader accepts only the
    globals a plain state dict needs (`OrderedDict`, torch's tensor rebuild
    function and storage types), for both the zip format (torch >= 1.6) and
    the older legacy format.

    Args:
        path: A `.pth` / `.pt` file holding a `{name: tensor}` dict.

    Returns:
        `{name: float32/int numpy array}`.

    Example:

    ```python
    state = load_torch_state_dict("pt_inception-2015-12-05-6726825d.pth")
    state["Conv2d_1a_3x3.conv.weight"].shape  # (32, 3, 3, 3)
    ```
    """
    try:
        import torch
    except ImportError:
        state = _safe_torch_load(os.fspath(path))
    else:
        state = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
        state = {k: v.detach().numpy() for k, v in state.items() if hasattr(v, "detach")}
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state dict; got {type(state).__name__}.")
    return state


_STORAGE_DTYPES = dict(
    zip(
        "Float Double Half Long Int Short Char Byte Bool".split(),
        "<f4 <f8 <f2 <i8 <i4 <i2 i1 u1 ?".split(),
    )
)
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _TensorRef:
    def __init__(self, storage, offset, size, stride, *unused):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


class _SafeUnpickler(pickle.Unpickler):
    """Only builds OrderedDicts, storages and tensor references: no other code runs."""

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            import collections

            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _TensorRef
        if module == "torch" and name.endswith("Storage") and name[:-7] in _STORAGE_DTYPES:
            return name[:-7]
        raise pickle.UnpicklingError(
            f"Refusing to load {module}.{name}: a weights file only needs tensors."
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"Unexpected persistent id {pid!r}.")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("Storage views (torch < 0.4 files) are not supported.")
        storage_type, key = pid[1], str(pid[2])
        self.storages.setdefault(key, [storage_type, None])
        return key


def _safe_torch_load(path: str) -> dict[str, np.ndarray]:
    storages: dict[str, list] = {}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            pickled = next((n for n in names if n.endswith("/data.pkl")), None)
            if pickled is None:
                raise ValueError(f"{path} is a zip file but not a torch save (no data.pkl).")
            root = pickled[: -len("data.pkl")]
            with archive.open(pickled) as file:
                state = _SafeUnpickler(file, storages).load()
            for key, entry in storages.items():
                raw = archive.read(f"{root}data/{key}")
                entry[1] = np.frombuffer(raw, dtype=_STORAGE_DTYPES[entry[0]])
    else:
        with open(path, "rb") as file:
            if _SafeUnpickler(file, storages).load() != _LEGACY_MAGIC:
                raise ValueError(f"{path} is neither a zip nor a legacy torch file.")
            _SafeUnpickler(file, storages).load()  # protocol version
            _SafeUnpickler(file, storages).load()  # system info (plain dict)
            state = _SafeUnpickler(file, storages).load()
            for key in _SafeUnpickler(file, storages).load():
                dtype = np.dtype(_STORAGE_DTYPES[storages[key][0]])
                numel = int(np.frombuffer(file.read(8), "<i8")[0])
                storages[key][1] = np.frombuffer(file.read(numel * dtype.itemsize), dtype)
    result = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            continue
        data = storages[ref.storage][1]
        extent = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride)) + 1
        if min(ref.size, default=1) > 0 and (extent > len(data) or min(ref.stride, default=0) < 0):
            raise ValueError(f"{path}: tensor {name!r} lies outside its storage.")
        result[name] = np.lib.stride_tricks.as_strided(
            data[ref.offset :],
            shape=tuple(ref.size),
            strides=tuple(s * data.itemsize for s in ref.stride),
        ).copy()
    return result


def _assign_state_dict(model: keras.Model, prefixes: list[str], state: dict) -> None:
    used = set()
    for prefix in prefixes:
        name = prefix.replace(".", "_")
        keys = [f"{prefix}.conv.weight"] + [
            f"{prefix}.bn.{k}" for k in ("weight", "bias", "running_mean", "running_var")
        ]
        missing = [k for k in keys if k not in state]
        if missing:
            raise ValueError(
                f"Not a pytorch-fid FID Inception state dict: {missing[0]!r} is missing "
                f"(it has {len(state)} entries, e.g. {sorted(state)[:3]})."
            )
        kernel = np.transpose(np.asarray(state[keys[0]], "float32"), (2, 3, 1, 0))  # OIHW->HWIO
        conv, bn = model.get_layer(f"{name}_conv"), model.get_layer(f"{name}_bn")
        if tuple(conv.kernel.shape) != kernel.shape:
            raise ValueError(
                f"{keys[0]} has shape {state[keys[0]].shape}; expected the OIHW "
                f"transpose of {tuple(conv.kernel.shape)}."
            )
        conv.set_weights([kernel])
        bn.set_weights([np.asarray(state[k], "float32") for k in keys[1:]])
        used.update(keys)
    extra = [k for k in state if k not in used and not k.startswith("fc.")]
    extra = [k for k in extra if not k.endswith("num_batches_tracked")]
    if extra:
        raise ValueError(f"Unexpected entries in the FID Inception state dict: {extra[:5]}.")


def convert_pytorch_fid_weights(path: str | os.PathLike, cache_dir: str | None = None) -> str:
    """Converts pytorch-fid's `.pth` weights to a cached Keras `.weights.h5` file.

    The result is `<cache_dir>/fid_inception-v1-<sha256 of the .pth>.weights.h5`,
    written atomically and reused by later calls.

    Args:
        path: pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (or any
            state dict of the same network).
        cache_dir: Folder of the converted file; default
            `keras_gans.utils.files.cache_dir("extractors")`.

    Returns:
        The path of the `.weights.h5` file.

    Example:

    ```python
    h5 = convert_pytorch_fid_weights("pt_inception-2015-12-05-6726825d.pth")
    extractor = fid_inception_v3(weights=h5)
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`weights`: no such file {path!r}.")
    sha = file_sha256(path)
    if os.path.basename(path) == FID_WEIGHTS_FILE and not sha.startswith(FID_WEIGHTS_SHA256_PREFIX):
        raise ValueError(
            f"{path} is corrupt: its sha256 {sha[:16]}... does not start with "
            f"{FID_WEIGHTS_SHA256_PREFIX}. Delete it and download it again from {FID_WEIGHTS_URL}."
        )
    cache_dir = cache_dir or files.cache_dir("extractors")
    target = os.path.join(cache_dir, f"fid_inception-{_CONVERSION_VERSION}-{sha}.weights.h5")
    if os.path.isfile(target):
        return target
    prefixes: list[str] = []
    model = _build(prefixes)
    _assign_state_dict(model, prefixes, load_torch_state_dict(path))
    os.makedirs(cache_dir, exist_ok=True)
    # Keras insists on a ".weights.h5" name, which atomic_path's temporary lacks.
    with files.atomic_path(target) as temporary, tempfile.TemporaryDirectory(dir=cache_dir) as d:
        model.save_weights(os.path.join(d, "fid_inception.weights.h5"))
        shutil.move(os.path.join(d, "fid_inception.weights.h5"), temporary)
    return target


def _pretrained_weights() -> str:
    cache = files.cache_dir("extractors")
    pattern = f"fid_inception-{_CONVERSION_VERSION}-{FID_WEIGHTS_SHA256_PREFIX}*.weights.h5"
    converted = sorted(glob.glob(os.path.join(cache, pattern)))
    if converted:
        return converted[0]
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache", "torch"
    )
    for folder in (cache, os.path.join(torch_home, "hub", "checkpoints")):
        candidate = os.path.join(folder, FID_WEIGHTS_FILE)
        if os.path.isfile(candidate):
            return convert_pytorch_fid_weights(candidate)
    try:
        downloaded = keras.utils.get_file(
            FID_WEIGHTS_FILE,
            FID_WEIGHTS_URL,
            cache_dir=os.path.dirname(cache),
            cache_subdir=os.path.basename(cache),
        )
    except Exception as error:
        raise RuntimeError(
            f"Could not download pytorch-fid's Inception weights `{FID_WEIGHTS_FILE}` "
            f"(no internet?). Get it from {FID_WEIGHTS_URL} and put it in `{cache}/` "
            f"(or `{torch_home}/hub/checkpoints/`), or pass its path: "
            f"`fid_inception_v3(weights='/path/to/{FID_WEIGHTS_FILE}')`. Original error: {error}"
        ) from error
    try:
        return convert_pytorch_fid_weights(downloaded)
    except ValueError:
        os.remove(downloaded)  # A corrupt download: do not keep it.
        raise


def fid_inception_v3(weights: str | None = None, resize: str = "bilinear") -> FeatureExtractor:
    """pytorch-fid's FID Inception as a `FeatureExtractor` (2048-d pool3 features).

    Images in `[-1, 1]`, `(N, H, W, 3)` or gray `(N, H, W, 1)`, are resized
    to 299x299 (see `preprocess_for_fid_inception`) and mapped to the features
    pytorch-fid computes, so `frechet_distance` of them is pytorch-fid's FID.

    Args:
        weights: `None`: pytorch-fid's weights, converted once and cached in
            `keras_gans.utils.files.cache_dir("extractors")`; the `.pth` is
            taken from there or torch's hub cache, else downloaded from
            `FID_WEIGHTS_URL` and checked (its sha256 must start with
            `6726825d`, as its name says). A path: a pytorch-fid `.pth` state
            dict (converted and cached, keyed by its sha256) or a converted
            `.weights.h5`. `"random"`: random weights (tests, benchmarks).
        resize: `"bilinear"` (pytorch-fid's resize; name `"fid_inception"`)
            or `"clean"` (clean-fid's PIL bicubic; name `"fid_inception_clean"`).

    Returns:
        A `FeatureExtractor`; its `fingerprint()` covers the weights' sha256
        (of the `.pth` a cached conversion came from) and the resize mode.

    Example:

    ```python
    extractor = fid_inception_v3()
    fid = frechet_inception_distance(x_test, fake, extractor=extractor)
    ```
    """
    if resize not in RESIZE_MODES:
        raise ValueError(f"`resize` must be one of {RESIZE_MODES}; got {resize!r}.")
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"`weights` must be None, 'random' or a file path; got {weights!r}.")
    model = _build([])
    identity = "random"
    if weights != "random":
        path = os.fspath(weights) if weights is not None else _pretrained_weights()
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"`weights`: no such file {path!r}; expected None (pytorch-fid's "
                f"weights), 'random', a `.pth` state dict or a `.weights.h5` file."
            )
        if not path.endswith(".weights.h5"):
            path = convert_pytorch_fid_weights(path)
        model.load_weights(path)
        converted = re.fullmatch(
            r"fid_inception-v\d+-([0-9a-f]{64})\.weights\.h5", os.path.basename(path)
        )
        identity = f"sha256={converted.group(1) if converted else file_sha256(path)}"
    return FeatureExtractor(
        model,
        name="fid_inception" if resize == "bilinear" else "fid_inception_clean",
        preprocess=functools.partial(preprocess_for_fid_inception, resize=resize),
        channels=(1, 3),
        identity=f"pytorch-fid inception|{identity}|resize={resize}",
    )


register_extractor("fid_inception", fid_inception_v3)

"""The network-pickle reader: NVIDIA's fixtures, exactness against PyTorch, refusals.

The reader runs nothing from a pickle and needs no PyTorch; PyTorch here only writes the
reference pickles (it is in the dev dependencies).
"""

import io
import os
import pathlib
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from keras_gans.convert.pickle_reader import (
    NetworkPickleError,
    PersistentRecord,
    read_network_pickle,
)
from tests import helpers

FIXTURES = pathlib.Path(helpers.SHARED_FIXTURES)
NETWORK_PICKLES = [
    "stylegan2-ada/cond32-rgb.pkl",
    "stylegan2-ada/uncond64-rgb.pkl",
    "stylegan3/t32-rgb.pkl",
    "stylegan3/r32-cond.pkl",
]
NEVER_RUN = "raise SystemExit('the embedded source must never run')\n"


def _fixture(name):
    return pathlib.Path(helpers.shared_fixture(name))


def _mapping(record, z, c):
    """NVIDIA's MappingNetwork.forward (psi=1, one w) in NumPy, from the record's own data."""

    def dense(layer, x):
        w = layer.parameters["weight"] * layer.attributes["weight_gain"]
        x = x @ w.T + layer.parameters["bias"] * layer.attributes["bias_gain"]
        if layer.attributes["activation"] == "lrelu":
            x = np.where(x >= 0, x, 0.2 * x) * np.sqrt(2)
        return x

    def normalize(x):
        return x / np.sqrt(np.mean(np.square(x), axis=1, keepdims=True) + 1e-8)

    x = normalize(z.astype(np.float64))
    if record.attributes["c_dim"] > 0:
        x = np.concatenate([x, normalize(dense(record.child("embed"), c))], axis=1)
    for index in range(record.attributes["num_layers"]):
        x = dense(record.child(f"fc{index}"), x)
    return x


@pytest.mark.parametrize("name", NETWORK_PICKLES)
def test_nvidia_fixture_reads_as_records(name):
    path = _fixture(name)
    data = read_network_pickle(path)
    assert {"G", "D", "G_ema", "training_set_kwargs"} <= set(data)
    assert data["augment_pipe"] is None
    assert [data[k].class_name for k in ("G", "D", "G_ema")] == [
        "Generator",
        "Discriminator",
        "Generator",
    ]
    G = data["G_ema"]
    assert isinstance(G, PersistentRecord) and "class Generator" in G.module_src
    kwargs = G.init_kwargs
    assert {"z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"} <= set(kwargs)
    assert kwargs.w_dim == kwargs["w_dim"] == G.attributes["w_dim"]
    mapping = G.child("mapping")
    assert mapping.buffers["w_avg"].shape == (kwargs["w_dim"],)
    assert mapping.buffers["w_avg"].dtype == np.float32

    # Shapes hang together: fc0 takes z and the embedded label (w_dim wide when c_dim > 0).
    weights = G.state_dict()
    z_dim, c_dim, w_dim = kwargs["z_dim"], kwargs["c_dim"], kwargs["w_dim"]
    assert weights["mapping.fc0.weight"].shape == (w_dim, z_dim + (w_dim if c_dim else 0))
    assert ("mapping.embed.weight" in weights) == (c_dim > 0)
    if c_dim:
        assert weights["mapping.embed.weight"].shape == (w_dim, c_dim)
    G_train = data["G"].state_dict()
    assert {k: v.shape for k, v in G_train.items()} == {k: v.shape for k, v in weights.items()}
    assert all(v.flags.c_contiguous and v.flags.writeable for v in weights.values())

    # The values too: the mapping network in NumPy gives NVIDIA's `ws` and `ws_psi07`.
    reference = np.load(path.with_name(path.stem + "-reference.npz"))
    w = _mapping(mapping, reference["z"], reference["c"])
    np.testing.assert_allclose(w, reference["ws"][:, 0], rtol=1e-4, atol=1e-5)
    w_avg = mapping.buffers["w_avg"]
    np.testing.assert_allclose(
        w_avg + 0.7 * (w - w_avg), reference["ws_psi07"][:, 0], rtol=1e-4, atol=1e-5
    )


def test_records_navigate_and_describe_themselves():
    G = read_network_pickle(_fixture(NETWORK_PICKLES[0]))["G_ema"]
    layer = G.child("synthesis.b4.conv1")
    assert layer.class_name == "SynthesisLayer"
    assert G.child("synthesis").child("b4.conv1") is layer
    assert list(layer.state_dict()) == [
        k.removeprefix("synthesis.b4.conv1.")
        for k in G.state_dict()
        if k.startswith("synthesis.b4.conv1.")
    ]
    with pytest.raises(NetworkPickleError, match=r"has no child 'b9'.*children: .*b4"):
        G.child("synthesis.b9.conv1")
    text = repr(G)
    assert "Generator" in text and "synthesis" in text and "mapping" in text


# --- exactness against PyTorch, on records pickled the way NVIDIA's persistence does -----------


@pytest.fixture
def nvidia_modules(monkeypatch):
    """Stand-ins for `torch_utils.persistence` and `dnnlib.util`, so pickles name them."""

    def _reconstruct_persistent_obj(meta):  # pickled by name only; the reader never calls it
        raise AssertionError("the pickle's own hook ran")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    EasyDict = type("EasyDict", (dict,), {"__module__": "dnnlib.util"})
    modules = {
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": types.ModuleType("torch_utils.persistence"),
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.util": types.ModuleType("dnnlib.util"),
    }
    modules["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    modules["dnnlib.util"].EasyDict = EasyDict
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return types.SimpleNamespace(hook=_reconstruct_persistent_obj, EasyDict=EasyDict)


class _Persistent(torch.nn.Module):
    """Pickles like a class under NVIDIA's `@persistence.persistent_class` (version 6)."""

    record_type = "class"

    def __init__(self, **kwargs):
        super().__init__()
        self._init_args = ()
        self._init_kwargs = sys.modules["dnnlib.util"].EasyDict(kwargs)

    def __reduce__(self):
        state = super().__reduce__()[2]
        meta = dict(
            type=self.record_type,
            version=6,
            module_src=NEVER_RUN,
            class_name=type(self).__name__,
            state=state,
        )
        return (sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (meta,))


class _Layer(_Persistent):
    def __init__(self, seed):
        super().__init__(seed=seed, channels=[3, 4])
        g = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(4, 3, generator=g))
        self.register_parameter("bias", None)  # dropped, as in torch's state_dict
        buffers = {
            "float16_values": torch.randn(5, generator=g).half(),
            "bfloat16_values": torch.randn(2, 3, generator=g).bfloat16(),
            "float64_values": torch.tensor(0.25, dtype=torch.float64),  # zero-dimensional
            "int64_values": torch.arange(-3, 3, dtype=torch.int64),
            "int32_values": torch.arange(6, dtype=torch.int32).reshape(2, 3),
            "int16_values": torch.tensor([-300, 7], dtype=torch.int16),
            "int8_values": torch.tensor([-128, 127], dtype=torch.int8),
            "uint8_values": torch.arange(250, 256, dtype=torch.uint8),
            "bool_values": torch.tensor([True, False, True]),
            "transposed": torch.randn(3, 4, generator=g).T,  # strides (1, 4)
            "sliced": torch.randn(6, 5, generator=g)[2:, 1:4],  # offset 11, strides (5, 1)
            "empty": torch.zeros(0, 3),
        }
        for name, tensor in buffers.items():
            self.register_buffer(name, tensor)
        self.register_buffer("scratch", torch.ones(2), persistent=False)
        self.gain = np.float64(0.5)
        self.size = np.array([36, 36])
        self.activation = "lrelu"


class _Network(_Persistent):
    def __init__(self):
        super().__init__(w_dim=8)
        self.const = torch.nn.Parameter(torch.linspace(-1, 1, 8).reshape(2, 4))
        self.first = _Layer(seed=1)
        self.second = _Layer(seed=2)
        self.add_module("absent", None)
        self.w_dim = 8


def _as_numpy(tensor):
    tensor = tensor.detach()
    return (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()


def test_records_equal_what_torch_holds(nvidia_modules):
    network = _Network()
    data = read_network_pickle(io.BytesIO(pickle.dumps({"G_ema": network, "step": 3})))
    record = data["G_ema"]
    assert data["step"] == 3

    expected = {k: _as_numpy(v) for k, v in network.state_dict().items()}
    got = record.state_dict()
    assert list(got) == list(expected)  # the same names, in torch's order
    for name, value in expected.items():
        assert got[name].dtype == value.dtype, name
        assert got[name].shape == value.shape, name
        assert got[name].tobytes() == np.ascontiguousarray(value).tobytes(), name

    layer = record.child("first")
    assert "scratch" not in layer.buffers and "bias" not in layer.parameters
    assert record.children["absent"] is None
    with pytest.raises(NetworkPickleError, match="absent is None"):
        record.child("absent")
    assert layer.init_kwargs == {"seed": 1, "channels": [3, 4]} and layer.init_kwargs.seed == 1
    assert layer.attributes["gain"] == 0.5 and type(layer.attributes["gain"]) is np.float64
    np.testing.assert_array_equal(layer.attributes["size"], [36, 36])
    assert layer.attributes["activation"] == "lrelu"
    assert "training" not in layer.attributes
    assert not any("hook" in key for key in layer.attributes)
    assert record.attributes == {"w_dim": 8}
    assert record.module_src == NEVER_RUN and record.version == 6


def test_a_record_that_is_not_a_class_is_refused(nvidia_modules):
    layer = _Layer(seed=0)
    layer.record_type = "function"
    with pytest.raises(NetworkPickleError, match="type 'function'.*'class'"):
        read_network_pickle(io.BytesIO(pickle.dumps({"G": layer})))


@pytest.mark.parametrize("core", ["numpy.core", "numpy._core"])
def test_numpy_1_and_2_scalar_names_both_read(core):
    # Protocol 3 names globals as "module\nname\n" text, so the name can be swapped in place.
    data = pickle.dumps({"gain": np.float64(0.5), "size": np.array([36, 36])}, protocol=3)
    assert b"numpy._core.multiarray\nscalar\n" in data
    data = data.replace(b"numpy._core.multiarray\n", f"{core}.multiarray\n".encode())
    assert f"{core}.multiarray\nscalar\n".encode() in data
    got = read_network_pickle(io.BytesIO(data))
    assert type(got["gain"]) is np.float64 and got["gain"] == 0.5
    np.testing.assert_array_equal(got["size"], [36, 36])


def test_the_reader_needs_neither_torch_nor_keras():
    path = _fixture(NETWORK_PICKLES[2])
    code = (
        "import sys\n"
        "from keras_gans.convert.pickle_reader import read_network_pickle\n"
        f"read_network_pickle({str(path)!r})\n"
        "print(sorted({'torch', 'keras'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- refusals and broken files ----------------------------------------------------------------


class _Call:
    """Pickles as a call of `function(*args)`, the shape every pickle payload takes."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return (self.function, self.args)


@pytest.mark.parametrize("function", [os.system, eval], ids=["os.system", "builtins.eval"])
def test_a_payload_is_refused_before_it_runs(tmp_path, function):
    marker = tmp_path / "pwned"
    command = f"touch {marker}" if function is os.system else f"open({str(marker)!r}, 'w')"
    path = tmp_path / "payload.pkl"
    path.write_bytes(pickle.dumps({"G": _Call(function, command)}))
    qualified = f"{function.__module__}.{function.__name__}"  # posix.system on Linux
    with pytest.raises(NetworkPickleError, match="refused") as caught:
        read_network_pickle(path)
    message = str(caught.value)
    assert f"`{qualified}`" in message and "nothing from it was run" in message
    assert str(path) in message and "\n" not in message
    assert not marker.exists()


def test_a_payload_hidden_in_a_tensor_storage_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    inner = b"".join(
        pickle.dumps(part, protocol=2)
        for part in (0x1950A86A20F9469CFC6C, 1001, {}, _Call(os.system, f"touch {marker}"))
    )
    storage = _Call(torch.storage._load_from_bytes, inner)
    with pytest.raises(NetworkPickleError, match="refused.*system"):
        read_network_pickle(io.BytesIO(pickle.dumps({"G": storage})))
    assert not marker.exists()


def test_a_plain_torch_module_is_refused_by_name():
    with pytest.raises(NetworkPickleError, match=r"`torch\.nn\.modules\.linear\.Linear`.*plain"):
        read_network_pickle(io.BytesIO(pickle.dumps({"G": torch.nn.Linear(2, 3)})))


def test_a_truncated_pickle_says_so(tmp_path):
    data = _fixture(NETWORK_PICKLES[0]).read_bytes()
    path = tmp_path / "cut.pkl"
    path.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(NetworkPickleError, match="truncated") as caught:
        read_network_pickle(path)
    assert str(path) in str(caught.value)


def test_files_that_are_not_network_pickles(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("these are not weights\n")
    with pytest.raises(NetworkPickleError, match="not a pickle"):
        read_network_pickle(text)
    with pytest.raises(NetworkPickleError, match="cannot open"):
        read_network_pickle(tmp_path / "missing.pkl")
    with pytest.raises(NetworkPickleError, match="`source` must be a path"):
        read_network_pickle(42)

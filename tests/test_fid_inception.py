"""The Keras FID Inception against pytorch-fid's own network, on every backend.

pytorch-fid's `InceptionV3` is built with random weights and random
(calibrated) BatchNorm statistics, saved as a `.pth` like its release file,
converted by `keras_gans`, and both networks map the same images to features.
Nothing is downloaded.
"""

import os
import sys
import types

import keras
import numpy as np
import pytest

torch = pytest.importorskip("torch")
# torchvision's CPU-incompatible meta registrations (torchvision::nms) are not needed here.
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)
pytorch_fid_inception = pytest.importorskip("pytorch_fid.inception")
pytorch_fid_score = pytest.importorskip("pytorch_fid.fid_score")

from keras_gans.metrics import fid_inception as fi  # noqa: E402
from keras_gans.metrics import (  # noqa: E402
    frechet_distance,
    get_feature_extractor,
    preprocess_for_fid_inception,
)


def _relative_error(ours, reference):
    """max |ours - reference| / max |reference|."""
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


def _pytorch_fid_network(seed):
    """pytorch-fid's InceptionV3 (pool3, resize, [0, 1] input) with random weights.

    Returns `(wrapper, inception)`: the `InceptionV3` module and the patched
    torchvision `Inception3` whose state dict pytorch-fid's `.pth` holds.
    """
    built = []
    build = pytorch_fid_inception._inception_v3

    def record(*args, **kwargs):
        built.append(build(*args, **kwargs))
        return built[-1]

    def no_download(*args, **kwargs):
        return built[-1].state_dict()  # Its own random weights.

    torch.manual_seed(seed)
    patched = {"_inception_v3": record, "load_state_dict_from_url": no_download}
    saved = {name: getattr(pytorch_fid_inception, name) for name in patched}
    try:
        for name, value in patched.items():
            setattr(pytorch_fid_inception, name, value)
        wrapper = pytorch_fid_inception.InceptionV3(
            [3], resize_input=True, normalize_input=True
        ).eval()
    finally:
        for name, value in saved.items():
            setattr(pytorch_fid_inception, name, value)
    inception = built[-1]
    generator = torch.Generator().manual_seed(seed)
    batch_norms = [m for m in inception.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in batch_norms:
            bn.weight.copy_(0.5 + torch.rand(bn.weight.shape, generator=generator))
            bn.bias.copy_(0.2 * torch.randn(bn.bias.shape, generator=generator))
            bn.reset_running_stats()
            bn.momentum = None  # Running statistics: the average over the calibration.
        # Random but calibrated running statistics, so activations neither explode nor die.
        wrapper.train()
        wrapper(torch.rand((4, 3, 299, 299), generator=generator))
        wrapper.eval()
        for bn in batch_norms:  # Move them off the batch statistics too.
            bn.running_mean.add_(0.05 * torch.randn(bn.running_mean.shape, generator=generator))
            bn.running_var.mul_(0.8 + 0.4 * torch.rand(bn.running_var.shape, generator=generator))
    return wrapper, inception


def _torch_features(wrapper, images):
    x = np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images
    x = torch.from_numpy(np.ascontiguousarray((x.transpose(0, 3, 1, 2) + 1.0) / 2.0))
    with torch.no_grad():
        return wrapper(x.float())[0].squeeze(-1).squeeze(-1).double().numpy()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A random pytorch-fid network, its .pth and its features of two image sets."""
    folder = tmp_path_factory.mktemp("fid_inception")
    wrapper, inception = _pytorch_fid_network(seed=0)
    path = str(folder / "random_fid_inception.pth")
    torch.save(inception.state_dict(), path)
    rng = np.random.default_rng(0)
    color = rng.uniform(-1, 1, (5, 64, 64, 3)).astype("float32")
    gray = rng.uniform(-1, 1, (5, 28, 28, 1)).astype("float32")
    gray[0] = np.linspace(-1, 1, 28)[:, None, None]  # A smooth one.
    return {
        "path": path,
        "folder": folder,
        "images": {"color": color, "gray": gray},
        "features": {
            "color": _torch_features(wrapper, color),
            "gray": _torch_features(wrapper, gray),
        },
        "state": {k: v.numpy() for k, v in inception.state_dict().items()},
    }


@pytest.fixture(scope="module")
def converted(reference):
    cache = os.path.join(reference["folder"], "cache")
    h5 = fi.convert_pytorch_fid_weights(reference["path"], cache_dir=cache)
    return fi.fid_inception_v3(weights=h5), h5


@pytest.fixture(scope="module")
def our_features(reference, converted):
    extractor, _ = converted
    return {kind: extractor(x, batch_size=5) for kind, x in reference["images"].items()}


def test_features_match_pytorch_fid(reference, our_features):
    for kind, ours in our_features.items():
        expected = reference["features"][kind]
        assert ours.shape == (5, 2048) and ours.dtype == np.float64
        error = _relative_error(ours, expected)
        print(f"{keras.backend.backend()} {kind} max relative error: {error:.2e}")
        assert error < 1e-3, (kind, error)
        assert np.abs(expected).max() > 1e-2  # The random network is not degenerate.


def test_frechet_distance_matches_pytorch_fid(reference, our_features):
    ours = our_features
    theirs = reference["features"]
    # 5 images per set: a well-conditioned Frechet distance needs D < 5 dimensions.
    dims = np.argsort(theirs["color"].var(0) + theirs["gray"].var(0))[-3:]

    def stats(features):
        f = features[:, dims]
        return f.mean(0), np.cov(f, rowvar=False)

    value = frechet_distance(*stats(ours["color"]), *stats(ours["gray"]))
    expected = pytorch_fid_score.calculate_frechet_distance(
        *stats(theirs["color"]), *stats(theirs["gray"])
    )
    print(
        f"{keras.backend.backend()} Frechet distance: ours {value:.8g}, pytorch-fid {expected:.8g}"
    )
    assert value > 0
    np.testing.assert_allclose(value, expected, rtol=2e-3)


def test_conversion_is_cached_and_fingerprinted(reference, converted, tmp_path):
    extractor, h5 = converted
    cache = os.path.dirname(h5)
    assert os.path.basename(h5).endswith(f"{fi.file_sha256(reference['path'])}.weights.h5")
    assert fi.convert_pytorch_fid_weights(reference["path"], cache_dir=cache) == h5
    assert [n for n in os.listdir(cache) if not n.startswith("fid_inception-")] == []
    assert extractor.name == "fid_inception"
    # Other weights (and another resize) give another fingerprint.
    _, other = _pytorch_fid_network(seed=1)
    other_path = str(tmp_path / "other.pth")
    torch.save(other.state_dict(), other_path)
    other_h5 = fi.convert_pytorch_fid_weights(other_path, cache_dir=str(tmp_path))
    fingerprints = {
        extractor.fingerprint(),
        fi.fid_inception_v3(weights=other_h5).fingerprint(),
        fi.fid_inception_v3(weights=h5, resize="clean").fingerprint(),
    }
    assert len(fingerprints) == 3


@pytest.mark.parametrize("legacy", [False, True])
def test_safe_reader_matches_torch_load(reference, tmp_path, legacy):
    state = torch.load(reference["path"], weights_only=True)
    path = str(tmp_path / "state.pth")
    state["strided"] = torch.arange(12.0).reshape(3, 4).t()  # A non-contiguous view.
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    loaded = fi._safe_torch_load(path)
    assert sorted(loaded) == sorted(state)
    for name, tensor in state.items():
        np.testing.assert_array_equal(loaded[name], tensor.numpy(), err_msg=name)


def test_reader_without_torch_matches_torch_load(reference, monkeypatch):
    expected = fi.load_torch_state_dict(reference["path"])
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails.
    loaded = fi.load_torch_state_dict(reference["path"])
    assert sorted(loaded) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_safe_reader_refuses_code(tmp_path):
    path = str(tmp_path / "evil.pth")
    torch.save({"x": torch.zeros(2), "y": types.SimpleNamespace()}, path)
    with pytest.raises(Exception, match="Refusing to load types.SimpleNamespace"):
        fi._safe_torch_load(path)


def test_conversion_errors(reference, tmp_path):
    state = {k: torch.from_numpy(v) for k, v in reference["state"].items()}
    del state["Mixed_6b.branch7x7_2.conv.weight"]
    path = str(tmp_path / "broken.pth")
    torch.save(state, path)
    with pytest.raises(ValueError, match="Mixed_6b.branch7x7_2.conv.weight"):
        fi.convert_pytorch_fid_weights(path, cache_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="weights"):
        fi.fid_inception_v3(weights=str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="resize"):
        fi.fid_inception_v3(weights="random", resize="bicubic")


def test_offline_error_names_the_file_and_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(RuntimeError) as error:
        get_feature_extractor("fid_inception", weights=None)
    message = str(error.value)
    assert fi.FID_WEIGHTS_FILE in message and fi.FID_WEIGHTS_URL in message
    assert str(tmp_path / "cache" / "extractors") in message and "weights=" in message


def test_download_is_checked_against_its_sha256_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    fake = tmp_path / "cache" / "extractors" / fi.FID_WEIGHTS_FILE

    def tampered(fname, origin, cache_dir, cache_subdir):
        assert (fname, origin) == (fi.FID_WEIGHTS_FILE, fi.FID_WEIGHTS_URL)
        fake.parent.mkdir(parents=True, exist_ok=True)
        fake.write_bytes(b"not the weights")
        return str(fake)

    monkeypatch.setattr(keras.utils, "get_file", tampered)
    with pytest.raises(ValueError, match="6726825d"):
        fi.fid_inception_v3()
    assert not fake.exists()  # The corrupt download was removed.


def test_renamed_extractor_points_to_both_names():
    with pytest.raises(ValueError, match="renamed") as error:
        get_feature_extractor("inception_v3")
    assert "'fid_inception'" in str(error.value)
    assert "'inception_v3_imagenet'" in str(error.value)


def test_random_weights_gray_and_color_shapes():
    extractor = get_feature_extractor("fid_inception", weights="random")
    assert extractor is get_feature_extractor("fid_inception", weights="random")
    images = np.random.default_rng(3).uniform(-1, 1, (3, 16, 16, 1)).astype("float32")
    features = extractor(images, batch_size=2)  # Batches of 2 and 1 (padded).
    assert features.shape == (3, 2048) and np.isfinite(features).all()
    np.testing.assert_allclose(
        features, extractor(np.repeat(images, 3, axis=-1), batch_size=3), rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match="channels"):
        extractor(np.zeros((2, 16, 16, 2), "float32"))


def test_bilinear_resize_is_torchs_interpolate():
    images = np.random.default_rng(4).uniform(-1, 1, (2, 37, 300, 3)).astype("float32")
    ours = keras.ops.convert_to_numpy(preprocess_for_fid_inception(images))
    x = torch.from_numpy(images.transpose(0, 3, 1, 2))
    expected = torch.nn.functional.interpolate(
        x, size=(299, 299), mode="bilinear", align_corners=False
    )
    np.testing.assert_allclose(ours, expected.numpy().transpose(0, 2, 3, 1), atol=2e-5)


def test_clean_resize_is_pil_bicubic():
    from PIL import Image

    images = np.random.default_rng(5).uniform(-1, 1, (1, 64, 400, 3)).astype("float32")
    ours = keras.ops.convert_to_numpy(preprocess_for_fid_inception(images, resize="clean"))
    pixels = (images[0] + 1.0) * 127.5  # clean-fid resizes [0, 255] floats channel by channel.
    channels = [
        np.asarray(Image.fromarray(pixels[..., c], mode="F").resize((299, 299), Image.BICUBIC))
        for c in range(3)
    ]
    expected = np.clip(np.stack(channels, axis=-1), 0, 255) / 127.5 - 1.0
    np.testing.assert_allclose(ours[0], expected, atol=1e-4)


def test_default_weights_are_looked_up_in_the_caches(converted, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_download(*args, **kwargs):
        raise AssertionError("nothing should be downloaded")

    monkeypatch.setattr(keras.utils, "get_file", no_download)
    # A .pth in torch's hub cache (where pytorch-fid puts it) is found and checked.
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / fi.FID_WEIGHTS_FILE).write_bytes(b"tampered")
    with pytest.raises(ValueError, match="does not start with 6726825d"):
        fi.fid_inception_v3()
    # A converted file of the official weights is used as is.
    extractor, h5 = converted
    cache = tmp_path / "cache" / "extractors"
    cache.mkdir(parents=True)
    official = cache / f"fid_inception-v1-{fi.FID_WEIGHTS_SHA256_PREFIX}{'0' * 56}.weights.h5"
    official.write_bytes(open(h5, "rb").read())
    loaded = fi.fid_inception_v3()
    for ours, expected in zip(loaded.model.get_weights()[:4], extractor.model.get_weights()[:4]):
        np.testing.assert_array_equal(ours, expected)
    assert loaded.identity == f"pytorch-fid inception|sha256=6726825d{'0' * 56}|resize=bilinear"

"""LPIPS-VGG16 from torchvision's and LPIPS' weight files equals LPIPS computed with torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from keras_gans.convert.lpips import VGG16, lpips_distance, lpips_vgg16
from keras_gans.convert.pickle_reader import NetworkPickleError
from keras_gans.convert.state_dict import read_state_dict


def _weight_files(tmp_path):
    """Random VGG16 and LPIPS weights in the published files' layouts (legacy torch.save)."""
    generator = torch.Generator().manual_seed(0)
    vgg, channels = {}, 3
    for entry in VGG16:
        if entry == "M":
            continue
        index, width = entry
        scale = (2.0 / (channels * 9)) ** 0.5
        vgg[f"features.{index}.weight"] = (
            torch.randn(width, channels, 3, 3, generator=generator) * scale
        )
        vgg[f"features.{index}.bias"] = torch.randn(width, generator=generator) * 0.01
        channels = width
    lin = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1, generator=generator)
           for i, c in enumerate((64, 128, 256, 512, 512))}  # fmt: skip
    torch.save(vgg, tmp_path / "vgg16.pth", _use_new_zipfile_serialization=False)
    torch.save(lin, tmp_path / "vgg.pth")  # zip format
    return vgg, lin


def _torch_lpips(vgg, lin, a, b):
    """LPIPS written out in torch: scaling, VGG16's ReLU taps, normalise, weight, average."""
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def taps(x):
        x, found = (x - shift) / scale, []
        for entry in VGG16:
            if entry == "M":
                x = F.max_pool2d(x, 2)
                continue
            index, _ = entry
            x = F.relu(F.conv2d(x, vgg[f"features.{index}.weight"], vgg[f"features.{index}.bias"],
                                padding=1))  # fmt: skip
            if index in (2, 7, 14, 21, 28):
                found.append(x)
        return found

    total = 0
    for i, (fa, fb) in enumerate(zip(taps(a), taps(b))):
        na = fa / (fa.square().sum(1, keepdim=True).sqrt() + 1e-10)
        nb = fb / (fb.square().sum(1, keepdim=True).sqrt() + 1e-10)
        weighted = F.conv2d((na - nb) ** 2, lin[f"lin{i}.model.1.weight"])
        total = total + weighted.mean(dim=(2, 3))
    return total.reshape(-1).numpy()


def test_lpips_equals_torchs_on_the_published_layouts(tmp_path):
    vgg, lin = _weight_files(tmp_path)
    features = lpips_vgg16(tmp_path / "vgg16.pth", tmp_path / "vgg.pth")
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, 3, 32, 32, 3)).astype("float32")
    expected = _torch_lpips(vgg, lin, *(torch.tensor(x.transpose(0, 3, 1, 2)) for x in (a, b)))
    np.testing.assert_allclose(lpips_distance(features, a, b), expected, rtol=1e-4)
    assert np.allclose(lpips_distance(features, a, a), 0.0)
    assert not features.trainable_weights


def test_state_dicts_refuse_code_and_name_bad_files(tmp_path):
    import os
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    (tmp_path / "evil.pth").write_bytes(pickle.dumps({"x": Payload()}))
    with pytest.raises(NetworkPickleError, match="refused"):
        read_state_dict(tmp_path / "evil.pth")
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(FileNotFoundError):
        read_state_dict(tmp_path / "missing.pth")
    torch.save({"lin0.model.1.weight": torch.ones(1, 3, 1, 1)}, tmp_path / "wrong.pth")
    _weight_files(tmp_path)
    with pytest.raises(ValueError, match="lin0.model.1.weight of 64"):
        lpips_vgg16(tmp_path / "vgg16.pth", tmp_path / "wrong.pth")

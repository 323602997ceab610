"""Names for NVIDIA's published network pickles: plain data (URL, resolution, classes, license).

`keras_gans.StyleGAN2.from_nvlabs("nvlabs:ffhq")`,
`keras_gans.StyleGAN3.from_nvlabs("nvlabs:stylegan3-t-ffhq-1024")`, `keras-gans convert
nvlabs:ffhq` and `keras-gans sample nvlabs:ffhq` look names up here (a preset's `family`
says which model converts it). The weights are NVIDIA's and stay under NVIDIA's licence
(non-commercial), not keras-gans' Apache-2.0.

Example:

```python
from keras_gans.convert import presets

presets.lookup("nvlabs:afhqcat")["resolution"]     # 512
sorted(presets.NVLABS_STYLEGAN2)                   # every StyleGAN2-ADA name
presets.lookup("nvlabs:stylegan3-r-afhqv2-512")["family"]     # "stylegan3"
```
"""

from __future__ import annotations

PREFIX = "nvlabs:"

ADA_LICENSE = {
    "name": "NVIDIA Source Code License for StyleGAN2 with Adaptive Discriminator "
    "Augmentation (ADA)",
    "id": "nvidia-source-code-license",
    "url": "https://nvlabs.github.io/stylegan2-ada-pytorch/license.html",
    "terms": "non-commercial use only (research or evaluation); not Apache-2.0",
}
ADA_CITATION = (
    "Karras, Aittala, Hellsten, Laine, Lehtinen and Aila, "
    '"Training Generative Adversarial Networks with Limited Data", NeurIPS 2020'
)
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

_ADA = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/"
_TRANSFER = _ADA + "transfer-learning-source-nets/"


def _ada(file, resolution, dataset, description, classes=None):
    return {
        "url": (_ADA if "/" not in file else "") + file,
        "family": "stylegan2",
        "resolution": resolution,
        "dataset": dataset,
        "classes": list(classes) if classes else None,
        "description": description,
        "license": ADA_LICENSE,
        "citation": ADA_CITATION,
    }


# stylegan2-ada-pytorch's README ("Data repository") and train.py's --resume targets.
NVLABS_STYLEGAN2 = {
    "nvlabs:ffhq": _ada(
        "ffhq.pkl", 1024, "FFHQ", "FFHQ at 1024x1024, trained using original StyleGAN2"
    ),  # fmt: skip
    "nvlabs:metfaces": _ada(
        "metfaces.pkl",
        1024,
        "MetFaces",
        "MetFaces at 1024x1024, transfer learning from FFHQ using ADA",
    ),  # fmt: skip
    "nvlabs:afhqcat": _ada(
        "afhqcat.pkl", 512, "AFHQ Cat", "AFHQ Cat at 512x512, trained from scratch using ADA"
    ),  # fmt: skip
    "nvlabs:afhqdog": _ada(
        "afhqdog.pkl", 512, "AFHQ Dog", "AFHQ Dog at 512x512, trained from scratch using ADA"
    ),  # fmt: skip
    "nvlabs:afhqwild": _ada(
        "afhqwild.pkl", 512, "AFHQ Wild", "AFHQ Wild at 512x512, trained from scratch using ADA"
    ),  # fmt: skip
    "nvlabs:brecahad": _ada(
        "brecahad.pkl", 512, "BreCaHAD", "BreCaHAD at 512x512, trained from scratch using ADA"
    ),  # fmt: skip
    "nvlabs:cifar10": _ada(
        "cifar10.pkl", 32, "CIFAR-10", "Class-conditional CIFAR-10 at 32x32", CIFAR10_CLASSES
    ),  # fmt: skip
    "nvlabs:ffhq256": _ada(
        _TRANSFER + "ffhq-res256-mirror-paper256-noaug.pkl",
        256,
        "FFHQ",
        "FFHQ at 256x256 (paper256 config), ADA's transfer-learning source",
    ),  # fmt: skip
    "nvlabs:ffhq512": _ada(
        _TRANSFER + "ffhq-res512-mirror-stylegan2-noaug.pkl",
        512,
        "FFHQ",
        "FFHQ at 512x512, ADA's transfer-learning source",
    ),  # fmt: skip
    "nvlabs:ffhq1024": _ada(
        _TRANSFER + "ffhq-res1024-mirror-stylegan2-noaug.pkl",
        1024,
        "FFHQ",
        "FFHQ at 1024x1024, ADA's transfer-learning source",
    ),  # fmt: skip
    "nvlabs:celebahq256": _ada(
        _TRANSFER + "celebahq-res256-mirror-paper256-kimg100000-ada-target0.5.pkl",
        256,
        "CelebA-HQ",
        "CelebA-HQ at 256x256, ADA's transfer-learning source",
    ),  # fmt: skip
    "nvlabs:lsundog256": _ada(
        _TRANSFER + "lsundog-res256-paper256-kimg100000-noaug.pkl",
        256,
        "LSUN Dog",
        "LSUN Dog at 256x256, ADA's transfer-learning source",
    ),  # fmt: skip
}

SG3_LICENSE = {
    "name": "NVIDIA Source Code License for StyleGAN3",
    "id": "nvidia-source-code-license",
    "url": "https://github.com/NVlabs/stylegan3/blob/main/LICENSE.txt",
    "terms": "non-commercial use only (research or evaluation); not Apache-2.0",
}
SG3_CITATION = (
    "Karras, Aittala, Laine, Harkonen, Hellsten, Lehtinen and Aila, "
    '"Alias-Free Generative Adversarial Networks", NeurIPS 2021'
)
_SG3 = "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan3/versions/1/files/"
_SG3_DATASETS = {
    "ffhq": ("FFHQ", "FFHQ"),
    "ffhqu": ("FFHQ-U", "FFHQ-U (unaligned FFHQ)"),
    "metfaces": ("MetFaces", "MetFaces"),
    "metfacesu": ("MetFaces-U", "MetFaces-U (unaligned MetFaces)"),
    "afhqv2": ("AFHQv2", "AFHQv2 (cats, dogs and wild animals together)"),
}


def _sg3(config, dataset, resolution):
    name, described = _SG3_DATASETS[dataset]
    kind = "translation" if config == "t" else "translation and rotation"
    return {
        "url": f"{_SG3}stylegan3-{config}-{dataset}-{resolution}x{resolution}.pkl",
        "family": "stylegan3",
        "resolution": resolution,
        "dataset": name,
        "classes": None,
        "description": f"StyleGAN3-{config.upper()} ({kind} equivariant) on {described} at "
        f"{resolution}x{resolution}",
        "license": SG3_LICENSE,
        "citation": SG3_CITATION,
    }


# NVlabs/stylegan3's README ("Pretrained networks").
NVLABS_STYLEGAN3 = {
    f"nvlabs:stylegan3-{config}-{dataset}-{resolution}": _sg3(config, dataset, resolution)
    for config in ("t", "r")
    for dataset, resolution in (("ffhq", 1024), ("ffhqu", 1024), ("ffhqu", 256),
                                ("metfaces", 1024), ("metfacesu", 1024), ("afhqv2", 512))
}  # fmt: skip

PRESETS = {**NVLABS_STYLEGAN2, **NVLABS_STYLEGAN3}


def is_preset_name(name) -> bool:
    """Whether `name` is written as a preset name (`nvlabs:...`), known or not."""
    return isinstance(name, str) and name.startswith(PREFIX)


def lookup(name: str) -> dict:
    """The preset called `name` (a copy), or a clear error listing the known names.

    Args:
        name: e.g. `"nvlabs:ffhq"`.
    """
    if name not in PRESETS:
        known = ", ".join(sorted(PRESETS))
        raise ValueError(f"Unknown pretrained name {name!r}. Known names: {known}.")
    return {**PRESETS[name], "name": name}


def preset_for_url(url: str) -> dict | None:
    """The preset whose URL is `url`, or None (a pickle given by URL keeps its card facts)."""
    for name, preset in PRESETS.items():
        if preset["url"] == url:
            return {**preset, "name": name}
    return None

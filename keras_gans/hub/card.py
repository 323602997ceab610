"""The README.md model card `push_to_hub` writes: YAML metadata and a body built from the model.

Everything the card says comes from the model itself (class, shapes, loss,
optimizers and their configs, optimizer steps, seed, backend, versions) or
from what the caller passes: the dataset, a `training_info` dict (epochs,
batch size, ...) and measured `metrics` (FID/KID with the feature extractor
and sample count).
"""

from __future__ import annotations

import json
import os
import re

import keras

from keras_gans.utils.version import VERSION

UNCONDITIONAL_TAG = "unconditional-image-generation"
CONDITIONAL_TAG = "class-conditional-image-generation"
TRANSLATION_TAG = "image-to-image"
_NETWORKS = (
    "generator",
    "discriminator",
    "generator_ab",
    "generator_ba",
    "discriminator_a",
    "discriminator_b",
)


def is_translation(model) -> bool:
    """Whether `model` translates images (Pix2Pix, CycleGAN) rather than generating them."""
    return hasattr(model, "translate") and not hasattr(model, "generate")


def task_tag(model) -> str:
    """The Hub task of `model`: image-to-image, or (class-)conditional generation."""
    if is_translation(model):
        return TRANSLATION_TAG
    return UNCONDITIONAL_TAG if model.num_classes is None else CONDITIONAL_TAG


# Keys of `metrics` that describe how the numbers were measured, not numbers to report.
_METRIC_CONTEXT = ("feature_extractor", "num_samples", "reference", "resize", "protocol")
_METRIC_NAMES = {
    "fid": "FID",
    "kid": "KID",
    "is": "Inception Score",
    "precision": "Precision",
    "recall": "Recall",
    "fd_digits": "Frechet distance (digit-classifier features, not FID)",
    "kd_digits": "Kernel distance (digit-classifier features, not KID)",
}
# Optimizer config entries left out of the one-line summary (the full config is shown too).
_QUIET_OPTIMIZER_KEYS = {"name", "ema_momentum", "ema_overwrite_frequency"}
_SETTING_NAMES = {"batch_size": "Batch size", "d_steps": "D steps per G step"}


# Names the community spells one way; others follow CamelCase -> kebab-case.
_TYPE_TAGS = {
    "StyleGAN2": "stylegan2",
    "R3GAN": "r3gan",
    "WGANGP": "wgan-gp",
    "CycleGAN": "cyclegan",
    "Pix2Pix": "pix2pix",
}


def model_type_tag(model) -> str:
    """The class name as a Hub tag: `DCGAN` -> `dcgan`, `ConditionalGAN` -> `conditional-gan`."""
    name = type(model).__name__
    return _TYPE_TAGS.get(name) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def card_tags(model) -> list[str]:
    """`keras-gans`, `gan`, the model type and the kind of generation, without repeats."""
    tags = ["keras-gans", "gan", model_type_tag(model), task_tag(model)]
    return list(dict.fromkeys(tags))


def describe_optimizer(optimizer) -> str:
    """One line such as `Adam(learning_rate=0.0002, beta_1=0.5, beta_2=0.999, epsilon=1e-07)`.

    A `LossScaleOptimizer` reads as its inner optimizer plus "with dynamic loss scaling".
    """
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        return f"{describe_optimizer(inner)} with dynamic loss scaling"
    config = optimizer.get_config()
    parts = []
    for key, value in config.items():
        if key in _QUIET_OPTIMIZER_KEYS or value is None or value is False:
            continue
        parts.append(f"{key}={format_value(value)}")
    return f"{type(optimizer).__name__}({', '.join(parts)})"


def format_value(value) -> str:
    """Short text for a table cell: 6 significant digits, schedules by class name."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict) and "class_name" in value:
        return str(value["class_name"])
    if isinstance(value, (list, tuple)):
        return "x".join(map(str, value)) if all(isinstance(v, int) for v in value) else str(value)
    return str(value)


def training_settings(model, dataset=None, training_info=None) -> dict:
    """What is known about training: from the model, then `training_info` on top.

    From the model: backend, optimizer steps (`optimizer.iterations`), seed of
    the training noise, loss, discriminator steps per generator step, label
    smoothing, and both optimizers. The caller's `training_info` (e.g.
    `{"epochs": 50, "batch_size": 128}`) adds to these and wins on conflicts.
    """
    settings = {}
    if dataset:
        settings["dataset"] = dataset
    settings["backend"] = keras.backend.backend()
    policy = getattr(getattr(model, "dtype_policy", None), "name", "float32")
    if policy != "float32":
        settings["precision"] = policy
    if getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None:
        settings["steps"] = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if getattr(model, "seed", None) is not None:
        settings["seed"] = model.seed
    if hasattr(model, "gan_loss"):
        settings["loss"] = getattr(model.gan_loss, "name", None) or type(model.gan_loss).__name__
        settings["d_steps"] = model.d_steps
        settings["label_smoothing"] = model.label_smoothing
    for label, attribute in (
        ("generator_optimizer", "g_optimizer"),
        ("discriminator_optimizer", "d_optimizer"),
    ):
        optimizer = getattr(model, attribute, None)
        if optimizer is not None:
            settings[label] = describe_optimizer(optimizer)
    settings.update(training_info or {})
    return settings


def _readable(value):
    """Floats rounded to 7 significant digits (float32 noise such as 0.00039999998 gone)."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, dict):
        return {key: _readable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_readable(item) for item in value]
    return value


def _optimizer_configs(model) -> dict:
    configs = {}
    for label, attribute in (("generator", "g_optimizer"), ("discriminator", "d_optimizer")):
        optimizer = getattr(model, attribute, None)
        if optimizer is not None:
            configs[label] = _readable(keras.optimizers.serialize(optimizer))
    return configs


def _table(header, rows) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def _setting_name(key: str) -> str:
    return _SETTING_NAMES.get(key, key.replace("_", " ").capitalize())


# Metrics computed from features: the extractor, sample count and reference are their protocol.
_FEATURE_METRICS = ("fid", "kid", "fd_", "kd_", "precision", "recall", "density", "coverage")
_FEATURE_CONTEXT = ("feature_extractor", "num_samples", "reference", "resize")
# Decimals each metric is measured to (a value is not published with float noise).
_DECIMALS = {"fid": 2, "fd_": 2, "kid": 4, "kd_": 4, "psnr": 2, "l1": 4, "ssim": 4}


def rounded_metric(key: str, value):
    """`value` rounded to what the metric resolves (FID 2 decimals, KID 4, rates 3)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    decimals = next((d for prefix, d in _DECIMALS.items() if key.lower().startswith(prefix)), 3)
    return round(float(value), decimals)


def metric_protocol(key: str, metrics: dict) -> dict:
    """How the metric `key` of `metrics` was measured: its own protocol, not another's.

    Feature distances carry the extractor, sample count and reference; other metrics
    (label agreement, L1, PSNR, ...) the `protocols[key]` text, or the run's `protocol`.
    """
    texts = metrics.get("protocols") or {}
    if key in texts:
        return {"protocol": texts[key]}
    if key.lower().startswith(_FEATURE_METRICS):
        context = {k: metrics[k] for k in _FEATURE_CONTEXT if metrics.get(k) is not None}
        if context:
            return context
    return {"protocol": metrics["protocol"]} if metrics.get("protocol") else {}


def _describe_protocol(protocol: dict) -> str:
    if set(protocol) == {"protocol"}:
        return str(protocol["protocol"])
    return ", ".join(f"{_setting_name(k).lower()}: {format_value(v)}" for k, v in protocol.items())


def _measured(metrics):
    return [
        (key, value)
        for key, value in metrics.items()
        if key not in _METRIC_CONTEXT and key != "protocols" and not isinstance(value, dict)
    ]


def _metric_rows(metrics):
    return [
        (_METRIC_NAMES.get(key.lower(), key), format_value(rounded_metric(key, value)),
         _describe_protocol(metric_protocol(key, metrics)))
        for key, value in _measured(metrics)
    ]  # fmt: skip


def _eval_results(model, metrics, dataset, model_name):
    """Numeric metrics as `model-index` entries (the Hub needs a dataset for those)."""
    from huggingface_hub import EvalResult

    kind = task_tag(model)
    results = []
    for key, value in _measured(metrics):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        # How this number was measured, published beside it.
        protocol = metric_protocol(key, metrics)
        results.append(
            EvalResult(
                task_type=kind,
                task_name=kind.replace("-", " ").capitalize(),
                dataset_type=dataset,
                dataset_name=dataset,
                metric_type=key.lower(),
                metric_name=_METRIC_NAMES.get(key.lower(), key),
                metric_value=rounded_metric(key, value),
                metric_config=protocol.get("feature_extractor"),
                metric_args=protocol or None,
            )
        )
    return results


def make_model_card(
    model,
    *,
    repo_id: str | None = None,
    dataset: str | None = None,
    training_info: dict | None = None,
    metrics: dict | None = None,
    include_optimizer: bool = False,
    grid_file: str = "samples.png",
    grid_caption: str = "",
):
    """Builds the model card of `model` as a `huggingface_hub.ModelCard`.

    Args:
        model: the `keras_gans.BaseGAN` being shared.
        repo_id: `owner/name` used in the usage snippet; a placeholder if None.
        dataset: name or Hub id of the training dataset, e.g. `"mnist"`.
        training_info: extra training settings to list, e.g. `{"epochs": 50,
            "batch_size": 128}`; they override what the model knows.
        metrics: measured metrics, e.g. `{"fid": 12.3, "kid": 0.011,
            "feature_extractor": "fid_inception", "num_samples": 10000}`.
        include_optimizer: whether the upload carries the optimizer state.
        grid_file: path, inside the repo, of the sample grid image.
        grid_caption: text under the sample grid.

    Returns:
        A `huggingface_hub.ModelCard`; `card.save("README.md")` writes it.

    Example:

    ```python
    card = make_model_card(gan, repo_id="me/dcgan-mnist", dataset="mnist",
                           training_info={"epochs": 50, "batch_size": 128})
    print(card.data.tags)   # ['keras-gans', 'gan', 'dcgan', 'unconditional-image-generation']
    ```
    """
    from huggingface_hub import ModelCard, ModelCardData

    metrics = dict(metrics or {})
    class_name = type(model).__name__
    shown_repo = repo_id or "OWNER/NAME"
    model_name = repo_id.split("/")[-1] if repo_id else class_name
    eval_results = _eval_results(model, metrics, dataset, model_name) if dataset else []
    source = getattr(model, "pretrained_source", None) or {}
    data = ModelCardData(
        **_license_fields(source),
        library_name="keras",
        pipeline_tag=TRANSLATION_TAG if is_translation(model) else UNCONDITIONAL_TAG,
        tags=card_tags(model),
        datasets=[dataset] if dataset else None,
        model_name=model_name if eval_results else None,
        eval_results=eval_results or None,
    )
    conditional = getattr(model, "num_classes", None) is not None
    trained = f", trained on **{dataset}**" if dataset else ""
    if is_translation(model):
        shapes = ", ".join(f"{key} {format_value(value)}" for key, value in _shapes(model))
        summary = f"A keras-gans {class_name} translating images ({shapes}){trained}."
    else:
        height, width, channels = model.image_shape
        what = f"{class_name} generating {height}x{width}x{channels} images"
        if conditional:
            what += f" of {model.num_classes} classes"
        summary = (
            f"A keras-gans {what}{trained}, from {model.latent_dim}-dimensional latent vectors."
        )
    sections = [
        f"# {model_name}",
        f"{summary} It runs on JAX, TensorFlow and PyTorch (Keras 3).",
        f"![Samples]({grid_file})",
    ]
    if grid_caption:
        sections.append(f"*{grid_caption}*")
    if not grid_file:
        sections.remove("![Samples]()")
    if source:
        sections += ["## Source and license", source_section(source)]
    usage = (
        _translation_usage(shown_repo, class_name, model.directions)
        if is_translation(model)
        else _usage(shown_repo, class_name, conditional)
    )
    sections += ["## Usage", usage]
    sections += ["## Model", _table(("", ""), _model_rows(model, include_optimizer))]
    settings = training_settings(model, dataset, training_info)
    sections += [
        "## Training",
        _table(
            ("Setting", "Value"),
            [(_setting_name(key), format_value(value)) for key, value in settings.items()],
        ),
    ]
    configs = _optimizer_configs(model)
    if configs:
        sections.append(
            "<details><summary>Optimizer configs</summary>\n\n```json\n"
            + json.dumps(configs, indent=2)
            + "\n```\n\n</details>"
        )
    rows = _metric_rows(metrics)
    if rows:
        lines = ["| Metric | Value | Measured with |", "| --- | --- | --- |"]
        lines += [f"| {name} | {value} | {protocol} |" for name, value, protocol in rows]
        sections += ["## Metrics", "\n".join(lines)]
    sections.append(
        f"*Card generated by keras-gans {VERSION} with Keras "
        f"{keras.__version__} on the {keras.backend.backend()} backend.*"
    )
    content = f"---\n{data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n"
    return ModelCard(content)


def _license_fields(source) -> dict:
    """YAML `license` fields for converted weights with a known licence (else none)."""
    license_ = source.get("license")
    if not license_:
        return {}
    return {"license": "other", "license_name": license_.get("id", "other"),
            "license_link": license_.get("url")}  # fmt: skip


def source_section(source: dict) -> str:
    """The card text naming where converted weights came from and under which licence.

    Args:
        source: a model's `pretrained_source` (see `keras_gans.StyleGAN2.from_nvlabs`).
    """
    origin = source.get("url") or os.path.basename(source.get("path") or "") or "a local file"
    lines = [f"Converted by keras-gans from NVIDIA's network pickle `{origin}`"]
    if source.get("name"):
        lines[0] += f" (`{source['name']}`)"
    lines[0] += (
        ", without running any code from it (keras-gans' tests hold converted outputs to "
        "NVIDIA's within 1e-3)."
    )
    facts = [("Source", f"<{origin}>" if source.get("url") else f"`{origin}`")]
    for key, label in (("description", "Description"), ("dataset", "Training data"),
                       ("resolution", "Resolution"), ("channels", "Channels")):  # fmt: skip
        if source.get(key) is not None:
            facts.append((label, format_value(source[key])))
    classes = source.get("classes")
    if classes and any(str(name) != str(index) for index, name in enumerate(classes)):
        named = ", ".join(f"{index}: {name}" for index, name in enumerate(classes))
        facts.append(("Classes (label: name)", named))
    license_ = source.get("license") or {}
    if license_:
        link = (
            f"[{license_['name']}]({license_['url']})" if license_.get("url") else license_["name"]
        )
        facts.append(("License of the weights", link))
        if license_.get("terms"):
            facts.append(("Terms", license_["terms"]))
    if source.get("citation"):
        facts.append(("Cite", source["citation"]))
    text = lines[0] + "\n\n" + _table(("", ""), facts)
    if license_:
        text += (
            "\n\nThe weights are NVIDIA's and remain under NVIDIA's licence above; keras-gans' "
            "Apache-2.0 licence covers only the keras-gans code, not these weights."
        )
    return text


def _shapes(model):
    return [(key, value) for key, value in model.get_config().items() if key.endswith("_shape")
            or key in ("shape_a", "shape_b")]  # fmt: skip


def _model_rows(model, include_optimizer):
    rows = [("Class", f"`keras_gans.{type(model).__name__}`")]
    if is_translation(model):
        rows += [(_setting_name(key), format_value(tuple(value))) for key, value in _shapes(model)]
    else:
        rows += [
            ("Latent dimension", model.latent_dim),
            ("Image shape", format_value(tuple(model.image_shape))),
        ]
        if model.num_classes is not None:
            rows.append(("Classes", model.num_classes))
    for name in _NETWORKS:
        network = getattr(model, name, None)
        if network is not None:
            rows.append((f"{_setting_name(name)} parameters", f"{network.count_params():,}"))
    rows.append(("Optimizer state included", format_value(bool(include_optimizer))))
    return rows


def _translation_usage(repo_id, class_name, directions):
    direction = f', direction="{directions[0]}"' if directions and directions[0] else ""
    return (
        "```python\nimport keras_gans\n\n"
        f'model = keras_gans.from_pretrained("hf://{repo_id}")   # a {class_name}\n'
        f"outputs = model.translate(images{direction})   # images in [-1, 1]\n```"
    )


def _usage(repo_id, class_name, conditional):
    generate = (
        "images = gan.generate(labels=[0, 1, 2, 3], seed=0)   # one image per label"
        if conditional
        else "images = gan.generate(16, seed=0)   # float32 in [-1, 1]"
    )
    labels = " --labels 0,1,2" if conditional else ""
    return (
        "```python\nimport keras_gans\n\n"
        f'gan = keras_gans.from_pretrained("hf://{repo_id}")   # a {class_name}\n'
        f"{generate}\n```\n\n"
        f'With `keras_gans` imported, `keras.saving.load_model("hf://{repo_id}")` works too. '
        "From the shell:\n\n"
        f"```bash\nkeras-gans sample {repo_id} --num 64 --out grid.png{labels}\n```"
    )

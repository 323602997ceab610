"""`evaluate` a run folder, a saved model folder or a Hub repo; `load_run_model`."""

from __future__ import annotations

import os

from keras_gans import callbacks as gan_callbacks
from keras_gans import hub
from keras_gans.data import builtin
from keras_gans.data.reference import reference_images
from keras_gans.metrics import digits_classifier, extractors
from keras_gans.models import from_pretrained
from keras_gans.runner.run_folder import MODEL_FILE, RUN_FILE, read_run
from keras_gans.runner.summary import card_metrics, label_agreement, named_metrics
from keras_gans.utils.files import read_json


def evaluate(
    source,
    *,
    dataset: str | None = None,
    num_samples: int = 2000,
    extractor: str | None = None,
    seed: int = 0,
) -> dict:
    """Frechet and kernel distances of a run folder, a saved model folder or a Hub repo.

    The real images are the run's training data (or `dataset`), resized to
    the model's image size; the default extractor is the offline digit
    classifier for grayscale models (results `fd_digits`, `kd_digits`) and the
    FID Inception for colour ones (`fid`, `kid`, comparable with papers).

    Args:
        source: a run folder, a `save_pretrained` folder, a `.keras` file or a Hub repo.
        dataset: the real data (default: what the model was trained on).
        num_samples: generated images to compare.
        extractor: a feature extractor name (default as above).
        seed: seed of the generated images.

    Example:

    ```python
    runner.evaluate("runs/dcgan-mnist5k")   # {'fd_digits': ..., 'kd_digits': ..., ...}
    ```
    """
    model, info = load_run_model(source)
    dataset = dataset or info.get("dataset")
    if not dataset:
        raise ValueError(
            f"{os.fspath(source)!r} does not say which data it was trained on; "
            "pass --dataset NAME_OR_FOLDER."
        )
    recipe_info = info.get("recipe") or {}
    channels = model.image_shape[-1]
    extractor = (
        extractor
        or (recipe_info.get("evaluation") or {}).get("extractor")
        or digits_classifier.default_extractor(channels)
    )
    real = builtin.load(dataset, image_size=model.image_shape[:2], dtype="uint8")
    if real.image_shape != model.image_shape:
        raise ValueError(
            f"{dataset!r} holds {real.image_shape} images; the model makes {model.image_shape}."
        )
    callback = gan_callbacks.FrechetDistance(
        reference_images(real),
        num_samples=num_samples,
        extractor=extractors.get_feature_extractor(extractor),
        kid=True,
        seed=seed,
    )
    callback.set_model(model)
    results = named_metrics(callback.evaluate(), callback.extractor.name)
    references = int(min(len(real), 10_000))
    return {
        **{key: float(value) for key, value in results.items()},
        "feature_extractor": callback.extractor.name,
        "num_samples": num_samples,
        "dataset": dataset,
        "reference": f"{references} images of {dataset}",
        "reference_images": references,
        **label_agreement(model, callback.extractor.name),
    }


def load_run_model(source):
    """The model of a run folder (`model.keras`), a `save_pretrained` folder or a Hub repo.

    Returns:
        `(model, info)` where `info` holds `dataset` and, for runs, `recipe`.
    """
    source = os.fspath(source)
    if os.path.isdir(source) and os.path.exists(os.path.join(source, MODEL_FILE)):
        run = read_run(source)
        return from_pretrained(os.path.join(source, MODEL_FILE)), run
    if os.path.isdir(source) and os.path.exists(os.path.join(source, RUN_FILE)):
        raise FileNotFoundError(
            f"{source!r} holds no {MODEL_FILE} yet: its training has not finished "
            "(resume it with `keras-gans train --resume`)."
        )
    model = from_pretrained(source)
    info = {}
    config_path = os.path.join(source, hub.CONFIG_FILE)
    if os.path.isdir(source) and os.path.exists(config_path):
        info["dataset"] = read_json(config_path).get("keras_gans", {}).get("dataset")
    else:
        info["dataset"] = _hub_dataset(source)
    return model, info


def _hub_dataset(repo):
    try:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(hub.repo.repo_id(repo), hub.CONFIG_FILE)
        return read_json(path).get("keras_gans", {}).get("dataset")
    except Exception:
        return None


def run_metrics(run_dir) -> dict:
    """A run's FID/KID for a model card: from `evaluation.json` if made, else from training."""
    path = os.path.join(os.fspath(run_dir), "evaluation.json")
    metrics = read_json(path) if os.path.exists(path) else read_run(run_dir).get("metrics") or {}
    return card_metrics(metrics)

"""What a finished run reports: metrics with their protocol, the model card, the summary."""

from __future__ import annotations

import os
import sys

from keras_gans import callbacks as gan_callbacks
from keras_gans.data import builtin
from keras_gans.hub import card as model_card
from keras_gans.metrics import digits_classifier
from keras_gans.runner import run_folder


def card_metrics(metrics: dict) -> dict:
    """The measured values and their protocol, as a model card publishes them."""
    context = ("feature_extractor", "num_samples", "reference", "protocol", "protocols")
    measured = (
        "fid",
        "kid",
        "fd_",
        "kd_",
        "precision",
        "recall",
        "l1",
        "psnr",
        "ssim",
        "agreement",
    )
    return {
        key: value
        for key, value in metrics.items()
        if key in context or (key.startswith(measured) and not key.endswith("_std"))
    }


def named_metrics(results, extractor_name):
    """FID/KID when measured with the FID Inception; else named for their extractor."""
    rename = digits_classifier.distance_names(extractor_name)
    return {rename.get(key, key): value for key, value in results.items()}


def label_agreement(model, extractor_name, per_class=200) -> dict:
    """`agreement` of a digit-conditional model, with its protocol; else nothing.

    Measured when the run's distances use the offline digit classifier and the
    model makes grayscale images for 10 labels: the share of `10 * per_class`
    samples the classifier reads as the digit asked for.
    """
    if (
        extractor_name != digits_classifier.OFFLINE_EXTRACTOR
        or getattr(model, "num_classes", None) != 10
        or model.image_shape[-1] != 1
    ):
        return {}
    agreement = digits_classifier.label_agreement(
        lambda labels, seed: model.generate(labels=labels, seed=seed), per_class=per_class
    )
    return {
        "agreement": agreement,
        "protocols": {
            "agreement": f"share of {10 * per_class} generated digits ({per_class} per label) "
            f"that the {extractor_name} reads as the digit asked for"
        },
    }


def write_card(model, recipe, run, out_dir, grid_path):
    metrics = card_metrics(run.get("metrics") or {})
    training_info = {
        "recipe": recipe.name,
        "epochs": run["epochs_done"],
        "batch_size": recipe.batch_size,
        "training_images": run["num_images"],
        "device": run["device"],
        "wall_time": f"{run['wall_time_s']:.0f} s",
    }
    caption = "Samples from fixed noise after the last epoch"
    if recipe.is_translation:
        caption = "Fixed sources | their translations (| targets) after the last epoch"
    elif model.num_classes is not None:
        caption += ", one row per class"
    card = model_card.make_model_card(
        model,
        repo_id=recipe.repo_id,
        dataset=recipe.dataset_name if not builtin.is_folder(recipe.dataset_name) else None,
        training_info=training_info,
        metrics=metrics or None,
        include_optimizer=True,
        grid_file=os.path.relpath(grid_path, out_dir).replace(os.sep, "/") if grid_path else "",
        grid_caption=caption + "." if grid_path else "",
    )
    card.save(os.path.join(out_dir, run_folder.CARD_FILE))


def finish_run(run, model, recipe, paths, fid, timer, grids, trained, measured=None):
    """Records what a finished run reached and writes its loss plot and model card.

    Args:
        fid: the run's `FrechetDistance` callback, or None.
        measured: metrics measured otherwise (a translation run's scores).
    """
    history = run_folder.read_csv_history(paths["metrics"])
    if history:
        scores = ("fid", "kid", "fd_", "kd_", "l1", "psnr", "ssim", "agreement")
        extra = [key for key in history if key.startswith(scores)]
        extra = [key for key in extra if not key.endswith("_std")]
        gan_callbacks.plot_history(history, paths["losses"], extra_keys=extra, title=recipe.name)
    run["status"] = "finished"
    run["epochs_done"] = recipe.epochs
    run["train_seconds"] = timer.seconds
    run["images_per_s"] = trained * run["num_images"] / timer.seconds if timer.seconds else None
    if fid is not None and fid.history:
        last = fid.history[-1]
        distances = {key: last[key] for key in ("fid", "kid", "kid_std") if key in last}
        run["metrics"] = {
            **named_metrics(distances, fid.extractor.name),
            "epoch": last["epoch"],
            "feature_extractor": fid.extractor.name,
            "num_samples": fid.num_samples,
            "reference": fid.reference_description,
        }
        run["metrics"].update(label_agreement(model, fid.extractor.name))
    if measured:
        run["metrics"] = dict(measured)
    keys = ("model", "timelapse", "losses", "metrics", "card", "samples")
    run["files"] = {key: paths[key] for key in keys}
    run["files"]["grid"] = grids.paths[-1] if grids.paths else None
    write_card(model, recipe, run, os.path.dirname(paths["run"]), run["files"]["grid"])


def print_summary(run):
    files = run["files"]
    lines = [
        f"Done: {run['epochs_done']} epochs in {run['wall_time_s']:.0f} s "
        f"({run['images_per_s'] or 0:.0f} images/s on {run['backend']}, {run['device']}).",
    ]
    metrics = card_metrics(run.get("metrics") or {})
    for key, value in metrics.items():  # each value with its own protocol
        if key in ("feature_extractor", "num_samples", "reference", "protocol", "protocols"):
            continue
        protocol = model_card.metric_protocol(key, metrics)
        if "feature_extractor" in protocol:
            how = (f"{protocol['feature_extractor']} features, {protocol.get('num_samples')} "
                   f"generated vs {protocol.get('reference', 'the data')}")  # fmt: skip
        else:
            how = protocol.get("protocol", "see run.json")
        lines.append(f"{key} {model_card.rounded_metric(key, value)} ({how})")
    rows = [
        ("samples", files["grid"] or files["samples"]),
        ("timelapse", files["timelapse"]),
        ("losses", files["losses"]),
        ("metrics", files["metrics"]),
        ("model", files["model"]),
        ("model card", files["card"]),
    ]
    lines += [f"  {name:<11}{path}" for name, path in rows]
    print("\n".join(lines), file=sys.stdout)

"""Model cards: each metric with its own protocol, values rounded to what was measured."""

import keras_gans
from keras_gans.hub.card import make_model_card, metric_protocol, rounded_metric
from tests import helpers


def test_each_metric_carries_its_own_protocol_and_a_rounded_value():
    model = helpers.make_model("ConditionalGAN")
    metrics = {
        "fd_digits": 5.380319245365399,
        "kd_digits": 0.11235813,
        "agreement": 0.94812,
        "feature_extractor": "mnist5k_classifier",
        "num_samples": 2000,
        "reference": "5,000 training images",
        "protocols": {"agreement": "share of 2000 generated digits read as the digit asked for"},
    }
    assert metric_protocol("fd_digits", metrics) == {
        "feature_extractor": "mnist5k_classifier", "num_samples": 2000,
        "reference": "5,000 training images",
    }  # fmt: skip
    assert metric_protocol("agreement", metrics) == {"protocol": metrics["protocols"]["agreement"]}
    assert rounded_metric("fd_digits", 5.380319245365399) == 5.38
    assert rounded_metric("kd_digits", 0.11235813) == 0.1124
    assert rounded_metric("agreement", 0.94812) == 0.948
    card = make_model_card(model, repo_id="me/cgan", dataset="mnist", metrics=metrics)
    text = card.content
    assert (
        "| Frechet distance (digit-classifier features, not FID) | 5.38 | feature extractor" in text
    )
    assert "| agreement | 0.948 | share of 2000 generated digits" in text
    assert "5.380319" not in text
    results = {r.metric_type: r for r in card.data.eval_results}
    assert results["fd_digits"].metric_value == 5.38
    assert results["fd_digits"].metric_args["feature_extractor"] == "mnist5k_classifier"
    assert results["agreement"].metric_args == {"protocol": metrics["protocols"]["agreement"]}
    assert "feature_extractor" not in results["agreement"].metric_args


def test_translation_metrics_keep_the_runs_protocol():
    model = keras_gans.Pix2Pix(source_shape=(16, 16, 1), target_shape=(16, 16, 3), width=4)
    metrics = {"l1": 0.0591234, "psnr": 21.04567, "protocol": "L1/PSNR on 500 held-out pairs"}
    card = make_model_card(model, repo_id="me/p2p", dataset="edges2digits", metrics=metrics)
    assert "| l1 | 0.0591 | L1/PSNR on 500 held-out pairs |" in card.content
    assert "| psnr | 21.05 |" in card.content

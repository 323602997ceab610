"""The time-to-quality benchmark: trials, recipe overrides, the Pareto front, one tiny run."""

import csv

import pytest

from benchmarks import time_to_quality
from keras_gans import recipes
from keras_gans.utils.precision import resolve_precision


def test_values_and_trials_parse():
    assert time_to_quality.parse_value("4e-4") == pytest.approx(4e-4)
    assert time_to_quality.parse_value("64") == 64
    assert time_to_quality.parse_value("none") is None
    assert time_to_quality.parse_value("translation+cutout") == ["translation", "cutout"]
    assert time_to_quality.parse_value("translation+") == ["translation"]
    name, settings = time_to_quality.parse_trial("fast training.batch_size=64 model.loss=hinge")
    assert name == "fast"
    assert settings == {"training.batch_size": 64, "model.loss": "hinge"}
    with pytest.raises(SystemExit, match="not key=value"):
        time_to_quality.parse_trial("broken model.width")


def test_grid_is_every_combination_or_a_seeded_draw():
    trials = time_to_quality.grid_trials(
        ["model.width=16,32", "model.loss=hinge,non_saturating"], None, 0
    )
    assert len(trials) == 4
    assert {tuple(sorted(s.items())) for _, s in trials} == {
        (("model.loss", loss), ("model.width", width))
        for width in (16, 32)
        for loss in ("hinge", "non_saturating")
    }
    drawn = time_to_quality.grid_trials(["model.width=8,16,24,32"], 2, seed=3)
    assert drawn == time_to_quality.grid_trials(["model.width=8,16,24,32"], 2, seed=3)
    assert len(drawn) == 2


def test_settings_override_the_recipe():
    data = recipes.get("dcgan.mnist5k").to_dict()
    time_to_quality.apply_settings(
        data,
        {
            "optimizers.*.learning_rate": 1e-3,
            "model.augment": ["translation"],
            "training.batch_size": 64,
            "training.precision": "mixed_bfloat16",
        },
    )
    recipe = recipes.Recipe.from_dict(data)
    assert recipe.precision == "mixed_bfloat16"
    assert recipe.optimizers["generator"]["learning_rate"] == 1e-3
    assert recipe.optimizers["discriminator"]["learning_rate"] == 1e-3
    assert recipe.model["augment"] == ("translation",)
    assert recipe.batch_size == 64
    with pytest.raises(SystemExit, match="no 'bach_size'"):
        time_to_quality.apply_settings(data, {"training.bach_size": 64})


def test_pareto_front_keeps_only_unbeaten_points():
    points = [(10, 50.0), (20, 40.0), (20, 60.0), (30, 45.0), (40, 20.0)]
    assert time_to_quality.pareto_front(points) == [(10, 50.0), (20, 40.0), (40, 20.0)]


def test_a_tiny_trial_writes_rows_and_a_plot(tmp_path):
    out, figure = tmp_path / "ttq.csv", tmp_path / "ttq.svg"
    rows = time_to_quality.main(
        [
            "dcgan.mnist5k",
            "--budget",
            "1",
            "--every",
            "0.5",
            "--trial",
            "tiny model.width=4 evaluation.num_samples=200",
            "--out",
            str(out),
            "--plot",
            str(figure),
        ]
    )
    assert (
        rows and rows[-1]["seconds"] >= 1
    )  # the first step (tracing included) may pass the budget
    with open(out, newline="") as f:
        written = list(csv.DictReader(f))
    assert [r["trial"] for r in written] == ["tiny"] * len(rows)
    assert all(0 <= int(r["classes_covered"]) <= 10 and float(r["fd_digits"]) > 0 for r in written)
    assert "200 generated" in written[0]["protocol"]
    assert written[0]["precision"] == resolve_precision("auto")  # the recipe's precision
    assert figure.read_text().lstrip().startswith("<?xml")

    # --plot-only redraws it from the CSV, however many trials it holds.
    many = [{**written[-1], "trial": f"trial{i}"} for i in range(45)]
    with open(out, "a", newline="") as f:
        csv.DictWriter(f, fieldnames=list(written[0])).writerows(many)
    figure.unlink()
    time_to_quality.main(["dcgan.mnist5k", "--plot-only", "--out", str(out), "--plot", str(figure)])
    assert "trial44" in figure.read_text()

"""A recipe's `[training] precision`: the dtype policy a run trains in, kept on resume."""

import json

import keras
import pytest

from keras_gans import recipes, runner
from keras_gans.commands import train as train_command
from keras_gans.runner import run_folder
from keras_gans.utils.precision import cpu_flags, global_policy, resolve_precision

BACKEND = keras.backend.backend()
TINY = dict(max_images=64, batch_size=32, evaluate=False, verbose=0)


def test_auto_takes_bfloat16_where_it_was_measured_faster():
    for policy in ("float32", "mixed_bfloat16", "mixed_float16"):
        assert resolve_precision(policy) == policy
    native = resolve_precision("auto", flags={"fpu", "avx512f", "avx512_bf16"})
    # This machine has no accelerator; XLA's CPU gains nothing from bfloat16.
    assert native == ("float32" if BACKEND == "jax" else "mixed_bfloat16")
    assert resolve_precision("auto", flags={"fpu", "avx2", "amx_bf16"}) == native
    assert resolve_precision("auto", flags={"fpu", "avx512f", "avx2"}) == "float32"
    assert resolve_precision("auto", backend="jax", flags={"avx512_bf16"}) == "float32"
    with pytest.raises(ValueError, match="precision must be one of .*'bf16'"):
        resolve_precision("bf16")


def test_cpu_flags_come_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n")
    assert cpu_flags(str(cpuinfo)) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(str(tmp_path / "missing")) == set()


def test_global_policy_is_put_back():
    with global_policy("mixed_bfloat16"):
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_a_malformed_precision_is_named():
    data = recipes.get("gan.digits").to_dict()
    data["training"]["precision"] = "half"
    with pytest.raises(ValueError, match=r"\[training\] precision must be one of .*'half'"):
        recipes.Recipe.from_dict(data)
    with pytest.raises(ValueError, match=r"\[training\] precision .*'fp16'"):
        recipes.get("gan.digits").replace(precision="fp16")
    parser = train_command.add_parser(
        __import__("argparse").ArgumentParser().add_subparsers(dest="command")
    )
    assert parser.parse_args(["gan.digits", "--precision", "auto"]).precision == "auto"


def test_a_run_trains_and_resumes_in_its_precision(tmp_path):
    out = tmp_path / "run"
    run = runner.train("gan.digits", out, epochs=1, precision="mixed_bfloat16", **TINY)
    assert run["precision"] == "mixed_bfloat16"
    assert run["recipe"]["training"]["precision"] == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # the caller's again
    model = keras.saving.load_model(out / "model.keras")
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert str(model.generate(2).dtype).endswith("float32")
    assert "mixed_bfloat16" in (out / "README.md").read_text()
    assert run_folder.result_row(run, "keras-gans train")["device"].endswith(", mixed_bfloat16")

    # Carried on without a recipe: the policy it started with, not the float32 default.
    resumed = runner.train(None, out, epochs=2, resume=True, **TINY)
    assert resumed["precision"] == "mixed_bfloat16"
    assert json.loads((out / "run.json").read_text())["epochs_done"] == 2
    assert keras.saving.load_model(out / "model.keras").dtype_policy.name == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_metric_networks_stay_float32_under_a_mixed_policy(monkeypatch):
    from keras_gans.metrics import digits_classifier, extractors

    monkeypatch.setattr(extractors, "_BUILT", {})  # built afresh, under the policy below
    with global_policy("mixed_bfloat16"):
        named = extractors.get_feature_extractor(digits_classifier.OFFLINE_EXTRACTOR)
        direct = digits_classifier.offline_extractor()
        classifier = digits_classifier._trained_classifier()
    for model in (named.model, direct.model, classifier):
        assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}

"""`keras-gans export MODEL --format onnx --out generator.onnx`: a generator for serving.

MODEL is anything `keras-gans sample` takes (a Hub repo, a folder, a run folder, a
`.keras` file, an NVIDIA pickle or name). Generators take latent vectors (and labels);
Pix2Pix and CycleGAN translators take source images. `--check` runs the ONNX file
with onnxruntime and compares its images with the model's own.

Example:

```bash
keras-gans export runs/dcgan-mnist5k --format onnx --out dcgan.onnx --check
keras-gans --backend tensorflow export me/pix2pix-facades --format tf_saved_model --out facades
```
"""

import argparse

from keras_gans.commands.sample import load_model

FORMATS = ("onnx", "tf_saved_model", "litert", "torch", "openvino")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Adds the `export` subcommand to an `argparse` subparsers object."""
    parser = subparsers.add_parser(
        "export",
        help="export a model's generator as ONNX, a TF SavedModel, LiteRT or a torch program",
        description=(
            "Exports the (EMA) generator of a model, or a translator's generator, through "
            "Keras' own export. ONNX from every backend (pip install 'keras-gans[export]'), "
            "tf_saved_model from JAX and TensorFlow, litert from TensorFlow and torch, torch "
            "from torch; the error says which backend to use otherwise."
        ),
    )
    parser.add_argument("model", help="Hub repo, folder, run folder, .keras file or NVIDIA pickle")
    parser.add_argument("--format", choices=FORMATS, default="onnx", help="(default onnx)")
    parser.add_argument("--out", required=True, help="the file (or folder) to write")
    parser.add_argument("--direction", help="CycleGAN: a_to_b (default) or b_to_a")
    parser.add_argument("--revision", default=None, help="branch or commit sha of a Hub repo")
    parser.add_argument(
        "--check", action="store_true", help="ONNX: run it with onnxruntime and compare"
    )
    parser.set_defaults(func=export_command)
    return parser


def export_command(args: argparse.Namespace) -> int:
    """Runs `keras-gans export` with parsed `args`; returns the exit status."""
    from keras_gans.hub.card import is_translation

    model = load_model(args.model, args.revision)
    translation = is_translation(model)
    if args.direction and not translation:
        raise ValueError("--direction applies to Pix2Pix and CycleGAN only.")
    options = {"direction": args.direction} if translation else {}
    import warnings

    with warnings.catch_warnings():  # the exporters' tracer warnings are not the user's
        warnings.simplefilter("ignore")
        path = model.export(args.out, format=args.format, **options)
    print(f"Exported {type(model).__name__} from {args.model} to {path} ({args.format})")
    if args.check:
        if args.format != "onnx":
            raise ValueError("--check runs ONNX files only.")
        difference = check_onnx(model, path, args.direction)
        print(f"onnxruntime output matches the model's within {difference:.1e} (max abs)")
    return 0


def check_onnx(model, path, direction=None) -> float:
    """The largest difference between the ONNX file's images and the model's, on 2 inputs."""
    import numpy as np
    import onnxruntime

    from keras_gans.hub.card import is_translation

    session = onnxruntime.InferenceSession(str(path))
    names = [node.name for node in session.get_inputs()]
    if is_translation(model):
        direction = direction or model.directions[0]
        shape = model._source_shape(direction)
        sources = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype("float32")
        expected = model.translate(sources, direction=direction)
        got = session.run(None, {names[0]: sources})[0]
    else:
        latent = model.sample_latent(2, seed=0)
        labels = None if model.num_classes is None else np.zeros(2, "int32")
        expected = model.generate(latent=latent, labels=labels)
        feeds = [latent] if labels is None else [latent, labels]
        got = np.clip(session.run(None, dict(zip(names, feeds)))[0], -1, 1)
    return float(np.abs(got - expected).max())

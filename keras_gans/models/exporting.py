"""Exporting a model's generator for serving: ONNX, TF SavedModel, LiteRT, torch, OpenVINO.

Through Keras' own `Model.export`; this module checks, before anything is written,
that the backend can write the format and names the backends that can, and calls the
network once so Keras knows its input signature.

| format | JAX | TensorFlow | torch | needs |
|---|---|---|---|---|
| `onnx` | yes (`jax2onnx`) | yes (`tf2onnx`) | yes (`onnxscript`) | `keras-gans[export]` |
| `tf_saved_model` | yes | yes | no | TensorFlow |
| `litert` | no | yes | yes | TensorFlow (`ai-edge-litert` to run it) |
| `torch` | no | no | yes | torch |
| `openvino` | yes | yes | yes | `openvino` |

Example:

```python
gan.export("generator.onnx", format="onnx")          # inputs: latent (and labels)
pix2pix.export("translate.onnx", format="onnx")      # input: source images
```
"""

from __future__ import annotations

import os

import keras
import numpy as np

FORMATS = {
    "onnx": ("jax", "tensorflow", "torch"),
    "tf_saved_model": ("jax", "tensorflow"),
    "litert": ("tensorflow", "torch"),
    "torch": ("torch",),
    "openvino": ("jax", "tensorflow", "torch"),
}
_PACKAGES = {
    "onnx": {"jax": "jax2onnx", "tensorflow": "tf2onnx", "torch": "onnxscript"},
    "openvino": {"jax": "openvino", "tensorflow": "openvino", "torch": "openvino"},
}


def check_format(format: str) -> None:
    """Raises a clear error when this backend cannot export `format` (or lacks a package)."""
    backend = keras.backend.backend()
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {sorted(FORMATS)}. Received: {format!r}")
    able = FORMATS[format]
    if backend not in able:
        raise ValueError(
            f"The {backend} backend cannot export format={format!r}; "
            f"{' or '.join(able)} can: load the saved model with KERAS_BACKEND="
            f"{able[0]} (the weights are the same) and export there."
        )
    package = _PACKAGES.get(format, {}).get(backend)
    if package:
        import importlib.util

        if importlib.util.find_spec(package) is None:
            raise ImportError(
                f"Exporting {format} on the {backend} backend needs `{package}` "
                "(pip install 'keras-gans[export]')."
            )


def export_network(network, example_inputs, filepath, format="onnx", **kwargs) -> str:
    """Exports `network` after one call on `example_inputs` (Keras needs it called).

    Args:
        network: a `keras.Model` (a generator).
        example_inputs: an input batch, e.g. two latent vectors (and labels).
        filepath: where to write the artifact.
        format: a key of `FORMATS`.
        **kwargs: passed on to `keras.Model.export`.

    Returns:
        `filepath`, as a string.
    """
    check_format(format)
    grouped = [
        layer.name
        for layer in network._flatten_layers()
        if hasattr(layer, "kernel_size") and getattr(layer, "groups", 1) > 1
    ]
    if grouped and format == "onnx" and keras.backend.backend() == "tensorflow":
        raise ValueError(
            f"tf2onnx cannot convert grouped convolutions ({grouped[0]}, ...), so the "
            "tensorflow backend cannot export this network to ONNX; jax or torch can: load "
            "the saved model with KERAS_BACKEND=jax (or torch) and export there."
        )
    network(example_inputs, training=False)
    filepath = os.fspath(filepath)
    parent = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(parent, exist_ok=True)
    network.export(filepath, format=format, verbose=False, **kwargs)
    return filepath


def example_generator_inputs(model, batch=2):
    """Latent vectors (and labels) a generator model accepts, as NumPy arrays."""
    latent = np.zeros((batch, model.latent_dim), "float32")
    if model.num_classes is None:
        return latent
    return [latent, np.zeros((batch,), "int32")]

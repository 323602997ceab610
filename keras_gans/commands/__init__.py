"""The `keras-gans` shell commands, one module each; `keras_gans.cli` wires them up."""

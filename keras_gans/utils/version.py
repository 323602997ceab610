"""The keras-gans version, importable by every layer without loading the package's names."""

VERSION = "0.2.0"

"""The bottom layer: file writes, the cache folder and device names. Imports no backend."""

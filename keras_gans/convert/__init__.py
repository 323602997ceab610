"""Readers of other projects' checkpoints (NVIDIA's network pickles).

No code from them is ever run.
"""

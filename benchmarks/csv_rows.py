"""Appending benchmark rows to a CSV file, with the header written once; naming the CPU."""

import csv
import os


def append_rows(path, rows, fieldnames=None):
    """Appends dict `rows` to the CSV at `path`, creating it (and its folder) if needed."""
    new_file = not os.path.exists(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames or list(rows[0]))
        if new_file:
            writer.writeheader()
        writer.writerows(rows)


def processor_name():
    """The CPU's model and widest vector unit, e.g. `"AMD EPYC, AVX-512"` (Linux; else "")."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return ""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in info.splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    flags = next(
        (line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")),
        [],
    )
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else ""
    return ", ".join(part for part in (model, vector) if part)

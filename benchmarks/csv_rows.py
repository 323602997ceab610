"""Appending benchmark rows to a CSV file, with the header written once."""

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

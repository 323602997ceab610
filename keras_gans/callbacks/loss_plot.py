"""`LossPlot`: the epoch losses (and FID / KID) plotted to an image file."""

import itertools
import math
import os

import keras

from keras_gans.utils.files import atomic_path

_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
_EXTRA_COLORS = ["tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray"]


def _series(values, epochs):
    """The (epoch, value) points of one metric, skipping missing values."""
    points = []
    for epoch, value in zip(epochs, values):
        if value is None:
            continue
        value = float(value)
        if math.isfinite(value):
            points.append((epoch, value))
    return points


def plot_history(
    history,
    path=None,
    keys=("d_loss", "g_loss"),
    extra_keys=("fid", "kid"),
    title=None,
):
    """Plots per-epoch training logs: losses on the left axis, FID/KID on the right.

    Each of `keys` found in the history is drawn against the epoch on the
    left axis. Each of `extra_keys` found (metrics on another scale, often
    logged only every few epochs) gets its own right-hand axis, drawn with
    markers; missing or None values are skipped. Matplotlib's Agg canvas
    is used directly, so no window opens and the pyplot backend is left
    alone.

    Args:
        history: a `keras.callbacks.History` (what `fit` returns) or a dict
            of metric name -> list of per-epoch values.
        path: image file to write (format from the extension), atomically;
            None only returns the figure.
        keys: metrics for the left axis.
        extra_keys: metrics each given a right-hand axis.
        title: figure title.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    history = gan.fit(images, epochs=20)
    plot_history(history, "losses.png")
    ```
    """
    from matplotlib.figure import Figure

    logs = getattr(history, "history", history)
    first_epoch = getattr(history, "epoch", None) or [0]
    epochs = itertools.count(first_epoch[0] + 1)
    epochs = list(itertools.islice(epochs, max(map(len, logs.values()), default=0)))
    series = {key: _series(logs[key], epochs) for key in keys if key in logs}
    extra = {key: _series(logs[key], epochs) for key in extra_keys if key in logs}
    series = {key: points for key, points in series.items() if points}
    extra = {key: points for key, points in extra.items() if points}
    if not series and not extra:
        raise ValueError(
            f"None of {tuple(keys) + tuple(extra_keys)} has values in the history; "
            f"it holds {sorted(logs)}. Pass the metric names as `keys`."
        )
    figure = Figure(figsize=(7, 4), layout="constrained")
    axis = figure.add_subplot()
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss" if series else "")
    axis.grid(True, alpha=0.3)
    handles = []
    for (key, points), color in zip(series.items(), itertools.cycle(_COLORS)):
        epochs, values = zip(*points)
        handles += axis.plot(epochs, values, color=color, label=key)
    for index, ((key, points), color) in enumerate(
        zip(extra.items(), itertools.cycle(_EXTRA_COLORS))
    ):
        twin = axis.twinx()
        if index:
            twin.spines.right.set_position(("axes", 1.0 + 0.15 * index))
        epochs, values = zip(*points)
        handles += twin.plot(epochs, values, "o--", color=color, label=key)
        twin.set_ylabel(key, color=color)
        twin.tick_params(axis="y", colors=color)
    axis.legend(handles=handles, loc="best")
    if title:
        axis.set_title(title)
    if path is not None:
        with atomic_path(path) as temporary:
            extension = os.path.splitext(os.fspath(path))[1].lstrip(".") or "png"
            figure.savefig(temporary, format=extension, dpi=100)
    return figure


class LossPlot(keras.callbacks.Callback):
    """Plots the losses (and FID / KID, when logged) of each epoch to an image.

    The epoch logs are collected as training goes; the plot is written when
    training ends and, with `every_n_epochs`, during training too. Losses
    share the left axis; each of `extra_keys` present (e.g. from a
    `FrechetDistance` callback placed before this one) gets a right-hand
    axis. Calling `fit` again continues the same curves.

    Args:
        path: image file to write (PNG, SVG, PDF: from the extension).
        keys: log keys for the left axis.
        extra_keys: log keys each given a right-hand axis.
        every_n_epochs: also write the plot every this many epochs; None
            writes it at the end of training only.

    Attributes:
        history: dict of log key -> list of per-epoch values (None where an
            epoch did not log the key).

    Example:

    ```python
    gan.fit(images, epochs=20, callbacks=[keras_gans.callbacks.LossPlot("losses.png")])
    ```
    """

    def __init__(
        self,
        path="losses.png",
        keys=("d_loss", "g_loss"),
        extra_keys=("fid", "kid"),
        every_n_epochs=None,
    ):
        super().__init__()
        if every_n_epochs is not None and (
            not isinstance(every_n_epochs, int) or every_n_epochs < 1
        ):
            raise ValueError(
                f"`every_n_epochs` must be a positive integer or None. Received: {every_n_epochs!r}"
            )
        self.path = os.fspath(path)
        self.keys = tuple(keys)
        self.extra_keys = tuple(extra_keys)
        self.every_n_epochs = every_n_epochs
        self.history = {}
        self._epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        for key in self.keys + self.extra_keys:
            values = self.history.setdefault(key, [None] * self._epochs)
            value = logs.get(key)
            values.append(None if value is None else float(value))
        self._epochs += 1
        if self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0:
            self._plot()

    def on_train_end(self, logs=None):
        self._plot()

    def _plot(self):
        if any(value is not None for values in self.history.values() for value in values):
            plot_history(self.history, self.path, self.keys, self.extra_keys)

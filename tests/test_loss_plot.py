"""Tests of the LossPlot callback and plot_history."""

import os

import keras
import numpy as np
import pytest
from PIL import Image

import keras_gans
from keras_gans.callbacks import LossPlot, plot_history

# callback plumbing: each test runs on one backend of a run
pytestmark = pytest.mark.spread_across_backends

IMAGES = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")


def test_loss_plot_during_and_after_training(tmp_path):
    keras.utils.set_random_seed(0)
    gan = keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8)
    gan.compile()
    path = tmp_path / "losses.png"
    plot = LossPlot(path, every_n_epochs=1)
    seen = []
    check = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(path.exists())
    )
    history = gan.fit(IMAGES, batch_size=16, epochs=2, verbose=0, callbacks=[plot, check])

    assert seen == [True, True]  # Written at each epoch end already.
    assert len(plot.history["d_loss"]) == 2 and len(plot.history["g_loss"]) == 2
    assert all(np.isfinite(plot.history["d_loss"]))
    assert plot.history["fid"] == [None, None]  # Not logged: skipped.
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (700, 400)
    assert os.listdir(tmp_path) == ["losses.png"]

    gan.fit(IMAGES, batch_size=16, epochs=1, verbose=0, callbacks=[plot])
    assert len(plot.history["d_loss"]) == 3  # A second fit continues the curves.

    figure = plot_history(history, tmp_path / "history.svg")
    assert len(figure.axes) == 1
    assert [line.get_label() for line in figure.axes[0].lines] == ["d_loss", "g_loss"]
    assert list(figure.axes[0].lines[0].get_xdata()) == [1, 2]
    assert (tmp_path / "history.svg").read_text().lstrip().startswith("<?xml")


def test_extra_metrics_get_their_own_axes(tmp_path):
    history = {
        "d_loss": [1.3, 1.2, 1.1, 1.0],
        "g_loss": [0.7, 0.8, 0.9, 1.0],
        "fid": [None, 250.0, None, 120.0],
        "kid": [None, 0.2, None, 0.1],
    }
    figure = plot_history(history, tmp_path / "plot.png")
    losses, fid, kid = figure.axes
    assert fid.get_ylabel() == "fid" and kid.get_ylabel() == "kid"
    assert list(fid.lines[0].get_xdata()) == [2, 4]
    assert list(fid.lines[0].get_ydata()) == [250.0, 120.0]
    legend = [text.get_text() for text in losses.get_legend().get_texts()]
    assert legend == ["d_loss", "g_loss", "fid", "kid"]

    only_fid = plot_history({"fid": [300.0, 200.0]}, keys=())
    assert len(only_fid.axes) == 2
    assert os.listdir(tmp_path) == ["plot.png"]


def test_nothing_to_plot(tmp_path):
    with pytest.raises(ValueError, match="real_accuracy"):
        plot_history({"real_accuracy": [0.5]}, tmp_path / "plot.png")
    with pytest.raises(ValueError, match="every_n_epochs"):
        LossPlot(every_n_epochs=0)
    plot = LossPlot(tmp_path / "losses.png")
    plot.on_train_end()  # No epoch finished: nothing to write.
    assert os.listdir(tmp_path) == []

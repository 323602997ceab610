"""Callbacks to watch a GAN train (image grids, a timelapse GIF, loss plots, FID) and keep it safe.

Example:

```python
from keras_gans.callbacks import ImageGrid, LossPlot, Timelapse

grids = ImageGrid("samples", num_images=64)
gan.fit(
    images,
    epochs=20,
    callbacks=[grids, Timelapse("progress.gif", image_grid=grids), LossPlot()],
)
```
"""

from keras_gans.callbacks.backup_and_restore import BackupAndRestore
from keras_gans.callbacks.divergence_guard import DivergenceGuard
from keras_gans.callbacks.frechet_distance import FrechetDistance
from keras_gans.callbacks.generator_ema import GeneratorEMA
from keras_gans.callbacks.image_grid import ImageGrid
from keras_gans.callbacks.loss_plot import LossPlot, plot_history
from keras_gans.callbacks.timelapse import Timelapse, make_timelapse
from keras_gans.callbacks.translation_metrics import TranslationMetrics

__all__ = [
    "BackupAndRestore",
    "DivergenceGuard",
    "FrechetDistance",
    "GeneratorEMA",
    "ImageGrid",
    "Timelapse",
    "TranslationMetrics",
    "LossPlot",
    "make_timelapse",
    "plot_history",
]

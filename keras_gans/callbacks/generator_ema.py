"""`GeneratorEMA`: sample with an exponential moving average of the generator."""

import keras


class GeneratorEMA(keras.callbacks.Callback):
    """Turns on the model's EMA generator for this and later training.

    The average is updated inside each compiled training step (no per-batch
    host work, so it costs little on any backend) and saved with the model;
    `generate()`, `ImageGrid` and `FrechetDistance` then sample with it, as
    StyleGAN and BigGAN do. Same as building the model with `ema_decay=`.

    Args:
        decay: long-run decay of the average, e.g. 0.999; a warm-up
            `min(decay, (1 + step) / (10 + step))` makes early averages
            follow the generator closely.

    Example:

    ```python
    gan.fit(images, epochs=50, callbacks=[keras_gans.callbacks.GeneratorEMA(0.999)])
    gan.generate(16, seed=0)   # sampled with the averaged weights
    ```
    """

    def __init__(self, decay=0.999):
        super().__init__()
        self.decay = decay

    def set_model(self, model):
        # set_model runs before fit builds its train function, so the EMA
        # variables are part of the compiled step from the first batch.
        super().set_model(model)
        model.enable_ema(self.decay)

"""`PeriodicEvaluation`: the schedule the evaluating callbacks share."""

import keras


class PeriodicEvaluation(keras.callbacks.Callback):
    """Calls `evaluate()` after every `every_n_epochs` epochs and after the last one.

    Each result is appended to `history` (with its epoch) and merged into the epoch's
    logs, so `History`, `CSVLogger` and `MetricsCSV` record it. Subclasses set
    `every_n_epochs` and `history = []` and define `evaluate() -> dict[str, float]`.

    Example:

    ```python
    class MeanPixel(PeriodicEvaluation):
        def __init__(self):
            super().__init__()
            self.every_n_epochs, self.history = 2, []

        def evaluate(self):
            return {"mean_pixel": float(self.model.generate(16, seed=0).mean())}
    ```
    """

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        last = self.params.get("epochs") if self.params else None
        if done % self.every_n_epochs and done != last:
            return
        results = self.evaluate()
        self.history.append({"epoch": done, **results})
        if logs is not None:
            logs.update(results)

    def evaluate(self) -> dict[str, float]:
        raise NotImplementedError(f"{type(self).__name__} must define evaluate().")

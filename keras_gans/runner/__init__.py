"""The zoo runner: train, evaluate and load run folders. Orchestration only.

Example:

```python
from keras_gans import runner

run = runner.train("dcgan.mnist5k", "runs/dcgan-mnist5k")
runner.evaluate("runs/dcgan-mnist5k")
gan = runner.build_model("dcgan.mnist5k", width=8)   # a compiled, tiny DCGAN
```
"""

from keras_gans.runner.build import build_model, build_optimizer
from keras_gans.runner.evaluate import evaluate, load_run_model, run_metrics
from keras_gans.runner.train import DivergedError, train

__all__ = [
    "DivergedError",
    "build_model",
    "build_optimizer",
    "evaluate",
    "load_run_model",
    "run_metrics",
    "train",
]

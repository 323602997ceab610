"""Sharing models on the Hugging Face Hub: `push_to_hub`, `from_pretrained`, `save_pretrained`.

A keras-gans repo is the folder Keras itself writes for a Hub path
(`keras.saving.save_model(model, folder, zipped=False)`), so that
`keras.saving.load_model("hf://owner/name")` works as well as
`keras_gans.from_pretrained`:

- `config.json`: Keras' model config, plus a `"library": "keras-gans"` marker
  and a `"keras_gans"` block (class, keras-gans and Keras versions, backend,
  latent_dim, image_shape, num_classes, whether optimizer state is included).
  It is fetched first on every load: it tells what the repo holds before the
  weights are downloaded, and the Hub counts a download when it is fetched.
- `metadata.json`, `model.weights.h5`: Keras' metadata and the weights (and
  the optimizer state with `include_optimizer=True`).
- `samples.png`: a grid of samples, seed 0.
- `README.md`: the model card (`keras_gans.hub.card`).

A push is one commit (`HfApi.create_commit`), so a failed push leaves the
repo as it was. Loading never unpickles anything: Keras' safe mode stays on,
the class must be a registered keras-gans model, and every downloaded file is
checked against the checksum the Hub lists for it.

Errors are builtin exceptions that keep the `huggingface_hub` error as
`__cause__`: `FileNotFoundError` (no such repo, revision, or nothing cached
offline), `PermissionError` (missing, invalid or read-only token), `ValueError`
(not a keras-gans model, or not the class asked for) and `OSError` (a corrupt
download, a failed push).

Example:

```python
from keras_gans import hub

hub.push_to_hub(gan, "me/dcgan-mnist", dataset="mnist",
                training_info={"epochs": 50, "batch_size": 128})
gan = hub.from_pretrained("hf://me/dcgan-mnist")
```
"""

from keras_gans.hub.card import make_model_card
from keras_gans.hub.load import from_pretrained
from keras_gans.hub.push import push_folder, push_to_hub
from keras_gans.hub.repo import CARD_FILE, CONFIG_FILE, GRID_FILE, LIBRARY, MODEL_FILES
from keras_gans.hub.save import sample_grid, save_pretrained

__all__ = [
    "CARD_FILE",
    "CONFIG_FILE",
    "GRID_FILE",
    "LIBRARY",
    "MODEL_FILES",
    "from_pretrained",
    "make_model_card",
    "push_folder",
    "push_to_hub",
    "sample_grid",
    "save_pretrained",
]

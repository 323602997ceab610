"""`GANTestCase`: the checks every keras-gans model gets, so a model's test is a few lines.

Modelled on keras-hub's `TestCase.run_backbone_test`: a model's test file sets
`model_class` and `init_kwargs` (tiny widths and images) and calls the `run_*`
methods it needs:

```python
class TestDCGAN(GANTestCase):
    model_class = keras_gans.DCGAN
    init_kwargs = dict(latent_dim=8, image_shape=(8, 8, 1), width=8)

    def test_gan(self):
        self.run_gan_test(expected_image_shape=(8, 8, 1))
```
"""

from __future__ import annotations

import json

import keras
import numpy as np

import keras_gans
from tests import helpers


class GANTestCase:
    """Shared checks for a model class; subclasses set `model_class` and `init_kwargs`."""

    model_class: type | None = None
    init_kwargs: dict = {}
    # What `fit` logs (translators override it with their own losses).
    expected_logs = {"loss", "d_loss", "g_loss", "real_accuracy", "fake_accuracy"}

    def make(self, **overrides):
        """The model class built with `init_kwargs` updated by `overrides`."""
        return self.model_class(**{**self.init_kwargs, **overrides})

    def run_gan_test(
        self, expected_image_shape, init_kwargs=None, epochs=2, batch_size=16, num_images=32
    ):
        """compile + fit report finite metrics; generate (translate) gives images in [-1, 1].

        Returns:
            The trained model.
        """
        model = self.make(**(init_kwargs or {}))
        model.compile()
        history = model.fit(
            helpers.training_data(model, num_images),
            batch_size=batch_size,
            epochs=epochs,
            verbose=0,
        )
        assert self.expected_logs <= set(history.history)
        for name, values in history.history.items():
            assert len(values) == epochs and np.isfinite(values).all(), name
        steps = epochs * -(-num_images // batch_size)
        assert int(keras.ops.convert_to_numpy(model.g_optimizer.iterations)) == steps
        images = helpers.outputs_of(model, 5)
        assert images.shape == (5, *expected_image_shape) and images.dtype == np.float32
        assert images.min() >= -1.0 and images.max() <= 1.0
        # The same seed (the same sources) gives the same images.
        np.testing.assert_array_equal(images, helpers.outputs_of(model, 5))
        return model

    def run_saving_test(self, model, tmp_path):
        """A `.keras` round trip keeps the class, config, optimizer state and images."""
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded) is type(model)
        # Nested networks' auto-numbered layer names differ between builds: compare the rest.
        networks = getattr(model, "network_arguments", ("generator", "discriminator"))
        config, loaded_config = model.get_config(), loaded.get_config()
        assert {k: v for k, v in loaded_config.items() if k not in networks} == {
            k: v for k, v in config.items() if k not in networks
        }
        for name in networks:
            if hasattr(model, name):
                assert getattr(loaded, name).count_params() == getattr(model, name).count_params()
        np.testing.assert_allclose(helpers.outputs_of(loaded), helpers.outputs_of(model), atol=1e-6)
        for got, want in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want), atol=1e-7
            )
        return loaded

    def run_portability_test(self, model, tmp_path):
        """Saved on this backend, the model generates the same images on the other two."""
        path = tmp_path / "model.keras"
        model.save(path)
        expected = helpers.outputs_of(model, 4)
        code = (
            "import json, keras, keras_gans\n"
            "from tests import helpers\n"
            f"model = keras.saving.load_model({str(path)!r})\n"
            "print(json.dumps(helpers.outputs_of(model, 4).tolist()))\n"
        )
        for backend in helpers.BACKENDS:
            if backend == helpers.BACKEND:
                continue
            output = helpers.run_python(code, backend).strip().splitlines()[-1]
            np.testing.assert_allclose(
                np.array(json.loads(output)), expected, atol=1e-4, err_msg=backend
            )

    def run_hub_round_trip(self, model, repo_id, token, **push_kwargs):
        """push_to_hub then from_pretrained: same class and images; the card names both."""
        info = model.push_to_hub(repo_id, token=token, dataset="digits", **push_kwargs)
        loaded = keras_gans.from_pretrained(repo_id, revision=info.oid)
        assert type(loaded) is type(model)
        np.testing.assert_allclose(helpers.outputs_of(loaded), helpers.outputs_of(model), atol=1e-6)
        from huggingface_hub import ModelCard

        card = ModelCard.load(repo_id, token=token)
        assert type(model).__name__ in card.text and card.data.library_name == "keras"
        return loaded

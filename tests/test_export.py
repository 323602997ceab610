"""`export()` writes the generator for serving; the artifact generates the same images."""

import numpy as np
import pytest

from tests import helpers


@pytest.mark.parametrize("name", ["DCGAN", "ConditionalGAN"])
def test_saved_model_export_generates_the_same_images(name, tmp_path):
    model = helpers.make_model(name)
    latent = model.sample_latent(3, seed=0)
    labels = None if model.num_classes is None else np.array([0, 1, 2], "int32")
    if helpers.BACKEND == "torch":
        with pytest.raises(NotImplementedError, match="load it under KERAS_BACKEND=jax"):
            model.export(str(tmp_path / "saved"))
        return
    import tensorflow as tf

    model.export(str(tmp_path / "saved"))
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    inputs = latent if labels is None else [latent, labels]
    served = loaded.serve(inputs)
    np.testing.assert_allclose(
        np.asarray(served), model.generate(latent=latent, labels=labels), atol=1e-5
    )

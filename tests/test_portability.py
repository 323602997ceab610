"""A model saved on one backend loads on the other two and generates the same images."""

import json

import numpy as np
import pytest

from tests import helpers

LOAD_AND_GENERATE = """
import json, sys
import numpy as np, keras, keras_gans
model = keras.saving.load_model({path!r})
latent = np.load({latent!r})
labels = {labels!r}
images = model.generate(latent=latent, labels=labels)
print(json.dumps({{"class": type(model).__name__, "images": images.tolist(),
                   "d_iterations": int(model.d_optimizer.iterations)}}))
"""


@pytest.mark.parametrize("name", ["DCGAN", "ConditionalGAN"])
def test_saved_model_generates_the_same_images_on_every_backend(name, tmp_path):
    model = helpers.make_model(name)
    model.compile()
    model.fit(helpers.training_data(model, 32), batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    latent = model.sample_latent(4, seed=0)
    np.save(tmp_path / "latent.npy", latent)
    labels = None if model.num_classes is None else [0, 1, 2, 0]
    expected = model.generate(latent=latent, labels=labels)

    for backend in helpers.BACKENDS:
        if backend == helpers.BACKEND:
            continue
        code = LOAD_AND_GENERATE.format(
            path=path, latent=str(tmp_path / "latent.npy"), labels=labels
        )
        result = json.loads(helpers.run_python(code, backend).strip().splitlines()[-1])
        assert result["class"] == name
        assert result["d_iterations"] == 2
        np.testing.assert_allclose(
            np.array(result["images"]), expected, atol=1e-4, err_msg=f"loaded on {backend}"
        )

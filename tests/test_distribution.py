"""Data-parallel training through the same fit(): JAX DataParallel and TF MirroredStrategy.

Each case runs in a fresh interpreter because the virtual devices must be set
up before the backend starts.
"""

import json

import pytest

from tests import helpers

JAX_DATA_PARALLEL = """
import json, tempfile, os
import numpy as np, jax, keras, keras_gans
keras.mixed_precision.set_global_policy({policy!r})
devices = {devices}
if devices > 1:
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=jax.devices()[:devices]))
results = {{}}
for name, kwargs in {models}.items():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    gan = getattr(keras_gans, name)(**kwargs)
    gan.compile()
    data = x if gan.num_classes is None else (x, np.arange(64) % 3)
    history = gan.fit(data, batch_size=32, epochs=2, shuffle=False, verbose=0)
    kernel = gan.discriminator.trainable_variables[0]
    path = os.path.join(tempfile.mkdtemp(), "m.keras")
    gan.save(path)
    results[name] = {{
        "history": history.history,
        "weights": [float(np.abs(np.array(w)).sum()) for w in gan.weights],
        "sharding_devices": len(kernel.value.sharding.device_set),
        "loss_scales": [float(np.array(o.dynamic_scale)) for o in gan.optimizer.optimizers
                        if isinstance(o, keras.optimizers.LossScaleOptimizer)],
        "path": path,
    }}
print(json.dumps(results))
"""


@pytest.mark.backends("jax")  # keras.distribution shards on JAX
def test_jax_four_devices_match_one_device():
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    runs = {}
    for devices in (1, 4):
        code = JAX_DATA_PARALLEL.format(
            devices=devices, models=repr(helpers.TINY), policy="float32"
        )
        runs[devices] = json.loads(helpers.run_python(code, "jax", env=env).splitlines()[-1])
    for name in helpers.TINY:
        one, four = runs[1][name], runs[4][name]
        assert four["sharding_devices"] == 4 and one["sharding_devices"] == 1
        for key, values in one["history"].items():
            assert four["history"][key] == pytest.approx(values, rel=1e-4, abs=1e-5), (name, key)
        assert four["weights"] == pytest.approx(one["weights"], rel=1e-4, abs=1e-5), name
    # A model trained on four devices loads and generates on one.
    code = (
        "import keras, keras_gans\n"
        f"m = keras.saving.load_model({runs[4]['ConditionalGAN']['path']!r})\n"
        "print(m.generate(labels=[0, 1], seed=0).shape)"
    )
    assert "(2, 8, 8, 1)" in helpers.run_python(code, "jax")


@pytest.mark.backends("jax")  # keras.distribution shards on JAX
def test_jax_four_devices_match_one_device_under_mixed_float16():
    # Each network's LossScaleOptimizer checks the gradients of the whole sharded batch, so
    # four devices keep the scales one device keeps and take the same steps, penalty included.
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    models = {"DCGAN": {**helpers.TINY["DCGAN"], "gp_weight": 1.0}}
    runs = {}
    for devices in (1, 4):
        code = JAX_DATA_PARALLEL.format(
            devices=devices, models=repr(models), policy="mixed_float16"
        )
        runs[devices] = json.loads(helpers.run_python(code, "jax", env=env).splitlines()[-1])
    one, four = runs[1]["DCGAN"], runs[4]["DCGAN"]
    assert four["sharding_devices"] == 4
    assert len(one["loss_scales"]) == 2 and four["loss_scales"] == one["loss_scales"]
    for key, values in one["history"].items():
        assert four["history"][key] == pytest.approx(values, rel=1e-2, abs=1e-3), key
    assert four["weights"] == pytest.approx(one["weights"], rel=1e-3, abs=1e-5), "weights"


TF_MIRRORED = """
import json
import numpy as np, tensorflow as tf
cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, keras_gans

def build():
    keras.utils.set_random_seed(0)
    # The generator ignores its noise (zero kernel), so every replica's fake
    # images are the same and one step's discriminator update is exactly known.
    generator = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(16, kernel_initializer="zeros", bias_initializer="random_normal"),
        keras.layers.Reshape((4, 4, 1)),
    ])
    discriminator = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
        keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    model = keras_gans.GAN(generator=generator, discriminator=discriminator, latent_dim=4)
    model.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    return model

x = np.random.default_rng(0).uniform(-1, 1, (8, 4, 4, 1)).astype("float32")
single = build()
single.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    mirrored = build()
# Each replica gets the same 8 real images: the mean update must equal the single one.
mirrored.fit(np.concatenate([x, x]), batch_size=16, epochs=1, shuffle=False, verbose=0)
# The generator's bias update is noise-free too (its kernel's is not): it checks the
# generator's gradient, taken back through its kept backward function, is averaged alike.
def checked(model):
    return model.discriminator.weights + [model.generator.layers[0].bias]
same_update = max(float(np.abs(np.array(a) - np.array(b)).max())
                  for a, b in zip(checked(single), checked(mirrored)))

with strategy.scope():
    dcgan = keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8)
    dcgan.compile()
images = np.random.default_rng(1).uniform(-1, 1, (128, 8, 8, 1)).astype("float32")
history = dcgan.fit(images, batch_size=32, epochs=2, verbose=0)
dcgan.save("{path}")
# Loss scaling would trust the first replica's overflow check: refused by name.
keras.mixed_precision.set_global_policy("mixed_float16")
refused = ""
try:
    with strategy.scope():
        keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8).compile()
except ValueError as error:
    refused = str(error)
keras.mixed_precision.set_global_policy("float32")
print(json.dumps({{"same_update": same_update, "replicas": strategy.num_replicas_in_sync,
                   "d_loss": history.history["d_loss"], "refused": refused}}))
"""


@pytest.mark.backends("tensorflow")  # tf.distribute is TensorFlow's
def test_tf_mirrored_strategy_averages_gradients(tmp_path):
    path = str(tmp_path / "mirrored.keras")
    result = json.loads(
        helpers.run_python(TF_MIRRORED.format(path=path), "tensorflow").splitlines()[-1]
    )
    assert result["replicas"] == 2
    assert result["same_update"] < 1e-6
    assert all(v == v for v in result["d_loss"])  # finite, not NaN
    assert "replicas" in result["refused"] and "mixed_bfloat16" in result["refused"]
    import keras

    loaded = keras.saving.load_model(path)
    assert loaded.generate(2, seed=0).shape == (2, 8, 8, 1)


@pytest.mark.backends("tensorflow", "torch")  # JAX supports keras.distribution
def test_a_distribution_the_trainer_would_ignore_is_refused():
    code = (
        "import keras, keras_gans\n"
        "from keras.src.distribution import distribution_lib\n"
        "m = keras_gans.DCGAN(latent_dim=8, image_shape=(8, 8, 1), width=8)\n"
        # keras.distribution.DataParallel cannot even be built on torch; any set
        # distribution must be refused there.
        "distribution_lib.set_distribution(object())\n"
        "try:\n    m.compile()\nexcept ValueError as e:\n    print('REFUSED', e)\n"
    )
    output = helpers.run_python(code, helpers.BACKEND)
    assert "REFUSED keras.distribution is set" in output

"""Bad input gets a clear error naming the argument and what was expected."""

import keras
import numpy as np
import pytest

import keras_gans
from tests import helpers


@pytest.fixture
def dcgan():
    model = helpers.make_model("DCGAN")
    model.compile()
    return model


@pytest.fixture
def cgan():
    model = helpers.make_model("ConditionalGAN")
    model.compile()
    return model


def test_wrong_image_shape(dcgan):
    with pytest.raises(ValueError, match=r"`x` must be images of shape \(batch, 8, 8, 1\)"):
        dcgan.fit(np.zeros((16, 10, 10, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match="Add the channel axis"):
        dcgan.fit(np.zeros((16, 8, 8), "float32"), verbose=0)
    with pytest.raises(ValueError, match="channels-first"):
        dcgan.fit(np.zeros((16, 1, 8, 8), "float32"), verbose=0)


def test_uint8_images_get_rescaling_advice(dcgan):
    with pytest.raises(ValueError, match=r"\[-1, 1\].*127.5"):
        dcgan.fit(np.full((16, 8, 8, 1), 255, "uint8"), verbose=0)


def test_range_is_checked_on_the_first_batch_of_a_dataset(dcgan):
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(np.full((16, 8, 8, 1), 200.0, "float32")).batch(8)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        dcgan.fit(data, verbose=0)


def test_labels_given_to_an_unconditional_model(dcgan):
    images = np.zeros((16, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="unconditional"):
        dcgan.fit(images, np.zeros(16, "int32"), verbose=0)
    with pytest.raises(ValueError, match="unconditional"):
        dcgan.generate(2, labels=[0, 1])


def test_conditional_labels_missing_or_out_of_range(cgan):
    images = np.zeros((16, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="needs labels"):
        cgan.fit(images, verbose=0)
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\)"):
        cgan.fit((images, np.full(16, 3)), verbose=0)
    with pytest.raises(ValueError, match="one label per image"):
        cgan.fit((images, np.zeros(15, "int32")), verbose=0)
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\)"):
        cgan.generate(labels=[0, -1])
    with pytest.raises(ValueError, match="needs `labels`"):
        cgan.generate(4)


def test_fit_before_compile():
    model = helpers.make_model("DCGAN")
    with pytest.raises(ValueError, match="compile"):
        model.fit(np.zeros((16, 8, 8, 1), "float32"), verbose=0)


def test_latent_vectors_of_the_wrong_size(dcgan):
    with pytest.raises(ValueError, match=r"`latent` must have shape \(num_images, 8\)"):
        dcgan.generate(latent=np.zeros((2, 5)))


def test_batch_larger_than_the_data(dcgan):
    with pytest.raises(ValueError, match="batch_size`=128 is larger than the 16"):
        dcgan.fit(np.zeros((16, 8, 8, 1), "float32"), batch_size=128, verbose=0)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="image_shape"):
        keras_gans.DCGAN(image_shape=(28, 28))
    with pytest.raises(ValueError, match="image_shape"):
        keras_gans.DCGAN(image_shape=(28, 28, 2))
    with pytest.raises(ValueError, match="latent_dim"):
        keras_gans.GAN(latent_dim=0)
    with pytest.raises(ValueError, match="d_steps"):
        keras_gans.GAN(d_steps=0)
    with pytest.raises(ValueError, match="num_classes"):
        keras_gans.ConditionalGAN(num_classes=1)
    with pytest.raises(TypeError, match="`generator` must be a keras.Model"):
        keras_gans.GAN(generator="nope")


def test_mismatched_networks():
    generator = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(16), keras.layers.Reshape((4, 4, 1))]
    )
    wrong_discriminator = keras.Sequential(
        [keras.Input((5, 5, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    with pytest.raises(ValueError, match="`discriminator` must accept the generator's images"):
        keras_gans.GAN(generator=generator, discriminator=wrong_discriminator, latent_dim=4)
    with pytest.raises(ValueError, match="`generator` must accept"):
        keras_gans.GAN(generator=generator, latent_dim=7, image_shape=(4, 4, 1))


def test_one_optimizer_for_both_networks_is_refused():
    model = helpers.make_model("DCGAN")
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer instances"):
        model.compile(d_optimizer=shared, g_optimizer=shared)

"""The TensorFlow DCGAN tutorial's networks and losses, as `tutorial_loop` trains them."""

NOISE_DIM = 100


def tutorial_networks(convolutions="keras"):
    """The tutorial's `make_generator_model()` and `make_discriminator_model()`.

    Args:
        convolutions: `"keras"` for the tutorial's own `keras.layers.Conv2D` and
            `Conv2DTranspose`; `"keras_gans"` for keras-gans' drop-in subclasses of them
            (same weights and results; their own routes on JAX's CPU backend).
    """
    from keras import Sequential, layers

    if convolutions == "keras_gans":
        from keras_gans.networks import Conv2D, Conv2DTranspose
    elif convolutions == "keras":
        Conv2D, Conv2DTranspose = layers.Conv2D, layers.Conv2DTranspose
    else:
        raise ValueError(
            f"`convolutions` must be 'keras' or 'keras_gans'. Received: {convolutions!r}"
        )

    generator = Sequential(
        [
            layers.Input((NOISE_DIM,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False),
            layers.Activation("tanh"),
        ]
    )
    discriminator = Sequential(
        [
            layers.Input((28, 28, 1)),
            Conv2D(64, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    return generator, discriminator


def tutorial_losses():
    """The tutorial's `discriminator_loss(real, fake)` and `generator_loss(fake)`."""
    import keras
    from keras import ops

    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    def discriminator_loss(real_output, fake_output):
        real_loss = cross_entropy(ops.ones_like(real_output), real_output)
        fake_loss = cross_entropy(ops.zeros_like(fake_output), fake_output)
        return real_loss + fake_loss

    def generator_loss(fake_output):
        return cross_entropy(ops.ones_like(fake_output), fake_output)

    return discriminator_loss, generator_loss

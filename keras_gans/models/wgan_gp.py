"""WGAN-GP (Gulrajani et al., 2017): a Wasserstein critic kept 1-Lipschitz by a gradient penalty."""

import keras

from keras_gans.models.dcgan import DCGAN


@keras.saving.register_keras_serializable(package="keras_gans")
class WGANGP(DCGAN):
    """DCGAN networks trained with the Wasserstein loss and a gradient penalty.

    The critic (discriminator) takes `d_steps` updates per generator update;
    its loss adds `gp_weight * E[(||grad D(x_hat)||_2 - 1)^2]` at
    `x_hat = real + u * (fake - real)`, with one `u ~ U[0, 1]` per sample. The
    gradient is taken inside the compiled step on every backend. The critic
    has no dropout and no BatchNorm, as the penalty is per sample.

    Args:
        latent_dim: size of the latent vectors.
        image_shape: `(height, width, channels)`.
        width: base number of filters.
        d_steps: critic updates per generator update (5 in the paper).
        gp_weight: gradient-penalty weight lambda (10 in the paper).
        **kwargs: other `DCGAN` / `BaseGAN` arguments.

    Example:

    ```python
    wgan = keras_gans.WGANGP(latent_dim=128, image_shape=(28, 28, 1))
    wgan.compile()      # Adam(1e-4, beta_1=0.5, beta_2=0.9) for both networks
    wgan.fit(images, epochs=20)
    ```
    """

    def __init__(
        self, latent_dim=128, image_shape=None, width=64, d_steps=5, gp_weight=10.0, **kwargs
    ):
        kwargs.setdefault("loss", "wasserstein")
        kwargs.setdefault("dropout", 0.0)
        super().__init__(
            latent_dim=latent_dim,
            image_shape=image_shape,
            width=width,
            d_steps=d_steps,
            gp_weight=gp_weight,
            **kwargs,
        )

    def default_optimizer(self):
        return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.5, beta_2=0.9)

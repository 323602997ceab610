"""StyleGAN3 (Karras et al., 2021), NVIDIA's alias-free T and R configs, on every backend.

`StyleGAN3.from_nvlabs` converts NVIDIA's published StyleGAN3 network pickles
(`keras_gans.convert`), which then sample (with the input translated and rotated),
fine-tune and push like any model.
"""

import keras
from keras import ops

from keras_gans.models.mapped_styles import MappedStylesMixin
from keras_gans.models.sampling import forward
from keras_gans.models.style_family import StyleFamilyGAN
from keras_gans.models.stylegan2 import lazy_adam
from keras_gans.networks import stylegan2 as sg2_networks
from keras_gans.networks import stylegan3 as networks
from keras_gans.objective import stylegan3 as objective

_BACKEND = keras.backend.backend()


@keras.saving.register_keras_serializable(package="keras_gans")
class StyleGAN3(MappedStylesMixin, StyleFamilyGAN):
    """StyleGAN3 with lazy R1, the discriminator's blur fade-in, truncation and input transforms.

    Args:
        config: `"t"` (translation equivariant, 3x3 convolutions) or `"r"` (rotation
            equivariant too: 1x1 convolutions, radially symmetric downsampling filters,
            twice the widths, blurred discriminator inputs at the start).
        image_shape: `(resolution, resolution, channels)`, square, 1 or more channels.
        latent_dim: size of z (512 in the paper); w_dim: size of w (default `latent_dim`).
        mapping_layers: dense layers of the mapping network (2).
        num_classes: class-conditional (label embedding into the mapping network and a
            projection discriminator) when set.
        channel_base, channel_max: generator widths `min(channel_base / 2 / cutoff, max)`
            (T: 32768 / 512; R: 65536 / 1024).
        conv_kernel, use_radial_filters: the config's (T: 3, False; R: 1, True).
        num_layers, num_critical, first_cutoff, first_stopband, last_stopband_rel,
            margin_size, output_scale, filter_size, lrelu_upsampling: the alias-free
            layout (NVIDIA's defaults: 14, 2, 2, 2**2.1, 2**0.3, 10, 0.25, 6, 2).
        conv_clamp: clamp of the layers' activations (256).
        magnitude_ema_beta: decay of the layers' input magnitude averages (NVIDIA's
            `0.5 ** (batch_size / 20000)`).
        mapping_lr_multiplier: learning-rate multiplier of the mapping network (0.01).
        d_channel_base, d_channel_max: the discriminator's widths (32768 / 512, as NVIDIA's
            `--cbase` / `--cmax`), `min(base / resolution, max)`.
        mbstd_group_size, mbstd_num_channels, d_architecture, d_conv_clamp,
            resample_filter, d_mapping_layers, cmap_dim: NVIDIA's StyleGAN2 discriminator
            (see `keras_gans.StyleGAN2`).
        r1_gamma, r1_interval: R1 weight and lazy interval (2.0, 16).
        style_mixing_prob: probability of mixing two ws in a batch (0, as StyleGAN3 trains).
        w_avg_beta: decay of the tracked w average used for truncation (0.998).
        blur_init_sigma, blur_fade_kimg: sigma of the blur of the discriminator's inputs at
            the start (R: 10, T: 0) and the thousands of images over which it fades to 0.
        ada_target, ada_kimg: adaptive augmentation (None: off).
        ema_decay, ema_warmup: the sampling generator's average (0.999, ramped up).
        pretrained_source: where converted weights came from (set by `from_nvlabs`).
        **kwargs: `seed`, `augment` (DiffAugment), `d_steps`; see `BaseGAN`.

    Example:

    ```python
    gan = keras_gans.StyleGAN3("r", image_shape=(32, 32, 3), latent_dim=64)
    gan.compile()
    gan.fit(images, batch_size=32, epochs=10)
    gan.generate(16, seed=0, truncation_psi=0.7, translate=(0.1, 0.0), rotate=15)

    afhq = keras_gans.StyleGAN3.from_nvlabs("nvlabs:stylegan3-t-afhqv2-512")
    ```
    """

    SAMPLING_OPTIONS = ("truncation_psi", "truncation_cutoff", "noise_mode", "translate", "rotate")

    def __init__(self, config="t", image_shape=(32, 32, 3), latent_dim=512, w_dim=None,
                 mapping_layers=2, num_classes=None, channel_base=None, channel_max=None,
                 conv_kernel=None, use_radial_filters=None, num_layers=14, num_critical=2,
                 first_cutoff=2.0, first_stopband=2**2.1, last_stopband_rel=2**0.3,
                 margin_size=10, output_scale=0.25, filter_size=6, lrelu_upsampling=2,
                 conv_clamp=256, magnitude_ema_beta=0.999, mapping_lr_multiplier=0.01,
                 d_channel_base=32768, d_channel_max=512, mbstd_group_size=4,
                 mbstd_num_channels=1, d_architecture="resnet", d_conv_clamp="same",
                 resample_filter=(1, 3, 3, 1), d_mapping_layers=8, cmap_dim=None,
                 r1_gamma=2.0, r1_interval=16, style_mixing_prob=0.0, w_avg_beta=0.998,
                 blur_init_sigma=None, blur_fade_kimg=200.0, ema_decay=0.999, ema_warmup=True,
                 pretrained_source=None, generator=None, discriminator=None,
                 **kwargs):  # fmt: skip
        kwargs.pop("loss", None)  # the non-saturating loss is built in
        if config not in networks.CONFIGS:
            raise ValueError(
                f"`config` must be 't' or 'r' (StyleGAN3-T or StyleGAN3-R). Received: {config!r}"
            )
        self.config = config
        image_shape = tuple(int(d) for d in image_shape)
        self.w_dim = int(w_dim or latent_dim)
        self.mapping_layers = int(mapping_layers)
        self.mapping_lr_multiplier = float(mapping_lr_multiplier)
        given = dict(channel_base=channel_base, channel_max=channel_max, conv_kernel=conv_kernel,
                     use_radial_filters=use_radial_filters)  # fmt: skip
        chosen = {key: networks.CONFIGS[config][key] if value is None else value
                  for key, value in given.items()}  # fmt: skip
        self.synthesis_options = dict(
            channel_base=int(chosen["channel_base"]), channel_max=int(chosen["channel_max"]),
            num_layers=int(num_layers), num_critical=int(num_critical),
            first_cutoff=float(first_cutoff), first_stopband=float(first_stopband),
            last_stopband_rel=float(last_stopband_rel), margin_size=int(margin_size),
            output_scale=float(output_scale), conv_kernel=int(chosen["conv_kernel"]),
            filter_size=int(filter_size), lrelu_upsampling=lrelu_upsampling,
            use_radial_filters=bool(chosen["use_radial_filters"]),
            conv_clamp=None if conv_clamp is None else float(conv_clamp),
            magnitude_ema_beta=float(magnitude_ema_beta),
        )  # fmt: skip
        self.d_channel_base, self.d_channel_max = int(d_channel_base), int(d_channel_max)
        self.mbstd_group_size = None if mbstd_group_size is None else int(mbstd_group_size)
        self.mbstd_num_channels = int(mbstd_num_channels)
        self.d_architecture = d_architecture
        if d_conv_clamp == "same":
            d_conv_clamp = self.synthesis_options["conv_clamp"]
        self.d_conv_clamp = None if d_conv_clamp is None else float(d_conv_clamp)
        self.resample_filter = tuple(float(t) for t in resample_filter)
        self.d_mapping_layers = int(d_mapping_layers)
        self.cmap_dim = None if cmap_dim is None else int(cmap_dim)
        self.pretrained_source = dict(pretrained_source) if pretrained_source else None
        self.ema_warmup = bool(ema_warmup)
        if generator is None:
            generator = networks.stylegan3_generator(
                latent_dim, image_shape, self.w_dim, config, self.mapping_layers, num_classes,
                self.mapping_lr_multiplier, **self.synthesis_options,
            )  # fmt: skip
        if discriminator is None:
            discriminator = sg2_networks.stylegan2_discriminator(
                image_shape, self.d_channel_base, self.d_channel_max, self.mbstd_group_size,
                num_classes, architecture=d_architecture, conv_clamp=self.d_conv_clamp,
                resample_filter=self.resample_filter, mbstd_num_channels=self.mbstd_num_channels,
                mapping_layers=self.d_mapping_layers, cmap_dim=self.cmap_dim,
            )  # fmt: skip
        super().__init__(generator, discriminator, latent_dim, num_classes=num_classes,
                         ema_decay=ema_decay, **kwargs)  # fmt: skip
        if float(r1_gamma) < 0:
            raise ValueError(f"`r1_gamma` must be >= 0. Received: {r1_gamma!r}")
        self.r1_gamma, self.r1_interval = float(r1_gamma), int(r1_interval)
        self.style_mixing_prob, self.w_avg_beta = float(style_mixing_prob), float(w_avg_beta)
        if blur_init_sigma is None:
            blur_init_sigma = 10.0 if config == "r" else 0.0
        if float(blur_init_sigma) < 0 or float(blur_fade_kimg) < 0:
            raise ValueError(
                f"`blur_init_sigma` and `blur_fade_kimg` must be >= 0. Received: "
                f"{blur_init_sigma!r}, {blur_fade_kimg!r}"
            )
        self.blur_init_sigma, self.blur_fade_kimg = float(blur_init_sigma), float(blur_fade_kimg)
        self.num_ws = self.generator.get_layer("synthesis").num_ws
        # Training state, saved with the model and restored by BackupAndRestore.
        self.w_avg = self._state("w_avg", (self.w_dim,))
        self.d_reg_step = self._state("d_reg_step")
        self.images_seen = self._state("images_seen")

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Defaults: Adam(0.002 for D, 0.0025 for G, beta_1=0, beta_2=0.99), D's lazily rescaled."""
        d_optimizer = d_optimizer or lazy_adam(0.002, self.r1_interval if self.r1_gamma else 0)
        g_optimizer = g_optimizer or lazy_adam(0.0025, 0)
        super().compile(d_optimizer, g_optimizer, **kwargs)

    def _blur_sigma(self):
        sigma = objective.blur_sigma(self)
        if _BACKEND == "torch" and not isinstance(sigma, float):
            sigma = float(ops.convert_to_numpy(sigma))  # eager: skip the blur once faded
        return sigma

    def _gan_train_step(self, data):
        real_images, labels = self._unpack_batch(data)
        batch_size = ops.shape(real_images)[0]
        sigma = self._blur_sigma()
        d_loss, real_logits, fake_logits = self._discriminator_steps(
            lambda mask: objective.stylegan3_discriminator_loss(
                self, real_images, labels, mask, sigma
            )
        )
        g_loss, _ = self._train_network(
            self.generator,
            self.g_optimizer,
            lambda: objective.stylegan3_generator_loss(self, batch_size, labels, sigma),
        )
        self.images_seen.assign_add(ops.cast(batch_size, "float32"))
        return self._finish_step(d_loss, g_loss, real_logits, fake_logits)

    def _update_ema(self):
        """Averages the weights; copies the state (magnitude averages, filters), as NVIDIA."""
        super()._update_ema()
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            if not weight.trainable:
                average.assign(ops.stop_gradient(ops.convert_to_tensor(weight)))

    def _gan_test_step(self, data):
        real_images, labels = self._unpack_batch(data)
        d_loss, (real_logits, fake_logits) = objective.stylegan3_discriminator_loss(
            self, real_images, labels, 0.0, self._blur_sigma()
        )
        g_loss = ops.mean(ops.softplus(-fake_logits))  # -log(sigmoid(D(G(z))))
        return self._update_metrics(d_loss, g_loss, real_logits, fake_logits)

    @classmethod
    def from_nvlabs(cls, path_or_url, cache_dir=None, **overrides):
        """NVIDIA's StyleGAN3 network pickle as a `StyleGAN3`, without running its code.

        `G_ema` becomes the sampling (EMA) generator, `G` the generator, `D` the
        discriminator, with `w_avg`, every layer's `magnitude_ema` and filters, the
        Fourier input's frequencies, phases and transform, and every architectural
        setting of the pickle. Nothing in the pickle is executed and PyTorch is not needed.

        Args:
            path_or_url: a local `.pkl`, an `https://` URL (downloaded once into the cache),
                or a name such as `"nvlabs:stylegan3-r-afhqv2-512"` (see
                `keras_gans.convert.presets.NVLABS_STYLEGAN3`).
            cache_dir: download folder (default `~/.cache/keras_gans/downloads`).
            **overrides: training options for the new model (`r1_gamma`, `ada_target`,
                `blur_init_sigma`, `ema_decay`, ...); the architecture comes from the pickle.

        Example:

        ```python
        gan = keras_gans.StyleGAN3.from_nvlabs("nvlabs:stylegan3-t-ffhqu-256")
        images = gan.generate(4, seed=0, truncation_psi=0.7, rotate=30)   # (4, 256, 256, 3)
        ```
        """
        from keras_gans.convert import stylegan3 as nvlabs  # only when converting

        # NVIDIA resumes without the blur
        return cls._from_converted(nvlabs, path_or_url, cache_dir, overrides,
                                   defaults={"blur_init_sigma": 0.0})  # fmt: skip

    def _synthesize(self, ws, noise_mode="const", translate=None, rotate=None):
        transform = None
        if translate is not None or rotate is not None:
            if translate is not None and len(translate) != 2:
                raise ValueError(f"`translate` must be (tx, ty). Received: {translate!r}")
            transform = networks.input_transform(translate or (0.0, 0.0), rotate or 0.0)
        synthesis = self.sampling_generator.get_layer("synthesis")
        return synthesis(ws, training=False, transform=transform)

    def _sample(self, inputs, truncation_psi=1.0, truncation_cutoff=None, noise_mode="const",
                translate=None, rotate=None):  # fmt: skip
        self._check_sampling(truncation_cutoff, noise_mode)
        if float(truncation_psi) == 1.0 and translate is None and rotate is None:
            return forward(self.sampling_generator, inputs)
        ws = self._ws(inputs, truncation_psi, truncation_cutoff)
        return self._synthesize(ws, noise_mode, translate, rotate)

    def generate(self, num_images=None, labels=None, seed=None, latent=None, batch_size=256,
                 truncation_psi=1.0, truncation_cutoff=None, noise_mode="const", translate=None,
                 rotate=None):  # fmt: skip
        """Generates images with the EMA generator, clipped to [-1, 1].

        Args:
            num_images, labels, seed, latent, batch_size: as `BaseGAN.generate`; labels are
                class indices for a conditional model.
            truncation_psi: `w = w_avg + psi (w - w_avg)` (1: none; 0.5-0.7 for typical
                images).
            truncation_cutoff: truncate only the first this many ws (None: all).
            noise_mode: `"const"`, `"random"` or `"none"`: accepted as StyleGAN2 takes it;
                StyleGAN3 has no per-pixel noise, so all three give the same images.
            translate: `(tx, ty)`: the image moved by this fraction of its side (+x right,
                +y down), as NVIDIA's `gen_images.py --translate`.
            rotate: the image turned counter-clockwise by this many degrees
                (`gen_images.py --rotate`). Either replaces the stored input transform
                (`networks.stylegan3.input_transform`) for this call.

        Example:

        ```python
        frames = [gan.generate(latent=z, translate=(t, 0.0)) for t in np.linspace(0, 0.5, 30)]
        ```
        """
        return super().generate(
            num_images, labels, seed, latent, batch_size, truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff, noise_mode=noise_mode, translate=translate,
            rotate=rotate,
        )  # fmt: skip

    def get_config(self):
        return {
            **super().get_config(),
            "config": self.config,
            "w_dim": self.w_dim,
            "mapping_layers": self.mapping_layers,
            "mapping_lr_multiplier": self.mapping_lr_multiplier,
            **self.synthesis_options,
            "d_channel_base": self.d_channel_base,
            "d_channel_max": self.d_channel_max,
            "mbstd_group_size": self.mbstd_group_size,
            "mbstd_num_channels": self.mbstd_num_channels,
            "d_architecture": self.d_architecture,
            "d_conv_clamp": self.d_conv_clamp,
            "resample_filter": list(self.resample_filter),
            "d_mapping_layers": self.d_mapping_layers,
            "cmap_dim": self.cmap_dim,
            "r1_gamma": self.r1_gamma,
            "r1_interval": self.r1_interval,
            "style_mixing_prob": self.style_mixing_prob,
            "w_avg_beta": self.w_avg_beta,
            "blur_init_sigma": self.blur_init_sigma,
            "blur_fade_kimg": self.blur_fade_kimg,
            "ema_warmup": self.ema_warmup,
            "pretrained_source": self.pretrained_source,
        }

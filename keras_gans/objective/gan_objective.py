"""The whole GAN objective of one training step, read top to bottom.

`discriminator_loss` and `generator_loss` are what the trainers minimise (both
score a generated batch the trainer passes, so the generator runs forward once
per step); `simultaneous_losses` gives both from one discriminator pass. They
take the model (`keras_gans.BaseGAN` or a subclass) for its networks, its noise
`SeedGenerator`, its options (`gan_loss`, `gp_weight`, `r1_weight`, `augment`) and
how it feeds labels (`_generate`, `_discriminator_inputs`); the input gradient a
penalty needs comes from the backend's trainer (`model._input_gradient`).

Example:

```python
d_loss, (real_logits, fake_logits) = discriminator_loss(gan, real_images, None, training=True)
g_loss, fake_logits = generator_loss(gan, batch_size=64, labels=None, training=True)
```
"""

import keras
from keras import ops

from keras_gans.objective import augment as augmentation
from keras_gans.objective import penalties


def sample_latent(model, batch_size):
    """Training noise `z ~ N(0, I)` of shape `(batch_size, latent_dim)` from the model's seed."""
    return keras.random.normal(
        (batch_size, model.latent_dim), seed=model.seed_generator, dtype=model.compute_dtype
    )


def discriminate(model, images, labels, training, augment=None):
    """The discriminator's logits as a float32 vector, and its class logits (ACGAN) or None.

    Args:
        model: the GAN.
        images: a batch of images in [-1, 1].
        labels: class ids for conditional models, else None.
        training: the networks' training flag (dropout, BatchNorm).
        augment: apply the model's DiffAugment policy; default `training`.
    """
    if (training if augment is None else augment) and model.augment:
        policy = augmentation.POLICIES if model.augment == "diffaugment" else model.augment
        # T(x): the same differentiable transforms for real and generated images.
        images = augmentation.diff_augment(images, model.seed_generator, policy)
    outputs = model.discriminator(model._discriminator_inputs(images, labels), training=training)
    class_logits = None
    if isinstance(outputs, (list, tuple)):  # [logit, class_logits]: an auxiliary classifier
        outputs, class_logits = outputs
        class_logits = ops.cast(class_logits, "float32")
    return ops.cast(ops.reshape(outputs, (-1,)), "float32"), class_logits


def class_loss(class_logits, labels):
    """ACGAN's auxiliary term `E[-log p(y | x)]`; 0 without a classifier head."""
    if class_logits is None:
        return 0.0
    # -log softmax(class_logits)[y], averaged over the batch
    return ops.mean(
        keras.losses.sparse_categorical_crossentropy(labels, class_logits, from_logits=True)
    )


def penalty_gradient(model, images, labels):
    """`grad_x D(T(x))` for GP / R1, differentiable again with respect to D's weights.

    D runs in inference mode (no dropout, no extra spectral-norm power step) on
    augmented images, so the penalty is of the same function the loss trains.
    """
    return model._input_gradient(
        lambda x: discriminate(model, x, labels, training=False, augment=True)[0], images
    )


def generate(model, batch_size, labels, training):
    """`x_fake = G(z, y)` on fresh noise `z`, with gradients to G's weights."""
    return model._generate(sample_latent(model, batch_size), labels, training)


def discriminator_loss(model, real_images, labels, training, fake_images=None):
    """The discriminator's loss on a real batch and as many generated images.

    Args:
        model: the GAN.
        real_images: a batch of training images in [-1, 1].
        labels: their class ids for conditional models, else None.
        training: the networks' training flag.
        fake_images: the generated batch to score; None generates one.

    Returns:
        `(loss, (real_logits, fake_logits))`.
    """
    batch_size = ops.shape(real_images)[0]
    if fake_images is None:
        fake_images = generate(model, batch_size, labels, training)
    # x_fake held constant: this update trains D only
    fake_images = ops.stop_gradient(fake_images)
    loss, real_logits, fake_logits, _ = _discriminator_terms(
        model, real_images, fake_images, labels, training
    )
    return loss, (real_logits, fake_logits)


def generator_loss(model, batch_size, labels, training, fake_images=None):
    """The generator's loss, through the discriminator, on a generated batch.

    Args:
        model: the GAN.
        batch_size: how many images to generate when `fake_images` is None.
        labels: class ids for conditional models, else None.
        training: the networks' training flag.
        fake_images: the generated batch to score; None generates one from fresh noise.

    Returns:
        `(loss, fake_logits)`.
    """
    if fake_images is None:
        fake_images = generate(model, batch_size, labels, training)
    fake_logits, class_logits = discriminate(model, fake_images, labels, training)
    # L_G = loss_G(D(x_fake)), e.g. softplus(-D(x_fake)) + E[-log p(y | x_fake)] (ACGAN)
    loss = model.gan_loss.generator_loss(fake_logits) + class_loss(class_logits, labels)
    return loss, fake_logits


def simultaneous_losses(model, real_images, fake_images, labels, training):
    """Both networks' losses from one discriminator pass, as the TF DCGAN tutorial computes them.

    `fake_images` carries gradients to the generator; the caller takes
    `d_loss`'s gradient for D's weights and `g_loss`'s for G's, both at the
    weights before either update. A discriminator without state scores the
    real and the generated batch in two calls, as the tutorial does, so
    `g_loss`'s gradient runs back through D on the generated batch only (see
    `_discriminator_terms`).

    Returns:
        `(d_loss, g_loss, (real_logits, fake_logits))`.
    """
    d_loss, real_logits, fake_logits, fake_class_logits = _discriminator_terms(
        model, real_images, fake_images, labels, training
    )
    # L_G = loss_G(D(x_fake)) on the same logits D's loss used
    g_loss = model.gan_loss.generator_loss(fake_logits) + class_loss(fake_class_logits, labels)
    return d_loss, g_loss, (real_logits, fake_logits)


def _has_state(network):
    """Whether `network` holds non-trainable state besides random seeds (BatchNorm, SN)."""
    # Dropout's SeedGenerator state only advances per call; nothing is normalised by it.
    return any(
        not variable.path.endswith("seed_generator_state")
        for variable in network.non_trainable_variables
    )


def _discriminator_terms(model, real_images, fake_images, labels, training):
    """`(L_D, real_logits, fake_logits, fake_class_logits)` of one pass of D over both batches.

    A discriminator without state (no non-trainable variables but Dropout's
    seeds, like the TensorFlow DCGAN tutorial's) scores the two batches in two
    calls, as the tutorial does: the generator's gradient (simultaneous rule)
    then runs back through D on `x_fake` alone, and every call of D in a step
    has one batch size (faster on CPU torch, see the README's benchmarks). One
    with state (BatchNorm statistics, spectral-norm power iterates) scores both
    in one call, so that state updates once per D update.
    """
    batch_size = ops.shape(real_images)[0]
    both_labels = None if labels is None else ops.concatenate([labels, labels], axis=0)
    if not _has_state(model.discriminator):
        real_logits, real_class_logits = discriminate(model, real_images, labels, training)
        fake_logits, fake_class_logits = discriminate(model, fake_images, labels, training)
        class_logits = None
        if real_class_logits is not None:
            class_logits = ops.concatenate([real_class_logits, fake_class_logits], axis=0)
    else:
        # One discriminator call on [x_real; x_fake]: D's state updates once
        images = ops.concatenate([real_images, fake_images], axis=0)
        logits, class_logits = discriminate(model, images, both_labels, training)
        real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
    # L_D = loss_D(D(x_real), D(x_fake)), e.g. softplus(-D(x_real)) + softplus(D(x_fake))
    loss = model.gan_loss.discriminator_loss(real_logits, fake_logits)
    # + E[-log p(y | x)] on real and generated images (ACGAN only)
    loss = loss + class_loss(class_logits, both_labels)
    if training and model.gp_weight:
        # x_hat = x_real + u (x_fake - x_real), u ~ U[0, 1] per sample, x_fake held constant
        alpha = keras.random.uniform(
            (batch_size, 1, 1, 1), seed=model.seed_generator, dtype=real_images.dtype
        )
        mixed = real_images + alpha * (ops.stop_gradient(fake_images) - real_images)
        # + lambda E[(||grad D(x_hat)||_2 - 1)^2]
        gradients = penalty_gradient(model, mixed, labels)
        loss = loss + model.gp_weight * penalties.gradient_penalty(gradients)
    if training and model.r1_weight:
        # + gamma / 2 E[||grad D(x_real)||_2^2]
        gradients = penalty_gradient(model, real_images, labels)
        loss = loss + 0.5 * model.r1_weight * penalties.r1_penalty(gradients)
    fake_class_logits = None if class_logits is None else class_logits[batch_size:]
    return loss, real_logits, fake_logits, fake_class_logits

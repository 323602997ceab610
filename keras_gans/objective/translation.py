"""The Pix2Pix and CycleGAN objectives, read top to bottom.

Each function takes the model for its networks and weights (`l1_weight`,
`cycle_weight`, `identity_weight`) and returns `(loss, aux)` as the trainers'
`_minimize` expects. PatchGAN discriminators give a map of logits; every
adversarial term is a mean over all patches of the batch. The image pool
(`query_pool`) is written with keras.ops only, so it runs inside a jitted step.

Example:

```python
d_loss, _ = pix2pix_discriminator_loss(model, sources, targets, training=True)
g_loss, (adversarial, l1) = pix2pix_generator_loss(model, sources, targets, training=True)
```
"""

import keras
from keras import ops


def bce_with_logits(logits, target):
    """Mean binary cross-entropy of patch logits against a constant 0 or 1 target."""
    logits = ops.cast(logits, "float32")
    if target:
        # -log sigmoid(l) = softplus(-l)
        return ops.mean(ops.softplus(-logits))
    # -log(1 - sigmoid(l)) = softplus(l)
    return ops.mean(ops.softplus(logits))


def least_squares(logits, target):
    """LSGAN's mean squared distance of patch outputs from the target 0 or 1."""
    # (D(x) - target)^2, averaged over patches and batch
    return ops.mean(ops.square(ops.cast(logits, "float32") - float(target)))


def mean_absolute_error(a, b):
    """L1 distance per pixel, averaged: the reconstruction term of both models."""
    # |a - b|, averaged over pixels, channels and batch
    return ops.mean(ops.abs(ops.cast(a, "float32") - ops.cast(b, "float32")))


# Pix2Pix (Isola et al., 2017) -----------------------------------------------


def pix2pix_discriminator_loss(model, sources, targets, training):
    """D's loss on real pairs (source, target) and generated pairs (source, G(source)).

    Returns:
        `(loss, (real_logits, fake_logits))`.
    """
    # y_fake = G(x), held constant: this update trains D only
    fakes = ops.stop_gradient(model.generator(sources, training=training))
    real_logits = model.discriminator([sources, targets], training=training)
    fake_logits = model.discriminator([sources, fakes], training=training)
    # L_D = (-log D(x, y) - log(1 - D(x, G(x)))) / 2: halved, so D learns slower than G
    loss = 0.5 * (bce_with_logits(real_logits, 1) + bce_with_logits(fake_logits, 0))
    return loss, (real_logits, fake_logits)


def pix2pix_generator_loss(model, sources, targets, training):
    """G's loss: fool D on (source, G(source)) and stay close to the target in L1.

    Returns:
        `(loss, (adversarial, l1))`.
    """
    # y_fake = G(x) with gradients flowing back to G's weights
    fakes = model.generator(sources, training=training)
    fake_logits = model.discriminator([sources, fakes], training=training)
    # L_GAN = -log D(x, G(x))
    adversarial = bce_with_logits(fake_logits, 1)
    # L_L1 = E|y - G(x)|
    l1 = mean_absolute_error(targets, fakes)
    # L_G = L_GAN + lambda L_L1, lambda = 100 in the paper
    return adversarial + model.l1_weight * l1, (adversarial, l1)


# CycleGAN (Zhu et al., 2017) ------------------------------------------------


def cyclegan_generator_loss(model, images_a, images_b, training):
    """Both generators' joint loss: LSGAN, cycle consistency and identity.

    Returns:
        `(loss, (fake_a, fake_b, adversarial, cycle, identity))`; the fakes
        feed the discriminators' update through the image pools.
    """
    # G: A -> B and F: B -> A
    fake_b = model.generator_ab(images_a, training=training)
    fake_a = model.generator_ba(images_b, training=training)
    # L_GAN = (D_B(G(a)) - 1)^2 + (D_A(F(b)) - 1)^2
    adversarial = least_squares(
        model.discriminator_b(fake_b, training=training), 1
    ) + least_squares(model.discriminator_a(fake_a, training=training), 1)
    # L_cyc = |F(G(a)) - a| + |G(F(b)) - b|
    cycle = mean_absolute_error(
        model.generator_ba(fake_b, training=training), images_a
    ) + mean_absolute_error(model.generator_ab(fake_a, training=training), images_b)
    loss = adversarial + model.cycle_weight * cycle
    identity = ops.zeros((), "float32")
    if model.identity_weight:
        # L_idt = |G(b) - b| + |F(a) - a|: each generator leaves its own target domain alone
        identity = mean_absolute_error(
            model.generator_ab(images_b, training=training), images_b
        ) + mean_absolute_error(model.generator_ba(images_a, training=training), images_a)
        # weighted identity_weight x cycle_weight, as in the reference implementation
        loss = loss + model.identity_weight * model.cycle_weight * identity
    return loss, (fake_a, fake_b, adversarial, cycle, identity)


def cyclegan_discriminator_loss(discriminator, real_images, fake_images, training):
    """One discriminator's LSGAN loss on its domain's real images and pooled fakes.

    Returns:
        `(loss, (real_outputs, fake_outputs))`.
    """
    real = discriminator(real_images, training=training)
    fake = discriminator(ops.stop_gradient(fake_images), training=training)
    # L_D = ((D(x) - 1)^2 + D(x_fake)^2) / 2
    loss = 0.5 * (least_squares(real, 1) + least_squares(fake, 0))
    return loss, (real, fake)


def query_pool(pool, count, images, seed_generator):
    """Shrivastava et al.'s history of fakes, as CycleGAN's `ImagePool.query`.

    While the pool fills, each image is stored and returned. Once full, each
    image is, with probability 1/2, swapped for a random stored image (which
    is returned and replaced by it), else returned as it is. Images of one
    batch are placed at once: two drawing the same slot return the same stored
    image and the later one is kept.

    Args:
        pool: non-trainable variable `(pool_size, h, w, c)`.
        count: int32 scalar variable, how many slots are filled.
        images: the batch of generated images.
        seed_generator: source of the random draws.

    Returns:
        The images the discriminator sees, shaped like `images`.
    """
    pool_size = pool.shape[0]
    if not pool_size:
        return images
    images = ops.cast(ops.stop_gradient(ops.convert_to_tensor(images)), pool.dtype)
    stored = ops.convert_to_tensor(pool)
    batch = ops.shape(images)[0]
    order = ops.arange(batch, dtype="int32")
    # slot count + i while the pool is not yet full
    fill_slot = ops.convert_to_tensor(count, "int32") + order
    filling = fill_slot < pool_size
    # u ~ U[0, 1) per image; swap when the pool is full and u > 1/2
    u = keras.random.uniform((batch,), seed=seed_generator)
    swap = ops.logical_and(ops.logical_not(filling), u > 0.5)
    drawn = ops.cast(
        keras.random.randint((batch,), 0, pool_size, seed=seed_generator, dtype="int32"), "int32"
    )
    returned = ops.where(swap[:, None, None, None], ops.take(stored, drawn, axis=0), images)
    # each image's slot, or pool_size (nowhere) when it is neither stored nor swapped in
    slot = ops.where(filling, fill_slot, ops.where(swap, drawn, pool_size))
    writes = ops.one_hot(slot, pool_size + 1, dtype="int32")[:, :pool_size]
    # per slot, the last image of the batch written there (-1: none)
    writer = ops.max(writes * (order[:, None] + 1), axis=0) - 1
    new_pool = ops.where(
        (writer >= 0)[:, None, None, None], ops.take(images, ops.maximum(writer, 0), axis=0), stored
    )
    pool.assign(new_pool)
    count.assign(ops.minimum(ops.convert_to_tensor(count, "int32") + batch, pool_size))
    return returned

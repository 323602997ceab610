"""The GAN objective: adversarial losses, penalties, augmentation, and how they combine.

- `losses.py`: the adversarial losses (`GANLoss` pairs of functions of logits).
- `penalties.py`: input-gradient penalties (WGAN-GP, R1).
- `augment.py`: DiffAugment, applied to everything the discriminator sees.
- `loss.py`: the whole objective of one step, top to bottom: how real, generated
  images and labels are fed to the networks and which terms each network minimises.

Everything is `keras.ops`; only gradient mechanics differ per backend
(`keras_gans.trainers`).
"""

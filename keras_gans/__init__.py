"""keras-gans: generative adversarial networks for Keras 3 on JAX, TensorFlow and PyTorch.

Example:

```python
import keras_gans
gan = keras_gans.DCGAN(latent_dim=100, image_shape=(28, 28, 1))
gan.compile()
gan.fit(images, epochs=20)          # images in [-1, 1], shape (N, 28, 28, 1)
samples = gan.generate(16, seed=0)
```
"""

__version__ = "0.1.0"

from keras_gans import callbacks, losses, regularizers
from keras_gans.hub import from_pretrained, push_to_hub
from keras_gans.models import DCGAN, GAN, WGANGP, BaseGAN, ConditionalGAN

__all__ = [
    "BaseGAN",
    "GAN",
    "DCGAN",
    "ConditionalGAN",
    "WGANGP",
    "callbacks",
    "losses",
    "regularizers",
    "from_pretrained",
    "push_to_hub",
    "__version__",
]

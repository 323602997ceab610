"""PyTorch gradient mechanics: `torch.autograd.grad` on eager tensors."""

import torch

from keras_gans.trainers.base import BaseGANTrainer


class TorchGANTrainer(BaseGANTrainer):
    def _minimize(self, network, optimizer, loss_fn):
        variables = network.trainable_variables
        loss, aux = loss_fn()
        # autograd.grad, unlike backward(), leaves the other network's .grad
        # untouched and needs no zero_grad between the two updates.
        gradients = torch.autograd.grad(loss, [v.value for v in variables])
        with torch.no_grad():
            optimizer.apply(gradients, variables)
        return loss, aux

    def _input_gradient(self, fn, inputs):
        inputs = inputs.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(fn(inputs).sum(), inputs, create_graph=True)
        return gradient

    def _skip_step(self, data):
        return 1  # Keras' torch loop has already drawn this step's batch

    def train_step(self, data):
        return self._gan_train_step(data)

    def test_step(self, data):
        with torch.no_grad():
            return self._gan_test_step(data)

"""PyTorch gradient mechanics: `torch.autograd.grad` on eager tensors."""

import torch

from keras_gans.trainers.base import BaseGANTrainer


class TorchGANTrainer(BaseGANTrainer):
    def _minimize(self, network, optimizer, loss_fn):
        variables = network.trainable_variables
        loss, aux = loss_fn()
        # autograd.grad, unlike backward(), leaves the other network's .grad
        # untouched and needs no zero_grad between the two updates.
        gradients = torch.autograd.grad(optimizer.scale_loss(loss), [v.value for v in variables])
        self._apply_gradients(network, optimizer, gradients)
        return loss, aux

    def _forward_with_backward(self, network, forward):
        weights = [v.value for v in network.trainable_variables]
        outputs = forward()

        def backward(output_gradient):
            return torch.autograd.grad(outputs, weights, grad_outputs=output_gradient)

        return outputs, backward

    def _value_and_input_gradient(self, loss_fn, inputs):
        inputs = inputs.detach().requires_grad_(True)
        loss, aux = loss_fn(inputs)
        (gradient,) = torch.autograd.grad(loss, inputs)
        return (loss, aux), gradient

    def _weight_and_input_gradients(self, network, losses_fn, inputs):
        weights = [v.value for v in network.trainable_variables]
        inputs = inputs.detach().requires_grad_(True)
        first, second, aux = losses_fn(inputs)
        # The input gradient first: the weight gradient's pass then frees the whole
        # graph (the other order would keep D's activations on real images alive).
        (input_gradient,) = torch.autograd.grad(second, inputs, retain_graph=bool(weights))
        weight_gradients = torch.autograd.grad(first, weights) if weights else []
        return (first, second, aux), weight_gradients, input_gradient

    def _apply_gradients(self, network, optimizer, gradients):
        with torch.no_grad():
            optimizer.apply(gradients, network.trainable_variables)

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

"""JAX gradient mechanics: stateless, jit-compiled steps over an explicit state.

Keras' JAX trainer hands `train_step` the model state as four lists of arrays
(trainable, non-trainable, optimizer and metrics variables) and expects the
new state back; the variables themselves hold no values during an epoch.
Here the whole GAN step runs inside one `StatelessScope` that maps every
variable to its value in that state, so the backend-free step code can call
the networks, draw noise from the model's `SeedGenerator` and update metrics
as usual. Each `_minimize` differentiates a pure function of one network's
weights with `jax.value_and_grad`, then writes the new weights, optimizer
slots, BatchNorm statistics and seed state back into the scope.
"""

import jax
from keras import StatelessScope
from keras.src.backend.common.stateless_scope import get_stateless_scope

from keras_gans.trainers.base import BaseGANTrainer


class JAXGANTrainer(BaseGANTrainer):
    def _as_function_of(self, variables, fn):
        """`fn` as a pure function of `variables`' values, returning `(result, other_state)`.

        Every other model variable keeps its current value in the enclosing
        scope; `other_state` is their values after `fn` ran (BatchNorm
        statistics, seed state), to write back with `_write_back`.
        """
        scope = get_stateless_scope()
        ids = {id(v) for v in variables}
        others = [v for v in self.variables if id(v) not in ids]

        def pure(values, *args):
            mapping = [(v, scope.get_current_value(v)) for v in others]
            mapping += list(zip(variables, values))
            with StatelessScope(state_mapping=mapping) as inner:
                result = fn(*args)
            return result, [inner.get_current_value(v) for v in others]

        return pure, others

    @staticmethod
    def _write_back(variables, values):
        for variable, value in zip(variables, values):
            variable.assign(value)

    @staticmethod
    def _values(variables):
        scope = get_stateless_scope()
        return [scope.get_current_value(v) for v in variables]

    def _minimize(self, network, optimizer, loss_fn):
        weights = network.trainable_variables
        pure, others = self._as_function_of(weights, loss_fn)

        def scaled_loss_of(weight_values):
            (loss, aux), updated = pure(weight_values)
            return optimizer.scale_loss(loss), (loss, aux, updated)

        (_, (loss, aux, updated)), gradients = jax.value_and_grad(scaled_loss_of, has_aux=True)(
            self._values(weights)
        )
        self._write_back(others, updated)
        self._apply_gradients(network, optimizer, gradients)
        return loss, aux

    def _forward_with_backward(self, network, forward):
        weights = network.trainable_variables
        pure, others = self._as_function_of(weights, forward)
        outputs, vjp, updated = jax.vjp(pure, self._values(weights), has_aux=True)
        self._write_back(others, updated)

        def backward(output_gradient):
            (gradients,) = vjp(output_gradient)
            return gradients

        return outputs, backward

    def _value_and_input_gradient(self, loss_fn, inputs):
        pure, variables = self._as_function_of([], loss_fn)

        def loss_of(input_values):
            (loss, aux), updated = pure([], input_values)
            return loss, (aux, updated)

        (loss, (aux, updated)), gradient = jax.value_and_grad(loss_of, has_aux=True)(inputs)
        self._write_back(variables, updated)
        return (loss, aux), gradient

    def _weight_and_input_gradients(self, network, losses_fn, inputs):
        weights = network.trainable_variables
        pure, others = self._as_function_of(weights, losses_fn)

        def losses_of(weight_values, input_values):
            (first, second, aux), updated = pure(weight_values, input_values)
            return (first, second), (aux, updated)

        (first, second), vjp, (aux, updated) = jax.vjp(
            losses_of, self._values(weights), inputs, has_aux=True
        )
        self._write_back(others, updated)
        one, zero = jax.numpy.ones_like(first), jax.numpy.zeros_like(second)
        weight_gradients, _ = vjp((one, zero))
        _, input_gradient = vjp((jax.numpy.zeros_like(first), jax.numpy.ones_like(second)))
        return (first, second, aux), weight_gradients, input_gradient

    def _apply_gradients(self, network, optimizer, gradients):
        weights = network.trainable_variables
        new_weights, new_optimizer_values = optimizer.stateless_apply(
            self._values(optimizer.variables), gradients, self._values(weights)
        )
        self._write_back(weights, new_weights)
        self._write_back(optimizer.variables, new_optimizer_values)

    def _input_gradient(self, fn, inputs):
        pure, variables = self._as_function_of([], lambda x: jax.numpy.sum(fn(x)))
        gradient, updated = jax.grad(lambda x: pure([], x), has_aux=True)(inputs)
        # State the call advanced (dropout seeds, spectral-norm vectors) stays advanced.
        self._write_back(variables, updated)
        return gradient

    def _skip_step(self, state, iterator):
        return self._draw_batches(iterator)

    def _skipped_logs(self, state, iterator):
        return super()._skipped_logs(), state

    def _run_stateless(self, step_fn, state, variable_groups, data):
        mapping = [
            (variable, value)
            for variables, values in zip(variable_groups, state)
            for variable, value in zip(variables, values)
        ]
        with StatelessScope(state_mapping=mapping) as scope:
            logs = step_fn(data)
        new_state = tuple(
            [scope.get_current_value(v) for v in variables] for variables in variable_groups
        )
        return logs, new_state

    def train_step(self, state, data):
        variable_groups = (
            self.trainable_variables,
            self.non_trainable_variables,
            self.optimizer.variables,
            self.metrics_variables,
        )
        return self._run_stateless(self._gan_train_step, state, variable_groups, data)

    def test_step(self, state, data):
        variable_groups = (
            self.trainable_variables,
            self.non_trainable_variables,
            self.metrics_variables,
        )
        return self._run_stateless(self._gan_test_step, state, variable_groups, data)

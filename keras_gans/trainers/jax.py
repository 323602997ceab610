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
    def _minimize(self, network, optimizer, loss_fn):
        scope = get_stateless_scope()
        weights = network.trainable_variables
        weight_ids = {id(v) for v in weights}
        other_variables = [v for v in self.variables if id(v) not in weight_ids]

        def loss_of(weight_values):
            mapping = [(v, scope.get_current_value(v)) for v in other_variables]
            mapping += list(zip(weights, weight_values))
            with StatelessScope(state_mapping=mapping) as inner:
                loss, aux = loss_fn()
            updated = [inner.get_current_value(v) for v in other_variables]
            return loss, (aux, updated)

        weight_values = [scope.get_current_value(v) for v in weights]
        (loss, (aux, updated)), gradients = jax.value_and_grad(loss_of, has_aux=True)(weight_values)
        for variable, value in zip(other_variables, updated):
            variable.assign(value)

        optimizer_variables = optimizer.variables
        new_weights, new_optimizer_values = optimizer.stateless_apply(
            [scope.get_current_value(v) for v in optimizer_variables],
            gradients,
            weight_values,
        )
        for variable, value in zip(weights, new_weights):
            variable.assign(value)
        for variable, value in zip(optimizer_variables, new_optimizer_values):
            variable.assign(value)
        return loss, aux

    def _input_gradient(self, fn, inputs):
        scope = get_stateless_scope()
        variables = self.variables

        def summed_output(input_values):
            mapping = [(v, scope.get_current_value(v)) for v in variables]
            with StatelessScope(state_mapping=mapping) as inner:
                total = jax.numpy.sum(fn(input_values))
            return total, [inner.get_current_value(v) for v in variables]

        gradient, updated = jax.grad(summed_output, has_aux=True)(inputs)
        # State the call advanced (dropout seeds, spectral-norm vectors) stays advanced.
        for variable, value in zip(variables, updated):
            variable.assign(value)
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

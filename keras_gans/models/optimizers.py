"""One optimizer per network, seen by Keras as the single `model.optimizer`.

A GAN step applies each network's optimizer itself (`d_optimizer.apply(...)`),
but Keras' trainers, `BackupAndRestore` and `.keras` saving expect one
`model.optimizer` holding all optimizer state and the step count.
`NetworkOptimizers` is that container. Unlike `keras.optimizers.MultiOptimizer`
it accepts `LossScaleOptimizer`s and leaves each optimizer's loss scaling
alone: under `mixed_float16` every network gets its own dynamic loss scale,
because the discriminator's and the generator's losses and gradients have
different ranges and overflow at different times.
"""

import keras

_SCALED_POLICY = "mixed_float16"


def with_loss_scaling(optimizer, dtype_policy):
    """`optimizer` wrapped in a `LossScaleOptimizer` when `dtype_policy` needs one.

    Args:
        optimizer: a `keras.optimizers.Optimizer`.
        dtype_policy: the model's `keras.DTypePolicy`; only `"mixed_float16"`
            scales losses (bfloat16 has float32's range).

    Returns:
        `optimizer` itself, or a new `LossScaleOptimizer` around it.

    Example:

    ```python
    policy = keras.DTypePolicy("mixed_float16")
    optimizer = with_loss_scaling(keras.optimizers.Adam(2e-4), policy)
    ```
    """
    if dtype_policy.name != _SCALED_POLICY:
        return optimizer
    _check_no_replicas()
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{optimizer.name}_loss_scaled")


def _check_no_replicas():
    """Refuses loss scaling under a multi-replica `tf.distribute` strategy.

    Keras' `LossScaleOptimizer` decides whether to skip a step from the first
    replica's gradients before they are summed, so an overflow on another
    replica would reach every replica's weights.
    """
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1:
        raise ValueError(
            "The 'mixed_float16' policy is not supported with several tf.distribute "
            "replicas: Keras' LossScaleOptimizer checks the first replica's gradients for "
            "overflow before they are summed, so another replica's overflow would be "
            "applied. Use keras.mixed_precision.set_global_policy('mixed_bfloat16'), which "
            "needs no loss scaling, or train on one device."
        )


class OptimizerByNetwork:
    """Which optimizer owns a variable: the one of the network that holds it.

    Args:
        assignments: `(network, optimizer)` pairs; a network is anything with
            `trainable_variables` (a `keras.Model`, or several trained together).
    """

    def __init__(self, assignments):
        self.names = [getattr(network, "name", "network") for network, _ in assignments]
        self.optimizers = [optimizer for _, optimizer in assignments]
        self.assignments = [
            ({id(v) for v in network.trainable_variables}, optimizer)
            for network, optimizer in assignments
        ]

    def __call__(self, variable):
        for variable_ids, optimizer in self.assignments:
            if id(variable) in variable_ids:
                return optimizer
        raise ValueError(
            f"Variable {variable.path} belongs to none of the trained networks "
            f"({', '.join(self.names)}); only their variables are trained."
        )


class NetworkOptimizers(keras.optimizers.Optimizer):
    """Several networks' optimizers behind one `keras.optimizers.Optimizer`.

    Its `variables` are its own step count and learning rate, then the
    variables of each optimizer that owns a trained variable, in the order
    their first variables come in the list `build` gets: the layout
    `keras.optimizers.MultiOptimizer` saved, so older `.keras` files load.
    `apply` sends each gradient to the optimizer of the network that owns the
    variable; `LearningRateScheduler` and `ReduceLROnPlateau` reach every
    network's optimizer through `optimizers`.

    Args:
        assignments: `(network, optimizer)` pairs, one optimizer instance per
            network; an optimizer may be a `LossScaleOptimizer`.
        name: name of the container.

    Example:

    ```python
    optimizer = NetworkOptimizers(
        [(gan.generator, keras.optimizers.Adam(1e-4)),
         (gan.discriminator, keras.optimizers.Adam(4e-4))]
    )
    optimizer.build(gan.trainable_variables)
    ```
    """

    def __init__(self, assignments, name="gan_optimizer"):
        super().__init__(learning_rate=0.0, name=name)
        self._owner = OptimizerByNetwork(assignments)
        self._built_optimizers = []  # those that own variables, in first-variable order

    @property
    def optimizers(self):
        """The networks' optimizers, in the order they were given."""
        return list(self._owner.optimizers)

    def build(self, var_list):
        if self.built:
            return
        owned = {}
        for variable in var_list:
            optimizer = self._owner(variable)
            if id(optimizer) not in owned:
                owned[id(optimizer)] = []
                self._built_optimizers.append(optimizer)
            owned[id(optimizer)].append(variable)
        for optimizer in self._built_optimizers:
            if not optimizer.built:
                optimizer.build(owned[id(optimizer)])
        super().build(var_list)

    @property
    def variables(self):
        variables = self._variables[:]
        for optimizer in self._built_optimizers:
            variables.extend(optimizer.variables)
        return variables

    def _by_owner(self, *lists):
        groups = {id(optimizer): [] for optimizer in self._owner.optimizers}
        for items in zip(*lists):
            groups[id(self._owner(items[-1]))].append(items)
        for optimizer in self._owner.optimizers:
            if groups[id(optimizer)]:
                yield optimizer, [list(column) for column in zip(*groups[id(optimizer)])]

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        if not self.built:
            self.build(trainable_variables)
        for optimizer, (gradients, variables) in self._by_owner(grads, trainable_variables):
            optimizer.apply(gradients, variables)
        self._iterations.assign_add(1)

    def finalize_variable_values(self, var_list):
        for optimizer, (variables,) in self._by_owner(var_list):
            optimizer.finalize_variable_values(variables)

    def set_weights(self, weights):
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(
                f"`weights` must hold {len(variables)} arrays for '{self.name}' (built: "
                f"{self.built}). Received: {len(weights)}"
            )
        for variable, weight in zip(variables, weights):
            variable.assign(weight)

    @property
    def learning_rate(self):
        raise AttributeError(
            f"'{self.name}' holds one optimizer per network and has no single learning "
            "rate: read or set it on the model's `d_optimizer` / `g_optimizer` (or the "
            "translation model's named optimizers)."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            f"'{self.name}' holds one optimizer per network: set the learning rate on "
            "the model's `d_optimizer` / `g_optimizer` instead."
        )

    def get_config(self):
        return {
            "name": self.name,
            "optimizers": [
                keras.optimizers.serialize(optimizer) for optimizer in self._owner.optimizers
            ],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        raise ValueError(
            "NetworkOptimizers is rebuilt by the model's `compile()` from its saved compile "
            "config (one optimizer per network); it cannot be deserialized on its own."
        )

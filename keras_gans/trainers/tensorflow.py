"""TensorFlow gradient mechanics: a `GradientTape` inside Keras' `tf.function`."""

import tensorflow as tf

from keras_gans.trainers.base import BaseGANTrainer


class TensorFlowGANTrainer(BaseGANTrainer):
    def _minimize(self, network, optimizer, loss_fn):
        variables = network.trainable_variables
        with tf.GradientTape() as tape:
            loss, aux = loss_fn()
            scaled_loss = _per_replica(optimizer.scale_loss(loss))
        self._apply_gradients(network, optimizer, tape.gradient(scaled_loss, variables))
        return loss, aux

    def _forward_with_backward(self, network, forward):
        variables = network.trainable_variables
        with tf.GradientTape() as tape:
            outputs = forward()

        def backward(output_gradient):
            return tape.gradient(outputs, variables, output_gradients=output_gradient)

        return outputs, backward

    def _value_and_input_gradient(self, loss_fn, inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss, aux = loss_fn(inputs)
            scaled_loss = _per_replica(loss)
        return (loss, aux), tape.gradient(scaled_loss, inputs)

    def _weight_and_input_gradients(self, network, losses_fn, inputs):
        variables = network.trainable_variables
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(inputs)
            first, second, aux = losses_fn(inputs)
            scaled_first, scaled_second = _per_replica(first), _per_replica(second)
        weight_gradients = tape.gradient(scaled_first, variables)
        input_gradient = tape.gradient(scaled_second, inputs)
        del tape
        return (first, second, aux), weight_gradients, input_gradient

    def _apply_gradients(self, network, optimizer, gradients):
        optimizer.apply(gradients, network.trainable_variables)

    def _input_gradient(self, fn, inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = tf.reduce_sum(fn(inputs))
        return tape.gradient(total, inputs)

    def _skip_step(self, iterator):
        return self._draw_batches(iterator)

    def train_step(self, data):
        return _per_replica_logs(self._gan_train_step(data))

    def test_step(self, data):
        return _per_replica_logs(self._gan_test_step(data))


def _per_replica(loss):
    # Under tf.distribute each replica's loss is a mean over its share of the
    # batch and the optimizer sums gradients across replicas: divide here so
    # the update is the mean over the global batch.
    replicas = tf.distribute.get_replica_context().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def _per_replica_logs(logs):
    # Keras reduces multi-worker logs with strategy.reduce("MEAN", value, axis=0), which
    # needs an axis: give each scalar one.
    if tf.distribute.get_strategy().extended._in_multi_worker_mode():
        return {key: tf.reshape(value, (1,)) for key, value in logs.items()}
    return logs

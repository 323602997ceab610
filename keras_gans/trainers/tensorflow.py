"""TensorFlow gradient mechanics: a `GradientTape` inside Keras' `tf.function`."""

import tensorflow as tf

from keras_gans.trainers.base import BaseGANTrainer


class TensorFlowGANTrainer(BaseGANTrainer):
    def _minimize(self, network, optimizer, loss_fn):
        variables = network.trainable_variables
        # Under tf.distribute each replica's loss is a mean over its share of the
        # batch and the optimizer sums gradients across replicas: divide here so
        # the update is the mean over the global batch.
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        with tf.GradientTape() as tape:
            loss, aux = loss_fn()
            scaled_loss = loss / replicas if replicas > 1 else loss
        gradients = tape.gradient(scaled_loss, variables)
        optimizer.apply(gradients, variables)
        return loss, aux

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


def _per_replica_logs(logs):
    # Keras reduces multi-worker logs with strategy.reduce("MEAN", value, axis=0), which
    # needs an axis: give each scalar one.
    if tf.distribute.get_strategy().extended._in_multi_worker_mode():
        return {key: tf.reshape(value, (1,)) for key, value in logs.items()}
    return logs

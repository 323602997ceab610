"""TensorFlow gradient mechanics: a `GradientTape` inside Keras' `tf.function`."""

import tensorflow as tf

from keras_gans.trainers.base import BaseGANTrainer


class TensorFlowGANTrainer(BaseGANTrainer):
    def _minimize(self, network, optimizer, loss_fn):
        variables = network.trainable_variables
        with tf.GradientTape() as tape:
            loss, aux = loss_fn()
        gradients = tape.gradient(loss, variables)
        optimizer.apply(gradients, variables)
        return loss, aux

    def _input_gradient(self, fn, inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = tf.reduce_sum(fn(inputs))
        return tape.gradient(total, inputs)

    def train_step(self, data):
        return self._gan_train_step(data)

    def test_step(self, data):
        return self._gan_test_step(data)

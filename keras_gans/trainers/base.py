"""The backend-free half of GAN training: what one step does, not how.

A step is `d_steps` discriminator updates followed by one generator update
(`update="alternating"`), or both networks' updates from one forward pass
(`update="simultaneous"`). The last discriminator update and the generator
update share one generator forward pass (one per step when `d_steps=1`): its
batch trains the discriminator and its kept backward function (vjp) the
generator. Only the gradient mechanics differ between JAX, TensorFlow and
PyTorch, so each backend's trainer implements them (`_minimize`,
`_forward_with_backward`, ...) and the plumbing Keras' own trainer for that
backend expects (see `jax.py`, `tensorflow.py`, `torch.py` beside this file).
Everything else lives here, written once.
"""

from keras import ops


class BaseGANTrainer:
    """Mixin with the GAN train and test steps, shared by every backend.

    The model class it is mixed into provides `generator`, `discriminator`,
    `d_optimizer`, `g_optimizer`, `gan_loss`, `d_steps`, the metric trackers,
    and `_discriminator_loss` / `_generator_loss` (how the networks are fed,
    which differs between unconditional and conditional models).

    `steps_to_skip`: the next this many steps of `fit` draw their batch and
    train nothing. A mid-epoch backup sets it so that the resumed epoch, which
    Keras restarts from its first batch, passes over the batches already
    trained and the data order continues as in an uninterrupted run.
    """

    steps_to_skip = 0

    def make_train_function(self, force=False):
        made = super().make_train_function(force)
        step = self.train_function
        if getattr(step, "skips_trained_steps", False):
            return made

        def train_or_skip(*args):
            if self.steps_to_skip > 0:
                self.steps_to_skip -= self._skip_step(*args)
                return self._skipped_logs(*args)
            return step(*args)

        train_or_skip.skips_trained_steps = True
        self.train_function = train_or_skip
        return None if made is None else train_or_skip

    def _skip_step(self, *args):
        """Draws the batches of one call of the train function without training.

        Returns the number of steps passed over.
        """
        raise NotImplementedError

    def _draw_batches(self, iterator):
        """Draws one execution's batches (`steps_per_execution`) from `iterator`, unused."""
        for _ in range(self.steps_per_execution):
            if next(iterator, None) is None:
                break
        return self.steps_per_execution

    def _skipped_logs(self, *args):
        """What the train function returns for a skipped call (no metric changed)."""
        return {metric.name: 0.0 for metric in self.metrics}

    def _minimize(self, network, optimizer, loss_fn):
        """Runs `loss_fn()`, then one `optimizer` update of `network`'s weights.

        The gradient is taken of `optimizer.scale_loss(loss)` (a
        `LossScaleOptimizer` multiplies by its dynamic scale, and its `apply`
        divides the gradients back and skips non-finite steps).

        Args:
            network: the `keras.Model` whose trainable variables are updated;
                gradients flow to these variables only.
            optimizer: the optimizer that owns those variables.
            loss_fn: a function of no arguments returning `(loss, aux)`,
                where `loss` is a scalar tensor and `aux` any structure of
                tensors to hand back to the caller.

        Returns:
            `(loss, aux)` as computed before the update.
        """
        raise NotImplementedError

    def _input_gradient(self, fn, inputs):
        """Gradient of `sum(fn(inputs))` with respect to `inputs`, differentiable again.

        Used by the gradient penalty and R1 inside the discriminator's loss,
        so the returned gradient must itself carry gradients to the weights.
        """
        raise NotImplementedError

    def _forward_with_backward(self, network, forward):
        """Runs `forward()` once and keeps its backward function for `network`'s weights.

        Args:
            network: the `keras.Model` whose weights the backward function differentiates.
            forward: a function of no arguments returning one tensor (the
                network's outputs, computed with its weights).

        Returns:
            `(outputs, backward)`: `backward(output_gradient)` is the list of
            gradients of `sum(outputs * output_gradient)` with respect to
            `network.trainable_variables` (the vjp at the weights `forward` saw).
        """
        raise NotImplementedError

    def _value_and_input_gradient(self, loss_fn, inputs):
        """`(loss, aux)` of `loss_fn(inputs)` and the gradient of `loss` for `inputs`."""
        raise NotImplementedError

    def _weight_and_input_gradients(self, network, losses_fn, inputs):
        """Two gradients from one call of `losses_fn(inputs) -> (first, second, aux)`.

        Returns:
            `((first, second, aux), weight_gradients, input_gradient)`: the
            gradient of `first` with respect to `network.trainable_variables`
            and of `second` with respect to `inputs`.
        """
        raise NotImplementedError

    def _apply_gradients(self, network, optimizer, gradients):
        """One `optimizer` update of `network.trainable_variables` with `gradients`."""
        raise NotImplementedError

    def _train_network(self, network, optimizer, loss_fn):
        if not network.trainable_variables:  # a frozen network: evaluate only
            return loss_fn()
        return self._minimize(network, optimizer, loss_fn)

    def _train_generator_from(self, fake_images, generator_backward, loss_fn, optimizer):
        """The generator update from a kept batch: its loss, then the vjp back through G."""
        if not self.generator.trainable_variables:
            return loss_fn(fake_images)

        scale = _loss_scale(optimizer)

        def scaled_loss_fn(images):
            loss, aux = loss_fn(images)
            return loss * scale, (loss, aux)

        (_, (loss, aux)), fake_gradient = self._value_and_input_gradient(
            scaled_loss_fn, fake_images
        )
        self._apply_gradients(self.generator, optimizer, generator_backward(fake_gradient))
        return loss, aux

    def _alternating_update(self, real_images, labels, batch_size):
        """`d_steps` discriminator updates, then one generator update.

        The last discriminator update and the generator update share one
        generated batch: G runs forward once, D trains on the batch held
        constant, then D (updated) scores it again and the gradient flows back
        through G's kept backward function.
        """
        for _ in range(self.d_steps - 1):
            self._train_network(
                self.discriminator,
                self.d_optimizer,
                lambda: self._discriminator_loss(real_images, labels, training=True),
            )
        fake_images, generator_backward = self._forward_with_backward(
            self.generator, lambda: self._fake_batch(batch_size, labels, training=True)
        )
        d_loss, logits = self._train_network(
            self.discriminator,
            self.d_optimizer,
            lambda: self._discriminator_loss(
                real_images, labels, training=True, fake_images=fake_images
            ),
        )
        g_loss, _ = self._train_generator_from(
            fake_images,
            generator_backward,
            lambda images: self._generator_loss(
                batch_size, labels, training=True, fake_images=images
            ),
            self.g_optimizer,
        )
        return d_loss, g_loss, logits

    def _simultaneous_update(self, real_images, labels, batch_size):
        """Both networks' gradients from one pass of G and D, then both updates."""
        fake_images, generator_backward = self._forward_with_backward(
            self.generator, lambda: self._fake_batch(batch_size, labels, training=True)
        )
        d_scale, g_scale = _loss_scale(self.d_optimizer), _loss_scale(self.g_optimizer)

        def scaled_losses_fn(images):
            d_loss, g_loss, logits = self._simultaneous_losses(
                real_images, images, labels, training=True
            )
            return d_loss * d_scale, g_loss * g_scale, (d_loss, g_loss, logits)

        (_, _, (d_loss, g_loss, logits)), d_gradients, fake_gradient = (
            self._weight_and_input_gradients(self.discriminator, scaled_losses_fn, fake_images)
        )
        if self.discriminator.trainable_variables:
            self._apply_gradients(self.discriminator, self.d_optimizer, d_gradients)
        if self.generator.trainable_variables:
            g_gradients = generator_backward(fake_gradient)
            self._apply_gradients(self.generator, self.g_optimizer, g_gradients)
        return d_loss, g_loss, logits

    def _gan_train_step(self, data):
        real_images, labels = self._unpack_batch(data)
        batch_size = ops.shape(real_images)[0]
        if self.update == "simultaneous":
            update = self._simultaneous_update
        else:
            update = self._alternating_update
        d_loss, g_loss, (real_logits, fake_logits) = update(real_images, labels, batch_size)
        return self._finish_step(d_loss, g_loss, real_logits, fake_logits)

    def _finish_step(self, d_loss, g_loss, real_logits, fake_logits):
        """The tail of every GAN step: the EMA generator, the step count, the logs."""
        if self.ema_generator is not None:
            self._update_ema()
        # One model step is one generator update; callbacks read this count.
        self.optimizer.iterations.assign_add(1)
        return self._step_logs(d_loss, g_loss, real_logits, fake_logits)

    def _step_logs(self, d_loss, g_loss, real_logits, fake_logits):
        return self._update_metrics(d_loss, g_loss, real_logits, fake_logits)

    def _gan_test_step(self, data):
        real_images, labels = self._unpack_batch(data)
        batch_size = ops.shape(real_images)[0]
        d_loss, (real_logits, fake_logits) = self._discriminator_loss(
            real_images, labels, training=False
        )
        g_loss, _ = self._generator_loss(batch_size, labels, training=False)
        return self._update_metrics(d_loss, g_loss, real_logits, fake_logits)

    def _update_metrics(self, d_loss, g_loss, real_logits, fake_logits):
        self.loss_tracker.update_state(d_loss + g_loss)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_accuracy_tracker.update_state(ops.cast(ops.greater(real_logits, 0.0), "float32"))
        self.fake_accuracy_tracker.update_state(ops.cast(ops.less(fake_logits, 0.0), "float32"))
        return {metric.name: metric.result() for metric in self.metrics}


def _loss_scale(optimizer):
    # What `optimizer` multiplies a loss by before differentiation: its dynamic
    # scale for a LossScaleOptimizer, else its `loss_scale_factor` or 1. Read here,
    # outside the differentiated function (on JAX that runs in an inner state scope
    # that holds the model's variables, not the optimizer's).
    return optimizer.scale_loss(1.0)

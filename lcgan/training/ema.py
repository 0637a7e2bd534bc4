"""Exponential moving average (EMA) copy of a model's weights, safe under tf.distribute.

The copy is an ordinary Keras model (same architecture, frozen) so it can be exported or evaluated
like the original. Trainable weights are averaged; non-trainable state (batch-norm moving
statistics, seed states) is copied as is.

Example:
    >>> ema = ema_copy(generator)
    >>> update_ema(ema, generator, decay=0.999, step=optimizer.iterations)  # after each G step
"""

import keras
import tensorflow as tf


def ema_copy(model):
    """Return a frozen clone of ``model`` holding the same weights, named ``"<name>_ema"``."""
    copy = keras.models.clone_model(model)
    copy.name = f"{model.name}_ema"
    copy.set_weights(model.get_weights())
    copy.trainable = False
    return copy


def ema_decay_at(decay, step):
    """Decay warmed up over the first steps: ``min(decay, (1 + step) / (10 + step))``.

    A short run then still moves the average away from the initial weights (as in
    ``tf.train.ExponentialMovingAverage(num_updates=...)``).
    """
    step = tf.cast(step, "float32")
    return tf.minimum(tf.constant(decay, "float32"), (1.0 + step) / (10.0 + step))


def update_ema(ema_model, model, *, decay, step):
    """Move ``ema_model``'s weights towards ``model``'s: ``ema = d * ema + (1 - d) * weight``.

    Works in a replica context (each replica updates its own copy, identically, through a merge
    call) and outside any strategy.

    Args:
        ema_model: the copy made by :func:`ema_copy`.
        model: the trained model.
        decay: target decay in [0, 1).
        step: number of updates so far (warms the decay up, see :func:`ema_decay_at`).
    """
    rate = ema_decay_at(decay, step)
    triples = [(ema.value, source.value, source.trainable)
               for ema, source in zip(ema_model.weights, model.weights)]

    def apply(strategy, triples):
        for ema, source, trainable in triples:
            def average(target, value, trainable=trainable):
                value = tf.cast(value, target.dtype)
                if not trainable:
                    return target.assign(value)
                d = tf.cast(rate, target.dtype)
                return target.assign(d * target + (1.0 - d) * value)

            strategy.extended.update(ema, average, args=(source,), group=False)

    tf.__internal__.distribute.interim.maybe_merge_call(apply, tf.distribute.get_strategy(), triples)

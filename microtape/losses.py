"""Loss functions: how far predictions are from targets, as one Value to differentiate.

Each takes ``(y_true, y_pred)`` in Keras's order: the targets first, then the
predictions, each a list of numbers or Values of the same length, one entry per
sample. Each returns the mean over the samples as a Value. A loss is nothing but
Value arithmetic: computed inside ``with tape:`` it is recorded, and
``tape.gradient(loss, model.trainable_variables)`` differentiates it; computed
outside, it is just a number, and its gradient is None.

=========================  ===============================================  =============
loss                       per sample                                       targets
=========================  ===============================================  =============
``mean_squared_error``     ``(t - p) ** 2``                                 any number
``mean_absolute_error``    ``|t - p|`` (derivative 0 where ``t == p``)      any number
``hinge``                  ``max(1 - t * p, 0)``                            -1 or 1 (0 → -1)
``binary_crossentropy``    ``-(t log q + (1 - t) log(1 - q))``              in [0, 1]
=========================  ===============================================  =============

For ``binary_crossentropy``, ``q`` is the predicted probability of class 1: the
prediction itself by default, or ``sigmoid(p)`` with ``from_logits=True``.

Like ``microtape.nn``, this module uses only public names, imported from the modules
that define them so that ``mt.losses`` can load lazily without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from .core.errors import ArgumentTypeError, DomainError, ShapeError
from .core.values.builtins import abs_, exp, log, relu, where
from .core.values.value import Value, number
from .core.words import counted

__all__ = [
    "EPSILON",
    "binary_crossentropy",
    "hinge",
    "mean_absolute_error",
    "mean_squared_error",
]

EPSILON: Final = 1e-7
"""How far ``binary_crossentropy`` keeps probabilities from 0 and 1 (Keras's epsilon)."""

Number = Value | float


def _pairs(
    loss: str, y_true: Sequence[Number], y_pred: Sequence[Number]
) -> list[tuple[Number, Number]]:
    for name, given in (("y_true", y_true), ("y_pred", y_pred)):
        seq: object = given
        if isinstance(seq, Value) or not isinstance(seq, (list, tuple)):
            raise ArgumentTypeError(
                f"{loss}: {name} must be a list of numbers or Values (one per sample), "
                f"got {type(seq).__name__} {seq!r}"
            )
    if len(y_true) != len(y_pred):
        raise ShapeError(
            f"{loss}: y_true has {counted(len(y_true), 'target')} but y_pred has "
            f"{counted(len(y_pred), 'prediction')}; give one target per prediction"
        )
    if not y_true:
        raise ShapeError(f"{loss}: no samples; the mean of nothing is undefined")
    return list(zip(y_true, y_pred, strict=True))


def _mean(
    loss: str,
    y_true: Sequence[Number],
    y_pred: Sequence[Number],
    term: Callable[[float, Number], Number],
) -> Value:
    pairs = _pairs(loss, y_true, y_pred)
    terms = [term(_number(loss, t), p) for t, p in pairs]
    total = terms[0]  # not 0.0 + ...: one op fewer on the tape, nothing to explain
    for x in terms[1:]:
        total = total + x
    mean = total / len(pairs)
    # All-float inputs give a float; the loss is still a Value, a constant to any tape.
    return mean if type(mean) is Value else Value(mean)


def _number(loss: str, t: Number) -> float:
    if type(t) is Value:
        return t.data
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise ArgumentTypeError(
            f"{loss}: each target must be a number or a Value, got {type(t).__name__} {t!r}"
        )
    return float(t)


def mean_squared_error(y_true: Sequence[Number], y_pred: Sequence[Number]) -> Value:
    """The mean of ``(t - p) ** 2``; its derivative in ``p`` is ``2 (p - t) / n``.

    Targets are taken as constants: only the predictions get gradients.

    Raises:
        ShapeError: if the lists differ in length or are empty.

    Example:
        >>> from microtape import losses
        >>> losses.mean_squared_error([2.0, 4.0], [1.0, 4.0])
        Value(0.5)
    """

    def term(t: float, p: Number) -> Number:
        d = p - t
        return d * d

    return _mean("mean_squared_error", y_true, y_pred, term)


def mean_absolute_error(y_true: Sequence[Number], y_pred: Sequence[Number]) -> Value:
    """The mean of ``|t - p|``; its derivative in ``p`` is ``sign(p - t) / n`` (0 where equal).

    Example:
        >>> from microtape import losses
        >>> losses.mean_absolute_error([2.0, 4.0], [1.0, 7.0])
        Value(2.0)
    """
    return _mean("mean_absolute_error", y_true, y_pred, lambda t, p: abs_(p - t))


def hinge(y_true: Sequence[Number], y_pred: Sequence[Number]) -> Value:
    """The mean of ``max(1 - t * p, 0)``, the margin loss of a support vector machine.

    Targets are -1 or 1; 0 is read as -1, as Keras does, so 0/1 labels work too. A
    prediction on the right side by a margin of at least 1 costs nothing and gets a
    zero gradient; otherwise the derivative in ``p`` is ``-t / n``.

    Raises:
        DomainError: for a target other than -1, 0 or 1.

    Example:
        >>> from microtape import losses
        >>> losses.hinge([1.0, -1.0], [0.25, -3.0])   # (0.75 + 0) / 2
        Value(0.375)
    """

    def term(t: float, p: Number) -> Number:
        if t not in (-1.0, 0.0, 1.0):
            raise DomainError(f"hinge: targets must be -1 or 1 (or 0 for -1), got {t!r}")
        sign = 1.0 if t == 1.0 else -1.0
        return relu(1.0 - sign * p)

    return _mean("hinge", y_true, y_pred, term)


def binary_crossentropy(
    y_true: Sequence[Number], y_pred: Sequence[Number], from_logits: bool = False
) -> Value:
    """Binary log-loss: the mean of ``-(t log q + (1 - t) log(1 - q))``.

    ``q`` is the predicted probability of class 1.

    - ``from_logits=True`` (recommended): each prediction is a logit ``z`` and
      ``q = sigmoid(z)``. The loss is computed as ``softplus(z) - t z``, with
      ``softplus(z) = log(1 + e^z)`` written ``z + log(1 + e^-z)`` for ``z > 0``:
      ``exp`` never overflows, ``log`` never sees 0, and the derivative is exactly
      ``(sigmoid(z) - t) / n`` for every logit, however large.
    - ``from_logits=False`` (Keras's default): each prediction is a probability,
      first clipped to ``[EPSILON, 1 - EPSILON]`` so that ``log`` never sees 0. A
      clipped prediction costs at most ``-log(EPSILON) ≈ 16.1`` and, as in
      TensorFlow, gets a zero gradient: prefer logits.

    Raises:
        DomainError: for a target outside [0, 1], or a probability outside [0, 1].

    Example:
        >>> import math
        >>> from microtape import losses
        >>> round(losses.binary_crossentropy([1.0], [0.0], from_logits=True).data, 6)
        0.693147
        >>> losses.binary_crossentropy([1.0], [0.0]).data == -math.log(1e-7)   # clipped
        True
    """
    if not isinstance(from_logits, bool):
        raise ArgumentTypeError(
            f"binary_crossentropy: from_logits must be a bool, got {from_logits!r}"
        )

    def target(t: float) -> float:
        if not 0.0 <= t <= 1.0:
            raise DomainError(
                f"binary_crossentropy: targets are probabilities of class 1, in [0, 1]; got {t!r}"
            )
        return t

    def from_logit(t: float, z: Number) -> Number:
        t = target(t)
        # softplus(z) = max(z, 0) + log(1 + e^-|z|): exp only ever sees a non-positive
        # number. Written with ops, not a Python branch on z, so that a compiled step
        # meets no guard: relu(z) is max(z, 0), and where(z, -z, z) is -|z|, except at
        # z == 0, where it takes z's slope (1) rather than abs's kink (0), so that the
        # gradient there is sigmoid(0) - t, as everywhere else. For z > 0 these are the
        # very float operations of z + log(1 + e^-z); for z <= 0, of log(1 + e^z).
        softplus = relu(z) + log(1.0 + exp(where(z, -z, z)))
        return softplus - t * z

    def from_probability(t: float, q: Number) -> Number:
        t = target(t)
        if not 0.0 <= q <= 1.0:
            raise DomainError(
                f"binary_crossentropy: prediction {number(q)!r} is not a probability in "
                "[0, 1]; pass from_logits=True if the model outputs logits"
            )
        if q < EPSILON or q > 1.0 - EPSILON:
            # Clip as tf.clip_by_value does: the constant keeps a zero-gradient link
            # to q, so the prediction stays connected to the loss.
            q = q * 0.0 + min(max(number(q), EPSILON), 1.0 - EPSILON)
        return -(t * log(q) + (1.0 - t) * log(1.0 - q))

    term = from_logit if from_logits else from_probability
    return _mean("binary_crossentropy", y_true, y_pred, term)

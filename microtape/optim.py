"""Optimizers: ``SGD`` and ``Adam``, which move parameters against their gradients.

As in Keras, an optimizer takes ``(gradient, variable)`` pairs, usually
``zip(tape.gradient(loss, variables), variables)``::

    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))

An update is plain float arithmetic on ``variable.data``, outside any tape: moving
a parameter is not part of the computation being differentiated. Each optimizer
keeps its state (velocities, moment estimates) per variable, keyed by the Value
object itself, so two parameters that happen to hold the same number never share
state.

A ``None`` gradient means the loss does not depend on that variable through
anything the tape recorded. Keras then says only "No gradients provided for any
variable"; microtape raises :class:`MissingGradientError` naming the variable, and
updates nothing.

Like ``microtape.nn``, this module uses only public names, imported from the modules
that define them so that ``mt.optim`` can load lazily without an import cycle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import SupportsFloat

from .core.errors import ArgumentTypeError, DomainError, MissingGradientError
from .core.values.value import Value, number
from .core.words import figure

__all__ = ["SGD", "Adam", "MissingGradientError", "Optimizer"]

Pair = tuple[Value | SupportsFloat | None, Value]
"""One ``(gradient, variable)`` pair: the gradient a Value, a number, or None."""


def _why_none(position: int, variable: Value) -> str:
    name = variable.name  # a model's parameter: its place in the model, kernel[0][0]
    shown = repr(variable) if name is None else f"{name} = {figure(variable.data)}"
    return (
        f"apply_gradients: the gradient of variable {position} ({shown}) is None, so "
        "nothing was updated. None means the loss does not depend on this variable through "
        "any op the tape recorded. Usually the forward pass or the loss was computed "
        "outside `with tape:` (a Value does not remember how it was computed: only what "
        "the tape saw can be differentiated), or this variable is not used by the model. "
        "To see why, call tape.gradient(loss, variables, unconnected_gradients='raise') "
        "or tape.explain(loss, variable) before the tape is used up. Leave a variable you "
        "mean to freeze out of the pairs."
    )


def _pair(position: int, pair: object) -> tuple[object, object]:
    """``pair`` as ``(gradient, variable)``, or an error naming the likely mistake."""
    if type(pair) is Value or pair is None or isinstance(pair, (int, float)):
        raise ArgumentTypeError(
            f"apply_gradients: item {position} is {pair!r}, not a (gradient, variable) pair: "
            "were the gradients passed alone? The optimizer needs to know which variable "
            "each gradient moves; pair them: "
            "optimizer.apply_gradients(zip(grads, model.trainable_variables))"
        )
    items = tuple(pair) if isinstance(pair, Iterable) else ()
    if len(items) != 2:
        raise ArgumentTypeError(
            f"apply_gradients: item {position} must be a (gradient, variable) pair, got "
            f"{type(pair).__name__} {pair!r}; pass zip(grads, model.trainable_variables)"
        )
    return items[0], items[1]


def _rate(owner: str, name: str, x: object, *, low: float, high: float | None = None) -> float:
    """``x`` as a float in ``(low, high)`` or ``[low, high)`` (see the callers), else raise."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ArgumentTypeError(f"{owner}: {name} must be a number, got {x!r}")
    value = float(x)
    if not math.isfinite(value) or value < low or (high is not None and value >= high):
        where = f"in [{low:g}, {high:g})" if high is not None else f">= {low:g}"
        raise DomainError(f"{owner}: {name} must be {where}, got {x!r}")
    return value


class Optimizer:
    """What every optimizer shares: checking the pairs, then one update per variable.

    Subclasses implement ``_update(variable, gradient)``; ``apply_gradients``
    validates everything before it changes anything.
    """

    def __init__(self, learning_rate: float) -> None:
        owner = type(self).__name__
        self.learning_rate = _rate(owner, "learning_rate", learning_rate, low=0.0)
        self.iterations = 0  # how many times apply_gradients updated (Keras's name)

    def apply_gradients(self, pairs: Iterable[Pair]) -> None:
        """Move each variable one step against its gradient.

        Args:
            pairs: ``(gradient, variable)`` pairs, such as ``zip(grads, variables)``.

        Raises:
            MissingGradientError: if a gradient is None; no variable is updated then.
            ArgumentTypeError: if a variable is not a Value or a gradient not a number.
        """
        checked: list[tuple[float, Value]] = []
        given: object = pairs
        if type(given) is Value or given is None or isinstance(given, (int, float)):
            raise ArgumentTypeError(
                f"apply_gradients: got {given!r}, a single gradient; it takes (gradient, "
                "variable) pairs: optimizer.apply_gradients([(gradient, variable)]), or "
                "zip(grads, model.trainable_variables) for many"
            )
        for position, pair in enumerate(pairs):
            gradient, variable = _pair(position, pair)
            if type(variable) is not Value:
                raise ArgumentTypeError(
                    f"apply_gradients: variable {position} must be a Value (a model's "
                    f"trainable variable), got {type(variable).__name__} {variable!r}; "
                    "pairs are (gradient, variable), in that order"
                )
            if gradient is None:
                raise MissingGradientError(_why_none(position, variable))
            if isinstance(gradient, bool) or not hasattr(gradient, "__float__"):
                raise ArgumentTypeError(
                    f"apply_gradients: the gradient of variable {position} must be a Value or a "
                    f"number, got {type(gradient).__name__} {gradient!r}"
                )
            checked.append((number(gradient), variable))
        self.iterations += 1
        for gradient_, variable in checked:
            self._update(variable, gradient_)

    def _update(self, variable: Value, gradient: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (Keras's formulation).

    Without momentum: ``w -= learning_rate * g``. With momentum ``m``, each variable
    keeps a velocity ``v``: ``v = m * v - learning_rate * g``, then ``w += v``.

    Args:
        learning_rate: the step size, >= 0.
        momentum: in [0, 1); 0 is plain gradient descent.

    Example:
        >>> import microtape as mt
        >>> from microtape import optim
        >>> w = mt.Value(1.0)
        >>> with mt.GradientTape() as tape:
        ...     loss = w * w                     # d loss / dw = 2w = 2
        >>> grads = tape.gradient(loss, [w])
        >>> optim.SGD(learning_rate=0.1).apply_gradients(zip(grads, [w]))
        >>> w                                    # 1 - 0.1 * 2
        Value(0.8)
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0) -> None:
        super().__init__(learning_rate)
        self.momentum = _rate("SGD", "momentum", momentum, low=0.0, high=1.0)
        self._velocity: dict[Value, float] = {}

    def _update(self, variable: Value, gradient: float) -> None:
        if self.momentum == 0.0:
            variable.data = variable.data - self.learning_rate * gradient
            return
        v = self.momentum * self._velocity.get(variable, 0.0) - self.learning_rate * gradient
        self._velocity[variable] = v
        variable.data = variable.data + v


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of each gradient's mean and size.

    Keras's formulation, per variable, at its ``t``-th update::

        m = m + (1 - beta_1) * (g - m)            # running mean of g
        v = v + (1 - beta_2) * (g * g - v)        # running mean of g squared
        step = learning_rate * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        w = w - step * m / (sqrt(v) + epsilon)

    The first steps have size about ``learning_rate`` whatever the scale of the
    gradient. ``t`` counts the updates of each variable separately, so a variable
    first updated late still gets its bias correction.

    Args:
        learning_rate: the step size, >= 0.
        beta_1, beta_2: decay rates of the two running means, in [0, 1).
        epsilon: keeps the division finite, > 0.

    Example:
        >>> import microtape as mt
        >>> from microtape import optim
        >>> w = mt.Value(1.0)
        >>> optimizer = optim.Adam(learning_rate=0.1)
        >>> optimizer.apply_gradients([(mt.Value(250.0), w)])
        >>> round(w.data, 6)                     # the first step is learning_rate
        0.9
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(learning_rate)
        self.beta_1 = _rate("Adam", "beta_1", beta_1, low=0.0, high=1.0)
        self.beta_2 = _rate("Adam", "beta_2", beta_2, low=0.0, high=1.0)
        self.epsilon = _rate("Adam", "epsilon", epsilon, low=0.0)
        if self.epsilon == 0.0:
            raise DomainError("Adam: epsilon must be > 0, got 0")
        # variable -> (updates so far, m, v)
        self._moments: dict[Value, tuple[int, float, float]] = {}

    def _update(self, variable: Value, gradient: float) -> None:
        t, m, v = self._moments.get(variable, (0, 0.0, 0.0))
        t += 1
        m += (1.0 - self.beta_1) * (gradient - m)
        v += (1.0 - self.beta_2) * (gradient * gradient - v)
        self._moments[variable] = (t, m, v)
        step = self.learning_rate * math.sqrt(1.0 - self.beta_2**t) / (1.0 - self.beta_1**t)
        variable.data = variable.data - step * m / (math.sqrt(v) + self.epsilon)

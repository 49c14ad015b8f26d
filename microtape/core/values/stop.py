"""``stop_gradient``: a Value's number, which no tape or accumulator differentiates through.

TensorFlow's ``tf.stop_gradient`` and JAX's ``lax.stop_gradient``: ``stop_gradient(x)``
holds ``x``'s number, and the gradient of anything computed from it flows back as far
as it and no further. A target network in a reinforcement-learning loss, the fixed
half of a straight-through estimator, a moving average used as a constant: each reads a
number the tapes must not follow back.

It is recorded as one row (see ``recording/record.py``) whose argument has a node and
a number but no partial: ``None``, as a constant argument has. So the reverse sweeps pass
nothing back through it, forward mode pushes no tangent through it, and a tape knows
nothing connects the output to ``x``: where the only way from a source to the target
goes through ``stop_gradient``, the gradient is ``None``, as in TensorFlow, and not
``0.0``, which a derivative rule of 0 would give (a slope of 0 still connects, as
``hold`` does). The row names the op :data:`STOP_GRADIENT`, so ``print(tape)``,
``mt.to_dot`` and ``mt.function`` see it; the generated code computes the number from
``x`` at each call. The op is not in the registry: the registry promises that every op
agrees with its derivatives (``microtape check``), and this one, the identity with no
derivative, is an instruction to the sweeps, not a function to check.
"""

from __future__ import annotations

from types import ModuleType
from typing import overload

from ..recording.context import RECORDING
from .numbers import as_number
from .op import Op
from .value import Value, next_node, node_value

__all__ = ["STOP_GRADIENT", "stop_gradient"]


def _sympy() -> ModuleType:
    import sympy

    return sympy


def _same(x: float) -> float:
    return x


STOP_GRADIENT = Op(
    "stop_gradient",
    _same,
    # Never a partial on a tape (the row holds None); a reader that calls the rules
    # anyway (the tracer's code for a row it writes out) gets the slope of a constant.
    [lambda x: 0.0],
    sympy=lambda x: _sympy().Function("stop_gradient")(x),
    doc="x, through which no gradient or tangent flows (recorded with no partial)",
)
"""The op a ``stop_gradient`` row names."""


@overload
def stop_gradient(x: Value) -> Value: ...
@overload
def stop_gradient(x: float) -> float: ...
@overload
def stop_gradient(x: Value | float) -> Value | float: ...
def stop_gradient(x: Value | float) -> Value | float:
    """``x``'s number, as a Value that no tape, accumulator or compiled function
    differentiates through (TensorFlow's ``tf.stop_gradient``).

    A number (int, float, bool) comes back as a float: there is nothing to stop.

    Raises:
        ArgumentTypeError: if ``x`` is neither a Value nor a number.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.GradientTape() as tape:
        ...     y = x * mt.stop_gradient(x)      # x times a constant that happens to be x
        >>> tape.gradient(y, x)                  # 3, not 2x = 6
        Value(3.0)
        >>> with mt.GradientTape() as tape:
        ...     z = mt.stop_gradient(x * x)
        >>> print(tape.gradient(z, x))          # the only way back is stopped: None
        None
    """
    if type(x) is not Value:
        return as_number("stop_gradient", "x", x)
    number = x._data
    n = next_node()
    out = node_value(number, n)
    sink = RECORDING.get()
    if sink is not None:
        sink.extend((n, number, x._id, number, None, None, None, None, STOP_GRADIENT))
    return out

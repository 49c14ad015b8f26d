"""Function transforms for tiny scripts: derivatives of plain functions, floats in and out.

JAX and HIPS autograd differentiate functions; TensorFlow differentiates what a tape
recorded. These are the first, built on the second: each runs ``f`` inside a
``GradientTape`` or a ``ForwardAccumulator`` and hands back plain floats, so they plug
into a hand-written Newton loop, or into ``scipy.optimize.minimize(fun, x0, jac=True)``
with ``fun = mt.value_and_grad(f)``.

- An argument is a number, or a list, tuple or dict nesting numbers (any other
  sequence, such as a numpy array, counts as a list). ``f`` receives each number as a
  ``Value``, in the same nesting, and returns a Value or a number (``jvp``, ``vjp`` and
  ``jacobian``: or a list, tuple or dict nesting them). A function that does not depend
  on an argument gives 0.0 for it, as JAX does.
- Results are floats in the nesting of the argument. Given Values instead of numbers,
  the transforms use them as they are and return Values, so that they compose:
  ``mt.grad(mt.grad(f))(x)`` is the second derivative.
- Annotate ``f`` (``def f(x: mt.Value) -> mt.Value``, or with ``float``) and mypy sees
  ``float`` in and ``float`` out; a lambda or an unusual signature gets ``Any``.

``reverse_mode.py`` holds the transforms built on tapes (``grad``, ``value_and_grad``,
``vjp``, ``hessian``), ``forward_mode.py`` those built on accumulators (``jvp``, ``hvp``,
``jacobian``), ``shapes.py`` what they all take and give. The core imports none of it.

Example:
    >>> import microtape as mt
    >>> def f(x: mt.Value) -> mt.Value:
    ...     return x * x * x
    >>> mt.grad(f)(2.0)
    12.0
    >>> mt.value_and_grad(f)(2.0)
    (8.0, 12.0)
    >>> mt.hessian(f)(2.0)
    12.0
    >>> mt.grad(mt.grad(f))(2.0)
    12.0
"""

from __future__ import annotations

__all__ = [
    "AnyFunction",
    "Mode",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "value_and_grad",
    "vjp",
]

from .forward_mode import hvp, jacobian, jvp
from .reverse_mode import grad, hessian, value_and_grad, vjp
from .shapes import AnyFunction, Mode

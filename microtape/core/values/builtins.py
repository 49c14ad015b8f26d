"""The built-in ops, as one table: name, forward, one derivative per argument, sympy form.

Read it as a derivative cheat sheet. Each rule is written with microtape functions
and Value arithmetic, so it runs on floats (first-order gradients) and on Values
(recorded, for second and higher orders through nested tapes). Python's operators
on Values record these entries (the table binds them at its end, ``use_operators``):
``+``, ``-``, ``*`` and unary ``-`` are written out in ``value.py`` for speed, with
the partials these rules give.

Conventions at kinks, as PyTorch: ``relu'(0) = 0`` and ``abs'(0) = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import DomainError
from .interval import Interval
from .op import Op
from .value import number as _number
from .value import use_methods, use_operators

if TYPE_CHECKING:
    from .value import Value

__all__ = [
    "BUILTINS",
    "abs_",
    "add",
    "cos",
    "div",
    "exp",
    "hold",
    "log",
    "mul",
    "neg",
    "pow_",
    "relu",
    "sigmoid",
    "sin",
    "sqrt",
    "sub",
    "tan",
    "tanh",
    "where",
]


def sp() -> ModuleType:
    """sympy, imported on first use: only the oracle calls the sympy forms."""
    import sympy

    return sympy


POSITIVE = Interval(0.0)
NONNEGATIVE = Interval(0.0, include_low=True)
NONZERO = (Interval(high=0.0), Interval(0.0))


# ---- forwards that need more care than one math call ---------------------------------------


def _exp(x: float) -> float:
    # Overflow gives inf, as IEEE arithmetic (and NumPy, PyTorch) do, not OverflowError.
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _div(a: float, b: float) -> float:
    return a / b


def _pow(x: float, y: float) -> float:
    if x != x or y != y:
        return math.pow(x, y)  # NaN propagates (IEEE keeps pow(1, nan) = pow(nan, 0) = 1)
    if x < 0.0 and not y.is_integer():
        raise DomainError(
            f"pow: x={x!r}, y={y!r}: a negative base needs an integer exponent "
            "(the result would be a complex number)"
        )
    if x == 0.0 and y < 0.0:
        raise DomainError(f"pow: x=0.0, y={y!r}: zero cannot be raised to a negative power")
    try:
        return math.pow(x, y)
    except OverflowError:
        negative = x < 0.0 and y.is_integer() and int(y) % 2 == 1
        return -math.inf if negative else math.inf


def _periodic(f: Callable[[float], float]) -> Callable[[float], float]:
    """``f`` giving NaN at ±inf, as IEEE sin does, where ``math.sin`` raises ValueError."""

    def at(x: float) -> float:
        return f(x) if x - x == 0.0 else math.nan  # x - x is NaN exactly for ±inf and NaN

    return at


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows and small results keep their precision.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # so that NaN stays NaN


# ---- derivative rules that are not one-liners ------------------------------------------


# Rules call pow_(x, y), not x ** y: on two floats Python's ** raises OverflowError and
# returns complex numbers, where pow_ gives inf and raises DomainError.


def _pow_dx(x: Value | float, y: Value | float) -> Value | float:
    # d/dx x**y = y * x**(y - 1). At x == 0 with y == 0 that formula needs 0**-1, but
    # x**0 is the constant 1: derivative 0. Elsewhere keep the formula, even at y == 0,
    # so that the mixed second derivative d/dy (y * x**(y-1)) = x**-1 survives.
    xd, yd = _number(x), _number(y)
    if xd == 0.0 and yd == 0.0:
        return 0.0
    if 0.0 < abs(xd) < 1.0 and _pow(xd, yd - 1.0) in (math.inf, -math.inf):
        # x**(y - 1) overflows where y * x**(y - 1) need not (x = y = 5e-324 gives 1):
        # the same function written as (y / x) * x**y keeps the numbers in range.
        return (y / x) * pow_(x, y)
    return y * pow_(x, y - 1.0)


def _pow_dy(x: Value | float, y: Value | float) -> Value | float:
    # d/dy x**y = x**y * log(x), real only for x > 0. At x == 0, 0**y is the constant 0
    # for every y > 0, so the derivative there is 0; at y == 0 it jumps to 1 and has
    # none. A negative base has no derivative in y: x**y is real only at integer y.
    if x > 0.0:
        return pow_(x, y) * log(x)
    xd, yd = _number(x), _number(y)
    if xd == 0.0 and yd > 0.0:
        return 0.0
    if xd != xd or yd != yd:
        return math.nan
    raise DomainError(
        f"pow: the derivative with respect to y does not exist at x={xd!r}, "
        f"y={yd!r}: x**y is not differentiable in y there"
    )


def _where(condition: float, x: float, y: float) -> float:
    return x if condition > 0.0 else y


def _where_dx(condition: Value | float, x: Value | float, y: Value | float) -> float:
    return 1.0 if _number(condition) > 0.0 else 0.0


def _where_dy(condition: Value | float, x: Value | float, y: Value | float) -> float:
    return 0.0 if _number(condition) > 0.0 else 1.0


# Kinks: the derivative at 0 is 0, as in PyTorch. abs'(x) is sign(x), NaN at NaN;
# relu'(x) is 1 where x > 0 and 0 elsewhere, NaN included, as TensorFlow, PyTorch and
# JAX have it (relu(nan) itself is NaN).


def _abs_dx(x: Value | float) -> float:
    xd = _number(x)
    if xd > 0.0:
        return 1.0
    if xd < 0.0:
        return -1.0
    return 0.0 if xd == 0.0 else math.nan


def _relu_dx(x: Value | float) -> float:
    return 1.0 if _number(x) > 0.0 else 0.0


def _tanh_dx(x: Value | float) -> Value | float:
    # sech(x)**2 = 4 s(2x) s(-2x), with s the sigmoid: exact to full relative precision
    # for large |x|, where the textbook 1 - tanh(x)**2 rounds to 0, and a product of
    # numbers in [0, 1] however far out, so that its own derivatives (higher orders)
    # never meet inf / inf, as 4 / (e**x + e**-x)**2 does past |x| = 709.78.
    return 4.0 * sigmoid(2.0 * x) * sigmoid(-2.0 * x)


def _sigmoid_dx(x: Value | float) -> Value | float:
    # s(x) * (1 - s(x)), written as s(x) * s(-x) so large |x| keeps its precision.
    return sigmoid(x) * sigmoid(-x)


# ---- the table ---------------------------------------------------------------------------

# fmt: off
add = Op("add", lambda a, b: a + b,
         [lambda a, b: 1.0,
          lambda a, b: 1.0],
         sympy=lambda a, b: a + b, doc="a + b")

sub = Op("sub", lambda a, b: a - b,
         [lambda a, b: 1.0,
          lambda a, b: -1.0],
         sympy=lambda a, b: a - b, doc="a - b")

mul = Op("mul", lambda a, b: a * b,
         [lambda a, b: b,
          lambda a, b: a],
         sympy=lambda a, b: a * b, doc="a * b")

div = Op("div", _div,
         [lambda a, b: 1.0 / b,
          lambda a, b: -(a / b) / b],  # not -a / (b * b): b * b can underflow to 0
         sympy=lambda a, b: a / b, domain=[None, NONZERO], doc="a / b; b = 0 raises")

pow_: Op = Op("pow", _pow,
          [_pow_dx,
           _pow_dy],
          sympy=lambda x, y: x**y,
          doc="x ** y; a negative x needs an integer y, and 0 ** y needs y >= 0")

neg = Op("neg", lambda x: -x,
         [lambda x: -1.0],
         sympy=lambda x: -x, doc="-x")

abs_ = Op("abs", math.fabs,
          [_abs_dx],
          sympy=lambda x: sp().Abs(x), doc="|x|; derivative 0 at x = 0")

exp: Op = Op("exp", _exp,
         [lambda x: exp(x)],
         sympy=lambda x: sp().exp(x), doc="e ** x; inf past 709.78")

log: Op = Op("log", math.log,
         [lambda x: 1.0 / x],
         sympy=lambda x: sp().log(x), domain=[POSITIVE], doc="natural logarithm, x > 0")

sin: Op = Op("sin", _periodic(math.sin),
         [lambda x: cos(x)],
         sympy=lambda x: sp().sin(x), doc="sine")

cos: Op = Op("cos", _periodic(math.cos),
         [lambda x: -sin(x)],
         sympy=lambda x: sp().cos(x), doc="cosine")

tan = Op("tan", _periodic(math.tan),
         [lambda x: 1.0 / (cos(x) * cos(x))],
         sympy=lambda x: sp().tan(x), doc="tangent")

tanh = Op("tanh", math.tanh,
          [_tanh_dx],
          sympy=lambda x: sp().tanh(x), doc="hyperbolic tangent")

sigmoid: Op = Op("sigmoid", _sigmoid,
             [_sigmoid_dx],
             sympy=lambda x: 1 / (1 + sp().exp(-x)), doc="logistic function 1 / (1 + e ** -x)")

relu = Op("relu", _relu,
          [_relu_dx],
          sympy=lambda x: sp().Piecewise((x, x > 0), (0, True)),
          doc="max(x, 0); derivative 0 at x = 0")

# A per-sample choice written as one op, as jnp.where and tf.where are: no Python branch,
# so mt.function meets no guard. The condition's slope is 0 (a kink, by convention).
where = Op("where", _where,
           [lambda condition, x, y: 0.0,
            _where_dx,
            _where_dy],
           sympy=lambda condition, x, y: sp().Piecewise((x, condition > 0), (y, True)),
           doc="x where condition > 0, else y (NaN picks y); derivative 0 in condition")

sqrt: Op = Op("sqrt", math.sqrt,
          [lambda x: 0.5 / sqrt(x)],
          sympy=lambda x: sp().sqrt(x), domain=[NONNEGATIVE],
          doc="square root, x >= 0; not differentiable at 0")

# How a gradient taken under an outer tape stays connected to what its target depends
# on (see GradientTape.gradient): the outer tape sees the gradient as a function of the
# target with slope 0, so differentiating it again gives 0, never None, for anything
# the target depends on. A rule that returns a constant still depends on its argument.
hold = Op("hold", lambda value, at: value,
          [lambda value, at: 1.0,
           lambda value, at: 0.0],
          sympy=lambda value, at: value,
          doc="value, as a function of at with slope 0 (d/dvalue = 1, d/dat = 0)")
# fmt: on

BUILTINS: tuple[Op, ...] = (
    add,
    sub,
    mul,
    div,
    pow_,
    neg,
    abs_,
    exp,
    log,
    sin,
    cos,
    tan,
    tanh,
    sigmoid,
    relu,
    where,
    sqrt,
    hold,
)
"""Every built-in op, in the order the table declares them."""


def strong_product(a: float, b: float) -> float:
    """``a * b``, where a zero factor is a *strong zero*: 0.0 even against inf or NaN
    (``0 * inf`` is NaN in floats), as the float sweep takes the chain rule's products."""
    c = a * b
    return 0.0 if c != c and (a == 0.0 or b == 0.0) else c


# fmt: off
# The chain rule's product in the sweeps on Values, which must give the float sweep's
# strong zero too (core/transforms/reverse.py, and forward mode's): mul's partials, and
# mul's number except where a zero meets inf or NaN. Not an op of the table (not in
# BUILTINS, not registered): the sweeps record it, and no one else calls it.
strong_mul = Op("strong_mul", strong_product,
                [lambda a, b: b,
                 lambda a, b: a],
                sympy=lambda a, b: a * b,
                doc="a * b, with a zero factor a strong zero (0 even against inf or NaN)")
# fmt: on

use_operators(add=add, sub=sub, mul=mul, div=div, pow=pow_, neg=neg, abs=abs_)
use_methods(
    exp=exp, log=log, sin=sin, cos=cos, tan=tan, tanh=tanh, sigmoid=sigmoid, relu=relu, sqrt=sqrt
)

"""Hyperbolic functions and the error function as microtape ops.

Installed, this distribution adds ``sinh``, ``cosh``, ``asinh``, ``acosh``, ``atanh``
and ``erf`` to microtape through the ``microtape.ops`` entry points in its
``pyproject.toml``: ``mt.op("acosh")`` and ``mt.ops.acosh`` find them, with no change
to microtape. They can also be imported directly.

Each derivative rule is written with microtape functions (these ops, ``mt.exp``,
``mt.sqrt``) and Value arithmetic, so the same rule gives first derivatives on floats
and, recorded on an outer tape, second and higher derivatives.

Domains: ``acosh`` takes ``x >= 1`` and ``atanh`` takes ``-1 < x < 1``; outside, the
call raises ``DomainError``. ``acosh`` is defined at 1 but its derivative is infinite
there, so a tape refuses to record ``acosh(1)`` rather than hand out an infinite or NaN
gradient later.

Example:
    >>> import microtape as mt
    >>> from microtape_hyperbolic import acosh
    >>> x = mt.Value(2.0)
    >>> with mt.GradientTape() as tape:
    ...     y = acosh(x)
    >>> round(tape.gradient(y, x).data, 12)   # 1 / sqrt(x**2 - 1) = 1 / sqrt(3)
    0.57735026919
"""

from __future__ import annotations

import math

import microtape as mt
from microtape import Interval, Op, Value
from microtape.symbolic import sympy

__all__ = ["ALL", "acosh", "asinh", "atanh", "cosh", "erf", "sinh"]


AT_LEAST_ONE = Interval(1.0, include_low=True)
OPEN_UNIT = Interval(-1.0, 1.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ---- forwards: the float value, inf past the float range (never OverflowError) ------------


def _sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def _cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf


# ---- derivative rules that are not one-liners ------------------------------------------


def _asinh_dx(x: Value | float) -> Value | float:
    # 1 / sqrt(1 + x**2). Past |x| = 1 it is written with r = 1/x, as |r| / sqrt(1 + r**2),
    # so that x**2 cannot overflow for large x.
    if abs(mt.number(x)) <= 1.0:
        return 1.0 / mt.sqrt(1.0 + x * x)
    r = 1.0 / x
    return mt.abs(r) / mt.sqrt(1.0 + r * r)


def _acosh_dx(x: Value | float) -> Value | float:
    # 1 / sqrt(x**2 - 1), with (x - 1) * (x + 1) for precision near 1. At x = 1 the
    # derivative is infinite: 1 / 0 raises, and the tape refuses to record the point.
    # Past 2 it is written with r = 1/x, so that x**2 cannot overflow.
    if mt.number(x) <= 2.0:
        return 1.0 / mt.sqrt((x - 1.0) * (x + 1.0))
    r = 1.0 / x
    return r / mt.sqrt((1.0 - r) * (1.0 + r))


# ---- the table: name, forward, one derivative rule, sympy form, domain ---------------------

# fmt: off
sinh: Op = Op("sinh", _sinh,
          [lambda x: cosh(x)],
          sympy=lambda x: sympy().sinh(x), doc="hyperbolic sine; inf past |x| = 710.5")

cosh: Op = Op("cosh", _cosh,
          [lambda x: sinh(x)],
          sympy=lambda x: sympy().cosh(x), doc="hyperbolic cosine; inf past |x| = 710.5")

asinh = Op("asinh", math.asinh,
           [_asinh_dx],
           sympy=lambda x: sympy().asinh(x), doc="inverse hyperbolic sine")

acosh = Op("acosh", math.acosh,
           [_acosh_dx],
           sympy=lambda x: sympy().acosh(x), domain=[AT_LEAST_ONE],
           doc="inverse hyperbolic cosine, x >= 1; not differentiable at 1")

atanh = Op("atanh", math.atanh,
           [lambda x: 1.0 / ((1.0 - x) * (1.0 + x))],
           sympy=lambda x: sympy().atanh(x), domain=[OPEN_UNIT],
           doc="inverse hyperbolic tangent, -1 < x < 1")

erf = Op("erf", math.erf,
         [lambda x: TWO_OVER_SQRT_PI * mt.exp(-(x * x))],
         sympy=lambda x: sympy().erf(x), doc="error function 2/sqrt(pi) * integral of e**-t**2")
# fmt: on

ALL: tuple[Op, ...] = (sinh, cosh, asinh, acosh, atanh, erf)
"""Every op of this distribution, in the order of the table."""

"""Two-argument ops and ops with kinks for microtape.

Installed, this distribution adds ``hypot``, ``logaddexp``, ``maximum``, ``softplus``,
``normal_cdf`` and ``gelu`` to microtape through the ``microtape.ops`` entry points in
its ``pyproject.toml``; they can also be imported directly.

Each derivative rule is written with microtape functions and Value arithmetic, so
second and higher derivatives come out of nested tapes.

Where a derivative does not exist, the documented choice:

- ``maximum(a, b)`` at a tie ``a == b`` shares the gradient equally: 1/2 to each
  argument (a subgradient, as PyTorch's ``maximum``), so ``maximum(x, x)`` has
  derivative 1, like ``x``. Note that the built-in ``relu`` gives 0 at its kink, so
  ``maximum(x, 0.0)`` and ``relu(x)`` differ at exactly ``x = 0``.
- ``hypot(a, b)`` is a cone at ``(0, 0)``: no subgradient is chosen, and a tape refuses
  to record that point (DomainError), as it does for ``sqrt`` at 0.

Example:
    >>> import microtape as mt
    >>> from microtape_activations import maximum
    >>> a, b = mt.Value(2.0), mt.Value(2.0)
    >>> with mt.GradientTape() as tape:
    ...     y = maximum(a, b)
    >>> tape.gradient(y, [a, b])
    [Value(0.5), Value(0.5)]
"""

from __future__ import annotations

import math

import microtape as mt
from microtape import Op, Value
from microtape.symbolic import sympy

__all__ = ["ALL", "gelu", "hypot", "logaddexp", "maximum", "normal_cdf", "softplus"]


LN2 = math.log(2.0)
SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# ---- hypot: sqrt(a**2 + b**2), a cone at the origin -----------------------------------------


def _hypot_share(p: Value | float, q: Value | float) -> Value | float:
    """``p / hypot(p, q)``: the partial derivative of hypot with respect to ``p``."""
    # Written through t, the smaller argument over the larger (|t| <= 1). The plain
    # p / hypot(p, q) is right, but its own derivative (hypot's second derivative) then
    # comes out as 1/h - (p/h)**2 / h, which cancels to noise far from the diagonal.
    # At p = q = 0 there is no derivative: q / p raises, and the tape refuses the point.
    if abs(mt.number(p)) >= abs(mt.number(q)):
        t = q / p
        return math.copysign(1.0, mt.number(p)) / mt.sqrt(1.0 + t * t)
    t = p / q
    return t * math.copysign(1.0, mt.number(q)) / mt.sqrt(1.0 + t * t)


# ---- logaddexp and softplus: log(e**a + e**b) and log(1 + e**x), without overflow -------------


def _logaddexp(a: float, b: float) -> float:
    if a == b:
        return a + LN2  # also right at a == b == +-inf, where a - b is NaN
    if a > b:
        return a + math.log1p(math.exp(b - a))
    if b > a:
        return b + math.log1p(math.exp(a - b))
    return a + b  # NaN in, NaN out


def _softplus(x: float) -> float:
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))  # also NaN for NaN


# ---- maximum: a kink along a == b ----------------------------------------------------------


def _maximum(a: float, b: float) -> float:
    if a > b:
        return a
    if b > a:
        return b
    return a if a == b else math.nan  # NaN in, NaN out (Python's max would drop it)


def _maximum_share(p: Value | float, q: Value | float) -> float:
    """d/dp maximum(p, q): 1 where p is larger, 0 where it is smaller, 1/2 at a tie."""
    pf, qf = mt.number(p), mt.number(q)
    if pf > qf:
        return 1.0
    if pf < qf:
        return 0.0
    return 0.5 if pf == qf else math.nan


# ---- the normal distribution: Phi(x) and gelu(x) = x * Phi(x) -------------------------------


def _normal_cdf(x: float) -> float:
    # erfc keeps full relative precision in the far left tail, where 1 + erf(x) is 0.
    return 0.5 * math.erfc(-x / SQRT2)


def _normal_pdf(x: Value | float) -> Value | float:
    return INV_SQRT_2PI * mt.exp(-0.5 * x * x)


def _gelu(x: float) -> float:
    p = _normal_cdf(x)
    return x * p if p != 0.0 else -0.0  # far left Phi(x) is 0 and x may be -inf


def _gelu_dx(x: Value | float) -> Value | float:
    # Phi(x) + x * phi(x). Where phi(x) underflows to 0 the second term is 0, also at
    # x = +-inf, where computing it would give inf * 0 = NaN.
    density = _normal_pdf(x)
    if mt.number(density) == 0.0:
        return normal_cdf(x)
    return normal_cdf(x) + x * density


# ---- the table: name, forward, one derivative rule per argument, sympy form ---------------------

# fmt: off
hypot: Op = Op("hypot", math.hypot,
           [lambda a, b: _hypot_share(a, b),
            lambda a, b: _hypot_share(b, a)],
           sympy=lambda a, b: sympy().sqrt(a**2 + b**2),
           doc="sqrt(a**2 + b**2) without overflow; not differentiable at (0, 0)")

logaddexp = Op("logaddexp", _logaddexp,
               [lambda a, b: mt.sigmoid(a - b),
                lambda a, b: mt.sigmoid(b - a)],
               sympy=lambda a, b: sympy().log(sympy().exp(a) + sympy().exp(b)),
               doc="log(e**a + e**b) without overflow")

maximum = Op("maximum", _maximum,
             [lambda a, b: _maximum_share(a, b),
              lambda a, b: _maximum_share(b, a)],
             # The tie branch states the convention: at a == b the value is (a + b) / 2
             # = a, and its partials are 1/2 each.
             sympy=lambda a, b: sympy().Piecewise((a, a > b), (b, a < b), ((a + b) / 2, True)),
             doc="the larger of a and b; at a tie each gets half the gradient")

softplus = Op("softplus", _softplus,
              [lambda x: mt.sigmoid(x)],
              sympy=lambda x: sympy().log(1 + sympy().exp(x)),
              doc="log(1 + e**x), a smooth relu")

normal_cdf: Op = Op("normal_cdf", _normal_cdf,
                [_normal_pdf],
                sympy=lambda x: sympy().erfc(-x / sympy().sqrt(2)) / 2,
                doc="standard normal distribution function Phi(x)")

gelu = Op("gelu", _gelu,
          [_gelu_dx],
          sympy=lambda x: x * sympy().erfc(-x / sympy().sqrt(2)) / 2,
          doc="x * Phi(x), the exact (erf) form of GELU")
# fmt: on

ALL: tuple[Op, ...] = (hypot, logaddexp, maximum, softplus, normal_cdf, gelu)
"""Every op of this distribution, in the order of the table."""

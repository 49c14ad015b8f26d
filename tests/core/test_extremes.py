"""Every built-in op and both example plugins, to the third derivative, at the ends of the
float range: ``±1e3``, ``±1e300``, ``±5e-324`` (the smallest subnormal) and ``±0.0``. The
plugins' ops are checked where they are installed, as is any other plugin's op.

Each point goes through :func:`microtape.testing.check_op_at` with ``order=3``: the value,
every first, second and third partial through nested tapes, against sympy at 40 digits
(with up to 2,000 digits of working precision where a formula cancels, as ``1 - tanh(x)**2``
does far out). Where sympy says a value or derivative is not a finite real number, the op
must raise ``DomainError``.

What is not checked, and why, is listed below: ``NAN_PAST_THE_FLOAT_RANGE`` (a lower
derivative overflows on the way, and the result is NaN rather than a wrong number) and
``NO_ORACLE`` (sympy cannot evaluate the op there in reasonable time). Each listed case is
checked to still be what it says, so the lists cannot go stale.
"""

from __future__ import annotations

import itertools
import math
import re

import pytest
from example_plugins import EXAMPLE_OPS, needs

import microtape as mt
from microtape.core.values.builtins import BUILTINS
from microtape.testing import check_op_at

EXTREMES = (1e3, -1e3, 1e300, -1e300, 5e-324, -5e-324, 0.0, -0.0)

PLUGIN_OPS = [p.op for p in mt.plugin_ops() if p.op is not None and p.status == "loaded"]

NAN_PAST_THE_FLOAT_RANGE: dict[tuple[str, tuple[float, ...]], str] = {
    ("pow", (1e3, 1e3)): "x**y = 1e3000 overflows: its third derivative meets inf - inf",
    ("pow", (1e3, 1e300)): "x**y overflows: its third derivative meets inf - inf",
    ("pow", (5e-324, 5e-324)): "d2/dx2 = y(y-1) x**(y-2) = -2e323 overflows",
    **{
        ("hypot", (a, b)): "d2/da2 = b**2 / r**3 overflows at r = 7e-324"
        for a, b in itertools.product((5e-324, -5e-324), repeat=2)
    },
}
"""Points where the true derivative is outside the float range, or is reached only through
one that is: microtape gives NaN there, never a wrong finite number."""

NO_ORACLE: set[tuple[str, tuple[float, ...]]] = {
    ("gelu", (1e300,)),  # sympy does not evaluate erf(1e300 / sqrt(2))
    ("gelu", (-1e300,)),
    ("normal_cdf", (1e300,)),
    ("normal_cdf", (-1e300,)),
    ("gelu", (-1e3,)),  # erfc(707) needs 200,000 digits of cancellation: minutes
    # sympy takes seconds for each derivative of log(exp(a) + exp(b)) at 1e300 (minutes
    # for all of them): the points with |a| or |b| = 1e300 are left to the other ops.
    *{
        ("logaddexp", (a, b))
        for a, b in itertools.product(EXTREMES, repeat=2)
        if abs(a) == 1e300 or abs(b) == 1e300
    },
}
"""Points where sympy cannot give the expected value in seconds (not a microtape limit)."""


def _cases() -> list[tuple[mt.Op, tuple[float, ...]]]:
    cases = []
    for op in [*BUILTINS, *PLUGIN_OPS]:
        for point in itertools.product(EXTREMES, repeat=op.arity):
            if (op.name, point) not in NO_ORACLE:
                cases.append((op, point))
    return cases


def _id(case: object) -> str:
    return repr(case)


@pytest.mark.parametrize(("op", "point"), _cases(), ids=_id)
def test_an_op_agrees_with_sympy_to_third_order_at_an_extreme_point(
    op: mt.Op, point: tuple[float, ...]
) -> None:
    reason = NAN_PAST_THE_FLOAT_RANGE.get((op.name, point))
    if reason is None:
        check_op_at(op, *point, order=3, rtol=1e-9, atol=1e-300)
        return
    with pytest.raises(AssertionError) as failed:
        check_op_at(op, *point, order=3, rtol=1e-9, atol=1e-300)
    message = str(failed.value)
    assert re.search(r"actual\s+nan", message), (reason, message)  # NaN, not a wrong number
    expected = re.search(r"expected\s+(\S+)", message)
    assert expected is not None and math.isinf(float(expected.group(1))), (reason, message)


def test_the_exceptions_name_real_ops_and_points() -> None:
    names = {op.name for op in [*BUILTINS, *PLUGIN_OPS]} | set(EXAMPLE_OPS)
    for name, point in [*NAN_PAST_THE_FLOAT_RANGE, *NO_ORACLE]:
        assert name in names and all(p in EXTREMES for p in point), (name, point)


@needs(*EXAMPLE_OPS)
def test_the_example_plugins_ops_are_checked_too() -> None:
    """Without the example plugins the cases here are the built-in ops alone (and the
    exceptions above name ops that are not there): this skips to say so."""
    assert {op.name for op in PLUGIN_OPS} >= set(EXAMPLE_OPS)


NON_FINITE = (math.inf, -math.inf, math.nan)


@pytest.mark.parametrize(
    ("op", "point"),
    [
        (op, point)
        for op in [*BUILTINS, *PLUGIN_OPS]
        for point in itertools.product((*NON_FINITE, 2.0), repeat=op.arity)
        if any(not math.isfinite(p) for p in point)
    ],
    ids=_id,
)
def test_non_finite_arguments_propagate_to_third_order_without_an_exception(
    op: mt.Op, point: tuple[float, ...]
) -> None:
    """inf and NaN go through every order as IEEE arithmetic takes them: some number or NaN
    comes out (sympy has no value at infinity to compare with), or DomainError where the
    op refuses the point; never another exception."""
    values = [mt.Value(p) for p in point]
    try:
        with mt.GradientTape(persistent=True) as t3:
            with mt.GradientTape(persistent=True) as t2:
                with mt.GradientTape() as t1:
                    out = op(*values)
                firsts = t1.gradient(out, values, unconnected_gradients="zero")
            seconds = [t2.gradient(g, values, unconnected_gradients="zero") for g in firsts]
        thirds = [
            t3.gradient(h, values, unconnected_gradients="zero") for row in seconds for h in row
        ]
    except mt.DomainError:
        return
    assert all(isinstance(g, mt.Value) for row in thirds for g in row)

"""microtape.testing: check_op and check_op_at pass good ops and catch broken ones; they
need the testing extra. check_plugin, which checks an installed plugin's entry points, is
tested against the example plugins in ``tests/integration/test_check_plugin.py``."""

from __future__ import annotations

import math
from typing import Any

import pytest

import microtape as mt
import microtape.testing as testing
from microtape.testing import check_op, check_op_at


def _sinh(**overrides: Any) -> mt.Op:
    spec: dict[str, Any] = {  # Any: tests swap in broken parts
        "forward": math.sinh,
        "rules": [lambda x: mt.exp(x) * 0.5 + mt.exp(-x) * 0.5],
        "sympy": lambda x: __import__("sympy").sinh(x),
    }
    spec.update(overrides)
    return mt.Op(
        "sinh_under_test",
        spec["forward"],
        spec["rules"],
        sympy=spec["sympy"],
    )


def test_a_correct_op_passes() -> None:
    check_op(_sinh(), max_examples=30)


def test_a_wrong_first_derivative_is_caught_with_point_and_errors() -> None:
    broken = _sinh(rules=[lambda x: mt.exp(x) * 0.5])  # forgot the e^-x half
    with pytest.raises(AssertionError) as info:
        check_op(broken, max_examples=30)
    message = str(info.value)
    assert "sinh_under_test" in message and "d/dx (argument 0)" in message
    assert "not registered" in message
    for part in ("at ", "0x", "expected", "actual", "abs error", "rel error"):
        assert part in message


def test_a_wrong_second_derivative_is_caught() -> None:
    # Right first derivative on floats, but written so its own derivative is wrong:
    # the constant ``c`` hides the dependence on x from the higher-order sweep.
    def rule(x: mt.Value | float) -> mt.Value | float:
        c = math.cosh(mt.number(x))
        return c

    with pytest.raises(AssertionError, match=r"d2/dxdx"):
        check_op(_sinh(rules=[rule]), order=2, max_examples=30)


def test_forward_mode_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # An engine whose forward mode pushed twice the tangent: the op is right, the
    # accumulator is not, and check_op says which check found it.
    def doubled(primals: object, tangents: float) -> mt.ForwardAccumulator:
        return mt.ForwardAccumulator(primals, 2.0 * tangents)

    monkeypatch.setattr(testing, "ForwardAccumulator", doubled)
    with pytest.raises(AssertionError, match=r"forward mode: d/dx \(argument 0\)"):
        check_op(_sinh(), max_examples=5)


def test_forward_mode_nested_inside_forward_mode_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from microtape.core.recording.context import sinks

    def doubled_inside(primals: object, tangents: float) -> mt.ForwardAccumulator:
        return mt.ForwardAccumulator(primals, 2.0 * tangents if sinks() else tangents)

    monkeypatch.setattr(testing, "ForwardAccumulator", doubled_inside)
    with pytest.raises(AssertionError, match=r"d2/dxdx \(forward over forward\)"):
        check_op(_sinh(), max_examples=5)


def test_a_forward_that_disagrees_with_the_sympy_form_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"value"):
        check_op(_sinh(forward=math.cosh), max_examples=30)


def test_an_op_that_does_not_raise_outside_its_real_domain_is_caught() -> None:
    sloppy_log = mt.Op(
        "sloppy_log",
        lambda x: math.log(abs(x)) if x else 0.0,
        [lambda x: 1.0 / x if float(x) else 0.0],
        sympy=lambda x: __import__("sympy").log(x),
    )
    with pytest.raises(AssertionError, match="should raise DomainError"):
        check_op_at(sloppy_log, -2.0)


def _acosh(rule: Any) -> mt.Op:
    return mt.Op(
        "acosh_under_test",
        math.acosh,
        [rule],
        sympy=lambda x: __import__("sympy").acosh(x),
        domain=[mt.Interval(1.0, include_low=True)],
    )


def test_an_infinite_derivative_at_a_domain_edge_is_not_mistaken_for_a_huge_number() -> None:
    # sympy's evalf with subs makes 1/sqrt(x**2 - 1) at x = 1 about 1.5e99, not infinite.
    # An op whose tape refuses to record there is right...
    check_op_at(_acosh(lambda x: 1.0 / mt.sqrt((x - 1.0) * (x + 1.0))), 1.0)
    # ...and one that hands out a huge finite derivative there is caught.
    sloppy = _acosh(lambda x: 1e99 if float(x) == 1.0 else 1.0 / mt.sqrt(x * x - 1.0))
    with pytest.raises(AssertionError, match="not a finite real number"):
        check_op_at(sloppy, 1.0)


def test_a_derivative_that_cancels_to_exactly_zero_is_zero() -> None:
    shifted = mt.Op(
        "shifted_square",
        lambda x: (x - 1.0) * (x - 1.0),
        [lambda x: 2.0 * x - 2.0],
        sympy=lambda x: (x - 1) ** 2,
    )
    check_op_at(shifted, 1.0)  # sympy's 2*x - 2 at 1 cancels: it must read 0, not undefined


def test_an_op_without_sympy_form_is_checked_by_finite_differences() -> None:
    check_op(_sinh(sympy=None), max_examples=20)
    with pytest.raises(AssertionError):
        check_op(_sinh(sympy=None, rules=[lambda x: mt.exp(x)]), max_examples=20)


def test_check_op_at_reproduces_a_point() -> None:
    check_op_at(mt.log, float.fromhex("0x1.8p+1"))
    with pytest.raises(TypeError, match="takes 1 argument"):
        check_op_at(mt.log, 1.0, 2.0)


# ---- kinks: the op is defined, a derivative is not ---------------------------------------------


def _softsign(rule: Any = None) -> mt.Op:
    """x / (1 + |x|): its second derivative jumps from 2 to -2 at 0, so its third derivative
    has no value there, though both one-sided limits are 6."""
    return mt.Op(
        "softsign_under_test",
        lambda x: x / (1.0 + abs(x)),
        [rule or (lambda x: 1.0 / ((1.0 + abs(x)) * (1.0 + abs(x))))],
        sympy=lambda x: x / (1 + __import__("sympy").Abs(x)),
    )


def _hinge() -> mt.Op:
    """max(0, 1 - x), written as a plugin would: a kink at 1, derivative 0 there (as relu)."""
    return mt.Op(
        "hinge_under_test",
        lambda x: max(0.0, 1.0 - x),
        [lambda x: -1.0 if mt.number(x) < 1.0 else 0.0],
        # sympy differentiates Max into a Heaviside, which is 1/2 at the kink, not 0
        sympy=lambda x: __import__("sympy").Max(0, 1 - x),
    )


@pytest.mark.parametrize(
    ("op", "kink"),
    [(_softsign(), 0.0), (mt.abs, 0.0), (mt.relu, 0.0), (_hinge(), 1.0)],
    ids=["softsign", "abs", "relu", "hinge"],
)
def test_a_correct_op_passes_at_its_kink_to_third_order_and_the_kink_is_counted(
    op: mt.Op, kink: float
) -> None:
    report = check_op_at(op, kink, order=3)
    assert (report.points, report.kinks) == (1, ((kink,),))
    report = check_op(op, order=3, max_examples=40)  # and on both sides of it
    assert report.points >= 10 and len(report.kinks) <= 1
    if kink == 0.0:
        assert report.kinks == ((0.0,),)  # hypothesis always draws 0


def test_points_off_the_kinks_are_not_counted() -> None:
    assert check_op_at(_softsign(), 0.5).kinks == ()
    assert check_op(mt.sin, max_examples=20).kinks == ()


def test_a_derivative_wrong_on_one_side_of_a_kink_is_still_caught() -> None:
    # abs' = 1 everywhere is one of the one-sided limits at 0, but wrong for x < 0.
    forgot_the_sign = mt.Op("abs_under_test", math.fabs, [lambda x: 1.0], sympy=lambda x: abs(x))
    check_op_at(forgot_the_sign, 0.0)  # at the kink itself 1 is the right-hand slope...
    with pytest.raises(AssertionError, match=r"d/dx \(argument 0\)"):
        check_op(forgot_the_sign, max_examples=40)  # ...and the left side gives it away


def test_a_derivative_that_is_no_limit_nor_the_convention_at_a_kink_is_caught() -> None:
    def rule(x: mt.Value | float) -> float:
        return 0.5 if mt.number(x) == 0.0 else math.copysign(1.0, mt.number(x))

    halfway = mt.Op("abs_under_test", math.fabs, [rule], sympy=lambda x: abs(x))
    with pytest.raises(AssertionError, match=r"d/dx \(argument 0\): at a kink") as info:
        check_op_at(halfway, 0.0)
    assert "limits: [1.0, -1.0]" in str(info.value) or "limits: [-1.0, 1.0]" in str(info.value)


def test_a_wrong_second_derivative_at_a_kink_is_caught() -> None:
    # The right slope on floats, but 3 more than the right curvature everywhere:
    # x - number(x) is 0, with derivative 1. At 0 that gives 3, where softsign's second
    # derivative may be 2 or -2 (the one-sided limits) or 0 (the convention).
    def rule(x: mt.Value | float) -> mt.Value | float:
        return 1.0 / ((1.0 + mt.abs(x)) * (1.0 + mt.abs(x))) + 3.0 * (x - mt.number(x))

    with pytest.raises(AssertionError, match=r"d2/dxdx: at a kink"):
        check_op_at(_softsign(rule), 0.0)


def test_an_infinite_slope_at_a_kink_must_still_raise() -> None:
    # sqrt(|x|) is defined at 0, but its slope is infinite on both sides there: no
    # number is right, so recording it must raise DomainError.
    def rule(x: mt.Value | float) -> mt.Value | float:
        if mt.number(x) == 0.0:
            return 0.0  # a number where there is none: the slope is infinite
        return 0.5 * math.copysign(1.0, mt.number(x)) / mt.sqrt(mt.abs(x))

    sqrt_abs = mt.Op(
        "sqrt_abs_under_test",
        lambda x: math.sqrt(abs(x)),
        [rule],
        sympy=lambda x: __import__("sympy").sqrt(abs(x)),
    )
    with pytest.raises(AssertionError, match="instead of raising DomainError"):
        check_op_at(sqrt_abs, 0.0)

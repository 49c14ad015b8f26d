"""Numerical edge cases: NaN and infinity through every op, overflow, huge and tiny numbers.

The contract: NaN and infinity propagate as IEEE arithmetic does, in values and in
gradients, with no exception; overflow gives a signed infinity; the only exception an op
raises is DomainError, where the README's table says the op (or its derivative) is not
defined; and no value or gradient is ever a complex number.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workload import examples

import microtape as mt
from microtape import GradientTape, Value
from microtape.core.values.builtins import BUILTINS

inf, nan = math.inf, math.nan

UNARY = [o for o in BUILTINS if o.arity == 1]
BINARY = [o for o in BUILTINS if o.arity == 2]


def same(actual: float, expected: float) -> bool:
    """Equal as IEEE results: NaN matches NaN, and otherwise == (so -0.0 matches 0.0)."""
    if math.isnan(expected):
        return math.isnan(actual)
    return actual == expected


def value_and_gradient(op: mt.Op, x: float) -> tuple[float, float]:
    v = Value(x)
    with GradientTape() as tape:
        y = op(v)
    g = tape.gradient(y, v)
    assert g is not None
    return y.data, g.data


def value_and_partials(op: mt.Op, a: float, b: float) -> tuple[float, float, float]:
    va, vb = Value(a), Value(b)
    with GradientTape() as tape:
        y = op(va, vb)
    ga, gb = tape.gradient(y, [va, vb])
    assert ga is not None and gb is not None
    return y.data, ga.data, gb.data


# ---- NaN and infinity through each op of one argument -----------------------------------------

# (op, x, value, derivative): the README's formulas evaluated in IEEE arithmetic.
UNARY_AT_NON_FINITE = [
    ("neg", inf, -inf, -1.0),
    ("neg", -inf, inf, -1.0),
    ("neg", nan, nan, -1.0),
    ("abs", inf, inf, 1.0),
    ("abs", -inf, inf, -1.0),
    ("abs", nan, nan, nan),
    ("exp", inf, inf, inf),
    ("exp", -inf, 0.0, 0.0),
    ("exp", nan, nan, nan),
    ("log", inf, inf, 0.0),
    ("log", nan, nan, nan),
    ("sin", inf, nan, nan),
    ("sin", -inf, nan, nan),
    ("sin", nan, nan, nan),
    ("cos", inf, nan, nan),
    ("cos", -inf, nan, nan),
    ("cos", nan, nan, nan),
    ("tan", inf, nan, nan),
    ("tan", -inf, nan, nan),
    ("tan", nan, nan, nan),
    ("tanh", inf, 1.0, 0.0),
    ("tanh", -inf, -1.0, 0.0),
    ("tanh", nan, nan, nan),
    ("sigmoid", inf, 1.0, 0.0),
    ("sigmoid", -inf, 0.0, 0.0),
    ("sigmoid", nan, nan, nan),
    ("relu", inf, inf, 1.0),
    ("relu", -inf, 0.0, 0.0),
    ("relu", nan, nan, 0.0),  # relu'(x) is 1 where x > 0, else 0: NaN included, as TF/JAX
    ("sqrt", inf, inf, 0.0),
    ("sqrt", nan, nan, nan),
]


def test_the_table_covers_every_op_of_one_argument() -> None:
    assert {name for name, *_ in UNARY_AT_NON_FINITE} == {o.name for o in UNARY}


@pytest.mark.parametrize(("name", "x", "value", "derivative"), UNARY_AT_NON_FINITE)
def test_op_of_one_argument_on_a_non_finite_float_gives_the_ieee_value(
    name: str, x: float, value: float, derivative: float
) -> None:
    result = mt.op(name)(x)
    assert type(result) is float
    assert same(result, value), result


@pytest.mark.parametrize(("name", "x", "value", "derivative"), UNARY_AT_NON_FINITE)
def test_op_of_one_argument_on_a_non_finite_value_records_the_ieee_derivative(
    name: str, x: float, value: float, derivative: float
) -> None:
    y, g = value_and_gradient(mt.op(name), x)
    assert same(y, value), y
    assert same(g, derivative), g


@pytest.mark.parametrize("name", ["log", "sqrt"])
def test_log_and_sqrt_of_minus_infinity_raise_domain_error(name: str) -> None:
    with pytest.raises(mt.DomainError, match=rf"{name}: x=-inf is outside the domain"):
        mt.op(name)(-inf)
    with GradientTape() as tape:
        with pytest.raises(mt.DomainError, match=rf"{name}: x=-inf"):
            mt.op(name)(Value(-inf))
    assert "0 records" in repr(tape)


# ---- NaN and infinity through the ops of two arguments -----------------------------------------

# (op, a, b, value, d/da, d/db), both arguments Values: IEEE evaluation of the README formulas
BINARY_AT_NON_FINITE = [
    ("add", inf, -inf, nan, 1.0, 1.0),
    ("sub", inf, inf, nan, 1.0, -1.0),
    ("mul", inf, 0.0, nan, 0.0, inf),
    ("mul", -inf, 2.0, -inf, 2.0, -inf),
    ("div", 1.0, inf, 0.0, 0.0, 0.0),
    ("div", 3.0, -inf, 0.0, 0.0, 0.0),
    ("div", inf, 2.0, inf, 0.5, -inf),
    ("div", inf, inf, nan, 0.0, nan),
    ("div", nan, 2.0, nan, 0.5, nan),
    ("pow", 2.0, inf, inf, inf, inf),
    ("pow", 0.5, inf, 0.0, nan, 0.0),
    ("pow", 2.0, -inf, 0.0, nan, 0.0),
    ("pow", inf, 2.0, inf, inf, inf),
    ("pow", 2.0, nan, nan, nan, nan),
]


@pytest.mark.parametrize(("name", "a", "b", "value", "da", "db"), BINARY_AT_NON_FINITE)
def test_op_of_two_arguments_on_non_finite_floats_gives_the_ieee_value(
    name: str, a: float, b: float, value: float, da: float, db: float
) -> None:
    result = mt.op(name)(a, b)
    assert type(result) is float
    assert same(result, value), result


@pytest.mark.parametrize(("name", "a", "b", "value", "da", "db"), BINARY_AT_NON_FINITE)
def test_op_of_two_arguments_on_non_finite_values_records_the_ieee_partials(
    name: str, a: float, b: float, value: float, da: float, db: float
) -> None:
    y, ga, gb = value_and_partials(mt.op(name), a, b)
    assert same(y, value), y
    assert same(ga, da), ga
    assert same(gb, db), gb


@pytest.mark.parametrize(
    "apply",
    [
        lambda v: v / math.inf,
        lambda v: 1.0 / (v * math.inf),
        lambda v: v + math.inf - math.inf,
        lambda v: (v * math.inf) ** 2.0,
    ],
    ids=["x/inf", "1/(x*inf)", "x+inf-inf", "(x*inf)**2"],
)
def test_arithmetic_dunders_with_infinite_constants_never_raise(
    apply: Callable[[Value], Value],
) -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = apply(x)
    g = tape.gradient(y, x)
    assert isinstance(y.data, float) and g is not None and isinstance(g.data, float)


# ---- NaN never raises ---------------------------------------------------------------------------

ORDINARY = [2.0, 0.5, 1.0, -3.0]


@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
def test_nan_through_an_op_of_one_argument_never_raises_at_any_order(op: mt.Op) -> None:
    assert math.isnan(op(nan))
    x = Value(nan)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = op(x)
        g = inner.gradient(y, x)
    assert math.isnan(y.data)
    assert g is not None
    outer.gradient(g, x)  # the second derivative: NaN or None, but no exception


@pytest.mark.parametrize("other", ORDINARY)
@pytest.mark.parametrize("nan_first", [True, False], ids=["nan-first", "nan-second"])
@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.name)
def test_nan_through_an_op_of_two_arguments_never_raises(
    op: mt.Op, nan_first: bool, other: float
) -> None:
    a, b = (nan, other) if nan_first else (other, nan)
    op(a, b)
    va, vb = Value(a), Value(b)
    with GradientTape() as tape:
        y = op(va, vb)
    ga, gb = tape.gradient(y, [va, vb])
    assert ga is not None and gb is not None
    if op.name == "hold" and not nan_first:  # hold(value, at) is value, whatever at is
        assert (y.data, ga.data, gb.data) == (other, 1.0, 0.0)
        return
    assert math.isnan(ga.data) or math.isnan(gb.data) or math.isnan(y.data)


# ---- overflow: a signed infinity, never OverflowError --------------------------------------------


def test_product_overflow_gives_inf_with_finite_partials() -> None:
    a, b = Value(1e200), Value(1e200)
    with GradientTape() as tape:
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert y.data == inf
    assert ga is not None and gb is not None and (ga.data, gb.data) == (1e200, 1e200)


def test_sum_overflow_gives_inf_with_unit_partials() -> None:
    a = Value(1.5e308)
    with GradientTape() as tape:
        y = a + a
    g = tape.gradient(y, a)
    assert y.data == inf and g is not None and g.data == 2.0


@pytest.mark.parametrize(
    ("base", "exponent", "value", "derivative"),
    [(1e200, 2.0, inf, 2e200), (-1e200, 3.0, -inf, inf), (-1e120, 3.0, -inf, 3e240)],
    ids=["square", "odd-negative", "odd-negative-finite-partial"],
)
def test_power_overflow_gives_a_signed_inf_and_the_ieee_partial(
    base: float, exponent: float, value: float, derivative: float
) -> None:
    x = Value(base)
    with GradientTape() as tape:
        y = x**exponent
    g = tape.gradient(y, x)
    assert y.data == value
    assert g is not None and g.data == pytest.approx(derivative, rel=1e-15)


def test_exponent_overflow_in_a_variable_exponent_gives_inf() -> None:
    y = Value(2000.0)
    with GradientTape() as tape:
        z = 2.0**y
    g = tape.gradient(z, y)
    assert z.data == inf and g is not None and g.data == inf


def test_overflow_then_cancellation_gives_nan_not_an_exception() -> None:
    x = Value(1000.0)
    with GradientTape() as tape:
        y = mt.exp(x) - mt.exp(x)
    g = tape.gradient(y, x)
    assert math.isnan(y.data) and g is not None and math.isnan(g.data)


def test_division_by_a_tiny_number_overflows_to_inf() -> None:
    a, b = Value(1.0), Value(1e-310)
    with GradientTape() as tape:
        y = a / b
    ga, gb = tape.gradient(y, [a, b])
    assert y.data == inf
    assert ga is not None and ga.data == inf
    assert gb is not None and gb.data == -inf


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_saturating_ops_far_out_have_exact_values_and_zero_slopes(x: float) -> None:
    v = Value(x)
    with GradientTape(persistent=True) as tape:
        t, s = mt.tanh(v), mt.sigmoid(v)
    gt, gs = tape.gradient(t, v), tape.gradient(s, v)
    assert t.data == math.copysign(1.0, x)
    assert s.data == (1.0 if x > 0 else 0.0)
    assert gt is not None and gt.data == 0.0
    assert gs is not None and gs.data == 0.0


# ---- huge and tiny magnitudes -----------------------------------------------------------------


def test_division_partial_in_the_divisor_survives_when_its_square_underflows() -> None:
    a, b = Value(1e-200), Value(1e-200)
    with GradientTape() as tape:
        y = a / b
    ga, gb = tape.gradient(y, [a, b])
    assert y.data == 1.0
    assert ga is not None and ga.data == pytest.approx(1e200, rel=1e-15)
    assert gb is not None and gb.data == pytest.approx(-1e200, rel=1e-15)


def test_product_underflow_keeps_exact_partials() -> None:
    a, b = Value(1e-200), Value(3e-200)
    with GradientTape() as tape:
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert y.data == 0.0
    assert ga is not None and ga.data == 3e-200
    assert gb is not None and gb.data == 1e-200


def test_log_of_the_smallest_subnormal_has_an_infinite_slope() -> None:
    value, slope = value_and_gradient(mt.log, 5e-324)
    assert value == pytest.approx(-744.4400719213812, rel=1e-15)
    assert slope == inf


def test_sqrt_of_the_smallest_subnormal_has_a_finite_slope() -> None:
    value, slope = value_and_gradient(mt.sqrt, 5e-324)
    assert value == math.sqrt(5e-324)
    assert slope == pytest.approx(0.5 / math.sqrt(5e-324), rel=1e-15)


@pytest.mark.parametrize(
    ("name", "value", "slope"),
    [("tanh", 1e-300, 1.0), ("sin", 1e-300, 1.0), ("sigmoid", 0.5, 0.25), ("exp", 1.0, 1.0)],
)
def test_smooth_ops_at_a_tiny_input_have_their_slope_at_zero(
    name: str, value: float, slope: float
) -> None:
    y, g = value_and_gradient(mt.op(name), 1e-300)
    assert y == pytest.approx(value, rel=1e-15)
    assert g == pytest.approx(slope, rel=1e-15)


def test_huge_values_through_a_chain_keep_relative_precision() -> None:
    x = Value(1e150)
    with GradientTape() as tape:
        y = mt.sqrt(x * x)  # 1e300 on the way: no overflow
    g = tape.gradient(y, x)
    assert y.data == pytest.approx(1e150, rel=1e-15)
    assert g is not None and g.data == pytest.approx(1.0, rel=1e-15)


# ---- any float at all: a float or DomainError, never complex, never another exception ----------

any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 5e-324, 1e308, 710.0]),
)


def _assert_real(x: object) -> None:
    assert type(x) is float, f"{x!r} is not a float"


def _run(op: mt.Op, point: list[float]) -> None:
    """Apply ``op`` on floats, on a tape, and on nested tapes; DomainError is the only error."""
    try:
        _assert_real(op(*point))
    except mt.DomainError:
        return
    values = [Value(p) for p in point]
    try:
        with GradientTape(persistent=True) as outer:
            with GradientTape() as inner:
                y = op(*values)
            firsts = inner.gradient(y, values, unconnected_gradients="zero")
    except mt.DomainError:
        return
    _assert_real(y.data)
    for g in firsts:
        _assert_real(g.data)
        for h in outer.gradient(g, values, unconnected_gradients="zero"):
            _assert_real(h.data)  # a first-order sweep: never an error
    with GradientTape() as plain:
        try:
            y = op(*values)
        except mt.DomainError:
            return
    for g in plain.gradient(y, values, unconnected_gradients="zero"):
        _assert_real(g.data)


@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
@settings(max_examples=examples(60))
@given(x=any_float)
def test_op_of_one_argument_at_any_float_is_real_or_a_domain_error(op: mt.Op, x: float) -> None:
    _run(op, [x])


@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.name)
@settings(max_examples=examples(150))
@given(a=any_float, b=any_float)
def test_op_of_two_arguments_at_any_floats_is_real_or_a_domain_error(
    op: mt.Op, a: float, b: float
) -> None:
    _run(op, [a, b])


@settings(max_examples=examples(100))
@given(
    x=st.floats(-1e6, -1e-6, allow_nan=False),
    n=st.integers(-7, 7),
)
def test_negative_base_with_an_integer_exponent_is_real_to_second_order(x: float, n: int) -> None:
    v = Value(x)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = v ** float(n)
        g = inner.gradient(y, v)
    h = outer.gradient(g, v, unconnected_gradients="zero")
    assert g is not None and h is not None
    for number in (y.data, g.data, h.data):
        _assert_real(number)
    assert g.data == pytest.approx(n * x ** (n - 1), rel=1e-12)

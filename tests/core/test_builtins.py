"""The built-in op table, checked against sympy: values, first, second and third partials.

Every op is checked by ``microtape.testing.check_op`` at hypothesis-drawn points of its
domain; the hand-specialised arithmetic dunders are checked against the table entries
they record; kinks and domain edges get explicit tests of the documented convention.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from workload import examples

import microtape as mt
from microtape.core.values.builtins import BUILTINS
from microtape.testing import check_op, check_op_at

ORACLE_EXAMPLES = examples(150)


@pytest.mark.parametrize("op", BUILTINS, ids=lambda o: o.name)
def test_builtin_op_agrees_with_sympy_to_third_order(op: mt.Op) -> None:
    check_op(op, order=3, max_examples=ORACLE_EXAMPLES)


def test_the_table_holds_the_ops_the_core_promises() -> None:
    names = {o.name for o in BUILTINS}
    assert {"add", "sub", "mul", "div", "pow", "neg", "abs"} <= names
    assert {"exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt"} <= names


@pytest.mark.parametrize("op", BUILTINS, ids=lambda o: o.name)
def test_every_builtin_is_registered_and_documented(op: mt.Op) -> None:
    assert mt.op(op.name) is op
    assert op.sympy is not None
    assert op.doc


# ---- the specialised dunders record exactly what the table says -------------------------------

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
DUNDERS: dict[str, Callable[[mt.Value | float, mt.Value | float], mt.Value | float]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@pytest.mark.parametrize("name", DUNDERS)
@pytest.mark.parametrize("which", ["both", "left", "right"])
@given(a=finite, b=finite)
def test_dunder_matches_its_table_entry_in_value_and_partials(
    name: str, which: str, a: float, b: float
) -> None:
    op, dunder = mt.op(name), DUNDERS[name]
    results: list[tuple[object, ...]] = []
    for apply in (dunder, op):
        va, vb = mt.Value(a), mt.Value(b)
        left: mt.Value | float = va if which in ("both", "left") else a
        right: mt.Value | float = vb if which in ("both", "right") else b
        try:
            with mt.GradientTape() as tape:
                out = apply(left, right)
        except mt.DomainError:
            results.append(("DomainError",))
            continue
        assert isinstance(out, mt.Value)
        grads = tape.gradient(out, [va, vb])
        results.append((out.data, *(None if g is None else g.data for g in grads)))
    assert results[0] == results[1] or _both_nan(results)


def _both_nan(results: list[tuple[object, ...]]) -> bool:
    return all(isinstance(r[0], float) and math.isnan(r[0]) for r in results)


@given(a=finite)
def test_unary_dunders_match_their_table_entries(a: float) -> None:
    for dunder, op in ((lambda v: -v, mt.op("neg")), (abs, mt.op("abs"))):
        pair = []
        for apply in (dunder, op):
            v = mt.Value(a)
            with mt.GradientTape() as tape:
                out = apply(v)
            g = tape.gradient(out, v)
            assert g is not None
            pair.append((out.data, g.data))
        assert pair[0] == pair[1]


# ---- kinks: the documented convention (derivative 0, as PyTorch) -----------------------------


@pytest.mark.parametrize("op", [mt.relu, mt.abs], ids=["relu", "abs"])
def test_derivative_at_the_kink_is_zero(op: mt.Op) -> None:
    x = mt.Value(0.0)
    with mt.GradientTape() as tape:
        y = op(x)
    g = tape.gradient(y, x)
    assert g is not None and g.data == 0.0


@pytest.mark.parametrize("op", [mt.relu, mt.abs], ids=["relu", "abs"])
def test_derivative_at_the_kink_is_zero_in_the_higher_order_sweep_too(op: mt.Op) -> None:
    x = mt.Value(0.0)
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            y = op(x)
        g = inner.gradient(y, x)  # the rule runs on Values here, recorded on `outer`
    assert g is not None and g.data == 0.0
    h = outer.gradient(g, x)  # the slope is a constant, but it depends on x: 0, not None
    assert h is not None and h.data == 0.0


def test_relu_and_abs_kinks_pass_the_oracle_at_zero() -> None:
    check_op_at(mt.relu, 0.0)
    check_op_at(mt.abs, 0.0, order=1)  # abs'' at 0 is a Dirac delta: no number to compare


def test_relu_second_derivative_is_zero_on_both_sides() -> None:
    for point in (-1.0, 0.0, 2.0):
        x = mt.Value(point)
        with mt.GradientTape() as outer:
            with mt.GradientTape() as inner:
                y = mt.relu(x) * 3
            g = inner.gradient(y, x)
        assert g is not None and g.data == (3.0 if point > 0 else 0.0)
        h = outer.gradient(g, x, unconnected_gradients="zero")
        assert h is not None and h.data == 0.0


# ---- domains: DomainError names the op and the value, in the forward call --------------------


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: mt.log(mt.Value(-1.0)), r"log: x=-1\.0 is outside the domain x > 0"),
        (lambda: mt.log(0.0), r"log: x=0\.0"),
        (lambda: mt.sqrt(mt.Value(-1.0)), r"sqrt: x=-1\.0 is outside the domain x >= 0"),
        (lambda: mt.Value(1.0) / 0, r"div: b=0\.0 is outside the domain b < 0 or b > 0"),
        (lambda: 1.0 / mt.Value(0.0), r"div: b=0\.0"),
        (lambda: mt.Value(0.0) ** -1, r"pow: x=0\.0, y=-1\.0: zero cannot be raised"),
        (lambda: mt.Value(-8.0) ** (1 / 3), r"pow: x=-8\.0.*integer exponent"),
        (lambda: (-8.0) ** mt.Value(1 / 3), r"pow: x=-8\.0.*integer exponent"),
    ],
)
def test_outside_the_domain_raises_domain_error_naming_op_and_value(
    call: Callable[[], object], pattern: str
) -> None:
    with pytest.raises(mt.DomainError, match=pattern):
        call()
    with mt.GradientTape() as tape:
        with pytest.raises(mt.DomainError, match=pattern):
            call()
    assert "0 records" in repr(tape)  # nothing half-recorded; the tape is still usable


def test_negative_base_with_integer_exponent_is_real() -> None:
    x = mt.Value(-2.0)
    with mt.GradientTape() as tape:
        y = x**3
    g = tape.gradient(y, x)
    assert y.data == -8.0
    assert g is not None and g.data == 12.0


def test_sqrt_at_zero_is_fine_on_floats_but_refuses_to_record() -> None:
    assert mt.sqrt(0.0) == 0.0
    assert mt.sqrt(mt.Value(0.0)).data == 0.0  # no tape: nothing to differentiate
    with mt.GradientTape():
        with pytest.raises(mt.DomainError, match=r"sqrt: the derivative with respect to x"):
            mt.sqrt(mt.Value(0.0))


def test_pow_derivative_in_the_exponent_needs_a_positive_base() -> None:
    x, y = mt.Value(-2.0), mt.Value(2.0)
    assert (x**y).data == 4.0
    with mt.GradientTape():
        with pytest.raises(mt.DomainError, match="with respect to y"):
            x**y


def test_exp_overflow_gives_inf() -> None:
    assert mt.exp(1000.0) == math.inf
    x = mt.Value(1000.0)
    with mt.GradientTape() as tape:
        y = mt.exp(x)
    g = tape.gradient(y, x)
    assert y.data == math.inf and g is not None and g.data == math.inf


def test_pow_overflow_gives_signed_inf() -> None:
    assert mt.pow(10.0, 400.0) == math.inf
    assert mt.pow(-10.0, 401.0) == -math.inf


def test_nan_propagates_without_raising() -> None:
    for op in (mt.log, mt.sqrt, mt.exp, mt.sin, mt.relu):
        assert math.isnan(op(math.nan))
    x = mt.Value(math.nan)
    with mt.GradientTape() as tape:
        y = mt.log(x) * 2
    g = tape.gradient(y, x)
    assert g is not None and math.isnan(g.data)


def test_tanh_and_sigmoid_derivatives_keep_precision_far_from_zero() -> None:
    x = mt.Value(30.0)
    with mt.GradientTape(persistent=True) as tape:
        t = mt.tanh(x)
        s = mt.sigmoid(x)
    gt, gs = tape.gradient(t, x), tape.gradient(s, x)
    assert gt is not None and gt.data == pytest.approx(4 * math.exp(-60), rel=1e-12)
    assert gs is not None and gs.data == pytest.approx(math.exp(-30), rel=1e-12)


def test_functions_reject_non_numbers_naming_op_argument_and_value() -> None:
    with pytest.raises(
        mt.ArgumentTypeError, match=r"sin: x must be a Value or a real number.*str 'a'"
    ):
        mt.sin("a")  # type: ignore[call-overload]
    with pytest.raises(mt.ArgumentTypeError, match=r"pow: y must be a Value or a real number"):
        mt.pow(2.0, "2")  # type: ignore[call-overload]


def test_wrong_number_of_arguments_names_the_op() -> None:
    with pytest.raises(TypeError, match="sin: takes 1 argument"):
        mt.sin(1.0, 2.0)

"""The traps a new user falls into, each answered the way TensorFlow answers it, or louder.

Every test here failed before microtape said something: a None where TensorFlow gives a
number, a silent None from a tape never used, a number silently cut out of the graph.
"""

from __future__ import annotations

import math
import warnings

import pytest
from example_plugins import needs

import microtape as mt
from microtape import GradientTape, Value

# ---- None means "not connected", on every order --------------------------------------------


def _second(op: mt.Op, at: float) -> Value | None:
    x = Value(at)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = op(x)
        g = inner.gradient(y, x)
    assert g is not None
    return outer.gradient(g, x)


@pytest.mark.parametrize(("op", "at"), [(mt.relu, 2.0), (mt.relu, -2.0), (mt.abs, -2.0)])
def test_the_second_derivative_of_a_piecewise_linear_op_is_zero_not_none(
    op: mt.Op, at: float
) -> None:
    h = _second(op, at)
    assert h is not None and h.data == 0.0  # TensorFlow and JAX give 0.0


def test_the_second_derivative_of_a_linear_function_is_zero_not_none() -> None:
    x, z = Value(3.0), Value(4.0)
    with GradientTape(persistent=True) as outer:
        with GradientTape() as inner:
            y = 2.0 * x + z
        dx = inner.gradient(y, x)
    assert dx is not None and dx.data == 2.0
    assert [None if g is None else g.data for g in outer.gradient(dx, [x, z])] == [0.0, 0.0]
    # A Value the target never depended on is still not connected: None.
    assert outer.gradient(dx, Value(1.0)) is None


def test_a_third_derivative_through_a_kink_is_zero() -> None:
    x = Value(1.5)
    with GradientTape() as t3:
        with GradientTape() as t2:
            with GradientTape() as t1:
                y = mt.relu(x) * x
            g1 = t1.gradient(y, x)
        g2 = t2.gradient(g1, x)
    assert g1 is not None and g2 is not None and (g1.data, g2.data) == (3.0, 2.0)
    g3 = t3.gradient(g2, x)
    assert g3 is not None and g3.data == 0.0


@pytest.mark.parametrize("at", [1000.0, -1000.0, 1e300, -1e300])
def test_tanh_stays_exact_to_third_order_far_out(at: float) -> None:
    x = Value(at)
    with GradientTape() as t3:
        with GradientTape() as t2:
            with GradientTape() as t1:
                y = mt.tanh(x)
            g1 = t1.gradient(y, x)
        g2 = t2.gradient(g1, x)
    g3 = t3.gradient(g2, x)
    # sech(1000)**2 = 4e-869 and its derivatives all round to 0 (TensorFlow: 0, not NaN).
    assert [g.data for g in (g1, g2, g3) if g is not None] == [0.0, 0.0, 0.0]


def test_tanh_keeps_full_relative_precision_where_its_slope_is_tiny() -> None:
    x = Value(20.0)
    with GradientTape() as tape:
        y = mt.tanh(x)
    g = tape.gradient(y, x)
    assert g is not None and g.data == pytest.approx(4 * math.exp(-40) / (1 + math.exp(-40)) ** 2)


def test_a_target_that_is_a_source_has_gradient_one_on_an_unwatched_tape() -> None:
    x, z = Value(3.0), Value(2.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        y = x * z
    g1 = tape.gradient(x, x)
    assert g1 is not None and g1.data == 1.0  # TensorFlow: 1.0, though x was never watched
    with GradientTape(watch_accessed_variables=False) as tape:
        y = x * z
    g = tape.gradient([x, y], [x, z], output_gradients=[2.0, 1.0])
    assert g[0] is not None and g[0].data == 2.0  # x is a target: its own upstream gradient
    assert g[1] is None  # z was never watched


def test_the_same_with_watching_on() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        pass
    g = tape.gradient(x, x)
    assert g is not None and g.data == 1.0


# ---- a tape never entered -------------------------------------------------------------------


@pytest.mark.parametrize("call", ["gradient", "jacobian"])
def test_a_tape_never_entered_raises_and_stays_usable(call: str) -> None:
    x = Value(2.0)
    y = x * x
    tape = GradientTape()
    with pytest.raises(mt.TapeError, match="never entered, so it recorded nothing"):
        if call == "gradient":
            tape.gradient(y, x)
        else:
            tape.jacobian([y], x)
    with tape:  # the refused call left it as it was: it can still record
        y = x * x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 4.0


# ---- a Value turned into a number while a tape records --------------------------------------


def test_math_on_a_recorded_value_warns_with_the_fix() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        with pytest.warns(mt.ValueAsNumberWarning, match=r"mt\.sin\(x\).*x\.data") as caught:
            y = x * math.sin(x)  # the trap: math.sin takes x's number
    assert caught[0].filename == __file__  # the warning points at the line that did it
    g = tape.gradient(y, x)
    assert g is not None and g.data == pytest.approx(math.sin(3.0))  # sin(x) was cut off
    with GradientTape() as tape:
        y = x * mt.sin(x)
    g = tape.gradient(y, x)
    assert g is not None and g.data == pytest.approx(math.sin(3.0) + 3.0 * math.cos(3.0))


def test_float_of_a_value_warns_only_while_a_tape_could_differentiate_it() -> None:
    x = Value(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(x) == 3.0  # no tape: nothing is lost
        with GradientTape() as tape:
            assert x.data == 3.0  # the explicit way is silent
            assert mt.number(x) == 3.0  # so is mt.number
            with tape.stop_recording():
                assert float(x) == 3.0  # a deliberate constant
        with GradientTape(watch_accessed_variables=False) as tape:
            assert float(x) == 3.0  # x is not watched: it could not get a gradient anyway
            tape.watch(x)
            with pytest.warns(mt.ValueAsNumberWarning):
                float(x)


def test_the_warning_is_once_per_line_under_python_s_default_filter() -> None:
    x = Value(3.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        with GradientTape():
            for _ in range(5):
                float(x)
    assert len([w for w in caught if w.category is mt.ValueAsNumberWarning]) == 1


class Float64(float):
    """A float subclass, converting its argument as ``numpy.float64(x)`` does (``__float__``)."""


def test_a_float_type_of_a_recorded_value_warns_as_numpy_float64_would() -> None:
    x = Value(3.0)
    with GradientTape(), pytest.warns(mt.ValueAsNumberWarning):
        assert Float64(x) == 3.0


def test_microtape_s_own_ops_never_convert_a_value() -> None:
    x = Value(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with GradientTape() as outer:
            with GradientTape() as inner:
                y = mt.abs(x) + mt.relu(x) + mt.pow(x + 2.0, 3.0) + mt.tanh(x) + mt.sigmoid(x)
            g = inner.gradient(y, x)
        assert g is not None and outer.gradient(g, x) is not None


@pytest.mark.parametrize(("sign", "expected"), [("==", False), ("!=", True)])
def test_comparing_a_value_with_a_number_warns(sign: str, expected: bool) -> None:
    x = Value(0.0)
    with pytest.warns(mt.ValueAsNumberWarning, match=rf"x\.data {sign} 0"):
        result = (x == 0) if sign == "==" else (x != 0)
    assert result is expected  # identity, not the number: the warning says so


def test_comparing_values_with_values_or_none_is_silent() -> None:
    x, y = Value(1.0), Value(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x != y and x == x and x != None  # noqa: E711  # None is not a number
        assert x in {x: 1} and x not in [y]


# ---- an op's forward and its rules must agree in number ------------------------------------


def test_a_c_function_forward_with_the_wrong_number_of_rules_is_refused() -> None:
    with pytest.raises(mt.OpDefinitionError, match=r"forward takes 2 argument.*1 derivative"):
        mt.Op("atan2_example", math.atan2, [lambda y, x: x / (x * x + y * y)])


def test_a_c_function_forward_names_the_arguments() -> None:
    atan2 = mt.Op(
        "atan2_example",
        math.atan2,
        [lambda y, x: x / (x * x + y * y), lambda y, x: -y / (x * x + y * y)],
        domain=[mt.Interval(0.0), None],
    )
    assert atan2.arg_names == ("y", "x")  # as inspect.signature(math.atan2) says
    assert repr(atan2) == "<Op atan2_example(y, x)>"
    with pytest.raises(mt.DomainError, match=r"atan2_example: y=-1\.0 is outside the domain y > 0"):
        atan2(Value(-1.0), 1.0)


@needs("maximum")
@pytest.mark.parametrize(("a", "b"), [(3.0, 1.0), (1.0, 3.0)])
def test_the_second_derivative_of_a_plugin_kink_is_zero_not_none(a: float, b: float) -> None:
    maximum = mt.op("maximum")  # microtape-activations
    x, y = Value(a), Value(b)
    with GradientTape() as outer:
        with GradientTape() as inner:
            m = maximum(x, y)
        g = inner.gradient(m, x)
    h = outer.gradient(g, [x, y])
    assert [None if v is None else v.data for v in h] == [0.0, 0.0]


def test_the_second_derivative_of_the_hinge_loss_is_zero_not_none() -> None:
    from microtape import losses

    p = Value(0.25)
    with GradientTape() as outer:
        with GradientTape() as inner:
            loss = losses.hinge([1.0], [p])
        g = inner.gradient(loss, p)
    assert g is not None and g.data == -1.0
    h = outer.gradient(g, p)
    assert h is not None and h.data == 0.0

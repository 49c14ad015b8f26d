"""``mt.stop_gradient``: TensorFlow's ``tf.stop_gradient``. Its output holds its input's
number; no tape, accumulator or compiled function differentiates through it. Where the
only way back from the target to a source goes through it, the gradient is None, as in
TensorFlow (``"zero"`` gives 0); the tangent through it is None."""

from __future__ import annotations

import warnings

import pytest
from messages import flat, loose

import microtape as mt
from microtape import GradientTape, Value


def test_the_only_way_back_through_it_gives_none_as_tensorflow() -> None:
    x = Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = mt.stop_gradient(x * x)
        z = mt.stop_gradient(x)
    assert y.data == 9.0 and z.data == 3.0
    assert tape.gradient(y, x) is None
    assert tape.gradient(z, x) is None
    zero = tape.gradient(y, x, unconnected_gradients="zero")
    assert zero.data == 0.0
    with pytest.raises(mt.UnconnectedGradientError, match=loose("only through stop_gradient")):
        tape.gradient(y, x, unconnected_gradients="raise")


def test_the_other_ways_back_still_count() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        y = x * mt.stop_gradient(x)  # d/dx = the stopped factor, 3, not 2x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 3.0


def test_its_output_is_a_source_of_its_own() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        s = mt.stop_gradient(x)
        y = s * s
    g = tape.gradient(y, [s, x])
    assert g[0] is not None and g[0].data == 6.0 and g[1] is None


def test_a_number_comes_back_as_a_float() -> None:
    assert mt.stop_gradient(2.5) == 2.5
    assert type(mt.stop_gradient(2)) is float and mt.stop_gradient(True) == 1.0
    with pytest.raises(mt.ArgumentTypeError, match="stop_gradient: x must be a Value or a real"):
        mt.stop_gradient("2")  # type: ignore[call-overload]


def test_no_tangent_goes_through_it() -> None:
    x = Value(3.0)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        s = mt.stop_gradient(x)
        y = x * s
        w = mt.stop_gradient(x * x)
    assert acc.jvp(s) is None and acc.jvp(w) is None
    assert acc.jvp(w, unconnected_gradients="zero").data == 0.0
    t = acc.jvp(y)
    assert t is not None and t.data == 3.0


def test_no_tangent_goes_through_it_when_a_tape_records_the_tangents() -> None:
    x = Value(3.0)
    with GradientTape() as tape:
        with mt.ForwardAccumulator(x, 1.0) as acc:
            s = mt.stop_gradient(x)
            y = x * s
        assert acc.jvp(s) is None
        t = acc.jvp(y)  # the stopped factor, a Value the tape can differentiate
    assert t is not None and t.data == 3.0
    assert tape.gradient(t, x) is None


def test_higher_orders_agree_between_nested_tapes_and_forward_over_reverse() -> None:
    x = Value(2.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x * x * mt.stop_gradient(x)
        g = inner.gradient(y, x)  # 2x * stop(x) = 8
    assert g is not None and g.data == 8.0
    h = outer.gradient(g, x)  # 2 * stop(x) = 4
    assert h is not None and h.data == 4.0
    with mt.ForwardAccumulator(x, 1.0) as acc:
        with GradientTape() as tape:
            y = x * x * mt.stop_gradient(x)
        g = tape.gradient(y, x)
    assert g is not None and g.data == 8.0
    t = acc.jvp(g)
    assert t is not None and t.data == 4.0


def test_function_transforms_see_it_as_jax_does() -> None:
    assert mt.grad(lambda x: x * mt.stop_gradient(x))(3.0) == 3.0
    assert mt.grad(lambda x: mt.stop_gradient(x) * 2.0)(3.0) == 0.0  # JAX's grad: 0
    assert mt.jvp(lambda x: x * mt.stop_gradient(x), (3.0,), (1.0,)) == (9.0, 3.0)


def test_compiled_equals_eager_with_no_refusal() -> None:
    @mt.function
    def step(x: Value, w: Value) -> tuple[Value, list[Value | None]]:
        with GradientTape() as tape:
            target = mt.stop_gradient(w * x + 1.0)  # a target network's number
            error = w * x - target * 0.5
            loss = error * error
        return loss, tape.gradient(loss, [x, w])

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TracingWarning would fail the test
        for x, w in [(1.0, 2.0), (3.0, -1.0), (0.5, 4.0)]:
            compiled = step(Value(x), Value(w))
            eager = step.python_function(Value(x), Value(w))
            assert compiled[0].data == eager[0].data
            assert [g and g.data for g in compiled[1]] == [g and g.data for g in eager[1]]
    assert "stop_gradient" in step.code(Value(1.0), Value(1.0))


def test_the_tape_shows_it_and_explains_it() -> None:
    x = Value(3.0)
    with GradientTape(persistent=True) as tape:
        y = mt.stop_gradient(x) * 2.0
    table = str(tape)
    assert "stop_gradient  x" in table
    (row,) = [line for line in table.splitlines() if "stop_gradient" in line]
    assert "d/d" not in row  # no local derivative is shown: there is none
    assert flat(tape.explain(y, x)).startswith(
        "No gradient: the target y is computed from x = 3.0, but only through stop_gradient"
    )
    assert str(mt.to_sympy(y, tape)) == "2*stop_gradient(x)"


def test_it_is_not_an_op_of_the_registry() -> None:
    with pytest.raises(mt.UnknownOpError):
        mt.op("stop_gradient")


def test_watching_only_some_values_still_stops() -> None:
    x = Value(3.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = x + mt.stop_gradient(x) * x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 4.0  # 1 + stop(x)

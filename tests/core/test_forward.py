"""``ForwardAccumulator``: tangents pushed forward as the ops run, with TensorFlow's API.

What it computes (directional derivatives, against tapes and sympy), what it is given
(primals and tangents in nests, and the errors for bad ones), how it nests with tapes and
other accumulators, and the rules it shares with tapes: pausing, threads and tasks, no
recursion, memory, and ``print(acc)``.
"""

from __future__ import annotations

import asyncio
import gc
import math
import re
import sys
import threading
import tracemalloc
import weakref
from collections.abc import Callable, Sequence

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from messages import flat, loose

import microtape as mt
from microtape import ForwardAccumulator, GradientTape, Value
from microtape.core.recording.context import RECORDING

Fn = Callable[[Sequence[Value]], Value]


def f2(v: Sequence[Value]) -> Value:
    """A function of two variables with every kind of op: dunders, generic ops, constants."""
    a, b = v
    return a**3 * b + mt.sin(a * b) - mt.exp(b / 4.0) * a + 2.0 / (1.0 + b * b)


def f2_sympy(a: sympy.Symbol, b: sympy.Symbol) -> sympy.Expr:
    return a**3 * b + sympy.sin(a * b) - sympy.exp(b / 4) * a + 2 / (1 + b * b)


A, B = sympy.symbols("a b", real=True)
F2 = f2_sympy(A, B)
POINT = (0.7, -1.3)


def at(expr: sympy.Expr, point: Sequence[float] = POINT) -> float:
    subs = {A: sympy.Rational(point[0]), B: sympy.Rational(point[1])}
    return float(expr.evalf(40, subs=subs))


def value(v: Value | None) -> float:
    assert v is not None
    return v.data


# ---- what it computes --------------------------------------------------------------------------


def test_the_jvp_of_a_function_of_one_variable_is_its_derivative() -> None:
    x = Value(3.0)
    with ForwardAccumulator(x, 1.0) as acc:
        y = x * x + mt.sin(x)
    assert value(acc.jvp(y)) == pytest.approx(6.0 + math.cos(3.0), rel=1e-15)


def test_the_jvp_is_the_directional_derivative_along_the_tangents() -> None:
    a, b = Value(POINT[0]), Value(POINT[1])
    direction = (0.3, -2.0)
    with ForwardAccumulator([a, b], list(direction)) as acc:
        y = f2([a, b])
    expected = direction[0] * at(sympy.diff(F2, A)) + direction[1] * at(sympy.diff(F2, B))
    assert y.data == pytest.approx(at(F2), rel=1e-14)
    assert value(acc.jvp(y)) == pytest.approx(expected, rel=1e-13)


points = st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@given(a=points, b=points, va=points, vb=points)
def test_the_jvp_equals_the_gradient_dotted_with_the_tangents(
    a: float, b: float, va: float, vb: float
) -> None:
    xs = [Value(a), Value(b)]
    with ForwardAccumulator(xs, [va, vb]) as acc:
        y = f2(xs)
    with GradientTape() as tape:
        again = f2(xs)
    ga, gb = tape.gradient(again, xs)
    expected = value(ga) * va + value(gb) * vb
    assert value(acc.jvp(y)) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_an_op_of_three_arguments_pushes_through_its_hidden_rows() -> None:
    lerp = mt.Op(
        "lerp3",
        lambda a, b, t: a + (b - a) * t,
        [lambda a, b, t: 1.0 - t, lambda a, b, t: t, lambda a, b, t: b - a],
    )
    a, b, t = Value(1.0), Value(2.0), Value(0.25)
    with ForwardAccumulator([a, b, t], [1.0, 2.0, 3.0]) as acc:
        y = lerp(a, b, t)
        z = lerp(a, 5.0, t)  # a constant in the middle
    assert value(acc.jvp(y)) == 0.75 * 1.0 + 0.25 * 2.0 + 1.0 * 3.0
    assert value(acc.jvp(z)) == 0.75 * 1.0 + 4.0 * 3.0
    assert len(acc.view().tangents) == 3 + 2  # the hidden nodes keep no tangent


def test_a_primals_own_jvp_is_its_tangent() -> None:
    x = Value(2.0)
    acc = ForwardAccumulator(x, 0.5)
    assert value(acc.jvp(x)) == 0.5  # before, inside and after the block
    with acc:
        assert value(acc.jvp(x)) == 0.5
    assert value(acc.jvp(x)) == 0.5


def test_jvp_can_be_asked_inside_the_block_and_again_after_it() -> None:
    x = Value(2.0)
    with ForwardAccumulator(x, 1.0) as acc:
        y = x * x
        assert value(acc.jvp(y)) == 4.0
        z = y * x
    assert value(acc.jvp(y)) == 4.0
    assert value(acc.jvp(z)) == 12.0


def test_unconnected_targets_give_none_or_zero() -> None:
    x, other = Value(2.0), Value(5.0)
    before = x * x  # computed before the block: the accumulator never saw it
    with ForwardAccumulator(x, 1.0) as acc:
        unrelated = other * other
        y = x * other
    after = x * x  # after the block
    for target in (before, unrelated, after, other):
        assert acc.jvp(target) is None
        zero = acc.jvp(target, unconnected_gradients="zero")
        assert type(zero) is Value and zero.data == 0.0
    assert value(acc.jvp(y)) == 5.0


def test_a_none_target_a_gradient_that_was_none_has_no_tangent() -> None:
    x, y = Value(1.0), Value(2.0)
    with ForwardAccumulator(x, 1.0) as acc:
        with GradientTape() as tape:
            z = x * x
        grads = tape.gradient(z, [x, y])  # [2x, None]
    assert grads[1] is None
    first, second = acc.jvp(grads)
    assert value(first) == 2.0 and second is None
    assert [value(v) for v in acc.jvp(grads, "zero")] == [2.0, 0.0]


def test_a_relu_that_is_off_gives_a_zero_tangent_not_none() -> None:
    x = Value(-1.0)
    with ForwardAccumulator(x, 1.0) as acc:
        y = mt.relu(x)
    assert value(acc.jvp(y)) == 0.0  # connected: the tangent is 0, as a tape's gradient is


# ---- primals, tangents and targets in nests ---------------------------------------------------


def test_primals_and_tangents_nest_in_lists_tuples_and_dicts() -> None:
    w, b, c = Value(1.0), Value(2.0), Value(3.0)
    primals = {"w": [w, (b,)], "c": c}
    tangents = {"w": [1.0, [10.0]], "c": 100}  # a list may stand for a tuple; ints are numbers
    with ForwardAccumulator(primals, tangents) as acc:
        y = w + b + c
    assert value(acc.jvp(y)) == 111.0
    view = acc.view()
    assert [(path, t) for path, _, t in view.primals] == [
        ("primals['w'][0]", 1.0),
        ("primals['w'][1][0]", 10.0),
        ("primals['c']", 100.0),
    ]


def test_jvp_answers_in_the_nesting_of_its_target() -> None:
    x = Value(2.0)
    with ForwardAccumulator(x, 1.0) as acc:
        y, z = x * x, x * 3.0
    answer = acc.jvp({"first": [y, (z,)], "again": y})
    assert isinstance(answer, dict)
    assert [value(v) for v in answer["first"][:1]] == [4.0]
    assert value(answer["first"][1][0]) == 3.0
    assert value(answer["again"]) == 4.0
    pair = acc.jvp((y, z))
    assert isinstance(pair, tuple) and [value(v) for v in pair] == [4.0, 3.0]


def test_a_tangent_may_be_a_value_and_an_outer_tape_differentiates_through_it() -> None:
    x, v = Value(0.5), Value(2.0)
    with GradientTape() as tape:
        with ForwardAccumulator(x, v) as acc:
            y = mt.sin(x) * x
        t = acc.jvp(y)
    dt_dx, dt_dv = tape.gradient(t, [x, v])
    dy = math.cos(0.5) * 0.5 + math.sin(0.5)
    assert value(t) == pytest.approx(dy * 2.0, rel=1e-15)
    assert value(dt_dv) == pytest.approx(dy, rel=1e-15)  # the jvp is linear in the tangent
    d2y = -math.sin(0.5) * 0.5 + 2 * math.cos(0.5)
    assert value(dt_dx) == pytest.approx(d2y * 2.0, rel=1e-14)


# ---- refused arguments, and the accumulator afterwards ------------------------------------------


@pytest.mark.parametrize(
    ("primals", "tangents", "error", "words"),
    [
        ([Value(1.0), Value(2.0)], [1.0], mt.ShapeError, "primals holds 2 entries but tangents"),
        (Value(1.0), [1.0], mt.ShapeError, "tangents is a list but primals is one Value"),
        ([Value(1.0)], 1.0, mt.ShapeError, "primals is a list of 1 but tangents is float 1.0"),
        ({"a": Value(1.0)}, {"a": 1.0, "b": 2.0}, mt.ShapeError, "a tangent for 'b', which is not"),
        ({"a": Value(1.0)}, {}, mt.ShapeError, "no tangent for 'a'"),
        ({"a": Value(1.0)}, [1.0], mt.ShapeError, "primals is a dict but tangents is list"),
        ([Value(1.0), 2.0], [1.0, 1.0], mt.ArgumentTypeError, "primals[1] is float 2.0"),
        ("x", 1.0, mt.ArgumentTypeError, "primals is str 'x'"),
        (Value(1.0), "1", mt.ArgumentTypeError, "tangents must be a Value or a real number"),
        (Value(1.0), None, mt.ArgumentTypeError, "got NoneType None"),
        ([Value(1.0)], ["1"], mt.ArgumentTypeError, "tangents[0] must be a Value or a real"),
    ],
)
def test_bad_primals_or_tangents_are_refused_naming_the_place(
    primals: object, tangents: object, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as raised:
        ForwardAccumulator(primals, tangents)
    assert str(raised.value).startswith("ForwardAccumulator: ")
    assert words in flat(raised.value)


def test_a_value_listed_twice_as_a_primal_is_refused() -> None:
    x = Value(1.0)
    with pytest.raises(mt.ShapeError, match=r"primals\[0\] and primals\[2\] are the same Value"):
        ForwardAccumulator([x, Value(2.0), x], [1.0, 1.0, 1.0])


def test_refused_calls_leave_the_accumulator_usable() -> None:
    x = Value(2.0)
    acc = ForwardAccumulator(x, 1.0)
    with pytest.raises(mt.TapeError, match="without a matching __enter__"):
        acc.__exit__(None, None, None)
    with pytest.raises(mt.TapeError, match="not recording"):
        with acc.stop_recording():
            pass
    with acc:
        y = x * x
        with pytest.raises(mt.TapeError, match="already recording"):
            acc.__enter__()
        with pytest.raises(mt.ArgumentTypeError, match=loose(r"jvp: .*target\[1\] is str 'y'")):
            acc.jvp([y, "y"])
        with pytest.raises(ValueError, match="must be 'none' or 'zero', got 'raise'"):
            acc.jvp(y, "raise")  # type: ignore[call-overload]
        z = y * x  # still recording
    assert value(acc.jvp(y)) == 4.0 and value(acc.jvp(z)) == 12.0


def test_an_op_refused_for_its_domain_leaves_the_accumulator_recording() -> None:
    x = Value(-1.0)
    with ForwardAccumulator(x, 1.0) as acc:
        with pytest.raises(mt.DomainError):
            mt.log(x)
        y = x * x
    assert value(acc.jvp(y)) == -2.0


def test_reentering_an_exited_accumulator_resumes_with_its_tangents() -> None:
    x = Value(3.0)
    acc = ForwardAccumulator(x, 1.0)
    with acc:
        y = x * x
    outside = y * x  # not seen
    with acc:
        z = y * x
    assert acc.jvp(outside) is None
    assert value(acc.jvp(z)) == 27.0


# ---- nesting: each way, against sympy -----------------------------------------------------------


def test_forward_over_reverse_is_a_hessian_vector_product() -> None:
    a, b = Value(POINT[0]), Value(POINT[1])
    v = (0.5, -1.5)
    with ForwardAccumulator([a, b], list(v)) as acc:
        with GradientTape() as tape:
            y = f2([a, b])
        grads = tape.gradient(y, [a, b])
    hvp = acc.jvp(grads)
    for i, s in enumerate((A, B)):
        row = [at(sympy.diff(F2, s, t)) for t in (A, B)]
        assert value(hvp[i]) == pytest.approx(row[0] * v[0] + row[1] * v[1], rel=1e-13)


def hvp_forward_over_reverse(fn: Fn, point: Sequence[float], v: Sequence[float]) -> list[float]:
    """acc around tape: the gradient's tangent comes from the float tangent sweep."""
    xs = [Value(p) for p in point]
    with ForwardAccumulator(xs, list(v)) as acc:
        with GradientTape() as tape:
            y = fn(xs)
        grads = tape.gradient(y, xs, unconnected_gradients="zero")
    return [value(t) for t in acc.jvp(grads, "zero")]


def hvp_through_values(fn: Fn, point: Sequence[float], v: Sequence[float]) -> list[float]:
    """The same with a tape outside everything: the sweep then runs on Values."""
    xs = [Value(p) for p in point]
    with GradientTape():
        with ForwardAccumulator(xs, list(v)) as acc:
            with GradientTape() as tape:
                y = fn(xs)
            grads = tape.gradient(y, xs, unconnected_gradients="zero")
    return [value(t) for t in acc.jvp(grads, "zero")]


LERP = mt.Op(
    "lerp_hvp",
    lambda a, b, t: a + (b - a) * t * t,
    [lambda a, b, t: 1.0 - t * t, lambda a, b, t: t * t, lambda a, b, t: 2.0 * (b - a) * t],
)


def f3(v: Sequence[Value]) -> Value:
    """Three arguments, a three-argument op, constants on either side, and relu."""
    a, b, c = v
    return LERP(mt.tanh(a), b * c, c) * 3.0 - mt.relu(a - 2.0) + 1.0 / mt.sqrt(b * b + 1.0)


@given(point=st.lists(points, min_size=3, max_size=3), v=st.lists(points, min_size=3, max_size=3))
def test_the_float_tangent_sweep_agrees_with_the_sweep_on_values(
    point: list[float], v: list[float]
) -> None:
    fast = hvp_forward_over_reverse(f3, point, v)
    slow = hvp_through_values(f3, point, v)
    assert fast == pytest.approx(slow, rel=1e-9, abs=1e-9)


def test_a_gradient_seeded_with_a_moving_value_carries_its_tangent() -> None:
    x = Value(0.8)
    with ForwardAccumulator(x, 1.0) as acc:
        w = x * x  # moves along x: tangent 2x
        with GradientTape() as tape:
            y = mt.sin(x)
        g = tape.gradient(y, x, output_gradients=w)  # x^2 cos x
    assert value(g) == pytest.approx(0.64 * math.cos(0.8), rel=1e-15)
    expected = 2 * 0.8 * math.cos(0.8) - 0.64 * math.sin(0.8)
    assert value(acc.jvp(g)) == pytest.approx(expected, rel=1e-14)


def test_forward_over_reverse_keeps_the_tapes_rules_on_unconnected_and_unwatched_sources() -> None:
    x, other, hidden = Value(0.5), Value(2.0), Value(3.0)
    with ForwardAccumulator(x, 1.0) as acc:
        with GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            y = x * x * hidden
        grads = tape.gradient(y, [x, other, hidden], unconnected_gradients="zero")
    gx, gother, ghidden = grads
    assert value(gx) == 3.0 and value(acc.jvp(gx)) == 6.0
    assert gother.data == 0.0 and acc.jvp(gother) is None  # unconnected: a constant zero
    assert ghidden.data == 0.0 and acc.jvp(ghidden) is None  # not watched


def test_a_gradient_that_does_not_move_has_a_zero_tangent_as_a_held_gradient_does() -> None:
    x, c = Value(0.5), Value(2.0)
    with ForwardAccumulator(x, 1.0) as acc:
        with GradientTape(persistent=True) as tape:
            y = x * 3.0
            z = c * 3.0  # does not depend on the primal
        g = tape.gradient(y, x)
        h = tape.gradient(z, c)
    assert value(g) == 3.0 and value(h) == 3.0
    # d(3)/dx is 0, not None: a gradient stays connected to what its target depends on,
    # as a gradient held at its target is on the sweep on Values. A target that does not
    # move gives its gradients no tangent at all.
    assert value(acc.jvp(g)) == 0.0
    assert acc.jvp(h) is None


def test_a_jacobian_under_an_accumulator_gives_each_rows_tangent() -> None:
    a, b = Value(POINT[0]), Value(POINT[1])
    with ForwardAccumulator([a, b], [1.0, 0.0]) as acc:
        with GradientTape(persistent=True) as tape:
            y = f2([a, b])
            z = a * b * b
        rows = tape.jacobian([y, z], [a, b])
    first, second = rows
    assert isinstance(first, list) and isinstance(second, list)
    assert value(acc.jvp(first[0])) == pytest.approx(at(sympy.diff(F2, A, A)), rel=1e-13)
    assert value(acc.jvp(second[1])) == pytest.approx(2 * POINT[1], rel=1e-15)  # d/da 2ab


def test_a_point_with_no_second_derivative_refuses_the_forward_over_reverse_gradient() -> None:
    kink = mt.Op("kinked2", lambda x: x * abs(x), [lambda x: 2.0 * mt.sqrt(x * x)])
    x = Value(0.0)
    with ForwardAccumulator(x, 1.0) as acc:
        with GradientTape(persistent=True) as tape:
            y = kink(x)
        with pytest.raises(mt.DomainError):
            tape.gradient(y, x)
        z = x * 5.0  # the accumulator still records
    assert value(acc.jvp(z)) == 5.0
    assert value(tape.gradient(y, x)) == 0.0  # on floats, outside the accumulator, it works


def test_reverse_over_forward_is_a_hessian_vector_product_too() -> None:
    a, b = Value(POINT[0]), Value(POINT[1])
    v = (0.5, -1.5)
    with GradientTape() as tape:
        with ForwardAccumulator([a, b], list(v)) as acc:
            y = f2([a, b])
        t = acc.jvp(y)
    hvp = tape.gradient(t, [a, b])
    for i, s in enumerate((A, B)):
        row = [at(sympy.diff(F2, s, t)) for t in (A, B)]
        assert value(hvp[i]) == pytest.approx(row[0] * v[0] + row[1] * v[1], rel=1e-13)


def test_accumulators_inside_accumulators_give_higher_directional_derivatives() -> None:
    a, b = Value(POINT[0]), Value(POINT[1])
    with ForwardAccumulator([a, b], [0.0, 1.0]) as third:
        with ForwardAccumulator([a, b], [1.0, 0.0]) as second:
            with ForwardAccumulator([a, b], [1.0, 0.0]) as first:
                y = f2([a, b])
            d1 = first.jvp(y)
        d2 = second.jvp(d1)
    d3 = third.jvp(d2)
    assert value(d1) == pytest.approx(at(sympy.diff(F2, A)), rel=1e-14)
    assert value(d2) == pytest.approx(at(sympy.diff(F2, A, A)), rel=1e-13)
    assert value(d3) == pytest.approx(at(sympy.diff(F2, A, A, B)), rel=1e-12)


def test_the_tensorflow_example_of_nested_accumulators() -> None:
    primal = Value(1.1)
    with ForwardAccumulator(primal, 1.0) as outer:
        with ForwardAccumulator(primal, 1.0) as inner:
            primal_out = primal**3.5
    inner_jvp = inner.jvp(primal_out)
    assert value(inner_jvp) == pytest.approx(3.5 * 1.1**2.5, rel=1e-15)
    assert value(outer.jvp(inner_jvp)) == pytest.approx(3.5 * 2.5 * 1.1**1.5, rel=1e-14)
    # Strict nesting: the inner accumulator never saw the outer one's arithmetic.
    assert inner.jvp(outer.jvp(primal_out)) is None


def test_an_inner_tape_ignores_the_outer_accumulators_arithmetic() -> None:
    x = Value(0.3)
    with GradientTape() as alone:
        mt.tanh(x * x)
    with ForwardAccumulator(x, 1.0):
        with GradientTape() as inner:
            mt.tanh(x * x)
    assert inner.view().count == alone.view().count == 2


def test_an_outer_tape_records_the_inner_accumulators_arithmetic_and_an_inner_one_does_not() -> (
    None
):
    x = Value(0.3)
    with GradientTape() as outer:
        with ForwardAccumulator(x, 2.0):
            with GradientTape() as inner:
                mt.tanh(x * x)
    assert inner.view().count == 2
    assert outer.view().count > 2  # the two ops and their tangents


def test_an_outer_tape_paused_leaves_the_tangents_as_floats() -> None:
    x = Value(0.3)
    with GradientTape(persistent=True) as tape:
        with ForwardAccumulator(x, 1.0) as acc:
            with tape.stop_recording():
                y = mt.sin(x)
            z = mt.sin(x)
    assert tape.gradient(acc.jvp(y), x) is None  # a float tangent: nothing recorded
    assert value(tape.gradient(acc.jvp(z), x)) == pytest.approx(-math.sin(0.3), rel=1e-15)


def test_a_tape_inside_an_accumulator_inside_a_tape_gives_third_derivatives() -> None:
    x = Value(0.4)
    with GradientTape() as outer:
        with ForwardAccumulator(x, 1.0) as acc:
            with GradientTape() as inner:
                y = mt.sin(x) * x
            g = inner.gradient(y, x)  # first derivative, seen by acc and by outer
        h = acc.jvp(g)  # second
    third = outer.gradient(h, x)
    expected = -3 * math.sin(0.4) - 0.4 * math.cos(0.4)  # d3/dx3 x sin x
    assert value(third) == pytest.approx(expected, rel=1e-13)


def test_a_refused_tangent_takes_the_op_off_the_outer_tape() -> None:
    # A rule whose own derivative does not exist at the point: the first derivative is
    # fine (the op records), the tangent on Values needs the second and is refused.
    kink = mt.Op("kinked", lambda x: x * abs(x), [lambda x: 2.0 * mt.sqrt(x * x)])
    x = Value(0.0)
    with GradientTape() as tape:
        y = x * 2.0
        with ForwardAccumulator(x, 1.0) as acc:
            with pytest.raises(mt.DomainError):
                kink(x)
            z = y * x
    # y and z; z's tangent is y itself (mul's rule, times the unit tangent): no op.
    # Nothing of kinked: neither its row nor the start of its tangent's arithmetic.
    assert [r.op.name for r in tape.view().records] == ["mul", "mul"]
    assert value(acc.jvp(z)) == 0.0


# ---- pausing ----------------------------------------------------------------------------------


def test_stop_recording_makes_values_constants_to_the_accumulator_only() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        with ForwardAccumulator(x, 1.0) as acc:
            with acc.stop_recording():
                y = x * x
                with acc.stop_recording():  # nested pauses
                    w = y + 1.0
                v = w * 1.0
            z = y * x
    assert acc.jvp(y) is None and acc.jvp(v) is None
    assert value(acc.jvp(z)) == 4.0  # y.data: y is a constant here
    assert value(tape.gradient(z, x)) == 12.0  # the tape saw everything


def test_stop_recording_that_outlives_the_block_does_not_bring_the_accumulator_back() -> None:
    x = Value(1.0)
    acc = ForwardAccumulator(x, 1.0)
    acc.__enter__()
    pause = acc.stop_recording()
    pause.__enter__()
    acc.__exit__(None, None, None)
    pause.__exit__(None, None, None)
    y = x * x
    assert acc.jvp(y) is None
    assert RECORDING.get() is None


# ---- threads and asyncio tasks ------------------------------------------------------------------


def directional(seed: int) -> tuple[float, float]:
    """A worker's jvp, with many thread switches in its block."""
    xs = [Value(0.1 * seed + 0.01 * i) for i in range(5)]
    with ForwardAccumulator(xs, [1.0, -1.0, 0.5, 0.0, 2.0]) as acc:
        y: Value = Value(0.0)
        for _ in range(200):
            for x in xs:
                y = mt.tanh(y * x + x)
    return y.data, value(acc.jvp(y))


@pytest.mark.threads
def test_threads_each_have_their_own_accumulators() -> None:
    expected = {seed: directional(seed) for seed in range(8)}
    results: dict[int, tuple[float, float]] = {}
    x = Value(1.0)
    with ForwardAccumulator(x, 1.0) as main:
        threads = [
            threading.Thread(target=lambda s=seed: results.__setitem__(s, directional(s)))
            for seed in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == expected
    assert main.view().computed == 0  # no worker's op reached the main thread's accumulator


@pytest.mark.event_loop
def test_asyncio_tasks_each_have_their_own_accumulators() -> None:
    async def work(seed: int) -> tuple[float, float]:
        xs = [Value(0.1 * seed + 0.01 * i) for i in range(5)]
        with ForwardAccumulator(xs, [1.0, -1.0, 0.5, 0.0, 2.0]) as acc:
            y: Value = Value(0.0)
            for _ in range(200):
                for x in xs:
                    await asyncio.sleep(0)
                    y = mt.tanh(y * x + x)
        return y.data, value(acc.jvp(y))

    async def all_at_once() -> list[tuple[float, float]]:
        return list(await asyncio.gather(*(work(seed) for seed in range(8))))

    assert asyncio.run(all_at_once()) == [directional(seed) for seed in range(8)]


@pytest.mark.event_loop
def test_a_task_that_outlives_the_block_pushes_nothing_more() -> None:
    x = Value(2.0)

    async def main() -> tuple[Value, Value, ForwardAccumulator]:
        go = asyncio.Event()

        async def late() -> Value:
            await go.wait()
            return x * x  # after the block that created this task has ended

        with ForwardAccumulator(x, 1.0) as acc:
            task = asyncio.ensure_future(late())
            inside = x * 3.0
        go.set()
        return await task, inside, acc

    after, inside, acc = asyncio.run(main())
    assert acc.jvp(after) is None
    assert value(acc.jvp(inside)) == 3.0


# ---- size and memory ---------------------------------------------------------------------------


def test_a_chain_of_three_hundred_thousand_ops_needs_no_recursion() -> None:
    y, a, b = Value(0.5), Value(0.999), Value(0.001)
    with ForwardAccumulator([a, b], [1.0, 0.0]) as acc:
        for _ in range(100_000):
            y = mt.relu(y * a + b)
    with GradientTape() as tape:
        z, c = Value(0.5), None
        for _ in range(100_000):
            z = mt.relu(z * a + b)
        c = z
    assert value(acc.jvp(y)) == pytest.approx(value(tape.gradient(c, a)), rel=1e-12)


def test_nested_modes_on_a_chain_deeper_than_the_recursion_limit() -> None:
    a, b = Value(0.999), Value(0.001)
    depth = 3 * sys.getrecursionlimit()

    def chain() -> Value:
        y = Value(0.5)
        for _ in range(depth):
            y = mt.tanh(y * a + b)
        return y

    with GradientTape() as tape:  # reverse over forward: tangents on Values
        with ForwardAccumulator(a, 1.0) as acc:
            y = chain()
        t = acc.jvp(y)
    reverse_over_forward = value(tape.gradient(t, a))
    with ForwardAccumulator(a, 1.0) as outer:  # forward over forward
        with ForwardAccumulator(a, 1.0) as inner:
            y = chain()
    forward_over_forward = value(outer.jvp(inner.jvp(y)))
    with ForwardAccumulator(a, 1.0) as acc:  # forward over reverse: the tangent sweep
        with GradientTape() as tape:
            y = chain()
        g = tape.gradient(y, a)
    forward_over_reverse = value(acc.jvp(g))
    assert reverse_over_forward == pytest.approx(forward_over_forward, rel=1e-12)
    assert forward_over_reverse == pytest.approx(forward_over_forward, rel=1e-12)


def test_the_accumulator_holds_floats_not_the_intermediate_values() -> None:
    x = Value(0.5)
    refs: list[weakref.ref[Value]] = []
    with ForwardAccumulator(x, 1.0) as acc:
        y = x
        for _ in range(100):
            y = mt.sin(y)
            refs.append(weakref.ref(y))
    last = refs[-1]()
    assert last is not None
    assert sum(r() is not None for r in refs) == 1  # only the last, which `y` holds
    assert acc.jvp(last) is not None


def test_memory_per_node_is_bounded_and_returned_when_the_accumulator_is_dropped() -> None:
    n = 50_000
    gc.collect()
    was = gc.isenabled()
    gc.disable()  # only reference counting may free anything
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        x = Value(0.5)
        acc = ForwardAccumulator(x, 1.0)
        with acc:
            y = x
            for _ in range(n):
                y = y * 0.999 + 0.001
        del y
        held = tracemalloc.get_traced_memory()[0] - base
        del acc
        cycles = gc.collect()  # also empties CPython's free lists of small objects
        left = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
        if was:
            gc.enable()
    per_node = held / (2 * n)
    assert 24 <= per_node <= 150  # a dict entry and a float per node
    assert cycles == 0  # reference counting alone freed it
    assert left < held / 1000


def test_the_accumulator_is_not_kept_alive_by_the_values_it_saw() -> None:
    x = Value(0.5)
    acc = ForwardAccumulator(x, 1.0)
    alone = sys.getrefcount(acc)  # the name only, as this Python counts it (3.14: 1 less)
    with acc:
        y = mt.exp(x)
    assert sys.getrefcount(acc) == alone  # neither x nor y holds it
    assert y.data == pytest.approx(math.exp(0.5))


# ---- print(acc) -------------------------------------------------------------------------------


def test_print_shows_the_primals_and_the_tangent_of_each_node() -> None:
    w, b = Value(0.5), Value(0.0)
    with ForwardAccumulator({"w": w, "b": b}, {"w": 1.0, "b": 0.0}) as acc:
        prediction = w * 3.0 + b
        loss = (prediction - 6.0) * (prediction - 6.0)
    text = str(acc)
    assert loss.data == 20.25
    lines = text.splitlines()
    assert lines[0] == "ForwardAccumulator: exited, 2 primals, 5 tangents computed"
    assert lines[1].split() == ["primal", "value", "tangent"]
    assert lines[2].split() == ["w", "0.5", "1.0"]  # by the names of their variables
    assert lines[3].split() == ["b", "0.0", "0.0"]
    assert lines[4].split() == ["computed", "from", "them", "tangent"]
    assert lines[5].split() == ["node", str(prediction.node - 1), "3.0"]  # w * 3.0: unnamed
    assert lines[-2].split() == ["loss", "-27.0"]
    assert "in the order the ops ran" in lines[-1]
    assert repr(acc) == "<ForwardAccumulator exited, 2 primals, 5 tangents computed>"


def test_print_before_any_op_and_of_a_long_run() -> None:
    x = Value(1.0)
    acc = ForwardAccumulator(x, 1.0)
    assert str(acc).splitlines()[0] == "ForwardAccumulator: fresh, 1 primal, 0 tangents computed"
    assert "no op has run on a primal yet" in str(acc)
    with acc:
        y = x
        for _ in range(100):
            y = y * 1.0
    text = str(acc)
    assert re.search(r"\n  \.\.\. +70 more\n", text)
    assert len(text.splitlines()) == 1 + 2 + 1 + 20 + 1 + 10 + 1

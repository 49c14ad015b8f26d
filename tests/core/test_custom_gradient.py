"""``@mt.custom_gradient``, TensorFlow's ``tf.custom_gradient``: the function returns
``(y, grad_fn)`` and tapes use ``grad_fn`` for its gradient, called with the upstream
gradient that really arrives; an outer tape records ``grad_fn``'s ops (second
derivatives). Forward mode through it is refused; ``mt.function`` refuses to trace it and
runs it as written."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import pytest
from messages import flat

import microtape as mt
from microtape import GradientTape, Value

GradFn = Callable[[Value], Value]


# ---- TensorFlow's examples ------------------------------------------------------------------


@mt.custom_gradient
def log1pexp(x: Value) -> tuple[Value, GradFn]:
    e = mt.exp(x)

    def grad(upstream: Value) -> Value:
        return upstream * (1 - 1 / (1 + e))

    return mt.log(1 + e), grad


@mt.custom_gradient
def clip_gradient_by_norm(x: Value, norm: float) -> tuple[Value, Callable[[Value], object]]:
    y = x * 1.0  # tf.identity(x)

    def grad_fn(dresult: Value) -> list[Value | None]:
        size = abs(dresult)  # tf.clip_by_norm on a scalar
        clipped = dresult if size.data <= norm else dresult * norm / size
        return [clipped, None]

    return y, grad_fn


def _sigmoid_slope(x: float) -> float:
    s = 1.0 / (1.0 + math.exp(-x))
    return s * (1.0 - s)


def test_log1pexp_has_its_stable_gradient_where_the_plain_one_fails() -> None:
    x = Value(1000.0)
    with GradientTape(persistent=True) as tape:
        custom = log1pexp(x)
        plain = mt.log(1 + mt.exp(x))
    g = tape.gradient(custom, x)
    assert g is not None and g.data == 1.0  # TensorFlow's documented answer
    naive = tape.gradient(plain, x)
    assert naive is not None and naive.data != 1.0  # inf / inf, here a strong zero


@pytest.mark.parametrize("point", [-3.0, 0.0, 0.5, 4.0])
def test_an_outer_tape_records_grad_fn_so_second_derivatives_work(point: float) -> None:
    x = Value(point)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = log1pexp(x)
        g = inner.gradient(y, x)
    assert g is not None and g.data == pytest.approx(1.0 / (1.0 + math.exp(-point)))
    h = outer.gradient(g, x)
    assert h is not None and h.data == pytest.approx(_sigmoid_slope(point), rel=1e-12)
    assert mt.hessian(log1pexp)(point) == pytest.approx(_sigmoid_slope(point), rel=1e-12)


def test_the_gradient_clipping_example_of_tensorflows_guide() -> None:
    v = Value(2.0)
    with GradientTape() as tape:
        output = clip_gradient_by_norm(v * v, 0.5)
    g = tape.gradient(output, v)  # backward clips 1 to 0.5; times d(v*v)/dv = 4: 2
    assert g is not None and g.data == 2.0


def test_grad_fn_gets_the_upstream_gradient_that_arrives_not_one() -> None:
    v = Value(2.0)
    with GradientTape(persistent=True) as tape:
        output = 10.0 * clip_gradient_by_norm(v * v, 0.5)
    g = tape.gradient(output, v)  # upstream 10 clipped to 0.5, times 4: not 10 * 0.5 * 4
    assert g is not None and g.data == 2.0
    g = tape.gradient(output, v, output_gradients=0.01)
    assert g is not None and g.data == pytest.approx(0.4)  # 0.1 arrives: under the norm
    with GradientTape() as outer:
        with GradientTape() as inner:
            output = 10.0 * clip_gradient_by_norm(v * v, 0.5)
        g = inner.gradient(output, v)  # the recorded sweep calls grad_fn alike
    assert g is not None and g.data == 2.0
    assert outer.gradient(g, v) is not None


# ---- what grad_fn returns -------------------------------------------------------------------


def test_several_arguments_numbers_and_none() -> None:
    @mt.custom_gradient
    def scaled(a: Value, b: Value, c: float, d: Value) -> tuple[Value, Callable[[Value], object]]:
        def grad_fn(up: Value) -> tuple[Value, None, float, Value]:
            return up * 2.0, None, 99.0, up * b

        return a * b * c + d, grad_fn

    a, b, d = Value(1.0), Value(3.0), Value(5.0)
    with GradientTape() as tape:
        y = scaled(a, b, 4.0, d) * 3.0
    assert y.data == 51.0
    grads = tape.gradient(y, [a, b, d])
    assert [g and g.data for g in grads] == [6.0, None, 9.0]


def test_a_straight_through_estimator_computes_its_forward_from_numbers() -> None:
    @mt.custom_gradient
    def rounded(x: Value) -> tuple[float, GradFn]:
        return float(round(mt.number(x))), lambda up: up

    x = Value(2.7)
    with GradientTape() as tape:
        y = rounded(x) * x
    assert y.data == pytest.approx(3.0 * 2.7)
    g = tape.gradient(y, x)  # d/dx (round(x) * x) with round's slope taken as 1: x + round(x)
    assert g is not None and g.data == pytest.approx(2.7 + 3.0)


def test_a_wrong_number_of_gradients_is_refused_and_the_tape_stays_usable() -> None:
    @mt.custom_gradient
    def pair(a: Value, b: Value) -> tuple[Value, Callable[[Value], object]]:
        return a + b, lambda up: up  # one gradient for two arguments

    a, b = Value(1.0), Value(2.0)
    with GradientTape() as tape:
        y = pair(a, b)
    with pytest.raises(mt.ArgumentTypeError, match=r"pair's grad_fn must return 2 gradients.*a, b"):
        tape.gradient(y, a)
    with pytest.raises(mt.ArgumentTypeError, match="grad_fn must return 2"):
        tape.gradient(y, a)  # not used up by the refused call: the same error again

    @mt.custom_gradient
    def wrong(x: Value) -> tuple[Value, Callable[[Value], object]]:
        return x * 1.0, lambda up: "1"

    with GradientTape() as tape:
        z = wrong(a)
    with pytest.raises(mt.ArgumentTypeError, match="gave str '1' as the gradient of x"):
        tape.gradient(z, a)


def test_what_the_function_is_given_and_returns_is_checked() -> None:
    @mt.custom_gradient
    def no_pair(x: Value) -> tuple[Value, GradFn]:
        return x  # type: ignore[return-value]

    with pytest.raises(mt.ArgumentTypeError, match=r"no_pair must return \(y, grad_fn\)"):
        no_pair(Value(1.0))
    with pytest.raises(mt.ArgumentTypeError, match="log1pexp's argument x must be a Value or"):
        log1pexp("1")  # type: ignore[arg-type]
    with pytest.raises(mt.ArgumentTypeError, match="keyword argument norm=Value"):
        clip_gradient_by_norm(Value(1.0), norm=Value(0.5))  # type: ignore[arg-type]
    with pytest.raises(mt.ArgumentTypeError, match="expected a function"):
        mt.custom_gradient(3)  # type: ignore[arg-type]


def test_numbers_in_give_the_functions_result_and_values_a_new_value() -> None:
    assert log1pexp(0.0) == pytest.approx(math.log(2.0))  # type: ignore[arg-type]
    x = Value(0.0)
    y = log1pexp(x)  # nothing records: a Value all the same
    assert type(y) is Value and y.data == pytest.approx(math.log(2.0)) and y != x
    assert log1pexp.__name__ == "log1pexp"


def test_print_and_explain_name_the_function() -> None:
    x = Value(0.5)
    with GradientTape(persistent=True) as tape:
        y = log1pexp(x)
    row = [line for line in str(tape).splitlines() if "log1pexp" in line]
    assert len(row) == 1 and "from its grad_fn" in row[0]
    assert "x -> y (log1pexp)" in flat(tape.explain(y, x))


def test_watch_accessed_variables_false() -> None:
    x, w = Value(0.5), Value(2.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = log1pexp(x) * w
    grads = tape.gradient(y, [x, w])
    assert grads[0] is not None and grads[0].data == pytest.approx(2.0 / (1.0 + math.exp(-0.5)))
    assert grads[1] is None


# ---- forward mode and mt.function -----------------------------------------------------------


def test_a_forward_accumulator_through_it_is_refused_naming_custom_gradient() -> None:
    x = Value(0.5)
    with GradientTape() as tape:
        with mt.ForwardAccumulator(x, 1.0) as acc:
            with pytest.raises(mt.TapeError, match="custom_gradient: a ForwardAccumulator"):
                log1pexp(x)
            y = x * 2.0  # everything goes on as before
    assert acc.jvp(y) is not None
    assert [r.op.name for r in tape.view().records] == ["mul"]  # nothing of the refused call
    with pytest.raises(mt.TapeError, match="JAX's custom_vjp"):
        mt.jvp(log1pexp, (0.5,), (1.0,))
    other = Value(1.0)
    with mt.ForwardAccumulator(other, 1.0) as acc:
        z = log1pexp(x)  # no argument has a tangent: nothing to refuse
    assert acc.jvp(z) is None


def test_forward_over_reverse_pushes_tangents_through_grad_fn() -> None:
    @mt.custom_gradient
    def softplus(x: Value) -> tuple[Value, GradFn]:
        return mt.log(1.0 + mt.exp(x)), lambda up: up * mt.sigmoid(x)

    x = Value(0.5)
    with GradientTape() as tape:
        y = softplus(x)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        g = tape.gradient(y, x)  # the accumulator sees grad_fn's ops: sigmoid(x)
    assert g is not None and g.data == pytest.approx(1.0 / (1.0 + math.exp(-0.5)))
    t = acc.jvp(g)
    assert t is not None and t.data == pytest.approx(_sigmoid_slope(0.5), rel=1e-12)


def test_mt_function_refuses_to_trace_it_and_runs_it_as_written() -> None:
    @mt.function
    def step(x: Value) -> tuple[Value, Value | None]:
        with GradientTape() as tape:
            y = log1pexp(x) * x
        return y, tape.gradient(y, x)

    with pytest.warns(mt.TracingWarning, match="custom_gradient function log1pexp"):
        first = step(Value(1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once: later calls run as written quietly
        for point in (1.0, 2.0, -3.0):
            compiled = step(Value(point))
            eager = step.python_function(Value(point))
            assert compiled[0].data == eager[0].data
            assert compiled[1] is not None and eager[1] is not None
            assert compiled[1].data == eager[1].data
    assert first[1] is not None and first[1].data == pytest.approx(
        math.log1p(math.e) + 1.0 / (1.0 + math.exp(-1.0))
    )


def test_the_function_transforms_on_tapes_use_grad_fn() -> None:
    @mt.custom_gradient
    def square(a: Value) -> tuple[Value, GradFn]:
        return a * a, lambda up: up * 2.0 * a

    assert mt.grad(square)(3.0) == 6.0
    assert mt.value_and_grad(square)(3.0) == (9.0, 6.0)
    assert mt.vjp(square, 3.0)[1](1.0) == (6.0,)
    assert mt.hessian(square)(3.0) == 2.0
    pair = lambda p: [square(p[0]), square(p[1])]  # noqa: E731
    assert mt.jacobian(pair, mode="reverse")([1.0, 2.0]) == [[2.0, 0.0], [0.0, 4.0]]
    with pytest.raises(mt.TapeError, match="custom_gradient"):
        mt.jacobian(pair)([1.0, 2.0])  # auto runs an accumulator along the first input

"""Function transforms: grad, value_and_grad, jvp, vjp, hessian, hvp, jacobian.

Floats (or nests of floats) in and out; checked against sympy and against each other;
the shapes scipy and a hand-written optimizer need; composition through Values; and
the errors for what they cannot use.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from messages import flat

import microtape as mt
from microtape import Value

X, Y = sympy.symbols("x y", real=True)
G = X**3 * Y + sympy.sin(X * Y) + sympy.exp(Y / 3) / (1 + X * X)


def g(p: Sequence[Value]) -> Value:
    """``G`` written with microtape."""
    x, y = p
    return x**3 * y + mt.sin(x * y) + mt.exp(y / 3.0) / (1.0 + x * x)


def at(expr: sympy.Expr, point: Sequence[float]) -> float:
    return float(expr.evalf(40, subs={X: sympy.Rational(point[0]), Y: sympy.Rational(point[1])}))


def cube(x: Value) -> Value:
    return x * x * x


POINT = [0.7, -1.2]
coordinates = st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


# ---- grad and value_and_grad ------------------------------------------------------------------


def test_grad_of_a_function_of_one_number_is_a_float() -> None:
    d = mt.grad(cube)(2.0)
    assert type(d) is float and d == 12.0
    assert mt.grad(cube)(3) == 27.0  # an int is a number


@given(x=coordinates, y=coordinates)
def test_grad_of_a_function_of_a_list_agrees_with_sympy(x: float, y: float) -> None:
    found = mt.grad(g)([x, y])
    assert isinstance(found, list) and all(type(d) is float for d in found)
    expected = [at(sympy.diff(G, s), [x, y]) for s in (X, Y)]
    assert found == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_grad_answers_in_the_nesting_of_the_argument() -> None:
    Point = namedtuple("Point", "x y")
    found = mt.grad(lambda d: d["w"][0] * d["w"][1] + d["b"].x * 10.0)(
        {"w": (2.0, 3.0), "b": Point(1.0, 5.0)}
    )
    assert found == {"w": (3.0, 2.0), "b": Point(10.0, 0.0)}


def test_argnums_picks_the_arguments_and_passes_the_others_as_they_are() -> None:
    def f(a: Value, scale: float, b: Value) -> Value:
        assert type(scale) is float  # not differentiated: not a Value
        return a * b * scale

    assert mt.grad(f)(2.0, 10.0, 3.0) == 30.0
    assert mt.grad(f, argnums=2)(2.0, 10.0, 3.0) == 20.0
    assert mt.grad(f, argnums=(0, 2))(2.0, 10.0, 3.0) == (30.0, 20.0)


def test_a_function_that_does_not_use_an_argument_gives_zero_for_it() -> None:
    assert mt.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, 5.0) == (2.0, 0.0)
    assert mt.grad(lambda x: 3.0)(1.0) == 0.0  # f returns a plain number
    assert mt.grad(lambda xs: xs[0])([1.0, 2.0]) == [1.0, 0.0]
    assert mt.value_and_grad(lambda x: 7)(1.0) == (7.0, 0.0)


def test_value_and_grad_gives_floats_in_the_shape_scipy_asks_for() -> None:
    fun = mt.value_and_grad(g)
    value, jac = fun(POINT)
    assert type(value) is float and value == pytest.approx(at(G, POINT), rel=1e-14)
    assert jac == pytest.approx([at(sympy.diff(G, s), POINT) for s in (X, Y)], rel=1e-13)


class Array:
    """Indexable with a length, like a numpy array (not installed here)."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: int) -> float:
        return self.values[i]


def minimize(
    fun: Any, x0: Sequence[float], steps: int = 2000, rate: float = 1e-3
) -> tuple[list[float], float]:
    """The calling convention of scipy.optimize.minimize(fun, x0, jac=True), by hand:
    ``fun`` gets an array and returns ``(value, gradient)``."""
    x = list(x0)
    value = math.inf
    for _ in range(steps):
        value, gradient = fun(Array(x))
        x = [xi - rate * gi for xi, gi in zip(x, gradient, strict=True)]
    return x, value


def test_value_and_grad_drives_a_minimizer_that_passes_arrays() -> None:
    def rosenbrock(p: Sequence[Value]) -> Value:
        x, y = p
        return (1.0 - x) ** 2 + 10.0 * (y - x * x) ** 2

    x, value = minimize(mt.value_and_grad(rosenbrock), [-0.5, 0.5], steps=20_000)
    assert value < 1e-6 and x == pytest.approx([1.0, 1.0], abs=1e-2)


# ---- jvp and vjp --------------------------------------------------------------------------------


@given(x=coordinates, y=coordinates, vx=coordinates, vy=coordinates)
def test_jvp_is_the_gradient_along_the_tangent(x: float, y: float, vx: float, vy: float) -> None:
    value, tangent = mt.jvp(g, ([x, y],), ([vx, vy],))
    gx, gy = (at(sympy.diff(G, s), [x, y]) for s in (X, Y))
    assert value == pytest.approx(at(G, [x, y]), rel=1e-12, abs=1e-12)
    assert tangent == pytest.approx(gx * vx + gy * vy, rel=1e-9, abs=1e-9)


def test_jvp_of_a_function_with_several_arguments_and_outputs() -> None:
    def f(r: Value, theta: Value) -> dict[str, Value | float]:
        return {"x": r * mt.cos(theta), "y": r * mt.sin(theta), "one": 1.0}

    value, tangent = mt.jvp(f, (2.0, 0.5), (0.0, 1.0))
    assert value == {"x": 2 * math.cos(0.5), "y": 2 * math.sin(0.5), "one": 1.0}
    assert tangent == pytest.approx({"x": -2 * math.sin(0.5), "y": 2 * math.cos(0.5), "one": 0})


def test_vjp_pulls_any_cotangent_back_to_each_primal() -> None:
    value, pullback = mt.vjp(lambda a, b: [a * b, a + b, 3.0], 2.0, 5.0)
    assert value == [10.0, 7.0, 3.0]
    assert pullback([1.0, 0.0, 0.0]) == (5.0, 2.0)
    assert pullback([0.0, 1.0, 100.0]) == (1.0, 1.0)  # a constant output pulls nothing
    assert pullback([2, 3, 0]) == (13.0, 7.0)  # as many times as wanted


def test_vjp_of_a_scalar_function_is_its_gradient() -> None:
    value, pullback = mt.vjp(g, POINT)
    (gradient,) = pullback(1.0)
    assert value == pytest.approx(at(G, POINT), rel=1e-14)
    assert gradient == pytest.approx(mt.grad(g)(POINT), rel=1e-15)


# ---- second order -------------------------------------------------------------------------------


@given(x=coordinates, y=coordinates)
def test_hessian_agrees_with_sympy(x: float, y: float) -> None:
    found = mt.hessian(g)([x, y])
    expected = [[at(sympy.diff(G, s, t), [x, y]) for t in (X, Y)] for s in (X, Y)]
    assert len(found) == 2
    for row, want in zip(found, expected, strict=True):
        assert row == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_hessian_of_a_function_of_one_number_is_a_float() -> None:
    h = mt.hessian(cube)(2.0)
    assert type(h) is float and h == 12.0


def test_hessian_nests_like_its_argument_twice() -> None:
    found = mt.hessian(lambda d: d["a"] * d["b"] * d["b"])({"a": 1.0, "b": 2.0})
    assert found == {"a": {"a": 0.0, "b": 4.0}, "b": {"a": 4.0, "b": 2.0}}


@given(x=coordinates, y=coordinates, vx=coordinates, vy=coordinates)
def test_hvp_is_the_hessian_times_the_vector(x: float, y: float, vx: float, vy: float) -> None:
    found = mt.hvp(g, [x, y], [vx, vy])
    rows = [[at(sympy.diff(G, s, t), [x, y]) for t in (X, Y)] for s in (X, Y)]
    expected = [row[0] * vx + row[1] * vy for row in rows]
    assert found == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_hvp_of_a_function_of_one_number() -> None:
    assert mt.hvp(cube, 2.0, 0.5) == 6.0
    assert mt.hvp(lambda x: 1.0, 2.0, 0.5) == 0.0


# ---- jacobian -----------------------------------------------------------------------------------


def polar(p: Sequence[Value]) -> list[Value]:
    r, theta = p
    return [r * mt.cos(theta), r * mt.sin(theta), r * r * theta]


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_jacobian_in_every_mode(mode: mt.functions.Mode) -> None:
    found = mt.jacobian(polar, mode=mode)([2.0, 0.5])
    expected = [
        [math.cos(0.5), -2 * math.sin(0.5)],
        [math.sin(0.5), 2 * math.cos(0.5)],
        [2 * 2 * 0.5, 4.0],
    ]
    assert len(found) == 3
    for row, want in zip(found, expected, strict=True):
        assert row == pytest.approx(want, rel=1e-15)
    assert mt.jacobian(cube, mode=mode)(2.0) == 12.0
    assert mt.jacobian(g, mode=mode)(POINT) == pytest.approx(mt.grad(g)(POINT), rel=1e-15)
    assert mt.jacobian(lambda x: [x, 2.0 * x, 5.0], mode=mode)(1.0) == [1.0, 2.0, 0.0]
    assert mt.jacobian(lambda p: [sum(p, 1.0)], mode=mode)([]) == [[]]  # no input


def calls_of(mode: mt.functions.Mode, inputs: int, outputs: int) -> int:
    calls = 0

    def f(p: list[Value]) -> list[Value]:
        nonlocal calls
        calls += 1
        total = sum(p, Value(0.0))
        return [total * float(k) for k in range(outputs)]

    mt.jacobian(f, mode=mode)([1.0] * inputs)
    return calls


def test_auto_mode_goes_forward_when_there_are_fewer_inputs_than_outputs() -> None:
    assert calls_of("auto", 2, 5) == 2  # forward: one pass per input
    assert calls_of("auto", 5, 2) == 1  # reverse: one recording, one sweep per output
    assert calls_of("auto", 3, 3) == 1  # a tie goes to reverse mode
    assert calls_of("forward", 5, 2) == 5
    assert calls_of("reverse", 2, 5) == 1


# ---- composition --------------------------------------------------------------------------------


def test_transforms_compose_through_values() -> None:
    assert mt.grad(mt.grad(cube))(2.0) == 12.0
    assert mt.grad(mt.grad(mt.grad(cube)))(2.0) == 6.0
    for row, want in zip(mt.jacobian(mt.grad(g))(POINT), mt.hessian(g)(POINT), strict=True):
        assert row == pytest.approx(want, rel=1e-14)
    second = mt.grad(lambda x: mt.jvp(cube, (x,), (1.0,))[1])(2.0)  # reverse over forward
    assert second == 12.0


def test_given_values_come_back_as_values_an_outer_tape_differentiates() -> None:
    x = Value(2.0)
    derivative: Any = mt.grad(cube)  # its type says floats; Values go through it too
    with mt.GradientTape() as tape:
        d = derivative(x)
    assert type(d) is Value and d.data == 12.0
    second = tape.gradient(d, x)
    assert second is not None and second.data == 12.0


# ---- what they refuse ---------------------------------------------------------------------------


untyped: Any = mt  # these calls are wrong on purpose: mypy would refuse them


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: untyped.grad(3.0), mt.ArgumentTypeError, "grad: f must be a function, got float"),
        (lambda: untyped.grad(cube, argnums=True), mt.ArgumentTypeError, "argnums must be"),
        (lambda: untyped.grad(cube, argnums=-1), mt.ArgumentTypeError, "argnums must be"),
        (lambda: untyped.grad(cube, argnums=(0, 0)), mt.ArgumentTypeError, "distinct"),
        (
            lambda: untyped.hessian(cube, argnums=(0,)),
            mt.ArgumentTypeError,
            "an int >= 0, got (0,)",
        ),
        (
            lambda: untyped.grad(cube, argnums=1)(2.0),
            mt.ArgumentTypeError,
            "called with 1 argument",
        ),
        (lambda: untyped.grad(cube)("2"), mt.ArgumentTypeError, "grad: args[0] must be a number"),
        (lambda: untyped.grad(g)([1.0, None]), mt.ArgumentTypeError, "args[0][1] must be a number"),
        (lambda: untyped.grad(cube)(b"1"), mt.ArgumentTypeError, "got bytes b'1'"),
        (lambda: untyped.grad(cube)(1j), mt.ArgumentTypeError, "got complex 1j"),
        (lambda: untyped.grad(lambda x: [x])(1.0), mt.ArgumentTypeError, "use mt.jacobian"),
        (lambda: untyped.grad(lambda x: None)(1.0), mt.ArgumentTypeError, "got NoneType None"),
        (lambda: untyped.hessian(lambda x: "x")(1.0), mt.ArgumentTypeError, "got str 'x'"),
        (
            lambda: untyped.jvp(cube, 2.0, 1.0),
            mt.ArgumentTypeError,
            "write (2.0,) for one argument",
        ),
        (lambda: untyped.jvp(cube, (2.0,), ("a",)), mt.ArgumentTypeError, "tangents[0] must be"),
        (lambda: untyped.jvp(g, ([1.0, 2.0],), ([1.0],)), mt.ShapeError, "holds 2 entries"),
        (
            lambda: untyped.jvp(lambda x: {"a": "b"}, (1.0,), (1.0,)),
            mt.ArgumentTypeError,
            "['a'] is str",
        ),
        (lambda: untyped.vjp(cube, 2.0)[1]([1.0, 2.0]), mt.ShapeError, "holds 2 numbers"),
        (lambda: untyped.hvp(g, [1.0, 2.0], [1.0]), mt.ShapeError, "hvp: "),
        (lambda: untyped.jacobian(cube, mode="sideways"), ValueError, "got 'sideways'"),
    ],
)
def test_what_cannot_be_used_is_refused_naming_it(
    call: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error) as raised:
        call()
    assert words in flat(raised.value)

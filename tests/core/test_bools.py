"""A bool is the number it is in Python (True is 1.0, False 0.0), as in JAX: as an
operand of every operator and op, as a Value's number, as an upstream gradient or a
tangent, and in every path: recorded, ``mt.grad`` and compiled by ``mt.function``."""

from __future__ import annotations

import warnings

import pytest

import microtape as mt


@pytest.mark.parametrize(
    ("expr", "expected", "slope"),
    [
        (lambda x: x * True, 3.0, 1.0),
        (lambda x: True * x, 3.0, 1.0),
        (lambda x: x * False, 0.0, 0.0),
        (lambda x: True + x, 4.0, 1.0),
        (lambda x: x - True, 2.0, 1.0),
        (lambda x: False - x, -3.0, -1.0),
        (lambda x: x / True, 3.0, 1.0),
        (lambda x: True / x, 1.0 / 3.0, -1.0 / 9.0),
        (lambda x: x**True, 3.0, 1.0),
        (lambda x: mt.pow(x, True), 3.0, 1.0),
        (lambda x: (x.data > 0) * x, 3.0, 1.0),  # micrograd's relu, as a mask
    ],
)
def test_a_bool_operand_is_its_number_and_records_like_one(
    expr: object, expected: float, slope: float
) -> None:
    x = mt.Value(3.0)
    with mt.GradientTape() as tape:
        y = expr(x)  # type: ignore[operator]
    assert isinstance(y, mt.Value)
    assert y.data == pytest.approx(expected)
    g = tape.gradient(y, x)
    assert g is not None and g.data == pytest.approx(slope)


def test_an_op_of_bools_alone_is_a_float_recorded_nowhere() -> None:
    with mt.GradientTape() as tape:
        y = mt.exp(True)
        z = mt.relu(False)
    assert (type(y), type(z), z) == (float, float, 0.0)
    assert y == pytest.approx(2.718281828459045)
    assert tape.view().count == 0


def test_a_value_of_a_bool_holds_its_number() -> None:
    assert mt.Value(True).data == 1.0
    assert mt.Value(False).data == 0.0
    x = mt.Value(5.0)
    x.data = True
    assert x.data == 1.0 and type(x.data) is float


def test_a_bool_upstream_gradient_and_a_bool_tangent_are_numbers() -> None:
    x = mt.Value(2.0)
    with mt.GradientTape() as tape:
        y = x * x
    g = tape.gradient(y, x, output_gradients=True)
    assert g is not None and g.data == 4.0
    with mt.ForwardAccumulator(x, True) as acc:
        z = x * x
    t = acc.jvp(z)
    assert t is not None and t.data == 4.0


def test_function_transforms_take_bools_as_numbers() -> None:
    def cube(x: mt.Value) -> mt.Value:
        return x * x * x

    assert mt.grad(cube)(True) == 3.0
    assert mt.grad(lambda x: x * True + False)(2.0) == 1.0
    assert mt.value_and_grad(lambda x: x > 0.0)(2.0) == (1.0, 0.0)  # a bool result: a constant


def test_a_compiled_function_with_bool_operands_equals_the_eager_one() -> None:
    @mt.function
    def masked(x: mt.Value, on: bool) -> tuple[mt.Value, mt.Value | None]:
        with mt.GradientTape() as tape:
            y = x * on + (x > 0.0) * x * x  # a guard's bool, and a bool argument
        return y, tape.gradient(y, x)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no TracingWarning: nothing is refused
        for x, on in [(3.0, True), (2.0, True), (-1.0, True), (2.0, False), (5.0, False)]:
            y, g = masked(mt.Value(x), on)
            y_eager, g_eager = masked.python_function(mt.Value(x), on)
            assert (y.data, g and g.data) == (y_eager.data, g_eager and g_eager.data)
    assert masked.traces >= 3  # the bool argument is part of the structure, as an int is

"""mt.to_sympy: a Value's recorded computation as a sympy expression in its leaves."""

from __future__ import annotations

import pytest
import sympy
from example_plugins import needs
from messages import loose

import microtape as mt


@needs("hypot")
def test_each_op_is_its_sympy_form_and_each_leaf_a_symbol() -> None:
    w, b = mt.Value(0.5), mt.Value(0.25)
    with mt.GradientTape(persistent=True) as tape:
        y = mt.tanh(w * 3.0 + b) + mt.log(w) * mt.op("hypot")(w, b)
    expression = mt.to_sympy(y, tape, names={w: "weight"})
    ws, bs = sympy.Symbol("weight", real=True), sympy.Symbol("b", real=True)  # b: as print(tape)
    assert expression == sympy.tanh(3 * ws + bs) + sympy.log(ws) * sympy.sqrt(ws**2 + bs**2)
    value = expression.subs({ws: 0.5, bs: 0.25})
    assert float(value) == pytest.approx(y.data, rel=1e-15)
    derivative = sympy.diff(expression, ws).subs({ws: 0.5, bs: 0.25})
    assert float(derivative) == pytest.approx(tape.gradient(y, w).data, rel=1e-14)  # type: ignore[union-attr]
    tape.release()


def test_only_what_the_value_depends_on_and_what_the_tape_saw() -> None:
    x = mt.Value(2.0)
    with mt.GradientTape() as tape:
        unrelated = mt.exp(x)
        y = x * x if x > 1.0 else -x  # the branch taken is all the tape saw
        z = y * x.data  # a number read off a Value is a constant
    assert unrelated.data > 0
    assert str(mt.to_sympy(z, tape)) == "2*x**2"  # x: the variable that holds it


def test_a_value_the_tape_did_not_compute_is_its_own_symbol() -> None:
    x = mt.Value(1.5)
    with mt.GradientTape() as tape:
        pass
    assert mt.to_sympy(x, tape, names={x: "x"}) == sympy.Symbol("x", real=True)


def test_a_freed_tape_or_an_op_without_a_sympy_form_is_refused() -> None:
    x = mt.Value(1.0)
    with mt.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(mt.TapeError, match="used up"):
        mt.to_sympy(y, tape)
    plain = mt.Op("plain", lambda v: 2.0 * v, [lambda v: 2.0])
    with mt.GradientTape() as tape:
        y = plain(x)
    with pytest.raises(ValueError, match="'plain' has no sympy form"):
        mt.to_sympy(y, tape)
    with pytest.raises(mt.ArgumentTypeError, match=loose("only the tape that recorded it")):
        mt.to_sympy(y, None)  # type: ignore[arg-type]

"""mt.function gives the eager function's numbers to the last bit: property tests.

Random programs over Values (built-in ops, the example plugins' ops where they are
installed, constants, branches on Values), differentiated once, or twice through nested
tapes inside the traced function, are run compiled and as written at several points each;
every value and gradient must have the same bits (NaN as NaN), and every error the same
type and message. Each also runs with the generated code cut into functions of three
units, so that the code for long programs (shared functions for repeated blocks) is
checked on small ones.

Where the bits may differ, by design (see README "Compiled functions"):

- a float *argument* is a Value while the function is traced; Python's float
  arithmetic on it alone raises where an op gives inf (``1e200 ** 2``), so the float
  argument here only ever meets Values;
- a derivative rule that picks one of two formulas for the same number by its
  argument (``asinh``, ``acosh``, ``hypot``) is checked by the number it gives: where
  both formulas give the same float, the compiled code follows the traced formula, and
  a *second* derivative may differ in the last bits. Those ops are in the first-order
  programs only.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from example_plugins import installed, needs
from hypothesis import given, settings
from hypothesis import strategies as st
from workload import examples

import microtape as mt
from microtape.tracing import codegen

Instruction = tuple[str, int, int, int]

UNARY: list[Callable[[Any], Any]] = [
    mt.tanh,
    mt.sin,
    mt.relu,
    mt.sigmoid,
    mt.abs,
    lambda x: -x,
    lambda x: x * x,
    lambda x: mt.exp(x * 0.25),
    mt.log,
    mt.sqrt,
    lambda x: x**2,
    *installed("softplus", "sinh", "gelu"),
]
BINARY: list[Callable[[Any, Any], Any]] = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / b,
    lambda a, b: a * 0.5 - b,
    *installed("logaddexp", "maximum"),
]
SWITCHING: list[Callable[[Any], Any]] = [
    *installed("asinh"),
    *[lambda x, hypot=hypot: hypot(x, x * 0.5) for hypot in installed("hypot")],
]
"""Ops whose rules choose between two formulas by the number: first order only."""

NUMBERS = st.one_of(
    st.floats(-3.0, 3.0, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-300, 700.0, -700.0, math.inf, -math.inf]),
)

programs = st.lists(
    st.tuples(
        st.sampled_from(["unary", "binary", "branch", "constant"]),
        st.integers(0, 1000),
        st.integers(0, 1000),
        st.integers(0, 1000),
    ),
    min_size=1,
    max_size=10,
)


def run(program: list[Instruction], env: list[Any], unary: list[Callable[[Any], Any]]) -> Any:
    """Interpret ``program`` on the values of ``env`` (appending to it); the last result."""
    for kind, op, i, j in program:
        a, b = env[-1 - i % len(env)], env[-1 - j % len(env)]
        if kind == "unary":
            env.append(unary[op % len(unary)](a))
        elif kind == "binary":
            env.append(BINARY[op % len(BINARY)](a, b))
        elif kind == "constant":
            env.append([0.5, -2.0, 0.0, 3.0][op % 4])
        elif a > b:  # a guard where a or b is a Value
            env.append(unary[op % len(unary)](a))
        else:
            env.append(BINARY[op % len(BINARY)](a, b))
    return env[-1]


def bits(x: object) -> object:
    if isinstance(x, mt.Value):
        x = mt.number(x)
    if isinstance(x, float):
        return "nan" if x != x else struct.pack("<d", x)
    if isinstance(x, (list, tuple)):
        return [bits(e) for e in x]
    return x


def outcome(f: Callable[..., object], *args: object) -> object:
    """What calling ``f`` gives: its result as bits, or its error."""
    try:
        return bits(f(*args))
    except (ArithmeticError, ValueError) as error:
        return (type(error).__name__, str(error))


@contextmanager
def chunk(size: int | None) -> Iterator[None]:
    """Generated code cut into functions of ``size`` units (None: as it is by default)."""
    default = codegen.CHUNK
    codegen.CHUNK = default if size is None else size
    try:
        yield
    finally:
        codegen.CHUNK = default


def check(f: Callable[..., object], calls: list[tuple[object, ...]]) -> None:
    compiled = mt.function(f, max_traces=50)
    for args in calls:
        assert outcome(compiled, *args) == outcome(f, *args), args


@pytest.mark.parametrize("size", [None, 3])
@settings(max_examples=examples(80))
@given(program=programs, points=st.lists(st.tuples(NUMBERS, NUMBERS), min_size=2, max_size=4))
def test_first_order_gradients_are_the_eager_ones(
    size: int | None, program: list[Instruction], points: list[tuple[float, float]]
) -> None:
    w, v = mt.Value(0.7), mt.Value(-1.3)

    def f(x: mt.Value, y: float) -> object:
        with mt.GradientTape() as tape:
            out = w * run(program, [w, v, x, v * y], [*UNARY, *SWITCHING])
        return out, tape.gradient(out, [w, v, x])

    with chunk(size):
        check(f, [(mt.Value(x), y) for x, y in points])


@pytest.mark.parametrize("size", [None, 3])
@settings(max_examples=examples(60))
@given(program=programs, points=st.lists(st.tuples(NUMBERS, NUMBERS), min_size=2, max_size=4))
def test_second_derivatives_through_nested_tapes_are_the_eager_ones(
    size: int | None, program: list[Instruction], points: list[tuple[float, float]]
) -> None:
    w, v = mt.Value(0.7), mt.Value(-1.3)

    def f(x: mt.Value, y: mt.Value) -> object:
        with mt.GradientTape() as outer:
            with mt.GradientTape() as inner:
                out = w * run(program, [w, v, x, y], UNARY)
            g = inner.gradient(out, [w, v], unconnected_gradients="zero")
            s = g[0] * g[1] + g[0]
        return out, g, outer.gradient(s, [w, v, x])

    with chunk(size):
        check(f, [(mt.Value(x), mt.Value(y)) for x, y in points])


@pytest.mark.parametrize("size", [None, 4])
@settings(max_examples=examples(40))
@given(
    program=programs,
    data=st.lists(NUMBERS, min_size=2, max_size=12),
    shift=st.sampled_from([0.0, 0.5, -2.0]),
)
def test_repeated_blocks_are_the_eager_ones(
    size: int | None, program: list[Instruction], data: list[float], shift: float
) -> None:
    w, v = mt.Value(0.7), mt.Value(-1.3)

    def f(xs: list[float]) -> object:
        with mt.GradientTape(persistent=True) as tape:
            total = v * 0.0
            for x in xs:  # one block per sample: its code is shared
                total = total + run(program, [w, v, w * x, total], UNARY) * 0.5
        first = tape.gradient(total, [w, v])
        second = tape.gradient(total * total, w)
        tape.release()
        return total, first, second

    with chunk(size):
        check(f, [(data,), ([x + shift for x in data],), ([x * 2.0 for x in data],)])


@needs("softplus", "sinh", "gelu", "logaddexp", "maximum", "asinh", "hypot")
def test_the_programs_draw_the_example_plugins_ops_too() -> None:
    """Where the example plugins are installed, the programs above use their ops as well as
    the built-in ones; without them the programs use built-in ops alone, and this skips to
    say so."""
    drawn: list[object] = [*UNARY, *BINARY, *SWITCHING]
    assert all(op in drawn for op in installed("softplus", "sinh", "gelu", "logaddexp", "maximum"))
    assert len(SWITCHING) == 2  # asinh, and the hypot of x and x / 2

"""Random expression trees from the op table: derivatives agree with sympy.

Hypothesis builds trees of depth up to 6 over 1 to 4 variables from every built-in op
(dunders included), draws a point, and compares with sympy's derivatives at 40 digits:
the first-order gradient (one tape), the Hessian (two nested tapes) and a third partial
(three); and, with the two example plugins' ops in the trees too where they are
installed, forward mode: the directional derivative (an accumulator), the Hessian-vector
product (an accumulator around a tape), the Hessian column by column (a tape around an
accumulator), and the second directional derivative (an accumulator around an
accumulator).
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Union

import sympy
from example_plugins import installed, needs
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st
from workload import examples

import microtape as mt
from microtape import ForwardAccumulator, GradientTape, Value

UNARY = ["neg", "abs", "exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "sqrt"]
BINARY = ["add", "sub", "mul", "div", "pow"]


@dataclass(frozen=True)
class Var:
    index: int


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Node:
    op: str
    children: tuple[Tree, ...]


Tree = Union[Var, Const, Node]


def trees(
    n_vars: int, unary: Sequence[str] = UNARY, binary: Sequence[str] = BINARY
) -> st.SearchStrategy[Tree]:
    leaves: st.SearchStrategy[Tree] = st.one_of(
        st.builds(Var, st.integers(0, n_vars - 1)),
        st.builds(Const, st.sampled_from([0.5, 2.0, -1.5, 3.0])),
    )

    def extend(inner: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
        one = st.builds(lambda op, c: Node(op, (c,)), st.sampled_from(unary), inner)
        two = st.builds(lambda op, a, b: Node(op, (a, b)), st.sampled_from(binary), inner, inner)
        return st.one_of(one, two)

    return st.recursive(leaves, extend, max_leaves=12).filter(lambda t: _depth(t) <= 6)


def points(n_vars: int) -> st.SearchStrategy[list[float]]:
    """A point in [-3, 3] per variable, away from tiny magnitudes (but 0 itself is fine)."""
    coordinate = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3 or v == 0)
    return st.lists(coordinate, min_size=n_vars, max_size=n_vars)


def _depth(tree: Tree) -> int:
    if isinstance(tree, Node):
        return 1 + max(_depth(c) for c in tree.children)
    return 0


def _uses_a_variable(tree: Tree) -> bool:
    if isinstance(tree, Var):
        return True
    return isinstance(tree, Node) and any(_uses_a_variable(c) for c in tree.children)


# At a kink the engine uses the documented convention (derivative 0), which is not the
# derivative of a smooth composite: |x| * |x| is x**2, but sign(0) * |0| * 2 gives 0 for
# its second derivative, as in PyTorch. The per-op oracle checks the convention itself.
KINKS = {"abs", "relu"}

DUNDER: dict[str, Callable[..., Value | float]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda a: -a,
    "abs": lambda a: abs(a),
}


class _Evaluator:
    """Evaluate a tree on the engine; track the largest intermediate magnitude."""

    def __init__(self, values: Sequence[Value]) -> None:
        self.values = values
        self.scale = 1.0
        self.use_dunders = True
        self.at_a_kink = False

    def __call__(self, tree: Tree) -> Value | float:
        if isinstance(tree, Var):
            return self.values[tree.index]
        if isinstance(tree, Const):
            return tree.value
        args = [self(c) for c in tree.children]
        if tree.op in KINKS and mt.number(args[0]) == 0.0:
            self.at_a_kink = True
        if tree.op == "maximum" and mt.number(args[0]) == mt.number(args[1]):
            self.at_a_kink = True  # a tie: the documented subgradient, not a derivative
        any_value = any(isinstance(a, Value) for a in args)
        if self.use_dunders and tree.op in DUNDER and any_value:  # floats alone: Python's own
            out = DUNDER[tree.op](*args)
        else:
            out = mt.op(tree.op)(*args)
        self.scale = max(self.scale, abs(mt.number(out)))
        return out


def _sympy(tree: Tree, symbols: Sequence[sympy.Symbol]) -> sympy.Expr:
    if isinstance(tree, Var):
        return symbols[tree.index]
    if isinstance(tree, Const):
        return sympy.Rational(tree.value)
    op = mt.op(tree.op)
    assert op.sympy is not None
    try:
        result = op.sympy(*(_sympy(c, symbols) for c in tree.children))
    except TypeError:
        # sympy itself cannot build the form: relu(relu(x) / relu(x)) asks a Piecewise
        # whether nan > 0 ("Invalid NaN comparison"). Nothing to compare with here.
        reject()
    assert isinstance(result, sympy.Expr)
    return result


def _expected(expr: sympy.Expr, subs: dict[sympy.Symbol, sympy.Rational]) -> float | None:
    try:
        value = expr.evalf(40, subs=subs)
    except (TypeError, ValueError, ArithmeticError):  # e.g. DiracDelta(0), abs'' at a kink
        return None
    if not value.is_number or value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return None
    real, imag = value.as_real_imag()
    if not sympy.sympify(imag).is_zero:
        return None
    try:
        return float(real)
    except TypeError:  # an unevaluated DiracDelta(0) is a "number" sympy cannot give
        return None


SYMPY_SECONDS = 20.0
"""How long sympy may take on one example before the example is given up."""


class SympyTooSlow(Exception):
    """sympy took longer than ``SYMPY_SECONDS`` on one example."""


@contextmanager
def sympy_time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`SympyTooSlow` in the block after ``seconds`` (a real-time timer, where
    the system has one and this is the main thread; elsewhere no limit).

    sympy evaluates at the point's exact rationals, and a power of a power of them can
    grow without bound (a hypothesis draw once ran for minutes). Such an example says
    nothing about microtape: the test gives it up, as it gives up points outside a domain.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise SympyTooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


def _close(actual: float, expected: float, scale: float) -> bool:
    # Cancellation in a long expression loses precision in proportion to the size of its
    # intermediate values, so the tolerance is relative to that scale, not to the result.
    return abs(actual - expected) <= 1e-7 * (abs(expected) + scale**2)


@settings(max_examples=examples(300))
@given(data=st.data(), n_vars=st.integers(1, 4))
def test_random_expression_gradient_and_hessian_agree_with_sympy(
    data: st.DataObject, n_vars: int
) -> None:
    tree = data.draw(trees(n_vars), label="tree")
    assume(_uses_a_variable(tree))
    point = data.draw(points(n_vars), label="point")
    use_dunders = data.draw(st.booleans(), label="dunders")
    values = [Value(p) for p in point]
    evaluate = _Evaluator(values)
    evaluate.use_dunders = use_dunders
    try:
        with GradientTape(persistent=True) as outer:
            with GradientTape() as inner:
                out = evaluate(tree)
            assume(isinstance(out, Value))
            assert isinstance(out, Value)
            grads = inner.gradient(out, values, unconnected_gradients="zero")
        hessian = [outer.gradient(g, values, unconnected_gradients="zero") for g in grads]
    except mt.DomainError:
        reject()  # a log of a negative, say: the op oracle covers domains per op
    assume(not evaluate.at_a_kink)
    assume(evaluate.scale < 1e6 and all(math.isfinite(g.data) for g in grads))

    # sympy's side, under a time limit: at some points (a power of a power, the
    # point's exact rationals) its exact arithmetic grows without bound.
    def against_sympy() -> None:
        symbols = [sympy.Symbol(f"x{i}", real=True) for i in range(n_vars)]
        expr = _sympy(tree, symbols)
        subs = {s: sympy.Rational(p) for s, p in zip(symbols, point, strict=True)}
        expected_value = _expected(expr, subs)
        assume(expected_value is not None)
        assert expected_value is not None
        assert _close(out.data, expected_value, evaluate.scale), (tree, point)
        for i, s in enumerate(symbols):
            di = sympy.diff(expr, s)
            expected = _expected(di, subs)
            assume(expected is not None)
            assert expected is not None
            g = grads[i]
            assert g is not None
            assert _close(g.data, expected, evaluate.scale), ("d", i, tree, point, g.data, expected)
            for j, t in enumerate(symbols):
                expected2 = _expected(sympy.diff(di, t), subs)
                if expected2 is None:
                    continue  # e.g. at a kink: no second derivative to compare
                h = hessian[i][j]
                assert h is not None
                assert _close(h.data, expected2, evaluate.scale), (
                    "d2",
                    i,
                    j,
                    tree,
                    point,
                    h.data,
                    expected2,
                )

    try:
        with sympy_time_limit(SYMPY_SECONDS):
            against_sympy()
    except SympyTooSlow:
        reject()


# ---- forward mode, with the example plugins' ops in the trees too ------------------------------

PLUGIN_UNARY = ["sinh", "cosh", "asinh", "acosh", "atanh", "erf", "softplus", "normal_cdf", "gelu"]
PLUGIN_BINARY = ["hypot", "logaddexp", "maximum"]
FORWARD_UNARY = [*UNARY, *(op.name for op in installed(*PLUGIN_UNARY))]
FORWARD_BINARY = [*BINARY, *(op.name for op in installed(*PLUGIN_BINARY))]
"""The ops of the forward-mode trees: the built-in ones, and the plugins' where installed."""


@needs(*PLUGIN_UNARY, *PLUGIN_BINARY)
def test_forward_mode_trees_hold_the_example_plugins_ops_too() -> None:
    """Without the example plugins the trees below hold built-in ops alone: this skips to
    say so."""
    assert FORWARD_UNARY == [*UNARY, *PLUGIN_UNARY]
    assert FORWARD_BINARY == [*BINARY, *PLUGIN_BINARY]


@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data(), n_vars=st.integers(1, 4))
def test_random_expression_forward_mode_agrees_with_sympy(data: st.DataObject, n_vars: int) -> None:
    tree = data.draw(trees(n_vars, FORWARD_UNARY, FORWARD_BINARY), label="tree")
    assume(_uses_a_variable(tree))
    coordinate = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3 or v == 0)
    point = data.draw(st.lists(coordinate, min_size=n_vars, max_size=n_vars), label="point")
    direction = data.draw(
        st.lists(st.floats(-2, 2, allow_nan=False), min_size=n_vars, max_size=n_vars),
        label="direction",
    )
    use_dunders = data.draw(st.booleans(), label="dunders")

    def evaluate(values: Sequence[Value]) -> tuple[Value, _Evaluator]:
        run = _Evaluator(values)
        run.use_dunders = use_dunders
        out = run(tree)
        assume(isinstance(out, Value))  # a tree of constants alone: no derivative
        assert isinstance(out, Value)
        return out, run

    try:
        values = [Value(p) for p in point]
        with ForwardAccumulator(values, direction) as acc:  # the directional derivative
            out, run = evaluate(values)
        jvp = acc.jvp(out, "zero").data
        values = [Value(p) for p in point]
        with ForwardAccumulator(values, direction) as acc:  # forward over reverse: H v
            with GradientTape() as tape:
                again, _ = evaluate(values)
            grads = tape.gradient(again, values, unconnected_gradients="zero")
        hvp = [t.data for t in acc.jvp(grads, "zero")]
        columns = []  # reverse over forward: H e_j, the Hessian column by column
        for j in range(n_vars):
            values = [Value(p) for p in point]
            with GradientTape() as tape:
                with ForwardAccumulator(values[j], 1.0) as acc:
                    y, _ = evaluate(values)
                t = acc.jvp(y, "zero")
            column = tape.gradient(t, values, unconnected_gradients="zero")
            columns.append([g.data for g in column])
        values = [Value(p) for p in point]
        with ForwardAccumulator(values, direction) as outer:  # forward over forward: v'Hv
            with ForwardAccumulator(values, direction) as inner:
                y, _ = evaluate(values)
        curvature = outer.jvp(inner.jvp(y, "zero"), "zero").data
    except mt.DomainError:
        reject()  # a log of a negative, say: the op oracle covers domains per op
    assume(not run.at_a_kink)
    assume(run.scale < 1e6 and math.isfinite(jvp) and all(map(math.isfinite, hvp)))

    # sympy's side, under a time limit: at some points (a power of a power, the
    # point's exact rationals) its exact arithmetic grows without bound.
    def against_sympy() -> None:
        symbols = [sympy.Symbol(f"x{i}", real=True) for i in range(n_vars)]
        expr = _sympy(tree, symbols)
        subs = {s: sympy.Rational(p) for s, p in zip(symbols, point, strict=True)}
        found = [_expected(sympy.diff(expr, s), subs) for s in symbols]
        firsts = [d for d in found if d is not None]
        assume(len(firsts) == n_vars)
        expected_jvp = sum(d * v for d, v in zip(firsts, direction, strict=True))
        scale = run.scale * (1.0 + max(map(abs, direction)))
        assert _close(jvp, expected_jvp, scale), ("jvp", tree, point, direction, jvp, expected_jvp)
        seconds = [_expected(sympy.diff(expr, s, t), subs) for s in symbols for t in symbols]
        known = [h for h in seconds if h is not None]
        if len(known) < n_vars * n_vars:
            return  # at a kink of a derivative: no second derivative to compare
        hessian = [known[i * n_vars : (i + 1) * n_vars] for i in range(n_vars)]
        for i in range(n_vars):
            expected_hvp = sum(h * v for h, v in zip(hessian[i], direction, strict=True))
            assert _close(hvp[i], expected_hvp, scale), ("hvp", i, tree, point, hvp, expected_hvp)
            for j in range(n_vars):
                assert _close(columns[j][i], hessian[i][j], run.scale), (
                    "hessian",
                    i,
                    j,
                    tree,
                    point,
                )
        expected_curvature = sum(
            hessian[i][j] * direction[i] * direction[j]
            for i in range(n_vars)
            for j in range(n_vars)
        )
        assert _close(curvature, expected_curvature, scale * scale), (
            "v'Hv",
            tree,
            point,
            direction,
        )

    try:
        with sympy_time_limit(SYMPY_SECONDS):
            against_sympy()
    except SympyTooSlow:
        reject()


@settings(max_examples=examples(100))
@given(data=st.data(), n_vars=st.integers(1, 3))
def test_random_expression_third_derivatives_agree_with_sympy(
    data: st.DataObject, n_vars: int
) -> None:
    """One third partial d3 f / dxi dxj dxk per example, through three nested tapes."""
    tree = data.draw(trees(n_vars), label="tree")
    assume(_uses_a_variable(tree))
    point = data.draw(points(n_vars), label="point")
    i, j, k = data.draw(st.tuples(*[st.integers(0, n_vars - 1)] * 3), label="i, j, k")
    values = [Value(p) for p in point]
    evaluate = _Evaluator(values)
    evaluate.use_dunders = data.draw(st.booleans(), label="dunders")
    try:
        with GradientTape() as t3:
            with GradientTape() as t2:
                with GradientTape() as t1:
                    out = evaluate(tree)
                assume(isinstance(out, Value))
                assert isinstance(out, Value)
                first = t1.gradient(out, values[i], unconnected_gradients="zero")
            second = t2.gradient(first, values[j], unconnected_gradients="zero")
        third = t3.gradient(second, values[k], unconnected_gradients="zero")
    except mt.DomainError:
        reject()
    assume(not evaluate.at_a_kink)
    assume(evaluate.scale < 1e4 and math.isfinite(second.data))
    symbols = [sympy.Symbol(f"x{n}", real=True) for n in range(n_vars)]
    subs = {s: sympy.Rational(p) for s, p in zip(symbols, point, strict=True)}
    try:
        with sympy_time_limit(SYMPY_SECONDS):
            expr = sympy.diff(_sympy(tree, symbols), symbols[i], symbols[j], symbols[k])
            expected = _expected(expr, subs)
    except SympyTooSlow:
        reject()
    assume(expected is not None)
    assert expected is not None
    assert _close(third.data, expected, evaluate.scale), (tree, point, (i, j, k), third.data)

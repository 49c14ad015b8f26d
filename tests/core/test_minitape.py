"""docs/minitape.py, the reading edition: its limits, its examples, and microtape's semantics.

The file is not a package module: it is loaded from its path. Every behaviour checked
here is checked against microtape itself doing the same, not against numbers written
down, so the reading edition cannot drift from the package it retells.
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import math
import operator
import runpy
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Union, cast

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from messages import loose
from workload import examples

import microtape as mt
from microtape import losses

PATH = Path(__file__).resolve().parents[2] / "docs" / "minitape.py"
X, Y = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("minitape", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mini = _load()
ENGINES = [pytest.param(mini, id="minitape"), pytest.param(mt, id="microtape")]


def _data(g: Any) -> float | None:
    """A gradient as a number, None staying None."""
    return None if g is None else float(g.data)


# ---- the file itself -------------------------------------------------------------------------


def test_the_file_is_at_most_400_lines() -> None:
    assert len(PATH.read_text().splitlines()) <= 400


def test_the_file_imports_only_the_standard_library() -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(PATH.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported and imported <= sys.stdlib_module_names


def test_the_docstring_example_runs() -> None:
    results = doctest.testmod(mini)
    assert results.attempted > 0 and results.failed == 0


def test_values_print_as_microtape_prints_them() -> None:
    assert repr(mini.Value(3)) == repr(mt.Value(3)) == "Value(3.0)"


def test_ops_on_plain_numbers_give_plain_numbers_as_in_microtape() -> None:
    for name in ("exp", "log", "tanh", "relu", "sin", "cos"):
        ours, theirs = getattr(mini, name)(0.5), getattr(mt, name)(0.5)
        assert type(ours) is float and ours == theirs


# ---- the three examples of the article -------------------------------------------------------


def test_running_the_file_prints_the_three_examples_with_microtapes_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runpy.run_path(str(PATH), run_name="__main__")  # what `python docs/minitape.py` does
    first, second, third = capsys.readouterr().out.split("\n\n")

    # 1. Correct usage: recorded, differentiated, one SGD step.
    w, b = mt.Value(1.0), mt.Value(0.0)
    with mt.GradientTape() as tape:
        loss = losses.mean_squared_error(Y, [w * x + b for x in X])
    assert loss.data == 14 / 3
    gw, gb = tape.gradient(loss, [w, b])
    assert gw is not None and gb is not None
    assert f"loss = {loss!r}" in first
    assert f"tape.gradient(loss, [w, b]) = {[gw, gb]!r}" in first
    stepped = mt.Value(w.data - 0.1 * gw.data), mt.Value(b.data - 0.1 * gb.data)
    assert f"w = {stepped[0]!r}, b = {stepped[1]!r}" in first

    # 2. The loss computed before the tape's block: nothing recorded, None.
    with mt.GradientTape() as tape:
        pass
    assert tape.gradient(loss, [w, b]) == [None, None]
    assert f"loss = {loss!r}" in second
    assert "tape.gradient(loss, [w, b]) = [None, None]" in second

    # 3. One persistent recording, two losses, two gradient calls, then release().
    w, b = mt.Value(1.0), mt.Value(0.0)
    with mt.GradientTape(persistent=True) as tape:
        y_pred = [w * x + b for x in X]
        loss1 = losses.mean_squared_error(Y, y_pred)
        errors = [mt.abs(t - p) for t, p in zip(Y, y_pred, strict=True)]
        loss2 = sum(errors[1:], start=errors[0])
    for name, value in (("loss1", loss1), ("loss2", loss2)):
        assert f"{name} = {value!r}" in third
        assert f"tape.gradient({name}, [w, b]) = {tape.gradient(value, [w, b])!r}" in third
    tape.release()
    with pytest.raises(mt.TapeError):
        tape.gradient(loss1, [w, b])
    assert "raises TapeError: gradient: the tape was released" in third


# ---- the README's semantics rows that the reading edition covers ---------------------------


@pytest.mark.parametrize("lib", ENGINES)
def test_gradient_of_something_not_recorded_is_none(lib: ModuleType) -> None:
    x = lib.Value(2.0)
    y = x * x
    with lib.GradientTape() as tape:
        pass
    assert tape.gradient(y, x) is None


@pytest.mark.parametrize("lib", ENGINES)
def test_a_second_call_on_a_used_tape_raises_tape_error(lib: ModuleType) -> None:
    assert lib.TapeError.__name__ == "TapeError" and issubclass(lib.TapeError, RuntimeError)
    x = lib.Value(2.0)
    with lib.GradientTape() as tape:
        y = x * x
    assert _data(tape.gradient(y, x)) == 4.0
    with pytest.raises(lib.TapeError, match=loose(r"used up.*persistent=True")):
        tape.gradient(y, x)


@pytest.mark.parametrize("lib", ENGINES)
def test_gradient_inside_a_non_persistent_tapes_block_is_refused(lib: ModuleType) -> None:
    x = lib.Value(2.0)
    with lib.GradientTape() as tape:
        y = x * x
        with pytest.raises(lib.TapeError, match="inside the with block"):
            tape.gradient(y, x)
    assert _data(tape.gradient(y, x)) == 4.0  # the refusal did not use the tape up


@pytest.mark.parametrize("lib", ENGINES)
def test_a_tape_never_entered_is_refused(lib: ModuleType) -> None:
    with pytest.raises(lib.TapeError, match="never entered"):
        lib.GradientTape().gradient(lib.Value(1.0), lib.Value(1.0))


@pytest.mark.parametrize("lib", ENGINES)
def test_persistent_tape_answers_until_release(lib: ModuleType) -> None:
    x = lib.Value(3.0)
    with lib.GradientTape(persistent=True) as tape:
        y = x * x
        z = lib.sin(x)
        with pytest.raises(lib.TapeError, match="still recording"):
            tape.release()
        inside = tape.gradient(y, x)  # allowed here, and recorded on the tape itself
        w = inside * x  # 2x * x
    assert [_data(tape.gradient(t, x)) for t in (y, z, w)] == [6.0, math.cos(3.0), 12.0]
    tape.release()
    with pytest.raises(lib.TapeError, match="released"):
        tape.gradient(y, x)
    with pytest.raises(lib.TapeError, match="released"):
        tape.watch(x)


def test_higher_order_by_nesting_agrees_with_microtape() -> None:
    def third_order(lib: ModuleType) -> list[float | None]:
        x = lib.Value(2.0)
        with lib.GradientTape() as outermost:
            with lib.GradientTape() as outer:
                with lib.GradientTape() as inner:
                    y = x**3 * lib.tanh(x) + lib.exp(x) / x
                dy = inner.gradient(y, x)
            d2y = outer.gradient(dy, x)
        return [_data(dy), _data(d2y), _data(outermost.gradient(d2y, x))]

    assert third_order(mini) == third_order(mt)
    x = mini.Value(2.0)
    with mini.GradientTape() as outer:
        with mini.GradientTape() as inner:
            y = x**3
        dy = inner.gradient(y, x)
    assert [_data(dy), _data(outer.gradient(dy, x))] == [12.0, 12.0]


def test_a_100000_op_chain_needs_no_recursion() -> None:
    def chain(lib: ModuleType) -> tuple[float, float | None]:
        x = lib.Value(0.5)
        with lib.GradientTape() as tape:
            y = x
            for _ in range(100_000):  # one op each
                y = lib.sin(y)
        return float(y.data), _data(tape.gradient(y, x))

    assert chain(mini) == chain(mt)


@pytest.mark.parametrize("lib", ENGINES)
def test_relu_has_derivative_zero_at_the_kink_and_at_nan(lib: ModuleType) -> None:
    for at in (0.0, -0.0, math.nan):
        x = lib.Value(at)
        with lib.GradientTape() as tape:
            y = lib.relu(x)
        assert _data(tape.gradient(y, x)) == 0.0
    assert math.isnan(lib.relu(lib.Value(math.nan)).data)


@pytest.mark.parametrize("lib", ENGINES)
def test_a_target_that_is_itself_a_source_gets_one_watched_or_not(lib: ModuleType) -> None:
    x, w = lib.Value(2.0), lib.Value(3.0)
    with lib.GradientTape() as tape:
        pass
    assert _data(tape.gradient(x, x)) == 1.0
    with lib.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = x * w
        unwatched = x * x  # reads nothing watched: not recorded
    assert [_data(g) for g in tape.gradient(y, [x, w, y])] == [None, 2.0, 1.0]
    assert [_data(g) for g in tape.gradient(unwatched, [x, unwatched])] == [None, 1.0]


@pytest.mark.parametrize("lib", ENGINES)
def test_second_derivative_where_the_first_is_constant_is_zero(lib: ModuleType) -> None:
    def plus_one(x: Any) -> Any:
        return x + 1

    for f in (plus_one, lib.relu, abs):
        x = lib.Value(2.0)
        with lib.GradientTape() as outer:
            with lib.GradientTape() as inner:
                y = f(x)
            dy = inner.gradient(y, x)
        assert _data(dy) == 1.0
        assert _data(outer.gradient(dy, x)) == 0.0  # 0, not None: dy stays connected


@pytest.mark.threads
def test_the_recording_context_is_restored_and_kept_per_thread() -> None:
    x = mini.Value(1.0)
    with mini.GradientTape() as outer:
        with pytest.raises(ZeroDivisionError), mini.GradientTape() as inner:
            assert mini.RECORDING.get() == (outer, inner)
            x / 0.0
        assert mini.RECORDING.get() == (outer,)
        elsewhere: list[Any] = []
        thread = threading.Thread(target=lambda: elsewhere.append(x * x))
        thread.start()
        thread.join()
    assert mini.RECORDING.get() == ()
    assert outer.gradient(elsewhere[0], x) is None  # another thread: not recorded here


# ---- random expressions: minitape and microtape agree ----------------------------------------

Tree = Union[str, float, tuple[str, "Tree"], tuple[str, "Tree", "Tree"]]
"""An expression over x and y: a variable, a constant (int or float), or an op applied to
subtrees."""

UNARY = ("neg", "abs", "exp", "log", "tanh", "relu", "sin", "cos", "sigmoid")
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}


def _variables(tree: Tree) -> bool:
    if isinstance(tree, str):
        return True
    return not isinstance(tree, (int, float)) and any(_variables(t) for t in tree[1:])


def _never_constant(tree: Tree) -> Tree:
    """``tree``, or x times it if it reads no variable (then it is a number, not a Value)."""
    return tree if _variables(tree) else ("*", "x", tree)


leaves = st.sampled_from(["x", "y", "x", "y", 0.0, 0.5, 1.0, 2.0, 3.0, -1.5, 0, 1, 2])
expressions = st.recursive(
    leaves,
    lambda sub: st.one_of(
        st.tuples(st.sampled_from(UNARY), sub),
        st.tuples(st.sampled_from(sorted(BINARY)), sub, sub),
    ),
    max_leaves=8,
)
trees = cast("st.SearchStrategy[Tree]", expressions).map(_never_constant)

# Kinks and simple numbers often, where derivative conventions show (relu'(0) = 0).
points = st.sampled_from([0.0, -0.0, 1.0, -1.0]) | st.floats(-3.0, 3.0, allow_nan=False)
Numbers = list[float | None]


class Discarded(Exception):
    """A power of two plain numbers is complex: neither engine is asked about it."""


def evaluate(tree: Tree, lib: ModuleType, x: Any, y: Any) -> Any:
    """``tree`` at ``x`` and ``y`` with ``lib``'s ops: operators, ``abs`` and ``lib.exp`` &c."""
    if isinstance(tree, str):
        return x if tree == "x" else y
    if isinstance(tree, (int, float)):
        return tree
    if len(tree) == 2:
        name, arg = tree
        a = evaluate(arg, lib, x, y)
        return -a if name == "neg" else abs(a) if name == "abs" else getattr(lib, name)(a)
    name, left, right = tree
    result = BINARY[name](evaluate(left, lib, x, y), evaluate(right, lib, x, y))
    if isinstance(result, complex):  # a power of two plain numbers, in Python
        raise Discarded
    return result if isinstance(result, lib.Value) else float(result)  # no towers of ints


def first_order(lib: ModuleType, tree: Tree, px: float, py: float) -> Numbers:
    """The value of the expression and its gradient in x and y."""
    x, y = lib.Value(px), lib.Value(py)
    with lib.GradientTape() as tape:
        f = evaluate(tree, lib, x, y)
    return [float(f.data), *(_data(g) for g in tape.gradient(f, [x, y]))]


def second_order(lib: ModuleType, tree: Tree, px: float, py: float) -> Numbers:
    """The gradient in x and y, and the Hessian's rows, by nesting two tapes."""
    x, y = lib.Value(px), lib.Value(py)
    with lib.GradientTape(persistent=True) as outer:
        with lib.GradientTape() as inner:
            f = evaluate(tree, lib, x, y)
        grads = inner.gradient(f, [x, y])
    found = [_data(g) for g in grads]
    for g in grads:
        found += [None, None] if g is None else [_data(h) for h in outer.gradient(g, [x, y])]
    return found


def _finite(numbers: Numbers | None) -> bool:
    return numbers is not None and all(n is None or math.isfinite(n) for n in numbers)


def both(
    compute: Callable[[ModuleType, Tree, float, float], Numbers], tree: Tree, x: float, y: float
) -> tuple[Numbers, Numbers]:
    """``compute`` in minitape and in microtape, where both give finite numbers.

    A point where microtape raises (DomainError: outside an op's domain) or gives inf or
    NaN is one where minitape must too; then it is given up. The other way round is
    allowed: minitape raises what ``math`` raises, at the edges where microtape gives an
    answer (exp overflowing, which microtape makes inf; ``0 ** 0``), and those points are
    given up too.
    """
    found: list[Numbers | None] = []
    for lib in (mini, mt):
        try:
            found.append(compute(lib, tree, x, y))
        except (Discarded, ArithmeticError, ValueError):  # DomainError is a ValueError
            found.append(None)
    ours, theirs = found
    if not _finite(theirs):
        assert not _finite(ours), f"microtape refuses or overflows here, minitape gives {ours}"
    assume(_finite(ours) and _finite(theirs))
    assert ours is not None and theirs is not None
    return ours, theirs


@settings(max_examples=examples(300))
@given(trees, points, points)
@example(("*", "x", ("neg", ("-", 0.0, 0.0))), 1.0, 1.0)  # a slope of -0.0
@example(("+", "x", 1), 2.0, 2.0)
def test_values_and_gradients_agree_with_microtape(tree: Tree, x: float, y: float) -> None:
    ours, theirs = both(first_order, tree, x, y)
    assert repr(ours) == repr(theirs)  # to the last bit, signs of zeros included


@settings(max_examples=examples(300))
@given(trees, points, points)
@example(("*", ("*", 0, "y"), "x"), -0.0, 1.0)  # an int constant 0: a slope of 0.0, held
@example(("relu", "x"), 2.0, 0.0)  # constant first derivatives: 0, never None
@example(("+", ("**", "x", 2), 1), 0.0, 0.0)
def test_second_derivatives_by_nested_tapes_agree_with_microtape(
    tree: Tree, x: float, y: float
) -> None:
    ours, theirs = both(second_order, tree, x, y)
    assert repr(ours) == repr(theirs)

"""The README's "Tape semantics, side by side" table, row by row.

Each row of the table is run here: microtape's cell is checked by running it, and the
TensorFlow cell is held against what the row says TensorFlow does (TensorFlow itself is
not a dependency: its documented behaviour is written down in ``ROWS``). A row added to
the README without a check here fails ``test_every_row_of_the_readme_table_is_checked``.
"""

from __future__ import annotations

import asyncio
import math
import re
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

import microtape as mt
from microtape import GradientTape, Value

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def _table() -> dict[str, tuple[str, str]]:
    """Row name -> (microtape cell, TensorFlow cell), from the README."""
    text = README.read_text()
    section = text.split("## Tape semantics, side by side", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = (cells[1], cells[2])
    return rows


class Row(NamedTuple):
    check: Callable[[], None]
    """Runs microtape's cell; raises if microtape does otherwise."""
    microtape: str
    """Words that microtape's cell must contain."""
    tensorflow: str
    """Words that TensorFlow's cell must contain: what TensorFlow documents."""
    differs: bool
    """Whether microtape does something other than TensorFlow here."""


# ---- the checks, one per row -----------------------------------------------------------------


def what_is_recorded() -> None:
    x = Value(2.0)
    before = x * x
    with GradientTape() as tape:
        inside = x * x
    after = x * x
    assert [r.output for r in tape.view().records] == [inside]
    assert before not in [r.output for r in tape.view().records] and after != inside


def differentiable_by_default() -> None:
    x = Value(2.0)  # a plain Value, never watched: read by an op, it is a source
    with GradientTape() as tape:
        y = x * x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 4.0


def gradient_of_something_not_recorded() -> None:
    x = Value(2.0)
    y = x * x
    with GradientTape() as tape:
        pass
    assert tape.gradient(y, x) is None
    with GradientTape() as tape:
        pass
    z = tape.gradient(y, x, unconnected_gradients="zero")
    assert z is not None and z.data == 0.0


def second_call() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(mt.TapeError, match="used up"):
        tape.gradient(y, x)


def gradient_inside_the_block() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
        with pytest.raises(mt.TapeError, match="after the block"):
            tape.gradient(y, x)


def many_gradients() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert [g.data for g in (tape.gradient(y, x), tape.gradient(z, x)) if g] == [4.0, 12.0]
    tape.release()
    with pytest.raises(mt.TapeError, match="released"):
        tape.gradient(y, x)


def gradients_accumulate() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = x * x
    first, second = tape.gradient(y, x), tape.gradient(y, x)
    assert first is not None and second is not None and first is not second
    assert first.data == second.data == 4.0


def higher_order() -> None:
    x = Value(2.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = x * x * x
        g = inner.gradient(y, x)
    h = outer.gradient(g, x)
    assert h is not None and h.data == 12.0


def pause_recording() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        with tape.stop_recording():
            y = x * x
        z = y * x
    g = tape.gradient(z, x)
    assert g is not None and g.data == 4.0


def forget_the_recording() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x * x
        tape.reset()
        z = x * x
    assert tape.view().count == 1
    g = tape.gradient(z, x)
    assert g is not None and g.data == 4.0 and y.data == 8.0


def sources() -> None:
    a, b = Value(1.0), Value(2.0)
    with GradientTape() as tape:
        y = a * b
    g = tape.gradient(y, {"w": [a], "b": (b,)})
    assert isinstance(g, dict) and isinstance(g["w"], list) and isinstance(g["b"], tuple)
    assert [v.data for v in (*g["w"], *g["b"]) if isinstance(v, Value)] == [2.0, 1.0]


def threads_and_tasks() -> None:
    x = Value(2.0)
    seen: list[int] = []
    with GradientTape() as tape:
        worker = threading.Thread(target=lambda: seen.append(len([x * x])))
        worker.start()
        worker.join()

        async def task() -> Value:
            return x * x

        # A task starts with a copy of this context: it records here while the block is open.
        asyncio.run(task())
    assert seen == [1]  # the thread's op was not recorded on this tape; the task's was
    assert [r.op.name for r in tape.view().records] == ["mul"]


def deepest_graph() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        y = x
        for _ in range(20_000):  # far past Python's recursion limit
            y = y * 1.0
    g = tape.gradient(y, x)
    assert g is not None and g.data == 1.0


def derivative_at_a_kink() -> None:
    for op in (mt.relu, mt.abs):
        x = Value(0.0)
        with GradientTape() as tape:
            y = op(x)
        g = tape.gradient(y, x)
        assert g is not None and g.data == 0.0


def relu_at_nan() -> None:
    x = Value(math.nan)
    with GradientTape() as tape:
        y = mt.relu(x)
    g = tape.gradient(y, x)
    assert math.isnan(y.data) and g is not None and g.data == 0.0


def target_is_a_source() -> None:
    for watching in (True, False):
        x = Value(3.0)
        with GradientTape(watch_accessed_variables=watching) as tape:
            pass
        g = tape.gradient(x, x)
        assert g is not None and g.data == 1.0


def tape_never_entered() -> None:
    x = Value(3.0)
    with pytest.raises(mt.TapeError, match="never entered"):
        GradientTape().gradient(x * x, x)


def second_derivative_of_a_constant_first() -> None:
    for f in (lambda v: v + 1.0, mt.relu):
        x = Value(2.0)
        with GradientTape() as outer:
            with GradientTape() as inner:
                y = f(x)
            g = inner.gradient(y, x)
        h = outer.gradient(g, x)
        assert h is not None and h.data == 0.0


def float_of_a_recorded_value() -> None:
    x = Value(3.0)
    with GradientTape(), pytest.warns(mt.ValueAsNumberWarning, match=r"mt\.sin"):
        math.sin(x)


def equality_with_a_number() -> None:
    x = Value(0.0)
    with pytest.warns(mt.ValueAsNumberWarning, match=r"x\.data == 0"):
        assert (x == 0) is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x == x


# ---- forward mode -----------------------------------------------------------------------------


def _value(v: Value | None) -> float:
    assert v is not None
    return v.data


def forward_mode() -> None:
    x = Value(3.0)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        y = x * x
    assert _value(acc.jvp(y)) == 6.0


def when_a_tangent_is_computed() -> None:
    x = Value(3.0)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        y = x * x
        assert _value(acc.jvp(y)) == 6.0  # there as soon as the op ran
    assert acc.view().computed == 1  # one tangent kept, no record


def tangent_of_a_value_not_from_a_primal() -> None:
    x, other = Value(1.0), Value(2.0)
    before = x * x
    with mt.ForwardAccumulator(x, 1.0) as acc:
        unrelated = other * other
    assert acc.jvp(before) is None and acc.jvp(unrelated) is None
    assert _value(acc.jvp(unrelated, "zero")) == 0.0


def nesting_tapes_and_accumulators() -> None:
    x = Value(0.3)
    with GradientTape() as outer:
        with mt.ForwardAccumulator(x, 1.0):
            with GradientTape() as inner:
                mt.tanh(x)
    assert inner.view().count == 1  # the op only
    assert outer.view().count > 1  # the op and the arithmetic of its tangent


def forward_over_reverse() -> None:
    x = Value(2.0)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        with GradientTape() as tape:
            y = x * x * x
        g = tape.gradient(y, x)
    assert _value(acc.jvp(g)) == 12.0


def reverse_over_forward() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        with mt.ForwardAccumulator(x, 1.0) as acc:
            y = x * x * x
        t = acc.jvp(y)
    assert _value(tape.gradient(t, x)) == 12.0


def higher_directional_derivatives() -> None:
    x = Value(1.1)
    with mt.ForwardAccumulator(x, 1.0) as outer:
        with mt.ForwardAccumulator(x, 1.0) as inner:
            y = x**3.5
    assert _value(outer.jvp(inner.jvp(y))) == pytest.approx(3.5 * 2.5 * 1.1**1.5, rel=1e-14)
    assert inner.jvp(outer.jvp(y)) is None


def pause_forward_mode() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        with mt.ForwardAccumulator(x, 1.0) as acc:
            with acc.stop_recording():
                y = x * x
            z = y * x
    assert acc.jvp(y) is None and _value(acc.jvp(z)) == 4.0
    assert _value(tape.gradient(z, x)) == 12.0  # the tape saw it all


def jvp_many_times() -> None:
    x = Value(2.0)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        y = x * x
        inside = _value(acc.jvp(y))
    assert [inside, *(_value(acc.jvp(y)) for _ in range(3))] == [4.0] * 4


def forward_memory() -> None:
    x = Value(0.5)
    acc = mt.ForwardAccumulator(x, 1.0)
    alone = sys.getrefcount(acc)  # the name only, as this Python counts it
    with acc:
        y = x
        for _ in range(1000):
            y = y * 1.0
    assert acc.view().computed == 1000  # one tangent per node
    assert sys.getrefcount(acc) == alone  # still only the name holds it: dropped, it is freed


ROWS: dict[str, Row] = {
    "What is recorded": Row(what_is_recorded, "inside `with tape:`", "inside `with tape:`", False),
    "Differentiable by default": Row(
        differentiable_by_default, "every Value an op reads", "after `tape.watch`", True
    ),
    "Gradient of something not recorded": Row(
        gradient_of_something_not_recorded, "`None`", "`None`", False
    ),
    "Second call on a tape": Row(second_call, "`TapeError`", "`RuntimeError`", False),
    "`gradient()` inside a non-persistent tape's block": Row(
        gradient_inside_the_block, "`TapeError`", "silently stops recording", True
    ),
    "Many gradients from one recording": Row(many_gradients, "`release()`", "`del tape`", False),
    "Gradients accumulate between calls": Row(gradients_accumulate, "never", "never", False),
    "Higher order": Row(higher_order, "nest tapes", "nest tapes", False),
    "Pause recording": Row(pause_recording, "stop_recording", "stop_recording", False),
    "Forget the recording, keep going": Row(forget_the_recording, "reset", "reset", False),
    "Sources": Row(sources, "dicts of Values", "any nest", False),
    "Threads and asyncio tasks": Row(threads_and_tasks, "contextvars", "thread-local", True),
    "Deepest graph": Row(deepest_graph, "no limit", "no limit", False),
    "Derivative at a kink (`relu`, `abs` at 0)": Row(derivative_at_a_kink, "0", "0", False),
    "`relu'(nan)`": Row(relu_at_nan, "0", "0", False),
    "Target that is itself a source": Row(target_is_a_source, "1", "1", False),
    "A tape never used in a `with` block": Row(tape_never_entered, "`TapeError`", "error", False),
    "Second derivative where the first is constant (`x + 1`, `relu` at 2)": Row(
        second_derivative_of_a_constant_first, "0", "`None` for `x + 1`", True
    ),
    "`float(x)`, `math.sin(x)` on a recorded Value": Row(
        float_of_a_recorded_value, "`ValueAsNumberWarning`", "silently", True
    ),
    "`x == 0`": Row(equality_with_a_number, "`ValueAsNumberWarning`", "elementwise", True),
    "**Forward mode**": Row(
        forward_mode, "ForwardAccumulator(primals, tangents)", "ForwardAccumulator", False
    ),
    "When a tangent is computed": Row(
        when_a_tangent_is_computed, "as each op runs", "as each op runs", False
    ),
    "Tangent of a Value not computed from a primal inside the block": Row(
        tangent_of_a_value_not_from_a_primal, "`None`", "`None`", False
    ),
    "Nesting tapes and accumulators": Row(
        nesting_tapes_and_accumulators, "in the order entered", "strict nesting", False
    ),
    "Forward over reverse (Hessian-vector product)": Row(
        forward_over_reverse, "acc.jvp(tape.gradient(y, x))", "the same", False
    ),
    "Reverse over forward": Row(
        reverse_over_forward, "tape.gradient(acc.jvp(y), x)", "the same", False
    ),
    "Higher directional derivatives": Row(
        higher_directional_derivatives, "outer.jvp(inner.jvp(y))", "the same", False
    ),
    "Pause forward mode": Row(pause_forward_mode, "acc.stop_recording()", "no such method", True),
    "`jvp` inside the block, or many times": Row(
        jvp_many_times, "any number of times", "the same", False
    ),
    "Memory": Row(forward_memory, "until the accumulator is dropped", "freed with it", True),
}


def test_every_row_of_the_readme_table_is_checked() -> None:
    assert set(_table()) == set(ROWS)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.threads, pytest.mark.event_loop])
        if name == "Threads and asyncio tasks"
        else name
        for name in ROWS
    ],
)
def test_the_row_holds(name: str) -> None:
    row = ROWS[name]
    microtape_cell, tensorflow_cell = _table()[name]
    assert row.microtape in microtape_cell, (name, microtape_cell)
    assert row.tensorflow in tensorflow_cell, (name, tensorflow_cell)
    if not row.differs:  # the same behaviour: the cells must not contradict each other
        assert not re.search(r"\b(error|silently)\b", tensorflow_cell) or (
            re.search(r"(?i)error|silently", microtape_cell)
        ), (name, microtape_cell, tensorflow_cell)
    row.check()

"""Memory: what a tape holds, and when it lets go.

A tape keeps node numbers and floats, never the intermediate Values, so an intermediate
Value nobody holds is freed at once. A non-persistent tape frees its records at the end
of its gradient call, a persistent one at ``release()`` (or ``reset()``), and nothing
forms a reference cycle: with the cyclic garbage collector switched off, plain reference
counting frees everything as soon as the tape and the results are dropped.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

import microtape as mt
from microtape import GradientTape, Value

Refs = list["weakref.ref[Value]"]

DATA = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]  # y = 2x + 1


@contextmanager
def no_cycle_collector() -> Iterator[None]:
    """Switch the cyclic collector off, so only reference counting can free anything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def current_memory() -> int:
    return tracemalloc.get_traced_memory()[0]


def alive(refs: Refs) -> int:
    return sum(r() is not None for r in refs)


def sgd_step(w: Value, b: Value, lr: float = 0.02) -> float:
    with GradientTape() as tape:
        loss: Value | float = 0.0
        for x, t in DATA:
            err = w * x + b - t
            loss = loss + err * err
    assert isinstance(loss, Value)
    gw, gb = tape.gradient(loss, [w, b])
    assert gw is not None and gb is not None
    w.data -= lr * gw.data
    b.data -= lr * gb.data
    return loss.data


# ---- a long training loop ---------------------------------------------------------------------


def test_a_ten_thousand_step_training_loop_holds_flat_memory() -> None:
    w, b = Value(0.0), Value(0.0)
    first = last = 0  # the most memory traced during the first and the last 1000 steps
    with traced():
        for step in range(10_000):
            sgd_step(w, b)
            if step < 1000:
                first = max(first, current_memory())
            elif step >= 9000:
                last = max(last, current_memory())
    assert last <= first + 16 * 1024, f"grew from {first} to {last} bytes"
    assert w.data == pytest.approx(2.0, abs=1e-6) and b.data == pytest.approx(1.0, abs=1e-6)


def test_a_loop_that_resets_one_persistent_tape_holds_flat_memory() -> None:
    w = Value(0.5)
    first = last = 0
    with traced(), GradientTape(persistent=True) as tape:
        for step in range(2000):
            tape.reset()  # forget the last step's records; explain() remembers only those
            y = w
            for _ in range(50):
                y = y * 0.999 + 0.001
            if step < 200:
                first = max(first, current_memory())
            elif step >= 1800:
                last = max(last, current_memory())
    assert last <= first + 16 * 1024, f"grew from {first} to {last} bytes"
    assert tape.explain(y, w).startswith("There is a gradient")  # the last step's y


# ---- when records are freed --------------------------------------------------------------------


def chain(x: Value, n: int, refs: Refs) -> Value:
    """x * 1.0001 ** n, recorded op by op, keeping a weak reference to every step."""
    y = x
    for _ in range(n):
        y = y * 1.0001
        refs.append(weakref.ref(y))
    return y


def test_release_gives_back_the_memory_of_a_persistent_recording() -> None:
    x = Value(1.0)
    with traced():
        baseline = current_memory()
        with GradientTape(persistent=True) as tape:
            y = x
            for _ in range(50_000):
                y = y * 1.0001
        recorded = current_memory() - baseline
        g = tape.gradient(y, x)
        tape.release()
        kept = current_memory() - baseline
    assert g is not None
    assert recorded > 2_000_000  # the recording really held the graph
    # what remains is the interpreter's free lists of small objects, not the graph
    assert kept < recorded / 20, f"{kept} of {recorded} bytes still held"


def test_a_tape_keeps_numbers_not_the_intermediate_values() -> None:
    refs: Refs = []
    with no_cycle_collector():
        x = Value(1.0)
        with GradientTape(persistent=True) as tape:
            y = chain(x, 1000, refs)
        # The records hold node numbers and floats: no intermediate Value is kept alive,
        # even by a persistent tape, and the cycle collector has no graph to scan.
        assert alive(refs) == 1  # only y, which we still hold
        assert tape.view().count == 1000
        first, second = tape.gradient(y, x), tape.gradient(y, x)
        assert first is not None and second is not None
        assert first.data == second.data == pytest.approx(1.0001**1000)
        assert tape._flat is not None
        entries: list[object] = list(tape._flat)
        assert not any(type(entry) is Value for entry in entries)
        assert not gc.is_tracked(tape._flat[0]) and not gc.is_tracked(tape._flat[1])
        tape.release()
        assert tape.view().count == 0


def test_a_non_persistent_tape_frees_its_records_when_its_gradient_returns() -> None:
    refs: Refs = []
    with no_cycle_collector():
        x = Value(1.0)
        with GradientTape() as tape:
            y = chain(x, 1000, refs)
        tape.gradient(y, x)
        assert alive(refs) == 1  # the tape object lives on, its records do not
        assert "0 records" in repr(tape)


def test_a_non_persistent_jacobian_frees_the_records_too() -> None:
    refs: Refs = []
    with no_cycle_collector():
        x = Value(1.0)
        with GradientTape() as tape:
            y = chain(x, 500, refs)
        tape.jacobian([y, y * 2.0], x)
        assert alive(refs) == 1


def test_reset_frees_what_was_recorded_before_it() -> None:
    refs: Refs = []
    with no_cycle_collector():
        x = Value(1.0)
        with GradientTape(persistent=True) as tape:
            chain(x, 1000, refs)
            tape.reset()
            z = x * 2.0
        assert alive(refs) == 0
        g = tape.gradient(z, x)
        assert g is not None and g.data == 2.0


def test_a_refused_gradient_call_keeps_the_records_for_the_correct_one() -> None:
    refs: Refs = []
    with no_cycle_collector():
        x = Value(1.0)
        with GradientTape() as tape:
            y = chain(x, 100, refs)
        with pytest.raises(TypeError):
            tape.gradient(y, "x")
        assert tape.view().count == 100
        g = tape.gradient(y, x)
        assert g is not None and g.data == pytest.approx(1.0001**100)
        assert tape.view().count == 0


# ---- no reference cycles ----------------------------------------------------------------------


def plain(refs: Refs) -> None:
    x = Value(0.5)
    with GradientTape() as tape:
        y = mt.tanh(chain(x, 50, refs)) * mt.exp(x)
    refs.append(weakref.ref(y))
    tape.gradient(y, x)


def never_differentiated(refs: Refs) -> None:
    x = Value(0.5)
    with GradientTape(persistent=True) as tape:
        chain(x, 50, refs)
    assert "50 records" in repr(tape)


def second_order(refs: Refs) -> None:
    x = Value(0.5)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = mt.sin(chain(x, 50, refs))
        g = inner.gradient(y, x)
    assert g is not None
    refs.append(weakref.ref(g))
    outer.gradient(g, x)


def persistent_inside_its_block(refs: Refs) -> None:
    x = Value(0.5)
    with GradientTape(persistent=True) as tape:
        y = mt.sigmoid(chain(x, 50, refs))
        g = tape.gradient(y, x)
    assert g is not None
    refs.append(weakref.ref(g))
    tape.gradient(g, x)
    tape.gradient([y, g], [x])


def unwatched_with_pauses_and_reset(refs: Refs) -> None:
    x, z = Value(0.5), Value(2.0)
    with GradientTape(watch_accessed_variables=False, persistent=True) as tape:
        chain(z, 10, refs)
        tape.watch(x)
        with tape.stop_recording():
            chain(x, 10, refs)
        chain(x, 10, refs)
        tape.reset()
        tape.watch(x)
        y = chain(x * z, 10, refs)
    tape.gradient(y, [x, z])
    tape.explain(y, z)
    str(tape)


def domain_error_inside_the_block(refs: Refs) -> None:
    x = Value(0.5)
    raised = False
    with GradientTape() as tape:
        y = chain(x, 50, refs)
        try:
            mt.log(y - y)
        except mt.DomainError:
            raised = True
    assert raised
    tape.gradient(y, x)


def in_place_error(refs: Refs) -> None:
    x = Value(0.5)
    raised = False
    with GradientTape() as tape:
        y = chain(x, 50, refs)
    x.data = 1.0
    try:
        tape.gradient(y, x)
    except mt.TapeError:
        raised = True
    assert raised


def unconnected_raise(refs: Refs) -> None:
    x, other = Value(0.5), Value(1.0)
    raised = False
    with GradientTape() as tape:
        y = chain(x, 50, refs)
    try:
        tape.gradient(y, other, unconnected_gradients="raise")
    except mt.MicrotapeError:
        raised = True
    assert raised


@pytest.mark.parametrize(
    "scenario",
    [
        plain,
        never_differentiated,
        second_order,
        persistent_inside_its_block,
        unwatched_with_pauses_and_reset,
        domain_error_inside_the_block,
        in_place_error,
        unconnected_raise,
    ],
)
def test_reference_counting_alone_frees_the_graph_once_tape_and_results_are_dropped(
    scenario: Callable[[Refs], None],
) -> None:
    refs: Refs = []
    with no_cycle_collector():
        scenario(refs)  # its tapes, results and exceptions all die when it returns
        assert refs
        assert alive(refs) == 0, f"{alive(refs)} of {len(refs)} Values kept alive by a cycle"

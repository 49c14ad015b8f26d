"""Tape state under adversarial use: in-place changes, re-entry, pauses, resets, exit order.

The in-place rule: a gradient that would use a Value whose ``.data`` was assigned after a
tape recorded it raises TapeError naming that Value, on the first-order and higher-order
paths alike; an assignment before the recording (or recorded again on a fresh tape after
an optimizer step) is fine. test_tape.py covers the plain cases; these go around them.
"""

from __future__ import annotations

import contextvars
import re
import threading
import weakref
from collections.abc import Callable

import pytest

import microtape as mt
from microtape import GradientTape, Value


def records_on(tape: GradientTape) -> int:
    found = re.search(r"(\d+) records?\b", repr(tape))
    assert found is not None, repr(tape)
    return int(found.group(1))


def changed(x: Value) -> str:
    """The pattern of the in-place error naming ``x``."""
    return re.escape(repr(x)) + " was changed in place"


# ---- in-place changes -------------------------------------------------------------------------


def test_changing_an_intermediate_value_on_the_way_to_the_target_raises_naming_it() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = x * x
        z = y * y
    y.data = 0.0
    with pytest.raises(mt.TapeError, match=changed(y)):
        tape.gradient(z, x)


def test_changing_a_source_after_a_non_persistent_block_raises() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
    x.data = 5.0
    with pytest.raises(mt.TapeError, match=changed(x)):
        tape.gradient(y, x)


def test_changing_a_source_inside_the_block_after_its_use_raises() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
        x.data = 5.0
        z = y + 1.0
    with pytest.raises(mt.TapeError, match=changed(x)):
        tape.gradient(z, x)


def test_jacobian_refuses_an_in_place_change_too() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        ys = [x * x, x * 3.0]
    x.data = 1.0
    with pytest.raises(mt.TapeError, match=changed(x)):
        tape.jacobian(ys, x)


def test_a_second_derivative_after_an_optimizer_step_raises() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as outer:
        with GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    assert dy is not None
    x.data = 1.0
    with pytest.raises(mt.TapeError, match=changed(x)):
        outer.gradient(dy, x)


def test_a_change_inside_an_inner_block_splits_the_outer_recording() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as outer:
        y = x * x  # before the change
        with GradientTape():
            x.data = 5.0
        z = x * 3.0  # after it
    g = outer.gradient(z, x)
    assert g is not None and g.data == 3.0
    with pytest.raises(mt.TapeError, match=changed(x)):
        outer.gradient(y, x)


def test_a_persistent_tape_re_entered_after_a_change_uses_only_the_new_records() -> None:
    x = Value(2.0)
    tape = GradientTape(persistent=True)
    with tape:
        y = x * x
    x.data = 3.0
    with tape:
        z = x * x
    g = tape.gradient(z, x)
    assert g is not None and g.data == 6.0
    with pytest.raises(mt.TapeError, match=changed(x)):
        tape.gradient([y, z], x)


def test_after_an_in_place_error_the_tape_answers_for_targets_that_do_not_use_the_value() -> None:
    a, b = Value(2.0), Value(3.0)
    with GradientTape(persistent=True) as tape:
        ya = a * a
        yb = b * b
    a.data = 7.0
    with pytest.raises(mt.TapeError, match=changed(a)):
        tape.gradient(ya, a)
    g = tape.gradient(yb, b)
    assert g is not None and g.data == 6.0


def test_an_in_place_error_on_a_non_persistent_tape_does_not_use_it_up() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
    x.data = 5.0
    with pytest.raises(mt.TapeError, match="changed in place"):
        tape.gradient(y, x)
    tape.reset()
    with tape:
        z = x * x
    g = tape.gradient(z, x)
    assert g is not None and g.data == 10.0


def test_a_change_before_watching_on_an_unwatched_tape_is_fine() -> None:
    x = Value(2.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        x.data = 4.0
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x)
    assert g is not None and g.data == 8.0


def test_a_change_after_recording_on_an_unwatched_tape_raises() -> None:
    x = Value(2.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = x * x
    x.data = 4.0
    with pytest.raises(mt.TapeError, match=changed(x)):
        tape.gradient(y, x)


def test_a_change_made_while_the_tape_is_paused_is_fine_for_later_records() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        with tape.stop_recording():
            x.data = 5.0  # an optimizer step where this tape does not record
        z = x * 3.0  # recorded after the change: uses the new number consistently
    g = tape.gradient(z, x)
    assert g is not None and g.data == 3.0


@pytest.mark.threads
def test_a_change_made_in_another_thread_before_recording_is_fine() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        worker = threading.Thread(target=lambda: setattr(x, "data", 7.0))
        worker.start()
        worker.join()
        z = x * 3.0  # recorded after the change
    g = tape.gradient(z, x)
    assert g is not None and g.data == 3.0


@pytest.mark.threads
def test_a_change_made_in_another_thread_after_recording_raises() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        z = x * 3.0
    worker = threading.Thread(target=lambda: setattr(x, "data", 7.0))
    worker.start()
    worker.join()
    with pytest.raises(mt.TapeError, match=changed(x)):
        tape.gradient(z, x)


# ---- entering again ---------------------------------------------------------------------------


def test_entering_a_recording_tape_inside_a_nested_block_raises_and_changes_nothing() -> None:
    x = Value(2.0)
    tape = GradientTape(persistent=True)
    with tape:
        y = x * x
        with GradientTape() as inner:
            with pytest.raises(mt.TapeError, match="already recording"):
                tape.__enter__()
            z = y * x
        w = z * x
    assert (records_on(tape), records_on(inner)) == (3, 1)
    g = tape.gradient(w, x)
    assert g is not None and g.data == 32.0  # 4 x^3 at 2


def test_entering_a_recording_tape_from_inside_its_stop_recording_block_raises() -> None:
    tape = GradientTape()
    with tape:
        with tape.stop_recording():
            with pytest.raises(mt.TapeError, match="already recording"):
                tape.__enter__()


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda t: t.gradient(Value(1.0), Value(1.0)), "used up"),
        (lambda t: t.release(), "released"),
    ],
    ids=["used", "released"],
)
def test_entering_a_finished_tape_raises_and_leaves_nothing_recording(
    make: Callable[[GradientTape], object], pattern: str
) -> None:
    tape = GradientTape()
    with tape:
        pass
    make(tape)
    with pytest.raises(mt.TapeError, match=pattern):
        tape.__enter__()
    with pytest.raises(mt.TapeError, match=pattern):
        with tape:
            pass
    assert_nothing_records()


def test_a_persistent_tape_resumes_across_three_blocks_with_pauses_between() -> None:
    x = Value(2.0)
    tape = GradientTape(persistent=True)
    ys = []
    for k in range(3):
        with tape:
            ys.append(x * float(k + 1))
            with tape.stop_recording():
                ys.append(x * 100.0)
        ys.append(x * 1000.0)  # between blocks: not recorded
    assert records_on(tape) == 3
    g = tape.gradient(ys, x)
    assert g is not None and g.data == 6.0


# ---- stop_recording and reset under stress -------------------------------------------------------


def test_an_exception_inside_stop_recording_resumes_recording_after_it() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        with pytest.raises(KeyError):
            with tape.stop_recording():
                x * x
                raise KeyError("boom")
        z = x * 3.0
    assert records_on(tape) == 1
    g = tape.gradient(z, x)
    assert g is not None and g.data == 3.0


def test_stop_recording_nested_on_the_same_tape_resumes_only_at_the_outermost_end() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        with tape.stop_recording():
            with tape.stop_recording():
                x * x
            x * x  # still paused by the outer pause
        z = x * 5.0
    assert records_on(tape) == 1
    g = tape.gradient(z, x)
    assert g is not None and g.data == 5.0


def test_reset_inside_stop_recording_forgets_and_recording_resumes_afterwards() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            tape.reset()
            n = x * 7.0
        w = x * 5.0
    assert records_on(tape) == 1
    g = tape.gradient([y, n, w], x)
    assert g is not None and g.data == 5.0


def test_a_tape_paused_inside_another_tapes_pause_keeps_each_pause_to_its_own_tape() -> None:
    x = Value(2.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            with outer.stop_recording():
                a = x * x  # inner only
                with inner.stop_recording():
                    x * 10.0  # neither
                b = a * x  # inner only
            c = b * x  # both
    assert (records_on(outer), records_on(inner)) == (1, 3)
    g = inner.gradient(c, x)
    assert g is not None and g.data == 32.0


def test_release_and_non_persistent_gradient_inside_stop_recording_still_raise() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as persistent:
        with persistent.stop_recording():
            with pytest.raises(mt.TapeError, match="still recording"):
                persistent.release()
    with GradientTape() as plain:
        y = x * x
        with plain.stop_recording():
            with pytest.raises(mt.TapeError, match="after the block"):
                plain.gradient(y, x)
    g = plain.gradient(y, x)
    assert g is not None and g.data == 4.0


def test_a_persistent_gradient_inside_its_own_pause_is_a_constant_to_the_tape() -> None:
    x = Value(2.0)
    with GradientTape(persistent=True) as tape:
        y = x * x * x
        with tape.stop_recording():
            g = tape.gradient(y, x)  # nothing records here: a first-order number
        h = g * x if g is not None else None
    assert g is not None and g.data == 12.0
    assert h is not None
    second = tape.gradient(h, x)  # d(g * x)/dx with g a constant
    assert second is not None and second.data == 12.0


def test_reset_after_release_and_use_after_release_raise() -> None:
    tape = GradientTape(persistent=True)
    with tape:
        pass
    tape.release()
    for use in (tape.reset, tape.watched, lambda: tape.watch(Value(1.0))):
        with pytest.raises(mt.TapeError, match="released"):
            use()


# ---- exit order ----------------------------------------------------------------------------------


def assert_nothing_records() -> None:
    """No tape, live or stale, records an op made now: its result is freed at once."""
    x = Value(2.0)
    w = x * x
    ref = weakref.ref(w)
    del w
    assert ref() is None, "an op made after every tape was exited is still held by a record"


def in_own_context(scenario: Callable[[], None]) -> None:
    """Run ``scenario`` in a copy of the current context, so that a tape it leaves
    recording by mistake cannot leak into the tests that follow."""
    contextvars.copy_context().run(scenario)


def test_tapes_exited_out_of_order_leave_nothing_recording() -> None:
    def scenario() -> None:
        x = Value(2.0)
        first, second = GradientTape(), GradientTape()
        first.__enter__()
        second.__enter__()
        y = x * x
        try:
            first.__exit__(None, None, None)  # wrong order: the later tape is still open
        except mt.TapeError:
            pass  # refusing is fine; then the right order must still work
        second.__exit__(None, None, None)
        if "recording" in repr(first):
            first.__exit__(None, None, None)
        assert "recording" not in repr(first) + repr(second)
        assert_nothing_records()
        g = second.gradient(y, x)
        assert g is not None and g.data == 4.0

    in_own_context(scenario)


def test_a_pause_ended_after_its_tape_leaves_nothing_recording() -> None:
    def scenario() -> None:
        tape = GradientTape()
        tape.__enter__()
        pause = tape.stop_recording()
        pause.__enter__()
        try:
            tape.__exit__(None, None, None)  # wrong order: the pause is still open
        except mt.TapeError:
            pass
        pause.__exit__(None, None, None)
        if "recording" in repr(tape):
            tape.__exit__(None, None, None)
        assert_nothing_records()

    in_own_context(scenario)


def test_exiting_a_tape_that_was_never_entered_raises_tape_error() -> None:
    def scenario() -> None:
        with pytest.raises(mt.TapeError):
            GradientTape().__exit__(None, None, None)
        assert_nothing_records()

    in_own_context(scenario)


def test_exiting_a_tape_twice_raises_tape_error() -> None:
    def scenario() -> None:
        tape = GradientTape()
        with tape:
            pass
        with pytest.raises(mt.TapeError):
            tape.__exit__(None, None, None)
        assert_nothing_records()

    in_own_context(scenario)


# ---- gradients are fresh Values ------------------------------------------------------------------


def test_higher_order_gradients_of_two_sources_are_distinct_values() -> None:
    # Values are mutable (an optimizer assigns .data): two sources must never share one
    # gradient object, or clipping one gradient in place would change the other.
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = (a + b) * c
        ga, gb = inner.gradient(y, [a, b])
    assert ga is not None and gb is not None
    assert ga is not gb
    ga.data = 0.0
    assert gb.data == 3.0
    assert records_on(outer) > 0


def test_a_value_passed_as_output_gradient_is_not_returned_as_a_gradient() -> None:
    a, b, upstream = Value(1.0), Value(2.0), Value(5.0)
    with GradientTape():
        with GradientTape() as inner:
            y = a + b
        g = inner.gradient(y, a, output_gradients=upstream)
    assert g is not None and g.data == 5.0
    assert g is not upstream


# ---- a refused higher-order sweep records nothing half-way -------------------------------------


def test_a_second_order_sweep_refused_midway_leaves_the_outer_tape_as_it_was() -> None:
    # d/dx x**y at (0, 1) is 1, but its own derivative in y needs log(0): refused while the
    # inner gradient is recorded on the outer tape, which must then hold nothing of it.
    x, y = Value(0.0), Value(1.0)
    with GradientTape(persistent=True) as outer:
        with GradientTape() as inner:
            z = x**y
        before = records_on(outer)
        with pytest.raises(mt.DomainError):
            inner.gradient(z, x)
        assert records_on(outer) == before

"""tape.explain, print(tape) and unconnected_gradients="raise": the tape describes itself."""

from __future__ import annotations

import re

import pytest
from messages import flat

import microtape as mt
from microtape import GradientTape, Value


def test_explain_a_target_computed_outside_any_tape() -> None:
    x = Value(2.0)
    loss = x * x
    with GradientTape() as tape:
        pass
    text = flat(tape.explain(loss, x))
    assert text.startswith("No gradient: the target loss = 4.0 was not computed while")
    assert "Compute the target inside the block" in text


def test_explain_a_source_used_only_before_the_block() -> None:
    x, w = Value(1.0), Value(3.0)
    feature = x * 2  # outside the tape
    with GradientTape() as tape:
        y = feature * w
    text = flat(tape.explain(y, x))
    assert "was not used by any op recorded on this tape" in text
    assert "depends only on feature = 2.0, w = 3.0" in text  # the leaf it was used to compute
    assert "stop_recording" not in text


def test_explain_mentions_stop_recording_when_the_tape_paused() -> None:
    x, w = Value(1.0), Value(3.0)
    with GradientTape() as tape:
        with tape.stop_recording():
            feature = x * 2
        y = feature * w
    assert "paused recording 1 time in tape.stop_recording()" in flat(tape.explain(y, x))


def test_explain_a_source_recorded_before_reset() -> None:
    x, w = Value(1.0), Value(3.0)
    with GradientTape() as tape:
        x * x
        tape.reset()
        y = w * 2
    assert "used only in ops recorded before tape.reset()" in tape.explain(y, x)


def test_explain_a_target_recorded_before_reset() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        y = x * x
        tape.reset()
    assert "was recorded before tape.reset()" in tape.explain(y, x)


def test_explain_an_unwatched_source() -> None:
    x, z = Value(1.0), Value(3.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = x * z
    text = tape.explain(y, z)
    assert "was never watched" in text and "watch_accessed_variables=False" in text


def test_explain_a_source_used_elsewhere_on_the_tape() -> None:
    x, w = Value(1.0), Value(3.0)
    with GradientTape() as tape:
        mt.exp(x)
        y = w * w
    assert "was used on this tape (by exp), but none of those ops lead" in tape.explain(y, x)


def test_explain_a_used_and_a_released_tape() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    assert "non-persistent" in tape.explain(y, x)
    with GradientTape(persistent=True) as kept:
        y = x * x
    kept.release()
    assert "the tape was released" in kept.explain(y, x)


def test_explain_a_connected_source_shows_the_chain_of_ops() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        y = mt.relu(mt.sin(x)) * 2
    text = flat(tape.explain(y, x))
    assert "the target y depends on the source x = 1.0" in text
    assert "x -> v0 (sin) -> v1 (relu) -> y (mul)" in text  # each Value, and the op making it


def test_explain_the_target_itself() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        pass
    assert "is the target itself" in tape.explain(x, x)


def test_explain_rejects_a_non_value_source() -> None:
    with GradientTape() as tape:
        pass
    with pytest.raises(TypeError, match="source must be a Value"):
        tape.explain(Value(1.0), 2.0)  # type: ignore[arg-type]


def test_unconnected_raise_mode_raises_the_explanation_and_keeps_the_tape() -> None:
    x, unused = Value(2.0), Value(5.0)
    with GradientTape() as tape:
        y = x * x
    with pytest.raises(mt.UnconnectedGradientError, match="not used by any op") as info:
        tape.gradient(y, [x, unused], unconnected_gradients="raise")
    assert isinstance(info.value, LookupError)
    g = tape.gradient(y, x, unconnected_gradients="raise")  # not consumed by the error
    assert g is not None and g.data == 4.0


def test_print_tape_lists_ops_inputs_outputs_and_local_derivatives() -> None:
    x, w = Value(3.0), Value(0.5)
    with GradientTape(persistent=True) as tape:
        y = x * w + mt.sin(x)
    text = str(tape)
    lines = text.splitlines()
    assert lines[0] == "GradientTape(persistent): exited, 3 records"
    assert re.search(r"^\s+0\s+mul\s+x, w\s+v0 = 1\.5\s+d/dx = 0\.5, d/dw = 3\.0$", text, re.M)
    assert re.search(r"^\s+1\s+sin\s+x\s+v1 = 0\.14112\s+d/dx = -0\.989992$", text, re.M)
    assert "gradient" not in lines[1]
    tape.gradient(y, [x, w])
    after = tape.summary()
    assert after.splitlines()[1].rstrip().endswith("gradient")
    assert re.search(r"leaf\s+w = 0\.5\s+3\.0$", after, re.M)  # dy/dw = x = 3


def test_print_tape_elides_the_middle_of_a_long_tape() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        for _ in range(100):
            x = x * 1.0
    text = str(tape)
    assert "70 more" in text
    assert len(text.splitlines()) < 40


def test_print_a_used_tape_says_why_it_is_empty() -> None:
    x = Value(1.0)
    with GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    assert "use persistent=True" in str(tape)

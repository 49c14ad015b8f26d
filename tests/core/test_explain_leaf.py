"""``tape.explain`` when the target is itself a Value no recorded op made: TensorFlow's
control-flow cell (``if x > 0.0: result = v0 else: result = v1**2``), where the code did
everything inside the block and the branch that uses ``v1`` did not run."""

from __future__ import annotations

import pytest
from messages import flat, loose

import microtape as mt


def _control_flow_cell() -> tuple[mt.GradientTape, mt.Value, mt.Value, mt.Value]:
    x = mt.Value(1.0)
    v0 = mt.Value(2.0)
    v1 = mt.Value(2.0)
    with mt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        if x > 0.0:
            result = v0
        else:
            result = v1**2
    return tape, result, v0, v1


def test_the_cell_gives_what_tensorflow_gives() -> None:
    tape, result, v0, v1 = _control_flow_cell()
    grads = tape.gradient(result, [v0, v1])
    assert grads[0] is not None and grads[0].data == 1.0
    assert grads[1] is None


def test_explain_says_the_target_is_a_leaf_and_the_other_branch_did_not_run() -> None:
    tape, result, v0, v1 = _control_flow_cell()
    text = flat(tape.explain(result, v1))
    assert text.startswith(
        "No gradient: the target v0 = 2.0 was not computed while this tape was recording: "
        "no op on this tape made it (it recorded none), so to the tape it is a leaf of its own"
    )
    assert "Its gradient with respect to itself is 1" in text
    assert "a branch such as `if x > 0: result = v0` returns v0 itself" in text
    assert "the branch that would have used the source did not run; then None is the right" in text
    assert "Compute the target inside the block in that case" in text  # the other way here
    assert tape.explain(result, v0) == (
        "The gradient is 1: the source v0 = 2.0 is the target itself."
    )


def test_a_target_the_tapes_ops_read_is_called_a_leaf_on_this_tape() -> None:
    x, v0, v1 = mt.Value(1.0), mt.Value(2.0), mt.Value(3.0)
    with mt.GradientTape() as tape:
        features = v0 * x  # v0 is read by a recorded op: a leaf of this tape
        result = v0 if x > 0.0 else v1 * features
    text = flat(tape.explain(result, v1))
    assert text.startswith(
        "No gradient: the target v0 = 2.0 is a leaf on this tape, not the output of a recorded op"
    )
    assert "v1 = 3.0 was not used to compute it" in text
    assert "computed outside the recording" not in text  # no guess where the tape knows


def test_raise_mode_carries_the_same_words() -> None:
    tape, result, _, v1 = _control_flow_cell()
    with pytest.raises(
        mt.UnconnectedGradientError, match=loose("did not run; then None is the right")
    ):
        tape.gradient(result, v1, unconnected_gradients="raise")

"""Persistent tape: two losses from one recording, two gradient calls, then release().

The third example of "Why is `tape` required?". A tape created with
``persistent=True`` answers any number of ``gradient()`` calls from one recording:
here the mean squared error and the sum of absolute errors of the same
predictions. The price is memory: the tape keeps every record (about 120 bytes
per op: the numbers of the computation and its local derivatives) until
``release()`` (TensorFlow's ``del tape``). After that the tape refuses, and says why.

Run it:  python examples/persistent_tape.py
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    import microtape as mt
except ModuleNotFoundError:  # run from a clone without installing: use the package beside us
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import microtape as mt
from microtape import losses, nn, optim

X = [1.0, 2.0, 3.0]
Y = [2.0, 4.0, 6.0]


@dataclass(frozen=True)
class Result:
    """What the run found, for the tests."""

    weight: float  # the parameters the losses were recorded at
    bias: float
    loss1: float
    loss2: float
    gradients1: list[float]
    gradients2: list[float]
    held: str  # repr(tape) after the two calls: what the tape still holds
    released: str  # repr(tape) after release()
    error: str  # what a third gradient() call says


def sum_of_absolute_errors(y_true: Sequence[float], y_pred: Sequence[mt.Value]) -> mt.Value:
    """``tf.reduce_sum(tf.abs(y_true - y_pred))``: a loss is just arithmetic on Values."""
    errors = [mt.abs(t - p) for t, p in zip(y_true, y_pred, strict=True)]
    return sum(errors[1:], start=errors[0])  # start from a Value, so the sum is one


def floats(gradients: Sequence[mt.Value | None]) -> list[float]:
    """The gradients as numbers (each is a Value here: both losses use both parameters)."""
    return [g.data for g in gradients if g is not None]


def main() -> Result:
    """Record once, differentiate twice, release, and try a third time."""
    model = nn.Dense(1, 1)
    weight, bias = model.trainable_variables
    start = weight.data, bias.data
    optimizer = optim.SGD(learning_rate=0.01)

    with mt.GradientTape(persistent=True) as tape:
        y_pred = [model([x])[0] for x in X]
        loss1 = losses.mean_squared_error(Y, y_pred)
        loss2 = sum_of_absolute_errors(Y, y_pred)

    gradients1 = tape.gradient(loss1, model.trainable_variables)
    gradients2 = tape.gradient(loss2, model.trainable_variables)
    held = repr(tape)
    print(f"Loss 1 (mean squared error):      {loss1.data:.4f}")
    print(f"Gradients 1:                      {[round(g, 4) for g in floats(gradients1)]}")
    print(f"Loss 2 (sum of absolute errors):  {loss2.data:.4f}")
    print(f"Gradients 2:                      {[round(g, 4) for g in floats(gradients2)]}")
    print(f"\nAfter two gradient calls the tape still holds its records: {held}")
    print("print(tape) shows them, with each node's gradient from the last call:\n")
    print(tape)

    tape.release()  # free the records now; TensorFlow's `del tape`
    released = repr(tape)
    print(f"\nAfter tape.release(): {released}")
    optimizer.apply_gradients(zip(gradients1, model.trainable_variables, strict=True))

    try:
        tape.gradient(loss1, model.trainable_variables)
        raise AssertionError("expected TapeError")
    except mt.TapeError as error:
        message = str(error)
        print(f"A third gradient() call raises TapeError: {message}")
    return Result(
        start[0],
        start[1],
        loss1.data,
        loss2.data,
        floats(gradients1),
        floats(gradients2),
        held,
        released,
        message,
    )


if __name__ == "__main__":
    main()

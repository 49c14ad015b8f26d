"""No tape: what happens when the loss is computed outside any tape, and why.

The second example of "Why is `tape` required?". In TensorFlow, a loss computed
outside ``with tf.GradientTape()`` gives ``None`` gradients without a word, and the
optimizer later complains "No gradients provided for any variable". microtape
gives the same ``None`` (it is the honest answer: nothing was recorded), but it can
say why, at each step where the mistake shows:

1. ``tape.gradient`` returns ``[None, None]``;
2. ``tape.explain(loss, weight)`` says in words why;
3. ``unconnected_gradients="raise"`` turns the None into an error carrying that
   explanation;
4. the optimizer refuses a None gradient and names the variable;
5. a subtler variant: the loss inside the tape, the forward pass before it;
6. the fix: everything the loss depends on computed inside the block;
7. and a tape never used in a ``with`` block at all is an error, as in TensorFlow.

Run it:  python examples/no_tape.py
"""

from __future__ import annotations

import sys
import textwrap
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
    """What each step showed, for the tests."""

    gradients_without_tape: list[mt.Value | None]
    explanation: str
    raised: str
    optimizer_error: str
    forward_outside_explanation: str
    gradients_with_tape: list[mt.Value | None]
    never_entered: str


def show(text: str) -> None:
    """Print a long message wrapped and indented, so it reads as a paragraph."""
    print(textwrap.fill(text, 88, initial_indent="   ", subsequent_indent="   "))


def main() -> Result:
    """Make the mistake, read what microtape says about it, then fix it."""
    model = nn.Dense(1, 1)
    weight, bias = model.trainable_variables
    optimizer = optim.SGD(learning_rate=0.1)

    print("1. The loss is computed outside the tape's `with` block (here, before it):")
    y_pred = [model([x])[0] for x in X]
    loss = losses.mean_squared_error(Y, y_pred)
    with mt.GradientTape() as tape:
        pass  # the computation already happened: there is nothing left to record
    print(f"   loss = {loss}   (a number like any other: the Value has no history)")
    print("   tape.explain(loss, weight) says:")
    explanation = tape.explain(loss, weight)
    show(explanation)

    print("\n2. unconnected_gradients='raise' makes that an error instead of a None:")
    try:
        tape.gradient(loss, model.trainable_variables, unconnected_gradients="raise")
        raise AssertionError("expected UnconnectedGradientError")
    except mt.UnconnectedGradientError as error:
        raised = str(error)
        # The same words (an error's lines leave room for its class name: broken elsewhere).
        same = "the same explanation" if raised.split() == explanation.split() else raised
        print(f"   UnconnectedGradientError: {same}")

    print("\n3. By default the answer is None, as in TensorFlow:")
    gradients = tape.gradient(loss, model.trainable_variables)
    print(f"   tape.gradient(loss, model.trainable_variables) = {gradients}")

    print("\n4. ... and the optimizer says which variable has no gradient, and why:")
    try:
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        raise AssertionError("expected MissingGradientError")
    except optim.MissingGradientError as error:
        optimizer_error = str(error)
        show(f"MissingGradientError: {optimizer_error}")
    print(f"   (nothing was updated: weight is still {weight.data:.4f})")

    print("\n5. The forward pass before the block, the loss inside it:")
    y_pred = [model([x])[0] for x in X]
    with mt.GradientTape() as tape:
        loss = losses.mean_squared_error(Y, y_pred)
    forward_outside = tape.explain(loss, weight)
    print("   tape.explain(loss, weight) says:")
    show(forward_outside)

    print("\n6. The fix: compute everything the loss depends on inside the block.")
    with mt.GradientTape() as tape:
        y_pred = [model([x])[0] for x in X]
        loss = losses.mean_squared_error(Y, y_pred)
    show(tape.explain(loss, bias))
    fixed = tape.gradient(loss, model.trainable_variables)
    print(f"   tape.gradient(loss, model.trainable_variables) = {fixed}")

    print("\n7. A tape never used in a `with` block is an error, not a None:")
    try:
        mt.GradientTape().gradient(loss, weight)
        raise AssertionError("expected TapeError")
    except mt.TapeError as error:
        never_entered = str(error)
        show(f"TapeError: {never_entered}")
    return Result(
        gradients, explanation, raised, optimizer_error, forward_outside, fixed, never_entered
    )


if __name__ == "__main__":
    main()

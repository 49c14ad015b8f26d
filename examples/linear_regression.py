"""Linear regression: one Dense unit learns y = 2x from three points.

The first example of "Why is `tape` required?", rewritten for microtape: a model
with one weight and one bias, mean squared error on x = [1, 2, 3], y = [2, 4, 6],
one SGD step that prints the loss and the gradients, then training until the
weight is 2 and the bias 0.

The forward pass and the loss are computed inside ``with mt.GradientTape() as
tape:``. That is what makes ``tape.gradient`` possible: a Value does not remember
how it was computed, the tape does.

Run it:  python examples/linear_regression.py
"""

from __future__ import annotations

import sys
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

    initial_weight: float
    initial_bias: float
    first_loss: float
    first_gradients: list[float]  # [d loss / d weight, d loss / d bias]
    steps: int  # SGD steps until the loss was below TOLERANCE
    weight: float
    bias: float
    final_loss: float


TOLERANCE = 1e-12
"""Training stops once the mean squared error is below this."""


def training_step(model: nn.Dense, optimizer: optim.SGD) -> tuple[mt.Value, list[float]]:
    """Record the loss on a tape, differentiate it, move the parameters; return both."""
    with mt.GradientTape() as tape:
        y_pred = [model([x])[0] for x in X]  # one sample at a time: [x] -> [y]
        loss = losses.mean_squared_error(Y, y_pred)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return loss, [g.data for g in gradients if g is not None]


def main() -> Result:
    """Take one step and print it, then train to convergence."""
    model = nn.Dense(1, 1)  # seeded: the same starting weight on every run
    weight, bias = model.trainable_variables  # kernel[0][0], then bias[0]: Keras's order
    initial_weight, initial_bias = weight.data, bias.data
    optimizer = optim.SGD(learning_rate=0.1)
    print(f"start: weight {weight.data:.4f}, bias {bias.data:.4f}")

    loss, gradients = training_step(model, optimizer)
    print(f"Loss: {loss.data:.4f}")
    print(f"Gradients: {[round(g, 4) for g in gradients]}   (d loss/d weight, d loss/d bias)")
    first_loss, first_gradients = loss.data, gradients

    steps = 1
    while loss.data >= TOLERANCE and steps < 10_000:
        loss, _ = training_step(model, optimizer)
        steps += 1
        if steps % 100 == 0:
            print(f"step {steps:4}: loss {loss.data:.3e}")
    print(f"after {steps} steps: weight {weight.data:.6f}, bias {bias.data:.6f}  (y = 2x)")
    return Result(
        initial_weight,
        initial_bias,
        first_loss,
        first_gradients,
        steps,
        weight.data,
        bias.data,
        loss.data,
    )


if __name__ == "__main__":
    main()

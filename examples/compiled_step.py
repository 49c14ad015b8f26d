"""Linear regression's training step, compiled with mt.function, and the code it runs.

The step of ``linear_regression.py`` (one Dense unit, mean squared error on x = [1, 2,
3], y = [2, 4, 6]) as a function that returns the loss and the gradients. Decorated
with ``mt.function``, its first call runs it while a tracer records every op, the
gradient's own sweep included, and writes the run as one Python function on floats;
every later call runs that function, reading the model's parameters afresh. The
optimizer moves the parameters outside the compiled function: a step that changes
them inside it could not be traced.

The script prints the generated code (the forward pass, then the sweep back, one line
per op, named as ``print(tape)`` names the nodes), trains to y = 2x with it, and checks
that the compiled training reaches the very parameters the recorded one does.

Run it:  python examples/compiled_step.py
"""

from __future__ import annotations

import sys
import time
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
STEPS = 500


@dataclass(frozen=True)
class Result:
    """What the run found, for the tests."""

    code: str  # the generated source
    weight: float
    bias: float
    final_loss: float
    same_as_recorded: bool  # the compiled training reached the recorded one's parameters
    compiled_seconds: float
    recorded_seconds: float


def loss_and_gradients(model: nn.Dense) -> tuple[mt.Value, list[mt.Value | None]]:
    """Record the loss on a tape and differentiate it: the part of a step to compile."""
    with mt.GradientTape() as tape:
        y_pred = [model([x])[0] for x in X]
        loss = losses.mean_squared_error(Y, y_pred)
    return loss, tape.gradient(loss, model.trainable_variables)


def train(step: object, model: nn.Dense) -> float:
    """``STEPS`` steps of SGD with ``step`` (compiled or not); the last loss."""
    optimizer = optim.SGD(learning_rate=0.1)
    loss = mt.Value(0.0)
    for _ in range(STEPS):
        loss, gradients = step(model)  # type: ignore[operator]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return loss.data


def main() -> Result:
    """Compile the step, show its code, train with it and without it."""
    compiled = mt.function(loss_and_gradients)
    model = nn.Dense(1, 1)  # seeded: the same start as the recorded run below
    code = compiled.code(model)  # traces the step (one run of it), then shows its code
    print(code)

    start = time.perf_counter()
    final_loss = train(compiled, model)
    compiled_seconds = time.perf_counter() - start

    recorded = nn.Dense(1, 1)
    start = time.perf_counter()
    train(loss_and_gradients, recorded)
    recorded_seconds = time.perf_counter() - start

    weight, bias = (p.data for p in model.trainable_variables)
    same = [p.data for p in model.trainable_variables] == [
        p.data for p in recorded.trainable_variables
    ]
    print(f"after {STEPS} compiled steps: weight {weight:.6f}, bias {bias:.6f}  (y = 2x)")
    print(
        f"compiled {compiled_seconds * 1e3:.0f} ms, recorded {recorded_seconds * 1e3:.0f} ms; "
        f"the same parameters to the last bit: {same}"
    )
    return Result(code, weight, bias, final_loss, same, compiled_seconds, recorded_seconds)


if __name__ == "__main__":
    main()

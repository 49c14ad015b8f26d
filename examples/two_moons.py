"""A neural network classifier on two moons, trained with a tape per epoch.

The data are generated here (two interleaving half-moons with noise, no
downloads). The model is a multilayer perceptron with two hidden layers of 8
tanh units and one output, a logit: positive means class 1. Each epoch runs the
model on every point inside one ``GradientTape``, computes the binary
cross-entropy from the logits, asks the tape for the gradient of every parameter
in one backward pass, and lets Adam move them.

``python -m microtape demo`` is the same training with a live progress line and a
picture of the decision boundary.

``main(compiled=True)`` runs the same loop with the step compiled by ``mt.function``:
it reaches the same parameters to the last bit, about twice as fast. The loss is written
with ops (``relu``, ``where``), not Python comparisons on Values, so the compiled step
meets no guard however the signs of the logits change (see docs/function.md).

Run it:  python examples/two_moons.py
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
from microtape.datasets import make_moons

SAMPLES = 100
EPOCHS = 60
SEED = 0


@dataclass(frozen=True)
class Result:
    """What the run found, for the tests."""

    accuracy: float  # on the training points, after training
    losses: list[float]  # one per epoch
    parameters: int
    seconds: float
    weights: list[float]  # every parameter after training


def accuracy(model: nn.Module, points: list[tuple[float, float]], labels: list[float]) -> float:
    """The fraction of points on the right side of the boundary (logit > 0 means class 1)."""
    right = sum((model(p)[0].data > 0.0) == (y == 1.0) for p, y in zip(points, labels, strict=True))
    return right / len(labels)


def loss_and_gradients(
    model: nn.MLP, points: list[tuple[float, float]], labels: list[float]
) -> tuple[mt.Value, list[mt.Value | None]]:
    """One epoch's loss over every point, recorded, and its gradient in every parameter."""
    with mt.GradientTape() as tape:
        logits = [model(p)[0] for p in points]
        loss = losses.binary_crossentropy(labels, logits, from_logits=True)
    return loss, tape.gradient(loss, model.trainable_variables)


def main(compiled: bool = False) -> Result:
    """Generate the data, train, and report the training accuracy."""
    points, labels = make_moons(SAMPLES, noise=0.1, seed=SEED)
    model = nn.MLP(2, [8, 8], 1, activation=mt.tanh, seed=SEED)
    optimizer = optim.Adam(learning_rate=0.1)
    step = mt.function(loss_and_gradients) if compiled else loss_and_gradients
    print(f"{SAMPLES} points; {model}: {model.count_params()} parameters")
    history = []
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        loss, gradients = step(model, points, labels)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        history.append(loss.data)
        if epoch % 10 == 0:
            print(f"epoch {epoch:3}: loss {loss.data:.4f}")
    seconds = time.perf_counter() - start
    final = accuracy(model, points, labels)
    print(f"training accuracy {final:.1%} after {EPOCHS} epochs ({seconds:.1f} s)")
    weights = [p.data for p in model.trainable_variables]
    return Result(final, history, model.count_params(), seconds, weights)


if __name__ == "__main__":
    main()

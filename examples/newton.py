"""Second derivatives from nested tapes, and Newton's method with them.

Newton's method minimises a function of one variable by jumping to the minimum of
its local parabola: ``x <- x - f'(x) / f''(x)``. The second derivative comes from
two tapes, one inside the other. The inner tape records ``f``; its gradient
``f'(x)`` is computed while the outer tape is recording, so the arithmetic of that
gradient is itself recorded, and the outer tape differentiates it again.

The function is ``f(x) = e^x - 2x``, whose minimum is at ``x = ln 2``. Newton gets
there to full float precision in a handful of steps; plain gradient descent needs
over a hundred.

Run it:  python examples/newton.py
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import microtape as mt
except ModuleNotFoundError:  # run from a clone without installing: use the package beside us
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import microtape as mt

TOLERANCE = 1e-12
"""Stop when a step moves x by less than this."""


@dataclass(frozen=True)
class Result:
    """What the run found, for the tests."""

    x: float  # where Newton's method stopped
    newton_steps: int
    descent_steps: int  # gradient descent's steps to the same tolerance
    # (x, f'(x), f''(x)) at each Newton step, as the tapes computed them
    history: list[tuple[float, float, float]]


def f(x: mt.Value) -> mt.Value:
    """The function to minimise: convex, with its minimum at ln 2."""
    return mt.exp(x) - 2.0 * x


def derivatives(x: mt.Value) -> tuple[float, float]:
    """``f'(x)`` and ``f''(x)``, from two nested tapes."""
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            y = f(x)
        # Still inside `outer`: the ops computing this gradient are recorded on it.
        first = inner.gradient(y, x)
    assert first is not None  # f uses x, so there is a gradient
    second = outer.gradient(first, x)
    assert second is not None
    return first.data, second.data


def main() -> Result:
    """Minimise f by Newton's method, then by gradient descent, and compare."""
    x = mt.Value(0.0)
    history: list[tuple[float, float, float]] = []
    print(" step   x                    f'(x)        f''(x)")
    for step in range(1, 100):
        d1, d2 = derivatives(x)
        history.append((x.data, d1, d2))
        print(f" {step:4}   {x.data:.15f}  {d1:+.3e}  {d2:.6f}")
        move = d1 / d2
        x.data = x.data - move
        if abs(move) < TOLERANCE:
            break
    newton_steps = step
    print(f"Newton: x = {x.data!r} after {newton_steps} steps (ln 2 = {math.log(2)!r})")

    # Gradient descent has to guess a step size. With 0.1 each step shrinks the
    # distance to the minimum by a fixed factor (about 1 - 0.1 f''(ln 2) = 0.8): it
    # creeps in, where Newton, scaling each step by 1 / f''(x), doubles its digits.
    z = mt.Value(0.0)
    descent_steps = 0
    while descent_steps < 10_000:
        with mt.GradientTape() as tape:
            y = f(z)
        g = tape.gradient(y, z)
        assert g is not None
        move = 0.1 * g.data
        z.data = z.data - move
        descent_steps += 1
        if abs(move) < TOLERANCE:
            break
    print(f"Gradient descent (step 0.1): x = {z.data!r} after {descent_steps} steps")
    return Result(x.data, newton_steps, descent_steps, history)


if __name__ == "__main__":
    main()

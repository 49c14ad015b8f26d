"""Seeing what the tape did: print(tape), tape.explain, and a picture of the graph.

One step of linear regression on one point, ``loss = (w * x + b - y) ** 2``,
recorded on a persistent tape so that it can still be inspected after
``gradient()``:

- ``print(tape)`` lists every recorded op: its inputs, output, local derivatives
  and, after the gradient call, each node's gradient;
- ``tape.explain(loss, source)`` says why a gradient is what it is, or why it is
  None;
- ``mt.to_dot(loss, tape)`` is the same graph as Graphviz DOT text, and
  ``mt.render_dot`` draws it (the README's picture is this graph).

Run it:  python examples/see_the_tape.py [PICTURE.svg]
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


@dataclass(frozen=True)
class Result:
    """What the run showed, for the tests."""

    summary: str  # print(tape)
    connected: str  # tape.explain(loss, w)
    unconnected: str  # tape.explain(loss, unused)
    dot: str  # mt.to_dot(loss, tape)
    gradients: list[float]  # d loss / d w, d loss / d b


def main(picture: Path | None = None) -> Result:
    """Record one loss, differentiate it, show it three ways; draw it to ``picture``."""
    w, b = mt.Value(0.5), mt.Value(0.0)
    unused = mt.Value(1.0)  # a parameter the loss never touches
    x, y = 3.0, 6.0
    with mt.GradientTape(persistent=True) as tape:
        prediction = w * x + b
        error = prediction - y
        loss = error * error
    gradients = tape.gradient(loss, [w, b], unconnected_gradients="zero")

    summary = str(tape)
    print(summary)
    connected = tape.explain(loss, w)
    print(f"\ntape.explain(loss, w):\n{textwrap.indent(connected, '  ')}")
    unconnected = tape.explain(loss, unused)
    print(f"\ntape.explain(loss, unused):\n{textwrap.indent(unconnected, '  ')}")
    dot = mt.to_dot(loss, tape)
    print(f"\nmt.to_dot(loss, tape):\n{dot}")
    if picture is not None:
        mt.render_dot(dot, picture)
        print(f"drew {picture}")
    tape.release()  # done inspecting: free the records
    return Result(summary, connected, unconnected, dot, [g.data for g in gradients])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)

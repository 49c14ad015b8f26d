"""How much work the heaviest tests do: the environment variable MICROTAPE_EXAMPLES_SCALE.

Unset, it is 1 and every test runs as written, as the native suite does in CI. CI also runs
tests/core under Pyodide (CPython compiled to WebAssembly, about 2.5 times slower) for
three Python versions, with the scale at 0.25 (``.ci/pyodide/run.sh``), so that all three
fit in CI's time. There:

- a property test draws that share of its examples (:func:`examples`): those that name
  their own ``max_examples``, and, through the hypothesis profile in ``tests/conftest.py``,
  those that take hypothesis's default of 100;
- a chain built to be far deeper than Python's recursion limit is that share as long, but
  never shorter than the 100,000 ops the other scale tests use at full length
  (:func:`length`).

Every test still runs, with every assertion; only how many points and how long a graph
change. A scale above 1 looks harder than the suite as written.
"""

from __future__ import annotations

import math
import os
from typing import Final

VARIABLE: Final = "MICROTAPE_EXAMPLES_SCALE"


def _read() -> float:
    text = os.environ.get(VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and scale > 0.0):
        raise ValueError(f"{VARIABLE} must be a positive number, got {text!r}")
    return scale


SCALE: Final = _read()
"""The share of examples and of length the heavy tests use (1: as written)."""

DEEP: Final = 100_000
"""The shortest chain that a test meant to go far past the recursion limit is cut to."""


def examples(n: int) -> int:
    """``n`` examples of a property test, scaled; never fewer than 10 (or ``n``)."""
    return max(min(n, 10), round(n * SCALE))


def length(n: int) -> int:
    """A deep chain of ``n`` ops, scaled; never shorter than :data:`DEEP` (or ``n``)."""
    return max(min(n, DEEP), round(n * SCALE))

"""The two reference workloads, and the engines they run on.

The workloads every engine runs, with the same shapes and the same data:

- ``mlp``: a multilayer perceptron 2-16-16-1 with ReLU on both hidden layers and a
  linear output, and the mean squared error of its output over N points (N=100 by
  default). The points are drawn uniformly from the square [-1, 1]^2 by
  ``random.Random(0)`` and labelled +1 where x*y > 0, -1 elsewhere. The weights are drawn
  uniformly from [-1, 1] by ``random.Random(1)`` (layer by layer, row by row), the
  biases start at zero. Each point adds ``(o - y) ** 2`` to the loss, and the sum is
  multiplied by ``1.0 / N`` at the end.
- ``chain``: ``y = relu(y * a + b)`` repeated DEPTH times (100,000 by default), from
  ``y = 0.5`` with ``a = 0.999`` and ``b = 0.001``: one long path, three ops per step.
  The sources differentiated against are ``a`` and ``b``.

Each workload is written once, duck-typed over the engines' value types (which share no
base class, hence the ``Any``). An engine says how it records a graph, sweeps it
backwards and counts its records: microtape (a ``GradientTape`` and ``tape.gradient``),
the floor (``floor.py``) and, when it is installed, micrograd 0.1.0 (``output.backward()``).
Per-node figures divide by the records on microtape's tape, for every engine. The smaller
figures' workloads are in ``probes.py``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import microtape as mt

from . import floor

__all__ = [
    "ENGINES",
    "MICROTAPE",
    "Build",
    "Engine",
    "Recording",
    "chain_build",
    "chain_step",
    "count_records",
    "data",
    "make_params",
    "micrograd_engine",
    "mlp_build",
    "mlp_loss",
    "mlp_step",
]

# ---- the reference workloads ------------------------------------------------------------


def data(n: int) -> tuple[list[tuple[float, float]], list[float]]:
    """N points in the square [-1, 1]^2, labelled +1 in the quadrants where x*y > 0."""
    rng = random.Random(0)
    xs = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(n)]
    ys = [1.0 if a * b > 0 else -1.0 for a, b in xs]
    return xs, ys


def make_params(rng: random.Random, V: Callable[[float], Any]) -> tuple[Any, ...]:
    """The MLP's weights (uniform in [-1, 1]) and biases (zero), as values of one engine."""

    def mat(n: int, m: int) -> list[list[Any]]:
        return [[V(rng.uniform(-1, 1)) for _ in range(m)] for _ in range(n)]

    def vec(n: int) -> list[Any]:
        return [V(0.0) for _ in range(n)]

    return (mat(16, 2), vec(16), mat(16, 16), vec(16), mat(1, 16), vec(1))


def mlp_loss(
    params: tuple[Any, ...],
    xs: list[tuple[float, float]],
    ys: list[float],
    relu: Callable[[Any], Any],
    V: Callable[[float], Any],
) -> Any:
    """Mean squared error of the MLP 2-16-16-1 over the points."""
    W1, b1, W2, b2, W3, b3 = params
    loss = V(0.0)
    for x, y in zip(xs, ys, strict=True):
        h = [
            relu(sum((w * xi for w, xi in zip(row, x, strict=True)), b))
            for row, b in zip(W1, b1, strict=True)
        ]
        h = [
            relu(sum((w * hi for w, hi in zip(row, h, strict=True)), b))
            for row, b in zip(W2, b2, strict=True)
        ]
        o = sum((w * hi for w, hi in zip(W3[0], h, strict=True)), b3[0])
        d = o - y
        loss = loss + d * d
    return loss * (1.0 / len(xs))


# ---- engines: how each records, sweeps and counts ---------------------------------------

Build = Callable[[], tuple[Any, Any]]
"""Builds one workload's graph; returns (output, sources to differentiate against)."""


@dataclass
class Recording:
    """A recorded graph, kept alive until it is swept or dropped."""

    output: Any
    sources: Any
    tape: mt.GradientTape | None = None


class Engine(ABC):
    """One engine: its value type, its relu, and how it records, sweeps and forgets."""

    name: str

    @abstractmethod
    def value(self, x: float) -> Any:
        """A leaf holding ``x``."""

    @abstractmethod
    def relu(self, x: Any) -> Any:
        """The engine's relu of ``x``."""

    @abstractmethod
    def record(self, build: Build) -> Recording:
        """Run ``build`` so that the engine records its graph."""

    @abstractmethod
    def sweep(self, recording: Recording) -> None:
        """One reverse pass from the output to the sources."""

    def records(self, recording: Recording) -> int | None:
        """How many records the engine holds for the graph; None if it keeps no list."""
        return None

    def drop(self, recording: Recording) -> None:
        """Forget the graph (the floor also empties its global list)."""
        recording.tape = recording.output = recording.sources = None


class _MicrotapeEngine(Engine):
    """Record inside a GradientTape; sweep with ``tape.gradient(output, sources)``."""

    name = "microtape"

    def value(self, x: float) -> Any:
        return mt.Value(x)

    def relu(self, x: Any) -> Any:
        return mt.relu(x)

    def record(self, build: Build) -> Recording:
        with mt.GradientTape() as tape:
            output, sources = build()
        return Recording(output, sources, tape)

    def sweep(self, recording: Recording) -> None:
        assert recording.tape is not None
        recording.tape.gradient(recording.output, recording.sources)

    def records(self, recording: Recording) -> int | None:
        assert recording.tape is not None
        return count_records(recording.tape)


class _FloorEngine(Engine):
    """The floor probe: records go to the global list, ``floor_backward`` sweeps them."""

    name = "floor"

    def value(self, x: float) -> Any:
        return floor.FloorValue(x)

    def relu(self, x: Any) -> Any:
        return x.relu()

    def record(self, build: Build) -> Recording:
        floor.RECORDS.clear()
        output, sources = build()
        return Recording(output, sources)

    def sweep(self, recording: Recording) -> None:
        floor.floor_backward(recording.output)

    def records(self, recording: Recording) -> int | None:
        return len(floor.RECORDS)

    def drop(self, recording: Recording) -> None:
        floor.RECORDS.clear()
        super().drop(recording)


class _MicrogradEngine(Engine):
    """micrograd: the output holds the graph; ``output.backward()`` sweeps it."""

    name = "micrograd"

    def __init__(self, value_type: Callable[[float], Any]) -> None:
        self._value = value_type

    def value(self, x: float) -> Any:
        return self._value(x)

    def relu(self, x: Any) -> Any:
        return x.relu()

    def record(self, build: Build) -> Recording:
        output, sources = build()
        return Recording(output, sources)

    def sweep(self, recording: Recording) -> None:
        recording.output.backward()


def count_records(tape: mt.GradientTape) -> int:
    """The number of records on ``tape``, counted without building them (its public view).

    A tape that holds no records (released, or used up by a non-persistent gradient) is
    an error here: every tape the benchmark counts has just recorded a workload.
    """
    count = tape.view().count
    assert count > 0, "the tape holds no records: released, used up, or never recorded"
    return count


def micrograd_engine() -> Engine | None:
    """micrograd 0.1.0 as an engine, or None if it is not installed."""
    try:
        from micrograd.engine import Value as MicrogradValue
    except ImportError:
        return None
    return _MicrogradEngine(MicrogradValue)


MICROTAPE: Final[Engine] = _MicrotapeEngine()
ENGINES: Final[tuple[Engine, ...]] = (MICROTAPE, _FloorEngine())
"""The engines that are always there; micrograd joins them when it is installed."""


def mlp_build(engine: Engine, points: int) -> Build:
    """The mlp workload for ``engine``: data and parameters made once, the loss per call."""
    xs, ys = data(points)
    params = make_params(random.Random(1), engine.value)
    relu, value = engine.relu, engine.value
    return lambda: (mlp_loss(params, xs, ys, relu, value), params)


def chain_build(engine: Engine, depth: int) -> Build:
    """The chain workload for ``engine``: ``y = relu(y * a + b)``, ``depth`` times."""
    relu, value = engine.relu, engine.value

    def build() -> tuple[Any, Any]:
        y, a, b = value(0.5), value(0.999), value(0.001)
        for _ in range(depth):
            y = relu(y * a + b)
        return y, [a, b]

    return build


# ---- the workloads as one function each: what mt.function compiles -------------------------

Step = Callable[[], tuple[mt.Value, list[mt.Value | None]]]
"""Records a workload on a new tape and differentiates it: (output, gradients)."""


def mlp_step(points: int) -> Step:
    """The mlp workload as a training step: the loss and the gradient of every parameter."""
    xs, ys = data(points)
    params = make_params(random.Random(1), mt.Value)
    flat = [
        v for layer in params for row in layer for v in (row if isinstance(row, list) else [row])
    ]

    def step() -> tuple[mt.Value, list[mt.Value | None]]:
        with mt.GradientTape() as tape:
            loss = mlp_loss(params, xs, ys, mt.relu, mt.Value)
        return loss, tape.gradient(loss, flat)

    return step


def chain_step(depth: int) -> Step:
    """The chain workload as one function: its output, and its gradient in ``a`` and ``b``."""
    a, b = mt.Value(0.999), mt.Value(0.001)

    def step() -> tuple[mt.Value, list[mt.Value | None]]:
        y = mt.Value(0.5)
        with mt.GradientTape() as tape:
            for _ in range(depth):
                y = mt.relu(y * a + b)
        return y, tape.gradient(y, [a, b])

    return step

"""How the benchmark measures: timed runs, their statistics, memory, the kernel's share.

A timed run starts with ``gc.collect()`` and leaves the collector on; the timed region
holds only what the figure claims (recording and the reverse sweep, or the arithmetic,
or the import), never counting or tracing. A figure is repeated ``settings.repeat``
times and kept as its minimum and median. Memory is read once with tracemalloc:
allocation counts do not change between runs. Also here: the run's settings and the
description of the machine the figures come from.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import microtape as mt

from . import workloads as w

__all__ = [
    "Report",
    "Settings",
    "Stat",
    "held_and_counted",
    "machine",
    "ratio",
    "record_and_sweep",
    "stat",
    "timed",
    "timed_keeping",
    "tracing",
]

Stat = dict[str, float]
"""A repeated figure: ``{"min": ..., "median": ...}``."""

Report = dict[str, Any]
"""One section of the report, shaped as JSON."""


@dataclass(frozen=True)
class Settings:
    """The sizes of one benchmark run."""

    quick: bool
    repeat: int
    points: int
    depth: int
    deep: int
    loops: int

    @property
    def shallow(self) -> int:
        """The short chain whose time per node the deep chain is compared with."""
        return max(1, self.deep // 100)


def machine() -> Report:
    """The machine and interpreter the figures come from."""
    processor = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    processor = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "processor": processor or "unknown",
        "machine": platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "microtape": mt.__version__,
    }


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes, after a full collection."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_keeping(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes, after a full collection; what it returns is
    dropped after the clock, so freeing it is not timed."""
    gc.collect()
    start = time.perf_counter()
    kept = fn()
    elapsed = time.perf_counter() - start
    del kept
    return elapsed


def stat(samples: Sequence[float], scale: float = 1.0) -> Stat:
    """The minimum and median of ``samples``, each multiplied by ``scale``."""
    return {"min": min(samples) * scale, "median": statistics.median(samples) * scale}


def ratio(numerator: Stat, denominator: Stat) -> Stat:
    """Minimum over minimum, median over median."""
    return {key: numerator[key] / denominator[key] for key in ("min", "median")}


@contextmanager
def tracing() -> Iterator[Callable[[], int]]:
    """Trace allocations; yield a function giving the bytes held now beyond the start."""
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield lambda: tracemalloc.get_traced_memory()[0] - base
    finally:
        if started:
            tracemalloc.stop()
        gc.collect()  # micrograd's graphs are cycles: free them now, not during a timed run


def record_and_sweep(
    engine: w.Engine, build: w.Build, usage: list[tuple[float, int]] | None = None
) -> float:
    """Seconds for one record plus reverse sweep.

    What an engine frees inside its sweep is timed (microtape and the floor free their
    records there); whatever is left is dropped after the clock. Given ``usage``, also
    appends the kernel seconds and page faults of the timed region, where the system
    reports them.
    """
    gc.collect()
    before = _usage() if usage is not None else None
    start = time.perf_counter()
    recording = engine.record(build)
    engine.sweep(recording)
    elapsed = time.perf_counter() - start
    after = _usage() if usage is not None else None
    if usage is not None and before is not None and after is not None:
        usage.append((after[0] - before[0], after[1] - before[1]))
    engine.drop(recording)
    return elapsed


def held_and_counted(engine: w.Engine, build: w.Build, traced: bool) -> tuple[int, int | None]:
    """Record once, untimed: the bytes held while the engine holds the graph (0 unless
    ``traced``), and the engine's record count (counted after the memory is read)."""
    if traced:
        with tracing() as held:
            recording = engine.record(build)
            size = held()
    else:
        recording, size = engine.record(build), 0
    count = engine.records(recording)
    engine.drop(recording)
    gc.collect()
    return size, count


def _usage() -> tuple[float, int] | None:
    """Kernel (system) seconds and minor page faults of this process so far, or None
    where the ``resource`` module does not exist."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_stime, usage.ru_minflt

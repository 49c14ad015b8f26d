"""How ``microtape bench`` measures: timed runs, tracemalloc readings, fresh interpreters.

Each public function here measures one section of the report and returns it shaped
as JSON. Timed runs start with ``gc.collect()`` and leave the collector on, as the
reference does; the timed region holds only what the figure claims (recording and
the reverse sweep, or the arithmetic, or the import), never counting or tracing. A
figure is repeated ``settings.repeat`` times and kept as its minimum and median.
Memory is read once with tracemalloc: allocation counts do not change between runs.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import microtape as mt

from . import _bench_probes as probes
from . import _bench_workloads as w

__all__ = [
    "Report",
    "Settings",
    "Stat",
    "arithmetic",
    "deep_chain",
    "import_time",
    "machine",
    "memory",
    "plugin_ops",
    "second_order",
    "workloads",
]

Stat = dict[str, float]
"""A repeated figure: ``{"min": ..., "median": ...}``."""

Report = dict[str, Any]
"""One section of the report, shaped as JSON."""

SECOND_ORDER_VARIABLES: Final = 10


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


# ---- measuring -----------------------------------------------------------------------------


def _timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes, after a full collection (as the reference does)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _stat(samples: Sequence[float], scale: float = 1.0) -> Stat:
    return {"min": min(samples) * scale, "median": statistics.median(samples) * scale}


def _ratio(numerator: Stat, denominator: Stat) -> Stat:
    return {key: numerator[key] / denominator[key] for key in ("min", "median")}


@contextmanager
def _tracing() -> Iterator[Callable[[], int]]:
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


def _record_and_sweep(
    engine: w.Engine, build: w.Build, usage: list[tuple[float, int]] | None = None
) -> float:
    """Seconds for one record plus reverse sweep.

    What an engine frees inside its sweep is timed (microtape and the floor free their
    records there, as in the reference); whatever is left is dropped after the clock.
    Given ``usage``, also appends the kernel seconds and page faults of the timed
    region, where the system reports them.
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


def _held_and_counted(engine: w.Engine, build: w.Build, traced: bool) -> tuple[int, int | None]:
    """Record once, untimed: the bytes held while the engine holds the graph (0 unless
    ``traced``), and the engine's record count (counted after the memory is read)."""
    if traced:
        with _tracing() as held:
            recording = engine.record(build)
            size = held()
    else:
        recording, size = engine.record(build), 0
    count = engine.records(recording)
    engine.drop(recording)
    gc.collect()
    return size, count


# ---- the sections --------------------------------------------------------------------------


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


def workloads(settings: Settings) -> Report:
    """The reference workloads on every engine: time, time per node, bytes held per node."""
    engines = list(w.ENGINES)
    micrograd = w.micrograd_engine()
    if micrograd is not None:
        engines.append(micrograd)
    makers: dict[str, Callable[[w.Engine], w.Build]] = {
        "mlp": lambda engine: w.mlp_build(engine, settings.points),
        "chain": lambda engine: w.chain_build(engine, settings.depth),
    }
    report: Report = {}
    for name, make in makers.items():
        builds = {engine.name: make(engine) for engine in engines}
        held: dict[str, int] = {}
        records: dict[str, int | None] = {}
        for engine in engines:
            held[engine.name], records[engine.name] = _held_and_counted(
                engine, builds[engine.name], traced=True
            )
        nodes = records["microtape"]
        assert nodes, "the microtape tape recorded nothing"
        samples: dict[str, list[float]] = {engine.name: [] for engine in engines}
        status = dict.fromkeys(samples, "ok")
        for _ in range(settings.repeat):  # interleaved, so that drift hits every engine alike
            for engine in engines:
                if status[engine.name] != "ok":
                    continue
                try:
                    samples[engine.name].append(_record_and_sweep(engine, builds[engine.name]))
                except RecursionError:
                    status[engine.name] = "RecursionError"
                    gc.collect()
        results: Report = {}
        for engine in engines:
            entry: Report = {"status": status[engine.name]}
            if samples[engine.name]:
                entry["ms"] = _stat(samples[engine.name], 1e3)
                entry["ns_per_node"] = _stat(samples[engine.name], 1e9 / nodes)
            if records[engine.name] is not None:
                entry["records"] = records[engine.name]
            entry["bytes_per_node"] = held[engine.name] / nodes
            results[engine.name] = entry
        if micrograd is None:
            results["micrograd"] = {"status": "not installed"}
        ratios: Report = {}
        for slower, faster in (("micrograd", "microtape"), ("microtape", "floor")):
            if "ms" in results[slower] and "ms" in results[faster]:
                ratios[f"{slower}/{faster}"] = _ratio(results[slower]["ms"], results[faster]["ms"])
        report[name] = {"nodes": nodes, "engines": results, "ratios": ratios}
    return report


def second_order(settings: Settings) -> Report:
    """A Hessian through nested tapes against one first-order gradient of the same function."""
    xs = [mt.Value(0.3 + 0.1 * i) for i in range(SECOND_ORDER_VARIABLES)]
    counts: dict[str, int] = {}

    def gradient(count: bool = False) -> object:
        with mt.GradientTape() as tape:
            y = probes.second_order_function(xs)
        if count:
            counts["gradient"] = w.count_records(tape)
        return tape.gradient(y, xs)

    def hessian(count: bool = False) -> object:
        with mt.GradientTape() as outer:
            with mt.GradientTape() as inner:
                y = probes.second_order_function(xs)
            g = inner.gradient(y, xs, unconnected_gradients="zero")
        if count:
            counts["hessian"] = w.count_records(outer)
        return outer.jacobian(g, xs)

    gradient(count=True)
    hessian(count=True)

    def loop(fn: Callable[[], object]) -> Callable[[], None]:
        def many() -> None:
            for _ in range(settings.loops):
                fn()

        return many

    gradient_runs: list[float] = []
    hessian_runs: list[float] = []
    for _ in range(settings.repeat):
        gradient_runs.append(_timed(loop(gradient)))
        hessian_runs.append(_timed(loop(hessian)))
    per_call = 1e6 / settings.loops
    gradient_us = _stat(gradient_runs, per_call)
    hessian_us = _stat(hessian_runs, per_call)
    return {
        "variables": len(xs),
        "gradient_records": counts["gradient"],
        "hessian_records": counts["hessian"],
        "gradient_us": gradient_us,
        "hessian_us": hessian_us,
        "ratio": _ratio(hessian_us, gradient_us),
    }


def arithmetic(settings: Settings) -> Report:
    """Value arithmetic outside any tape against the same arithmetic on floats."""
    steps = settings.depth
    ops = steps * probes.ARITHMETIC_OPS_PER_STEP
    values = (mt.Value(0.5), mt.Value(0.999), mt.Value(0.001))
    value_runs: list[float] = []
    float_runs: list[float] = []
    for _ in range(settings.repeat):
        value_runs.append(_timed(lambda: probes.arithmetic(*values, steps)))
        float_runs.append(_timed(lambda: probes.arithmetic(0.5, 0.999, 0.001, steps)))
    value_ns = _stat(value_runs, 1e9 / ops)
    float_ns = _stat(float_runs, 1e9 / ops)
    return {
        "ops": ops,
        "value_ns_per_op": value_ns,
        "float_ns_per_op": float_ns,
        "ratio": _ratio(value_ns, float_ns),
    }


_NEW_MODULES: Final = (
    "import sys; before = set(sys.modules); import microtape; "
    "print('\\n'.join(sorted(set(sys.modules) - before)))"
)


def import_time(settings: Settings) -> Report:
    """What ``import microtape`` adds to the start of a fresh interpreter.

    Measured as an installed package runs: from bytecode caches, written beforehand into
    a temporary folder (``PYTHONPYCACHEPREFIX``, so the source tree is not touched) even
    where the environment sets ``PYTHONDONTWRITEBYTECODE``. The time with no cache at all
    (compiling every module from source) is reported beside it.
    """
    with tempfile.TemporaryDirectory(prefix="microtape-bench-pyc-") as cache:
        cached = _import_time(settings, {"PYTHONPYCACHEPREFIX": cache}, warm=True)
    source = _import_time(settings, {"PYTHONDONTWRITEBYTECODE": "1"}, warm=False)
    cached["source_added_ms"] = source["added_ms"]
    return cached


def _import_time(settings: Settings, extra: dict[str, str], *, warm: bool) -> Report:
    # The child interpreters must import this very package, whatever the working directory.
    package_root = str(Path(mt.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))

    def python(*arguments: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *arguments], env=env, capture_output=True, text=True, check=True
        )
        return time.perf_counter() - start, done

    if warm:
        python("-c", "import microtape")  # write the bytecode caches outside the timed runs
    bare: list[float] = []
    loaded: list[float] = []
    importtime: list[float] = []
    for _ in range(settings.repeat):
        bare.append(python("-c", "pass")[0])
        loaded.append(python("-c", "import microtape")[0])
        stderr = python("-X", "importtime", "-c", "import microtape")[1].stderr
        importtime.append(_cumulative_us(stderr, "microtape"))
    modules = python("-c", _NEW_MODULES)[1].stdout.split()
    pass_ms = _stat(bare, 1e3)
    import_ms = _stat(loaded, 1e3)
    return {
        "pass_ms": pass_ms,
        "import_ms": import_ms,
        "added_ms": {key: import_ms[key] - pass_ms[key] for key in ("min", "median")},
        "importtime_us": _stat(importtime),
        "modules": len(modules),
        "sympy": "sympy" in modules,
        "importlib.metadata": "importlib.metadata" in modules,
    }


def _cumulative_us(importtime: str, module: str) -> float:
    """The cumulative microseconds ``-X importtime`` gives for the top-level ``module``."""
    for line in importtime.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return float(parts[1])
    raise RuntimeError(f"bench: no import time for {module!r} in:\n{importtime}")


def deep_chain(settings: Settings) -> Report:
    """microtape's time per node on a very deep chain against a chain 100 times shorter.

    Measured twice: with Python's cycle collector as configured, and with it paused
    for the timed run. The collector rescans every tracked object a few times while a
    heap grows to millions of them (a Value, like any object with ``__slots__``, is
    tracked); the second figure separates that cost from the engine's own. The tape
    records node numbers, not Values (see ``_record.py``), so the two should agree.

    Where the operating system reports it (``resource``), each run as configured also
    reads the kernel's share of its time and its page faults: a deep graph needs
    hundreds of megabytes of fresh memory, and the kernel maps each new page on its
    first touch, a cost per node the shallow chain, reusing freed memory, mostly avoids.
    """
    engine = w.MICROTAPE
    depths = {"shallow": settings.shallow, "deep": settings.deep}
    builds = {key: w.chain_build(engine, depth) for key, depth in depths.items()}
    runs: dict[str, list[float]] = {key: [] for key in depths}
    paused: dict[str, list[float]] = {key: [] for key in depths}
    usage: dict[str, list[tuple[float, int]]] = {key: [] for key in depths}
    nodes: dict[str, int] = {}
    try:
        for key in depths:
            nodes[key] = _held_and_counted(engine, builds[key], traced=False)[1] or 0
        for _ in range(settings.repeat):
            for key in depths:
                runs[key].append(_record_and_sweep(engine, builds[key], usage[key]))
                gc.disable()
                try:
                    paused[key].append(_record_and_sweep(engine, builds[key]))
                finally:
                    gc.enable()
    except RecursionError:
        return {"status": "RecursionError", **{key: {"depth": d} for key, d in depths.items()}}
    report: Report = {"status": "ok"}
    for key, depth in depths.items():
        kernel = [seconds for seconds, _ in usage[key]]
        faults = [count for _, count in usage[key]]
        report[key] = {
            "depth": depth,
            "nodes": nodes[key],
            "ns_per_node": _stat(runs[key], 1e9 / nodes[key]),
            "gc_paused_ns_per_node": _stat(paused[key], 1e9 / nodes[key]),
            # None where the system does not say (no `resource` module, as on Windows)
            "kernel_ns_per_node": _stat(kernel, 1e9 / nodes[key]) if kernel else None,
            "faults_per_1000_nodes": _stat(faults, 1e3 / nodes[key]) if faults else None,
        }
    report["ratio"] = _ratio(report["deep"]["ns_per_node"], report["shallow"]["ns_per_node"])
    report["gc_paused_ratio"] = _ratio(
        report["deep"]["gc_paused_ns_per_node"], report["shallow"]["gc_paused_ns_per_node"]
    )
    return report


def _usage() -> tuple[float, int] | None:
    """Kernel (system) seconds and minor page faults of this process so far, or None
    where the ``resource`` module does not exist."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_stime, usage.ru_minflt


def plugin_ops(settings: Settings) -> Report:
    """Chains of one op each: plugin ops (built with mt.Op) against built-ins of their arity."""
    n = settings.depth
    chains: dict[str, dict[str, w.Build]] = {
        "unary": {
            "plugin bench_sinh": probes.unary_chain_build(probes.bench_sinh, n),
            "sin": probes.unary_chain_build(mt.sin, n),
            "tanh": probes.unary_chain_build(mt.tanh, n),
        },
        "binary": {
            "plugin bench_hypot": probes.binary_chain_build(probes.bench_hypot, n),
            "plugin bench_mul": probes.binary_chain_build(probes.bench_mul, n),
            'op("mul")': probes.binary_chain_build(mt.op("mul"), n),
            "a * b": probes.product_chain_build(n),
        },
    }
    report: Report = {"nodes": n}
    for arity, variants in chains.items():
        runs: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(settings.repeat):
            for name, build in variants.items():
                runs[name].append(_record_and_sweep(w.MICROTAPE, build))
        ns = {name: _stat(samples, 1e9 / n) for name, samples in runs.items()}
        plugins = [name for name in ns if name.startswith("plugin ")]
        builtins = [name for name in ns if name not in plugins]
        report[arity] = {
            "ns_per_node": ns,
            "ratios": {
                f"{plugin}/{builtin}": _ratio(ns[plugin], ns[builtin])
                for plugin in plugins
                for builtin in builtins
            },
        }
    return report


def memory(settings: Settings) -> Report:
    """The bytes a tape holds, and what is left after release() or a non-persistent gradient."""
    depth = settings.depth
    report: Report = {"depth": depth}
    with _tracing() as held:
        tape, y, sources = _traced_chain(depth, persistent=True)
        tape.gradient(y, sources)
        before = held()
        report["nodes"] = w.count_records(tape)  # after the reading: it may build a list
        tape.release()
        report["persistent"] = _returned(before, held)
        del tape, y, sources
        tape, y, sources = _traced_chain(depth, persistent=False)
        before = held()
        tape.gradient(y, sources)
        report["non_persistent"] = _returned(before, held)
    return report


def _returned(before: int, held: Callable[[], int]) -> Report:
    """What is left of ``before`` bytes. The collection first empties CPython's free lists
    (which keep up to thousands of small tuples traced); the objects it finds unreachable
    are cycles that reference counting alone would not have freed."""
    unreachable = gc.collect()
    return {"held_bytes": before, "still_held_bytes": held(), "cycle_objects": unreachable}


def _traced_chain(depth: int, persistent: bool) -> tuple[mt.GradientTape, mt.Value, list[mt.Value]]:
    """The chain workload recorded on a tape; returns the tape, the output and the sources."""
    y, a, b = mt.Value(0.5), mt.Value(0.999), mt.Value(0.001)
    with mt.GradientTape(persistent=persistent) as tape:
        for _ in range(depth):
            y = mt.relu(y * a + b)
    return tape, y, [a, b]

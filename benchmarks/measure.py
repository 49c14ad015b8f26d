"""What the benchmark measures: one function per section of the report.

Each function takes the run's ``Settings`` and returns its section shaped as JSON; the
timing and memory instruments they use are in ``instruments.py``, the workloads in
``workloads.py`` and ``probes.py``, and the import section in ``import_time.py``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.util
import io
import random
import sys
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Final

import microtape as mt

from . import probes
from . import workloads as w
from .import_time import import_time
from .instruments import (
    Report,
    Settings,
    held_and_counted,
    ratio,
    record_and_sweep,
    stat,
    timed,
    timed_keeping,
    tracing,
)

__all__ = [
    "arithmetic",
    "compiled",
    "deep_chain",
    "first_call",
    "forward_mode",
    "import_time",
    "memory",
    "plugin_ops",
    "second_order",
    "workloads",
]

SECOND_ORDER_VARIABLES: Final = 10

FORWARD_WORKLOADS: Final = ("mlp", "chain")


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
            held[engine.name], records[engine.name] = held_and_counted(
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
                    samples[engine.name].append(record_and_sweep(engine, builds[engine.name]))
                except RecursionError:
                    status[engine.name] = "RecursionError"
                    gc.collect()
        results: Report = {}
        for engine in engines:
            entry: Report = {"status": status[engine.name]}
            if samples[engine.name]:
                entry["ms"] = stat(samples[engine.name], 1e3)
                entry["ns_per_node"] = stat(samples[engine.name], 1e9 / nodes)
            if records[engine.name] is not None:
                entry["records"] = records[engine.name]
            entry["bytes_per_node"] = held[engine.name] / nodes
            results[engine.name] = entry
        if micrograd is None:
            results["micrograd"] = {"status": "not installed"}
        ratios: Report = {}
        for slower, faster in (("micrograd", "microtape"), ("microtape", "floor")):
            if "ms" in results[slower] and "ms" in results[faster]:
                ratios[f"{slower}/{faster}"] = ratio(results[slower]["ms"], results[faster]["ms"])
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

    direction = [1.0 if i % 2 == 0 else -0.5 for i in range(len(xs))]

    def hvp() -> object:
        with mt.ForwardAccumulator(xs, direction) as acc:
            with mt.GradientTape() as tape:
                y = probes.second_order_function(xs)
            g = tape.gradient(y, xs)
        return acc.jvp(g)

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
    hvp_runs: list[float] = []
    for _ in range(settings.repeat):
        gradient_runs.append(timed(loop(gradient)))
        hessian_runs.append(timed(loop(hessian)))
        hvp_runs.append(timed(loop(hvp)))
    per_call = 1e6 / settings.loops
    gradient_us = stat(gradient_runs, per_call)
    hessian_us = stat(hessian_runs, per_call)
    hvp_us = stat(hvp_runs, per_call)
    return {
        "variables": len(xs),
        "gradient_records": counts["gradient"],
        "hessian_records": counts["hessian"],
        "gradient_us": gradient_us,
        "hessian_us": hessian_us,
        "ratio": ratio(hessian_us, gradient_us),
        "hvp_us": hvp_us,
        "hvp_ratio": ratio(hvp_us, gradient_us),
    }


def forward_mode(settings: Settings) -> Report:
    """Forward mode against recording, per node, on the reference workloads.

    Each workload runs inside a ``ForwardAccumulator`` along a direction in which every
    input moves, then ``acc.jvp(output)``; inside a ``GradientTape`` (recording only:
    what the forward pass costs in reverse mode before any sweep); and inside a tape
    followed by ``tape.gradient`` (the workloads figure). Runs are interleaved. Each
    timed region holds the pass alone: the accumulator or the tape is dropped after the
    clock. Also the bytes an accumulator holds per node while it and the output are
    alive, and what is left once they are dropped.
    """
    passes = {
        "mlp": probes.mlp_pass(settings.points),
        "chain": probes.chain_pass(settings.depth),
    }
    report: Report = {}
    for name in FORWARD_WORKLOADS:
        sources, run = passes[name]
        direction = [1.0] * len(sources)

        def record(run: Callable[[], mt.Value] = run) -> object:
            with mt.GradientTape() as tape:
                run()
            return tape

        def forward(
            run: Callable[[], mt.Value] = run,
            sources: list[mt.Value] = sources,
            direction: list[float] = direction,
        ) -> object:
            with mt.ForwardAccumulator(sources, direction) as acc:
                out = run()
            acc.jvp(out)
            return acc

        def gradient(
            run: Callable[[], mt.Value] = run, sources: list[mt.Value] = sources
        ) -> object:
            with mt.GradientTape() as tape:
                out = run()
            tape.gradient(out, sources)
            return tape

        with mt.GradientTape() as counted:
            run()
        nodes = w.count_records(counted)
        del counted
        with tracing() as held:
            acc = mt.ForwardAccumulator(sources, direction)
            with acc:
                out = run()
            size = held()
            del acc, out
            gc.collect()
            left = held()
        runs: dict[str, list[float]] = {"record": [], "forward": [], "gradient": []}
        for _ in range(settings.repeat):
            runs["record"].append(timed_keeping(record))
            runs["forward"].append(timed_keeping(forward))
            runs["gradient"].append(timed_keeping(gradient))
        ns = {key: stat(samples, 1e9 / nodes) for key, samples in runs.items()}
        report[name] = {
            "nodes": nodes,
            "record_ns_per_node": ns["record"],
            "forward_ns_per_node": ns["forward"],
            "gradient_ns_per_node": ns["gradient"],
            "ratio": ratio(ns["forward"], ns["record"]),
            "gradient_ratio": ratio(ns["forward"], ns["gradient"]),
            "bytes_per_node": size / nodes,
            "still_held_bytes": left,
        }
    return report


def arithmetic(settings: Settings) -> Report:
    """Value arithmetic outside any tape against the same arithmetic on floats."""
    steps = settings.depth
    ops = steps * probes.ARITHMETIC_OPS_PER_STEP
    values = (mt.Value(0.5), mt.Value(0.999), mt.Value(0.001))
    value_runs: list[float] = []
    float_runs: list[float] = []
    for _ in range(settings.repeat):
        value_runs.append(timed(lambda: probes.arithmetic(*values, steps)))
        float_runs.append(timed(lambda: probes.arithmetic(0.5, 0.999, 0.001, steps)))
    value_ns = stat(value_runs, 1e9 / ops)
    float_ns = stat(float_runs, 1e9 / ops)
    return {
        "ops": ops,
        "value_ns_per_op": value_ns,
        "float_ns_per_op": float_ns,
        "ratio": ratio(value_ns, float_ns),
    }


def deep_chain(settings: Settings) -> Report:
    """microtape's time per node on a very deep chain against a chain 100 times shorter.

    Measured twice: with Python's cycle collector as configured, and with it paused
    for the timed run. The collector rescans every tracked object a few times while a
    heap grows to millions of them (a Value, like any object with ``__slots__``, is
    tracked); the second figure separates that cost from the engine's own. A tape
    records node numbers, not Values (the README explains why, under Performance), so
    the two should agree.

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
            nodes[key] = held_and_counted(engine, builds[key], traced=False)[1] or 0
        for _ in range(settings.repeat):
            for key in depths:
                runs[key].append(record_and_sweep(engine, builds[key], usage[key]))
                gc.disable()
                try:
                    paused[key].append(record_and_sweep(engine, builds[key]))
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
            "ns_per_node": stat(runs[key], 1e9 / nodes[key]),
            "gc_paused_ns_per_node": stat(paused[key], 1e9 / nodes[key]),
            # None where the system does not say (no `resource` module, as on Windows)
            "kernel_ns_per_node": stat(kernel, 1e9 / nodes[key]) if kernel else None,
            "faults_per_1000_nodes": stat(faults, 1e3 / nodes[key]) if faults else None,
        }
    report["ratio"] = ratio(report["deep"]["ns_per_node"], report["shallow"]["ns_per_node"])
    report["gc_paused_ratio"] = ratio(
        report["deep"]["gc_paused_ns_per_node"], report["shallow"]["gc_paused_ns_per_node"]
    )
    return report


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
                runs[name].append(record_and_sweep(w.MICROTAPE, build))
        ns = {name: stat(samples, 1e9 / n) for name, samples in runs.items()}
        plugins = [name for name in ns if name.startswith("plugin ")]
        builtins = [name for name in ns if name not in plugins]
        report[arity] = {
            "ns_per_node": ns,
            "ratios": {
                f"{plugin}/{builtin}": ratio(ns[plugin], ns[builtin])
                for plugin in plugins
                for builtin in builtins
            },
        }
    return report


def memory(settings: Settings) -> Report:
    """The bytes a tape holds, and what is left after release() or a non-persistent gradient."""
    depth = settings.depth
    report: Report = {"depth": depth}
    with tracing() as held:
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


def compiled(settings: Settings) -> Report:
    """``mt.function`` against recording and sweeping, on the reference workloads.

    For each workload: the first call (it runs the function while tracing it, then writes
    and compiles the code), later calls of the compiled code, and the same function run
    as written (record + sweep), interleaved; whether the compiled results equal the
    recorded ones bit for bit; and the chain at the deep depth, compiled.
    """
    report: Report = {}
    steps = {
        "mlp": w.mlp_step(settings.points),
        "chain": w.chain_step(settings.depth),
        "deep chain": w.chain_step(settings.deep),
    }
    for name, step in steps.items():
        function = mt.function(step)
        first = timed(function)
        same = _bits(step()) == _bits(function())
        eager_runs: list[float] = []
        compiled_runs: list[float] = []
        for _ in range(settings.repeat):
            if name != "deep chain":  # the deep chain's record + sweep is deep_chain's figure
                eager_runs.append(timed(step))
            compiled_runs.append(timed(function))
        entry: Report = {
            "first_call_ms": first * 1e3,
            "compiled_ms": stat(compiled_runs, 1e3),
            "same_bits": same,
            "lines": len(function.code().splitlines()),
        }
        if eager_runs:
            entry["eager_ms"] = stat(eager_runs, 1e3)
            entry["speedup"] = ratio(entry["eager_ms"], entry["compiled_ms"])
            entry["first_call_in_eager_calls"] = first * 1e3 / entry["eager_ms"]["median"]
        report[name] = entry
    return report


def first_call(settings: Settings) -> Report:
    """What ``mt.function``'s first call and its fallbacks cost.

    - The first call (trace, write the code, compile) on the chain at three depths, as a
      multiple of one record + sweep of the same function, and the peak bytes per
      recorded op it allocates (tracemalloc, in a second fresh function) at the middle
      depth.
    - Four threads making the first call of one fresh function at once, against one.
    - A step that branches on each of 60 samples (a comparison of Values per sample):
      once its traces are used up, a call against the undecorated function.
    - ``examples/two_moons.py`` trained with a compiled step against the eager loop.
    """
    depths = (1_000, 10_000) if settings.quick else (10_000, 100_000, 1_000_000)
    report: Report = {"chains": {}}
    for depth in depths:
        step = w.chain_step(depth)
        eager = min(timed(step) for _ in range(1 if depth >= 1_000_000 else 3))
        first = timed(mt.function(step))
        entry: Report = {"eager_ms": eager * 1e3, "first_ms": first * 1e3, "ratio": first / eager}
        if depth == depths[1]:
            entry["peak_bytes_per_op"] = _peak(mt.function(step)) / (3 * depth)
        report["chains"][str(depth)] = entry
    report["threads"] = _concurrent_first_calls(w.chain_step(depths[0]))
    report["fallback"] = _fallback(settings)
    report["two_moons"] = _two_moons()
    return report


def _peak(fn: Callable[[], object]) -> int:
    """The most bytes allocated at once during a call of ``fn`` (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _concurrent_first_calls(step: Callable[[], object], threads: int = 4) -> Report:
    """Wall time of ``threads`` first calls at once of one fresh function, against one."""
    one = timed(mt.function(step))
    function = mt.function(step)
    barrier = threading.Barrier(threads + 1)

    def call() -> None:
        barrier.wait()
        function()

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for t in workers:
        t.start()
    gc.collect()
    barrier.wait()
    start = time.perf_counter()
    for t in workers:
        t.join()
    together = time.perf_counter() - start
    return {"one_ms": one * 1e3, "together_ms": together * 1e3, "ratio": together / one}


def _fallback(settings: Settings) -> Report:
    """A step with a comparison per sample, past its traces, against the function itself."""
    rng = random.Random(2)
    samples = 60
    w0 = mt.Value(0.3)

    def step(zs: list[mt.Value]) -> mt.Value:
        total = mt.Value(0.0)
        for z in zs:
            y = z * w0
            total = total + (y if y > 0.0 else y * -0.5)
        return total

    function = mt.function(step)
    batches = [[mt.Value(rng.uniform(-1, 1)) for _ in range(samples)] for _ in range(40)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mt.TracingWarning)
        for batch in batches[:20]:  # the traces are used up, and the misses counted
            function(batch)
        runs = 3 if settings.quick else settings.repeat * 4
        as_written: list[float] = []
        compiled_runs: list[float] = []
        for i in range(runs):
            batch = batches[20 + i % 20]
            as_written.append(_timed_calls(functools.partial(step, batch)))
            compiled_runs.append(_timed_calls(functools.partial(function, batch)))
    undecorated = stat(as_written, 1e6)
    decorated = stat(compiled_runs, 1e6)
    return {
        "undecorated_us": undecorated,
        "decorated_us": decorated,
        "ratio": ratio(decorated, undecorated),
    }


def _timed_calls(fn: Callable[[], object], calls: int = 20) -> float:
    """Seconds per call of ``fn``, over ``calls`` calls."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def _two_moons() -> Report:
    """The example's training loop, eager and with a compiled step (each its own seconds)."""
    path = Path(__file__).resolve().parent.parent / "examples" / "two_moons.py"
    spec = importlib.util.spec_from_file_location("two_moons_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    with contextlib.redirect_stdout(io.StringIO()):
        eager = module.main()
        compiled = module.main(compiled=True)
    same = [x.hex() for x in eager.weights] == [x.hex() for x in compiled.weights]
    return {
        "eager_s": eager.seconds,
        "compiled_s": compiled.seconds,
        "ratio": eager.seconds / compiled.seconds,
        "same_bits": same,
    }


def _bits(result: tuple[mt.Value, list[mt.Value | None]]) -> list[str]:
    """A step's output and gradients as exact text (float.hex), None kept."""
    output, gradients = result
    return [repr(None) if v is None else float.hex(v.data) for v in [output, *gradients]]

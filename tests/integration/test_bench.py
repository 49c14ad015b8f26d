"""The benchmark (``python -m benchmarks``): every figure present and consistent, in quick
mode. Never its speed.

The benchmark is an instrument, not a test of speed: these tests check what it reports
(the figures exist, are positive, and ratios agree with the numbers they divide) and
that the engines it compares do the same work. No assertion here depends on timing.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import microtape as mt
from benchmarks import probes
from benchmarks import workloads as w
from benchmarks.main import main

ROOT = Path(__file__).resolve().parent.parent.parent

POINTS, DEPTH, DEEP = 5, 1_500, 5_000
"""Sizes of the JSON run: small, but the chain is deeper than micrograd's recursion limit."""

Report = dict[str, Any]


def _bench(*options: str) -> tuple[int, str]:
    """``python -m benchmarks --quick --repeat 1 OPTIONS``, run from the clone's root."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--repeat", "1", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode:
        return done.returncode, done.stdout + done.stderr  # with the traceback, to show
    return 0, done.stdout


@pytest.fixture(scope="module")
def report() -> Report:
    code, out = _bench("--json", f"--points={POINTS}", f"--depth={DEPTH}", f"--deep={DEEP}")
    assert code == 0, out
    parsed: Report = json.loads(out)
    return parsed


def _stats(report: Report) -> Iterator[tuple[str, dict[str, float]]]:
    """Every min/median pair in the report, with its path."""
    stack: list[tuple[str, object]] = [("", report)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            if set(node) == {"min", "median"}:
                yield path, node
            else:
                stack.extend((f"{path}/{key}", value) for key, value in node.items())


def _same_ratio(ratio: dict[str, float], top: dict[str, float], bottom: dict[str, float]) -> None:
    for key in ("min", "median"):
        assert ratio[key] == pytest.approx(top[key] / bottom[key])


@pytest.mark.subprocess
def test_options_set_the_sizes(report: Report) -> None:
    settings = report["settings"]
    assert (settings["points"], settings["depth"], settings["deep"]) == (POINTS, DEPTH, DEEP)
    assert settings["repeat"] == 1
    assert settings["shallow"] == DEEP // 100


@pytest.mark.subprocess
def test_the_machine_is_described(report: Report) -> None:
    machine = report["machine"]
    assert machine["python"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["cpu_count"] >= 1
    assert machine["machine"] and machine["processor"]
    assert machine["microtape"] == mt.__version__


@pytest.mark.subprocess
def test_every_repeated_figure_is_positive_with_its_median_at_least_its_minimum(
    report: Report,
) -> None:
    stats = dict(_stats(report))
    assert len(stats) > 30
    for path, stat in stats.items():
        if path.endswith("added_ms"):  # a difference of two timings: its sign is not fixed
            continue
        if path.endswith(("kernel_ns_per_node", "faults_per_1000_nodes")):
            assert 0 <= stat["min"] <= stat["median"], path  # a short run may need none
            continue
        assert stat["min"] > 0, path
        if "/ratio" not in path:  # a ratio of medians may be below the ratio of minimums
            assert stat["median"] >= stat["min"], path


@pytest.mark.subprocess
@pytest.mark.parametrize("workload", ["mlp", "chain"])
def test_microtape_and_the_floor_report_time_per_node_and_memory(
    report: Report, workload: str
) -> None:
    entry = report["workloads"][workload]
    for engine in ("microtape", "floor"):
        figures = entry["engines"][engine]
        assert figures["status"] == "ok"
        assert figures["bytes_per_node"] > 0
        for key in ("min", "median"):
            assert figures["ns_per_node"][key] == pytest.approx(
                figures["ms"][key] * 1e6 / entry["nodes"]
            )


@pytest.mark.subprocess
@pytest.mark.parametrize("workload", ["mlp", "chain"])
def test_nodes_are_the_tape_records_and_the_floor_records_as_many(
    report: Report, workload: str
) -> None:
    entry = report["workloads"][workload]
    assert entry["engines"]["microtape"]["records"] == entry["nodes"]
    assert entry["engines"]["floor"]["records"] == entry["nodes"]


@pytest.mark.subprocess
def test_the_chain_records_three_ops_per_step(report: Report) -> None:
    assert report["workloads"]["chain"]["nodes"] == 3 * DEPTH
    assert report["memory"]["nodes"] == 3 * DEPTH
    assert report["deep_chain"]["deep"]["nodes"] == 3 * DEEP
    assert report["deep_chain"]["shallow"]["nodes"] == 3 * (DEEP // 100)


@pytest.mark.subprocess
def test_workload_ratios_divide_the_times_they_name(report: Report) -> None:
    for workload in report["workloads"].values():
        assert "microtape/floor" in workload["ratios"]
        for name, ratio in workload["ratios"].items():
            top, bottom = name.split("/")
            engines = workload["engines"]
            _same_ratio(ratio, engines[top]["ms"], engines[bottom]["ms"])


@pytest.mark.subprocess
def test_micrograd_runs_the_mlp_and_its_recursion_error_on_the_chain_is_reported(
    report: Report,
) -> None:
    pytest.importorskip("micrograd")
    mlp, chain = report["workloads"]["mlp"], report["workloads"]["chain"]
    assert mlp["engines"]["micrograd"]["status"] == "ok"
    assert "micrograd/microtape" in mlp["ratios"]
    assert sys.getrecursionlimit() < chain["nodes"]  # else micrograd could sweep the chain
    assert chain["engines"]["micrograd"]["status"] == "RecursionError"
    assert "ms" not in chain["engines"]["micrograd"]
    assert chain["engines"]["micrograd"]["bytes_per_node"] > 0  # recording works; sweeping not
    assert "micrograd/microtape" not in chain["ratios"]


@pytest.mark.subprocess
def test_second_order_cost_is_a_hessian_against_one_gradient(report: Report) -> None:
    second = report["second_order"]
    assert second["variables"] == 10
    assert second["hessian_records"] > second["gradient_records"] > 0
    _same_ratio(second["ratio"], second["hessian_us"], second["gradient_us"])


@pytest.mark.subprocess
def test_a_hessian_vector_product_is_compared_with_the_same_gradient(report: Report) -> None:
    second = report["second_order"]
    _same_ratio(second["hvp_ratio"], second["hvp_us"], second["gradient_us"])


@pytest.mark.subprocess
@pytest.mark.parametrize("workload", ["mlp", "chain"])
def test_forward_mode_is_compared_per_node_with_recording_the_same_workload(
    report: Report, workload: str
) -> None:
    entry = report["forward_mode"][workload]
    assert entry["nodes"] == report["workloads"][workload]["nodes"]  # the same passes
    _same_ratio(entry["ratio"], entry["forward_ns_per_node"], entry["record_ns_per_node"])
    _same_ratio(
        entry["gradient_ratio"], entry["forward_ns_per_node"], entry["gradient_ns_per_node"]
    )
    assert 0 < entry["bytes_per_node"] < 1_000
    assert entry["still_held_bytes"] < entry["bytes_per_node"] * entry["nodes"] / 10


@pytest.mark.subprocess
def test_arithmetic_outside_a_tape_is_compared_with_floats(report: Report) -> None:
    arithmetic = report["arithmetic"]
    assert arithmetic["ops"] == probes.ARITHMETIC_OPS_PER_STEP * DEPTH
    _same_ratio(arithmetic["ratio"], arithmetic["value_ns_per_op"], arithmetic["float_ns_per_op"])


@pytest.mark.subprocess
def test_import_time_is_measured_in_fresh_interpreters(report: Report) -> None:
    imported = report["import"]
    for key in ("min", "median"):
        added = imported["import_ms"][key] - imported["pass_ms"][key]
        assert imported["added_ms"][key] == pytest.approx(added)
    assert imported["importtime_us"]["min"] > 0
    assert set(imported["source_added_ms"]) == {"min", "median"}  # and no bytecode cache
    assert imported["modules"] >= 1  # microtape itself, at least
    assert imported["sympy"] is False


@pytest.mark.subprocess
def test_the_deep_chain_completes_and_is_compared_per_node(report: Report) -> None:
    deep = report["deep_chain"]
    assert deep["status"] == "ok"
    assert (deep["shallow"]["depth"], deep["deep"]["depth"]) == (DEEP // 100, DEEP)
    _same_ratio(deep["ratio"], deep["deep"]["ns_per_node"], deep["shallow"]["ns_per_node"])
    _same_ratio(
        deep["gc_paused_ratio"],
        deep["deep"]["gc_paused_ns_per_node"],
        deep["shallow"]["gc_paused_ns_per_node"],
    )
    for depth in ("shallow", "deep"):  # the kernel's share, read where the system reports it
        kernel, faults = deep[depth]["kernel_ns_per_node"], deep[depth]["faults_per_1000_nodes"]
        if sys.platform.startswith("linux"):
            assert kernel is not None and faults is not None
        if kernel is not None:  # no upper bound: the kernel splits its time in clock ticks
            assert 0 <= kernel["min"] <= kernel["median"]
            assert 0 <= faults["min"] <= faults["median"]


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("arity", "plugins", "builtins"),
    [
        ("unary", ["plugin bench_sinh"], ["sin", "tanh"]),
        ("binary", ["plugin bench_hypot", "plugin bench_mul"], ['op("mul")', "a * b"]),
    ],
)
def test_plugin_ops_are_compared_with_builtins_of_their_arity(
    report: Report, arity: str, plugins: list[str], builtins: list[str]
) -> None:
    entry = report["plugin_ops"][arity]
    assert list(entry["ns_per_node"]) == [*plugins, *builtins]
    assert len(entry["ratios"]) == len(plugins) * len(builtins)
    for plugin in plugins:
        for builtin in builtins:
            ratio = entry["ratios"][f"{plugin}/{builtin}"]
            _same_ratio(ratio, entry["ns_per_node"][plugin], entry["ns_per_node"][builtin])


@pytest.mark.subprocess
@pytest.mark.parametrize("tape", ["persistent", "non_persistent"])
def test_memory_held_by_a_tape_is_returned(report: Report, tape: str) -> None:
    memory = report["memory"][tape]
    assert memory["held_bytes"] > 50 * report["memory"]["nodes"]  # the graph was held
    assert memory["still_held_bytes"] < memory["held_bytes"] / 100
    assert memory["cycle_objects"] == 0  # freed by reference counting, not the collector


@pytest.mark.subprocess
def test_text_report_shows_the_machine_and_every_section() -> None:
    code, out = _bench()
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("microtape ") and "1 run per figure" in lines[0]
    assert lines[1].startswith("machine: ") and "CPUs" in lines[1]
    assert sys.version.split()[0] in lines[1]
    for heading in (
        "Reference workloads",
        "Second order",
        "Forward mode",
        "Arithmetic outside any tape",
        "import microtape, in fresh interpreters",
        "Deep chain",
        "Plugin ops",
        "Memory returned",
        "mt.function",
    ):
        assert any(line.startswith(heading) for line in lines), heading
    if sys.platform.startswith("linux"):
        assert sum("kernel time" in line for line in lines) == 2  # one row per depth
        assert sum("page faults" in line for line in lines) == 2
    first_words = [line.split()[0] for line in lines[2:] if line.strip()]
    assert first_words.count("mlp") == first_words.count("chain") == 1
    assert first_words.count("microtape") == first_words.count("floor") == 2  # one per workload


@pytest.mark.subprocess
def test_without_micrograd_the_bench_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "micrograd", None)
    monkeypatch.setitem(sys.modules, "micrograd.engine", None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # in this process, where micrograd is hidden
        code = main(["--quick", "--repeat", "1", "--json"])
    assert code == 0
    for workload in json.loads(out.getvalue())["workloads"].values():
        assert workload["engines"]["micrograd"] == {"status": "not installed"}
        assert list(workload["ratios"]) == ["microtape/floor"]


def test_repeat_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--repeat", "0"])
    assert exit_.value.code == 2
    assert "positive" in capsys.readouterr().err


@pytest.mark.subprocess
def test_the_script_runs_the_same_benchmark_from_any_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--repeat", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2  # the options were parsed: the package was found
    assert "usage: python -m benchmarks" in done.stderr and "positive" in done.stderr


# ---- the workloads: every engine does the same work ------------------------------------------


def _engines() -> list[w.Engine]:
    micrograd = w.micrograd_engine()
    return [*w.ENGINES, *([micrograd] if micrograd is not None else [])]


def _mlp_loss_and_gradients(engine: w.Engine) -> tuple[float, list[float]]:
    recording = engine.record(w.mlp_build(engine, 7))
    params = [p for group in recording.sources for row in group for p in _leaves(row)]
    loss = recording.output.data
    if recording.tape is not None:
        grads = recording.tape.gradient(recording.output, params, unconnected_gradients="zero")
        engine.drop(recording)
        return loss, [g.data for g in grads]
    engine.sweep(recording)
    engine.drop(recording)
    return loss, [float(p.grad) for p in params]


def _leaves(row: object) -> list[Any]:
    return list(row) if isinstance(row, list) else [row]


def test_every_engine_computes_the_same_mlp_loss_and_gradients() -> None:
    results = {engine.name: _mlp_loss_and_gradients(engine) for engine in _engines()}
    loss, grads = results.pop("microtape")
    assert len(grads) == 16 * 2 + 16 + 16 * 16 + 16 + 16 + 1
    assert any(g != 0.0 for g in grads)
    for name, (other_loss, other_grads) in results.items():
        assert other_loss == pytest.approx(loss, rel=1e-12), name
        assert other_grads == pytest.approx(grads, rel=1e-9, abs=1e-12), name


def test_every_engine_computes_the_same_chain() -> None:
    outputs = {}
    for engine in _engines():
        recording = engine.record(w.chain_build(engine, 50))
        outputs[engine.name] = recording.output.data
        engine.drop(recording)
    assert len(set(outputs.values())) == 1, outputs


def test_plugin_ops_differentiate_like_their_math_to_second_order() -> None:
    x, a, b = mt.Value(0.7), mt.Value(3.0), mt.Value(4.0)
    with mt.GradientTape() as outer:
        with mt.GradientTape(persistent=True) as inner:
            s = probes.bench_sinh(x)
            h = probes.bench_hypot(a, b)
        ds = inner.gradient(s, x, unconnected_gradients="zero")
        da, db = inner.gradient(h, [a, b], unconnected_gradients="zero")
    d2s = outer.gradient(ds, x, unconnected_gradients="zero")
    assert (s.data, h.data) == (math.sinh(0.7), 5.0)
    assert ds.data == pytest.approx(math.cosh(0.7))
    assert d2s.data == pytest.approx(math.sinh(0.7))
    assert [da.data, db.data] == pytest.approx([0.6, 0.8])


@pytest.mark.subprocess
@pytest.mark.parametrize("workload", ["mlp", "chain", "deep chain"])
def test_compiled_workloads_give_the_recorded_bits_and_report_their_first_call(
    report: Report, workload: str
) -> None:
    entry = report["compiled"][workload]
    assert entry["same_bits"] is True
    assert entry["first_call_ms"] > 0 and entry["lines"] > 0
    if workload == "deep chain":  # the recorded deep chain is the deep_chain section's
        assert "eager_ms" not in entry and "speedup" not in entry
        return
    _same_ratio(entry["speedup"], entry["eager_ms"], entry["compiled_ms"])
    assert entry["first_call_in_eager_calls"] == pytest.approx(
        entry["first_call_ms"] / entry["eager_ms"]["median"]
    )

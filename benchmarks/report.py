"""The benchmark's text report: one function per section, each returning its lines.

Every repeated figure is shown as "min / median", right-aligned in two columns. The
functions read the sections as ``measure.py`` returns them (the same dictionaries that
``--json`` prints).
"""

from __future__ import annotations

from .instruments import Report, Stat

__all__ = [
    "arithmetic",
    "compiled",
    "deep_chain",
    "first_call",
    "forward_mode",
    "header",
    "import_time",
    "memory",
    "plugin_ops",
    "second_order",
    "workloads",
]

LABEL = 44
"""Width of a row's label."""

PAIR = 22
"""Width of one "min / median" column."""

FORWARD_TARGET = 1.5
"""Forward mode's cost per node against recording, at most (the issue that asked for it)."""

HVP_TARGET = 4.0
"""A Hessian-vector product against one gradient, at most."""


def _pair(stat: Stat, digits: int) -> str:
    """``"min / median"``, right-aligned in its column."""
    return f"{stat['min']:,.{digits}f} / {stat['median']:,.{digits}f}".rjust(PAIR)


def _row(label: str, stat: Stat, digits: int, unit: str) -> str:
    return f"  {label:<{LABEL}}{_pair(stat, digits)} {unit}"


def _scaled(stat: Stat, factor: float) -> Stat:
    return {key: value * factor for key, value in stat.items()}


def header(report: Report) -> str:
    m, s = report["machine"], report["settings"]
    runs = f"{s['repeat']} run{'s' if s['repeat'] != 1 else ''}"
    return (
        f"microtape {m['microtape']} bench ({'quick, ' if s['quick'] else ''}{runs} per figure; "
        "min / median; each timed run starts with gc.collect())\n"
        f"machine: {m['processor']}, {m['machine']}, {m['cpu_count']} CPUs; "
        f"{m['implementation']} {m['python']}; {m['platform']}"
    )


def workloads(report: Report) -> list[str]:
    lines = [
        "Reference workloads: record + reverse sweep. Per-node figures divide by microtape's",
        "record count, for every engine; bytes held are read once with tracemalloc.",
        f"  {'workload':<10}{'engine':<12}{'ms':>{PAIR}}{'ns/node':>{PAIR + 1}}{'B/node held':>14}",
    ]
    for name, workload in report.items():
        lines.append(f"  {name:<10}{workload['nodes']:,} nodes")
        for engine, entry in workload["engines"].items():
            if "ms" in entry:
                times = _pair(entry["ms"], 1) + " " + _pair(entry["ns_per_node"], 0)
            elif entry["status"] == "RecursionError":
                times = f"{'RecursionError (its sweep recurses)':>{2 * PAIR + 1}}"
            else:
                times = f"{entry['status']:>{2 * PAIR + 1}}"
            held = f"{entry['bytes_per_node']:>14,.0f}" if "bytes_per_node" in entry else ""
            lines.append(f"  {'':<10}{engine:<12}{times}{held}")
        for ratio, stat in workload["ratios"].items():
            label = f"ratio {ratio.replace('/', ' / ')}"
            lines.append(f"  {'':<10}{label:<{12 + PAIR + 1}}{_pair(stat, 2)} x")
    return lines


def second_order(r: Report) -> list[str]:
    return [
        f"Second order: a function of {r['variables']} variables",
        _row(f"one gradient ({r['gradient_records']} records)", r["gradient_us"], 1, "us"),
        _row(
            f"Hessian, nested tapes ({r['hessian_records']} outer records)",
            r["hessian_us"],
            1,
            "us",
        ),
        _row("ratio Hessian / gradient", r["ratio"], 1, "x"),
        _row("Hessian-vector product, forward over reverse", r["hvp_us"], 1, "us"),
        _row("ratio HVP / gradient", r["hvp_ratio"], 1, "x")
        + f"  (target: at most {HVP_TARGET:g}x)",
    ]


def forward_mode(report: Report) -> list[str]:
    lines = [
        "Forward mode: a ForwardAccumulator around the reference workloads (every input",
        "moving), against recording them on a tape; per node of the tape's records.",
    ]
    for name, r in report.items():
        lines += [
            f"  the {name} workload ({r['nodes']:,} nodes)",
            _row("  record on a tape", r["record_ns_per_node"], 0, "ns/node"),
            _row("  forward mode, then acc.jvp", r["forward_ns_per_node"], 0, "ns/node"),
            _row("  record + tape.gradient", r["gradient_ns_per_node"], 0, "ns/node"),
            _row("  ratio forward / record", r["ratio"], 2, "x")
            + f"  (target: at most {FORWARD_TARGET:g}x)",
            _row("  ratio forward / record + gradient", r["gradient_ratio"], 2, "x"),
            f"  {'    bytes held per node by the accumulator':<{LABEL}}"
            f"{r['bytes_per_node']:>{PAIR},.0f} bytes "
            f"({r['still_held_bytes']:,} left once dropped)",
        ]
    return lines


def arithmetic(r: Report) -> list[str]:
    return [
        f"Arithmetic outside any tape: {r['ops']:,} ops, y = y * a + b - 0.5 * y",
        _row("Value", r["value_ns_per_op"], 0, "ns/op"),
        _row("float", r["float_ns_per_op"], 0, "ns/op"),
        _row("ratio Value / float", r["ratio"], 1, "x"),
    ]


def import_time(r: Report) -> list[str]:
    loaded = ", ".join(f"{name}: {'yes' if r[name] else 'no'}" for name in _IMPORT_FLAGS)
    return [
        "import microtape, in fresh interpreters, from bytecode caches (as installed)",
        _row("python -c pass", r["pass_ms"], 1, "ms"),
        _row('python -c "import microtape"', r["import_ms"], 1, "ms"),
        _row("added by import microtape", r["added_ms"], 1, "ms"),
        _row("-X importtime, microtape cumulative", _scaled(r["importtime_us"], 1e-3), 1, "ms"),
        _row("added with no bytecode cache (compiling)", r["source_added_ms"], 1, "ms"),
        f"  {r['modules']} modules loaded by the import; {loaded}",
    ]


_IMPORT_FLAGS = ("sympy", "importlib.metadata")


def deep_chain(r: Report) -> list[str]:
    shallow, deep = r["shallow"], r["deep"]
    if r["status"] != "ok":
        return [f"Deep chain, microtape, depth {deep['depth']:,}: {r['status']}"]
    return [
        "Deep chain, microtape: record + reverse sweep; completed, no RecursionError",
        _row(
            f"depth {shallow['depth']:,} ({shallow['nodes']:,} nodes)",
            shallow["ns_per_node"],
            0,
            "ns/node",
        ),
        _row(
            f"depth {deep['depth']:,} ({deep['nodes']:,} nodes)", deep["ns_per_node"], 0, "ns/node"
        ),
        _row("ratio deep / shallow", r["ratio"], 2, "x"),
        "  the same with Python's cycle collector paused during each timed run:",
        _row(f"depth {shallow['depth']:,}", shallow["gc_paused_ns_per_node"], 0, "ns/node"),
        _row(f"depth {deep['depth']:,}", deep["gc_paused_ns_per_node"], 0, "ns/node"),
        _row("ratio deep / shallow, collector paused", r["gc_paused_ratio"], 2, "x"),
        *_kernel_rows(shallow, deep),
    ]


def _kernel_rows(shallow: Report, deep: Report) -> list[str]:
    """The kernel's share of the time as configured, and the page faults behind it."""
    if shallow["kernel_ns_per_node"] is None or deep["kernel_ns_per_node"] is None:
        return ["  (kernel time and page faults: not reported on this system)"]
    rows = ["  of the time as configured, spent in the kernel (mostly mapping new memory):"]
    for r in (shallow, deep):
        rows.append(
            _row(f"depth {r['depth']:,}, kernel time", r["kernel_ns_per_node"], 0, "ns/node")
        )
        rows.append(
            _row(
                f"depth {r['depth']:,}, page faults",
                r["faults_per_1000_nodes"],
                1,
                "per 1,000 nodes",
            )
        )
    return rows


def plugin_ops(r: Report) -> list[str]:
    lines = [f"Plugin ops against built-ins: chains of {r['nodes']:,} ops, record + reverse sweep"]
    for arity in ("unary", "binary"):
        entry = r[arity]
        for name, stat in entry["ns_per_node"].items():
            lines.append(_row(f"{arity} {name}", stat, 0, "ns/node"))
        for name, stat in entry["ratios"].items():
            lines.append(_row(f"ratio {name.replace('/', ' / ')}", stat, 2, "x"))
    return lines


def memory(r: Report) -> list[str]:
    lines = [
        f"Memory returned: chain of depth {r['depth']:,} ({r['nodes']:,} records), tracemalloc"
    ]
    for key, event in (("persistent", "release()"), ("non_persistent", "gradient()")):
        entry = r[key]
        held, left = f"{entry['held_bytes']:,}", f"{entry['still_held_bytes']:,}"
        lines.append(f"  {key.replace('_', '-') + ' tape, held':<{LABEL}}{held:>{PAIR}} bytes")
        lines.append(
            f"  {'  still held after ' + event:<{LABEL}}{left:>{PAIR}} bytes "
            f"({entry['cycle_objects']} objects left to the cycle collector)"
        )
    return lines


def compiled(r: Report) -> list[str]:
    lines = [
        "mt.function: the workloads compiled (trace once, then run the generated code),",
        "against recording and sweeping the same function; the first call traces and compiles",
    ]
    for name, entry in r.items():
        same = "same bits" if entry["same_bits"] else "DIFFERENT RESULTS"
        lines.append(f"  workload {name}: {entry['lines']:,} lines of code; {same}")
        if "eager_ms" in entry:
            lines.append(_row("  record + sweep", entry["eager_ms"], 2, "ms"))
        lines.append(_row("  compiled call", entry["compiled_ms"], 2, "ms"))
        if "speedup" in entry:
            lines.append(_row("  ratio record + sweep / compiled", entry["speedup"], 1, "x"))
        first = f"{entry['first_call_ms']:,.0f} ms"
        if "first_call_in_eager_calls" in entry:
            first += f" = {entry['first_call_in_eager_calls']:.1f} record + sweep calls"
        lines.append(f"  {'  first call (trace + compile)':<{LABEL}}{first}")
    return lines


def first_call(r: Report) -> list[str]:
    lines = [
        "mt.function's first call (trace, write the code, compile) on the chain, against one",
        "record + sweep of the same function; and what falling back costs",
    ]
    for depth, entry in r["chains"].items():
        text = (
            f"{entry['first_ms']:,.0f} ms against {entry['eager_ms']:,.0f} ms = "
            f"{entry['ratio']:.1f}x  (target: at most 4x)"
        )
        lines.append(f"  {'depth ' + format(int(depth), ','):<{LABEL}}{text}")
        if "peak_bytes_per_op" in entry:
            peak = f"{entry['peak_bytes_per_op']:,.0f} bytes per recorded op (target: at most 400)"
            lines.append(f"  {'  peak allocated, first call':<{LABEL}}{peak}")
    t = r["threads"]
    together = (
        f"{t['together_ms']:,.0f} ms against {t['one_ms']:,.0f} ms = {t['ratio']:.2f}x "
        "(target: at most 1.6x)"
    )
    lines.append(f"  {'four first calls at once':<{LABEL}}{together}")
    f = r["fallback"]
    lines.append(_row("  60-sample branching step, past its traces", f["decorated_us"], 0, "us"))
    lines.append(_row("  the same function undecorated", f["undecorated_us"], 0, "us"))
    lines.append(_row("  ratio decorated / undecorated (target: at most 1.1x)", f["ratio"], 2, "x"))
    m = r["two_moons"]
    same = "same bits" if m["same_bits"] else "DIFFERENT WEIGHTS"
    lines.append(
        f"  {'two_moons, eager / compiled step':<{LABEL}}{m['eager_s']:.2f} s / "
        f"{m['compiled_s']:.2f} s = {m['ratio']:.1f}x (target: at least 2x); {same}"
    )
    return lines

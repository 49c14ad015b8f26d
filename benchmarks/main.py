"""The benchmark's command line: its options, the run, and the report as text or JSON.

Run from a clone's root as ``python -m benchmarks`` (or ``python benchmarks/run.py``);
``--help`` lists the options. Each section is printed as it completes; with ``--json``
the same figures are printed once, as JSON, at the end.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from . import measure, report
from .instruments import Report, Settings, machine

__all__ = ["add_arguments", "main", "run"]

DESCRIPTION = "time and measure the engine against micrograd and a floor"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the benchmark, return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options; sizes default to the full run's (or small, with --quick)."""
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run of every figure"
    )
    parser.add_argument("--repeat", type=_positive, default=5, help="runs per figure (default 5)")
    parser.add_argument(
        "--points", type=_positive, help="points of the mlp workload (default 100; quick 10)"
    )
    parser.add_argument(
        "--depth",
        type=_positive,
        help="steps of the chain, plugin-op, memory and arithmetic workloads "
        "(default 100,000; quick 2,000)",
    )
    parser.add_argument(
        "--deep",
        type=_positive,
        help="steps of the deep chain, compared per node with one of deep/100 steps "
        "(default 1,000,000; quick 10,000)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")


def _positive(text: str) -> int:
    try:
        number = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return number


Section = tuple[str, Callable[[Settings], Report], Callable[[Report], list[str]]]
"""A section of the report: its JSON key, how it is measured, how it is shown as text."""

SECTIONS: tuple[Section, ...] = (
    ("workloads", measure.workloads, report.workloads),
    ("second_order", measure.second_order, report.second_order),
    ("forward_mode", measure.forward_mode, report.forward_mode),
    ("arithmetic", measure.arithmetic, report.arithmetic),
    ("import", measure.import_time, report.import_time),
    ("deep_chain", measure.deep_chain, report.deep_chain),
    ("plugin_ops", measure.plugin_ops, report.plugin_ops),
    ("memory", measure.memory, report.memory),
    ("compiled", measure.compiled, report.compiled),
    ("first_call", measure.first_call, report.first_call),
)


def run(args: argparse.Namespace) -> int:
    """Measure every figure, printing each section as it completes (or JSON at the end).

    Returns:
        0, or 1 if microtape or the floor failed a workload (micrograd's RecursionError
        on deep graphs is expected, and reported).
    """
    quick = bool(args.quick)
    settings = Settings(
        quick=quick,
        repeat=args.repeat,
        points=args.points or (10 if quick else 100),
        depth=args.depth or (2_000 if quick else 100_000),
        deep=args.deep or (10_000 if quick else 1_000_000),
        loops=5 if quick else 100,
    )
    show: Callable[[str], None] = (lambda text: None) if args.json else _print
    figures: Report = {"machine": machine(), "settings": asdict(settings)}
    figures["settings"]["shallow"] = settings.shallow
    show(report.header(figures))
    for key, measure_section, render in SECTIONS:
        figures[key] = measure_section(settings)
        show("\n" + "\n".join(render(figures[key])))
    if args.json:
        print(json.dumps(figures, indent=2))
    failed = any(
        figures["workloads"][name]["engines"][engine]["status"] != "ok"
        for name in ("mlp", "chain")
        for engine in ("microtape", "floor")
    )
    failed = failed or not all(entry["same_bits"] for entry in figures["compiled"].values())
    failed = failed or not figures["first_call"]["two_moons"]["same_bits"]
    return 1 if failed or figures["deep_chain"]["status"] != "ok" else 0


def _print(text: str) -> None:
    print(text, flush=True)

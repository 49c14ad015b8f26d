"""Run pytest in this interpreter (Pyodide, started by run.mjs) and sum it up in one line.

The caller has put the test dependencies and microtape's metadata on sys.path and
mounted the clone. ``main([CLONE, *PYTEST_ARGS])`` runs ``pytest.main`` in CLONE, then
prints ``@@RESULT {json}`` with pytest's counts, its time and the Python version, for
run.sh to read.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


class _Counts:
    """A pytest plugin that keeps the figures of pytest's own summary line."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        stats = terminalreporter.stats
        for key in ("passed", "failed", "skipped", "error", "xfailed", "xpassed"):
            self.counts[key] = len([r for r in stats.get(key, []) if _counted(r)])


def _counted(report: Any) -> bool:
    # pytest counts a test once: its call, or the setup that skipped or failed it.
    return getattr(report, "when", "call") == "call" or report.outcome != "passed"


def main(argv: list[str]) -> int:
    clone, *args = argv
    sys.dont_write_bytecode = True  # leave no __pycache__ or rewritten .pyc in the clone
    os.chdir(clone)
    import pytest

    counts = _Counts()
    start = time.perf_counter()
    # --capture=sys: Pyodide's standard streams are JavaScript callbacks, so capturing at
    # the file-descriptor level buys nothing, and pytest's fd capture asks fstat of an
    # unlinked temporary file, which Pyodide 0.27 cannot answer.
    options = ["-p", "no:cacheprovider", "--capture=sys"]
    code = int(pytest.main([*options, *args], plugins=[counts]))
    result: dict[str, object] = {
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "seconds": round(time.perf_counter() - start),
        "exit": code,
        **counts.counts,
    }
    sys.stdout.flush()
    print("@@RESULT " + json.dumps(result), flush=True)
    return code

"""Hypothesis profiles, the suite's workload, and what it needs beyond the interpreter.

Hypothesis is deterministic under CI (CI=true) and exploratory on a laptop. The heavy
tests can be made cheaper with MICROTAPE_EXAMPLES_SCALE (tests/workload.py), as CI does
under Pyodide; the header of pytest's report says when it is set.

A test that needs a child process, threads, an asyncio event loop, Graphviz or the user
site folder says so with a marker (registered in pyproject.toml). Where the platform has
none of these, as Pyodide (sys.platform "emscripten": CPython compiled to WebAssembly)
does, such a test is skipped with the reason, instead of failing for want of the platform.
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings
from workload import SCALE, VARIABLE, examples

# MICROTAPE_EXAMPLES_SCALE (tests/workload.py) scales hypothesis's default of 100 examples
# too, for the tests that name no max_examples of their own.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=examples(100),
)
settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=examples(100),
)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")

PYODIDE_LACKS: dict[str, str] = {
    "subprocess": "starts a child process, and Pyodide has none",
    "threads": "starts threads, and Pyodide cannot",
    "event_loop": "runs asyncio.run, which needs stack switching that Pyodide under Node lacks",
    "graphviz": "renders with Graphviz's dot, a program Pyodide cannot run",
    "user_site": "reads the user site folder, and Pyodide has none",
}
"""Each marker that Pyodide cannot satisfy, and why: the reason a skipped test gives."""


def pytest_report_header(config: pytest.Config) -> str | None:
    if SCALE == 1.0:
        return None
    return (
        f"{VARIABLE}={SCALE:g}: the heavy property tests draw {SCALE:g} of their examples, "
        "the deepest chains are shorter (tests/workload.py)"
    )


def on_pyodide() -> bool:
    """Whether this interpreter is Pyodide's: CPython compiled to WebAssembly."""
    return sys.platform == "emscripten"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_pyodide():
        return
    for item in items:
        for marker, reason in PYODIDE_LACKS.items():
            if item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=f"Pyodide: the test {reason}"))
                break

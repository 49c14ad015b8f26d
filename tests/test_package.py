"""The package as a user meets it: its public names, its import cost, its typing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import microtape as mt

ROOT = Path(__file__).resolve().parent.parent


def test_public_names_are_exactly_all() -> None:
    public = {name for name in dir(mt) if not name.startswith("_")}
    modules = {
        "testing",
        "nn",
        "optim",
        "losses",
        "datasets",
        "core",
        "inspection",
        "registry",
        "cli",
        "functions",
    }  # submodules, once imported
    assert public - modules == set(mt.__all__)


def test_import_loads_neither_sympy_nor_hypothesis() -> None:
    code = (
        "import sys, microtape; "
        "print(sorted(m for m in ('sympy', 'hypothesis', 'mpmath') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "microtape" / "py.typed").is_file()

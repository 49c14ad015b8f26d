"""The package as a user meets it: its public names, its import cost, its typing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import assert_type

import pytest

import microtape as mt
from microtape import datasets, nn, optim

ROOT = Path(__file__).resolve().parent.parent.parent


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
        "symbolic",
        "tracing",
    }  # submodules, once imported
    assert public - modules == set(mt.__all__)


def _fresh(code: str) -> str:
    """What ``code`` prints in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


LAZY = ("microtape.nn", "microtape.optim", "microtape.losses", "microtape.datasets")


def test_import_loads_neither_sympy_nor_hypothesis_nor_the_teaching_layer() -> None:
    heavy = ("sympy", "hypothesis", "mpmath", "microtape.testing", *LAZY)
    code = f"import sys, microtape; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    assert _fresh(code) == "[]"


def test_submodules_are_attributes_after_a_plain_import() -> None:
    code = (
        "import microtape as mt; "
        "model = mt.nn.Dense(1, 1); "
        "opt = mt.optim.SGD(learning_rate=0.1); "
        "print(mt.losses.mean_squared_error([1.0], model([1.0])).data >= 0.0, "
        "mt.datasets.make_moons(4).labels, type(opt).__name__)"
    )
    assert _fresh(code) == "True [0.0, 1.0, 0.0, 1.0] SGD"


def test_using_one_submodule_loads_only_what_it_needs() -> None:
    code = (
        "import sys, microtape as mt; mt.nn.Dense(1, 1); "
        "print(sorted(m for m in ('sympy', 'hypothesis', 'microtape.testing') if m in sys.modules))"
    )
    assert _fresh(code) == "[]"


def test_the_testing_helpers_load_on_first_use() -> None:
    code = (
        "import sys, microtape as mt; before = 'sympy' in sys.modules; "
        "check = mt.testing.check_op; print(before, 'sympy' in sys.modules, check.__name__)"
    )
    assert _fresh(code) == "False True check_op"


def test_dir_lists_the_lazy_submodules_before_they_load() -> None:
    names = {"nn", "optim", "losses", "datasets", "testing"}
    code = f"import microtape as mt; print(sorted(set(dir(mt)) & {names!r}))"
    assert _fresh(code) == "['datasets', 'losses', 'nn', 'optim', 'testing']"


def test_the_lazy_submodules_are_typed() -> None:
    """mypy (run by test_tooling) checks these assert_type lines."""
    assert_type(mt.nn.Dense(1, 1), nn.Dense)
    assert_type(mt.optim.Adam(), optim.Adam)
    assert_type(mt.losses.hinge([1.0], [0.5]), mt.Value)
    assert_type(mt.datasets.make_moons(2), datasets.Moons)
    assert mt.nn is nn and mt.optim is optim and mt.datasets is datasets


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        mt.nope  # noqa: B018


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "microtape" / "py.typed").is_file()

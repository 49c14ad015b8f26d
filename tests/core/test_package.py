"""The package as a user meets it: its public names and its typing.

What ``import microtape`` loads is seen from a fresh interpreter, in
``tests/integration/test_imports.py``.
"""

from __future__ import annotations

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

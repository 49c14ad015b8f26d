"""Asking for an op of one of microtape's example plugins that is not installed names
the distribution to install (``pip install microtape-activations``), never a host."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import microtape as mt
from microtape.registry.plugins import EXAMPLE_PLUGINS, Discovery, PluginOp

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_is_what_the_example_plugins_declare() -> None:
    declared = {}
    for project in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        meta = tomllib.loads(project.read_text())["project"]
        declared[meta["name"]] = tuple(meta["entry-points"]["microtape.ops"])
    assert declared == EXAMPLE_PLUGINS


def _without_plugins(code: str, **env: str) -> str:
    """What ``code`` prints in a fresh interpreter that sees microtape but no installed
    distribution (``-S``: no site-packages, so no plugin)."""
    run = subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{code}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT.parent,
        env={**os.environ, **env},
    )
    return run.stdout.strip()


ASK = """
import microtape as mt
for name in ("gelu", "sinh", "gelux"):
    try:
        mt.op(name)
    except mt.UnknownOpError as error:
        print(" ".join(str(error).split()))  # on one line: messages are wrapped
try:
    mt.ops.erf
except AttributeError as error:
    print(" ".join(str(error).split()))
"""


@pytest.mark.subprocess
def test_an_example_plugins_op_names_the_distribution_to_install() -> None:
    gelu, sinh, other, erf = _without_plugins(ASK).splitlines()
    assert gelu == (
        "op: no op is named 'gelu': it is an op of the example plugin microtape-activations, "
        "which is not installed. Install it: pip install microtape-activations (from a clone "
        "of microtape: pip install -e plugins/microtape-activations)"
    )
    assert "pip install microtape-hyperbolic" in sinh
    assert "pip install microtape-hyperbolic" in erf  # mt.ops.<name> says it too
    assert other == "op: no op is named 'gelux'; did you mean 'relu'?"  # no install hint
    assert "http" not in gelu + sinh


@pytest.mark.subprocess
def test_with_plugins_turned_off_it_says_so() -> None:
    gelu = _without_plugins(ASK, MICROTAPE_DISABLE_PLUGINS="1").splitlines()[0]
    assert gelu == (
        "op: no op is named 'gelu': it is an op of the example plugin microtape-activations, "
        "and plugins are turned off (MICROTAPE_DISABLE_PLUGINS is set)"
    )


def test_an_installed_plugin_without_the_op_is_told_to_upgrade() -> None:
    old = PluginOp("sinh", "microtape-hyperbolic", "0.0.1", "sinh = m:sinh", "loaded")
    hint = Discovery(records=(old,)).plugin_hint("erf")
    assert hint == (
        ": it is an op of the example plugin microtape-hyperbolic, installed here (version "
        "0.0.1) without it; upgrade it: pip install --upgrade microtape-hyperbolic"
    )
    assert Discovery().plugin_hint("relu") == ""


def test_installed_here_the_example_plugins_ops_are_found() -> None:
    if not all(p.distribution in EXAMPLE_PLUGINS for p in mt.plugin_ops() if p.name == "gelu"):
        pytest.skip("another distribution provides gelu here")
    for names in EXAMPLE_PLUGINS.values():
        for name in names:
            assert mt.op(name).name == name

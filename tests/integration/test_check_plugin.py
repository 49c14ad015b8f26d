"""microtape.testing.check_plugin against the example plugins: it passes an installed
plugin, and names what is wrong when the distribution, the entry point, the registry's op
or its doc is not what the plugin says."""

from __future__ import annotations

import math

import pytest

import microtape as mt
import microtape.testing as testing
from microtape.testing import check_plugin


def test_check_plugin_passes_an_installed_plugin() -> None:
    from microtape_hyperbolic import ALL

    check_plugin("microtape-hyperbolic", ALL)


def test_check_plugin_names_the_distribution_that_really_offers_the_op() -> None:
    from microtape_hyperbolic import sinh

    with pytest.raises(
        AssertionError,
        match=r"'sinh' is not loaded from microtape-activations.*microtape-hyperbolic",
    ):
        check_plugin("microtape-activations", [sinh])


def test_check_plugin_refuses_a_distribution_that_is_not_installed() -> None:
    with pytest.raises(AssertionError, match="no distribution 'microtape-nowhere' is installed"):
        check_plugin("microtape-nowhere", [])


def test_check_plugin_refuses_an_op_without_an_entry_point() -> None:
    loose = mt.Op("loose_under_test", math.sinh, [math.cosh], doc="sinh, registered nowhere")
    with pytest.raises(AssertionError, match=r"'loose_under_test'.*found no entry point"):
        check_plugin("microtape-hyperbolic", [loose])
    with pytest.raises(TypeError, match="expected Ops, got str"):
        check_plugin("microtape-hyperbolic", ["sinh"])  # type: ignore[list-item]


def test_check_plugin_wants_the_registry_to_give_the_very_op_and_a_doc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    from microtape_hyperbolic import sinh

    version = importlib.metadata.version("microtape-hyperbolic")
    bare = mt.Op("sinh", math.sinh, [math.cosh])  # the same name, no doc
    listing = mt.PluginOp(
        "sinh", "microtape-hyperbolic", version, "sinh = m:sinh", "loaded", op=bare
    )
    monkeypatch.setattr(testing, "plugin_ops", lambda: [listing])
    with pytest.raises(AssertionError, match=r"mt.op\('sinh'\) is not the op the plugin defines"):
        check_plugin("microtape-hyperbolic", [bare])  # the registry holds the real sinh
    monkeypatch.setattr(testing, "op_named", lambda name: bare)
    monkeypatch.setattr(testing, "op_namespace", type("Ns", (), {"sinh": bare})())
    with pytest.raises(AssertionError, match="'sinh' has no doc"):
        check_plugin("microtape-hyperbolic", [bare])
    assert sinh.doc  # the real one has

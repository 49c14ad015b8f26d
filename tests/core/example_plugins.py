"""The example plugins' ops, for the core tests that use them where they are installed.

``tests/core`` runs with microtape alone: the two example plugins in ``plugins/`` may be
missing. A test that needs one of their ops is marked with :func:`needs` and skips there,
naming what to install. A property test that draws ops from a pool draws from
:func:`installed` ones, and a test beside it, marked with :func:`needs`, skips to say that
the pool is smaller.
"""

from __future__ import annotations

import pytest

import microtape as mt

DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "microtape-activations": ("hypot", "logaddexp", "maximum", "softplus", "normal_cdf", "gelu"),
    "microtape-hyperbolic": ("sinh", "cosh", "asinh", "acosh", "atanh", "erf"),
}
"""Each example plugin (its folder in ``plugins/`` has the same name) and its ops."""

EXAMPLE_OPS: tuple[str, ...] = tuple(name for ops in DISTRIBUTIONS.values() for name in ops)


def _distribution(name: str) -> str:
    for distribution, ops in DISTRIBUTIONS.items():
        if name in ops:
            return distribution
    raise LookupError(f"{name!r} is not an op of the example plugins: {EXAMPLE_OPS}")


def _loaded(name: str) -> bool:
    _distribution(name)  # a name no example plugin has is a mistake in the test
    try:
        mt.op(name)
    except mt.UnknownOpError:
        return False
    return True


def installed(*names: str) -> list[mt.Op]:
    """The ops of ``names`` that are installed, in that order (none without the plugins)."""
    return [mt.op(name) for name in names if _loaded(name)]


def needs(*names: str) -> pytest.MarkDecorator:
    """Skip the test unless the example plugins' ops ``names`` are installed; the reason
    names the distributions to install."""
    missing = sorted({_distribution(name) for name in names if not _loaded(name)})
    install = " ".join(f"-e plugins/{distribution}" for distribution in missing)
    return pytest.mark.skipif(
        bool(missing), reason=f"{' and '.join(missing)} not installed: pip install {install}"
    )

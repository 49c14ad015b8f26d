"""The error tree: one root, and each error also the matching built-in exception."""

from __future__ import annotations

import pytest

import microtape as mt


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (mt.TapeError, RuntimeError),
        (mt.ArgumentTypeError, TypeError),
        (mt.DomainError, ValueError),
        (mt.OpDefinitionError, ValueError),
        (mt.OpConflictError, ValueError),
        (mt.UnknownOpError, LookupError),
        (mt.UnconnectedGradientError, LookupError),
        (mt.GraphvizError, RuntimeError),
        (mt.MissingGradientError, ValueError),
        (mt.ShapeError, ValueError),
    ],
)
def test_each_error_is_a_microtape_error_and_its_builtin(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, mt.MicrotapeError)
    assert issubclass(error, builtin)


def test_plugin_warning_is_a_user_warning() -> None:
    assert issubclass(mt.PluginWarning, UserWarning)


def test_the_errors_module_docstring_draws_every_error() -> None:
    from microtape.core import errors as _errors

    assert _errors.__doc__ is not None
    for name in _errors.__all__:
        assert name in _errors.__doc__

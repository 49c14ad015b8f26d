"""sympy for an op's symbolic form, imported when it is first asked for.

An op's ``sympy=`` form is called only by :mod:`microtape.testing` (the oracle) and
``microtape check``, so a plugin must not import sympy when it is imported. And under
``mypy --strict`` a plain ``import sympy`` fails on a machine without stubs for sympy
(``Skipping analyzing "sympy": ... missing library stubs``). :func:`sympy` solves both:
it imports sympy on the call, and it is typed as a module, so ``sympy().sin(x)`` type-
checks in a plugin's own folder with no stubs installed::

    from microtape.symbolic import sympy

    sinh: mt.Op = mt.Op("sinh", math.sinh, [lambda x: cosh(x)], sympy=lambda x: sympy().sinh(x))

Example:
    >>> from microtape.symbolic import sympy
    >>> x = sympy().Symbol("x")
    >>> str(sympy().diff(sympy().sinh(x), x))
    'cosh(x)'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["sympy"]


def sympy() -> ModuleType:
    """The sympy module (the ``testing`` extra installs it).

    Raises:
        ImportError: if sympy is not installed, saying which extra installs it.
    """
    try:
        return importlib.import_module("sympy")
    except ImportError as missing:
        raise ImportError(
            "an op's symbolic form needs sympy, which microtape does not install by itself; "
            "install the 'testing' extra: pip install 'microtape[testing]'"
        ) from missing

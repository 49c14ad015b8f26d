"""Turning what callers pass into floats, with errors that name the op, argument and value.

A number an op can take is an ``int`` or ``float``; a ``bool`` is the number it is in
Python (``True`` is 1.0, ``False`` 0.0), as in Python's own arithmetic and in JAX.
Everything else is refused with :class:`~microtape.ArgumentTypeError`; an int too large
for a float with :class:`~microtape.DomainError`.
"""

from __future__ import annotations

import sys

from ..errors import ArgumentTypeError, DomainError

__all__ = ["as_number", "checked_float", "constant", "short_repr"]


def as_number(op: str, arg: str, x: object) -> float:
    """Return ``x`` as a float if it is a real number (a bool counts: 1.0 or 0.0), else raise.

    Raises:
        ArgumentTypeError: naming ``op``, the argument and the offending value.
    """
    c = constant(x)
    if c is not None:
        return c
    raise ArgumentTypeError(
        f"{op}: {arg} must be a Value or a real number (int or float), "
        f"got {type(x).__name__} {short_repr(x)}"
    )


def short_repr(x: object) -> str:
    """``repr(x)``, cut to 60 characters, and safe for ints too long to print."""
    try:
        text = repr(x)
    except ValueError:  # an int past Python's limit on digits converted to text
        return f"<{type(x).__name__} too large to print>"
    return text if len(text) <= 60 else text[:57] + "..."


def constant(x: object) -> float | None:
    """``x`` as a float if it can be a constant operand, else None (NotImplemented).

    Raises:
        DomainError: for an int too large for a float (``10**400``).
    """
    if isinstance(x, (int, float)):  # a bool is an int: True is 1.0
        return checked_float(x)
    return None


def checked_float(x: object) -> float:
    """``float(x)``, with an int too large for a float reported as a DomainError."""
    try:
        return float(x)  # type: ignore[arg-type]
    except OverflowError:
        raise DomainError(
            f"{short_repr(x)} is too large for a float (largest: {sys.float_info.max!r})"
        ) from None

"""The op registry: one table of every op by name, built-in and added.

``register(op)`` adds an op at runtime; ``op(name)`` finds one; ``ops.name`` is the
same lookup as an attribute. A name is taken once: registering it again raises
:class:`OpConflictError` rather than silently replacing the first op (the trap of a
global mutable registry).
"""

from __future__ import annotations

import difflib
import threading
from typing import Final, final

from ._builtins import BUILTINS
from ._errors import ArgumentTypeError, OpConflictError, UnknownOpError
from ._op import Op

__all__ = ["all_ops", "is_builtin", "op", "ops", "origin", "register"]

_lock: Final = threading.Lock()
_ops: dict[str, Op] = {o.name: o for o in BUILTINS}


def register(new: Op) -> Op:
    """Add ``new`` to the registry so that ``op(new.name)`` finds it; return it.

    Raises:
        ArgumentTypeError: if ``new`` is not an Op.
        OpConflictError: if an op of that name is already registered.

    Example:
        >>> import microtape as mt
        >>> square = mt.register(mt.Op("square_example", lambda x: x * x, [lambda x: 2 * x]))
        >>> mt.op("square_example") is square
        True
    """
    if not isinstance(new, Op):
        raise ArgumentTypeError(f"register: expected an Op, got {type(new).__name__} {new!r}")
    with _lock:
        existing = _ops.get(new.name)
        if existing is not None:
            origin = "a built-in op" if is_builtin(existing) else "an op registered earlier"
            raise OpConflictError(
                f"register: the name {new.name!r} is already taken by {origin}; choose another name"
            )
        _ops[new.name] = new
    return new


def op(name: str) -> Op:
    """The op registered under ``name``.

    Raises:
        UnknownOpError: if there is none; the message suggests close names.
    """
    found = _ops.get(name)
    if found is not None:
        return found
    if not isinstance(name, str):
        raise ArgumentTypeError(f"op: name must be a str, got {type(name).__name__} {name!r}")
    close = difflib.get_close_matches(name, list(_ops), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise UnknownOpError(f"op: no op is named {name!r}{hint}")


def all_ops() -> list[Op]:
    """Every registered op, built-ins first, in registration order."""
    return list(_ops.values())


def is_builtin(candidate: Op) -> bool:
    """True if ``candidate`` is one of microtape's own ops."""
    return any(candidate is o for o in BUILTINS)


def origin(candidate: Op) -> str:
    """Where ``candidate`` comes from, for messages: built-in, registered, or not registered."""
    if is_builtin(candidate):
        return "built-in"
    if _ops.get(candidate.name) is candidate:
        return "registered at runtime"
    return "not registered"


@final
class _OpNamespace:
    """``microtape.ops.<name>``: attribute access to the registry."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Op:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return op(name)
        except UnknownOpError as exc:
            raise AttributeError(str(exc)) from None

    def __dir__(self) -> list[str]:
        return sorted(_ops)

    def __repr__(self) -> str:
        return f"<microtape.ops: {', '.join(sorted(_ops))}>"


ops: Final = _OpNamespace()
"""Every op as an attribute: ``microtape.ops.sin``."""

"""The op registry: one table of every op by name, built-in, added, and from plugins.

``register(op)`` adds an op at runtime; ``op(name)`` finds one; ``ops.name`` is the
same lookup as an attribute. A name is taken once: registering it again raises
:class:`OpConflictError` rather than silently replacing the first op (the trap of a
global mutable registry).

Ops from other installed distributions (see ``plugins.py``) join the table the first
time it is asked for a name that is not built in, for a listing, or to register an op:
looking up a built-in op never reads any package metadata.
"""

from __future__ import annotations

import sys
import threading
import warnings
from typing import Final, final

from ..core.errors import ArgumentTypeError, OpConflictError, PluginWarning, UnknownOpError
from ..core.values.builtins import BUILTINS
from ..core.values.op import Op
from .plugins import Discovery, PluginOp, discover

__all__ = ["all_ops", "is_builtin", "op", "ops", "origin", "plugin_ops", "register"]

_lock: Final = threading.Lock()
_ops: dict[str, Op] = {o.name: o for o in BUILTINS}

# The plugin scan: done once, under a re-entrant lock, because a plugin's module may
# itself register or look up ops while it is being imported by the scan.
_scan_lock: Final = threading.RLock()
_scan = Discovery()
_scanned = False
_scanning = False


def register(new: Op) -> Op:
    """Add ``new`` to the registry so that ``op(new.name)`` finds it; return it.

    Plugins are discovered first, so a name a plugin provides is taken too.

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
    _ensure_scanned()
    with _lock:
        existing = _ops.get(new.name)
        if existing is not None:
            raise OpConflictError(
                f"register: the name {new.name!r} is already taken by {_holder(existing)}; "
                "choose another name"
            )
        _ops[new.name] = new
    return new


def op(name: str) -> Op:
    """The op registered under ``name``, built in or from a plugin.

    Raises:
        UnknownOpError: if there is none; the message suggests close names, or, for
            an op of one of microtape's example plugins, the distribution to install. If
            a plugin that should provide ``name`` failed to load, the message says so and
            the original exception is the ``__cause__``.
        OpConflictError: if two plugins define ``name`` and neither was chosen.
    """
    found = _ops.get(name)
    if found is not None:
        return found
    if not isinstance(name, str):
        raise ArgumentTypeError(f"op: name must be a str, got {type(name).__name__} {name!r}")
    _ensure_scanned()
    found = _ops.get(name)
    if found is not None:
        return found
    problem = _scan.lookup_error(name)
    if problem is not None:
        raise problem
    plugin = _scan.plugin_hint(name)
    if plugin:
        raise UnknownOpError(f"op: no op is named {name!r}{plugin}")
    import difflib  # only when a lookup fails: keeps `import microtape` light

    close = difflib.get_close_matches(name, list(_ops), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise UnknownOpError(f"op: no op is named {name!r}{hint}{_scan.unknown_hint()}")


def all_ops() -> list[Op]:
    """Every registered op, built-ins first, then plugins and runtime additions in order."""
    _ensure_scanned()
    return list(_ops.values())


def plugin_ops() -> list[PluginOp]:
    """Every op the installed plugins offer, with its distribution, version and status.

    Scans the installed distributions the first time it is called (or the first
    time a plugin op is looked up), then answers from that scan. Failed entry points
    and conflicting or shadowed ops are listed too, each with its error text.

    Example:
        >>> import microtape as mt
        >>> all(p.status in ("loaded", "failed", "conflict", "shadowed") for p in mt.plugin_ops())
        True
    """
    _ensure_scanned()
    return list(_scan.records)


def is_builtin(candidate: Op) -> bool:
    """True if ``candidate`` is one of microtape's own ops."""
    return any(candidate is o for o in BUILTINS)


def origin(candidate: Op) -> str:
    """Where ``candidate`` comes from, for messages.

    ``"built-in"``, ``"plugin <distribution> <version>"`` (with the status if it is not
    loaded), ``"registered at runtime"`` or ``"not registered"``.
    """
    if is_builtin(candidate):
        return "built-in"
    _ensure_scanned()
    for record in _scan.records:
        if record.op is candidate:
            where = f"plugin {record.distribution} {record.version}"
            return where if record.status == "loaded" else f"{where}, {record.status}"
    if _ops.get(candidate.name) is candidate:
        return "registered at runtime"
    return "not registered"


def _holder(existing: Op) -> str:
    """What holds a name, for messages: the built-in op, a plugin's, or a runtime one."""
    if is_builtin(existing):
        return "a built-in op"
    for record in _scan.records:
        if record.op is existing:
            return f"the op of the plugin {record.provider()}"
    return "an op registered earlier"


def _taken(candidate: Op) -> str | None:
    held = _ops.get(candidate.name)
    if held is None or held is candidate:
        return None
    return "the built-in op" if is_builtin(held) else "the op registered at runtime"


def _ensure_scanned() -> None:
    """Run the plugin scan once; later calls, and calls made during the scan, return at once."""
    global _scan, _scanned, _scanning
    if _scanned:
        return
    with _scan_lock:
        if _scanned or _scanning:
            return
        _scanning = True
        try:
            found = discover(_taken)
            with _lock:
                for new in found.loaded:
                    _ops.setdefault(new.name, new)
            _scan = found
        finally:
            _scanned = True
            _scanning = False
    # Warn only now that the registry is consistent: under ``-W error`` a warning raises.
    level = _stack_level_outside_microtape()
    for message in _scan.warnings:
        warnings.warn(message, PluginWarning, stacklevel=level)


def _stack_level_outside_microtape() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside microtape."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("microtape."):
        frame = frame.f_back
        level += 1
    return level


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
            raise AttributeError(str(exc)) from exc.__cause__

    def __dir__(self) -> list[str]:
        return sorted(o.name for o in all_ops())

    def __repr__(self) -> str:
        return f"<microtape.ops: {', '.join(sorted(o.name for o in all_ops()))}>"


ops: Final = _OpNamespace()
"""Every op as an attribute: ``microtape.ops.sin``."""

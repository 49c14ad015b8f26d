"""Changes in place: assigning a Value's ``.data`` after a tape recorded it.

An optimizer step assigns ``p.data``; a gradient taken afterwards from the same
recording would mix the numbers of two moments. Each assignment gets a number from one
counter; the last number per changed Value is kept weakly, and every recording tape is
told (its sink's ``note_change``), so a tape can check before a gradient whether a Value
it recorded changed afterwards, and refuse, as PyTorch's version counter does. None of
this touches the recording hot path.
"""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING, Final
from weakref import WeakKeyDictionary

from ..recording.context import RECORDING

if TYPE_CHECKING:
    from .value import Value

__all__ = ["changed_after", "last_change", "note_change"]

_changes: Final = itertools.count(1)
_changed: Final[WeakKeyDictionary[Value, int]] = WeakKeyDictionary()
_lock: Final = threading.Lock()  # threads assign .data while others check
_last = 0


def note_change(value: Value) -> None:
    """Number a change of ``value``'s ``.data`` and tell the recording tapes."""
    global _last
    with _lock:
        change = next(_changes)
        _changed[value] = change
        _last = change
    sink = RECORDING.get()
    if sink is not None:
        sink.note_change(change)


def last_change() -> int:
    """The number of the latest in-place change (0 if none yet)."""
    return _last


def changed_after(change: int) -> dict[int, tuple[int, Value]]:
    """The Values whose ``.data`` was assigned after change number ``change``, by node
    number, with the number of the last such change."""
    if _last <= change:
        return {}
    with _lock:
        return {v.node: (c, v) for v, c in list(_changed.items()) if c > change}

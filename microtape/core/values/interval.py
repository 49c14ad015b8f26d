"""Domains: where each argument of an op is defined, as intervals of the real line.

An op declares, per argument, an :class:`Interval` or a union of them (a *region*).
Outside it the op raises :class:`~microtape.DomainError` before its forward runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NoReturn, TypeAlias, final

from ..errors import OpDefinitionError

__all__ = ["Interval", "Region", "outside_test"]


@final
class Interval:
    """An interval of the real line, open at an end unless that end is included.

    Written by hand rather than as a dataclass: ``dataclasses`` imports ``inspect``,
    which would cost ``import microtape`` several milliseconds.

    Example:
        >>> Interval(0.0)                      # x > 0, the domain of log
        Interval(low=0.0, high=inf, include_low=False, include_high=False)
        >>> Interval(0.0, include_low=True).describe("x")
        'x >= 0'
    """

    __slots__ = ("high", "include_high", "include_low", "low")

    low: float
    high: float
    include_low: bool
    include_high: bool

    def __init__(
        self,
        low: float = -math.inf,
        high: float = math.inf,
        *,
        include_low: bool = False,
        include_high: bool = False,
    ) -> None:
        if not low <= high:
            raise OpDefinitionError(f"Interval: low={low!r} must not exceed high={high!r}")
        set_ = object.__setattr__
        set_(self, "low", float(low))
        set_(self, "high", float(high))
        set_(self, "include_low", bool(include_low))
        set_(self, "include_high", bool(include_high))

    def __setattr__(self, attr: str, value: object) -> NoReturn:
        raise AttributeError("Interval is frozen")

    def _key(self) -> tuple[float, float, bool, bool]:
        return (self.low, self.high, self.include_low, self.include_high)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interval) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Interval(low={self.low!r}, high={self.high!r}, "
            f"include_low={self.include_low!r}, include_high={self.include_high!r})"
        )

    def excludes(self, x: float) -> bool:
        """True if ``x`` lies outside this interval.

        NaN is never excluded, and an infinite end admits that infinity: both propagate
        as IEEE arithmetic does (``log(inf)`` is ``inf``; ``1 / inf`` is ``0``).
        """
        return (
            x < self.low
            or (x == self.low and not self.include_low and x != -math.inf)
            or x > self.high
            or (x == self.high and not self.include_high and x != math.inf)
        )

    def describe(self, name: str) -> str:
        """The interval as a condition on ``name``, such as ``'-1 < x <= 1'``."""
        lo, hi = _g(self.low), _g(self.high)
        lower = "<=" if self.include_low else "<"
        upper = "<=" if self.include_high else "<"
        if self.low == -math.inf and self.high == math.inf:
            return f"any {name}"
        if self.low == -math.inf:
            return f"{name} {upper} {hi}"
        if self.high == math.inf:
            return f"{name} {'>=' if self.include_low else '>'} {lo}"
        return f"{lo} {lower} {name} {upper} {hi}"


def _g(x: float) -> str:
    return f"{x:g}"


Region: TypeAlias = tuple[Interval, ...]
"""Where one argument is valid: the union of these intervals."""


def outside_test(region: Region | None) -> Callable[[float], bool] | None:
    """A fast 'is x outside this region?' test; None means the whole line."""
    if region is None:
        return None
    if len(region) == 1:
        return region[0].excludes
    parts = tuple(iv.excludes for iv in region)
    return lambda x: all(part(x) for part in parts)

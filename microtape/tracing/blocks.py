"""Repeated blocks in a long program, found so that their code is compiled once.

A traced training step repeats itself: the forward pass of a model over a hundred
samples is the same hundred-odd ops a hundred times, on other numbers. Python compiles
about 150,000 lines a second, so writing each repetition out would cost far more than
the run it replaces. This module finds the repetitions; ``codegen.py`` then writes one
function per kind of block and calls it once per block.

Each unit of the program (an op, or a check between ops) gets a *signature*: the op,
and for each argument whether it is a constant, the output of the op ``d`` units
before (for ``d`` up to :data:`WINDOW`), or a value from further away. Blocks of equal
signatures compute the same thing on other numbers. :func:`runs` finds them with
rolling hashes: at each position it tries the periods at which the next few
signatures recur, and keeps the period that covers most units.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Final

__all__ = ["PERIOD", "WINDOW", "runs"]

PERIOD: Final = 4096
"""The longest block looked for, in units."""
WINDOW: Final = PERIOD
"""How far back an argument is told apart by its distance (beyond: just "far")."""

_K: Final = 4  # signatures that must recur together to suggest a period
_TRIES: Final = 64  # periods tried at one position, nearest first
_MOD: Final = (1 << 61) - 1
_BASE: Final = 1_000_003


def runs(signatures: Sequence[int], start: int, end: int) -> list[tuple[int, int, int]]:
    """Runs of repeated blocks in ``signatures[start:end]``: ``(first, period, count)``,
    each at least two blocks long, in order, not overlapping."""
    n = end - start
    if n < 2 * _K:
        return []
    sig = signatures[start:end]
    prefix = [0] * (n + 1)
    h = 0
    for i, s in enumerate(sig):
        h = (h * _BASE + s + 1) % _MOD
        prefix[i + 1] = h
    power = [1] * (min(n, PERIOD) + 1)
    for p in range(1, len(power)):
        power[p] = power[p - 1] * _BASE % _MOD

    def block(i: int, p: int) -> int:
        return (prefix[i + p] - prefix[i] * power[p]) % _MOD

    grams: dict[tuple[int, ...], list[int]] = {}
    for i in range(n - _K + 1):
        grams.setdefault(tuple(sig[i : i + _K]), []).append(i)
    found: list[tuple[int, int, int]] = []
    i = 0
    while i + 2 * _K <= n:
        later = grams[tuple(sig[i : i + _K])]
        best = (0, 0, 0)  # (units covered, period, count)
        nearest = bisect_right(later, i)
        for j in later[nearest : nearest + _TRIES]:
            p = j - i
            if p > PERIOD or i + 2 * p > n:
                break
            first = block(i, p)
            if block(j, p) != first:
                continue
            count = 2
            while i + (count + 1) * p <= n and block(i + count * p, p) == first:
                count += 1
            if count * p > best[0]:
                best = (count * p, p, count)
        _, p, count = best
        if count:  # (a hash collision only costs sharing: codegen compares blocks exactly)
            found.append((start + i, p, count))
            i += p * count
        else:
            i += 1
    return found

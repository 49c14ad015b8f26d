"""Comparing what a compiled function returned with what the function as written did."""

from __future__ import annotations

import dataclasses
import math

import microtape as mt


def same(a: object, b: object) -> bool:
    """Equal as results: Values by their numbers (to the bit, NaN equal to NaN),
    containers by their items, dataclasses by their fields, all of the same types."""
    if type(a) is not type(b):
        return False
    if isinstance(a, mt.Value):
        assert isinstance(b, mt.Value)
        return same(a.data, b.data)
    if isinstance(a, float):
        assert isinstance(b, float)
        return a.hex() == b.hex() or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple))
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b

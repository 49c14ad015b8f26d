"""Comparing what a compiled function returned with what the function as written did."""

from __future__ import annotations

import dataclasses
import math

import microtape as mt


def same(a: object, b: object, zero_sign: bool = True) -> bool:
    """Equal as results: Values by their numbers (to the bit, NaN equal to NaN; with
    ``zero_sign`` False, -0.0 equal to 0.0), containers by their items, dataclasses by
    their fields, all of the same types."""
    if type(a) is not type(b):
        return False
    if isinstance(a, mt.Value):
        assert isinstance(b, mt.Value)
        return same(a.data, b.data, zero_sign)
    if isinstance(a, float):
        assert isinstance(b, float)
        if not zero_sign and a == 0.0 and b == 0.0:
            return True
        return a.hex() == b.hex() or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple))
        return len(a) == len(b) and all(same(x, y, zero_sign) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same(a[k], b[k], zero_sign) for k in a)
    if dataclasses.is_dataclass(a):
        fields = dataclasses.fields(a)
        return all(same(getattr(a, f.name), getattr(b, f.name), zero_sign) for f in fields)
    return a == b

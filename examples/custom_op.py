"""Define a new op, register it, use it on a tape, and prove its derivatives right.

An op is data: a name, a forward function on floats, one derivative rule per
argument, and (for checking) its symbolic form. This one is ``logcosh(x) =
log(cosh(x))``, a smooth version of ``|x|`` used as a robust loss. Its derivative is
``tanh(x)``, written with ``mt.tanh`` so that the same rule runs on floats for a
first derivative and on Values, recorded, for the second.

``microtape.testing.check_op`` then compares the value and the first and second
derivatives with sympy's at points hypothesis draws. It needs the ``testing``
extra (sympy and hypothesis): ``pip install -e '.[testing]'``.

Run it:  python examples/custom_op.py
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import microtape as mt
except ModuleNotFoundError:  # run from a clone without installing: use the package beside us
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import microtape as mt

if TYPE_CHECKING:
    import sympy


def _logcosh(x: float) -> float:
    # log(cosh(x)) overflows past |x| = 710 although the result is only about |x|;
    # log(cosh x) = |x| + log(1 + e^(-2|x|)) - log 2 never does.
    a = abs(x)
    return a + math.log1p(math.exp(-2.0 * a)) - math.log(2.0)


def _sympy_logcosh(x: sympy.Expr) -> sympy.Expr:
    import sympy  # only check_op calls this: the op itself needs no sympy

    return sympy.log(sympy.cosh(x))


LOGCOSH = mt.Op(
    "logcosh",
    _logcosh,
    [lambda x: mt.tanh(x)],  # d/dx log(cosh x) = tanh x
    sympy=_sympy_logcosh,
    doc="log(cosh(x)): about x**2 / 2 near 0, about |x| - log 2 far from it",
)


@dataclass(frozen=True)
class Result:
    """What the run found, for the tests."""

    value: float  # logcosh(0.5)
    first: float  # its first derivative, from a tape
    second: float  # its second derivative, from nested tapes
    checked: bool  # check_op passed


def register_once(op: mt.Op) -> mt.Op:
    """Register ``op``, unless this very op is registered already (a second run)."""
    try:
        return mt.register(op)
    except mt.OpConflictError:
        if mt.op(op.name) is op:
            return op
        raise  # another op took the name: a name is taken once, never replaced


def main() -> Result:
    """Register logcosh, differentiate it twice, and check it against sympy."""
    logcosh = register_once(LOGCOSH)
    print(f"registered {logcosh}; mt.ops.logcosh is it: {mt.ops.logcosh is logcosh}")

    x = mt.Value(0.5)
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            y = logcosh(x)
        dy = inner.gradient(y, x)
    assert dy is not None
    d2y = outer.gradient(dy, x)
    assert d2y is not None
    print(f"logcosh(0.5) = {y.data:.6f}")
    print(f"first derivative  {dy.data:.6f}   (tanh 0.5 = {math.tanh(0.5):.6f})")
    print(f"second derivative {d2y.data:.6f}   (1 - tanh(0.5)**2 = {1 - math.tanh(0.5) ** 2:.6f})")

    try:
        from microtape.testing import check_op
    except ImportError as missing:
        print(f"skipping check_op: {missing}")
        return Result(y.data, dy.data, d2y.data, checked=False)
    check_op(logcosh, max_examples=50)
    print("check_op(logcosh): value, first and second derivatives agree with sympy")
    return Result(y.data, dy.data, d2y.data, checked=True)


if __name__ == "__main__":
    main()

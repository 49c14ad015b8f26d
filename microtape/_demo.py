"""``microtape demo``: why a gradient tape is needed, shown in the terminal."""

from __future__ import annotations

import argparse
import math

import microtape as mt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo takes no options."""


def run(args: argparse.Namespace) -> int:
    """Walk through recording, differentiating, persistence and higher order."""
    x = mt.Value(3.0)
    print("x = Value(3.0)")
    print("\n1. Record y = x*x + sin(x) on a tape, then ask for dy/dx:")
    with mt.GradientTape() as tape:
        y = x * x + mt.sin(x)
    dy = tape.gradient(y, x)
    assert dy is not None
    print(f"   dy/dx = {dy.data:.6f}   (2x + cos x = {2 * 3 + math.cos(3):.6f})")
    print("\n2. A loss computed outside any tape has no record, so no gradient:")
    loss = x * x
    with mt.GradientTape() as empty:
        pass
    print(f"   empty.gradient(loss, x) = {empty.gradient(loss, x)}")
    print("\n3. Nested tapes give higher derivatives of x**3:")
    with mt.GradientTape() as outer:
        with mt.GradientTape() as inner:
            z = x * x * x
        dz = inner.gradient(z, x)
    d2z = outer.gradient(dz, x)
    assert dz is not None and d2z is not None
    print(f"   d/dx = {dz.data}  (3x^2)   d2/dx2 = {d2z.data}  (6x)")
    print("\n4. A non-persistent tape answers once:")
    try:
        tape.gradient(y, x)
    except mt.TapeError as err:
        print(f"   TapeError: {err}")
    return 0

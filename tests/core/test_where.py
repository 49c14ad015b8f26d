"""mt.where: a per-sample choice written as one op, so a compiled step meets no guard."""

from __future__ import annotations

import math
import random

import microtape as mt


def test_where_picks_x_where_the_condition_is_positive_else_y() -> None:
    assert mt.where(1.0, 2.0, 3.0) == 2.0
    assert mt.where(0.0, 2.0, 3.0) == 3.0
    assert mt.where(-0.0, 2.0, 3.0) == 3.0
    assert mt.where(math.nan, 2.0, 3.0) == 3.0


def test_the_gradient_flows_to_the_picked_argument_alone() -> None:
    c, x, y = mt.Value(0.5), mt.Value(2.0), mt.Value(3.0)
    with mt.GradientTape(persistent=True) as tape:
        picked = mt.where(c, x * x, y * y)
        other = mt.where(-c, x * x, y * y)
    assert [g.data for g in tape.gradient(picked, [c, x, y], unconnected_gradients="zero")] == [
        0.0,
        4.0,
        0.0,
    ]
    assert [g.data for g in tape.gradient(other, [c, x, y], unconnected_gradients="zero")] == [
        0.0,
        0.0,
        6.0,
    ]
    tape.release()


def test_a_compiled_per_sample_choice_traces_once_and_matches_as_written() -> None:
    def leaky(zs: list[mt.Value]) -> mt.Value:
        with mt.GradientTape() as tape:
            total = sum((mt.where(z, z, z * -0.5) for z in zs), mt.Value(0.0))
        grads = tape.gradient(total, zs)
        return total + sum(g for g in grads if g is not None)

    compiled = mt.function(leaky)
    rng = random.Random(0)
    for _ in range(20):
        zs = [mt.Value(rng.uniform(-1.0, 1.0)) for _ in range(60)]
        assert compiled(zs).data.hex() == leaky(zs).data.hex()
    assert compiled.traces == 1

"""Wide graphs: one Value used 100,000 times, and 100,000 sources at once, exactly.

(The million-deep chain lives in test_tape.py.)
"""

from __future__ import annotations

from microtape import GradientTape, Value

WIDE = 100_000


def test_one_value_used_a_hundred_thousand_times_in_a_sum_has_an_exact_gradient() -> None:
    x = Value(0.3)
    with GradientTape() as tape:
        total = x
        for _ in range(WIDE - 1):
            total = total + x
    g = tape.gradient(total, x)
    assert g is not None and g.data == 100000.0


def test_the_builtin_sum_over_a_hundred_thousand_uses_gives_the_same_exact_gradient() -> None:
    x = Value(0.3)
    with GradientTape() as tape:
        total = sum([x] * WIDE)  # starts from the int 0: reflected add first
    assert isinstance(total, Value)
    g = tape.gradient(total, x)
    assert g is not None and g.data == 100000.0


def test_a_hundred_thousand_uses_have_an_exact_second_derivative() -> None:
    x = Value(1.5)
    with GradientTape() as outer:
        with GradientTape() as inner:
            total = x * x
            for _ in range(WIDE - 1):
                total = total + x * x
        g = inner.gradient(total, x)  # 2x per use
    h = outer.gradient(g, x)  # 2 per use
    assert g is not None and h is not None
    assert g.data == 300000.0
    assert h.data == 200000.0


def test_a_hundred_thousand_sources_each_get_their_exact_gradient() -> None:
    xs = [Value(float(i)) for i in range(WIDE)]
    with GradientTape() as tape:
        total: Value | float = 0.0
        for i, x in enumerate(xs):
            total = total + x * float(i % 7)
    assert isinstance(total, Value)
    grads = tape.gradient(total, xs, unconnected_gradients="zero")
    assert len(grads) == WIDE
    assert all(g.data == float(i % 7) for i, g in enumerate(grads))


def test_a_hundred_thousand_targets_sum_into_one_exact_gradient() -> None:
    x = Value(2.0)
    with GradientTape() as tape:
        ys = [x * 1.0 for _ in range(WIDE)]
    g = tape.gradient(ys, x, output_gradients=[0.5] * WIDE)
    assert g is not None and g.data == 50000.0

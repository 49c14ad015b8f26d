"""``tape.watch`` takes any nest of Values, as TensorFlow's does, and
``tape.watched_variables()`` is TensorFlow's name for ``tape.watched()``."""

from __future__ import annotations

import pytest
from messages import flat

import microtape as mt


def test_watch_takes_lists_tuples_dicts_and_nests_of_them() -> None:
    a, b, c, d, unwatched = (mt.Value(float(i)) for i in range(1, 6))
    with mt.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch([a, (b,)], {"c": c, "more": [{"d": d}]})
        y = a * b * c * d * unwatched
    assert tape.watched() == [a, b, c, d]
    grads = tape.gradient(y, {"a": a, "b": b, "c": c, "d": d, "u": unwatched})
    assert {k: g and g.data for k, g in grads.items()} == {
        "a": 120.0, "b": 60.0, "c": 40.0, "d": 30.0, "u": None,
    }  # fmt: skip


def test_watch_takes_a_models_variables_as_they_are() -> None:
    model = mt.nn.Dense(2, 1, seed=1)
    with mt.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(model.trainable_variables)
        out = model([1.0, 2.0])[0]
    grads = tape.gradient(out, model.trainable_variables)
    assert [g is not None for g in grads] == [True, True, True]


def test_watched_variables_is_watched() -> None:
    x, y = mt.Value(1.0), mt.Value(2.0)
    with mt.GradientTape() as tape:
        tape.watch((y,))
        z = x * 3.0
    assert tape.watched_variables() == tape.watched() == [y, x]
    tape.gradient(z, x)
    with pytest.raises(mt.TapeError, match=r"^watched_variables: this tape was non-persistent"):
        tape.watched_variables()


def test_a_leaf_that_is_not_a_value_is_named_by_its_place_and_type() -> None:
    x = mt.Value(1.0)
    tape = mt.GradientTape()
    with pytest.raises(mt.ArgumentTypeError) as raised:
        tape.watch(x, {"w": [x, "oops"]})  # a str is a Sequence to a type checker
    assert flat(raised.value) == (
        "watch: argument 1['w'][1] must be a Value, got str 'oops'; watch takes Values, "
        "or lists, tuples and dicts nesting them"
    )


def test_the_message_stays_short_for_a_large_nest() -> None:
    values: list[object] = [mt.Value(float(i)) for i in range(500)]
    values[17] = 2.5
    values[400] = None
    tape = mt.GradientTape(watch_accessed_variables=False)
    with pytest.raises(TypeError) as raised:
        tape.watch(values)  # type: ignore[arg-type]
    message = str(raised.value)
    assert message.startswith("watch: argument 0[17] must be a Value, got float 2.5 (2 leaves")
    assert len(message) < 200 and "Value(" not in message
    with tape:
        pass
    assert tape.watched() == []  # a refused watch watches nothing


def test_a_long_leaf_is_cut() -> None:
    tape = mt.GradientTape()
    with pytest.raises(TypeError) as raised:
        tape.watch(["x" * 1000])
    assert len(str(raised.value)) < 200


def test_a_nest_that_holds_itself_is_refused() -> None:
    loop: list[object] = [mt.Value(1.0)]
    loop.append(loop)
    with pytest.raises(mt.ArgumentTypeError, match=r"argument 0\[1\] contains itself"):
        mt.GradientTape().watch(loop)  # type: ignore[arg-type]


def test_watch_of_a_float_still_names_its_argument() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="watch: argument 1 must be a Value, got float"):
        mt.GradientTape().watch(mt.Value(1.0), 1.0)  # type: ignore[arg-type]

"""The learner's names: ``mt.Value(x, name=...)``, the variables that hold Values when a
block ends, and ``mt.nn`` parameters by their path, in every display, and what names do not
change (``==``, hashing, copies, memory)."""

from __future__ import annotations

import contextlib
import copy
import gc
import pickle
import re
import sys
import weakref
from collections.abc import Sequence

import pytest
import sympy
from messages import flat

import microtape as mt
from microtape.core.tapes.found import BUDGET
from microtape.core.values import names as core_names


def _shown(table: str) -> list[str]:
    """The names of the Values a ``print(tape)`` table shows (``w = 0.5``), in order."""
    return re.findall(r"(?<![\w/])(\w+) = [-\d.]+", table)


# ---- a name given ---------------------------------------------------------------------------


def test_a_value_takes_a_name_and_keeps_its_number_equality_and_hash() -> None:
    w = mt.Value(0.5, name="weight")
    plain = mt.Value(0.5)
    assert w.name == "weight" and plain.name is None
    assert w.data == 0.5 and repr(w) == "Value(0.5)"  # the text of a Value is unchanged
    assert w != plain and w == w and hash(w) == w.node  # by node, as always
    assert {w: 1}[w] == 1


def test_a_copy_is_a_new_node_without_the_name() -> None:
    w = mt.Value(0.5, name="w")
    for twin in (copy.copy(w), copy.deepcopy(w), pickle.loads(pickle.dumps(w))):
        assert twin.data == 0.5 and twin != w and twin.name is None
    assert w.name == "w"


@pytest.mark.parametrize("bad", ["", 3, None.__class__, b"w"])
def test_a_name_must_be_a_non_empty_str(bad: object) -> None:
    with pytest.raises(mt.ArgumentTypeError, match="name must be a non-empty str"):
        mt.Value(1.0, name=bad)  # type: ignore[arg-type]


def test_a_given_name_leaves_the_table_with_its_value() -> None:
    before = len(core_names._GIVEN)
    values = [mt.Value(float(i), name=f"p{i}") for i in range(1000)]
    assert len(core_names._GIVEN) == before + 1000
    del values
    gc.collect()
    assert len(core_names._GIVEN) == before  # a training loop naming Values holds no more


def test_a_tape_keeps_a_given_name_once_the_value_is_gone() -> None:
    def record() -> tuple[mt.GradientTape, mt.Value]:
        w = mt.Value(0.5, name="weight")
        with mt.GradientTape(persistent=True) as tape:
            loss = w * 3.0
        return tape, loss

    tape, loss = record()
    assert loss.data == 1.5
    gc.collect()
    assert re.search(r"leaf\s+weight = 0\.5", str(tape)) and "loss = 1.5" in str(tape)


def test_the_name_holds_no_reference_to_its_value() -> None:
    w = mt.Value(0.5, name="w")
    alive = weakref.ref(w)
    del w
    assert alive() is None  # freed by reference counting alone


# ---- every display, one name ------------------------------------------------------------------


def _step() -> tuple[mt.GradientTape, mt.Value, mt.Value, mt.Value]:
    w = mt.Value(0.5, name="weight")
    b = mt.Value(0.0)
    with mt.GradientTape(persistent=True) as tape:
        error = w * 3.0 + b - 6.0
        loss = error * error
    tape.gradient(loss, [w, b])
    return tape, w, b, loss


def test_every_display_of_a_tape_uses_the_names() -> None:
    tape, w, b, loss = _step()
    text = str(tape)
    assert re.search(r"leaf\s+weight = 0\.5", text)  # given
    assert re.search(r"leaf\s+b = 0\.0", text)  # the variable that held it
    assert "error = -4.5" in text and "loss = 20.25" in text
    assert "v0 = 1.5" in text and "v1 = 1.5" in text  # intermediates no variable held
    html = tape._repr_html_()
    assert ">weight = 0.5<" in html and ">loss = 20.25<" in html
    assert "weight" in flat(tape.explain(loss, w)) and "b = 0.0" in flat(tape.explain(loss, b))
    dot = mt.to_dot(loss, tape)
    for label in ("weight (leaf)", "b (leaf)", "error = sub", "loss = mul", "v0 = mul"):
        assert f'label="{label} |' in dot
    assert (
        mt.to_sympy(loss, tape)
        == (3 * sympy.Symbol("weight", real=True) + sympy.Symbol("b", real=True) - 6) ** 2
    )


def test_a_value_has_one_name_across_the_displays() -> None:
    tape, _, _, loss = _step()
    shown_in_table = set(_shown(str(tape)))
    shown_in_dot = set(re.findall(r'label="(\w+)(?: \(leaf\)| = \w+) \|', mt.to_dot(tape)))
    assert shown_in_table == shown_in_dot == {"weight", "b", "v0", "v1", "error", "loss"}
    chain = flat(tape.explain(loss, mt.Value(1.0)))
    assert "weight = 0.5, b = 0.0" in chain  # the leaves, named as in the table


def test_a_name_two_values_share_goes_to_the_first_and_the_second_is_numbered() -> None:
    a = mt.Value(1.0, name="x")
    c = mt.Value(2.0, name="x")
    with mt.GradientTape() as tape:
        y = a * c
    assert y.data == 2.0
    text = str(tape)
    assert re.search(r"leaf\s+x = 1\.0", text) and re.search(r"leaf\s+v0 = 2\.0", text)
    assert "y = 2.0" in text


def test_a_variable_named_like_a_number_does_not_collide_with_one() -> None:
    v0 = mt.Value(1.0)
    with mt.GradientTape() as tape:
        v2 = v0 * 2.0 + 1.0
    names = _shown(str(tape))
    assert names == ["v0", "v1", "v2"]  # the product is numbered v1: v0 and v2 are taken
    assert len(set(names)) == 3 and v2.data == 3.0


# ---- names found when a block ends -------------------------------------------------------------


def test_the_locals_of_the_function_that_ran_the_block_name_its_values() -> None:
    x = mt.Value(3.0)
    with mt.GradientTape() as tape:
        square = x * x
        result = square + 1.0
    view = tape.view()
    assert [view.name_of(r.output) for r in view.records] == ["square", "result"]
    assert view.name_of(x) == "x"
    assert result.data == 10.0


def test_module_globals_name_values_when_the_block_runs_at_module_level() -> None:
    namespace: dict[str, object] = {"__name__": "a_module"}
    exec(
        "import microtape as mt\n"
        "w = mt.Value(2.0)\n"
        "_hidden = mt.Value(1.0)\n"
        "with mt.GradientTape() as tape:\n"
        "    out = w * _hidden\n",
        namespace,
    )
    tape = namespace["tape"]
    assert isinstance(tape, mt.GradientTape)
    text = str(tape)
    assert re.search(r"leaf\s+w = 2\.0", text) and "out = 2.0" in text
    assert "_hidden" not in text  # a name starting with _ is skipped (a notebook's _, _3)


_GLOBAL_SCALE = mt.Value(4.0)
scale = mt.Value(4.0)


def test_the_globals_of_the_module_name_what_no_local_holds() -> None:
    with mt.GradientTape() as tape:
        y = scale * 2.0
    assert re.search(r"leaf\s+scale = 4\.0", str(tape)) and y.data == 8.0


def test_a_local_hides_a_global_of_the_same_name() -> None:
    scale = mt.Value(1.0)  # the module's `scale` is another Value: not named scale here
    with mt.GradientTape() as tape:
        y = scale * globals()["scale"]
    text = str(tape)
    assert re.search(r"leaf\s+scale = 1\.0", text) and re.search(r"leaf\s+v0 = 4\.0", text)
    assert y.data == 4.0


def test_lists_tuples_and_dicts_name_their_values_by_place() -> None:
    xs = [mt.Value(1.0), mt.Value(2.0)]
    grid = ((mt.Value(3.0),),)
    params = {"w": mt.Value(4.0)}
    with mt.GradientTape() as tape:
        total = xs[0] + xs[1] + grid[0][0] * params["w"]
    text = str(tape)
    for name in ("xs[0] = 1.0", "xs[1] = 2.0", "grid[0][0] = 3.0", "params['w'] = 4.0"):
        assert name in text
    assert "total = 15.0" in text and total.data == 15.0


def test_a_given_name_beats_the_variable_and_a_variable_beats_a_place_in_a_list() -> None:
    w = mt.Value(1.0, name="weight")
    b = mt.Value(2.0)
    pair = [w, b]
    with mt.GradientTape() as tape:
        y = pair[0] * pair[1]
    text = str(tape)
    assert "weight = 1.0" in text and re.search(r"leaf\s+b = 2\.0", text)
    assert "pair[" not in text and y.data == 2.0


def test_a_variable_assigned_again_names_the_last_value_it_held() -> None:
    x = mt.Value(1.0)
    y = x
    with mt.GradientTape(persistent=True) as tape:
        for _ in range(3):
            y = y * 2.0
    assert _shown(str(tape)) == ["x", "v0", "v1", "y"]
    with tape:
        y = y + 1.0  # the second block: y now holds another Value
    assert _shown(str(tape)) == ["x", "v0", "v1", "v2", "y"]
    tape.release()


def test_a_block_ended_by_an_exit_stack_names_the_variables_of_the_code_that_ran_it() -> None:
    x = mt.Value(2.0)
    with contextlib.ExitStack() as stack:
        tape = stack.enter_context(mt.GradientTape())
        square = x * x
    assert tape.view().name_of(square) == "square" and tape.view().name_of(x) == "x"


def test_only_so_many_items_of_lists_are_looked_at() -> None:
    xs = [mt.Value(float(i)) for i in range(BUDGET + 10)]
    with mt.GradientTape() as tape:
        first, last = xs[0] * 1.0, xs[-1] * 1.0
    view = tape.view()
    assert view.name_of(xs[0]) == "xs[0]" and view.name_of(xs[BUDGET - 1]) == f"xs[{BUDGET - 1}]"
    assert view.name_of(xs[-1]) is None  # past the budget: numbered
    assert first.data == 0.0 and last.data == BUDGET + 9


def test_names_are_the_tapes_own_and_go_with_it() -> None:
    x = mt.Value(1.0)
    with mt.GradientTape() as first:
        y = x * 2.0
    with mt.GradientTape() as second:
        z = y * 3.0
    assert second.view().name_of(z) == "z" and first.view().name_of(y) == "y"
    first.gradient(y, x)
    assert first.view().name_of(y) is None  # used up: its names went with its records


def test_reading_the_names_keeps_no_value_alive() -> None:
    x = mt.Value(1.0)
    with mt.GradientTape() as tape:
        y = mt.exp(x)
    assert sys.getrefcount(y) == 2  # the name `y`, and the call's argument
    alive = weakref.ref(y)
    del y
    assert alive() is None  # after the block, del frees it as it always did
    assert tape.view().count == 1


def test_an_accumulator_names_by_the_variables_too() -> None:
    x = mt.Value(3.0)
    with mt.ForwardAccumulator(x, 1.0) as acc:
        cube = x * x * x
    text = str(acc)
    assert re.search(r"^  x\s+3\.0\s+1\.0$", text, re.M)
    assert re.search(r"^  cube\s+27\.0$", text, re.M)
    assert acc.view().name_of(cube.node) == "cube"


# ---- mt.nn parameters by their path ------------------------------------------------------------


def test_a_models_parameters_are_named_by_their_path() -> None:
    model = mt.nn.MLP(2, [3], 1, seed=0)
    names = [p.name for p in model.trainable_variables]
    assert names[:2] == ["layers[0].kernel[0][0]", "layers[0].kernel[0][1]"]
    assert "layers[0].bias[2]" in names and names[-1] == "layers[1].bias[0]"
    assert len(set(names)) == len(names) == model.count_params()
    layer = mt.nn.Dense(2, 1)
    assert [p.name for p in layer.trainable_variables] == [
        "kernel[0][0]",
        "kernel[1][0]",
        "bias[0]",
    ]


def test_a_modules_own_attributes_are_paths_and_a_given_name_is_kept() -> None:
    class Line(mt.nn.Module):
        def __init__(self) -> None:
            self.slope = mt.Value(2.0)
            self.intercept = mt.Value(1.0, name="c")
            self.extra = {"scale": mt.Value(3.0)}

        def __call__(self, inputs: Sequence[mt.Value | float]) -> list[mt.Value]:
            return [self.slope * inputs[0] + self.intercept]

    line = Line()
    assert [p.name for p in line.trainable_variables] == ["slope", "c", "extra['scale']"]
    model = mt.nn.Sequential([line])
    assert [p.name for p in model.trainable_variables] == [
        "layers[0].slope",
        "c",
        "layers[0].extra['scale']",
    ]


def test_a_model_in_a_tape_shows_its_parameters_by_path() -> None:
    model = mt.nn.Dense(1, 1, seed=0)
    with mt.GradientTape() as tape:
        out = model([2.0])[0]
    text = str(tape)
    assert "kernel[0][0] = " in text and "bias[0] = 0.0" in text and "out = " in text
    assert out.name is None  # an output is named by the tape, not given a name

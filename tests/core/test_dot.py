"""mt.to_dot and mt.render_dot: the graph a tape recorded, as DOT text, and what a notebook
or render_dot does where Graphviz's ``dot`` is not installed.

The pictures ``dot`` renders are tested in ``tests/integration/test_dot_rendering.py``.
"""

from __future__ import annotations

import math
import pickle
import re
from pathlib import Path

import pytest
from messages import loose

import microtape as mt
from microtape.inspection.dot import DotText, _escape

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$', re.M)
EDGE = re.compile(r"^  (\w+) -> (\w+)(?: \[(.*)\])?;$", re.M)


def _names(dot: str) -> dict[str, str]:
    """Each DOT ID (``n3``) with the name its box shows (``loss``); a constant (``c0``),
    which shows its number, by its ID."""
    return {
        node: node if node[0] == "c" else re.split(r" \(leaf\)| = ", label)[0]
        for node, label, _ in NODE.findall(dot)
    }


def _nodes(dot: str) -> dict[str, str]:
    """Each box's label by the name it shows."""
    names = _names(dot)
    return {names[node]: label for node, label, _ in NODE.findall(dot)}


def _styles(dot: str) -> dict[str, str]:
    names = _names(dot)
    return {names[node]: attrs for node, _, attrs in NODE.findall(dot)}


def _edges(dot: str) -> list[tuple[str, str, str]]:
    """Each arrow between the names of its boxes, with its attributes."""
    names = _names(dot)
    return [(names[a], names[b], attrs) for a, b, attrs in EDGE.findall(dot)]


def _recorded() -> tuple[mt.GradientTape, mt.Value, mt.Value, mt.Value]:
    """x = 2: y = sin(x) * 3 (the target), and an unrelated z = exp(x)."""
    x = mt.Value(2.0)
    with mt.GradientTape(persistent=True) as tape:
        y = mt.sin(x) * 3.0
        z = mt.exp(x)
    return tape, x, y, z


# ---- the text -------------------------------------------------------------------------------


def test_a_tape_is_drawn_with_one_node_per_value_named_as_print_tape_names_them() -> None:
    tape, _, _, _ = _recorded()
    dot = mt.to_dot(tape)
    assert dot.startswith("digraph microtape {\n") and dot.endswith("}\n")
    nodes = _nodes(dot)
    assert nodes == {
        "x": "x (leaf) | value 2.0",
        "v0": "v0 = sin | value 0.909297",  # no variable held it: numbered
        "y": "y = mul | value 2.72789",
        "z": "z = exp | value 7.38906",
        "c0": "3.0",
    }
    summary = str(tape)
    for line in ("x = 2.0", "v0 = 0.909297", "y = 2.72789", "z = 7.38906"):
        assert line in summary


def test_arrows_carry_the_local_derivatives_and_constants_are_dashed() -> None:
    tape, _, _, _ = _recorded()
    edges = _edges(mt.to_dot(tape))
    assert edges == [
        ("x", "v0", f'label="×{math.cos(2.0):.6g}"'),
        ("v0", "y", 'label="×3.0"'),
        ("c0", "y", "style=dashed"),
        ("x", "z", f'label="×{math.exp(2.0):.6g}"'),
    ]


def test_every_arrow_joins_declared_nodes() -> None:
    x, w = mt.Value(0.5), mt.Value(-1.5)
    with mt.GradientTape() as tape:
        y = mt.tanh(x * w + 1.0) ** 2 / (x - 3.0)
    dot = mt.to_dot(tape)
    nodes = _nodes(dot)
    assert all(a in nodes and b in nodes for a, b, _ in _edges(dot))
    assert len(nodes) == 2 + 6 + 3  # two leaves, six ops, three constants
    assert y.data < 0


def test_gradients_appear_after_a_gradient_call_on_a_persistent_tape() -> None:
    tape, x, y, _ = _recorded()
    assert "grad" not in mt.to_dot(tape)  # nothing differentiated yet
    tape.gradient(y, x)
    nodes = _nodes(mt.to_dot(tape))
    assert nodes["x"] == f"x (leaf) | value 2.0 | grad {3 * math.cos(2.0):.6g}"
    assert nodes["y"].endswith("| grad 1.0")
    assert nodes["z"].endswith("| grad -")  # exp(x) is not on the way to y


def test_a_value_is_drawn_with_only_what_it_depends_on_and_is_highlighted() -> None:
    tape, x, y, _ = _recorded()
    dot = mt.to_dot(y, tape)
    nodes = _nodes(dot)
    assert set(nodes) == {"x", "v0", "y", "c0"}  # no exp: y does not depend on it
    assert "what y depends on" in dot
    assert "bold" in _styles(dot)["y"]
    leaf_only = _nodes(mt.to_dot(x, tape))
    assert leaf_only == {"x": "x (leaf) | value 2.0"}


def test_labels_are_escaped() -> None:
    assert _escape('odd{"|<>}\\\n') == 'odd\\{\\"\\|\\<\\>\\}\\\\\\n'


def test_a_constant_is_drawn_as_the_number_the_op_read() -> None:
    class Odd(float):  # a float subclass with its own text: the tape keeps the number
        def __repr__(self) -> str:
            return "odd"

    x = mt.Value(1.0)
    with mt.GradientTape() as tape:
        x * Odd(2.0)
    assert _nodes(mt.to_dot(tape))["c0"] == "2.0"


def test_a_tape_that_recorded_nothing_is_an_empty_graph() -> None:
    with mt.GradientTape() as tape:
        pass
    dot = mt.to_dot(tape)
    assert _nodes(dot) == {} and _edges(dot) == []
    assert "0 records of a non-persistent tape" in dot


def test_a_long_constant_is_shortened_as_values_are_and_a_short_one_kept() -> None:
    x = mt.Value(1.0)
    with mt.GradientTape() as tape:
        x * 0.8731234567 + 0.1 - 2.0
    assert [label for name, label in _nodes(mt.to_dot(tape)).items() if name[0] == "c"] == [
        "0.873123",
        "0.1",
        "2.0",
    ]


# ---- the path from one source ---------------------------------------------------------------


def _layer() -> tuple[mt.GradientTape, mt.Value, mt.Value, mt.Value, mt.Value]:
    """loss = (tanh(w1 * 2 + w2 * 3) * v - 1)^2, recorded; returns tape, w1, w2, v, loss."""
    w1, w2, v = mt.Value(0.5), mt.Value(-0.25), mt.Value(2.0)
    with mt.GradientTape(persistent=True) as tape:
        hidden = mt.tanh(w1 * 2.0 + w2 * 3.0)
        loss = (hidden * v - 1.0) ** 2
    tape.gradient(loss, [w1, w2, v])
    return tape, w1, w2, v, loss


def test_a_source_draws_only_the_records_on_its_paths_to_the_target() -> None:
    tape, _, _, v, loss = _layer()
    dot = mt.to_dot(loss, tape, source=v)
    nodes = _nodes(dot)
    # On the path: v3 = hidden * v, v4 = v3 - 1, loss = v4 ** 2. Read but not drawn
    # further back: the hidden unit (grey). Not drawn at all: w1, w2, their products.
    assert set(nodes) == {"v", "hidden", "v3", "v4", "loss", "c0", "c1"}
    assert nodes["hidden"].startswith("hidden = tanh |")  # with the op that made it
    styles = _styles(dot)
    assert 'style="filled,bold"' in styles["v"] and "#dbeafe" in styles["v"]  # the source
    assert "#f3f4f6" in styles["hidden"]  # grey: not computed from v, its history not drawn
    assert "#fde68a" in styles["loss"]  # the target
    assert "how loss depends on v: the 3 records" in dot
    assert "grey: read on the way, not computed from v" in dot
    edges = _edges(dot)
    assert [(a, b) for a, b, _ in edges] == [
        ("hidden", "v3"),
        ("v", "v3"),
        ("v3", "v4"),
        ("c0", "v4"),
        ("v4", "loss"),
        ("c1", "loss"),
    ]
    grey = [(a, b) for a, b, attrs in edges if "#9ca3af" in attrs]
    assert grey == [("hidden", "v3"), ("c0", "v4"), ("c1", "loss")]  # not the gradient's way


def test_a_source_deep_in_the_graph_draws_every_path_through_the_middle() -> None:
    tape, w1, _, _, loss = _layer()
    nodes = _nodes(mt.to_dot(loss, tape, source=w1))
    assert {"w1", "v0", "v2", "hidden", "v3", "v4", "loss"} <= set(nodes)  # w1 -> ... -> loss
    assert "w2" not in nodes  # w2 is not on w1's path; its product v1 is an input
    assert nodes["v1"].startswith("v1 = mul |")


def test_a_source_equal_to_the_target_is_drawn_alone() -> None:
    tape, _, _, _, loss = _layer()
    assert set(_nodes(mt.to_dot(loss, tape, source=loss))) == {"loss"}


def test_a_source_the_target_does_not_depend_on_is_refused_with_the_way_to_ask_why() -> None:
    w, unused = mt.Value(1.0), mt.Value(2.0)
    with mt.GradientTape() as tape:
        y = w * 3.0
        unused * 2.0
    with pytest.raises(mt.TapeError, match=loose(r"y does not depend on .*unused.*tape\.explain")):
        mt.to_dot(y, tape, source=unused)
    with pytest.raises(mt.TapeError, match=r"was not used by any op recorded"):
        mt.to_dot(y, tape, source=mt.Value(5.0))
    with pytest.raises(mt.ArgumentTypeError, match="source must be a Value"):
        mt.to_dot(y, tape, source=1.0)  # type: ignore[call-overload]
    with pytest.raises(mt.ArgumentTypeError, match="no source for a whole tape"):
        mt.to_dot(tape, source=w)  # type: ignore[call-overload]


# ---- what to_dot refuses --------------------------------------------------------------------


def test_a_value_without_its_tape_is_refused_with_the_reason() -> None:
    with pytest.raises(mt.ArgumentTypeError, match="does not know how it was computed"):
        mt.to_dot(mt.Value(1.0))  # type: ignore[call-overload]


def test_wrong_arguments_are_refused() -> None:
    tape, _, _, _ = _recorded()
    with pytest.raises(mt.ArgumentTypeError, match="not two tapes"):
        mt.to_dot(tape, tape)  # type: ignore[call-overload]
    with pytest.raises(mt.ArgumentTypeError, match="expected a GradientTape or a Value"):
        mt.to_dot(1.0)  # type: ignore[call-overload]


def test_a_value_the_tape_did_not_record_is_refused() -> None:
    tape, _, _, _ = _recorded()
    with pytest.raises(mt.TapeError, match="was not recorded on this tape"):
        mt.to_dot(mt.Value(1.0) * 2, tape)


def test_a_used_up_tape_says_draw_before_or_use_persistent() -> None:
    x = mt.Value(1.0)
    with mt.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(
        mt.TapeError, match=loose(r"persistent=True.*keeps every record until release")
    ):
        mt.to_dot(tape)


def test_a_released_tape_has_nothing_to_draw() -> None:
    tape, _, y, _ = _recorded()
    tape.release()
    with pytest.raises(mt.TapeError, match="released"):
        mt.to_dot(y, tape)


# ---- the text is a str that a notebook shows as a picture -----------------------------------


class _Printer:
    def __init__(self) -> None:
        self.printed: list[str] = []

    def text(self, text: str) -> None:
        self.printed.append(text)


def test_the_dot_text_is_a_str_in_every_way_that_matters() -> None:
    tape, _, y, _ = _recorded()
    dot = mt.to_dot(y, tape)
    assert isinstance(dot, str) and isinstance(dot, DotText)
    plain = str(dot)
    assert type(plain) is str and dot == plain and hash(dot) == hash(plain)
    assert dot[:17] == "digraph microtape" and dot.splitlines()[-1] == "}"
    assert repr(dot) == repr(plain)  # outside a notebook nothing changes
    assert pickle.loads(pickle.dumps(dot)) == dot


def test_the_plain_text_display_is_the_dot_text_itself() -> None:
    tape, _, _, _ = _recorded()
    dot = mt.to_dot(tape)
    printer = _Printer()
    dot._repr_pretty_(printer, cycle=False)
    assert printer.printed == [str(dot)]


def test_without_graphviz_a_notebook_shows_the_text_and_how_to_get_the_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a directory without dot
    dot = mt.to_dot(_recorded()[0])
    assert dot._repr_svg_() is None
    markdown = dot._repr_markdown_()
    assert markdown is not None and "apt-get install graphviz" in markdown
    assert f"```dot\n{dot}```" in markdown


# ---- rendering: without dot, and what render_dot refuses ------------------------------------


def test_a_missing_dot_program_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a directory without dot
    with pytest.raises(mt.GraphvizError, match="apt-get install graphviz"):
        mt.render_dot("digraph {}", tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    assert issubclass(mt.GraphvizError, mt.MicrotapeError)


def test_render_dot_refuses_an_unknown_format_and_non_text() -> None:
    with pytest.raises(mt.ArgumentTypeError, match=loose(r"name it \*\.svg, \*\.png or \*\.pdf")):
        mt.render_dot("digraph {}", "graph.jpeg")
    with pytest.raises(mt.ArgumentTypeError, match="must be DOT text"):
        mt.render_dot(mt.GradientTape(), "g.svg")  # type: ignore[arg-type]

"""Displays that read well: a partial read twice, compiled code in a notebook, an
accumulator's table, wrapped messages, counts, one rule for numbers, the path from a source,
and generated code in plain words."""

from __future__ import annotations

import math
import re
import warnings
from html import unescape
from html.parser import HTMLParser

import pytest
from messages import flat

import microtape as mt
from microtape.core.words import counted, figure, wrapped
from microtape.tracing.shown import CodeText

# ---- a Value read twice: one partial, the sum ----------------------------------------------------


def _square() -> tuple[mt.GradientTape, mt.Value, mt.Value]:
    x = mt.Value(-4.5)
    with mt.GradientTape(persistent=True) as tape:
        y = x * x
    tape.gradient(y, x)
    return tape, x, y


def test_a_square_shows_its_partial_once_as_the_sum_of_its_two() -> None:
    tape, _, _ = _square()
    (row,) = [line for line in str(tape).splitlines() if " mul " in line]
    assert "d/dx = -9.0 (-4.5 + -4.5)" in row and row.count("d/dx") == 1
    assert re.search(r"leaf\s+x = -4\.5\s+-9\.0$", str(tape), re.M)  # and the gradient agrees


def test_a_square_is_one_arrow_labelled_with_the_sum() -> None:
    tape, _, y = _square()
    dot = mt.to_dot(y, tape)
    arrows = [line for line in dot.splitlines() if "->" in line]
    assert arrows == ['  n0 -> n1 [label="×-9.0 (-4.5 + -4.5)"];']


def test_an_op_reading_one_value_in_two_places_sums_different_partials() -> None:
    x = mt.Value(2.0)
    with mt.GradientTape() as tape:
        y = x**x  # d/dx of x**y is y x**(y-1) = 4.0; of y is x**y ln x = 2.77259
    assert "d/dx = 6.77259 (4.0 + 2.77259)" in str(tape) and y.data == 4.0


# ---- compiled code in a notebook ---------------------------------------------------------------


def _compiled() -> mt.function:  # type: ignore[valid-type]
    @mt.function
    def step(w: mt.Value, x: float) -> tuple[mt.Value, list[mt.Value | None]]:
        with mt.GradientTape() as tape:
            loss = (w * x - 1.0) * (w * x - 1.0)
        return loss, tape.gradient(loss, [w])

    return step


def test_the_code_is_a_str_that_a_notebook_shows_highlighted() -> None:
    step = _compiled()
    code = step.code(mt.Value(0.5), 2.0)  # type: ignore[attr-defined]
    assert isinstance(code, str) and type(code) is CodeText
    assert str(code) == code and code.splitlines()[2] == "def run(_x):"
    html = code._repr_html_()
    assert html.startswith("<pre") and html.endswith("</pre>")
    assert '<span style="color: #7c3aed">def</span>' in html  # a keyword
    assert '<span style="color: #6b7280"># mul</span>' in html  # a comment
    assert unescape(re.sub(r"<[^>]+>", "", html)) == code  # every character, in order


def test_the_code_shows_as_lines_in_ipython_and_its_html_is_escaped() -> None:
    printed: list[str] = []

    class Printer:
        def text(self, text: str) -> None:
            printed.append(text)

    code = CodeText("x = a < b  # <b>bold</b> & more\n")
    code._repr_pretty_(Printer(), cycle=False)
    assert printed == [str(code)]
    html = code._repr_html_()
    assert "<b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    assert CodeText("def (:\n")._repr_html_().startswith("<pre")  # not Python: shown plain


def test_the_code_names_values_as_the_function_does() -> None:
    step = _compiled()
    code = step.code(mt.Value(0.5), 2.0)  # type: ignore[attr-defined]
    lines = [line.strip() for line in code.splitlines()]
    assert "# inputs: w, x" in lines and "(w, x, ) = _x" in lines
    assert any(line.startswith("loss = ") for line in lines)
    assert any(line.startswith("g_w = ") for line in lines)  # the gradient of w


def test_the_generated_code_speaks_plain_words() -> None:
    code = _compiled().code(mt.Value(0.5), 2.0)  # type: ignore[attr-defined]
    assert "strong zero" not in code and "_nan()  # NaN: Python's sweep" in code


# ---- an accumulator in a notebook ---------------------------------------------------------------


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.paragraphs: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th", "p"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if self._text is not None and tag in ("td", "th", "p"):
            (self.paragraphs if tag == "p" else self.rows[-1]).append("".join(self._text))
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def test_an_accumulator_shows_its_primals_and_tangents_by_name_as_html() -> None:
    w = mt.Value(0.5)
    b = mt.Value(0.0, name="bias")
    with mt.ForwardAccumulator([w, b], [1.0, 0.0]) as acc:
        loss = (w * 3.0 + b) * 2.0
    cells = _Cells()
    cells.feed(acc._repr_html_())
    assert cells.paragraphs[0] == "ForwardAccumulator: exited, 2 primals, 3 tangents computed"
    assert cells.rows[:3] == [
        ["primal", "value", "tangent"],
        ["w", "0.5", "1.0"],
        ["bias", "0.0", "0.0"],
    ]
    assert cells.rows[3] == ["computed from them", "tangent"]
    assert cells.rows[-1] == ["loss", "6.0"]
    text = str(acc)
    assert text.splitlines()[1].split() == ["primal", "value", "tangent"]
    assert "loss" in text and loss.data == 3.0


def test_an_unnamed_primal_is_shown_by_its_place_and_an_accumulator_before_any_op() -> None:
    acc = mt.ForwardAccumulator({"a": mt.Value(1.0)}, {"a": 2.0})
    assert re.search(r"^  primals\['a'\]\s+1\.0\s+2\.0$", str(acc), re.M)
    cells = _Cells()
    cells.feed(acc._repr_html_())
    assert cells.paragraphs[-1] == "no op has run on a primal yet"


# ---- wrapped messages -------------------------------------------------------------------------


def test_explanations_are_wrapped_between_words_at_100_columns() -> None:
    x = mt.Value(2.0)
    loss = x * x
    with mt.GradientTape() as tape:
        pass
    text = tape.explain(loss, x)
    assert len(text) > 400 and "\n" in text
    assert all(len(line) <= 100 for line in text.splitlines())
    words = flat(text).split()
    assert words == text.split()  # no word was broken


def test_errors_and_warnings_are_wrapped_leaving_room_for_their_class_name() -> None:
    with mt.GradientTape() as tape:
        y = mt.Value(1.0) * 2.0
    tape.gradient(y, [])
    with pytest.raises(mt.TapeError) as raised:
        tape.gradient(y, [])
    lines = str(raised.value).splitlines()
    assert len(lines) > 1 and len("TapeError: " + lines[0]) <= 100
    assert all(len(line) <= 100 for line in lines)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with mt.GradientTape():
            float(mt.Value(1.0) * 2.0)
    (warning,) = caught
    lines = str(warning.message).splitlines()
    assert len(lines) > 1 and len("ValueAsNumberWarning: " + lines[0]) <= 100


def test_wrapping_keeps_paragraphs_and_indented_lines_and_is_stable() -> None:
    prose = " ".join(["word"] * 60)
    text = f"{prose}\n\n{prose}:\n    code = that(is, kept)  # as it is, however long " + "x" * 90
    out = wrapped(text)
    first, second = out.split("\n\n")
    assert all(len(line) <= 100 for line in first.splitlines())
    assert (
        second.splitlines()[-1] == "    code = that(is, kept)  # as it is, however long " + "x" * 90
    )
    assert wrapped(out) == out
    assert wrapped("short") == "short"
    assert str(mt.TapeError("a " * 80)).count("\n") == 1


# ---- counts and numbers -----------------------------------------------------------------------


def test_counts_are_singular_for_one_everywhere() -> None:
    assert counted(1, "record") == "1 record" and counted(0, "record") == "0 records"
    x = mt.Value(1.0)
    with mt.GradientTape(persistent=True) as tape:
        y = x * 2.0
    assert repr(tape).endswith("1 record>") and str(tape).startswith(
        "GradientTape(persistent): exited, 1 record\n"
    )
    assert "1 record of a persistent tape" in mt.to_dot(tape)
    acc = mt.ForwardAccumulator(x, 1.0)
    with acc:
        x * 3.0
    assert repr(acc) == "<ForwardAccumulator exited, 1 primal, 1 tangent computed>"
    step = mt.function(lambda v: v * 2.0)
    step(mt.Value(1.0))
    assert repr(step).endswith(": 1 trace>")
    w = mt.Value(3.0)
    with mt.GradientTape() as paused:
        with paused.stop_recording():
            feature = x * 2.0
        z = feature * w
    assert "paused recording 1 time in" in flat(paused.explain(z, x))
    assert y.data == 2.0


@pytest.mark.parametrize(
    ("x", "shown"),
    [
        (0.5, "0.5"),
        (3.0, "3.0"),
        (-27.0, "-27.0"),
        (0.1 + 0.2, "0.3"),
        (2 / 3, "0.666667"),
        (2.0000001, "2.0"),
        (-0.0, "0.0"),
        (123456.0, "123456.0"),
        (1234567.0, "1.23457e+06"),
        (1e-7, "1e-07"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
    ],
)
def test_one_rule_for_numbers(x: float, shown: str) -> None:
    assert figure(x) == shown


def test_constants_and_outputs_follow_the_same_rule_in_every_display() -> None:
    x = mt.Value(0.1 + 0.2)
    with mt.GradientTape(persistent=True) as tape:
        y = x * (0.1 + 0.2)  # a constant of 17 digits
        z = y * -0.0
    text = str(tape)
    assert "0.30000000000000004" not in text and "x, 0.3" in text and "y = 0.09" in text
    assert "x = 0.3" in text and "d/dx = 0.3" in text  # the leaf, the constant, the partial
    assert "z = 0.0" in text and "-0.0" not in text  # z is -0.0: its sign is not shown
    dot = mt.to_dot(tape)
    assert 'c0 [label="0.3", shape=plaintext]' in dot and 'label="y = mul | value 0.09"' in dot
    assert 'label="z = mul | value 0.0"' in dot and "-0.0" not in dot
    assert math.copysign(1.0, z.data) == -1.0


# ---- the path from a source -------------------------------------------------------------------


def test_with_a_source_what_is_not_on_its_way_is_grey() -> None:
    w, b = mt.Value(0.5), mt.Value(2.0)
    with mt.GradientTape() as tape:
        out = w * b + 1.0
    dot = mt.to_dot(out, tape, source=w)
    boxes = re.findall(r'^  n\d+ \[label="(\w+)[^"]*"(.*)\];$', dot, re.M)
    styles = dict(boxes)
    assert "#9ca3af" in styles["b"]  # b is read on the way, not computed from w
    assert "#9ca3af" not in styles["w"] and "#9ca3af" not in styles["out"]
    arrows = [line for line in dot.splitlines() if "->" in line]
    grey = [line for line in arrows if "#9ca3af" in line]
    assert len(arrows) == 4 and len(grey) == 2  # from b, and from the constant 1.0
    assert "grey: read on the way, not computed from w" in dot
    assert "#9ca3af" not in mt.to_dot(out, tape)  # without a source nothing is grey

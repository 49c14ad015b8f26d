"""A tape in Jupyter: ``_repr_html_`` shows the table ``print(tape)`` prints, as HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import microtape as mt
from microtape.inspection.html import render
from microtape.inspection.summary import Table


class _Cells(HTMLParser):
    """The text of each paragraph and of each table row's cells, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self.rows: list[list[str]] = []
        self._text: list[str] | None = None
        self._in_p = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th", "p"):
            self._text = []
            self._in_p = tag == "p"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "p") and self._text is not None:
            text = "".join(self._text)
            if self._in_p:
                self.paragraphs.append(text)
            else:
                self.rows[-1].append(text)
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _parse(html: str) -> _Cells:
    cells = _Cells()
    cells.feed(html)
    cells.close()
    return cells


def _words(line: str) -> list[str]:
    return line.split()


def _recorded() -> tuple[mt.GradientTape, mt.Value, mt.Value]:
    w, b = mt.Value(0.5), mt.Value(0.0)
    with mt.GradientTape(persistent=True) as tape:
        error = w * 3.0 + b - 6.0
        loss = error * error
    return tape, loss, w


def test_a_tape_displays_as_the_table_print_tape_prints() -> None:
    tape, loss, w = _recorded()
    tape.gradient(loss, w)
    found = _parse(tape._repr_html_())
    text = str(tape).splitlines()
    assert found.paragraphs == [text[0]]  # the title line
    assert found.rows[0] == ["#", "op", "inputs", "output", "local derivatives", "gradient"]
    assert len(found.rows) == len(text) - 1
    # Row for row, the same cells: the text table only pads them into columns.
    for cells, line in zip(found.rows, text[1:], strict=True):
        assert _words(" ".join(cells)) == _words(line)
    square = ["3", "mul", "error, error", "loss = 20.25", "d/derror = -9.0 (-4.5 + -4.5)", "1.0"]
    assert square in found.rows  # by the learner's names; one partial for the Value read twice


def test_before_a_gradient_call_the_note_says_how_to_see_gradients() -> None:
    tape, _, _ = _recorded()
    found = _parse(tape._repr_html_())
    assert "gradient" not in found.rows[0]
    assert found.paragraphs[-1] == "(call gradient() to see each node's gradient here)"


def test_a_freed_or_empty_tape_displays_only_its_title() -> None:
    with mt.GradientTape() as empty:
        pass
    assert _parse(empty._repr_html_()).rows == []
    tape, _, _ = _recorded()
    tape.release()
    found = _parse(tape._repr_html_())
    assert found.rows == [] and found.paragraphs == [str(tape)]
    assert "released" in found.paragraphs[0]


def test_a_long_tape_displays_the_same_elided_middle() -> None:
    x = mt.Value(1.0)
    with mt.GradientTape() as tape:
        for _ in range(100):
            x = x * 1.0
    found = _parse(tape._repr_html_())
    assert ["...", "70 more", "", "", ""] in found.rows
    assert len(found.rows) == 1 + 1 + 20 + 1 + 10  # header, leaf, head, elision, tail


def test_every_cell_is_escaped() -> None:
    odd = Table('<b>"x" & y</b>', ("<th>",), [("<script>alert(1)</script>",)], "a < b")
    html = render(odd)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;th&gt;" in html and "&quot;x&quot; &amp; y" in html
    found = _parse(html)
    assert found.paragraphs == ['<b>"x" & y</b>', "a < b"]  # what the reader sees
    assert found.rows == [["<th>"], ["<script>alert(1)</script>"]]


def test_the_html_is_one_balanced_fragment() -> None:
    tape, _, _ = _recorded()
    html = tape._repr_html_()
    for tag in ("div", "table", "thead", "tbody", "tr", "td", "th", "p", "code"):
        opened = len(re.findall(rf"<{tag}[ >]", html))
        assert opened == html.count(f"</{tag}>"), tag

"""mt.render_dot and a notebook's picture of a tape: what Graphviz's ``dot`` draws.

These tests run ``dot``. Without it they skip on a laptop, but fail under CI (CI=true),
whose script installs Graphviz: a picture that was never rendered is not tested. The DOT
text itself, and what happens where ``dot`` is missing, are in
``tests/core/test_dot.py``.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import pytest

import microtape as mt

pytestmark = pytest.mark.graphviz  # every test renders with dot


@pytest.fixture
def dot_program() -> str:
    """The path of ``dot``; skip without it, except under CI."""
    found = shutil.which("dot")
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Graphviz's dot is not installed, but CI must render: install graphviz")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz); CI runs this")
    return found


def _recorded() -> tuple[mt.GradientTape, mt.Value, mt.Value, mt.Value]:
    """x = 2: y = sin(x) * 3 (the target), and an unrelated z = exp(x)."""
    x = mt.Value(2.0)
    with mt.GradientTape(persistent=True) as tape:
        y = mt.sin(x) * 3.0
        z = mt.exp(x)
    return tape, x, y, z


def test_a_notebook_shows_the_rendered_svg(dot_program: str) -> None:
    tape, x, y, _ = _recorded()
    tape.gradient(y, x)
    dot = mt.to_dot(tape)
    svg = dot._repr_svg_()
    assert svg is not None and svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    texts = {html.unescape(t) for t in re.findall(r">([^<]*)</text>", svg)}
    assert {"x (leaf)", "v0 = sin", "y = mul", "×3.0"} <= texts  # by the variables' names
    assert dot._repr_markdown_() is None  # a notebook prefers Markdown to SVG: give none


@pytest.mark.parametrize(
    ("name", "magic"), [("g.svg", b"<?xml"), ("g.png", b"\x89PNG"), ("g.pdf", b"%PDF")]
)
def test_render_dot_writes_the_picture_the_suffix_names(
    dot_program: str, tmp_path: Path, name: str, magic: bytes
) -> None:
    tape, _, _, _ = _recorded()
    written = mt.render_dot(mt.to_dot(tape), tmp_path / name)
    assert written == tmp_path / name
    assert written.read_bytes().startswith(magic)


def test_the_svg_shows_every_node_and_derivative(dot_program: str, tmp_path: Path) -> None:
    tape, x, y, _ = _recorded()
    tape.gradient(y, x)
    svg = mt.render_dot(mt.to_dot(tape), tmp_path / "g.svg").read_text()
    texts = {html.unescape(t) for t in re.findall(r">([^<]*)</text>", svg)}
    for text in ("x (leaf)", "v0 = sin", "grad 1.0", "×3.0", "3.0", "value 7.38906", "grad -"):
        assert text in texts


def test_render_dot_takes_an_explicit_format(dot_program: str, tmp_path: Path) -> None:
    path = mt.render_dot(mt.to_dot(_recorded()[0]), tmp_path / "picture", format="svg")
    assert path.read_text().startswith("<?xml")


def test_invalid_dot_reports_what_dot_said(dot_program: str, tmp_path: Path) -> None:
    with pytest.raises(mt.GraphvizError, match=r"dot failed \(exit 1\): .*syntax error"):
        mt.render_dot("digraph { -> }", tmp_path / "g.svg")

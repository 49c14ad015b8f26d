"""docs/design.md's "Reading order" is true: every file and function it names exists, and
each line count is the one in the code (a change that makes a step longer or shorter
updates the doc too), and the glossary defines the words the code leans on."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DESIGN = ROOT / "docs" / "design.md"
ROW = re.compile(
    r"^\| `(?P<path>[^`]+)` \| (?P<what>`[^`]+`|module docstring) \| (?P<lines>\d+) \|"
)


def _section(title: str) -> str:
    return DESIGN.read_text().split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _rows() -> list[tuple[str, str, int]]:
    rows = []
    for line in _section("Reading order").splitlines():
        found = ROW.match(line)
        if found:
            rows.append((found["path"], found["what"].strip("`"), int(found["lines"])))
    return rows


def _named(body: list[ast.stmt], name: str) -> ast.stmt:
    """The last definition of ``name`` in ``body`` (an overload's implementation), a
    function, a class or an assignment (an op table entry)."""
    found: ast.stmt | None = None
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                found = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found = node
    assert found is not None, f"{name} is not defined there"
    return found


def span(path: Path, what: str) -> int:
    """How many lines ``what`` (a dotted name, or "module docstring") takes in ``path``."""
    tree = ast.parse(path.read_text())
    if what == "module docstring":
        node: ast.stmt = tree.body[0]
        assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        start = node.lineno
    else:
        body = tree.body
        for part in what.split("."):
            node = _named(body, part)
            body = getattr(node, "body", [])
        decorators = getattr(node, "decorator_list", [])
        start = min([d.lineno for d in decorators] + [node.lineno])
    assert node.end_lineno is not None
    return node.end_lineno - start + 1


def test_the_reading_order_lists_the_four_parts() -> None:
    rows = _rows()
    assert len(rows) >= 30
    paths = [p for p, _, _ in rows]
    assert paths[0] == "core/recording/record.py"
    assert "tracing/codegen.py" in paths and "core/transforms/forward.py" in paths


@pytest.mark.parametrize(("path", "what", "lines"), _rows())
def test_each_line_count_is_the_code_s(path: str, what: str, lines: int) -> None:
    actual = span(ROOT / "microtape" / path, what)
    assert actual == lines, f"docs/design.md says {path} {what} is {lines} lines; it is {actual}"


def test_the_total_is_the_sum_of_the_rows() -> None:
    total = sum(n for _, _, n in _rows())
    assert f"In all: {total} lines." in _section("Reading order")


@pytest.mark.parametrize(
    "word",
    ["record", "row", "sink", "stretch", "hold", "strong zero", "guard", "tracer", "observer"],
)
def test_the_glossary_defines(word: str) -> None:
    assert re.search(rf"\*\*{re.escape(word)}\*\*", _section("Glossary")), word


def test_the_span_counter_counts_decorators_and_overloads(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Doc\nstring."""\n'
        "from typing import overload\n"
        "@overload\ndef f(x: int) -> int: ...\n"
        "@overload\ndef f(x: str) -> str: ...\n"
        "def f(x):\n    return x\n"
        "class C:\n    def m(self):\n        pass\n"
        "entry = dict(\n    a=1,\n)\n"
    )
    assert span(sample, "module docstring") == 2
    assert span(sample, "f") == 2
    assert span(sample, "C.m") == 2
    assert span(sample, "entry") == 3

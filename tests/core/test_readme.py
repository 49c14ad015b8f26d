"""The README's and the docs' Python examples run and print what their comments say, and
their links lead somewhere."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)


def test_readme_has_python_examples() -> None:
    assert _python_blocks(README)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_block_runs_and_prints_what_its_comments_promise(page: Path) -> None:
    for block in _python_blocks(page):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(page), "exec"), {"__name__": "readme"})
        printed = out.getvalue().splitlines()
        promised = [
            m.group(1)
            for line in block.splitlines()
            if line.lstrip().startswith("print(") and (m := re.search(r"(Value\([^)]*\))", line))
        ]
        for expected in promised:
            assert any(expected in line for line in printed), (page.name, expected, printed)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute address: not this repository's business
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), (page.name, target)
        if anchor:
            headings = re.findall(r"(?m)^#+ (.+)$", linked.read_text())
            assert anchor in {_anchor(h) for h in headings}, (page.name, target)


def test_the_readme_links_every_docs_page() -> None:
    text = README.read_text()
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in text, page.name

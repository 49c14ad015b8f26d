"""The README's Python examples run, and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples() -> None:
    assert _python_blocks()


def test_every_readme_python_block_runs_and_prints_what_its_comments_promise() -> None:
    for block in _python_blocks():
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(README), "exec"), {"__name__": "readme"})
        printed = out.getvalue().splitlines()
        promised = [
            m.group(1)
            for line in block.splitlines()
            if line.lstrip().startswith("print(") and (m := re.search(r"(Value\([^)]*\))", line))
        ]
        for expected in promised:
            assert any(expected in line for line in printed), (expected, printed)

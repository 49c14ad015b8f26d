"""How microtape's texts are written: one rule each for counts, numbers and long lines.

- :func:`counted`: ``1 record``, ``2 records``.
- :func:`figure`: a number as every display shows it (a node's value, a partial, a
  gradient, a tangent, a constant): Python's shortest spelling when it has at most six
  significant digits (``0.5``, ``3.0``, ``-27.0``), else six (``0.873124``); never ``-0``.
- :func:`wrapped`: a message or an explanation broken into lines of at most
  :data:`WIDTH` columns between words, paragraph by paragraph, so that a terminal or a
  notebook never breaks it inside a word.
"""

from __future__ import annotations

import textwrap
from typing import Final

__all__ = ["WIDTH", "counted", "figure", "wrapped"]

WIDTH: Final = 100
"""The longest line of a message or an explanation."""


def counted(n: int, thing: str, things: str | None = None) -> str:
    """``n`` and the word, singular for 1: ``counted(1, "record")`` is ``"1 record"``.

    Example:
        >>> counted(2, "record"), counted(1, "primal"), counted(3, "was", "were")
        ('2 records', '1 primal', '3 were')
    """
    return f"{n} {thing if n == 1 else things or thing + 's'}"


def figure(x: float) -> str:
    """``x`` as displays show it (see the module docstring).

    Example:
        >>> figure(0.5), figure(3.0), figure(0.1 + 0.2), figure(2 / 3), figure(-0.0)
        ('0.5', '3.0', '0.3', '0.666667', '0.0')
        >>> figure(1234567.0), figure(1e-7), figure(float("inf"))
        ('1.23457e+06', '1e-07', 'inf')
    """
    if x == 0.0:
        return "0.0"  # -0.0 too: its sign says nothing a reader needs
    text = repr(x)
    digits = text.partition("e")[0].replace("-", "").replace(".", "").strip("0")
    if len(digits) <= 6 or x != x or x in (float("inf"), float("-inf")):
        return text
    short = f"{x:.6g}"
    return short if any(c in short for c in ".en") else short + ".0"


def wrapped(text: str, width: int = WIDTH, first: int = 0) -> str:
    """``text`` broken into lines of at most ``width`` columns, between words.

    Paragraphs (separated by a blank line) are filled one by one; an indented line (code,
    a table) is kept as it is. Lines already broken are joined first, so wrapping a
    wrapped text again gives it back. ``first`` columns are kept
    free on the first line (for what a traceback writes before a message).

    Example:
        >>> print(wrapped("one two three four five six", width=10))
        one two
        three four
        five six
    """
    out: list[str] = []
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        run: list[str] = []  # lines of prose, to be filled together
        for line in [*paragraph.split("\n"), None]:
            if line is not None and not line[:1].isspace():
                run.append(line.strip())
                continue
            if run:
                lines.append(_filled(" ".join(run), width, first))
                first, run = 0, []
            if line is not None:
                lines.append(line)  # indented: code or a table, kept as it is
                first = 0
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _filled(prose: str, width: int, first: int) -> str:
    if len(prose) <= width - first:
        return prose
    indent = " " * first
    filled = textwrap.fill(
        prose,
        width=width,
        initial_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return filled[len(indent) :]

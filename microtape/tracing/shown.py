"""The code ``f.code()`` returns: a ``str`` that Jupyter shows as highlighted Python.

Without this, a notebook cell ending with ``f.code()`` shows one quoted string full of
``\\n``. :class:`CodeText` is the text itself; only its display differs: lines in
IPython's plain-text display, and Python with its keywords, names, numbers and comments
coloured in a notebook (by :mod:`tokenize`: no highlighter is needed).
"""

from __future__ import annotations

import io
import keyword
import tokenize
from html import escape
from typing import Final, Protocol, final

__all__ = ["CodeText"]

_COLORS: Final = {
    "keyword": "#7c3aed",
    "comment": "#6b7280",
    "number": "#b45309",
    "string": "#047857",
    "def": "#1d4ed8",
}


class _Printer(Protocol):
    """The part of IPython's pretty printer that :meth:`CodeText._repr_pretty_` uses."""

    def text(self, text: str) -> None: ...


@final
class CodeText(str):
    """Python source that a Jupyter notebook displays highlighted, and IPython as lines.

    It is the text itself (a ``str``: print it, compare it, write it to a file).

    Example:
        >>> text = CodeText("x = 1  # one\\n")
        >>> text == "x = 1  # one\\n", isinstance(text, str)
        (True, True)
        >>> '<span style="color: #6b7280"># one</span>' in text._repr_html_()
        True
    """

    __slots__ = ()

    def _repr_html_(self) -> str:
        """The code in a ``<pre>`` block, its tokens coloured (every character escaped)."""
        return (
            '<pre style="line-height: 1.35; font-size: 12px; white-space: pre">'
            f"{_highlighted(str(self))}</pre>"
        )

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        """IPython's plain-text display: the code as lines, not a quoted string."""
        printer.text(str(self))


def _highlighted(source: str) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    out: list[str] = []
    at = 0
    after_def = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.ENDMARKER:
                break
            kind = _kind(token, after_def)
            after_def = token.type == tokenize.NAME and token.string == "def"
            if kind is None:
                continue
            start = offsets[token.start[0] - 1] + token.start[1]
            end = offsets[token.end[0] - 1] + token.end[1]
            out.append(escape(source[at:start]))
            out.append(f'<span style="color: {_COLORS[kind]}">{escape(source[start:end])}</span>')
            at = end
    except (tokenize.TokenError, SyntaxError, IndexError):
        pass  # not Python after all: the rest is shown plain
    out.append(escape(source[at:]))
    return "".join(out)


def _kind(token: tokenize.TokenInfo, after_def: bool) -> str | None:
    if token.type == tokenize.COMMENT:
        return "comment"
    if token.type == tokenize.NUMBER:
        return "number"
    if token.type == tokenize.STRING:
        return "string"
    if token.type == tokenize.NAME:
        if keyword.iskeyword(token.string):
            return "keyword"
        if after_def:
            return "def"
    return None

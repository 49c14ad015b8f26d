"""Reading microtape's messages in tests.

A message, an explanation or a warning is wrapped at 100 columns (``core/words.py``), so
a phrase a test looks for may be broken across lines: :func:`flat` joins the lines again,
and :func:`loose` lets a ``match=`` pattern's spaces match a line break.
"""

from __future__ import annotations

__all__ = ["flat", "loose"]


def flat(message: object) -> str:
    """``str(message)`` on one line: each run of spaces and line breaks as one space."""
    return " ".join(str(message).split())


def loose(pattern: str) -> str:
    """``pattern`` (a regular expression) with each space matching any run of spaces and
    line breaks, and ``.`` matching a line break too."""
    return "(?s)" + pattern.replace(" ", r"\s+")

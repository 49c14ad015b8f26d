"""Pictures of what a tape recorded: Graphviz DOT text, and rendering it with ``dot``.

``to_dot(tape)`` draws every record; ``to_dot(value, tape)`` draws only what
``value`` depends on. A Value does not know the Values it was computed from (the
graph lives on the tape), so drawing a Value needs the tape that recorded it.

Each Value is a box with its name (the same ``v0``, ``v1``, ... as ``print(tape)``),
the op that produced it (``leaf`` for an input the tape did not compute), its value
and, after a ``gradient()`` call on a persistent tape, its gradient from that call.
An arrow runs from each input to the op's output, labelled with the local
derivative ``d output / d input`` the backward pass multiplies by. A plain number
passed to an op is drawn as a bare number, with a dashed arrow and no derivative:
nothing flows back into a constant.

Making the text needs nothing; turning it into a picture needs the ``dot`` program
from Graphviz, which :func:`render_dot` runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, overload

if TYPE_CHECKING:
    from pathlib import Path

from ..core.errors import ArgumentTypeError, GraphvizError, TapeError
from ..core.tapes.tape import GradientTape
from ..core.tapes.view import Record, TapeState, TapeView
from ..core.values.value import Value
from .names import node_names
from .walk import depends_on

__all__ = ["GraphvizError", "render_dot", "to_dot"]

FORMATS: Final = ("svg", "png", "pdf")
"""What :func:`render_dot` can write."""

_LEAF_COLOR: Final = "#dbeafe"
_TARGET_COLOR: Final = "#fde68a"


@overload
def to_dot(graph: GradientTape) -> str: ...
@overload
def to_dot(graph: Value, tape: GradientTape) -> str: ...
def to_dot(graph: GradientTape | Value, tape: GradientTape | None = None) -> str:
    """Graphviz DOT text of what a tape recorded (see the module docstring).

    Args:
        graph: a tape, to draw all its records; or a Value, to draw only what it
            depends on, as recorded on ``tape``.
        tape: the tape that recorded ``graph`` when ``graph`` is a Value.

    Returns:
        The DOT text; render it with :func:`render_dot` or ``dot -Tsvg``.

    Raises:
        ArgumentTypeError: for a Value without its tape, or a tape with a second tape.
        TapeError: if the tape has no records left (used up or released), or the
            Value was not recorded on it.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.GradientTape(persistent=True) as tape:
        ...     y = x * x + 1
        >>> _ = tape.gradient(y, x)
        >>> print(mt.to_dot(y, tape), end="")              # doctest: +ELLIPSIS
        digraph microtape {
        ...
          v0 [label="v0 (leaf) | value 3 | grad 6", style=filled, fillcolor="#dbeafe"];
          v1 [label="v1 = mul | value 9 | grad 1"];
          v2 [label="v2 = add | value 10 | grad 1", style="filled,bold", fillcolor="#fde68a"];
          c0 [label="1.0", shape=plaintext];
          v0 -> v1 [label="×3"];
          v0 -> v1 [label="×3"];
          v1 -> v2 [label="×1"];
          c0 -> v2 [style=dashed];
        }
    """
    if isinstance(graph, GradientTape):
        if tape is not None:
            raise ArgumentTypeError(
                "to_dot: give a tape, or a Value and the tape that recorded it; not two tapes"
            )
        view = graph.view()
        records = _records(view)
        return _dot(records, node_names(records), view, target=None)
    if type(graph) is not Value:
        raise ArgumentTypeError(
            f"to_dot: expected a GradientTape or a Value, got {type(graph).__name__} {graph!r}"
        )
    if not isinstance(tape, GradientTape):
        raise ArgumentTypeError(
            f"to_dot: {graph!r} does not know how it was computed: only the tape that "
            "recorded it does. Pass that tape too: to_dot(value, tape)"
        )
    view = tape.view()
    records = _records(view)
    names = node_names(records)  # over all records, so names match print(tape)
    if graph not in names:
        raise TapeError(
            f"to_dot: {graph!r} was not recorded on this tape, so the tape cannot say how it "
            "was computed. Only ops run inside `with tape:` are recorded; compute it inside "
            "the block"
        )
    return _dot(depends_on(records, graph), names, view, target=graph)


def _records(view: TapeView) -> tuple[Record, ...]:
    if not view.freed:
        return view.records
    if view.state is TapeState.RELEASED:
        raise TapeError("to_dot: the tape was released: release() freed its records")
    raise TapeError(
        "to_dot: this non-persistent tape freed its records in its one gradient() call, so "
        "there is nothing left to draw. Draw it before calling gradient(), or record on "
        "GradientTape(persistent=True) to draw it afterwards with each node's gradient (a "
        "persistent tape keeps every record until release())"
    )


def _dot(
    records: Sequence[Record], names: dict[Value, str], view: TapeView, target: Value | None
) -> str:
    grads = view.last_gradients()
    produced = {rec.output: rec.op.name for rec in records}
    shown: dict[Value, None] = {}  # the Values to draw, in the order of their names
    for rec in records:
        for v in (*rec.inputs, rec.output):
            if type(v) is Value:
                shown.setdefault(v)
    if target is not None:
        shown.setdefault(target)  # a leaf drawn alone
    kind = "persistent" if view.persistent else "non-persistent"
    what = f"{len(records)} record{'' if len(records) == 1 else 's'} of a {kind} tape"
    if target is not None:
        what = f"what {names[target]} depends on: {what}"
    title = _escape(f"{what}\narrows: × local derivative (d output / d input)")
    lines = [
        "digraph microtape {",
        f'  graph [rankdir=LR, label="{title}", labelloc=t, fontname="Helvetica"];',
        '  node [shape=record, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    order = {v: i for i, v in enumerate(names)}
    for v in sorted(shown, key=order.__getitem__):
        made_by = produced.get(v)
        fields = [
            f"{names[v]} (leaf)" if made_by is None else f"{names[v]} = {made_by}",
            f"value {v.data:.6g}",
        ]
        if grads is not None:
            g = grads.get(v.node)
            fields.append("grad -" if g is None else f"grad {float(g):.6g}")
        # Top-level fields of a record stack vertically when rankdir=LR: narrow boxes.
        label = " | ".join(_escape(f) for f in fields)
        style = ""
        if v == target:
            style = f', style="filled,bold", fillcolor="{_TARGET_COLOR}"'
        elif made_by is None:
            style = f', style=filled, fillcolor="{_LEAF_COLOR}"'
        lines.append(f'  {names[v]} [label="{label}"{style}];')
    edges: list[str] = []
    constants = 0
    for out, inputs, partials, _ in records:
        for arg, partial in zip(inputs, partials, strict=True):
            if type(arg) is Value:
                label = "" if partial is None else f' [label="×{partial:.6g}"]'
                edges.append(f"  {names[arg]} -> {names[out]}{label};")
            else:
                # One node per use: a constant is not a Value, and 2 here is not 2 there.
                lines.append(f'  c{constants} [label="{_escape(repr(arg))}", shape=plaintext];')
                edges.append(f"  c{constants} -> {names[out]} [style=dashed];")
                constants += 1
    return "\n".join([*lines, *edges, "}"]) + "\n"


def _escape(text: str) -> str:
    """``text`` safe inside a quoted record label: DOT and record syntax characters escaped."""
    out = []
    for ch in text:
        if ch in '\\"{}|<>':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    return "".join(out)


def render_dot(
    dot: str, path: str | os.PathLike[str], format: str | None = None, *, timeout: float = 60.0
) -> Path:
    """Render DOT text to a picture file with Graphviz's ``dot`` program.

    Args:
        dot: DOT text, such as ``to_dot(tape)``.
        path: the file to write.
        format: ``"svg"``, ``"png"`` or ``"pdf"``; by default taken from the
            file's suffix.
        timeout: seconds to wait for ``dot``.

    Returns:
        The path written.

    Raises:
        GraphvizError: if ``dot`` is not installed, fails, or times out.
        ArgumentTypeError: if the format is unknown or ``dot`` is not a str.

    Example:
        >>> import microtape as mt, tempfile, pathlib
        >>> x = mt.Value(2.0)
        >>> with mt.GradientTape() as tape:
        ...     y = mt.sin(x) * x
        >>> with tempfile.TemporaryDirectory() as tmp:     # doctest: +SKIP
        ...     picture = mt.render_dot(mt.to_dot(tape), pathlib.Path(tmp) / "graph.svg")
        ...     picture.read_text().startswith("<?xml")
        True
    """
    if not isinstance(dot, str):
        raise ArgumentTypeError(
            f"render_dot: dot must be DOT text (a str), got {type(dot).__name__}"
        )
    import shutil  # here, not at the top: `import microtape` stays light
    import subprocess
    from pathlib import Path

    target = Path(path)
    fmt = format if format is not None else target.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ArgumentTypeError(
            f"render_dot: cannot tell which picture to make from {str(target)!r}; name it "
            f"*.svg, *.png or *.pdf, or pass format= one of {', '.join(FORMATS)}"
        )
    program = shutil.which("dot")
    if program is None:
        raise GraphvizError(
            "render_dot: the `dot` program of Graphviz is not installed (or not on PATH). "
            "Install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
            "graphviz), or paste the DOT text into any Graphviz viewer"
        )
    try:
        done = subprocess.run(
            [program, f"-T{fmt}", "-o", str(target)],
            input=dot.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"render_dot: dot took longer than {timeout:g} s") from None
    if done.returncode != 0:
        raise GraphvizError(
            f"render_dot: dot failed (exit {done.returncode}): "
            f"{done.stderr.decode(errors='replace').strip()}"
        )
    return target

"""Pictures of what a tape recorded: Graphviz DOT text, and rendering it with ``dot``.

``to_dot(tape)`` draws every record; ``to_dot(value, tape)`` draws only what
``value`` depends on. A Value does not know the Values it was computed from (the
graph lives on the tape), so drawing a Value needs the tape that recorded it.

Each Value is a box with its name (the same as in ``print(tape)``: ``w``, ``loss``, or
``v0``, ``v1``, ... for a Value with no name), the op that produced it (``leaf`` for an
input the tape did not compute), its value and, after a ``gradient()`` call on a
persistent tape, its gradient from that call. An arrow runs from each input to the op's
output, labelled with the local derivative ``d output / d input`` the backward pass
multiplies by; an input read twice (``x * x``) has one arrow, labelled with the sum of its
two partials and the two terms (``×6.0 (3.0 + 3.0)``). A plain number passed to an op is
drawn as a bare number, with a dashed arrow and no derivative: nothing flows back into a
constant. The DOT IDs are ``n0``, ``n1``, ... (``c0``, ... for constants), whatever the
names: a name is any text.

``to_dot(value, tape, source=w)`` draws less: only the records on the paths from ``w``
to ``value``, the way the gradient of ``value`` flows back to ``w``. What those records
read that does not depend on ``w`` (another parameter, a constant, a Value computed
earlier on the tape, whose own history is not drawn) is grey, with its arrows.

Making the text needs nothing; turning it into a picture needs the ``dot`` program
from Graphviz, which :func:`render_dot` runs. The text is a :class:`DotText`, a ``str``
that a Jupyter notebook displays as the picture (or as the text, without Graphviz).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Protocol, final, overload

if TYPE_CHECKING:
    from pathlib import Path

from ..core.errors import ArgumentTypeError, GraphvizError, TapeError
from ..core.tapes.tape import GradientTape
from ..core.tapes.view import Record, TapeState, TapeView
from ..core.values.value import Value
from ..core.words import counted, figure
from .names import node_names
from .summary import local_derivatives
from .walk import depends_on

__all__ = ["DotText", "GraphvizError", "render_dot", "to_dot"]

FORMATS: Final = ("svg", "png", "pdf")
"""What :func:`render_dot` can write."""

_LEAF_COLOR: Final = "#dbeafe"
_TARGET_COLOR: Final = "#fde68a"
_EARLIER_COLOR: Final = "#e5e7eb"
_ASIDE_COLOR: Final = "#f3f4f6"
_ASIDE_INK: Final = "#9ca3af"


class _Printer(Protocol):
    """The part of IPython's pretty printer that :meth:`DotText._repr_pretty_` uses."""

    def text(self, text: str) -> None: ...


@final
class DotText(str):
    """Graphviz DOT text that a Jupyter notebook displays as the picture it describes.

    It is the text itself (a ``str``: compare it, slice it, write it to a file, pass it
    to :func:`render_dot`); only its display in a notebook differs. With Graphviz's
    ``dot`` on PATH, a cell that ends with ``mt.to_dot(...)`` shows the rendered SVG;
    without it, the DOT text, with a note on how to get the picture. Neither IPython
    nor Graphviz is needed to make one.
    """

    __slots__ = ()

    def _repr_svg_(self) -> str | None:
        """The picture as SVG, rendered by ``dot``; None without Graphviz (Jupyter then
        shows the Markdown or the plain text instead).

        Raises:
            GraphvizError: if ``dot`` fails or takes over a minute.
        """
        import shutil

        program = shutil.which("dot")
        if program is None:
            return None
        svg = _run_dot(program, self, ["-Tsvg"], timeout=60.0).decode()
        return svg[svg.find("<svg") :]  # the element alone, without the XML prologue

    def _repr_markdown_(self) -> str | None:
        """Without Graphviz: the DOT text in a code block, and how to see the picture."""
        import shutil

        if shutil.which("dot") is not None:
            return None  # the SVG is shown; a notebook prefers Markdown, so give none
        return (
            "Graphviz's `dot` is not installed, so here is the graph as DOT text. Install "
            "Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install "
            "graphviz`) to see the picture here, or paste the text into any Graphviz "
            f"viewer.\n\n```dot\n{self}```\n"
        )

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        """IPython's plain-text display: the DOT text as lines, not a quoted string."""
        printer.text(str(self))


@overload
def to_dot(graph: GradientTape) -> DotText: ...
@overload
def to_dot(graph: Value, tape: GradientTape, *, source: Value | None = None) -> DotText: ...
def to_dot(
    graph: GradientTape | Value,
    tape: GradientTape | None = None,
    *,
    source: Value | None = None,
) -> DotText:
    """Graphviz DOT text of what a tape recorded (see the module docstring).

    Args:
        graph: a tape, to draw all its records; or a Value, to draw only what it
            depends on, as recorded on ``tape``.
        tape: the tape that recorded ``graph`` when ``graph`` is a Value.
        source: with a Value ``graph``, draw only the records on the paths from
            ``source`` to it: how its gradient reaches ``source``.

    Returns:
        The DOT text (a :class:`DotText`, which is a ``str``); render it with
        :func:`render_dot` or ``dot -Tsvg``, or show it in a notebook.

    Raises:
        ArgumentTypeError: for a Value without its tape, or a tape with a second tape.
        TapeError: if the tape has no records left (used up or released), the Value
            (or the source) was not recorded on it, or the Value does not depend on
            the source.

    Example:
        >>> import microtape as mt
        >>> x = mt.Value(3.0)
        >>> with mt.GradientTape(persistent=True) as tape:
        ...     y = x * x + 1
        >>> _ = tape.gradient(y, x)
        >>> print(mt.to_dot(y, tape), end="")              # doctest: +ELLIPSIS
        digraph microtape {
        ...
          n0 [label="x (leaf) | value 3.0 | grad 6.0", style=filled, fillcolor="#dbeafe"];
          n1 [label="v0 = mul | value 9.0 | grad 1.0"];
          n2 [label="y = add | value 10.0 | grad 1.0", style="filled,bold", fillcolor="#fde68a"];
          c0 [label="1.0", shape=plaintext];
          n0 -> n1 [label="×6.0 (3.0 + 3.0)"];
          n1 -> n2 [label="×1.0"];
          c0 -> n2 [style=dashed];
        }
    """
    if isinstance(graph, GradientTape):
        if tape is not None or source is not None:
            raise ArgumentTypeError(
                "to_dot: give a tape, or a Value and the tape that recorded it (and "
                "optionally a source Value); not two tapes, and no source for a whole tape"
            )
        view = graph.view()
        records = _records(view)
        return _dot(records, node_names(records, view), view, target=None)
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
    names = node_names(records, view)  # over all records, so names match print(tape)
    if graph not in names:
        raise TapeError(
            f"to_dot: {graph!r} was not recorded on this tape, so the tape cannot say how it "
            "was computed. Only ops run inside `with tape:` are recorded; compute it inside "
            "the block"
        )
    drawn = depends_on(records, graph)
    if source is None:
        return _dot(drawn, names, view, target=graph)
    if type(source) is not Value:
        raise ArgumentTypeError(
            f"to_dot: source must be a Value, got {type(source).__name__} {source!r}"
        )
    if source not in names:
        raise TapeError(
            f"to_dot: the source {source!r} was not used by any op recorded on this tape, so "
            "no path leads from it; tape.explain(target, source) says why"
        )
    on_path = _from(drawn, source)
    if not on_path and source != graph:
        raise TapeError(
            f"to_dot: {names[graph]} does not depend on the source {names[source]} through "
            "recorded ops, so there is no path to draw; tape.explain(target, source) says why"
        )
    made_by = {rec.output: rec.op.name for rec in records}
    return _dot(on_path, names, view, target=graph, source=source, made_by=made_by)


def _from(records: Sequence[Record], source: Value) -> list[Record]:
    """The records (of those the target depends on) that read ``source`` or a Value
    computed from it: the records on the paths from ``source`` to the target."""
    reached = {source}
    kept: list[Record] = []
    for rec in records:
        if any(type(arg) is Value and arg in reached for arg in rec.inputs):
            kept.append(rec)
            reached.add(rec.output)
    return kept


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
    records: Sequence[Record],
    names: dict[Value, str],
    view: TapeView,
    target: Value | None,
    source: Value | None = None,
    made_by: dict[Value, str] | None = None,
) -> DotText:
    grads = view.last_gradients()
    produced = {rec.output: rec.op.name for rec in records}
    earlier = made_by or produced  # who made each Value, drawn or not
    shown: dict[Value, None] = {}  # the Values to draw, in the order of their names
    for rec in records:
        for v in (*rec.inputs, rec.output):
            if type(v) is Value:
                shown.setdefault(v)
    if target is not None:
        shown.setdefault(target)  # a leaf drawn alone
    # With a source, what is not on its way to the target is grey: a Value read on the
    # way that does not depend on the source, and the arrows from it.
    on_path = None if source is None else {source, *produced}
    kind = "persistent" if view.persistent else "non-persistent"
    what = f"{counted(len(records), 'record')} of a {kind} tape"
    if source is not None and target is not None:
        what = f"how {names[target]} depends on {names[source]}: the {what} on the way"
        if any(v not in produced and v != source for v in shown):
            what += f"\ngrey: read on the way, not computed from {names[source]}"
    elif target is not None:
        what = f"what {names[target]} depends on: {what}"
    title = _escape(f"{what}\narrows: × local derivative (d output / d input)")
    lines = [
        "digraph microtape {",
        f'  graph [rankdir=LR, label="{title}", labelloc=t, fontname="Helvetica"];',
        '  node [shape=record, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    order = {v: i for i, v in enumerate(names)}
    ids = {v: f"n{order[v]}" for v in shown}  # names are labels: any text, never an ID
    for v in sorted(shown, key=order.__getitem__):
        op = earlier.get(v)
        fields = [
            f"{names[v]} (leaf)" if op is None else f"{names[v]} = {op}",
            f"value {figure(v.data)}",
        ]
        if grads is not None:
            g = grads.get(v.node)
            fields.append("grad -" if g is None else f"grad {figure(float(g))}")
        # Top-level fields of a record stack vertically when rankdir=LR: narrow boxes.
        label = " | ".join(_escape(f) for f in fields)
        aside = on_path is not None and v not in on_path
        fill = _LEAF_COLOR if op is None else _EARLIER_COLOR if v not in produced else None
        if aside:
            fill = _ASIDE_COLOR
        if v == target:
            fill = _TARGET_COLOR
        bold = v in (target, source)
        style = ""
        if fill is not None:
            look = '"filled,bold"' if bold else "filled"
            style = f', style={look}, fillcolor="{fill}"'
        elif bold:
            style = ", style=bold"
        if aside and v != target:
            style += f', color="{_ASIDE_INK}", fontcolor="{_ASIDE_INK}"'
        lines.append(f'  {ids[v]} [label="{label}"{style}];')
    edges: list[str] = []
    constants = 0
    for out, inputs, partials, _ in records:
        slopes = local_derivatives(inputs, partials)
        drawn: set[Value] = set()
        for arg in inputs:
            if type(arg) is Value:
                if arg in drawn:
                    continue  # read twice (x * x): one arrow, with the sum of its partials
                drawn.add(arg)
                slope = slopes.get(arg)
                attrs = [] if slope is None else [f'label="×{_escape(slope)}"']
                if on_path is not None and arg not in on_path:
                    attrs.append(f'color="{_ASIDE_INK}", fontcolor="{_ASIDE_INK}"')
                extra = f" [{', '.join(attrs)}]" if attrs else ""
                edges.append(f"  {ids[arg]} -> {ids[out]}{extra};")
            else:
                # One node per use: a constant is not a Value, and 2 here is not 2 there.
                ink = "" if on_path is None else f', fontcolor="{_ASIDE_INK}"'
                lines.append(f'  c{constants} [label="{figure(arg)}", shape=plaintext{ink}];')
                ink = "" if on_path is None else f', color="{_ASIDE_INK}"'
                edges.append(f"  c{constants} -> {ids[out]} [style=dashed{ink}];")
                constants += 1
    return DotText("\n".join([*lines, *edges, "}"]) + "\n")


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
    _run_dot(program, dot, [f"-T{fmt}", "-o", str(target)], timeout)
    return target


def _run_dot(program: str, dot: str, options: list[str], timeout: float) -> bytes:
    """Run ``dot`` on the text; return what it printed.

    Raises:
        GraphvizError: if it fails or times out.
    """
    import subprocess

    try:
        done = subprocess.run(
            [program, *options],
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
    return done.stdout

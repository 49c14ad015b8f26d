"""The functions a long program is written as, and the lines of run() that call them.

A :class:`Function` is written once, in the names of the first chunk it serves
(``chunks.py``); each :class:`Call` passes it another chunk's variables, found by the
place each parameter has in every chunk of its kind (:data:`Place`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

__all__ = ["Call", "Function", "Place", "bundled"]

Place: TypeAlias = tuple[str, str, int, int]
"""A variable of a chunk's code as every chunk of its kind has it: (kind, side,
position, number). Kind ``v`` (a number), ``g`` (a gradient, in sweep ``number``) or
``d`` (a partial: of the op at ``position``, for its argument ``number``); side ``i``
(a node the chunk makes, the ``position``-th) or ``e`` (one it reads from before it).
Or ``saved``, ``constants``, or ``abs`` (side is then the variable itself)."""


class Function:
    """One generated function, and how to call it for any chunk it serves."""

    __slots__ = ("body", "name", "params", "places", "returns", "saves", "touched", "yields")

    def __hash__(self) -> int:
        return id(self)

    def __init__(
        self,
        name: str,
        params: list[str],
        returns: list[str],
        body: list[str],
        saves: list[str],
        places: list[Place],
        yields: list[Place],
    ) -> None:
        self.name = name
        self.params = params  # the names it takes, as written for its first chunk
        self.returns = returns
        self.body = body
        self.saves = saves  # a forward function's: what it returns as one tuple at the end
        self.places = places  # each parameter as a place every chunk of its kind has
        self.yields = yields  # the same for each return
        self.touched: list[int] = []  # a sweep's: the positions among the externals it changes

    def text(self, shared: list[int], threaded: list[tuple[int, int]]) -> str:
        """Its source. The parameters at ``shared`` come in one tuple ``_b``, the same for
        all of a run of calls; those at ``threaded`` in one tuple ``_t``, which it returns
        updated (the second of each pair is the position of the update among the returns)."""
        bundled = {*shared, *(p for p, _ in threaded)}
        params = [name for p, name in enumerate(self.params) if p not in bundled]
        head = []
        if shared:
            params.append("_b")
            head.append(f"({''.join(self.params[p] + ', ' for p in shared)}) = _b")
        if threaded:
            params.append("_t")
            head.append(f"({''.join(self.params[p] + ', ' for p, _ in threaded)}) = _t")
        updated = {q for _, q in threaded}
        tail = "".join(r + ", " for q, r in enumerate(self.returns) if q not in updated)
        if self.saves:
            tail += f"({''.join(name + ', ' for name in self.saves)}), "
        if threaded:
            tail += f"({''.join(self.returns[q] + ', ' for _, q in threaded)}), "
        return "\n".join(
            [
                f"def {self.name}({', '.join(params)}):",
                *(f"    {line}" for line in head),
                *(f"    {line}" for line in self.body),
                f"    return ({tail})",
                "",
            ]
        )


class Call:
    """A line of run() that calls a generated function."""

    __slots__ = ("args", "comment", "function", "returns", "saved")

    def __init__(
        self, function: Function, args: list[str], returns: list[str], saved: str, comment: str
    ) -> None:
        self.function = function
        self.args = args
        self.returns = returns
        self.saved = saved  # the variable that takes what a forward function saves, or ""
        self.comment = comment


def bundled(lines: list[str | Call], functions: Iterable[Function]) -> tuple[list[str], list[str]]:
    """The functions' sources and the lines of run() that call them.

    A function called several times in a row takes what all the calls pass alike in one
    tuple, made once (a model's parameters), and what each call passes on to the next
    (the gradients of those parameters) in another: one name to pass, not hundreds.
    """
    calls: dict[Function, list[int]] = {}
    for i, line in enumerate(lines):
        if isinstance(line, Call):
            calls.setdefault(line.function, []).append(i)
    plans: dict[Function, tuple[list[int], list[tuple[int, int]]]] = {}
    for f, where in calls.items():
        plans[f] = ([], [])
        if len(where) < 2 or where[-1] - where[0] != len(where) - 1:
            continue  # not one run of calls in a row
        run = [line for i in where if isinstance(line := lines[i], Call)]
        first = run[0]
        written = {name for call in run for name in call.returns}
        shared: list[int] = []
        threaded: list[tuple[int, int]] = []
        for p, arg in enumerate(first.args):
            if f.params[p] == "_s" or any(call.args[p] != arg for call in run):
                continue
            if arg not in written:
                shared.append(p)
            elif arg in first.returns:
                q = first.returns.index(arg)
                if all(call.returns[q] == arg for call in run):
                    threaded.append((p, q))
        if len(shared) + len(threaded) >= 8:
            plans[f] = (shared, threaded)
    body: list[str] = []
    for i, line in enumerate(lines):
        if not isinstance(line, Call):
            body.append(line)
            continue
        f = line.function
        shared, threaded = plans[f]
        starts = calls[f][0] == i
        tag = f.name[1:]
        if starts and shared:
            body.append(f"_b{tag} = ({''.join(line.args[p] + ', ' for p in shared)})")
        if starts and threaded:
            body.append(f"_t{tag} = ({''.join(line.args[p] + ', ' for p, _ in threaded)})")
        packed = {*shared, *(p for p, _ in threaded)}
        args = [a for p, a in enumerate(line.args) if p not in packed]
        args += [f"_b{tag}"] * bool(shared) + [f"_t{tag}"] * bool(threaded)
        updated = {q for _, q in threaded}
        targets = [r for q, r in enumerate(line.returns) if q not in updated]
        targets += [line.saved] * bool(line.saved) + [f"_t{tag}"] * bool(threaded)
        body.append(
            f"({''.join(t + ', ' for t in targets)}) = {f.name}({', '.join(args)})"
            f"  # {line.comment}"
        )
        if threaded and calls[f][-1] == i:
            body.append(f"({''.join(line.returns[q] + ', ' for _, q in threaded)}) = _t{tag}")
    return [f.text(*plans[f]) for f in functions], body

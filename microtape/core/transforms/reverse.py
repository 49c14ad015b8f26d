"""The reverse sweep over a tape's records, in two forms: on floats, and on Values.

Both walk the rows from last to first, which is a valid reverse topological order
because an op is recorded after its inputs exist: by the time the sweep reaches a row,
every later use of its output has already sent its gradient. No recursion, no visited
set, no topological sort: a graph a million ops deep costs a loop of a million steps.

Gradients live in a dict keyed by node number (see ``recording/record.py``), never in a
slot on the Value: two sweeps, threads or gradient calls cannot see each other's
numbers, and a node number is never reused.

- :func:`float_sweep` runs when no tape is recording: the partials were stored as
  floats when each op ran, so the chain rule is two multiplications and two dict
  updates per row, with no function call. A zero slope is a strong zero: it stops an
  infinite gradient too (0 * inf would be NaN), as relu's gradient does in TensorFlow
  and PyTorch.
- :func:`value_sweep` runs when some tape is recording (nested tapes, or a persistent
  tape asking inside its own block). It calls each op's derivative rules on the
  recorded arguments, rebuilt as Values of the same nodes, so every product and sum of
  the chain rule is itself an op recorded on the outer tapes: differentiating the
  result again gives the second derivative. The rules are the same table entries
  whose float results the first form uses. The strong zero holds here too: a product
  where a zero meets inf or NaN is ``strong_mul`` (0, with mul's partials), so that
  both forms give the same gradients.
- :func:`tangent_sweep` runs when the one thing recording is a forward accumulator on
  floats (forward over reverse: ``acc.jvp(tape.gradient(y, x))``, a Hessian-vector
  product). The Value sweep would build every product and sum of the chain rule as a
  Value only for that accumulator to push its tangent and drop it; this sweep computes
  each gradient and its tangent side by side, on floats, with the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TypeAlias, Union, cast

from ..recording import record
from ..recording.context import RECORDING
from ..recording.record import Entry
from ..values.builtins import strong_mul
from ..values.op import Op
from ..values.value import Value, next_node, node_value, read, rebuilt
from .custom import CustomOp, pulled
from .forward import Tangent, Tangents

__all__ = ["Gradient", "RuleCalled", "float_sweep", "tangent_sweep", "value_sweep"]

Gradient: TypeAlias = Union[Value, float]
"""A gradient on its way back: a float on the first-order sweep, a Value when recorded."""


def float_sweep(
    flat: Sequence[Entry], seeds: dict[int, float], keep: Collection[int] | None = None
) -> dict[int, float]:
    """Back-propagate float seeds through the flat records.

    Args:
        flat: the tape's records.
        seeds: the upstream gradient of each target node.
        keep: the nodes whose gradients the caller needs (the sources); None keeps
            the gradient of every node reached (for ``print(tape)``).

    Returns:
        The gradients by node: a node is present exactly when the target depends on
        it through the records (its gradient may still be 0.0, for example past a
        relu that was off). With ``keep``, only leaves and the nodes in ``keep``.
    """
    grads = seeds
    get = grads.get
    # An op's output appears in no row before its own, so once its row is done its
    # gradient can leave the dict: with `keep`, the dict holds only the frontier of the
    # sweep and stays small and cache-friendly however deep the graph is.
    take = get if keep is None else grads.pop
    wanted = keep if keep is not None else ()
    kept: dict[int, float] = {}
    for op, db, _, b, da, _, a, _, out in record.backwards(flat):
        g = take(out, None)
        if g is None:  # the target does not depend on this op
            continue
        if out in wanted:
            kept[out] = g
        if da is not None:  # None: `a` is a constant (or the op passes nothing back)
            c = g * da
            if c != c and (da == 0.0 or g == 0.0):
                c = 0.0  # a zero slope stops even an infinite gradient (0 * inf is NaN)
            prev = get(a)  # type: ignore[arg-type]  # a node wherever da is not None
            grads[a] = c if prev is None else prev + c  # type: ignore[index]
        elif db is None and type(op) is CustomOp:  # a custom gradient: grad_fn gives them
            for arg, given in pulled(op, g):
                c = read(given)
                prev = get(arg)
                grads[arg] = c if prev is None else prev + c
            continue
        if db is not None:
            c = g * db
            if c != c and (db == 0.0 or g == 0.0):
                c = 0.0
            prev = get(b)  # type: ignore[arg-type]
            grads[b] = c if prev is None else prev + c  # type: ignore[index]
    grads.update(kept)
    return grads


RuleCalled: TypeAlias = Callable[[Op, int, Sequence["int | None"], Sequence[float], Gradient], None]
"""Told of each rule a recorded sweep calls: the op, the rule's index, the arguments'
nodes (None for a constant) and numbers, and the partial it gave (see
``recording/context.py``'s ``TracerSink``)."""


def value_sweep(
    flat: Sequence[Entry],
    count: int,
    seeds: dict[int, Gradient],
    rule_called: RuleCalled | None = None,
) -> dict[int, Gradient]:
    """Back-propagate through the first ``count`` rows, recording the arithmetic.

    ``count`` is fixed before the sweep starts: when this tape is itself recording,
    the sweep's own ops are added to ``flat`` while it runs, and must not be visited.
    An op of three or more arguments is handled at its last row, with its arguments
    gathered from its rows; its hidden nodes never receive a gradient, so its earlier
    rows are passed over. ``rule_called``, if given, hears of every rule called: a
    tracer (``mt.function``), whose code multiplies at every call whatever the numbers,
    so that every product is then the strong zero's op (see :func:`_accumulate`).
    """
    grads = seeds
    get = grads.get
    values: dict[int, Value] = {}  # the rules' arguments, rebuilt once per node
    traced = rule_called is not None

    for i in range(count - 1, -1, -1):
        out, _, a, xa, da, b, xb, db, op = record.row(flat, i)
        g = get(out)
        if g is None or op is None:
            continue
        if type(op) is CustomOp:  # grad_fn, called on Values: its ops are recorded
            for arg, given in pulled(op, g):
                prev = get(arg)
                grads[arg] = given if prev is None else prev + given
            continue
        rules = op.derivatives
        gx = read(g)  # with each partial's number as stored: a strong zero? (_accumulate)
        if op.arity > 2:
            nodes, numbers, partials, _ = record.arguments(flat, i, op.arity)
            args = [x if n is None else rebuilt(values, n, x) for n, x in zip(nodes, numbers)]  # noqa: B905
            for k, node in enumerate(nodes):
                if partials[k] is not None:
                    partial = rules[k](*args)
                    if rule_called is not None:
                        rule_called(op, k, nodes, numbers, partial)
                    _accumulate(grads, node, g, partial, gx, partials[k], traced)  # type: ignore[arg-type]
            continue
        va = xa if a is None else rebuilt(values, a, xa)  # type: ignore[arg-type]
        if op.arity == 1:
            if da is not None:
                partial = rules[0](va)
                if rule_called is not None:
                    rule_called(op, 0, (a,), (xa,), partial)  # type: ignore[arg-type]
                _accumulate(grads, a, g, partial, gx, da, traced)  # type: ignore[arg-type]
            continue
        vb = xb if b is None else rebuilt(values, b, xb)  # type: ignore[arg-type]
        if da is not None:
            partial = rules[0](va, vb)
            if rule_called is not None:
                rule_called(op, 0, (a, b), (xa, xb), partial)  # type: ignore[arg-type]
            _accumulate(grads, a, g, partial, gx, da, traced)  # type: ignore[arg-type]
        if db is not None:
            partial = rules[1](va, vb)
            if rule_called is not None:
                rule_called(op, 1, (a, b), (xa, xb), partial)  # type: ignore[arg-type]
            _accumulate(grads, b, g, partial, gx, db, traced)  # type: ignore[arg-type]
    return grads


def tangent_sweep(
    flat: Sequence[Entry],
    count: int,
    seeds: dict[int, float],
    seed_tangents: dict[int, float],
    tangents: dict[int, Tangent],
) -> tuple[dict[int, float], dict[int, float]]:
    """Back-propagate through the first ``count`` rows on floats, carrying each gradient's
    tangent along a forward accumulator's direction.

    The chain rule's step ``grad[arg] += g * p`` has the tangent ``dg * p + g * dp``,
    where ``dg`` is the tangent of ``g`` and ``dp`` that of the local partial ``p``.
    ``p`` is the float the op stored. ``dp`` is the rule differentiated along the
    tangents of the op's arguments: the rule is called on the arguments that move,
    rebuilt as Values of their nodes, while the accumulator's own sink records, so
    forward mode runs on the rule's ops alone (an op none of whose arguments moves
    needs no call). A gradient with no tangent (None) depends on no primal.

    Args:
        flat: the tape's records.
        count: how many rows to sweep.
        seeds: the upstream gradient of each target node.
        seed_tangents: the tangent of each seed that has one.
        tangents: the accumulator's tangents by node, all floats: what it pushed while
            the tape recorded, and where the rules' ops are pushed now.

    Returns:
        The gradients and their tangents, by node.
    """
    grads = seeds
    dgrads = seed_tangents
    get, dget = grads.get, dgrads.get
    # A sink of the class Tangents holds floats only (see forward.py).
    tget = cast(Callable[[int | None], float | None], tangents.get)
    token = RECORDING.set(Tangents(tangents))  # the rules' ops go there, and nowhere else
    try:
        i = count
        for op, db, xb, b, da, xa, a, _, out in record.backwards(record.first(flat, count)):
            i -= 1
            g = get(out)
            if g is None or op is None:  # not on the way to a target, or a hidden node
                continue
            dg = dget(out)
            if type(op) is CustomOp:  # grad_fn's ops, pushed by the accumulator's sink
                upstream = node_value(g, next_node())
                if dg is not None:
                    tangents[upstream.node] = dg
                for arg, given in pulled(op, upstream):
                    dgiven = tget(given.node) if type(given) is Value else None
                    _carry(grads, dgrads, arg, read(given), dgiven, 1.0, None)
                continue
            if op.arity > 2:
                nodes, numbers, partials, _ = record.arguments(flat, i, op.arity)
                args: list[Value | float] = [
                    x if n is None or tget(n) is None else node_value(x, n)
                    for n, x in zip(nodes, numbers)  # noqa: B905  # same length
                ]
                moving = any(type(arg) is Value for arg in args)
                for k, node in enumerate(nodes):
                    p = partials[k]
                    if p is not None:
                        dp = _moved(op.derivatives[k](*args), tget) if moving else None
                        _carry(grads, dgrads, node, g, dg, p, dp)  # type: ignore[arg-type]
                continue
            # One or two arguments, written out as the float sweep is: the partials'
            # tangents first (only if an argument moves), then the two chain-rule steps.
            ta = tget(a)  # None for a constant
            tb = tget(b)
            dpa = dpb = None
            if ta is not None or tb is not None:
                va = xa if ta is None else node_value(xa, a)  # type: ignore[arg-type]
                rules = op.derivatives
                if op.arity == 1:
                    moved = rules[0](va)
                    if type(moved) is Value:
                        dpa = tget(moved.node)
                else:
                    vb = xb if tb is None else node_value(xb, b)  # type: ignore[arg-type]
                    if da is not None:
                        moved = rules[0](va, vb)
                        if type(moved) is Value:
                            dpa = tget(moved.node)
                    if db is not None:
                        moved = rules[1](va, vb)
                        if type(moved) is Value:
                            dpb = tget(moved.node)
            if da is not None:
                _carry(grads, dgrads, a, g, dg, da, dpa)  # type: ignore[arg-type]
            if db is not None:
                _carry(grads, dgrads, b, g, dg, db, dpb)  # type: ignore[arg-type]
    finally:
        RECORDING.reset(token)
    return grads, dgrads


def _moved(partial: Value | float, tangent: Callable[[int], Tangent | None]) -> float | None:
    """The tangent of a partial the rule computed: None if it is a plain number."""
    if type(partial) is not Value:
        return None
    t = tangent(partial.node)
    return None if t is None else read(t)


def _carry(
    grads: dict[int, float],
    dgrads: dict[int, float],
    node: int,
    g: float,
    dg: float | None,
    p: float,
    dp: float | None,
) -> None:
    """One step of the chain rule, ``grad[node] += g * p``, and its tangent
    ``dg * p + g * dp``; a zero factor is a strong zero, as in the float sweep."""
    c = g * p
    if c != c and (p == 0.0 or g == 0.0):
        c = 0.0  # a zero slope stops even an infinite gradient (0 * inf is NaN)
    prev = grads.get(node)
    grads[node] = c if prev is None else prev + c
    if dp is None:
        if dg is None or p == 0.0:
            return  # a constant zero slope: no tangent, as the sweep on Values gives
        step = _strong(dg, p)
    else:
        step = _strong(g, dp) if dg is None else _strong(dg, p) + _strong(g, dp)
    prev_t = dgrads.get(node)
    dgrads[node] = step if prev_t is None else prev_t + step


def _strong(a: float, b: float) -> float:
    """``a * b``, with an exact zero of either giving 0 even against inf."""
    c = a * b
    return 0.0 if c != c and (a == 0.0 or b == 0.0) else c


def _accumulate(
    grads: dict[int, Gradient],
    arg: int,
    g: Gradient,
    partial: Gradient,
    gx: float,
    px: float,
    traced: bool,
) -> None:
    # Skip multiplications by exactly 1 or -1 (add, sub, neg): the recorded graph of a
    # higher-order gradient stays about as small as the original. A slope of exactly 0 is
    # a strong zero, as in the float sweep: 0, even where g is infinite. ``gx`` and ``px``
    # are the numbers of g and of the partial (as the op stored it).
    if type(partial) is float and (partial == 1.0 or partial == -1.0 or partial == 0.0):
        contribution: Gradient = g if partial == 1.0 else -g if partial == -1.0 else 0.0
    elif type(g) is float and g == 0.0:
        contribution = 0.0
    elif traced or (gx * px != gx * px and (gx == 0.0 or px == 0.0)):
        # A Value whose number is 0 meets inf or NaN (traced: may, at another call, as
        # the code runs at other numbers): strong_mul gives the float sweep's 0 there, an
        # op recorded with mul's partials, so that the next derivative goes through it.
        contribution = strong_mul(g, partial)
    else:
        contribution = g * partial
    prev = grads.get(arg)
    grads[arg] = contribution if prev is None else prev + contribution

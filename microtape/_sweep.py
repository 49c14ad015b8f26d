"""The two reverse sweeps over a tape's records: one on floats, one on Values.

Both walk the records from last to first, which is a valid reverse topological
order because an op is recorded after its inputs exist: by the time the sweep
reaches a record, every later use of its output has already sent its gradient. No
recursion, no visited set, no topological sort: a graph a million ops deep costs a
loop of a million steps.

Gradients live in a dict keyed by node number (see ``_record.py``), never in a slot
on the Value: two sweeps, threads or gradient calls cannot see each other's
numbers, and a node number is never reused.

- :func:`float_sweep` runs when no tape is recording: the partials were stored as
  floats when each op ran, so the chain rule is two multiplications and two dict
  updates per record, with no function call.
- :func:`value_sweep` runs when some tape is recording (nested tapes, or a
  persistent tape asking inside its own block). It calls each op's derivative rules
  on the recorded arguments, rebuilt as Values of the same nodes, so every product
  and sum of the chain rule is itself an op recorded on the outer tapes:
  differentiating the result again gives the second derivative. Rules are the same
  table entries as in the float path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Union

from ._record import WIDTH, Entry, Record
from ._value import Value, rebuilt

__all__ = ["Gradient", "float_sweep", "reach", "value_sweep"]

Gradient = Union[Value, float]


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
    # An op's output appears in no record before its own, so once its record is done
    # its gradient can leave the dict: with `keep`, the dict holds only the frontier of
    # the sweep and stays small and cache-friendly however deep the graph is.
    take = get if keep is None else grads.pop
    wanted = keep if keep is not None else ()
    kept: dict[int, float] = {}
    # One reversed iterator zipped nine times yields each record's entries last-first:
    # a flat list of records unpacks as fast as a list of tuples would.
    backwards = reversed(flat)
    for _, db, _, b, da, _, a, _, out in zip(*[backwards] * WIDTH):  # noqa: B905
        g = take(out, None)
        if g is None:  # the target does not depend on this op
            continue
        if out in wanted:
            kept[out] = g
        if da is not None:  # None: `a` is a constant
            prev = get(a)
            grads[a] = g * da if prev is None else prev + g * da
        if db is not None:
            prev = get(b)
            grads[b] = g * db if prev is None else prev + g * db
    grads.update(kept)
    return grads


def value_sweep(
    flat: Sequence[Entry], count: int, seeds: dict[int, Gradient]
) -> dict[int, Gradient]:
    """Back-propagate through the first ``count`` records, recording the arithmetic.

    ``count`` is fixed before the sweep starts: when this tape is itself recording,
    the sweep's own ops are added to ``flat`` while it runs, and must not be visited.
    """
    grads = seeds
    get = grads.get
    nodes: dict[int, Value] = {}  # the rules' arguments, rebuilt once per node

    for i in range((count - 1) * WIDTH, -1, -WIDTH):
        out, _, a, xa, da, b, xb, db, op = flat[i : i + WIDTH]
        g = get(out)  # type: ignore[arg-type]
        if g is None:
            continue
        va = xa if a is None else rebuilt(nodes, a, xa)  # type: ignore[arg-type]
        vb = xb if b is None else rebuilt(nodes, b, xb)  # type: ignore[arg-type]
        args = (va,) if op.arity == 1 else (va, vb)  # type: ignore[union-attr]
        if da is not None:
            _accumulate(grads, a, g, op.derivatives[0](*args))  # type: ignore[union-attr, arg-type]
        if db is not None:
            _accumulate(grads, b, g, op.derivatives[1](*args))  # type: ignore[union-attr, arg-type]
    return grads


def reach(records: Sequence[Record], targets: Iterable[Value]) -> dict[Value, int]:
    """Every Value the targets depend on through ``records``, with the index of the record
    through which the backward walk first reached it (the slow paths' graph walk:
    explanations and the in-place-change check; the targets themselves are not keys)."""
    via: dict[Value, int] = {}
    reached = set(targets)
    for i in range(len(records) - 1, -1, -1):
        out, a, _, b, _, _ = records[i]
        if out not in reached:
            continue
        for arg in (a, b):
            if type(arg) is Value and arg not in reached:
                reached.add(arg)
                via[arg] = i
    return via


def _accumulate(grads: dict[int, Gradient], arg: int, g: Gradient, partial: Gradient) -> None:
    # Skip multiplications by exactly 1 or -1 (add, sub, neg): the recorded graph of a
    # higher-order gradient stays about as small as the original.
    if type(partial) is float and (partial == 1.0 or partial == -1.0):
        contribution: Gradient = g if partial == 1.0 else -g
    else:
        contribution = g * partial
    prev = grads.get(arg)
    grads[arg] = contribution if prev is None else prev + contribution

"""Why a gradient is what it is, above all why it is ``None``, in plain words.

``tape.explain(target, source)`` reads the tape's records (never the hot path) and
answers with the first reason that applies:

- the tape was already used (non-persistent) or released;
- the target was not recorded on this tape: a leaf the code handed on unchanged (a
  branch returning an input as it is), computed before or after the block, or recorded
  before the last ``reset()``;
- the source was not watched (``watch_accessed_variables=False``);
- the source was only in records that ``reset()`` dropped;
- the target is computed from the source only through ``stop_gradient``;
- the source was used on the tape, but not on the way to the target;
- the source was not used by any recorded op: never used, or used only outside the
  recording (before the block, or inside ``stop_recording()``);
- or, when there is a gradient, the chain of recorded ops that connects them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.tapes.view import Record, TapeState, TapeView
from ..core.values.value import Value
from ..core.words import counted, figure, wrapped
from .names import node_names
from .walk import reach

__all__ = ["explain"]


def explain(tape: TapeView, targets: Sequence[Value], source: Value) -> str:
    """Explain the gradient of the sum of ``targets`` with respect to ``source`` on a tape,
    in lines of at most 100 columns."""
    return wrapped(_explain(tape, targets, source))


def _explain(tape: TapeView, targets: Sequence[Value], source: Value) -> str:
    records = tape.records
    names = node_names(records, tape)

    def called(v: Value) -> str:
        if v in names:
            return f"{names[v]} = {figure(v.data)}"
        name = tape.name_of(v)
        return f"{name} = {figure(v.data)}" if name is not None else f"Value({figure(v.data)})"

    what = f"the gradient with respect to {called(source)}"
    state = tape.state
    if state is TapeState.RELEASED:
        return (
            "No gradient: the tape was released. release() freed its records, so it can no "
            "longer differentiate anything; record the computation again on a new tape."
        )
    if state is TapeState.USED:
        return (
            "No gradient: this tape was non-persistent and its one gradient() or jacobian() "
            "call already freed its records. Record again on a new tape, or create it with "
            "GradientTape(persistent=True) to ask several questions of one recording (it then "
            "holds every record, about 120 bytes per op, until release())."
        )
    if not targets:
        return f"No gradient: the target is None, which depends on nothing, so {what} is None."
    if source in targets:
        return f"The gradient is 1: the source {called(source)} is the target itself."
    produced = {rec.output: i for i, rec in enumerate(records)}
    recorded_targets = [t for t in targets if t in produced]
    if not recorded_targets:
        target = targets[0]
        if tape.forgotten(target):
            return (
                f"No gradient: the target {called(target)} was recorded before tape.reset(), which "
                "forgot every record made until then. Compute the target after the reset."
            )
        others = f"with respect to anything else, {called(source)} included, None"
        if target in tape.watched_explicitly or any(_reads(rec, target) for rec in records):
            return (
                f"No gradient: the target {called(target)} is a leaf on this tape, not the "
                "output of a recorded op: the tape watched it or its ops read it, but none "
                f"made it. So its gradient with respect to itself is 1, and {others}: "
                f"{called(source)} was not used to compute it. This is what code that hands "
                "a Value on unchanged gives, such as a branch `if x > 0: result = v0` where "
                "the branch that would have used the source did not run."
            )
        return (
            f"No gradient: the target {called(target)} was not computed while this tape was "
            f"recording: no op on this tape made it{'' if records else ' (it recorded none)'}, "
            "so to the tape it is a leaf of its own, "
            f"like a source. Its gradient with respect to itself is 1, and {others}. Two "
            "ways to get here. The code handed a Value on unchanged: a branch such as "
            "`if x > 0: result = v0` returns v0 itself, and the branch that would have used "
            "the source did not run; then None is the right answer. Or the target was "
            "computed outside the recording: only ops run inside `with tape:` are recorded "
            "(not before the block, after it, inside tape.stop_recording(), or in another "
            "thread). Compute the target inside the block in that case. (TensorFlow returns "
            "a silent None here; this is why the tape is needed.)"
        )
    if not tape.watch_accessed_variables and not _is_connected(tape, records, source):
        return (
            f"No gradient: {called(source)} was never watched. This tape was created with "
            "watch_accessed_variables=False, so only Values passed to tape.watch() (and what "
            "is computed from them on the tape) get gradients. Call tape.watch(source) before "
            "using it in the block."
        )
    aim = "the target" if len(recorded_targets) > 1 else f"the target {names[recorded_targets[0]]}"
    path = _path(records, recorded_targets, source)
    if path is not None:
        steps = [f"{names[out]} ({op})" for op, out in path]
        chain = " -> ".join([names.get(source, "source"), *steps])
        return (
            f"There is a gradient: {aim} depends on the source {called(source)} through "
            f"recorded ops, for example {chain} (names as in print(tape))."
        )
    if source in reach(records, recorded_targets, stopped=True):
        return (
            f"No gradient: {aim} is computed from {called(source)}, but only through "
            "stop_gradient, which passes no gradient back (as tf.stop_gradient): to the "
            "tape its output is a constant."
        )
    used_in = sorted({rec.op.name for rec in records if _reads(rec, source)})
    if used_in:
        return (
            f"No gradient: {called(source)} was used on this tape (by {', '.join(used_in)}), but "
            f"none of those ops lead to {aim}: it does not depend on {names[source]}."
        )
    if tape.forgotten(source):
        return (
            f"No gradient: {called(source)} was used only in ops recorded before "
            "tape.reset(), which forgot them. Use it again after the reset."
        )
    leaves = _leaves(records, produced, recorded_targets)
    shown = ", ".join(called(v) for v in leaves[:6]) + (" ..." if len(leaves) > 6 else "")
    paused = (
        f" The tape also paused recording {counted(tape.pauses, 'time')} in "
        "tape.stop_recording(): uses there were not recorded either."
        if tape.pauses
        else ""
    )
    return (
        f"No gradient: {called(source)} was not used by any op recorded on this tape. Either the "
        "computation never used it, or it was used only outside the recording, for example "
        "before the `with` block to compute one of the inputs the tape saw. On this tape the "
        f"target depends only on {shown or 'constants'}.{paused} Compute everything from the "
        "source inside the block."
    )


def _reads(rec: Record, source: Value) -> bool:
    """Whether ``rec`` read ``source`` (constants among its inputs are numbers, not nodes)."""
    return any(type(v) is Value and v == source for v in rec.inputs)


def _is_connected(tape: TapeView, records: Sequence[Record], source: Value) -> bool:
    return source in tape.watched_explicitly or any(rec.output == source for rec in records)


def _path(
    records: Sequence[Record], targets: list[Value], source: Value
) -> list[tuple[str, Value]] | None:
    """Each op from ``source`` to a target, following the records, with its output; None if
    there is no way."""
    via = reach(records, targets)
    if source not in via:
        return None
    steps = []
    node = source
    while node in via:
        rec = records[via[node]]
        steps.append((rec.op.name, rec.output))
        node = rec.output
    return steps


def _leaves(
    records: Sequence[Record], produced: dict[Value, int], targets: list[Value]
) -> list[Value]:
    """The Values the targets depend on that were not computed on the tape, in record order."""
    via = reach(records, targets)
    return sorted((v for v in via if v not in produced), key=via.__getitem__)

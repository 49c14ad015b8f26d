"""``mt.function``: trace a function once, then run what it recorded as generated Python.

The first call with a given structure of arguments *traces*: it runs the function in
Python while a :class:`~microtape.tracing.trace.Tracer` records every op, including the
ones an inner tape's ``gradient()`` performs, and writes the run as one straight-line
Python function on floats (``codegen.py``). Later calls with the same
structure run that code: the numbers of the arguments, and of every Value the function
reads from before the call, go in; the results come out in the structure the function
returned, Values where it returned Values.

A comparison of Values in the function is a *guard*: the code checks it, and where it
comes out the other way the function is traced again for that path, and both paths are
kept (up to ``max_traces`` per function; past that, new paths run in Python, with a
warning). What the code cannot reproduce is refused with a :class:`TracingWarning`, and
the function runs in Python for that structure from then on.
"""

from __future__ import annotations

import functools
import gc
import sys
import threading
import warnings
from collections.abc import Callable
from types import CellType
from typing import Final, Generic, ParamSpec, TypeVar, cast, overload

from ..core.errors import ArgumentTypeError, TracingWarning
from ..core.recording.context import RECORDING, Entered
from ..core.recording.observer import OBSERVER
from ..core.values.value import Value, observe, read
from .codegen import NotANumber, Retrace, generate
from .nest import Key, Plan, expressions, find, flatten, key, keywords, labels, rebuild
from .path import ARGUMENT, CONSTANT, NUMBER, SOURCE, STATIC, VALUE, Entry, Leaf, Path
from .shown import CodeText
from .sources import lengths, reach
from .trace import Tracer

__all__ = ["MAX_TRACES", "Function", "function"]

P = ParamSpec("P")
R = TypeVar("R")

MAX_TRACES: Final = 5
"""How many paths a function is traced for, at most, before new ones run in Python."""


class Function(Generic[P, R]):
    """A function that runs as generated Python after it is traced (see :func:`function`).

    Call it as the function itself. ``code(*args)`` gives the source of the code that
    those arguments run; ``traces`` counts the paths traced so far; ``python_function``
    is the function as written.
    """

    __name__: str  # the function's, as functools.update_wrapper sets them
    __qualname__: str

    def __init__(self, fn: Callable[P, R], max_traces: int = MAX_TRACES) -> None:
        if not callable(fn):
            raise ArgumentTypeError(f"mt.function: expected a function, got {fn!r}")
        _check_max_traces(max_traces)
        self.python_function: Final = fn
        self.max_traces: Final = max_traces
        self._entries: dict[Key, Entry] = {}
        self._traces = 0
        self._all_as_written = False  # every call runs as written from now on
        self._other_paths: dict[str, int] = {}  # why a structure got another path -> how often
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        functools.update_wrapper(self, fn)

    def __repr__(self) -> str:
        name = getattr(self.python_function, "__qualname__", repr(self.python_function))
        return f"<mt.function {name}: {self._traces} trace{'' if self._traces == 1 else 's'}>"

    def __reduce__(self) -> str | tuple[object, ...]:
        """Pickled, and copied, as a plain function is: by its qualified name where its
        module holds it there (the compiled function itself comes back); otherwise as a
        new compiled function of the function as written, which must then pickle (a
        callable object does), with nothing traced yet (``copy.deepcopy`` copies the
        function as written, whose Values the traced code must not keep reading)."""
        found: object = sys.modules.get(getattr(self, "__module__", ""))
        for part in getattr(self, "__qualname__", "<unnamed>").split("."):
            found = getattr(found, part, None)
        if found is self:
            return self.__qualname__
        return (Function, (self.python_function, self.max_traces))

    def __get__(self, instance: object, owner: type | None = None) -> Callable[..., R]:
        if instance is None:
            return self
        call = cast(Callable[..., R], self)
        return functools.partial(call, instance)  # a method: the instance is an argument

    @property
    def traces(self) -> int:
        """How many paths have been traced so far."""
        return self._traces

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._all_as_written or RECORDING.get() is not None:
            # A tape records outside (or this call is itself being traced): run in Python,
            # so that the tape sees every op and differentiates through them as always.
            return self.python_function(*args, **kwargs)
        leaves, plan = flatten((args, kwargs))
        found = key(leaves, plan)
        if found is None:
            return self._unkeyed(leaves, args, kwargs)
        entry = self._entry(found)
        if entry.eager:
            return self.python_function(*args, **kwargs)
        if self._traces >= self.max_traces:
            entry.calls += 1
        numbers = [
            read(leaf) if type(leaf) is Value else leaf
            for leaf in leaves
            if type(leaf) is Value or isinstance(leaf, float)
        ]
        path = entry.paths[0] if entry.paths else None
        tried: list[Path] = []
        reason = ""
        while path is not None:
            try:
                result = path.call(list(numbers), leaves, self.python_function, args, kwargs)
            except Retrace as miss:
                tried.append(path)
                reason = miss.why or path.why(miss.check)
                path = self._next(entry, path, miss.check, tried)
                continue
            except NotANumber:
                return self.python_function(*args, **kwargs)
            except Exception:  # an op failed: Python raises its error, or takes another path
                return self._trace(entry, leaves, plan, args, kwargs, failed=True)
            if path is not entry.paths[0]:
                with self._lock:
                    entry.paths.remove(path)
                    entry.paths.insert(0, path)
            return result  # type: ignore[return-value]
        return self._trace(entry, leaves, plan, args, kwargs, reason=reason)

    def code(self, *args: object, **kwargs: object) -> str:
        """The generated source that a call with these arguments runs.

        Traces the function first (which runs it once) if no traced path fits them.
        With no arguments, the source of the only path traced so far. It is a ``str``
        that a notebook shows as highlighted Python (a :class:`CodeText`).

        Raises:
            ValueError: with no arguments, if there is not exactly one path; or if the
                function cannot be traced for these arguments (see the warning).
        """
        if not args and not kwargs:
            paths = [p for e in self._entries.values() for p in e.paths]
            if len(paths) != 1:
                raise ValueError(
                    f"code(): {len(paths)} paths are traced; pass the arguments of the call "
                    "whose code you want"
                )
            return CodeText(paths[0].generated.source)
        cast(Callable[..., R], self)(*args, **kwargs)
        leaves, plan = flatten((args, kwargs))
        found = key(leaves, plan)
        entry = None if found is None else self._entries.get(found)
        if entry is None or not entry.paths:
            raise ValueError("code(): the function runs in Python for these arguments")
        return CodeText(entry.paths[0].generated.source)

    # ---- tracing ---------------------------------------------------------------------------

    def _unkeyed(
        self, leaves: list[object], args: tuple[object, ...], kwargs: dict[str, object]
    ) -> R:
        """A call with an argument that cannot be hashed: no trace can be told to fit it
        (a key by ``id()`` would fit a new object that took a dead one's id)."""
        odd = next(leaf for leaf in leaves if not _hashable(leaf))
        self._warn(
            f"unhashable {type(odd).__name__}",
            f"{self!r} runs in Python for calls with a {type(odd).__name__} argument: it "
            "cannot be hashed, so no trace can be told to fit it. Pass Values and floats "
            "in lists, tuples, dicts or dataclasses, or give the class __hash__ and __eq__",
        )
        return self._python(args, kwargs)

    def _entry(self, found: Key) -> Entry:
        entry = self._entries.get(found)
        if entry is None:
            with self._lock:
                entry = self._entries.setdefault(found, Entry())
        return entry

    def _next(
        self, entry: Entry, failed: Path, check: int | None, tried: list[Path]
    ) -> Path | None:
        """Another path that may fit, given that ``failed`` failed at ``check``: one whose
        guards up to it came out as ``failed``'s and that one the other way."""
        for path in entry.paths:
            if path in tried:
                continue
            if check is None or not isinstance(failed.expected[check], bool):
                return path
            if (
                len(path.expected) > check
                and path.expected[:check] == failed.expected[:check]
                and path.expected[check] != failed.expected[check]
            ):
                return path
        return None

    def _trace(
        self,
        entry: Entry,
        leaves: list[object],
        plan: Plan,
        args: tuple[object, ...],
        kwargs: dict[str, object],
        failed: bool = False,
        reason: str = "",
    ) -> R:
        """Run the function while tracing it, and keep the code of its path.

        ``failed``: the code of a path failed (an op raised): Python then raises the op's
        own error, or takes another path; past ``max_traces`` it runs as written, with no
        warning (it is no new path). ``reason``: why the traced paths did not fit.
        """
        if self._traces >= self.max_traces:
            if failed:
                return self._python(args, kwargs)
            self._warn("budget", self._used_up(entry, reason))
            # A retrace costs a capped budget; past it, a structure whose calls keep
            # missing every path (one in ten, from the third miss on) runs as written from
            # then on: trying the paths first would make each call slower than the function.
            entry.misses += 1
            if entry.misses >= 3 and entry.misses * 10 >= entry.calls:
                entry.eager = True
                with self._lock:  # no trace left, and no path that fits: one check a call
                    self._all_as_written = all(
                        e.eager or not e.paths for e in self._entries.values()
                    )
            return self._python(args, kwargs)
        with self._lock:
            waiting = entry.tracing
            if waiting is None:
                entry.tracing = threading.Event()
        if waiting is not None:
            # Another thread traces this structure now: wait for its code, then try it.
            waiting.wait()
            return cast(Callable[..., R], self)(*args, **kwargs)
        try:
            return self._trace_now(entry, leaves, plan, args, kwargs, failed, reason)
        finally:
            with self._lock:
                done, entry.tracing = entry.tracing, None
            assert done is not None
            done.set()

    def _trace_now(
        self,
        entry: Entry,
        leaves: list[object],
        plan: Plan,
        args: tuple[object, ...],
        kwargs: dict[str, object],
        failed: bool,
        reason: str,
    ) -> R:
        """Trace (see :meth:`_trace`), this thread alone for this structure."""
        tracer = Tracer()
        inputs: list[object] = []
        argument_leaf: dict[int, int] = {}  # a Value argument's node -> its leaf
        for i, leaf in enumerate(leaves):
            if type(leaf) is Value:
                tracer.arguments.setdefault(leaf.node, len(tracer.inputs))
                tracer.inputs.append(leaf.node)
                argument_leaf.setdefault(leaf.node, i)
                inputs.append(leaf)
            elif isinstance(leaf, float):
                wrapped = Value(float(leaf))  # seen as a Value, so that it stays an input
                tracer.arguments[wrapped.node] = len(tracer.inputs)
                tracer.inputs.append(wrapped.node)
                tracer.numeric.add(wrapped.node)
                inputs.append(wrapped)
            else:
                inputs.append(leaf)
        traced: tuple[tuple[object, ...], dict[str, object]]
        traced = rebuild(plan, inputs)  # type: ignore[assignment]
        roots = [
            (expression, leaf)
            for expression, leaf in zip(expressions(args, kwargs), leaves, strict=True)
            if type(leaf) is Value or not isinstance(leaf, float)
        ]
        before_call = lengths(self.python_function, roots)
        observe(True)
        entered = Entered(tracer)
        token = OBSERVER.set(tracer)
        try:
            result = self._python(*traced)
        except Exception:
            if not tracer.numeric:
                raise  # the traced run is the Python run: its error is the error
            raised = True  # a float argument, traced as a Value, may fail otherwise
        else:
            raised = False
        finally:
            OBSERVER.reset(token)
            entered.leave(tracer)
            observe(False)
        tracer.scan()
        if raised or tracer.python_differs:
            # Python's floats fail where ops do not, or in another way (x / 0.0 raises
            # ZeroDivisionError, an op DomainError; 1e200 ** 2 raises OverflowError where
            # the op gives inf): the call's outcome is the Python run's.
            return self._python(args, kwargs)
        if tracer.failed:
            # An op raised and the function went on: it caught the error, a branch the
            # code could not see (the failing op left no record to check).
            tracer.refuse(
                f"an op raised inside the function and the function caught it "
                f"({tracer.failed[0]}); the generated code cannot take that branch"
            )
        out_leaves, out_plan = flatten(result)
        eager_result = rebuild(out_plan, [_plain(tracer, leaf) for leaf in out_leaves])
        # Writing the code makes millions of small objects that all live until it is
        # done: the cycle collector would scan them again and again, for nothing.
        _collector_paused()
        try:
            made, outputs, before = self._results(tracer, out_leaves, argument_leaf, leaves)
            name = getattr(self.python_function, "__name__", "traced")
            program, captured = tracer.program(outputs, name)
            sources = None
            if tracer.refusal is None:
                value_arguments = [leaf for leaf in leaves if type(leaf) is Value]
                targets = [*captured, *before, *value_arguments]
                required = len(captured) + len(before)
                sources = reach(self.python_function, roots, targets, required, leaves, before_call)
                if sources is None:
                    tracer.refuse(
                        "it reads a Value from before the call that cannot be found again "
                        "from its arguments, closure or globals at the next call (held in "
                        "a set, a class attribute or an object not looked into); pass it "
                        "as an argument"
                    )
            if tracer.refusal is not None or sources is None:
                self._refuse(entry, tracer.refusal or "")
                return self._as_written(tracer, eager_result, args, kwargs)
            program.labels = [
                label
                for leaf, label in zip(leaves, self._labels(args, kwargs), strict=True)
                if type(leaf) is Value or isinstance(leaf, float)
            ]
            program.labels += find(captured, self._roots(args, kwargs))
            try:
                generated = generate(program)
            except Exception as error:  # a program the writer cannot write: run as written
                self._refuse(entry, f"its code could not be written ({error!r})")
                return self._as_written(tracer, eager_result, args, kwargs)
        finally:
            _collector_resumed()
        path = Path(program, generated, sources, len(captured), made, out_plan)
        with self._lock:
            if not any(p.same(path) for p in entry.paths):
                if entry.paths:
                    why = reason or "an op failed in the code of another path"
                    self._other_paths[why] = self._other_paths.get(why, 0) + 1
                entry.paths.insert(0, path)
                self._traces += 1
            elif failed:  # the code failed where Python did not, on this very path
                entry.eager = True
                self._warn(
                    "same",
                    f"{self!r}: the generated code could not answer a call that Python "
                    "could, on a path it was traced for; it runs in Python from now on",
                )
            # else another thread traced this path meanwhile: its code is the same
        return eager_result  # type: ignore[return-value]

    def _used_up(self, entry: Entry, reason: str) -> str:
        """The warning that ``max_traces`` is used up: what the traces were made for (other
        arguments, or other paths of the same ones, and why), and what this call needs."""
        with self._lock:
            keys = [k for k, e in self._entries.items() if e.paths]
            others = dict(self._other_paths)
        n, structures, more = self._traces, len(keys), sum(others.values())
        traces = f"{_count(n, 'trace')} {_were(n)} made"
        if structures > 1 and len({keywords(k) for k in keys}) == structures:
            kind = "sets of keyword arguments"
        else:
            kind = "structures of arguments"
        why = " or where ".join(r + f" ({t} times)" * (t > 1) for r, t in others.items())
        if n == 1:
            made = "1 trace was made, for one structure of arguments"
        elif not more:
            made = f"{traces} for {n} different {kind}"
        elif structures == 1:
            made = f"{traces} for one structure of arguments: the first path, "
            made += f"and {more} more where {why}"
        else:
            made = f"{traces}: the first paths of {structures} different {kind}, "
            made += f"and {more} more where {why}"
        this = (
            f"This call takes another path: {reason or 'a check came out the other way'}"
            if entry.paths
            else "This call's arguments have a structure not traced yet"
        )
        text = (
            f"{self!r}: max_traces={self.max_traces} is used up. {made}. {this}. Calls that "
            "need another trace run in Python"
        )
        if "comparison" in why or "comparison" in reason:
            text += (
                ". A choice made per sample with a comparison (z if z > 0 else ...) makes "
                "a path per pattern of outcomes: write it with ops, mt.where(z, x, y), "
                "mt.relu or mt.abs, and the code meets no guard (docs/function.md)"
            )
        if structures > 1:
            text += (
                ". A function is traced apart for each set of keyword arguments, each shape "
                "of the lists, tuples and dicts of its arguments, and each int, str or other "
                "object among them that is not a Value or a float"
            )
        return text

    def _results(
        self,
        tracer: Tracer,
        leaves: list[object],
        argument_leaf: dict[int, int],
        arguments: list[object],
    ) -> tuple[list[Leaf], list[int], list[Value]]:
        """How each leaf of the result is made on later calls, the nodes whose numbers
        the code must return, and the Values from before the call it returns (each call
        returns the one found where the function finds it, see ``sources.py``).

        A leaf that is neither a Value, a float, an immutable constant (None, a bool, an
        int, a str...) nor one of the arguments (returned as the call's own) refuses the
        trace: the code would hand back the traced call's object (a generator already
        used up, a set or an object made by that call) at every call.
        """
        tracer.scan()
        given = {id(leaf): i for i, leaf in enumerate(arguments) if type(leaf) is not Value}
        before: list[Value] = []  # results that are Values from before the call
        made: list[Leaf] = []
        outputs: list[int] = []
        for leaf in leaves:
            if type(leaf) is not Value:
                if id(leaf) in given:
                    made.append((ARGUMENT, given[id(leaf)], 0, None))
                elif _constant(leaf):
                    made.append((STATIC, 0, 0, leaf))
                else:
                    tracer.refuse(
                        f"it returns a {type(leaf).__name__}, which the code would give back "
                        "as the traced call's own object at every call; return Values, "
                        "numbers, or lists, tuples, dicts and dataclasses of them"
                    )
                    made.append((STATIC, 0, 0, leaf))
                continue
            node = leaf.node
            computed = (
                node in tracer.produced or node in tracer.copied_from or node in tracer.results
            )
            if node in tracer.numeric:
                made.append((NUMBER, len(outputs), node, None))
                outputs.append(node)
            elif computed:
                made.append((VALUE, len(outputs), node, None))
                outputs.append(node)
            elif node in argument_leaf:
                made.append((ARGUMENT, argument_leaf[node], node, None))  # that very Value
            elif node >= tracer.start:
                made.append((CONSTANT, 0, node, read(leaf)))
            else:
                made.append((SOURCE, len(before), node, None))  # from before the call
                before.append(leaf)
        return made, outputs, before

    def _labels(self, args: tuple[object, ...], kwargs: dict[str, object]) -> list[str]:
        """What each leaf of the arguments is, named after the function's parameters."""
        code = getattr(self.python_function, "__code__", None)
        names = list(code.co_varnames[: code.co_argcount]) if code is not None else []
        return labels(args, kwargs, names)

    def _roots(
        self, args: tuple[object, ...], kwargs: dict[str, object]
    ) -> list[tuple[str, object]]:
        """Where the function finds what it reads: its arguments, its closure, its
        globals (for naming the Values it reads from before the call)."""
        fn = self.python_function
        code = getattr(fn, "__code__", None)
        params = list(code.co_varnames[: code.co_argcount]) if code is not None else []
        roots: list[tuple[str, object]] = [
            (params[i] if i < len(params) else f"args[{i}]", a) for i, a in enumerate(args)
        ]
        roots.extend(kwargs.items())
        if code is not None:
            cells: tuple[CellType, ...] = getattr(fn, "__closure__", None) or ()
            for name, cell in zip(code.co_freevars, cells, strict=False):
                try:
                    roots.append((name, cell.cell_contents))
                except ValueError:  # a cell not yet set
                    continue
            space = getattr(fn, "__globals__", {})
            roots.extend((n, space[n]) for n in code.co_names if n in space)
        return roots

    def _as_written(
        self,
        tracer: Tracer,
        result: object,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> R:
        """What a refused trace's call returns: the traced run's result, which is the
        function's own, unless it took float arguments (seen as Values while traced,
        where Python's floats may behave otherwise): then the function runs as written."""
        if tracer.numeric:
            return self._python(args, kwargs)
        return result  # type: ignore[return-value]

    def _python(self, args: tuple[object, ...], kwargs: dict[str, object]) -> R:
        """The function as written, on these arguments."""
        return cast(Callable[..., R], self.python_function)(*args, **kwargs)

    def _refuse(self, entry: Entry, reason: str) -> None:
        entry.eager = True
        self._warn(reason, f"{self!r} runs in Python: {reason}", stacklevel=5)

    def _warn(self, key: str, message: str, stacklevel: int = 4) -> None:
        """Warn once per function and reason, at the line that called the function."""
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, TracingWarning, stacklevel=stacklevel)


_CONSTANTS: Final = (bool, int, float, complex, str, bytes, type(None), type(...), range)


def _constant(leaf: object) -> bool:
    """Whether ``leaf`` is a value no call can change or tell apart from a new one."""
    if type(leaf) in _CONSTANTS:
        return True
    return isinstance(leaf, frozenset) and type(leaf) is frozenset and all(map(_constant, leaf))


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _hashable(leaf: object) -> bool:
    try:
        hash(leaf)
    except TypeError:
        return False
    return True


_collector_lock = threading.Lock()
_writing = 0  # traces writing code now, in all threads
_was_collecting = False  # whether the collector was on when the first of them began


def _collector_paused() -> None:
    """The garbage collector off while code is written: the first trace in turns it off,
    noting whether it was on (a trace that found it off for another's sake must not
    leave it off)."""
    global _writing, _was_collecting
    with _collector_lock:
        if _writing == 0:
            _was_collecting = gc.isenabled()
            gc.disable()
        _writing += 1


def _collector_resumed() -> None:
    """The last trace out turns the collector back on, if it was on."""
    global _writing
    with _collector_lock:
        _writing -= 1
        if _writing == 0 and _was_collecting:
            gc.enable()


def _plain(tracer: Tracer, leaf: object) -> object:
    """A leaf of the traced run's result as the Python run gives it: a float where a float
    argument stood for one."""
    if type(leaf) is Value and leaf.node in tracer.numeric:
        return read(leaf)
    return leaf


@overload
def function(fn: Callable[P, R], /, *, max_traces: int = MAX_TRACES) -> Function[P, R]: ...
@overload
def function(*, max_traces: int = MAX_TRACES) -> Callable[[Callable[P, R]], Function[P, R]]: ...
def function(
    fn: Callable[P, R] | None = None, /, *, max_traces: int = MAX_TRACES
) -> Function[P, R] | Callable[[Callable[P, R]], Function[P, R]]:
    """Trace ``fn`` on its first call, then run the traced code: ``@mt.function``.

    Example:
        >>> import microtape as mt
        >>> w = mt.Value(0.5)
        >>> @mt.function
        ... def loss_and_grad(x):
        ...     with mt.GradientTape() as tape:
        ...         loss = (w * x - 1.0) ** 2
        ...     return loss, tape.gradient(loss, w)
        >>> loss_and_grad(3.0)          # traced: runs in Python, and writes the code
        (Value(0.25), Value(3.0))
        >>> loss_and_grad(4.0)          # runs the code
        (Value(1.0), Value(8.0))
    """
    if fn is None:
        _check_max_traces(max_traces)
        return lambda f: Function(f, max_traces)
    return Function(fn, max_traces)


def _check_max_traces(max_traces: object) -> None:
    if not isinstance(max_traces, int) or isinstance(max_traces, bool) or max_traces < 1:
        raise ArgumentTypeError(
            f"mt.function: max_traces must be a positive int, got {max_traces!r}"
        )

"""Plugin discovery: ops from other installed distributions, found through entry points.

A distribution adds ops to microtape by declaring entry points in the group
``microtape.ops``; each resolves to an :class:`~microtape.Op` or a sequence of Ops::

    [project.entry-points."microtape.ops"]
    sinh = "microtape_hyperbolic:sinh"

Discovery is lazy: ``import microtape`` reads no metadata. The registry calls
:func:`discover` once, the first time it is asked for a name that is not built in, for
a listing, or to register an op, and keeps the result. The policy, applied here:

- a plugin that fails to import, or resolves to something that is not an Op, is
  ``failed``: a :class:`~microtape.PluginWarning` names it, every other op keeps
  working, and asking for its op raises an error carrying the original failure;
- two distributions defining one name are a ``conflict``: neither is used until
  ``MICROTAPE_PREFER=name=distribution`` picks one, and the others become ``shadowed``;
- a plugin op cannot replace a built-in op (nor one a plugin module registered while
  the scan imported it): it is ``shadowed``, with a warning;
- ``MICROTAPE_DISABLE_PLUGINS=1`` turns discovery off.

A failure is data to report (:func:`microtape.plugin_ops`, ``microtape ops``), never an
exception at import time.
"""

# No `from __future__ import annotations` here: the NamedTuples' annotations are then
# real types, which NamedTuple checks without compiling strings (faster `import microtape`).

import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Final, Literal, NamedTuple, TypeAlias

if TYPE_CHECKING:
    import importlib.metadata

# No dataclasses and no importlib.metadata at import time: both cost `import microtape`
# milliseconds, and nothing here runs until the first lookup of a non-built-in op.

from ..core.errors import MicrotapeError, OpConflictError, UnknownOpError
from ..core.values.op import Op

__all__ = [
    "DISABLE_ENV",
    "EXAMPLE_PLUGINS",
    "GROUP",
    "PREFER_ENV",
    "Discovery",
    "PluginOp",
    "PluginStatus",
    "disabled",
    "discover",
]

GROUP: Final = "microtape.ops"
"""The entry-point group microtape reads ops from."""

DISABLE_ENV: Final = "MICROTAPE_DISABLE_PLUGINS"
"""Set to 1 (or true, yes, on) to turn plugin discovery off."""

PREFER_ENV: Final = "MICROTAPE_PREFER"
"""Chooses between distributions that define the same op: ``name=distribution,...``."""

EXAMPLE_PLUGINS: Final[dict[str, tuple[str, ...]]] = {
    "microtape-hyperbolic": ("sinh", "cosh", "asinh", "acosh", "atanh", "erf"),
    "microtape-activations": ("hypot", "logaddexp", "maximum", "softplus", "normal_cdf", "gelu"),
}
"""microtape's example plugins (``plugins/`` in its repository) and the ops each provides,
so that asking for one of those ops without the plugin says what to install (the
suite checks this against their ``pyproject.toml``)."""

PluginStatus: TypeAlias = Literal["loaded", "failed", "conflict", "shadowed"]
"""What became of a discovered op: in the registry, broken, contested, or set aside."""


class PluginOp(NamedTuple):
    """One op a plugin offers (or one entry point that failed), and what became of it.

    Attributes:
        name: the op's name; for an entry point that failed to load, the entry
            point's name (by convention the name of the op it provides).
        distribution: the installed distribution declaring the entry point.
        version: that distribution's version.
        entry_point: the entry point as declared, ``"sinh = microtape_hyperbolic:sinh"``.
        status: ``"loaded"`` (in the registry), ``"failed"`` (did not import or is not
            an Op), ``"conflict"`` (another distribution defines the name and no
            preference chose one), or ``"shadowed"`` (the name belongs to a built-in op
            or to the distribution ``MICROTAPE_PREFER`` chose).
        error: why the op is not loaded; empty when it is.
        op: the Op the entry point gave, or None if it failed.
        exception: the original exception of a failed entry point.
    """

    name: str
    distribution: str
    version: str
    entry_point: str
    status: PluginStatus
    error: str = ""
    op: Op | None = None
    exception: Exception | None = None

    def __repr__(self) -> str:
        return (
            f"PluginOp(name={self.name!r}, distribution={self.distribution!r}, "
            f"version={self.version!r}, entry_point={self.entry_point!r}, "
            f"status={self.status!r}, error={self.error!r})"
        )

    def provider(self) -> str:
        """``"distribution <name> <version> (entry point <spec>)"``, for messages."""
        return f"distribution {self.distribution} {self.version} (entry point {self.entry_point})"


class Discovery(NamedTuple):
    """The result of one scan: every record, the ops to register, and what to warn about."""

    records: tuple[PluginOp, ...] = ()
    loaded: tuple[Op, ...] = ()
    warnings: tuple[str, ...] = ()
    disabled: bool = False

    def lookup_error(self, name: str) -> MicrotapeError | None:
        """The error for asking for ``name`` if a plugin failed or conflicts on it, else None.

        The error of a failed plugin has the original exception as ``__cause__``.
        """
        mine = [r for r in self.records if r.name == name]
        contested = [r for r in mine if r.status == "conflict"]
        if contested:
            return OpConflictError(f"op: {_conflict_text(name, contested)}")
        for record in mine:
            if record.status == "failed":
                error = UnknownOpError(
                    f"op: {name!r} comes from the plugin {record.provider()}, which failed "
                    f"to load: {record.error}"
                )
                error.__cause__ = record.exception
                return error
        return None

    def plugin_hint(self, name: str) -> str:
        """If one of microtape's example plugins provides ``name``: which one, and how to
        install it (or that plugins are turned off). Empty otherwise."""
        dist = next((d for d, names in EXAMPLE_PLUGINS.items() if name in names), None)
        if dist is None:
            return ""
        if self.disabled:
            return (
                f": it is an op of the example plugin {dist}, and plugins are turned off "
                f"({DISABLE_ENV} is set)"
            )
        versions = {r.version for r in self.records if _normalize(r.distribution) == dist}
        if versions:
            return (
                f": it is an op of the example plugin {dist}, installed here (version "
                f"{', '.join(sorted(versions))}) without it; upgrade it: "
                f"pip install --upgrade {dist}"
            )
        return (
            f": it is an op of the example plugin {dist}, which is not installed. Install "
            f"it: pip install {dist} (from a clone of microtape: "
            f"pip install -e plugins/{dist})"
        )

    def unknown_hint(self) -> str:
        """Why a name may be missing: plugins turned off, or plugins that failed."""
        if self.disabled:
            return f"; plugins are turned off ({DISABLE_ENV} is set)"
        failed = sorted({r.distribution for r in self.records if r.status == "failed"})
        if failed:
            return (
                f"; plugins of {', '.join(failed)} failed to load (see microtape.plugin_ops() "
                "or run `microtape ops`)"
            )
        return ""


class _Candidate:
    """One op from one entry point, before the policy decides its status."""

    __slots__ = (
        "distribution",
        "entry_point",
        "error",
        "exception",
        "key",
        "name",
        "op",
        "status",
        "version",
    )

    def __init__(
        self,
        name: str,
        distribution: str,
        key: str,  # the normalized distribution name, for MICROTAPE_PREFER
        version: str,
        entry_point: str,
        op: Op | None,
        error: str = "",
        exception: Exception | None = None,
        status: PluginStatus = "loaded",
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.key = key
        self.version = version
        self.entry_point = entry_point
        self.op = op
        self.error = error
        self.exception = exception
        self.status = status

    def record(self) -> PluginOp:
        return PluginOp(
            self.name,
            self.distribution,
            self.version,
            self.entry_point,
            self.status,
            self.error,
            self.op,
            self.exception,
        )

    def provider(self) -> str:
        return self.record().provider()


Taken: TypeAlias = Callable[[Op], str | None]
"""Given a plugin op, what already holds its name (``"the built-in op"``), or None if free."""


def discover(taken: Taken) -> Discovery:
    """Scan the installed distributions' ``microtape.ops`` entry points and apply the policy.

    Args:
        taken: says what already holds an op's name in the registry, or None when the
            name is free (or held by that very op).

    Returns:
        Every record, the ops to add to the registry, and the warnings to emit (the
        caller emits them once its registry is consistent).
    """
    if disabled():
        return Discovery(disabled=True)
    warnings: list[str] = []
    prefer = _preferences(os.environ.get(PREFER_ENV, ""), warnings)
    candidates = list(_load_all())
    for c in candidates:
        if c.status == "failed":
            warnings.append(
                f"microtape: the plugin {c.provider()} failed to load and is skipped; "
                f"other ops keep working: {c.error}"
            )
    by_name: dict[str, list[_Candidate]] = {}
    for c in candidates:
        if c.op is not None:
            by_name.setdefault(c.name, []).append(c)
    loaded: list[Op] = []
    for name, group in by_name.items():
        winner = _decide(name, group, taken, prefer, warnings)
        if winner is not None and all(winner is not o for o in loaded):
            loaded.append(winner)
    return Discovery(tuple(c.record() for c in candidates), tuple(loaded), tuple(warnings))


def _decide(
    name: str,
    group: list[_Candidate],
    taken: Taken,
    prefer: dict[str, str],
    warnings: list[str],
) -> Op | None:
    """Set the status of every candidate for ``name``; return the op to register, if any."""
    holders = [taken(c.op) if c.op is not None else None for c in group]
    if any(holders):
        # The registry holds the name already: a built-in op, or one registered while
        # the scan imported a plugin (perhaps one of these very ops, which stays loaded).
        for c, holder in zip(group, holders, strict=True):
            if holder is not None:
                c.status = "shadowed"
                c.error = f"cannot replace {holder} {name!r}; the plugin's op is skipped"
                warnings.append(f"microtape: the plugin {c.provider()} {c.error}")
        return None
    distinct = _distinct_ops(group)
    if len(distinct) == 1:
        return distinct[0]  # one op, perhaps offered by more than one entry point
    chosen = prefer.get(name)
    chosen_ops = _distinct_ops([c for c in group if c.key == chosen])
    if len(chosen_ops) == 1:
        winner = chosen_ops[0]
        for c in group:
            if c.op is not winner:
                c.status = "shadowed"
                c.error = (
                    f"{PREFER_ENV} chose distribution {chosen} for {name!r}, so this "
                    "definition is not used"
                )
        return winner
    unused = ""
    if chosen is not None:
        why = "defines it more than once" if chosen_ops else "does not define it"
        unused = f" ({PREFER_ENV} names {chosen!r} for {name!r}, but that distribution {why})"
    for c in group:
        c.status = "conflict"
        others = " and ".join(o.provider() for o in group if o is not c)
        c.error = f"{name!r} is also defined by {others}; neither is used{unused}. " + (
            _how_to_choose(name, group)
        )
    warnings.append(f"microtape: {_conflict_text(name, group)}{unused}")
    return None


def _distinct_ops(group: Sequence[_Candidate]) -> list[Op]:
    found: list[Op] = []
    for c in group:
        if c.op is not None and all(c.op is not o for o in found):
            found.append(c.op)
    return found


def _conflict_text(name: str, group: Sequence[_Candidate | PluginOp]) -> str:
    """The whole story of a contested name: who defines it, and how to choose."""
    providers = " and ".join(o.provider() for o in group)
    return (
        f"{name!r} is defined by more than one plugin: {providers}; neither is used. "
        + _how_to_choose(name, group)
    )


def _how_to_choose(name: str, group: Sequence[_Candidate | PluginOp]) -> str:
    dists = sorted({o.distribution for o in group})
    if len(dists) < 2:
        return f"{dists[0]} defines {name!r} more than once, which only its authors can fix"
    how = " or ".join(f"{PREFER_ENV}={name}={d}" for d in dists)
    return (
        f"Choose one by setting the environment variable {how} "
        "before microtape first looks up a plugin op"
    )


# ---- reading the installed distributions --------------------------------------------------


def _load_all() -> Iterator[_Candidate]:
    """Every op of every ``microtape.ops`` entry point, in a stable order."""
    for name, dist in _distributions():
        key = _normalize(name)
        metadata = dist.metadata
        version = metadata["Version"] if "Version" in metadata else "(unknown version)"
        for ep in dist.entry_points:
            if ep.group != GROUP:
                continue
            spec = f"{ep.name} = {ep.value}"
            try:
                found = ep.load()
            except Exception as exc:  # a plugin can fail in any way; report it as data
                yield _Candidate(
                    ep.name, name, key, version, spec, None, _describe(exc), exc, "failed"
                )
                continue
            ops = _as_ops(found)
            if isinstance(ops, TypeError):
                yield _Candidate(
                    ep.name, name, key, version, spec, None, _describe(ops), ops, "failed"
                )
                continue
            for o in ops:
                yield _Candidate(o.name, name, key, version, spec, o)


def _distributions() -> "list[tuple[str, importlib.metadata.Distribution]]":
    """Installed distributions by name, one per name (the first on sys.path, as importlib)."""
    import importlib.metadata

    seen: dict[str, tuple[str, importlib.metadata.Distribution]] = {}
    for dist in importlib.metadata.distributions():
        metadata = dist.metadata
        name = metadata["Name"] if "Name" in metadata else ""
        if name:  # metadata without a name is not an installed distribution to report
            seen.setdefault(_normalize(name), (name, dist))
    return [seen[key] for key in sorted(seen)]


def _as_ops(found: object) -> tuple[Op, ...] | TypeError:
    """The Ops an entry point resolved to, or the TypeError that says why it is not one."""
    if isinstance(found, Op):
        return (found,)
    if isinstance(found, Sequence) and not isinstance(found, (str, bytes)):
        items = tuple(found)
        wrong = [item for item in items if not isinstance(item, Op)]
        if items and not wrong:
            return tuple(item for item in items if isinstance(item, Op))
        if not items:
            return TypeError("the entry point resolves to an empty sequence, expected Ops")
        bad = wrong[0]
        return TypeError(
            f"the entry point resolves to a sequence holding {type(bad).__name__} "
            f"{_short(bad)}, expected only microtape Ops"
        )
    return TypeError(
        f"the entry point resolves to {type(found).__name__} {_short(found)}, "
        "expected a microtape Op or a sequence of Ops"
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _short(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _normalize(name: str) -> str:
    """A distribution name as packaging compares them: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def disabled() -> bool:
    """True if ``MICROTAPE_DISABLE_PLUGINS`` turns discovery off (1, true, yes or on)."""
    return _truthy(os.environ.get(DISABLE_ENV, ""))


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _preferences(text: str, warnings: list[str]) -> dict[str, str]:
    """Parse ``MICROTAPE_PREFER``: ``name=distribution`` pairs separated by commas."""
    chosen: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, dist = (s.strip() for s in part.partition("="))
        if not sep or not name or not dist:
            warnings.append(
                f"microtape: {PREFER_ENV} entry {part.strip()!r} is ignored; write "
                "name=distribution, such as hypot=microtape-activations"
            )
            continue
        chosen[name] = _normalize(dist)
    return chosen

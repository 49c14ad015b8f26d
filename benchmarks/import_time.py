"""What ``import microtape`` adds to the start of a fresh interpreter.

Measured in child interpreters that import the very microtape the benchmark measures
(its folder goes first on their ``PYTHONPATH``), as an installed package runs: from
bytecode caches, written beforehand into a temporary folder (``PYTHONPYCACHEPREFIX``,
so the source tree is not touched) even where the environment sets
``PYTHONDONTWRITEBYTECODE``. The time with no cache at all (compiling every module from
source) is reported beside it, and so is whether the import loads sympy or
``importlib.metadata`` (a plugin scan would).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import microtape as mt

from .instruments import Report, Settings, stat

__all__ = ["import_time"]

_NEW_MODULES: Final = (
    "import sys; before = set(sys.modules); import microtape; "
    "print('\\n'.join(sorted(set(sys.modules) - before)))"
)


def import_time(settings: Settings) -> Report:
    """Fresh interpreters with and without ``import microtape``, from caches and from source."""
    with tempfile.TemporaryDirectory(prefix="microtape-bench-pyc-") as cache:
        cached = _import_time(settings, {"PYTHONPYCACHEPREFIX": cache}, warm=True)
    source = _import_time(settings, {"PYTHONDONTWRITEBYTECODE": "1"}, warm=False)
    cached["source_added_ms"] = source["added_ms"]
    return cached


def _import_time(settings: Settings, extra: dict[str, str], *, warm: bool) -> Report:
    # The child interpreters must import this very package, whatever the working directory.
    package_root = str(Path(mt.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))

    def python(*arguments: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, *arguments], env=env, capture_output=True, text=True, check=True
        )
        return time.perf_counter() - start, done

    if warm:
        python("-c", "import microtape")  # write the bytecode caches outside the timed runs
    bare: list[float] = []
    loaded: list[float] = []
    importtime: list[float] = []
    for _ in range(settings.repeat):
        bare.append(python("-c", "pass")[0])
        loaded.append(python("-c", "import microtape")[0])
        stderr = python("-X", "importtime", "-c", "import microtape")[1].stderr
        importtime.append(_cumulative_us(stderr, "microtape"))
    modules = python("-c", _NEW_MODULES)[1].stdout.split()
    pass_ms = stat(bare, 1e3)
    import_ms = stat(loaded, 1e3)
    return {
        "pass_ms": pass_ms,
        "import_ms": import_ms,
        "added_ms": {key: import_ms[key] - pass_ms[key] for key in ("min", "median")},
        "importtime_us": stat(importtime),
        "modules": len(modules),
        "sympy": "sympy" in modules,
        "importlib.metadata": "importlib.metadata" in modules,
    }


def _cumulative_us(importtime: str, module: str) -> float:
    """The cumulative microseconds ``-X importtime`` gives for the top-level ``module``."""
    for line in importtime.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return float(parts[1])
    raise RuntimeError(f"bench: no import time for {module!r} in:\n{importtime}")

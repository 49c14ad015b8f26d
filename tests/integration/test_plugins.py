"""Plugins: ops from other installed distributions, found through ``microtape.ops`` entry points.

Every policy is tested against real installed distributions: each test writes
``*.dist-info`` directories (METADATA and entry_points.txt, which is what
``importlib.metadata`` reads) and their modules into a temporary folder, and runs a
fresh interpreter with that folder on ``sys.path``, so this process's registry stays
as it is. One test builds a plugin package and installs it with pip.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import microtape as mt
from microtape.registry.table import origin

# ---- real distributions in a temporary folder -----------------------------------------------


@dataclass
class Dist:
    """A distribution to install: its metadata, entry points and module sources."""

    name: str
    version: str = "1.0"
    entry_points: dict[str, str] = field(default_factory=dict)  # name -> "module:attr"
    modules: dict[str, str] = field(default_factory=dict)  # module name -> source


def install(site: Path, *dists: Dist) -> Path:
    """Install ``dists`` into ``site`` as importlib.metadata finds them; return ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    for dist in dists:
        info = site / f"{dist.name.replace('-', '_')}-{dist.version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist.name}\nVersion: {dist.version}\n"
        )
        lines = [f"{name} = {target}" for name, target in dist.entry_points.items()]
        (info / "entry_points.txt").write_text("[microtape.ops]\n" + "\n".join(lines) + "\n")
        for module, source in dist.modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
    return site


PRELUDE = """\
import json, sys, warnings
import microtape as mt
caught = []
def _record(message, category, filename, lineno, file=None, line=None):
    # A message is wrapped at 100 columns: joined again into one line here.
    text = " ".join(str(message).split())
    caught.append({"category": category.__name__, "message": text, "file": filename})
warnings.showwarning = _record
warnings.simplefilter("always")
import importlib.metadata, os, pathlib
SITE = pathlib.Path(os.environ["PYTHONPATH"])
MINE = {importlib.metadata.Distribution.at(p).metadata["Name"] for p in SITE.glob("*.dist-info")}
def records():
    # Only the distributions of this test's folder, not plugins installed elsewhere.
    return [
        {"name": p.name, "distribution": p.distribution, "version": p.version,
         "entry_point": p.entry_point, "status": p.status, "error": p.error}
        for p in mt.plugin_ops() if p.distribution in MINE
    ]
def attempt(fn):
    try:
        found = fn()
    except Exception as exc:
        cause = exc.__cause__
        return {"error": type(exc).__name__, "message": " ".join(str(exc).split()),
                "cause": None if cause is None else type(cause).__name__}
    return {"ok": repr(found)}
"""


def _environment(site: Path, env: dict[str, str] | None) -> dict[str, str]:
    settings = ("MICROTAPE_PREFER", "MICROTAPE_DISABLE_PLUGINS")
    environment = {k: v for k, v in os.environ.items() if k not in settings}
    environment["PYTHONPATH"] = str(site)
    environment.update(env or {})
    return environment


def run_python(
    code: str, site: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run PRELUDE and ``code`` in a fresh interpreter with ``site`` on its path."""
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=_environment(site, env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_microtape(
    site: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m microtape ARGS`` with ``site`` on its path."""
    return subprocess.run(
        [sys.executable, "-m", "microtape", *args],
        env=_environment(site, env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run_json(code: str, site: Path, env: dict[str, str] | None = None) -> Any:
    """Run ``code``, which prints one JSON document last; return it (Any: it is data)."""
    result = run_python(code, site, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


CUBE = Dist(
    "cube-ops",
    "2.5",
    {"cube": "cube_ops:cube"},
    {
        "cube_ops": """
            import microtape as mt
            cube = mt.Op("cube", lambda x: x * x * x, [lambda x: 3.0 * x * x],
                         sympy=lambda x: x**3, doc="x cubed")
        """
    },
)


def _op_module(module: str, name: str, doc: str = "") -> dict[str, str]:
    return {
        module: f"""
            import microtape as mt
            {name} = mt.Op({name!r}, lambda x: 2.0 * x, [lambda x: 2.0], doc={doc!r})
        """
    }


def _broken(name: str, module: str, source: str) -> Dist:
    return Dist(name, "0.9", {"broken": f"{module}:broken"}, {module: source})


# ---- discovery: lazy, once, through the installed entry points ----------------------------


@pytest.mark.subprocess
def test_a_plugin_op_is_found_by_name_and_attribute_and_differentiates(tmp_path: Path) -> None:
    site = install(tmp_path, CUBE)
    out = run_json(
        """
        cube = mt.op("cube")
        x = mt.Value(2.0)
        with mt.GradientTape() as tape:
            y = cube(x)
        from microtape.registry.table import origin
        print(json.dumps({"same": mt.ops.cube is cube, "y": y.data,
                          "dy": tape.gradient(y, x).data, "origin": origin(cube),
                          "records": records(), "warnings": caught}))
        """,
        site,
    )
    assert out["same"] and out["y"] == 8.0 and out["dy"] == 12.0
    assert out["origin"] == "plugin cube-ops 2.5"
    assert out["records"] == [
        {
            "name": "cube",
            "distribution": "cube-ops",
            "version": "2.5",
            "entry_point": "cube = cube_ops:cube",
            "status": "loaded",
            "error": "",
        }
    ]
    assert out["warnings"] == []


LATE = Dist("late-ops", "1.0", {"late": "late_ops:late"}, _op_module("late_ops", "late"))


@pytest.mark.subprocess
def test_import_and_builtin_lookups_read_no_plugin_metadata(tmp_path: Path) -> None:
    # A distribution whose folder joins sys.path after the import and the built-in
    # lookups is still found, so neither of them scanned; and the plugin module is
    # imported by the first scan, not before.
    site = install(tmp_path / "site", CUBE)
    late = install(tmp_path / "late", LATE)
    out = run_json(
        f"""
        mt.op("sin"); mt.ops.exp; mt.sin(mt.Value(1.0)); mt.Value(2.0) ** 3
        before = "cube_ops" in sys.modules
        sys.path.append({str(late)!r})
        late = attempt(lambda: mt.op("late"))
        print(json.dumps({{"before": before, "late": late, "after": "cube_ops" in sys.modules}}))
        """,
        site,
    )
    assert out == {"before": False, "late": {"ok": "<Op late(x)>"}, "after": True}


@pytest.mark.subprocess
def test_the_scan_runs_once_and_is_cached(tmp_path: Path) -> None:
    site = install(tmp_path / "site", CUBE)
    late = install(tmp_path / "late", LATE)
    out = run_json(
        f"""
        mt.op("cube")
        sys.path.append({str(late)!r})
        print(json.dumps({{"late": attempt(lambda: mt.op("late")),
                          "names": [r["name"] for r in records()]}}))
        """,
        site,
    )
    assert out["late"]["error"] == "UnknownOpError"
    assert out["names"] == ["cube"]


@pytest.mark.subprocess
def test_metadata_without_a_version_is_reported_and_without_a_name_is_skipped(
    tmp_path: Path,
) -> None:
    site = install(tmp_path, CUBE)
    versionless = site / "versionless-0.dist-info"
    versionless.mkdir()
    (versionless / "METADATA").write_text("Metadata-Version: 2.1\nName: versionless\n")
    (versionless / "entry_points.txt").write_text("[microtape.ops]\nlate = late_ops:late\n")
    (site / "late_ops.py").write_text(textwrap.dedent(_op_module("late_ops", "late")["late_ops"]))
    nameless = site / "nameless-0.dist-info"
    nameless.mkdir()
    (nameless / "METADATA").write_text("Metadata-Version: 2.1\n")
    (nameless / "entry_points.txt").write_text("[microtape.ops]\nghost = nowhere:ghost\n")
    out = run_json(
        'print(json.dumps({"late": attempt(lambda: mt.op("late")), "warnings": caught, '
        '"versions": {p.name: p.version for p in mt.plugin_ops()}}))',
        site,
    )
    assert out["late"] == {"ok": "<Op late(x)>"} and out["warnings"] == []
    assert out["versions"]["late"] == "(unknown version)" and "ghost" not in out["versions"]


@pytest.mark.subprocess
def test_an_entry_point_may_resolve_to_a_sequence_of_ops(tmp_path: Path) -> None:
    family = Dist(
        "family-ops",
        "3.0",
        {"family": "family_ops:OPS"},
        {
            "family_ops": """
                import microtape as mt
                OPS = [mt.Op("twice", lambda x: 2.0 * x, [lambda x: 2.0]),
                       mt.Op("thrice", lambda x: 3.0 * x, [lambda x: 3.0])]
            """
        },
    )
    out = run_json(
        'print(json.dumps({"ops": [repr(mt.op("twice")), repr(mt.ops.thrice)], '
        '"records": records()}))',
        install(tmp_path, family),
    )
    assert out["ops"] == ["<Op twice(x)>", "<Op thrice(x)>"]
    assert [(r["name"], r["entry_point"], r["status"]) for r in out["records"]] == [
        ("twice", "family = family_ops:OPS", "loaded"),
        ("thrice", "family = family_ops:OPS", "loaded"),
    ]


@pytest.mark.subprocess
def test_one_op_offered_by_two_entry_points_of_one_distribution_is_not_a_conflict(
    tmp_path: Path,
) -> None:
    dist = Dist(
        "both-ways",
        "1.0",
        {"cube": "both_ways:cube", "all": "both_ways:ALL"},
        {
            "both_ways": """
                import microtape as mt
                cube = mt.Op("cube", lambda x: x * x * x, [lambda x: 3.0 * x * x])
                ALL = [cube]
            """
        },
    )
    out = run_json(
        'print(json.dumps({"cube": attempt(lambda: mt.op("cube")), "warnings": caught}))',
        install(tmp_path, dist),
    )
    assert out == {"cube": {"ok": "<Op cube(x)>"}, "warnings": []}


# ---- a broken plugin: warned about, reported, and the rest keeps working -----------------------

LOOKUP_BROKEN = """
result = {
    "broken": attempt(lambda: mt.op("broken")),
    "attribute": attempt(lambda: mt.ops.broken),
    "cube": attempt(lambda: mt.op("cube")),
    "sin": mt.sin(0.0),
    "records": records(),
    "warnings": caught,
}
print(json.dumps(result))
"""


@pytest.mark.subprocess
def test_a_plugin_that_fails_to_import_is_reported_and_the_rest_keeps_working(
    tmp_path: Path,
) -> None:
    broken = _broken("needs-libfoo", "needs_libfoo", "import libfoo_that_is_not_installed\n")
    out = run_json(LOOKUP_BROKEN, install(tmp_path, CUBE, broken))
    assert out["cube"] == {"ok": "<Op cube(x)>"} and out["sin"] == 0.0
    [warning] = out["warnings"]
    assert warning["category"] == "PluginWarning"
    for part in (
        "needs-libfoo 0.9",
        "entry point broken = needs_libfoo:broken",
        "ModuleNotFoundError: No module named 'libfoo_that_is_not_installed'",
        "other ops keep working",
    ):
        assert part in warning["message"]
    # Asking for the broken op raises an error carrying the original failure.
    assert out["broken"]["error"] == "UnknownOpError"
    assert out["broken"]["cause"] == "ModuleNotFoundError"
    assert "needs-libfoo 0.9" in out["broken"]["message"]
    assert "No module named 'libfoo_that_is_not_installed'" in out["broken"]["message"]
    assert out["attribute"]["error"] == "AttributeError"
    assert out["attribute"]["cause"] == "ModuleNotFoundError"
    [record] = [r for r in out["records"] if r["distribution"] == "needs-libfoo"]
    assert record["status"] == "failed" and record["name"] == "broken"
    assert record["error"].startswith("ModuleNotFoundError: No module named")


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("broken = 42\n", "resolves to int 42, expected a microtape Op or a sequence of Ops"),
        ("import math\nbroken = math.sin\n", "resolves to builtin_function_or_method"),
        ("broken = []\n", "resolves to an empty sequence"),
        (
            "import microtape as mt\nbroken = [mt.Op('ok', lambda x: x, [lambda x: 1.0]), 'x']\n",
            "a sequence holding str 'x', expected only microtape Ops",
        ),
        ("raise RuntimeError('plugin exploded')\n", "RuntimeError: plugin exploded"),
    ],
    ids=["int", "function", "empty", "mixed-sequence", "raises"],
)
def test_an_entry_point_that_is_not_an_op_is_reported(
    tmp_path: Path, source: str, expected: str
) -> None:
    out = run_json(LOOKUP_BROKEN, install(tmp_path, CUBE, _broken("odd-plugin", "odd", source)))
    [warning] = out["warnings"]
    assert expected in warning["message"] and "odd-plugin 0.9" in warning["message"]
    assert out["broken"]["error"] == "UnknownOpError" and expected in out["broken"]["message"]
    assert out["cube"] == {"ok": "<Op cube(x)>"}
    assert [r["status"] for r in out["records"] if r["distribution"] == "odd-plugin"] == ["failed"]


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            "mt.Op('not an identifier', lambda x: x, [lambda x: 1.0])",
            "OpDefinitionError: Op: name must be a Python identifier, got 'not an identifier'",
        ),
        (
            "mt.Op('two_rules', lambda x: x, [lambda x: 1.0, lambda x: 0.0])",
            "OpDefinitionError: Op 'two_rules': forward takes 1 argument but 2",
        ),
        (
            "mt.Op('stiff', lambda x: x, [1.0])",
            "OpDefinitionError: Op 'stiff': derivatives[0] must be callable, got 1.0",
        ),
        (
            "mt.Op('mute', 'x', [lambda x: 1.0])",
            "OpDefinitionError: Op 'mute': forward must be callable",
        ),
    ],
    ids=["name", "arity", "rule", "forward"],
)
def test_an_invalid_definition_is_rejected_with_a_message_naming_the_plugin(
    tmp_path: Path, definition: str, expected: str
) -> None:
    source = f"import microtape as mt\nbroken = {definition}\n"
    out = run_json(LOOKUP_BROKEN, install(tmp_path, CUBE, _broken("sloppy-ops", "sloppy", source)))
    [warning] = out["warnings"]
    assert "sloppy-ops 0.9" in warning["message"]
    assert "entry point broken = sloppy:broken" in warning["message"]
    assert expected in warning["message"]
    assert out["broken"]["cause"] == "OpDefinitionError"
    assert out["cube"] == {"ok": "<Op cube(x)>"}


@pytest.mark.subprocess
def test_the_warning_points_at_the_line_that_asked_not_at_microtape(tmp_path: Path) -> None:
    broken = _broken("needs-libfoo", "needs_libfoo", "import libfoo_that_is_not_installed\n")
    out = run_json(
        'attempt(lambda: mt.op("cube"))\nprint(json.dumps(caught))', install(tmp_path, CUBE, broken)
    )
    assert [w["file"] for w in out] == ["<string>"]


@pytest.mark.subprocess
def test_a_broken_plugin_is_warned_about_once(tmp_path: Path) -> None:
    broken = _broken("needs-libfoo", "needs_libfoo", "import libfoo_that_is_not_installed\n")
    out = run_json(
        'for _ in range(3):\n    attempt(lambda: mt.op("broken")); mt.plugin_ops()\n'
        "print(json.dumps(len(caught)))",
        install(tmp_path, broken),
    )
    assert out == 1


@pytest.mark.subprocess
def test_warnings_as_errors_still_leave_a_consistent_registry(tmp_path: Path) -> None:
    broken = _broken("needs-libfoo", "needs_libfoo", "import libfoo_that_is_not_installed\n")
    out = run_json(
        """
        warnings.simplefilter("error")
        first = attempt(lambda: mt.op("cube"))
        print(json.dumps({"first": first, "again": attempt(lambda: mt.op("cube"))}))
        """,
        install(tmp_path, CUBE, broken),
    )
    assert out["first"]["error"] == "PluginWarning"
    assert out["again"] == {"ok": "<Op cube(x)>"}


# ---- names: conflicts, built-ins, runtime registration --------------------------------------

ALPHA = Dist("alpha-ops", "1.0", {"twin": "alpha_ops:twin"}, _op_module("alpha_ops", "twin", "A"))
BETA = Dist("Beta_Ops", "2.0", {"twin": "beta_ops:twin"}, _op_module("beta_ops", "twin", "B"))

LOOKUP_TWIN = """
result = {"twin": attempt(lambda: mt.op("twin")), "cube": attempt(lambda: mt.op("cube")),
          "records": records(), "warnings": caught}
if "ok" in result["twin"]:
    result["doc"] = mt.op("twin").doc
print(json.dumps(result))
"""


@pytest.mark.subprocess
def test_two_distributions_defining_one_name_conflict_and_neither_wins(tmp_path: Path) -> None:
    out = run_json(LOOKUP_TWIN, install(tmp_path, CUBE, ALPHA, BETA))
    assert out["twin"]["error"] == "OpConflictError"
    message = out["twin"]["message"]
    for part in (
        "'twin' is defined by more than one plugin",
        "alpha-ops 1.0 (entry point twin = alpha_ops:twin)",
        "Beta_Ops 2.0 (entry point twin = beta_ops:twin)",
        "neither is used",
        "MICROTAPE_PREFER=twin=Beta_Ops or MICROTAPE_PREFER=twin=alpha-ops",
    ):
        assert part in message
    assert out["cube"] == {"ok": "<Op cube(x)>"}
    twins = [r for r in out["records"] if r["name"] == "twin"]
    assert [(r["distribution"], r["status"]) for r in twins] == [
        ("alpha-ops", "conflict"),
        ("Beta_Ops", "conflict"),
    ]
    assert "also defined by distribution Beta_Ops 2.0" in twins[0]["error"]
    [warning] = out["warnings"]
    assert warning["category"] == "PluginWarning" and "more than one plugin" in warning["message"]


@pytest.mark.subprocess
@pytest.mark.parametrize("written", ["Beta_Ops", "beta-ops", "BETA.ops"])
def test_microtape_prefer_chooses_one_distribution(tmp_path: Path, written: str) -> None:
    out = run_json(
        LOOKUP_TWIN,
        install(tmp_path, CUBE, ALPHA, BETA),
        {"MICROTAPE_PREFER": f"cube=cube-ops, twin={written}"},
    )
    assert out["twin"] == {"ok": "<Op twin(x)>"} and out["doc"] == "B"
    twins = {r["distribution"]: r for r in out["records"] if r["name"] == "twin"}
    assert twins["Beta_Ops"]["status"] == "loaded"
    assert twins["alpha-ops"]["status"] == "shadowed"
    assert "MICROTAPE_PREFER chose distribution beta-ops" in twins["alpha-ops"]["error"]
    assert out["warnings"] == []


@pytest.mark.subprocess
def test_a_preference_naming_neither_distribution_leaves_the_conflict(tmp_path: Path) -> None:
    out = run_json(
        LOOKUP_TWIN, install(tmp_path, ALPHA, BETA), {"MICROTAPE_PREFER": "twin=gamma-ops"}
    )
    assert out["twin"]["error"] == "OpConflictError"
    assert "MICROTAPE_PREFER names 'gamma-ops' for 'twin'" in out["warnings"][0]["message"]


@pytest.mark.subprocess
def test_a_malformed_preference_is_warned_about(tmp_path: Path) -> None:
    out = run_json(LOOKUP_TWIN, install(tmp_path, CUBE), {"MICROTAPE_PREFER": "twin"})
    assert [w["message"] for w in out["warnings"]] == [
        "microtape: MICROTAPE_PREFER entry 'twin' is ignored; write name=distribution, "
        "such as hypot=microtape-activations"
    ]


@pytest.mark.subprocess
def test_one_distribution_defining_a_name_twice_is_a_conflict_only_it_can_fix(
    tmp_path: Path,
) -> None:
    dup = Dist(
        "dup-ops",
        "1.0",
        {"twin": "dup_ops:twin", "twin2": "dup_ops:twin2"},
        {
            "dup_ops": """
                import microtape as mt
                twin = mt.Op("twin", lambda x: x, [lambda x: 1.0])
                twin2 = mt.Op("twin", lambda x: -x, [lambda x: -1.0])
            """
        },
    )
    out = run_json(LOOKUP_TWIN, install(tmp_path, dup), {"MICROTAPE_PREFER": "twin=dup-ops"})
    assert out["twin"]["error"] == "OpConflictError"
    assert "dup-ops defines 'twin' more than once" in out["twin"]["message"]


@pytest.mark.subprocess
def test_a_plugin_cannot_replace_a_builtin_op(tmp_path: Path) -> None:
    sneaky = Dist("sneaky-ops", "0.1", {"sin": "sneaky:sin"}, _op_module("sneaky", "sin"))
    out = run_json(
        'print(json.dumps({"same": mt.op("cube") is not None and mt.op("sin") is mt.sin, '
        '"records": records(), "warnings": caught}))',
        install(tmp_path, CUBE, sneaky),
    )
    assert out["same"]
    [record] = [r for r in out["records"] if r["distribution"] == "sneaky-ops"]
    assert record["status"] == "shadowed"
    assert record["error"] == "cannot replace the built-in op 'sin'; the plugin's op is skipped"
    [warning] = out["warnings"]
    assert (
        "sneaky-ops 0.1 (entry point sin = sneaky:sin) cannot replace the built-in op 'sin'"
        in (warning["message"])
    )


@pytest.mark.subprocess
def test_registering_a_name_a_plugin_provides_raises_naming_the_plugin(tmp_path: Path) -> None:
    out = run_json(
        'other = mt.Op("cube", lambda x: x, [lambda x: 1.0])\n'
        "print(json.dumps(attempt(lambda: mt.register(other))))",
        install(tmp_path, CUBE),
    )
    assert out["error"] == "OpConflictError"
    assert "already taken by the op of the plugin distribution cube-ops 2.5" in out["message"]


@pytest.mark.subprocess
def test_a_plugin_module_may_register_and_look_up_ops_while_it_is_imported(tmp_path: Path) -> None:
    # The scan imports the module; its own lookups must neither recurse nor deadlock.
    eager = Dist(
        "eager-ops",
        "1.0",
        {"eager": "eager:eager"},
        {
            "eager": """
                import microtape as mt
                eager = mt.register(mt.Op("eager", lambda x: x, [lambda x: 1.0]))
                assert mt.op("eager") is eager and mt.op("exp") is mt.exp
            """
        },
    )
    out = run_json(
        'print(json.dumps({"eager": attempt(lambda: mt.op("eager")), "records": records(), '
        '"warnings": caught}))',
        install(tmp_path, eager),
    )
    assert out["eager"] == {"ok": "<Op eager(x)>"}
    assert [r["status"] for r in out["records"]] == ["loaded"]
    assert out["warnings"] == []


@pytest.mark.subprocess
def test_an_op_a_plugin_registers_while_imported_keeps_its_name(tmp_path: Path) -> None:
    eager = Dist(
        "eager-ops",
        "1.0",
        {"shared": "eager:shared"},
        {"eager": "import microtape as mt\nshared = mt.register(mt.Op('shared', abs, [abs]))\n"},
    )
    other = Dist("other-ops", "1.0", {"shared": "other:shared"}, _op_module("other", "shared"))
    out = run_json(
        'shared = mt.op("shared")\n'
        'print(json.dumps({"same": shared is sys.modules["eager"].shared, "records": records()}))',
        install(tmp_path, other, eager),
    )
    assert out["same"]
    statuses = {r["distribution"]: (r["status"], r["error"]) for r in out["records"]}
    assert statuses == {
        "eager-ops": ("loaded", ""),
        "other-ops": (
            "shadowed",
            "cannot replace the op registered at runtime 'shared'; the plugin's op is skipped",
        ),
    }


@pytest.mark.subprocess
def test_threads_racing_for_the_first_lookup_share_one_scan(tmp_path: Path) -> None:
    slow = Dist(
        "slow-ops",
        "1.0",
        {"slow": "slow_ops:slow"},
        {
            "slow_ops": """
                import time
                import microtape as mt
                time.sleep(0.2)
                slow = mt.Op("slow", lambda x: x, [lambda x: 1.0])
            """
        },
    )
    out = run_json(
        """
        import threading
        found = []
        threads = [threading.Thread(target=lambda: found.append(mt.op("slow"))) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps({"found": len(found), "distinct": len({id(o) for o in found}),
                          "records": len(records())}))
        """,
        install(tmp_path, slow),
    )
    assert out == {"found": 8, "distinct": 1, "records": 1}


# ---- switching discovery off --------------------------------------------------------------


@pytest.mark.subprocess
@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_microtape_disable_plugins_turns_discovery_off(tmp_path: Path, value: str) -> None:
    out = run_json(
        'print(json.dumps({"cube": attempt(lambda: mt.op("cube")), "records": records(), '
        '"imported": "cube_ops" in sys.modules}))',
        install(tmp_path, CUBE),
        {"MICROTAPE_DISABLE_PLUGINS": value},
    )
    assert out["cube"]["error"] == "UnknownOpError"
    assert "plugins are turned off (MICROTAPE_DISABLE_PLUGINS is set)" in out["cube"]["message"]
    assert out["records"] == [] and out["imported"] is False


@pytest.mark.subprocess
def test_microtape_disable_plugins_0_leaves_discovery_on(tmp_path: Path) -> None:
    out = run_json(
        'print(json.dumps(attempt(lambda: mt.op("cube"))))',
        install(tmp_path, CUBE),
        {"MICROTAPE_DISABLE_PLUGINS": "0"},
    )
    assert out == {"ok": "<Op cube(x)>"}


# ---- check_op names the plugin that provides a wrong op ----------------------------------------


@pytest.mark.subprocess
def test_check_op_failure_names_the_plugin_distribution_and_version(tmp_path: Path) -> None:
    wrong = Dist(
        "wrong-ops",
        "0.3",
        {"wrong": "wrong_ops:wrong"},
        {
            "wrong_ops": """
                import microtape as mt
                wrong = mt.Op("wrong", lambda x: x * x, [lambda x: 3.0 * x], sympy=lambda x: x**2)
            """
        },
    )
    out = run_json(
        "from microtape.testing import check_op\nprint(json.dumps(attempt(lambda: "
        'check_op(mt.op("wrong"), max_examples=5))))',
        install(tmp_path, wrong),
    )
    assert out["error"] == "AssertionError"
    assert re.match(r"check_op: op 'wrong' \(plugin wrong-ops 0\.3\) is wrong: d", out["message"])


# ---- this process: the example plugins, installed by the test command ---------------------------

EXAMPLE_PLUGINS = ("microtape-hyperbolic", "microtape-activations")


@pytest.mark.parametrize("distribution", EXAMPLE_PLUGINS)
def test_the_example_plugins_are_found_through_their_installed_entry_points(
    distribution: str,
) -> None:
    installed = importlib.metadata.distribution(distribution)
    declared = {ep.name for ep in installed.entry_points if ep.group == "microtape.ops"}
    found = [p for p in mt.plugin_ops() if p.distribution == distribution]
    assert declared and {p.name for p in found} == declared
    for p in found:
        assert (p.version, p.status, p.error) == (installed.version, "loaded", "")
        assert p.op is not None and mt.op(p.name) is p.op
        assert origin(p.op) == f"plugin {distribution} {installed.version}"


def test_every_loaded_plugin_op_is_listed_by_the_ops_namespace() -> None:
    loaded = {p.name: p.op for p in mt.plugin_ops() if p.status == "loaded"}
    listed = set(dir(mt.ops))
    assert loaded and set(loaded) <= listed
    for name, plugin_op in loaded.items():
        assert getattr(mt.ops, name) is plugin_op


# ---- a plugin package built outside this repository and installed with pip ---------------------

PACKAGE_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "cube-root-op"
version = "0.7.0"
dependencies = ["microtape"]

[project.entry-points."microtape.ops"]
cbrt_from_pip = "cube_root_op:cbrt"
"""

PACKAGE_MODULE = '''\
"""The real cube root as a microtape op, defined for negative x too."""

import math

import microtape as mt
from microtape.symbolic import sympy


def _cbrt(x: float) -> float:
    return math.copysign(abs(x) ** (1.0 / 3.0), x)


def _sympy_form(x: object) -> object:
    sp = sympy()
    return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)


cbrt: mt.Op = mt.Op(
    "cbrt_from_pip",
    _cbrt,
    [lambda x: 1.0 / (3.0 * cbrt(x) * cbrt(x))],  # infinite at 0: the tape refuses it
    sympy=_sympy_form,
    doc="real cube root",
)
'''


@pytest.mark.subprocess
def test_a_plugin_package_installed_with_pip_is_found_and_used(tmp_path: Path) -> None:
    package = tmp_path / "cube-root-op"
    (package / "cube_root_op").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PACKAGE_PYPROJECT)
    (package / "cube_root_op" / "__init__.py").write_text(PACKAGE_MODULE)
    site = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(package),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert list(site.glob("cube_root_op-0.7.0.dist-info"))
    (package / "mypy.ini").write_text("[mypy]\n")  # the plugin's own folder, no stubs for sympy
    typed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "cube_root_op"],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert typed.returncode == 0, typed.stdout + typed.stderr
    out = run_json(
        """
        x = mt.Value(-8.0)
        with mt.GradientTape() as tape:
            y = mt.ops.cbrt_from_pip(x)
        print(json.dumps({"y": y.data, "dy": tape.gradient(y, x).data, "records": records()}))
        """,
        site,
    )
    assert out["y"] == pytest.approx(-2.0) and out["dy"] == pytest.approx(1.0 / 12.0)
    assert [(r["name"], r["distribution"], r["version"], r["status"]) for r in out["records"]] == [
        ("cbrt_from_pip", "cube-root-op", "0.7.0", "loaded")
    ]
    listing = run_microtape(site, "ops")
    assert listing.returncode == 0, listing.stderr
    assert any(
        line.split()[:3] == ["cbrt_from_pip", "1", "plugin"] and "cube-root-op 0.7.0" in line
        for line in listing.stdout.splitlines()
    )
    check = run_microtape(site, "check", "cbrt_from_pip", "--max-examples", "20")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok    cbrt_from_pip  (plugin cube-root-op 0.7.0" in check.stdout

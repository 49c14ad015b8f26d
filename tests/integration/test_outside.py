"""microtape as installed, seen from folders outside the repository.

The README's test command installs microtape in editable mode. A user then type-checks
and runs their own code elsewhere, and often from the folder that holds the clone, whose
folder is named ``microtape``: a folder without ``__init__.py`` that Python would take
as a namespace package if the install came after it on ``sys.path``. These tests run
fresh interpreters (and mypy) in temporary folders against the installed package, with
no PYTHONPATH and no mypy configuration from this repository.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _installed(name: str) -> None:
    """Skip the test unless the distribution ``name`` is installed in this environment.

    Installed means its metadata is in one of this interpreter's site-packages folders:
    metadata in the source tree (an ``*.egg-info`` folder that an older build left
    there) is no installation, however early it comes on ``sys.path``.
    """
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    folders += [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    sites = {Path(folder).resolve() for folder in folders}
    for distribution in importlib.metadata.distributions(name=name):
        if Path(str(distribution.locate_file(""))).resolve() in sites:
            return
    pytest.skip(
        f"{name} is not installed in this interpreter's environment (imported from the "
        "source tree): install it as the README's test command does"
    )


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd`` with nothing that would point it at the source tree."""
    hidden = ("PYTHONPATH", "PYTHONSAFEPATH", "PYTHONSTARTUP", "MYPYPATH")
    return subprocess.run(
        command,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if k not in hidden},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An empty folder outside the repository."""
    folder = tmp_path / "outside"
    folder.mkdir()
    assert not folder.resolve().is_relative_to(ROOT)
    return folder


@pytest.fixture
def beside_the_clone(tmp_path: Path) -> Path:
    """A folder that holds the clone under the name ``microtape``, as a clone's parent does."""
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "microtape").symlink_to(ROOT, target_is_directory=True)
    # The clone's root is no package itself, so the import system sees a namespace portion.
    assert not (parent / "microtape" / "__init__.py").exists()
    assert (parent / "microtape" / "microtape" / "__init__.py").is_file()
    return parent


# ---- mypy --strict on a user's script sees microtape's own types --------------------------------


def _revealed(folder: Path, script: str) -> list[str]:
    """Run ``mypy --strict`` on ``script`` in ``folder``; return the revealed types in order."""
    (folder / "user.py").write_text(script)
    (folder / "mypy.ini").write_text("[mypy]\n")  # found first: no user or repo settings
    result = _run([sys.executable, "-m", "mypy", "--strict", "user.py"], folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return re.findall(r'note: Revealed type is "(.*)"', result.stdout)


VALUE = r"microtape(\.\w+)*\.Value"  # wherever in the package Value is defined
FLOAT = r"(builtins\.)?float"  # mypy 2 writes builtins as "float", older ones "builtins.float"

USER_SCRIPT = """\
import microtape as mt

x = mt.Value(1.0)
a = mt.Value(2.0)
with mt.GradientTape() as tape:
    y = a * mt.sin(a)
"""

REVEALED = {
    "mt.sin(1.0)": FLOAT,
    "mt.sin(x)": VALUE,
    'tape.gradient(y, {"a": a})': rf"(builtins\.)?dict\[(builtins\.)?str, {VALUE} \| None\]",
    "tape.jacobian([y, y], a)": rf"(builtins\.)?list\[{VALUE} \| None\]",
    "mt.nn.Dense(1, 1)": r"microtape\.nn\.Dense",
}


@pytest.mark.subprocess
@pytest.mark.user_site
def test_mypy_strict_outside_the_repo_sees_precise_types(outside: Path) -> None:
    _installed("microtape")
    script = USER_SCRIPT + "".join(f"reveal_type({expression})\n" for expression in REVEALED)
    revealed = _revealed(outside, script)
    assert len(revealed) == len(REVEALED), revealed
    for (expression, pattern), found in zip(REVEALED.items(), revealed, strict=True):
        assert re.fullmatch(pattern, found), (expression, found)


@pytest.mark.subprocess
@pytest.mark.user_site
def test_mypy_strict_outside_the_repo_sees_the_example_plugins_types(outside: Path) -> None:
    _installed("microtape")
    _installed("microtape-hyperbolic")
    _installed("microtape-activations")
    script = textwrap.dedent(
        """\
        import microtape as mt
        from microtape_activations import softplus
        from microtape_hyperbolic import sinh

        reveal_type(sinh(1.0))
        reveal_type(sinh(mt.Value(1.0)))
        reveal_type(softplus(mt.Value(1.0)))
        """
    )
    revealed = _revealed(outside, script)
    assert len(revealed) == 3, revealed
    for pattern, found in zip((FLOAT, VALUE, VALUE), revealed, strict=True):
        assert re.fullmatch(pattern, found), found


FUNCTIONS_SCRIPT = """\
from collections.abc import Sequence

import microtape as mt


def f(x: mt.Value) -> mt.Value:
    return x * x


def g(x: float) -> float:
    return x * x


def h(p: Sequence[mt.Value]) -> mt.Value:
    return p[0] * p[1]


def two(a: mt.Value, b: mt.Value) -> mt.Value:
    return a * b


def polar(p: list[mt.Value]) -> list[mt.Value]:
    return [p[0] * mt.cos(p[1]), p[0] * mt.sin(p[1])]

"""

FLOATS = rf"builtins\.list\[{FLOAT}\]|list\[{FLOAT}\]"
SEQ = rf"(typing\.)?Sequence\[{FLOAT}\]"
TRANSFORMS = {
    "mt.grad(f)": rf"def \({FLOAT}\) -> {FLOAT}",
    "mt.grad(g)(2.0)": FLOAT,
    "mt.grad(h)": rf"def \({SEQ}\) -> ({FLOATS})",
    "mt.grad(two, argnums=(0, 1))": rf"def \({FLOAT}, {FLOAT}\) -> tuple\[{FLOAT}, {FLOAT}\]",
    "mt.value_and_grad(h)": rf"def \({SEQ}\) -> tuple\[{FLOAT}, ({FLOATS})\]",
    "mt.jvp(f, (1.0,), (1.0,))": rf"tuple\[{FLOAT}, {FLOAT}\]",
    "mt.hessian(h)": rf"def \({SEQ}\) -> (builtins\.)?list\[({FLOATS})\]",
    "mt.hvp(f, 1.0, 1.0)": FLOAT,
    "mt.jacobian(polar)": rf"def \({SEQ}\) -> (builtins\.)?list\[({FLOATS})\]",
    "mt.grad(lambda x: x * x)(1.0)": "Any",
}


@pytest.mark.subprocess
@pytest.mark.user_site
def test_mypy_strict_sees_floats_in_and_out_of_the_function_transforms(outside: Path) -> None:
    _installed("microtape")
    script = FUNCTIONS_SCRIPT + "".join(f"reveal_type({e})\n" for e in TRANSFORMS)
    revealed = _revealed(outside, script)
    assert len(revealed) == len(TRANSFORMS), revealed
    for (expression, pattern), found in zip(TRANSFORMS.items(), revealed, strict=True):
        assert re.fullmatch(pattern, found), (expression, found)


# ---- running from the folder that holds the clone ----------------------------------------------


@pytest.mark.subprocess
@pytest.mark.user_site
def test_the_demo_runs_from_the_folder_that_holds_the_clone(beside_the_clone: Path) -> None:
    _installed("microtape")
    command = [sys.executable, "-m", "microtape", "demo", "--epochs", "2", "--samples", "20"]
    result = _run(command, beside_the_clone)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "training accuracy" in result.stdout and "(2 epochs, 20 points)" in result.stdout


@pytest.mark.subprocess
@pytest.mark.user_site
def test_a_script_runs_from_the_folder_that_holds_the_clone(beside_the_clone: Path) -> None:
    _installed("microtape")
    (beside_the_clone / "script.py").write_text(
        textwrap.dedent(
            """\
            import microtape as mt

            x = mt.Value(3.0)
            with mt.GradientTape() as tape:
                y = x * x
            print(mt.__file__)
            print(tape.gradient(y, x))
            """
        )
    )
    result = _run([sys.executable, "script.py"], beside_the_clone)
    assert result.returncode == 0, result.stdout + result.stderr
    package_file, gradient = result.stdout.splitlines()
    # A namespace package has no __file__: this is the regular package, as installed.
    assert Path(package_file).name == "__init__.py"
    assert gradient == "Value(6.0)"


@pytest.mark.subprocess
@pytest.mark.user_site
def test_the_console_script_runs_from_the_folder_that_holds_the_clone(
    beside_the_clone: Path,
) -> None:
    _installed("microtape")
    scripts = sysconfig.get_path("scripts")  # where this environment's installs put scripts
    script = shutil.which("microtape", path=scripts)
    assert script is not None, f"no microtape script in {scripts}"
    result = _run([script, "ops"], beside_the_clone)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split()[:2] == ["name", "arity"]
    assert any(line.split()[:3] == ["sin", "1", "built-in"] for line in result.stdout.splitlines())


# ---- the wheel: what an index would serve --------------------------------------------------------


@pytest.mark.subprocess
def test_the_wheel_holds_every_module_py_typed_the_script_and_the_license_and_nothing_else(
    tmp_path: Path,
) -> None:
    pytest.importorskip("hatchling", reason="the build backend (in the test extra) is missing")
    offline = ("--no-deps", "--no-build-isolation", "--no-index")  # nothing is downloaded
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", *offline]
    build = _run([*command, "--wheel-dir", str(tmp_path), str(ROOT)], tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = tmp_path.glob("microtape-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [info] = {name.split("/")[0] for name in names if ".dist-info/" in name}
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode().splitlines()
        license_text = archive.read(f"{info}/licenses/LICENSE").decode()
    # Every module of every subpackage, and the marker that makes the package typed.
    package = ROOT / "microtape"
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules and modules <= names, sorted(modules - names)
    assert "microtape/py.typed" in names
    # Nothing but the package and its metadata: no tests, examples, plugins, typings, docs.
    assert {name.split("/")[0] for name in names} == {"microtape", info}
    assert all((ROOT / name).is_file() for name in names if name.startswith("microtape/"))
    assert "microtape = microtape.cli:main" in entry_points.splitlines()
    # The license pyproject.toml declares, and its text, as the metadata standard places it.
    assert license_text == (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License\n") and "the microtape authors" in license_text
    assert {"License-Expression: MIT", "License-File: LICENSE"} <= set(metadata)


# ---- a plugin written from docs/plugins.md, in a folder of its own ------------------------------


def _readme_block(after: str, fence: str) -> str:
    """The first ``fence`` code block of docs/plugins.md after the line starting ``after``."""
    text = (ROOT / "docs" / "plugins.md").read_text()
    start = text.index(after)
    body = text[text.index(f"```{fence}\n", start) + len(fence) + 4 :]
    return body[: body.index("```\n")]


@pytest.mark.subprocess
@pytest.mark.user_site
def test_the_documented_plugin_passes_mypy_strict_in_its_own_folder(outside: Path) -> None:
    _installed("microtape")
    package = outside / "microtape-cbrt"
    (package / "src" / "microtape_cbrt").mkdir(parents=True)
    (package / "tests").mkdir()
    (package / "pyproject.toml").write_text(_readme_block("`pyproject.toml`: the entry", "toml"))
    source = _readme_block("`src/microtape_cbrt/__init__.py`", "py")
    (package / "src" / "microtape_cbrt" / "__init__.py").write_text(source)
    (package / "src" / "microtape_cbrt" / "py.typed").write_text("")
    (package / "tests" / "test_cbrt.py").write_text(_readme_block("`tests/test_cbrt.py`", "py"))
    (package / "mypy.ini").write_text("[mypy]\nmypy_path = src\n")  # no stubs for sympy
    result = _run([sys.executable, "-m", "mypy", "--strict", "src", "tests"], package)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cbrt: mt.Op = mt.Op(" in source and "microtape.symbolic" in source

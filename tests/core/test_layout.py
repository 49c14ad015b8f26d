"""The package's layout as rules: no import cycles, a core that imports nothing outward,
one module that knows a record's layout, and private state read only where it lives.

Imports are read from the source (``ast``), every one of them: at module level, inside
functions (a lazy import still makes a dependency), and a module named in a string (what
``importlib.import_module`` loads, as ``microtape/__init__.py`` does for ``mt.nn`` and
``mt.to_dot``), but not those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "microtape"
CORE = "microtape.core"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except what sits under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _resolve(module: str, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name or ""
    package = module.split(".")
    if not MODULES[module].name == "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports(module: str) -> set[str]:
    """The package modules ``module`` imports when it runs."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node.level, node.module)
            # `from package import submodule` depends on the submodule itself.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                for alias in node.names
            ]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            targets = [node.value]  # a module's full name: one importlib loads by name
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != module)
    return found


GRAPH: dict[str, set[str]] = {m: imports(m) for m in MODULES}


def _cycle() -> list[str] | None:
    """One import cycle among the package's modules, or None (depth-first, no recursion)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(GRAPH):
        if start in state:
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(GRAPH[start])))]
        state[start] = 1
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(GRAPH[child]))))
    return None


def test_the_package_has_no_import_cycle() -> None:
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_modules_loaded_by_name_are_edges_too() -> None:
    """``mt.nn`` is loaded by ``importlib`` from a table of names: still an import."""
    assert {"microtape.nn", "microtape.testing", "microtape.inspection.dot"} <= GRAPH["microtape"]
    assert "microtape.cli.demo" in GRAPH["microtape.cli"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    GRAPH["microtape.core.errors"].add("microtape.core.values.value")
    try:
        found = _cycle()
    finally:
        GRAPH["microtape.core.errors"].discard("microtape.core.values.value")
    assert found is not None and found[0] == found[-1]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(CORE)))
def test_the_core_imports_only_the_core(module: str) -> None:
    outward = sorted(m for m in GRAPH[module] if not m.startswith(CORE))
    assert not outward, f"{module} imports {outward}: the core must not depend on them"


_RUNS_CODE = {"compile", "exec", "eval", "__import__"}


def _code_runners(path: Path) -> list[str]:
    """Calls in ``path`` that turn text into code: ``compile(...)``, ``exec(...)``,
    ``eval(...)``, by name or as an attribute (``builtins.exec``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute):
                name = func.attr
            if name in _RUNS_CODE:
                found.append(f"{path.name}:{node.lineno} {name}()")
    return found


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(CORE)))
def test_the_core_writes_and_runs_no_code(module: str) -> None:
    """Code generation (``mt.function``) lives with the tracer in ``tracing/``: the core
    offers it a sink and the number observer, and never compiles or runs text."""
    found = _code_runners(MODULES[module])
    assert not found, f"{module} runs generated code: {found}; that belongs in tracing/"


def test_the_code_runner_finder_finds_exec(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import builtins\nexec('x = 1')\nbuiltins.compile('1', 'f', 'eval')\n")
    assert _code_runners(sample) == ["sample.py:2 exec()", "sample.py:3 compile()"]


def test_the_package_init_imports_in_plain_order() -> None:
    text = (PACKAGE / "__init__.py").read_text()
    assert "isort: skip" not in text and "noqa: E402" not in text


# ---- one module knows what a record is ----------------------------------------------------

LAYOUT = "microtape.core.recording.record"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_record_module_indexes_into_records(module: str) -> None:
    """Elsewhere, no stride slice (``flat[2::9]``), offset arithmetic (``flat[at + 3]``) or
    ``WIDTH`` arithmetic on records: rows are read through the record module's names."""
    if module == LAYOUT:
        return
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Subscript):
            continue
        subscripted = ast.unparse(node.value)
        if "flat" not in subscripted and "row" not in subscripted:
            continue  # not a record list
        index = node.slice
        if isinstance(index, ast.Slice) and index.step is not None:
            pytest.fail(f"{module}:{node.lineno}: a stride slice {ast.unparse(node)}")
        if (
            isinstance(index, ast.BinOp)
            and isinstance(index.op, (ast.Add, ast.Sub, ast.Mult))
            and isinstance(index.right, ast.Constant)
        ):
            pytest.fail(f"{module}:{node.lineno}: an offset into a row {ast.unparse(node)}")
        if "WIDTH" in ast.unparse(index):
            pytest.fail(f"{module}:{node.lineno}: row arithmetic {ast.unparse(node)}")


# ---- private state is read where it lives ---------------------------------------------------

TAPE_PRIVATE = {
    "_flat",
    "_state",
    "_explicit",
    "_pauses",
    "_paused",
    "_dropped",
    "_last_seeds",
    "_sink",
    "_token",
}


def _foreign_attributes(path: Path, names: set[str]) -> list[str]:
    """Accesses ``x.<name>`` in ``path`` where ``x`` is not ``self``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in names:
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id == "self"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_the_tape_reads_its_private_state() -> None:
    tape = PACKAGE / "core" / "tapes" / "tape.py"
    files = [p for p in [*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]]
    found = [hit for p in files if p != tape for hit in _foreign_attributes(p, TAPE_PRIVATE)]
    assert not found


def test_only_the_value_module_makes_values_by_hand() -> None:
    """Writes of a Value's slots (``out._data = ...``) happen in ``value.py`` alone."""
    value = PACKAGE / "core" / "values" / "value.py"
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path == value:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr in ("_data", "_id"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found

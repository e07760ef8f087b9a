"""The layering rules of DESIGN.md, checked on the source so that breaking one fails the suite.

- bot/ reaches the engine only through its public API, ``engine.api``;
- the engine never imports discord, aiosqlite or sqlite3;
- no import cycle among Parrot's modules (every import that runs, deferred ones too; not
  ``TYPE_CHECKING`` ones);
- an import inside a function between Parrot's own modules only defers a heavy import and
  says so in a comment containing "deferred";
- no file in bot/ or engine/ over 400 lines;
- every ``type: ignore`` names its error code and gives a reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "engine")
ENGINE_PUBLIC = ("engine.api",)
FORBIDDEN_IN_ENGINE = ("discord", "aiosqlite", "sqlite3")
MAX_LINES = 400


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    """The importing module (dotted)."""
    target: str
    """The imported module, or ``package.name`` for ``from package import name``."""
    line: int
    in_function: bool
    type_checking: bool
    comment: str
    """The source line and the one above it, for the "deferred" note."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def note(node: ast.stmt, target: str, in_function: bool, type_checking: bool) -> None:
        comment = " ".join(lines[max(0, node.lineno - 2) : node.end_lineno or node.lineno])
        found.append(Import(module, target, node.lineno, in_function, type_checking, comment))

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    note(child, alias.name, in_function, type_checking)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, is_package, child)
                for alias in child.names:
                    note(child, f"{base}.{alias.name}", in_function, type_checking)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True, type_checking)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for statement in child.body:
                    visit(ast.Module(body=[statement], type_ignores=[]), in_function, True)
                for statement in child.orelse:
                    visit(ast.Module(body=[statement], type_ignores=[]), in_function, False)
            else:
                visit(child, in_function, type_checking)

    visit(ast.parse(source, str(path)), False, False)
    return found


ALL_IMPORTS = [found for path in _sources() for found in _imports(path)]
MODULES = {_module_name(path) for path in _sources()}


def _own_module(target: str) -> str | None:
    """The Parrot module ``target`` names (``pkg.name`` may be a name inside ``pkg``)."""
    if target in MODULES:
        return target
    parent = target.rpartition(".")[0]
    return parent if parent in MODULES else None


def _where(found: Import) -> str:
    return f"{found.module} (line {found.line}) imports {found.target}"


def test_bot_uses_only_the_engine_api() -> None:
    leaks = [
        _where(found)
        for found in ALL_IMPORTS
        if found.module.split(".")[0] == "bot"
        and found.target.split(".")[0] == "engine"
        and not any(
            found.target == public or found.target.startswith(public + ".")
            for public in ENGINE_PUBLIC
        )
    ]
    assert leaks == [], "bot/ must import the engine only through engine.api"


def test_engine_knows_no_discord_and_no_database() -> None:
    leaks = [
        _where(found)
        for found in ALL_IMPORTS
        if found.module.split(".")[0] == "engine"
        and found.target.split(".")[0] in (*FORBIDDEN_IN_ENGINE, "bot")
    ]
    assert leaks == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for found in ALL_IMPORTS:
        if found.type_checking:
            continue
        target = _own_module(found.target)
        if target is not None and target != found.module:
            graph[found.module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for neighbour in sorted(graph[node]):
            if neighbour not in index:
                connect(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` that re-exports its children is not a cycle with them.

    ``pkg/__init__.py`` importing ``pkg.child`` while ``pkg.child`` imports ``pkg.other``
    loads ``pkg`` first; that is how packages work. Edges from a child to its own
    ancestor package are dropped, every other edge stays.
    """
    return {
        module: {target for target in targets if not module.startswith(target + ".")}
        for module, targets in graph.items()
    }


def test_no_import_cycles() -> None:
    assert _cycles(_without_package_inits(_graph())) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_function_local_imports_only_defer_heavy_imports() -> None:
    unexplained = [
        _where(found)
        for found in ALL_IMPORTS
        if found.in_function
        and not found.type_checking
        and _own_module(found.target) is not None
        and "deferred" not in found.comment.lower()
    ]
    assert unexplained == [], (
        "import Parrot's own modules at the top; an import inside a function must defer a "
        "heavy import and say so in a comment containing 'deferred'"
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_small_files(package: str) -> None:
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in sorted((ROOT / package).rglob("*.py"))
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[^\]]+\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_code_and_why() -> None:
    bare = []
    for path in _sources():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = TYPE_IGNORE.search(line)
            if match is None:
                continue
            reason = match.group("rest").strip().lstrip("#").strip()
            if match.group("code") is None or not reason:
                bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert bare == [], "write `# type: ignore[code]  # why`"

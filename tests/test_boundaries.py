"""The import boundaries the design depends on, read from every module's source (ast).

- The lab never agrees with the product by construction: `endpoints.lab.*` imports no
  product module but the plain data it simulates (`support`), `errors` (InputError),
  `yamlfile` (spec files), and `inventory` in the one function that mirrors a real one.
- Drivers and transports never reach up into the engine, the core, tasks, app or cli.
- Nothing imports the command line but `python -m endpoints`.
- aiohttp and asyncssh serve the lab only.
- The lab's modules form no import circle (state apart from the servers that serve it).
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "endpoints"
LAB_MAY_IMPORT = {"endpoints.support", "endpoints.errors", "endpoints.yamlfile"}
LAB_MAY_IMPORT_IN = {("endpoints.lab.fleet", "endpoints.inventory", "rehearsal_of")}
UPWARD = ("endpoints.engine", "endpoints.core", "endpoints.tasks", "endpoints.app", "endpoints.cli")
SERVER_LIBRARIES = ("aiohttp", "asyncssh")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted (for `from x import y`: x.y when y is a module, else x)
    line: int
    function: str  # the enclosing function, "" at module level
    type_only: bool  # under `if TYPE_CHECKING:`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    relative = Path(*dotted.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (PACKAGE.parent / relative).is_dir()


def imports_of(path: Path, module: str | None = None) -> Iterator[Import]:
    module = module or module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(node: ast.AST, function: str, type_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from walk(child, child.name, type_only)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for statement in child.body:
                    yield from walk(ast.Module([statement], []), function, True)
                for statement in child.orelse:
                    yield from walk(ast.Module([statement], []), function, type_only)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, alias.name, child.lineno, function, type_only)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    yield Import(module, full if _is_module(full) else base, child.lineno, function, type_only)
            else:
                yield from walk(child, function, type_only)

    yield from walk(tree, "", False)


def all_imports() -> list[Import]:
    return [i for path in sorted(PACKAGE.rglob("*.py")) for i in imports_of(path)]


def _within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def test_the_lab_imports_no_product_module_but_the_data_it_simulates() -> None:
    wrong = [i for i in all_imports() if _within(i.module, "endpoints.lab")
             and _within(i.target, "endpoints") and not _within(i.target, "endpoints.lab")
             and i.target not in LAB_MAY_IMPORT and (i.module, i.target, i.function) not in LAB_MAY_IMPORT_IN]
    assert wrong == [], "\n".join(f"{i.module}:{i.line} imports {i.target}" for i in wrong)


def test_drivers_and_transports_never_import_the_layers_above() -> None:
    wrong = [i for i in all_imports()
             if (_within(i.module, "endpoints.drivers") or _within(i.module, "endpoints.transports"))
             and any(_within(i.target, up) for up in UPWARD)]
    assert wrong == [], "\n".join(f"{i.module}:{i.line} imports {i.target}" for i in wrong)


def test_nothing_imports_the_command_line_but_the_main_module() -> None:
    wrong = [i for i in all_imports() if _within(i.target, "endpoints.cli") and i.module != "endpoints.__main__"
             and not _within(i.module, "endpoints.cli")]
    assert wrong == [], "\n".join(f"{i.module}:{i.line} imports {i.target}" for i in wrong)


def test_the_server_libraries_serve_only_the_lab() -> None:
    wrong = [i for i in all_imports() if not _within(i.module, "endpoints.lab")
             and any(_within(i.target, library) for library in SERVER_LIBRARIES)]
    assert wrong == [], "\n".join(f"{i.module}:{i.line} imports {i.target}" for i in wrong)


def test_the_lab_has_no_import_circle() -> None:
    graph: dict[str, set[str]] = {}
    for i in all_imports():
        if _within(i.module, "endpoints.lab") and _within(i.target, "endpoints.lab") and i.target != i.module:
            graph.setdefault(i.module, set()).add(i.target)
    circles = [cycle for cycle in _cycles(graph)]
    assert circles == [], "\n".join(" -> ".join(c) for c in circles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


@pytest.mark.parametrize("source, expected", [
    ("from endpoints.drivers.cisco_xapi import split_path\n", "endpoints.drivers.cisco_xapi"),
    ("import aiohttp.web\n", "aiohttp.web"),
    ("def f():\n    from endpoints import profiles\n", "endpoints.profiles"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from endpoints.host import Host\n", "endpoints.host"),
])
def test_the_checker_sees_every_kind_of_import(tmp_path: Path, source: str, expected: str) -> None:
    """A checker that saw nothing would pass everything: it must find each form."""
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert expected in {i.target for i in imports_of(path, "endpoints.lab.probe")}

"""The import rules of DESIGN.md, read from the modules' own imports with `ast`.

Every import counts, at module level or inside a function (a function-local import is still a
dependency); only imports under `if TYPE_CHECKING:` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

PACKAGES = ("operators", "serving", "batch_processor", "localaws", "sample")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> set[str]:
    """Every module the file imports (for `from a.b import c`: a.b, and a.b.c, which may be a
    module), without the TYPE_CHECKING-only ones."""
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.add(source)
            found |= {f"{source}.{alias.name}" for alias in node.names}
        pending.extend(ast.iter_child_nodes(node))
    return found


def project_modules() -> dict[str, set[str]]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            modules[module_name(path)] = imports_of(path)
    return modules


MODULES = project_modules()


def importers_of(prefix: str) -> list[str]:
    return sorted(
        name
        for name, imported in MODULES.items()
        if any(i == prefix or i.startswith(prefix + ".") for i in imported)
    )


def test_the_rules_see_every_package():
    assert {name.split(".")[0] for name in MODULES} == set(PACKAGES)
    assert "operators.cli" in MODULES and "operators.demo" in MODULES


@pytest.mark.parametrize("image", ["serving", "batch_processor"])
def test_images_import_nothing_of_the_operators_or_the_embedded_aws(image):
    offenders = {
        name: sorted(i for i in imported if i.split(".")[0] in ("operators", "localaws"))
        for name, imported in MODULES.items()
        if name.split(".")[0] == image
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_only_the_embedded_aws_imports_moto():
    assert [m for m in importers_of("moto") if not m.startswith("localaws")] == []


def test_nothing_imports_the_demo():
    assert [m for m in importers_of("operators.demo") if m != "operators.demo"] == []


def test_only_the_cli_layer_imports_click_or_rich():
    offenders = [
        m for m in importers_of("click") + importers_of("rich") if not m.startswith("operators.cli")
    ]
    assert offenders == []


def test_the_library_never_imports_the_cli():
    allowed = ("operators.cli", "operators.demo")  # the demo renders with the CLI's tables
    assert [m for m in importers_of("operators.cli") if not m.startswith(allowed)] == []


def operators_graph() -> dict[str, set[str]]:
    names = {n for n in MODULES if n.startswith("operators")}
    return {
        name: {i for i in MODULES[name] if i in names and i != name}
        - {p for p in names if name.startswith(p + ".")}  # a module imports its own package
        for name in names
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_operators_modules_import_no_cycle():
    assert find_cycle(operators_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None

"""Every module and the stack: variables typed and described, outputs described, all in README."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest

from tests.helpers.paths import REPO

MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
MODULES = sorted(p for p in (REPO / "terraform" / "modules").iterdir() if p.is_dir())
ROOTS = [*MODULES, REPO / "terraform" / "stacks" / "platform"]


def unquote(value: str) -> str:
    """python-hcl2 keeps HCL string quotes."""
    return value.strip('"')


def blocks(directory: Path, kind: str) -> dict[str, dict]:
    found = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            for block in hcl2.load(handle).get(kind, []):
                for name, body in block.items():
                    found[unquote(name)] = body
    return found


def ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(REPO / "terraform").as_posix() for p in paths]


def test_there_are_modules():
    assert MODULES, "terraform/modules/ holds the platform's modules"


@pytest.mark.parametrize("module", MODULES, ids=ids(MODULES))
def test_module_has_the_standard_files_and_tests(module: Path):
    missing = [name for name in MODULE_FILES if not (module / name).is_file()]
    assert not missing, f"{module.name} lacks {missing}"
    assert list((module / "tests").glob("*.tftest.hcl")), f"{module.name} has no terraform tests"


@pytest.mark.parametrize("root", ROOTS, ids=ids(ROOTS))
def test_variables_are_typed_described_and_documented(root: Path):
    readme = (root / "README.md").read_text()
    variables = blocks(root, "variable")
    assert variables
    for name, body in variables.items():
        assert unquote(body.get("description", "")).strip(), f"variable {name}: no description"
        assert "type" in body, f"variable {name}: no type"
        assert f"| {name} |" in readme, f"variable {name} missing from {root.name}/README.md"


@pytest.mark.parametrize("root", ROOTS, ids=ids(ROOTS))
def test_outputs_are_described_and_documented(root: Path):
    readme = (root / "README.md").read_text()
    outputs = blocks(root, "output")
    assert outputs
    for name, body in outputs.items():
        assert unquote(body.get("description", "")).strip(), f"output {name}: no description"
        assert f"| {name} |" in readme, f"output {name} missing from {root.name}/README.md"

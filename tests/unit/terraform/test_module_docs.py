"""Every module and the stack: variables typed and described, outputs described, all in README;
every module has the standard files and an examples/basic that its tests plan and README shows."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from tests.helpers.paths import REPO

MODULE_FILES = ("main.tf", "iam.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
MODULES = sorted(p for p in (REPO / "terraform" / "modules").iterdir() if p.is_dir())
ROOTS = [*MODULES, REPO / "terraform" / "stacks" / "platform"]


# A top-level module block of an example, as terraform fmt writes it.
MODULE_BLOCK = re.compile(r'^module "[^"]+" \{\n.*?^\}\n', re.MULTILINE | re.DOTALL)


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


@pytest.mark.parametrize("module", MODULES, ids=ids(MODULES))
def test_module_has_an_example_that_its_tests_plan_and_its_readme_shows(module: Path):
    example = module / "examples" / "basic" / "main.tf"
    assert example.is_file(), f"{module.name} has no examples/basic/main.tf"
    calls = MODULE_BLOCK.findall(example.read_text())
    assert any('source = "../.."' in call for call in calls), (
        f'{module.name}\'s example does not call the module (source = "../..")'
    )
    tests = "".join(path.read_text() for path in (module / "tests").glob("*.tftest.hcl"))
    assert re.search(r'source\s*=\s*"\./examples/basic"', tests), (
        f"no run in {module.name}'s tests plans examples/basic"
    )
    readme = (module / "README.md").read_text()
    missing = [call.splitlines()[0] for call in calls if call not in readme]
    assert not missing, f"{module.name}/README.md's usage lacks the example's {missing}"


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

"""Container images pin exactly what the project pins, and copy what their entry points import."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

import pytest

from tests.helpers.paths import REPO


def project_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return dict(
        re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d).groups() for d in project["dependencies"]
    )


@pytest.mark.parametrize("image", ["serving", "batch_processor"])
def test_image_requirements_match_the_project_pins(image):
    pins = project_pins()
    for line in (REPO / image / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            assert pins[name] == version, f"{name}: image pins {version}, project {pins[name]}"


PROJECT_PACKAGES = ("operators", "localaws", "sample", "batch_processor", "serving")


@pytest.mark.parametrize(
    ("package", "modules"), [("serving", ("server", "inference")), ("batch_processor", ("job",))]
)
def test_image_holds_every_module_and_package_its_entry_point_imports(package, modules):
    dockerfile = (REPO / package / "Dockerfile").read_text()
    requirements = (REPO / package / "requirements.txt").read_text()
    for module in modules:
        assert f"{package}/{module}.py" in dockerfile
        tree = ast.parse((REPO / package / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                top = node.names[0].name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
            else:
                continue
            if top == package:
                assert f"{package}/{node.module.split('.')[1]}.py" in dockerfile
            elif top in PROJECT_PACKAGES:
                raise AssertionError(f"{package}/{module}.py imports {top}, not in the image")
            elif top not in sys.stdlib_module_names and top != "__future__":
                pip_name = {"xgboost": "xgboost-cpu"}.get(top, top)
                assert pip_name in requirements, f"{module} imports {top}, not in the image"


def imported_packages(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        names = [node.module]
    else:
        return set()
    return {name.split(".")[0] for name in names} & set(PROJECT_PACKAGES)


def project_imports(path) -> tuple[set[str], set[str]]:
    """Project packages a module imports: anywhere (function-level imports count, the CLI may
    reach them), and when the module is imported (everything outside function bodies)."""
    tree = ast.parse(path.read_text())
    anywhere = set().union(*(imported_packages(node) for node in ast.walk(tree)))
    at_import, pending = set(), list(tree.body)
    while pending:
        node = pending.pop()
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            at_import |= imported_packages(node)
            pending.extend(ast.iter_child_nodes(node))
    return anywhere, at_import


def copied_packages(dockerfile: str) -> set[str]:
    copied = set()
    for line in dockerfile.splitlines():
        parts = line.split()
        if parts and parts[0] == "COPY":
            sources = [p for p in parts[1:-1] if not p.startswith("--")]
            copied |= {s.strip("/").split("/")[0] for s in sources}
    return copied


def test_operators_image_copies_exactly_the_project_packages_operators_imports():
    dockerfile = (REPO / "operators" / "Dockerfile").read_text()
    imported, imported_by = set(), {}
    for path in sorted((REPO / "operators").rglob("*.py")):
        anywhere, at_import = project_imports(path)
        imported |= anywhere
        for package in at_import:
            imported_by.setdefault(package, path.relative_to(REPO).as_posix())
    # The emulator stays out of the image: on AWS nothing may need it at import time.
    assert "localaws" not in imported_by, f"{imported_by['localaws']} imports localaws"
    copied = copied_packages(dockerfile) & set(PROJECT_PACKAGES)
    assert copied == imported - {"localaws"}, (
        f"operators/ imports {sorted(imported)}; operators/Dockerfile copies {sorted(copied)}"
    )


def test_operators_image_installs_the_pinned_project_and_runs_byo_as_non_root():
    dockerfile = (REPO / "operators" / "Dockerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert re.search(r"^FROM python:3\.12-slim$", dockerfile, re.M)
    # pyproject.toml (the pins) and its readme must be in the context `pip install .` builds.
    assert {"pyproject.toml", project["readme"]} <= copied_packages(dockerfile)
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", dockerfile)
    assert "requirements" not in dockerfile, "the project's own pins, not a second list"
    assert re.search(r"useradd --uid 10001 .* monitor", dockerfile)
    assert re.search(r"^USER 10001$", dockerfile, re.M)  # the uid useradd gave it
    assert project["scripts"]["byo"] == "operators.cli:main"
    assert dockerfile.rstrip().endswith('ENTRYPOINT ["byo"]')


def test_monitor_job_command_is_the_arguments_of_the_byo_entry_point():
    """Batch's command replaces the image's CMD, not its ENTRYPOINT: repeating `byo` in the
    command would run `byo byo monitor run`."""
    outputs = (REPO / "terraform" / "modules" / "monitoring" / "outputs.tf").read_text()
    command = re.search(r"^\s*command\s*=\s*\[(.*?)\]", outputs, re.M).group(1)
    assert [c.strip().strip('"') for c in command.split(",")][:2] == ["monitor", "run"]

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


def module_imports(path) -> tuple[set[str], set[str]]:
    """(project modules as "package/module", third-party top-level names) a module imports,
    anywhere in it (lazy imports inside functions count: they run in the image too)."""
    project, third_party = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module in PROJECT_PACKAGES:  # `from serving import outputs`
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PROJECT_PACKAGES:
                project.add("/".join(name.split(".")[:2]))
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return project, third_party


PIP_NAMES = {"xgboost": "xgboost-cpu", "sklearn": "scikit-learn", "google": "protobuf"}


@pytest.mark.parametrize(("package", "entry"), [("serving", "server"), ("batch_processor", "job")])
def test_image_holds_every_module_and_package_its_entry_point_imports(package, entry):
    """Everything the entry point reaches, transitively, is copied and its libraries pinned."""
    dockerfile = (REPO / package / "Dockerfile").read_text()
    requirements = {
        line.split("==")[0]
        for line in (REPO / package / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    whole_package = re.search(rf"^COPY .*\b{package}/ ", dockerfile, re.M) is not None
    seen, pending = set(), [f"{package}/{entry}"]
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        top = module.split("/")[0]
        assert top == package, f"{package}'s image reaches {module}, another package"
        assert whole_package or f"{module}.py" in dockerfile, f"{module}.py is not copied"
        project, third_party = module_imports(REPO / f"{module}.py")
        pending.extend(project - {package})  # `import serving` alone is the package
        for name in third_party:
            pip_name = PIP_NAMES.get(name, name)
            assert pip_name in requirements, f"{module} imports {name}; the image lacks it"


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

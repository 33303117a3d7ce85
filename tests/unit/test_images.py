"""Container images pin exactly what the project pins, and copy what their entry points import."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

import pytest

from tests.conftest import REPO


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

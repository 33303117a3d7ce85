"""Container images pin exactly what the project pins, and copy what their entry points import."""

from __future__ import annotations

import ast
import re
import tomllib

from tests.conftest import REPO


def project_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return dict(
        re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", d).groups() for d in project["dependencies"]
    )


def test_serving_requirements_match_the_project_pins():
    pins = project_pins()
    for line in (REPO / "serving" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            assert pins[name] == version, f"{name}: image pins {version}, project {pins[name]}"


def test_serving_image_copies_every_module_the_server_imports():
    dockerfile = (REPO / "serving" / "Dockerfile").read_text()
    for module in ("server", "inference"):
        tree = ast.parse((REPO / "serving" / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("serving")
            ):
                name = node.module.split(".")[1]
                assert f"serving/{name}.py" in dockerfile
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.split(".")[0]
                in ("operators", "localaws", "sample", "batch_processor")
            ):
                raise AssertionError(f"serving/{module}.py imports {node.module}, not in the image")

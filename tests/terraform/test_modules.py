"""`terraform test` of every module (plans against mock providers, in each module's tests/).

Here rather than before pytest: these are CPU-bound plans, and run beside the tests that mostly
wait (on the emulator, on processes) they cost `make test` little of their wall time; `make
tf-test` still runs them alone, two modules at a time."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from operators.terraform import write_cli_config
from tests.helpers.paths import REPO
from tests.helpers.provider import AttachedProviders, installed_binary


def run_blocks(module: str) -> int:
    return sum(
        text.count("\nrun ")
        for text in map(
            Path.read_text, (REPO / "terraform" / "modules" / module).glob("tests/*.tftest.hcl")
        )
    )


# The modules with the most run blocks first: under `--dist loadfile` each case is a work unit
# of its own (tests/conftest.py), and the longest (endpoint's) starting last kept one worker
# busy alone at the end.
MODULES = sorted(
    (p.parent.name for p in (REPO / "terraform" / "modules").glob("*/tests")),
    key=lambda module: (-run_blocks(module), module),
)


@pytest.fixture(scope="session")
def providers(tmp_path_factory):
    """The AWS provider, started once per worker: every module's `terraform test` attaches to
    it (tests/helpers/provider.py says why and when that is the same as starting it)."""
    running = AttachedProviders(tmp_path_factory.mktemp("providers"))
    try:
        yield running
    finally:
        running.close()


@pytest.mark.parametrize("module", MODULES)
def test_the_modules_own_tests_pass(module, tmp_path, providers):
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(write_cli_config(tmp_path / "terraform.rc")),
        "TF_DATA_DIR": str(tmp_path / "tf"),
        "TF_IN_AUTOMATION": "1",
    }
    directory = REPO / "terraform" / "modules" / module
    for args in (("init", "-input=false", "-backend=false"), ("test", "-no-color")):
        if args[0] == "test":
            env.update(providers.env(installed_binary(tmp_path / "tf")))
        result = subprocess.run(
            ["terraform", f"-chdir={directory}", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, (
            f"terraform {args[0]} in terraform/modules/{module} failed:\n"
            + result.stdout[-8000:]
            + result.stderr[-4000:]
        )

"""The platform stack applied for real against the emulator, with the project's CLI config."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from operators.terraform import write_cli_config
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

STACK = REPO / "terraform" / "stacks" / "platform"


@pytest.fixture
def terraform(emulator, tmp_path):
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(write_cli_config(tmp_path / "terraform.rc")),
        "TF_DATA_DIR": str(tmp_path / "tf"),
        "AWS_ENDPOINT_URL": emulator.url,
        "TF_IN_AUTOMATION": "1",
    }

    def run(*args: str) -> str:
        result = subprocess.run(
            ["terraform", f"-chdir={STACK}", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    lock = (STACK / ".terraform.lock.hcl").read_bytes()
    run(
        "init",
        "-input=false",
        "-lockfile=readonly",
        f"-backend-config=path={tmp_path / 'state' / 'terraform.tfstate'}",
    )
    yield run
    assert (STACK / ".terraform.lock.hcl").read_bytes() == lock, "init must not rewrite the lock"


def test_apply_reaches_the_emulator_and_replans_clean(terraform):
    terraform("apply", "-input=false", "-auto-approve", "-var", "emulator=true")
    outputs = json.loads(terraform("output", "-json"))
    assert outputs["account_id"]["value"] == "123456789012"  # the emulator's account
    assert outputs["region"]["value"] == "us-east-1"
    plan = terraform("plan", "-input=false", "-detailed-exitcode", "-var", "emulator=true")
    assert "No changes" in plan
    terraform("destroy", "-input=false", "-auto-approve", "-var", "emulator=true")

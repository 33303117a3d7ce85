"""The rollout lock's wiring that needs no AWS: which table, which endpoint, and the CLI's
refusal to roll out without a job table."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from operators import rollout
from operators.aws import Clients
from operators.cli import cli
from operators.config import Settings
from operators.errors import ConfigError


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """Stack outputs without a job_table, and none in the environment either."""
    monkeypatch.delenv("BYO_JOB_TABLE", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env
    path = tmp_path / "outputs.json"
    path.write_text(
        json.dumps(
            {
                "endpoint_name": {"value": "byo"},
                "model_package_group": {"value": "models"},
                "sagemaker_execution_role_arn": {"value": "arn:aws:iam::1:role/r"},
            }
        )
    )
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["traffic", "set", "variant-a=1"],
        ["traffic", "shift", "--to", "variant-b"],
        ["deploy", "1", "--variant", "variant-b"],
        ["shadow", "promote"],
    ],
)
def test_a_rollout_without_a_job_table_is_refused_naming_byo_job_table(outputs, command):
    result = CliRunner().invoke(cli, ["--outputs", str(outputs), *command])
    assert isinstance(result.exception, ConfigError), result.output
    message = str(result.exception)
    assert "BYO_JOB_TABLE" in message and "rollout lock of endpoint byo" in message


def test_the_holder_is_byo_rollout_holder_when_set(outputs, monkeypatch):
    monkeypatch.setenv("BYO_JOB_TABLE", "jobs")
    monkeypatch.setenv("BYO_ROLLOUT_HOLDER", "deploy-machine execution abc")
    settings = Settings(outputs_file=outputs)
    lock = rollout.from_settings(settings, Clients(), "byo", "byo deploy 3")
    assert (lock.table, lock.holder, lock.action) == (
        "jobs",
        "deploy-machine execution abc",
        "byo deploy 3",
    )
    monkeypatch.delenv("BYO_ROLLOUT_HOLDER")
    lock = rollout.from_settings(Settings(outputs_file=outputs), Clients(), "byo", "byo deploy 3")
    assert lock.holder == rollout.default_holder() and " pid " in lock.holder


def test_a_lock_of_another_endpoint_is_refused():
    lock = rollout.Lock(Clients(), "jobs", "byo", "byo traffic set")
    with (
        pytest.raises(ConfigError, match="endpoint byo's, not other's"),
        rollout.holding(lock, "other"),
    ):
        pass


def test_without_a_lock_a_rollout_is_not_coordinated():
    with rollout.holding(None, "byo") as check:
        check()  # nothing to lose

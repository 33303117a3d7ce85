from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from operators import config
from operators.config import Settings
from operators.errors import ConfigError
from operators.traffic import parse_weights


@pytest.fixture
def outputs(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(
        json.dumps(
            {
                "endpoint_name": {"value": "from-outputs", "type": "string"},
                "job_table": {"value": "jobs"},
            }
        )
    )
    return path


def test_lookup_order_option_env_dotenv_outputs_default(tmp_path, outputs):
    dotenv = tmp_path / ".env"
    dotenv.write_text("BYO_ENDPOINT_NAME=from-dotenv\nBYO_JOB_TABLE=dotenv-jobs\n")
    env = {"BYO_ENDPOINT_NAME": "from-env"}

    settings = Settings({"endpoint_name": "from-option"}, env, dotenv, outputs)
    assert settings.get("endpoint_name") == "from-option"
    settings = Settings({}, env, dotenv, outputs)
    assert settings.get("endpoint_name") == "from-env"
    assert settings.get("job_table") == "dotenv-jobs"
    settings = Settings({}, {}, None, outputs)
    assert settings.get("endpoint_name") == "from-outputs"
    assert settings.get("job_table") == "jobs"
    assert settings.get("absent", "default") == "default"


def test_outputs_file_can_come_from_the_environment(outputs):
    settings = Settings({}, {"BYO_OUTPUTS": str(outputs)}, None)
    assert settings.require("endpoint_name") == "from-outputs"


def test_missing_setting_says_every_way_to_give_it(outputs):
    with pytest.raises(ConfigError, match="--model-package-group, set BYO_MODEL_PACKAGE_GROUP"):
        Settings({}, {}, None, outputs).require("model_package_group")


def test_unreadable_outputs_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read stack outputs"):
        Settings({}, {}, None, tmp_path / "absent.json").get("endpoint_name")


def test_settings_are_a_value_no_command_can_change(outputs):
    settings = Settings({"endpoint_name": "from-option"}, {}, None, outputs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.options = {}
    with pytest.raises(TypeError):
        settings.options["endpoint_name"] = "changed"
    assert settings.get("endpoint_name") == "from-option"


def test_a_variation_is_a_copy_that_reads_the_stack_once(monkeypatch):
    reads = []

    def terraform_outputs(stack_dir, target):
        reads.append((stack_dir, target))
        return {"endpoint_name": "from-terraform", "job_table": "jobs"}

    monkeypatch.setattr(config, "terraform_outputs", terraform_outputs)
    settings = Settings({}, {}, None)
    assert settings.get("endpoint_name") == "from-terraform"
    copy = settings.with_options(endpoint_name="from-option")
    assert copy.get("endpoint_name") == "from-option" and copy.get("job_table") == "jobs"
    assert settings.get("endpoint_name") == "from-terraform"
    assert settings.with_options(endpoint_name=None).get("endpoint_name") == "from-terraform"
    assert reads == [(config.DEFAULT_STACK_DIR, "local")]


def test_a_copy_with_other_outputs_reads_those(outputs, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"endpoint_name": {"value": "other"}}))
    settings = Settings({}, {}, None, outputs)
    assert settings.get("endpoint_name") == "from-outputs"
    assert dataclasses.replace(settings, outputs_file=other).get("endpoint_name") == "other"


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "at least one"),
        (["variant-a"], "expected VARIANT=WEIGHT"),
        (["variant-a=x"], "not a number"),
        (["variant-a=-1"], ">= 0"),
        (["a=1", "a=2"], "given twice"),
    ],
)
def test_bad_weights_are_rejected_with_the_reason(pairs, message):
    with pytest.raises(ConfigError, match=message):
        parse_weights(pairs)


def test_bad_weights_exit_2_with_one_line_and_no_traceback(outputs):
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "byo"),
            "--outputs",
            str(outputs),
            "traffic",
            "set",
            "variant-a=oops",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: 'variant-a=oops': weight 'oops' is not a number"
    assert "Traceback" not in result.stderr


def test_unreachable_aws_is_one_line_not_a_traceback(tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"endpoint_name": {"value": "e"}}))
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "byo"), "--outputs", str(outputs), "status"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1
    assert "cannot reach AWS at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr

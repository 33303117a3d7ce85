"""The loops' jobs and `byo loops` against the emulator: `byo loops retrain` runs the pipeline
for real and records its outcome; `byo loops deploy` rolls an approved version out in place of
the serving variant's model; the state, a start by hand and pause/resume of a trigger. (The
state machines that run these jobs are the e2e's: tests/e2e/test_stack.py applies them.)"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from operators import loops, registry, rollout
from operators.aws import Clients
from operators.cli import cli
from operators.errors import ByoError, ConfigError
from tests.helpers.aws import minimal_stack, unique

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(emulator, tmp_path, trained_model, dataset):
    """The minimal stack, its initial model in S3, 10,000 labelled rows under datasets/."""
    made = minimal_stack(emulator, tmp_path)
    s3 = emulator.client("s3")
    s3.upload_file(str(trained_model.model_path), made["bucket"], "initial/model.tar.gz")
    lines = dataset.read_text().splitlines(keepends=True)[:10_001]
    s3.put_object(Bucket=made["bucket"], Key="datasets/a.csv", Body="".join(lines).encode())
    made["data"] = f"s3://{made['bucket']}/datasets/a.csv"
    made["table"] = json.loads(made["outputs"].read_text())["job_table"]["value"]
    made["work"] = tmp_path / "pipeline"
    return made


def retrain(stack, *extra: str, threshold: str = "0.5", record: str = "loops/retraining/e-1"):
    return CliRunner().invoke(
        cli,
        [
            "--outputs",
            str(stack["outputs"]),
            "loops",
            "retrain",
            "--reason",
            "new-data",
            "--data",
            stack["data"],
            "--record",
            record,
            "--auc-threshold",
            threshold,
            "--work-dir",
            str(stack["work"]),
            "--json",
            *extra,
        ],
        catch_exceptions=False,
    )


def test_retrain_registers_a_version_pending_approval_and_records_it(emulator, stack):
    done = retrain(stack)
    assert done.exit_code == 0, done.output
    outcome = json.loads(done.stdout)
    assert outcome["Outcome"] == "registered" and outcome["Version"] == "1"
    assert registry.find(Clients(), stack["group"], 1)["status"] == "PendingManualApproval"
    saved = loops.read_record(Clients(), stack["table"], "loops/retraining/e-1")
    assert saved["Outcome"] == "registered" and saved["Data"] == stack["data"]
    assert float(saved["Auc"]) > 0.5
    assert saved["ServingVersion"] == "initial"  # the endpoint serves the stack's model
    assert "byo model approve 1" in saved["Message"] and "test AUC" in saved["Message"]
    assert "recall" in saved["Message"] and "f1" in saved["Message"]
    assert saved["Subject"].endswith("version 1 pending approval")

    again = retrain(stack, record="loops/retraining/e-2")
    assert json.loads(again.stdout)["Outcome"] == "unchanged"  # the same data: the same model


def test_a_failed_auc_condition_is_an_outcome_that_registers_nothing(emulator, stack, dataset):
    # labels that no feature predicts (every other row): an AUC near 0.5, below 0.9
    lines = dataset.read_text().splitlines()[:5_001]
    rows = [f"{line.rsplit(',', 1)[0]},{i % 2}" for i, line in enumerate(lines[1:])]
    body = "\n".join([lines[0], *rows]) + "\n"
    emulator.client("s3").put_object(Bucket=stack["bucket"], Key="datasets/noise.csv", Body=body)
    stack["data"] = f"s3://{stack['bucket']}/datasets/noise.csv"
    done = retrain(stack, threshold="0.9")
    assert done.exit_code == 0, done.output  # the machine notifies it; the job did its work
    outcome = json.loads(done.stdout)
    assert outcome["Outcome"] == "condition-failed"
    assert "AucThreshold 0.9" in outcome["Message"] and "nothing registered" in outcome["Message"]
    assert registry.versions(Clients(), stack["group"]) == []


def test_a_failing_pipeline_fails_the_job(emulator, stack):
    stack["data"] = f"s3://{stack['bucket']}/datasets/missing.csv"
    with pytest.raises(ByoError, match=r"missing\.csv"):
        retrain(stack)
    assert registry.versions(Clients(), stack["group"]) == []
    saved = loops.read_record(Clients(), stack["table"], "loops/retraining/e-1")
    assert saved["Outcome"] == "failed" and "nothing registered" in saved["Message"]
    assert "missing.csv" in saved["Message"]  # the job says why, for the machine to notify


def test_auto_approval_needs_the_margin_over_the_serving_version(emulator, stack, tmp_path):
    # the endpoint serves an approved v1 whose registered AUC is 0.6: a new version beats it
    metrics = tmp_path / "evaluation.json"
    metrics.write_text(json.dumps({"binary_classification_metrics": {"auc": {"value": 0.6}}}))
    byo = CliRunner()
    for args in (
        ["model", "register", "--artifact", str(stack_model(stack, emulator, tmp_path)),
         "--metrics", str(metrics), "--approve"],
        ["deploy", "1", "--variant", "variant-a"],
    ):  # fmt: skip
        result = byo.invoke(cli, ["--outputs", str(stack["outputs"]), *args])
        assert result.exit_code == 0, result.output
    done = retrain(stack, "--auto-approve-margin", "0.05")
    outcome = json.loads(done.stdout)
    assert (outcome["Outcome"], outcome["Version"], outcome["ServingVersion"]) == (
        "approved",
        "2",
        "1",
    )
    assert registry.find(Clients(), stack["group"], 2)["status"] == "Approved"
    assert "auto-approved" in (registry.find(Clients(), stack["group"], 2)["description"] or "")


def stack_model(stack, emulator, tmp_path):
    path = tmp_path / "initial.tar.gz"
    emulator.client("s3").download_file(stack["bucket"], "initial/model.tar.gz", str(path))
    return path


def deploy(stack, version: int, record: str = "loops/deploy/d-1"):
    return CliRunner().invoke(
        cli,
        [
            "--outputs",
            str(stack["outputs"]),
            "loops",
            "deploy",
            str(version),
            "--record",
            record,
            "--canary-wait",
            "0",
            "--json",
        ],
        catch_exceptions=False,
    )


def test_deploy_replaces_the_serving_variants_model_and_records_it(emulator, stack):
    assert retrain(stack).exit_code == 0
    registry.set_status(Clients(), stack["group"], 1, "Approved")
    done = deploy(stack, 1)
    assert done.exit_code == 0, done.output
    outcome = json.loads(done.stdout)
    assert (outcome["Outcome"], outcome["ServingVersion"]) == ("deployed", "initial")
    serving = loops.serving(Clients(), stack["endpoint"], stack["group"])
    assert (serving.variant, serving.version) == ("variant-a", "1")
    saved = loops.read_record(Clients(), stack["table"], "loops/deploy/d-1")
    assert saved["Outcome"] == "deployed" and saved["Variant"] == "variant-a"


def test_deploy_is_refused_while_another_rollout_holds_the_endpoint(emulator, stack):
    assert retrain(stack).exit_code == 0
    registry.set_status(Clients(), stack["group"], 1, "Approved")
    held = rollout.lock(Clients(), stack["table"], stack["endpoint"], "byo traffic shift (test)")
    with held, pytest.raises(ByoError, match="refused: another rollout holds the endpoint"):
        deploy(stack, 1)
    saved = loops.read_record(Clients(), stack["table"], "loops/deploy/d-1")
    assert saved["Outcome"] == "refused" and "byo traffic shift (test)" in saved["Message"]
    assert loops.serving(Clients(), stack["endpoint"], stack["group"]).version == "initial"


def test_records_must_be_the_loops(emulator, stack):
    with pytest.raises(ConfigError, match="starts with loops/"):
        loops.record_outcome(Clients(), stack["table"], "input/x.csv", Outcome="x")


# -- byo loops: state, by hand, pause/resume --------------------------------------------------
@pytest.fixture
def machines(emulator, stack, tmp_path):
    """Two trivial state machines and two rules standing in for the module's, as its `loops`
    output names them."""
    sfn, events = emulator.client("stepfunctions"), emulator.client("events")
    role = "arn:aws:iam::123456789012:role/machine"
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    arns = {
        loop: sfn.create_state_machine(name=unique(loop), definition=definition, roleArn=role)[
            "stateMachineArn"
        ]
        for loop in loops.LOOPS
    }
    rules = {}
    for trigger in ("new-data", "approval"):
        rules[trigger] = unique(f"loops-{trigger}")
        events.put_rule(Name=rules[trigger], EventPattern=json.dumps({"source": ["aws.s3"]}))
    state = {
        "state_machine_arns": arns,
        "rule_names": rules,
        "job_table": stack["table"],
        "alarm_cooldown_seconds": 60,
        "training_data_uri": stack["data"],
        "pipeline_backend": "batch",
    }
    outputs = json.loads(stack["outputs"].read_text())
    outputs["loops"] = {"value": state}
    path = tmp_path / "loops-outputs.json"
    path.write_text(json.dumps(outputs))
    return {"outputs": path, "loops": state}


def byo(machines, *args: str):
    return CliRunner().invoke(cli, ["--outputs", str(machines["outputs"]), *args])


def test_loops_state_trigger_pause_and_resume(emulator, machines):
    started = byo(machines, "loops", "trigger", "retraining", "--json")
    assert started.exit_code == 0, started.output
    given = json.loads(started.stdout)
    assert given["input"]["reason"] == "manual"
    assert given["input"]["data"] == machines["loops"]["training_data_uri"]
    deploy_started = byo(machines, "loops", "trigger", "deploy", "--version", "3", "--json")
    assert json.loads(deploy_started.stdout)["input"] == {"detail": {"ModelPackageVersion": 3}}
    loops.record_outcome(
        Clients(),
        machines["loops"]["job_table"],
        f"loops/retraining/{given['execution']}",
        Reason="manual",
        Outcome="registered",
        Version="7",
    )

    paused = byo(machines, "loops", "pause", "new-data")
    assert paused.exit_code == 0, paused.output
    shown = byo(machines, "loops", "--json")
    assert shown.exit_code == 0, shown.output
    state = json.loads(shown.stdout)
    runs = {e["loop"]: e for e in state["executions"]}
    assert (runs["retraining"]["reason"], runs["retraining"]["outcome"]) == ("manual", "registered")
    assert runs["retraining"]["version"] == "7" and runs["deploy"]["reason"] == "approval"
    assert {t["trigger"]: t["state"] for t in state["triggers"]} == {
        "approval": "ENABLED",
        "new-data": "DISABLED",
    }
    assert state["locks"] == {"retraining": None, "deploy": None}
    assert byo(machines, "loops", "resume", "new-data").exit_code == 0
    human = byo(machines, "loops")
    assert "retraining" in human.output and "new-data" in human.output and "ENABLED" in human.output


def test_loops_refuse_what_is_not_there(emulator, machines, stack):
    unknown = byo(machines, "loops", "pause", "schedule")
    assert isinstance(unknown.exception, ConfigError)
    assert "approval, new-data" in str(unknown.exception)
    no_version = byo(machines, "loops", "trigger", "deploy")
    assert isinstance(no_version.exception, ConfigError)
    off = CliRunner().invoke(cli, ["--outputs", str(stack["outputs"]), "loops"])
    assert isinstance(off.exception, ConfigError)
    assert "loops = {}" in str(off.exception)

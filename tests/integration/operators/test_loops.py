"""The loops' jobs and `byo loops` against the emulator: `byo loops retrain` runs the pipeline
for real and records its outcome; `byo loops deploy` rolls an approved version out in place of
the serving variant's model; the state, a start by hand and pause/resume of a trigger; the
retraining machine's hold on its lock, on the engine's executions of the module's definition.
(The whole state machines that run these jobs are the e2e's: tests/e2e/test_stack.py applies
them.)"""

from __future__ import annotations

import base64
import json
import shutil

import pytest
from click.testing import CliRunner

from operators import loops, registry, rollout
from operators.aws import Clients
from operators.cli import cli
from operators.errors import ByoError, ConfigError
from tests.helpers.aws import job_table, minimal_stack, unique
from tests.helpers.flow import ACCOUNT, wait_for
from tests.helpers.paths import REPO
from tests.helpers.stack import TerraformCli

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


# -- the retraining machine's lock, on the engine ---------------------------------------------
RETRAINING_MODULE = REPO / "terraform" / "modules" / "retraining"
TABLE = "job-table"  # rendered with this name; each test's own table replaces it
LOCK = {"FileName": {"S": "loops/retraining/lock"}}
OTHER = "other-execution"
MODULE_VARIABLES = {
    "name": "byo",
    "kms_key_arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/platform",
    "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/operators:1",
    "image_repository_arn": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/byo/operators",
    "serving_image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/serving:1",
    "job_queue_arn": f"arn:aws:batch:us-east-1:{ACCOUNT}:job-queue/byo-scoring",
    "job_definition_arns": {
        "retrain": f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/byo-retrain:1",
        "deploy": f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/byo-deploy:1",
    },
    "job_table_name": TABLE,
    "job_table_arn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}",
    "data_bucket_name": "byo-data",
    "data_bucket_arn": "arn:aws:s3:::byo-data",
    "sns_topic_arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:byo-alarms",
    "endpoint_name": "byo",
    "model_package_group_name": "byo-models",
    "sagemaker_execution_role_arn": f"arn:aws:iam::{ACCOUNT}:role/byo-sagemaker",
}


@pytest.fixture(scope="module")
def retraining_definition(tmp_path_factory) -> dict:
    """The retraining machine's definition (batch backend) as the module writes it, rendered by
    `terraform console` from a copy of the module whose override.tf gives the locals its data
    sources would (nothing is planned, no AWS is called)."""
    tmp = tmp_path_factory.mktemp("retraining-definition")
    module = tmp / "module"
    module.mkdir()
    for path in RETRAINING_MODULE.glob("*.tf"):
        shutil.copy(path, module)
    (module / "override.tf").write_text(
        f'locals {{\n  partition  = "aws"\n  region     = "us-east-1"\n'
        f'  account_id = "{ACCOUNT}"\n}}\n'
    )
    (module / "terraform.tfvars.json").write_text(json.dumps(MODULE_VARIABLES))
    terraform = TerraformCli(module, tmp)
    terraform("init", "-input=false", "-backend=false")
    # base64: the console prints an HCL string, whose escapes are not JSON's
    shown = terraform("console", stdin="base64encode(jsonencode(local.retraining_definition))\n")
    return json.loads(base64.b64decode(json.loads(shown.stdout.strip())))


def replaced(value, key: str, new):
    """`value` with every `key` field, however deep, set to `new`."""
    if isinstance(value, dict):
        return {k: new if k == key else replaced(v, key, new) for k, v in value.items()}
    if isinstance(value, list):
        return [replaced(v, key, new) for v in value]
    return value


def interleaved(definition: dict, table: str, before: dict[str, dict]) -> dict:
    """The module's machine on `table`, with another execution's moves on the lock put in its
    way: `before[state]` runs on every transition into `state`, then goes on to it. The job
    itself does not run (Train passes: the record stays running); the rest is the module's."""
    states = replaced(definition, "TableName", table)["States"]
    moves = {f"Other{state}": {**move, "Next": state} for state, move in before.items()}
    detour = {state: f"Other{state}" for state in before}

    def redirect(state: dict) -> dict:
        state = dict(state)
        for field in ("Next", "Default"):
            if field in state:
                state[field] = detour.get(state[field], state[field])
        for field in ("Choices", "Catch"):
            if field in state:
                state[field] = [
                    {**r, "Next": detour.get(r["Next"], r["Next"])} for r in state[field]
                ]
        return state

    states = {name: redirect(state) for name, state in states.items()}
    states["Train"] = {"Type": "Pass", "Comment": "no job here", "Next": states["Train"]["Next"]}
    return {**definition, "States": {**states, **moves}}


def dynamodb_task(action: str, table: str, **parameters) -> dict:
    return {
        "Type": "Task",
        "Resource": f"arn:aws:states:::dynamodb:{action}",
        "Parameters": {"TableName": table, "Key": LOCK, **parameters},
        "ResultPath": None,
    }


def takes(table: str) -> dict:
    """Another execution takes the loop (the lock is free: its own Acquire)."""
    return dynamodb_task(
        "updateItem",
        table,
        UpdateExpression="SET Holder = :holder, HeldSince = :since",
        ExpressionAttributeValues={
            ":holder": {"S": OTHER},
            ":since": {"S": "2026-01-01T00:00:00Z"},
        },
    )


def releases(table: str, how: str) -> dict:
    """The holder lets go: its Release (the item stays, without Holder) or the item deleted."""
    if how == "delete":
        return dynamodb_task("deleteItem", table)
    return dynamodb_task(
        "updateItem", table, UpdateExpression="REMOVE Holder, HeldSince, HolderReason"
    )


def execute(emulator, definition: dict) -> tuple[dict, list[str], str]:
    """Run `definition` once; its description, the states it entered in order, its name."""
    sfn = emulator.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=unique("retraining"),
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/machine",
    )["stateMachineArn"]
    name = unique("run")
    execution = sfn.start_execution(
        stateMachineArn=machine, name=name, input=json.dumps({"reason": "new-data"})
    )["executionArn"]
    described = wait_for(
        f"execution {name}",
        lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d,
        timeout_s=60,
    )
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    return described, entered, name


def held_by_other(emulator, table: str) -> None:
    emulator.client("dynamodb").put_item(
        TableName=table,
        Item={**LOCK, "Holder": {"S": OTHER}, "HeldSince": {"S": "2026-01-01T00:00:00Z"}},
    )


def test_a_held_loop_is_recorded_as_skipped_naming_its_holder(emulator, retraining_definition):
    sfn = emulator.client("stepfunctions")
    valid = sfn.validate_state_machine_definition(definition=json.dumps(retraining_definition))
    assert valid["result"] == "OK", valid["diagnostics"]
    table = job_table(emulator)
    held_by_other(emulator, table)
    described, entered, name = execute(emulator, interleaved(retraining_definition, table, {}))
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert "RecordStarted" not in entered and entered.count("Acquire") == 1, entered
    record = loops.read_record(Clients(), table, f"loops/retraining/{name}")
    assert record["Outcome"] == "skipped" and record["Reason"] == "new-data", record
    assert record["Message"] == (
        f"Skipped: retraining {OTHER} holds the loop since 2026-01-01T00:00:00Z"
        " (running or cooling down)."
    )
    assert loops.read_record(Clients(), table, "loops/retraining/lock")["Holder"] == OTHER


@pytest.mark.parametrize("how", ["remove", "delete"])
def test_a_loop_released_between_the_refused_acquire_and_the_read_is_taken_again(
    emulator, retraining_definition, how
):
    # The race: Acquire is refused (another execution holds the loop), then its holder releases
    # it before ReadHolder reads it: the lock has no Holder (or no item) any more.
    table = job_table(emulator)
    held_by_other(emulator, table)
    definition = interleaved(retraining_definition, table, {"ReadHolder": releases(table, how)})
    described, entered, name = execute(emulator, definition)
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert entered.count("Acquire") == 2 and entered.count("ReadHolder") == 1, entered
    assert entered.index("RecordStarted") > entered.index("ReadHolder"), entered
    record = loops.read_record(Clients(), table, f"loops/retraining/{name}")
    assert record["Outcome"] == "running" and record["Execution"] == name, record  # no job here
    lock = loops.read_record(Clients(), table, "loops/retraining/lock")
    assert "Release" in entered and "Holder" not in lock, (entered, lock)  # released at its end


def test_a_lock_that_keeps_changing_hands_is_given_up_after_three_tries(
    emulator, retraining_definition
):
    # Before each Acquire another execution takes the loop; before each read it releases it.
    table = job_table(emulator)
    moves = {"Acquire": takes(table), "ReadHolder": releases(table, "remove")}
    described, entered, name = execute(emulator, interleaved(retraining_definition, table, moves))
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert entered.count("Acquire") == 3 and "RecordStarted" not in entered, entered
    record = loops.read_record(Clients(), table, f"loops/retraining/{name}")
    assert record["Outcome"] == "skipped" and record["Reason"] == "new-data", record
    assert "3 tries" in record["Message"] and "changing hands" in record["Message"], record

"""The whole platform stack applied for real against the emulator: apply, a clean re-plan, and a
destroy that leaves nothing of the stack behind (checked by listing every service it uses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import numpy as np
import pytest
import xgboost as xgb
from click.testing import CliRunner

from localaws.containers import find_engine
from operators import events, registry, rollout
from operators import loops as loops_lib
from operators.aws import Clients
from operators.batch import wait_for_batch_job
from operators.cli import cli
from serving.artifact import load_booster
from tests.helpers.aws import s3_object
from tests.helpers.flow import wait_for
from tests.helpers.paths import REPO
from tests.helpers.stack import Terraform, stack_resources

pytestmark = pytest.mark.e2e

STACK = REPO / "terraform" / "stacks" / "platform"
ACCOUNT = "123456789012"


def operator_role(name: str) -> str:
    """The role the e2e's operator assumes: trusted by the stack's audit alarms."""
    return f"arn:aws:iam::{ACCOUNT}:role/{name}-operator"


@pytest.fixture
def terraform(emulator, tmp_path, trained_model):
    name = f"e2e{uuid.uuid4().hex[:6]}"
    run = Terraform(STACK, emulator, tmp_path, trained_model.model_path, name)
    run.env["TF_VAR_operator_role_arns"] = json.dumps([operator_role(name)])
    yield run
    run.check_lock_kept()


def check_serving_through_the_stack(emulator, outputs: dict, trained_model) -> None:
    """The stack's endpoint answers through the local hosting, and its capture lands in the
    stack's bucket, encrypted with the stack's key."""
    sample = REPO / "sample" / "sample.csv"
    runtime = emulator.client("sagemaker-runtime")
    response = runtime.invoke_endpoint(
        EndpointName=outputs["endpoint_name"],
        ContentType="text/csv",
        Body=sample.read_bytes(),
        InferenceId="e2e-1",
    )
    assert response["InvokedProductionVariant"] in outputs["variant_names"]
    served = np.array([float(x) for x in response["Body"].read().split()])
    expected = load_booster(trained_model.model_path).predict(
        xgb.DMatrix(np.loadtxt(sample, delimiter=",", ndmin=2))
    )
    np.testing.assert_allclose(served, expected, rtol=1e-6)

    urllib.request.urlopen(
        urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    ).close()
    bucket, prefix = outputs["data_capture_s3_uri"].removeprefix("s3://").split("/", 1)
    s3 = emulator.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{outputs['endpoint_name']}/")
    (capture,) = listed["Contents"]
    head = s3.head_object(Bucket=bucket, Key=capture["Key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == outputs["kms_key_arn"]
    record = json.loads(s3.get_object(Bucket=bucket, Key=capture["Key"])["Body"].read())
    assert record["eventMetadata"]["inferenceId"] == "e2e-1"


def job_log(emulator, job: dict) -> str:
    """The last lines a Batch job wrote to its CloudWatch log stream (for a failure's message)."""
    container = job.get("container", {})
    options = container.get("logConfiguration", {}).get("options", {})
    group = options.get("awslogs-group", "/aws/batch/job")
    stream = container.get("logStreamName")
    if not group or not stream:
        return f"no log stream (group {group}, stream {stream})"
    events = emulator.client("logs").get_log_events(logGroupName=group, logStreamName=stream)
    return "\n".join(e["message"] for e in events["events"][-40:])


def check_the_monitoring_schedule(emulator, outputs) -> None:
    """The hourly `byo monitor run` job: rule → the scoring queue, job definition's command and
    settings, and the monitoring alarms."""
    events = emulator.client("events")
    rule = events.describe_rule(Name=outputs["monitoring_rule"])
    assert rule["ScheduleExpression"] == "rate(1 hour)" and rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule=outputs["monitoring_rule"])["Targets"]
    assert target["Arn"] == outputs["job_queue"]
    assert target["BatchParameters"]["JobDefinition"] == outputs["monitor_job_definition"]
    (definition,) = emulator.client("batch").describe_job_definitions(
        jobDefinitions=[outputs["monitor_job_definition"]]
    )["jobDefinitions"]
    container = definition["containerProperties"]
    assert container["command"] == ["monitor", "run", "--window", "1h"]
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["BYO_DATA_BUCKET"] == outputs["data_bucket"]
    assert environment["BYO_DATA_CAPTURE_S3_URI"] == outputs["data_capture_s3_uri"]
    assert {"monitoring/drift", "monitoring/model-quality"} <= outputs["alarm_names"].keys()


def test_apply_replan_operate_teardown_leaves_nothing(
    terraform, emulator, record_property, trained_model, dataset, monkeypatch
):
    began = time.perf_counter()
    terraform("apply", "-input=false", "-auto-approve")
    record_property("timing:stack apply (emulator)", time.perf_counter() - began)

    outputs = {k: v["value"] for k, v in json.loads(terraform("output", "-json").stdout).items()}
    assert outputs["account_id"] == "123456789012"  # the emulator's account
    assert outputs["variant_names"] == ["variant-a", "variant-b"]
    sm = emulator.client("sagemaker")
    endpoint = sm.describe_endpoint(EndpointName=outputs["endpoint_name"])
    weights = {v["VariantName"]: v["CurrentWeight"] for v in endpoint["ProductionVariants"]}
    assert weights == {"variant-a": 9.0, "variant-b": 1.0}
    assert endpoint["DataCaptureConfig"]["EnableCapture"]
    model = emulator.client("s3").head_object(
        Bucket=outputs["data_bucket"],
        Key=outputs["initial_model_s3_uri"].split("/", 3)[3],
    )
    assert model["ServerSideEncryption"] == "aws:kms"
    check_serving_through_the_stack(emulator, outputs, trained_model)
    check_the_monitoring_schedule(emulator, outputs)
    created = stack_resources(emulator, terraform.name)
    for kind in (
        "s3",
        "dynamodb",
        "endpoints",
        "batch-queues",
        "lambda",
        "alarms",
        "vpcs",
        "scalable-targets",
        "kms-keys",
        "ecr",
        "trails",
        "codebuild",
    ):
        assert kind in created, f"apply created no {kind}"

    began = time.perf_counter()
    plan = terraform("plan", "-input=false", "-detailed-exitcode", ok_codes=(0, 2))
    record_property("timing:stack re-plan (emulator)", time.perf_counter() - began)
    assert plan.returncode == 0, "re-plan after apply must show no changes:\n" + plan.stdout[-6000:]

    the_build_path(emulator, outputs, terraform.state_path.parent)

    began = time.perf_counter()
    each_endpoint_kind_in_turn(emulator, terraform, outputs, record_property)
    record_property("timing:endpoint kinds, one apply each (emulator)", time.perf_counter() - began)

    began = time.perf_counter()
    the_loops(emulator, terraform, outputs, dataset, record_property)
    record_property(
        "timing:the loops, applied, run and removed (emulator)", time.perf_counter() - began
    )

    operate_the_stack(emulator, terraform, outputs, trained_model, monkeypatch)

    began = time.perf_counter()
    kept = CliRunner().invoke(cli, ["teardown", "--yes", "--keep-data"])
    record_property("timing:byo teardown --keep-data (emulator)", time.perf_counter() - began)
    assert kept.exit_code == 0, kept.output
    left = stack_resources(emulator, terraform.name)
    assert (
        {"s3", "dynamodb"}
        <= set(left)
        <= {
            "s3",
            "dynamodb",
            "kms-keys",
            "kms-aliases",
            "log-groups",  # the audit trail's: its records are data too
        }
    ), left
    assert len(left["s3"]) == 2 and any("-audit-" in b for b in left["s3"]), left
    assert left.get("log-groups", []) in ([], [f"/aws/cloudtrail/{terraform.name}-audit"]), left

    began = time.perf_counter()
    teardown = CliRunner().invoke(cli, ["teardown", "--yes"])
    record_property("timing:byo teardown, the rest (emulator)", time.perf_counter() - began)
    assert teardown.exit_code == 0, teardown.output
    assert stack_resources(emulator, terraform.name) == {}
    again = CliRunner().invoke(cli, ["teardown", "--yes"])
    assert again.exit_code == 0, again.output
    assert "nothing to tear down" in again.output


def the_build_path(emulator, outputs: dict, tmp) -> None:
    """`make bundle`'s ZIP uploaded where the stack says: EventBridge starts the three image
    builds. On a machine without a container engine each fails in PROVISIONING saying so, with
    its log in the build's group; with one, it builds and pushes into the stack's ECR."""
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bundle.py"), "--out", str(tmp / "bundle")],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    bucket, key = outputs["build_bundle_uri"].removeprefix("s3://").split("/", 1)
    emulator.client("s3").upload_file(str(tmp / "bundle" / "source.zip"), bucket, key)
    codebuild = emulator.client("codebuild")
    engine = find_engine({**os.environ, "LOCALAWS_CONTAINERS": "engine"})

    def finished() -> list[dict]:
        ids = [
            i
            for project in outputs["build_projects"].values()
            for i in codebuild.list_builds_for_project(projectName=project)["ids"]
        ]
        builds = codebuild.batch_get_builds(ids=ids)["builds"] if ids else []
        done = [b for b in builds if b["buildStatus"] != "IN_PROGRESS"]
        return done if len(done) == len(outputs["build_projects"]) else []

    builds = wait_for("the three image builds", finished, timeout_s=120 if engine else 30)
    assert {b["projectName"] for b in builds} == set(outputs["build_projects"].values())
    for build in builds:
        assert build["logs"]["groupName"] in outputs["build_log_groups"].values(), build["logs"]
        if engine is None:
            assert build["buildStatus"] == "FAILED", build
            (failed,) = [p for p in build["phases"] if p.get("phaseStatus") == "FAILED"]
            assert failed["phaseType"] == "PROVISIONING"
            assert "no container engine" in failed["contexts"][0]["message"]
        else:
            assert build["buildStatus"] == "SUCCEEDED", build


# Each optional endpoint kind of the stack: its variable, its value, and the output naming it.
ENDPOINT_KINDS = (
    (
        "serverless",
        "serverless_endpoint",
        "{memory_size_in_mb = 1024, max_concurrency = 2, provisioned_concurrency = 1}",
        "serverless_endpoint_name",
    ),
    (
        "async",
        "async_endpoint",
        # One instance at least: scale from zero is the hosting's own test (it waits for the
        # HasBacklogWithoutCapacity alarm's two minutes).
        "{min_instances = 1, max_concurrent_invocations_per_instance = 2}",
        "async_endpoint_name",
    ),
    ("multi-model", "multi_model_endpoint", "{}", "multi_model_endpoint_name"),
    ("shadow", "shadow_variant", "{}", "shadow_endpoint_name"),
)


ENDPOINT_SUFFIXES = {
    "serverless": "serverless",
    "async": "async",
    "multi-model": "mme",
    "shadow": "shadow",
}


def each_endpoint_kind_in_turn(emulator, terraform, outputs: dict, record_property) -> None:
    """Enable every endpoint kind (one apply), re-plan clean, and get a real prediction from each
    equal to the main endpoint's for the same row; a last apply with every kind off leaves the
    stack as before."""
    row = (REPO / "sample" / "sample.csv").read_text().splitlines()[0] + "\n"
    runtime = emulator.client("sagemaker-runtime")
    main = runtime.invoke_endpoint(
        EndpointName=outputs["endpoint_name"], ContentType="text/csv", Body=row
    )
    expected = float(main["Body"].read())
    every_kind = [f"-var={variable}={value}" for _, variable, value, _ in ENDPOINT_KINDS]
    # The apply follows a clean, refreshed plan of the same state, so it skips the refresh (half
    # of a small apply's time); the plan after it refreshes everything again.
    began = time.perf_counter()
    terraform("apply", "-input=false", "-auto-approve", "-refresh=false", *every_kind)
    record_property("timing:every endpoint kind, one apply (emulator)", time.perf_counter() - began)
    plan = terraform("plan", "-input=false", "-detailed-exitcode", *every_kind, ok_codes=(0, 2))
    assert plan.returncode == 0, (
        "re-plan with every kind must show no changes:\n" + plan.stdout[-6000:]
    )
    now = state_outputs(terraform)
    for kind, _, _, output in ENDPOINT_KINDS:
        endpoint = now[output]
        assert endpoint == f"{terraform.name}-{ENDPOINT_SUFFIXES[kind]}"
        served = invoke_kind(emulator, kind, endpoint, row, now)
        assert served == pytest.approx(expected, rel=1e-6), (kind, served, expected)
    began = time.perf_counter()
    terraform("apply", "-input=false", "-auto-approve", "-refresh=false")
    record_property("timing:endpoint kinds off again (emulator)", time.perf_counter() - began)
    now = state_outputs(terraform)
    assert all(now.get(o) is None for _, _, _, o in ENDPOINT_KINDS), now
    names = [e["EndpointName"] for e in emulator.client("sagemaker").list_endpoints()["Endpoints"]]
    assert [n for n in names if n.startswith(terraform.name)] == [outputs["endpoint_name"]]


# The loops as the e2e applies them: a short cool-down (the runtime's clock is advanced past it)
# and no canary wait.
LOOPS = (
    "{alarm_cooldown_seconds = 60, deploy_canary_wait_seconds = 0, "
    'retrain_schedule = "rate(1 day)"}'
)


def the_loops(emulator, terraform, outputs: dict, dataset, record_property) -> None:
    """The loops applied (clean re-plan), then each trigger once: two datasets landing at once
    start one retraining (the other is skipped, naming the holder), a failed AUC condition and a
    failed job notify and register nothing, an alarm retrains and its repeat within the
    cool-down is skipped, an approval deploys; every outcome reaches the alarm topic. Removed
    again by the next apply."""
    began = time.perf_counter()
    terraform("apply", "-input=false", "-auto-approve", "-refresh=false", f"-var=loops={LOOPS}")
    record_property("timing:loops apply (emulator)", time.perf_counter() - began)
    plan = terraform(
        "plan", "-input=false", "-detailed-exitcode", f"-var=loops={LOOPS}", ok_codes=(0, 2)
    )
    assert plan.returncode == 0, (
        "re-plan with the loops must show no changes:\n" + plan.stdout[-6000:]
    )
    loops = state_outputs(terraform)["loops"]
    sfn, s3, sm = (
        emulator.client("stepfunctions"),
        emulator.client("s3"),
        emulator.client("sagemaker"),
    )
    for arn in loops["state_machine_arns"].values():
        definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        assert sfn.validate_state_machine_definition(definition=definition)["result"] == "OK"
    bucket, table = outputs["data_bucket"], loops["job_table"]
    group = outputs["model_package_group"]
    inbox = notifications(emulator, outputs["alarm_topic_arn"])

    def finished(loop: str, count: int) -> list[dict]:
        """The loop's executions once `count` of them exist and none runs, oldest first."""

        def done():
            listed = sfn.list_executions(stateMachineArn=loops["state_machine_arns"][loop])
            runs = listed["executions"]
            if len(runs) >= count and all(e["status"] != "RUNNING" for e in runs):
                return sorted(runs, key=lambda e: e["startDate"])
            return None

        return wait_for(f"{count} {loop} executions", done, timeout_s=240, poll_s=0.5)

    def record(loop: str, execution: dict) -> dict:
        return loops_lib.read_record(Clients(), table, f"loops/{loop}/{execution['name']}")

    def versions() -> int:
        return len(sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"])

    lines = dataset.read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:30_001]
    before = versions()
    # two datasets at once: one retraining, the other trigger finds the loop held
    s3.put_object(Bucket=bucket, Key="datasets/a.csv", Body="".join([header, *rows]).encode())
    s3.put_object(Bucket=bucket, Key="datasets/b.csv", Body="".join([header, *rows[::-1]]).encode())
    first = [record("retraining", e) for e in finished("retraining", 2)]
    assert sorted(r["Outcome"] for r in first) == ["registered", "skipped"], first
    ran = next(r for r in first if r["Outcome"] == "registered")
    skipped = next(r for r in first if r["Outcome"] == "skipped")
    assert ran["Reason"] == skipped["Reason"] == "new-data"
    assert ran["Execution"] in skipped["Message"], skipped
    assert versions() == before + 1
    version = int(ran["Version"])
    assert registry.find(Clients(), group, version)["status"] == "PendingManualApproval"
    assert any(f"version {version}" in m and "AUC" in m for m in inbox()), inbox()

    # a failed AUC condition and a failed job (no data) register nothing
    # labels that no feature predicts (every other row): an AUC near 0.5, far below 0.9
    shuffled = [f"{r.rsplit(',', 1)[0]},{i % 2}\n" for i, r in enumerate(rows[:5_000])]
    s3.put_object(
        Bucket=bucket, Key="pipelines/e2e/shuffled.csv", Body="".join([header, *shuffled]).encode()
    )
    for data in (
        f"s3://{bucket}/pipelines/e2e/shuffled.csv",
        f"s3://{bucket}/pipelines/e2e/none.csv",
    ):
        loops_lib.trigger(Clients(), loops, "retraining", data=data)
        finished("retraining", 3 if data.endswith("shuffled.csv") else 4)
    runs = finished("retraining", 4)
    condition, failed = (record("retraining", e) for e in runs[2:])
    assert condition["Outcome"] == "condition-failed" and "AucThreshold" in condition["Message"]
    assert failed["Outcome"] == "failed" and runs[3]["status"] == "FAILED", failed
    assert "none.csv" in failed["Message"], failed
    assert versions() == before + 1
    assert any("is below AucThreshold" in m for m in inbox()), inbox()
    assert any("failed, nothing registered" in m for m in inbox()), inbox()

    # the drift alarm goes to ALARM: one retraining; the same alarm again in its cool-down: none
    cloudwatch = emulator.client("cloudwatch")
    drift = outputs["alarm_names"]["monitoring/drift"]
    cloudwatch.set_alarm_state(AlarmName=drift, StateValue="ALARM", StateReason="e2e: drift")
    # Registered, and in its CoolDown wait: the clock advanced below counts from the wait's
    # start, so an advance made before it (while the machine still read and notified the
    # outcome) was lost, and the cool-down then took its 60 s of real time.
    wait_for(
        "the alarm's retraining to register and cool down",
        lambda: (
            (run := finished_running(sfn, loops, 5)[-1]).get("executionArn")
            and record("retraining", run).get("Outcome") == "registered"
            and in_wait(sfn, run["executionArn"], "CoolDown")
        ),
        timeout_s=240,
        poll_s=0.5,
    )
    cloudwatch.set_alarm_state(AlarmName=drift, StateValue="OK", StateReason="e2e: recovered")
    cloudwatch.set_alarm_state(AlarmName=drift, StateValue="ALARM", StateReason="e2e: again")

    # The repeat decides while the first still cools down: only once it has ended (skipped) is
    # the clock moved past the cool-down (moved earlier, the first could release the loop
    # between the repeat's failed acquire and its read of the holder).
    def repeat_ended() -> bool:
        newest = finished_running(sfn, loops, 6)[-1]
        return newest.get("status") not in (None, "RUNNING")

    wait_for("the repeated alarm's execution to end", repeat_ended, timeout_s=60)
    emulator.advance_clock(61)  # past the cool-down
    runs = finished("retraining", 6)
    alarm, repeat = (record("retraining", e) for e in runs[4:])
    assert (alarm["Reason"], alarm["Alarm"], alarm["Outcome"]) == ("alarm", drift, "registered")
    assert (repeat["Reason"], repeat["Outcome"]) == ("alarm", "skipped"), repeat
    assert versions() == before + 2

    # the schedule (fired now): the same data as the alarm's retraining, so the same model
    fired = events.fire_rule(Clients(), loops["rule_names"]["schedule"])
    assert not [t for t in fired["targets"] if "error" in t.get("result", {})], fired
    scheduled = record("retraining", finished("retraining", 7)[-1])
    assert (scheduled["Reason"], scheduled["Outcome"]) == ("schedule", "unchanged"), scheduled
    assert versions() == before + 2

    # approving the alarm's version deploys it in place of the serving variant's model
    newest = int(alarm["Version"])
    registry.set_status(Clients(), group, newest, "Approved")
    (deployed,) = (record("deploy", e) for e in finished("deploy", 1))
    assert (deployed["Outcome"], deployed["Version"]) == ("deployed", str(newest)), deployed
    assert any(f"Version {newest} serves" in m for m in inbox()), inbox()

    # an approval while another rollout holds the endpoint: the deploy is refused, changes
    # nothing, is notified, and the execution fails
    held = rollout.lock(Clients(), table, outputs["endpoint_name"], "e2e: a rollout by hand")
    with held:
        registry.set_status(Clients(), group, version, "Approved")
        refused_run = finished("deploy", 2)[-1]
        refused = record("deploy", refused_run)
    assert (refused["Outcome"], refused_run["status"]) == ("refused", "FAILED"), refused
    assert "e2e: a rollout by hand" in refused["Message"], refused
    assert any(f"Deploy of version {version}" in m and "was refused" in m for m in inbox())
    chain = loops_lib.executions(Clients(), loops, limit=10)
    assert [e["outcome"] for e in chain][:2] == ["refused", "deployed"] and len(chain) == 9, chain
    assert [e["reason"] for e in chain] == [
        "approval", "approval", "schedule", "alarm", "alarm", "manual", "manual", "new-data",
        "new-data",
    ]  # fmt: skip

    # The operators' state after all this — a paused trigger, the deploy's blue/green
    # deployment config on the endpoint — is theirs: a re-plan changes nothing.
    loops_lib.set_trigger(Clients(), loops, "new-data", on=False)
    plan = terraform(
        "plan", "-input=false", "-detailed-exitcode", f"-var=loops={LOOPS}", ok_codes=(0, 2)
    )
    assert plan.returncode == 0, "re-plan after the loops ran:\n" + plan.stdout[-6000:]

    # the SageMaker Pipelines backend: applied and validated (moto runs no pipelines)
    sagemaker_backend = LOOPS.replace("{", '{pipeline_backend = "sagemaker", ', 1)
    terraform("apply", "-input=false", "-auto-approve", "-refresh=false",
              f"-var=loops={sagemaker_backend}")  # fmt: skip
    definition = sfn.describe_state_machine(
        stateMachineArn=loops["state_machine_arns"]["retraining"]
    )["definition"]
    assert "startPipelineExecution" in definition
    assert sfn.validate_state_machine_definition(definition=definition)["result"] == "OK"

    began = time.perf_counter()
    terraform("apply", "-input=false", "-auto-approve", "-refresh=false")
    record_property("timing:loops removed (emulator)", time.perf_counter() - began)
    assert state_outputs(terraform).get("loops") is None
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert not [n for n in names if n.startswith(terraform.name)], names


def in_wait(sfn, execution_arn: str, state: str) -> bool:
    """Whether the execution has entered the Wait state `state` and not left it."""
    events = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True)["events"]
    for event in events:
        if event["type"] == "WaitStateExited":
            return False
        if event["type"] == "WaitStateEntered":
            return event["stateEnteredEventDetails"]["name"] == state
    return False


def finished_running(sfn, loops: dict, count: int) -> list[dict]:
    """The retraining executions, oldest first, once there are `count` (else [{}]-safe)."""
    runs = sfn.list_executions(stateMachineArn=loops["state_machine_arns"]["retraining"])[
        "executions"
    ]
    runs = sorted(runs, key=lambda e: e["startDate"])
    return runs if len(runs) >= count else [{"name": "-"}]


def notifications(emulator, topic_arn: str):
    """A queue subscribed to the topic; the returned function gives every message so far."""
    sqs, sns = emulator.client("sqs"), emulator.client("sns")
    url = sqs.create_queue(QueueName=f"e2e-inbox-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    seen: list[str] = []

    def received() -> list[str]:
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return seen
            for message in got:
                seen.append(json.loads(message["Body"]).get("Message", ""))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    received.queue_url = url
    return received


def state_outputs(terraform) -> dict:
    """The stack's outputs as the last apply left them in its state (what `terraform output
    -json` prints, without starting Terraform again)."""
    state = json.loads(terraform.state_path.read_text())
    return {k: v["value"] for k, v in state["outputs"].items()}


def invoke_kind(emulator, kind: str, endpoint: str, row: str, outputs: dict) -> float:
    """One prediction from the endpoint of the given kind, through boto3 as a client makes it."""
    runtime = emulator.client("sagemaker-runtime")
    sm = emulator.client("sagemaker")
    if kind == "async":
        s3 = emulator.client("s3")
        bucket, key = outputs["async_s3_uris"]["input"].removeprefix("s3://").split("/", 1)
        s3.put_object(Bucket=bucket, Key=f"{key}e2e.csv", Body=row.encode())
        answer = runtime.invoke_endpoint_async(
            EndpointName=endpoint,
            InputLocation=f"s3://{bucket}/{key}e2e.csv",
            ContentType="text/csv",
        )
        assert answer["OutputLocation"].startswith(outputs["async_s3_uris"]["output"])
        return float(s3_object(s3, answer["OutputLocation"], timeout_s=60))
    extra = {"TargetModel": "initial.tar.gz"} if kind == "multi-model" else {}
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=row, **extra
    )
    described = sm.describe_endpoint(EndpointName=endpoint)
    if kind == "serverless":
        (variant,) = described["ProductionVariants"]
        assert variant["CurrentServerlessConfig"]["MemorySizeInMB"] == 1024
    if kind == "shadow":
        assert response["InvokedProductionVariant"] == "production"
        assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["shadow"]
    return float(response["Body"].read())


def operate_the_stack(emulator, terraform, outputs: dict, trained_model, monkeypatch) -> None:
    """The operators' story on the applied stack: register, approve, deploy as variant-b, set
    traffic, send traffic, generate ground truth. `byo` finds the stack through Terraform."""
    for name in (
        "TF_CLI_CONFIG_FILE",
        "TF_DATA_DIR",
        "TF_VAR_name",
        "TF_VAR_emulator",
        "TF_VAR_initial_model_path",
        "TF_VAR_trigger_package_path",
    ):
        monkeypatch.setenv(name, terraform.env[name])
    monkeypatch.setenv("BYO_STACK_DIR", str(STACK))

    def byo(*args: str) -> dict:
        result = CliRunner().invoke(cli, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    registered = byo(
        "model",
        "register",
        "--artifact",
        str(trained_model.model_path),
        "--metrics",
        str(trained_model.evaluation_path),
        "--approve",
    )
    deployed = byo("deploy", str(registered["version"]), "--variant", "variant-b")
    assert deployed["endpoint"] == outputs["endpoint_name"]
    weights = byo("traffic", "set", "variant-a=1", "variant-b=1")
    assert {v["variant"]: v["weight"] for v in weights["variants"]} == {
        "variant-a": 1.0,
        "variant-b": 1.0,
    }
    sent = byo(
        "invoke", "--file", str(REPO / "sample" / "sample.csv"), "--inference-id-prefix", "e2e-"
    )
    assert sent["sent"] == 10 and not sent["errors"]
    # The seed's story with nothing but the upload: S3 → the trigger Lambda (Terraform's zip) →
    # the Batch job on the stack's queue, image and command → output/ and the job record.
    scored = byo("batch", "submit", str(REPO / "sample" / "sample.csv"), "--name", "e2e.csv")
    assert scored["Status"] == "SUCCEEDED" and scored["RowsScored"] == "10", scored
    assert scored["Job"]["status"] == "SUCCEEDED"
    assert scored["Job"]["jobQueue"] == outputs["job_queue"]
    assert scored["OutputUri"].startswith(f"s3://{outputs['data_bucket']}/output/")
    urllib.request.urlopen(
        urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    ).close()
    truth = byo("ground-truth", "generate", "--accuracy", "1")
    assert truth["labels"] >= 10
    holdout = str(trained_model.model_path.parent / "holdout.csv")
    baseline = byo(
        "monitor", "baseline", "--data", holdout, "--model", str(trained_model.model_path)
    )
    assert all(
        uri.startswith(f"s3://{outputs['data_bucket']}/monitoring/baseline/")
        for uri in baseline["files"].values()
    )
    checks = byo("monitor", "run", "--window", "1h")
    assert [c["check"] for c in checks] == [
        "data-quality",
        "prediction-drift",
        "model-quality",
        "attribution-drift",
    ]
    assert checks[0]["summary"]["rows"] >= 10
    # The hourly schedule fired now: EventBridge submits the monitoring job, Batch runs it from
    # the operators image (operators/Dockerfile: ENTRYPOINT byo) with the definition's command.
    fired = byo("events", "fire", outputs["monitoring_rule"])
    (target,) = fired["targets"]
    job = wait_for_batch_job(Clients(), target["result"]["jobId"], timeout_s=300)
    assert job["status"] == "SUCCEEDED", (job.get("statusReason"), job_log(emulator, job))
    assert job["container"]["command"] == ["monitor", "run", "--window", "1h"]
    # The scenarios judge the model the baseline was made of: variant-b's, registered here
    # (variant-a serves the loops' retraining, whose recall the baseline does not vouch for; a
    # random share of the requests on it made the clean scenario's recall a matter of luck).
    byo("traffic", "set", "variant-a=0", "variant-b=1")
    scenarios = byo("monitor", "scenarios", "--only", "mean_shift", "--rows", "2000")
    assert [(s["name"], s["as_expected"]) for s in scenarios["scenarios"]] == [
        ("clean", True),
        ("mean_shift", True),
    ]
    state = byo("status")
    assert {v["variant"] for v in state["variants"]} == {"variant-a", "variant-b"}
    # newest first: the version registered here, then the loops' (retrained, one deployed)
    newest = state["registry"][0]
    assert (newest["version"], newest["status"]) == (registered["version"], "Approved")

    # The SageMaker pipeline from the stack's outputs: its jobs run the operators image in the
    # private subnets with the compute security group, encrypted with the platform's key.
    emitted = CliRunner().invoke(cli, ["pipeline", "definition"])
    assert emitted.exit_code == 0, emitted.output
    document = json.loads(emitted.output)
    process = next(s for s in document["Steps"] if s["Name"] == "process")["Arguments"]
    assert process["AppSpecification"]["ImageUri"] == outputs["operator_image"]
    assert process["NetworkConfig"]["VpcConfig"] == {
        "Subnets": outputs["private_subnet_ids"],
        "SecurityGroupIds": [outputs["compute_security_group_id"]],
    }
    assert process["ProcessingOutputConfig"]["KmsKeyId"] == outputs["kms_key_arn"]
    deploy = next(s for s in document["Steps"] if s["Name"] == "condition")["Arguments"]
    deploy = deploy["IfSteps"][1]["Arguments"]["IfSteps"][0]["Arguments"]
    # The models it creates run as the endpoint's role; the jobs as the pipeline's.
    assert (
        deploy["Environment"]["BYO_SAGEMAKER_EXECUTION_ROLE_ARN"]
        == (outputs["sagemaker_execution_role_arn"])
    )
    assert deploy["RoleArn"] == process["RoleArn"] == outputs["pipeline_role_arn"]
    upserted = byo("pipeline", "upsert")
    assert upserted["created"] is True
    assert upserted["arn"].endswith(f"pipeline/{outputs['name']}-pipeline")

    audited_changes(emulator, outputs, registered, monkeypatch, byo)


def audited_changes(emulator, outputs: dict, registered: dict, monkeypatch, byo) -> None:
    """The audit trail of a scripted sequence: an operator (a role session) deploys, shifts
    traffic, and a shift whose gate fails rolls back; then the root user changes the weights by
    hand. `byo audit` tells them apart, and the untrusted change alarms."""
    endpoint, name = outputs["endpoint_name"], outputs["name"]
    session = emulator.client("sts").assume_role(
        RoleArn=operator_role(name), RoleSessionName="alice"
    )["Credentials"]
    with monkeypatch.context() as operator:
        operator.setenv("AWS_ACCESS_KEY_ID", session["AccessKeyId"])
        operator.setenv("AWS_SECRET_ACCESS_KEY", session["SecretAccessKey"])
        operator.setenv("AWS_SESSION_TOKEN", session["SessionToken"])
        byo("deploy", str(registered["version"]), "--variant", "variant-a")
        byo("traffic", "shift", "--to", "variant-b", "--steps", "50,100", "--interval", "1s")
        # variant-a fails (5XX, injected through CloudWatch's API): the shift back rolls back
        emulator.client("cloudwatch").put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": endpoint},
                        {"Name": "VariantName", "Value": "variant-a"},
                    ],
                    "Value": value,
                }
                for metric, value in (("Invocations", 10.0), ("Invocation5XXErrors", 5.0))
            ],
        )
        rolled = CliRunner().invoke(
            cli, ["traffic", "shift", "--to", "variant-a", "--steps", "50", "--interval", "1s"]
        )
        assert rolled.exit_code == 1 and "shift rolled back" in str(rolled.exception), rolled
    emulator.client("sagemaker").update_endpoint_weights_and_capacities(  # the root user, by hand
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "variant-a", "DesiredWeight": 1.0}],
    )
    emulator.localaws("POST", "/localaws/cloudtrail/flush")

    def ours() -> list[dict]:
        found = byo("audit", "--since", "1h", "--kind", "endpoint", "--kind", "traffic")
        return [c for c in found if c["target"] == endpoint]

    def by_hand(found: list[dict]) -> list[dict]:
        return [
            c for c in found if c["caller"] == "root" and c["detail"] == "variant-a: weight=1.0"
        ]

    changes = wait_for(
        "the root user's change", lambda: by_hand(found := ours()) and found, timeout_s=30
    )
    alice = f"role/{name}-operator (session alice)"
    by_alice = [(c["event"], c["detail"]) for c in changes if c["caller"] == alice]
    assert by_alice[0][0] == "UpdateEndpoint", by_alice  # the deploy
    shifts = [d for e, d in by_alice if e == "UpdateEndpointWeightsAndCapacities"]
    # to variant-b: 50 %, 100 %; back to variant-a: 50 %, then the rollback restores 0/1
    assert len(shifts) == 4, by_alice
    restored = sorted(shifts[-1].split("; "))
    assert (
        restored
        == sorted(shifts[1].split("; "))
        == [
            "variant-a: weight=0.0",
            "variant-b: weight=100.0",
        ]
    ), shifts
    assert all(c["trusted"] for c in changes if c["caller"] == alice)
    # the root user's: the story's first deploy and weights (the test keys), then this one
    (rogue,) = by_hand(changes)
    assert (rogue["event"], rogue["trusted"], rogue["outcome"]) == (
        "UpdateEndpointWeightsAndCapacities",
        False,
        "ok",
    )
    assert rogue["detail"] == "variant-a: weight=1.0" and rogue["from"] == "127.0.0.1"
    # the deploy loop's job ran with its job role's credentials: its calls are that role's
    assert any(c["caller"].startswith(f"role/{name}-loops-deploy") for c in changes), changes
    untrusted = byo("audit", "--since", "1h", "--untrusted", "--kind", "traffic")
    assert rogue["event_id"] in {c["event_id"] for c in untrusted}
    assert not any(c["caller"] == alice for c in untrusted)
    alarm = outputs["audit"]["alarm_names"]["traffic"]

    def alarmed() -> bool:
        (found,) = emulator.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
        return found["StateValue"] == "ALARM"

    wait_for(f"{alarm} in ALARM", alarmed, timeout_s=60)

"""The runtime's Batch executor, through the Batch, S3 and CloudWatch Logs APIs only.

An own emulator maps the test's image (…/byo/probe:1) to a tiny Dockerfile written here
(LOCALAWS_IMAGES): its ENTRYPOINT is a probe program that reports what it sees (argv, working
directory, environment, PID) and then does what its arguments say (sleep, exit, put an S3
object). Jobs run as processes of that Dockerfile; the engine mode runs them through the fake
engine (tests/helpers/fake_engine.py), and through a real one only where it exists. The runtime's
other services but EventBridge are off in these emulators: not under test here, they only slow
the emulators' start and stop.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.helpers.aws import fargate_network, fargate_queue
from tests.helpers.emulator import Emulator, own_emulator, start_emulator
from tests.helpers.fake_engine import FakeEngine, process_running
from tests.helpers.flow import wait_for
from tests.helpers.processes import stop_process

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
PROBE_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/probe:1"
ORDER = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"]
DONE = ("SUCCEEDED", "FAILED")
EXITED = "Essential container in task exited"
OTHERS_OFF = {"LOCALAWS_RUNTIME_OFF": "lambda,alarms,scaling,stepfunctions"}

PROBE = textwrap.dedent(
    """
    import json, os, sys, time
    args = sys.argv[1:]
    prefixes = ("AWS_BATCH_", "AWS_ENDPOINT_URL", "PROBE_", "GREETING")
    seen = {
        "argv": list(args),
        "cwd": os.getcwd(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(prefixes)},
    }
    print("seen=" + json.dumps(seen), flush=True)
    print(f"pid={os.getpid()}", flush=True)
    attempt = int(os.environ.get("AWS_BATCH_JOB_ATTEMPT", "0"))
    index = os.environ.get("AWS_BATCH_JOB_ARRAY_INDEX")
    while args:
        op = args.pop(0)
        if op == "sleep":
            time.sleep(float(args.pop(0)))
        elif op == "exit":
            sys.exit(int(args.pop(0)))
        elif op == "fail-until":
            if attempt < int(args.pop(0)):
                sys.exit(1)
        elif op == "fail-index":
            if index == args.pop(0):
                sys.exit(1)
        elif op == "put":
            import boto3
            bucket, key = args.pop(0), args.pop(0)
            boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(seen).encode())
        elif op == "note":
            args.pop(0)
    """
)
DOCKERFILE = textwrap.dedent(
    """
    FROM python:3.12-slim
    ENV PROBE_HOME=/opt/probe PYTHONUNBUFFERED=1
    WORKDIR /opt/probe
    COPY probe.py /opt/probe/probe.py
    USER 10001
    ENTRYPOINT ["python", "/opt/probe/probe.py"]
    """
)


def _probe_dir(root: Path) -> Path:
    directory = root / "probe-image"
    directory.mkdir()
    (directory / "probe.py").write_text(PROBE)
    (directory / "Dockerfile").write_text(DOCKERFILE)
    return directory


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory) -> Path:
    return _probe_dir(tmp_path_factory.mktemp("batch-probe"))


@pytest.fixture(scope="module")
def emu(tmp_path_factory, probe_dir) -> Iterator[Emulator]:
    with own_emulator(
        tmp_path_factory.mktemp("batch-emulator"),
        env={**OTHERS_OFF, "LOCALAWS_IMAGES": f"probe={probe_dir / 'Dockerfile'}"},
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def network(emu) -> dict[str, str]:
    return fargate_network(emu)


@pytest.fixture(scope="module")
def queue(emu, network) -> str:
    return fargate_queue(emu, network)[0]


def define(emu, command: list[str], image: str = PROBE_IMAGE, **extra) -> str:
    properties = {
        "image": image,
        "command": command,
        "resourceRequirements": [
            {"type": "VCPU", "value": "1"},
            {"type": "MEMORY", "value": "512"},
        ],
        **extra.pop("container", {}),
    }
    return emu.client("batch").register_job_definition(
        jobDefinitionName=f"probe-{uuid.uuid4().hex[:8]}",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties=properties,
        **extra,
    )["jobDefinitionArn"]


def submit(emu, queue: str, definition: str, **extra) -> str:
    return emu.client("batch").submit_job(
        jobName=f"probe-{uuid.uuid4().hex[:6]}", jobQueue=queue, jobDefinition=definition, **extra
    )["jobId"]


def describe(emu, job_id: str) -> dict:
    return emu.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]


def wait_done(emu, job_id: str, timeout_s: float = 30) -> dict:
    return wait_for(
        f"job {job_id} to finish",
        lambda: (job := describe(emu, job_id))["status"] in DONE and job,
        timeout_s,
        0.1,
    )


def wait_status(emu, job_id: str, status: str, timeout_s: float = 30) -> dict:
    return wait_for(
        f"job {job_id} to be {status}",
        lambda: (job := describe(emu, job_id))["status"] == status and job,
        timeout_s,
        0.05,
    )


def log_lines(emu, stream: str, group: str = "/aws/batch/job") -> list[str]:
    try:
        events = emu.client("logs").get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True
        )["events"]
    except ClientError:
        return []
    return [event["message"] for event in events]


def seen(emu, stream: str, group: str = "/aws/batch/job") -> dict:
    """What the probe reported in its first log line."""
    lines = log_lines(emu, stream, group)
    assert lines and lines[0].startswith("seen="), f"no probe report in {group}/{stream}: {lines}"
    return json.loads(lines[0].removeprefix("seen="))


def running_pid(emu, job_id: str) -> int:
    """The PID the probe of a RUNNING job logged (lines reach CloudWatch Logs every second)."""
    stream = wait_status(emu, job_id, "RUNNING")["container"]["logStreamName"]
    line = wait_for(
        f"job {job_id}'s pid line",
        lambda: next((x for x in log_lines(emu, stream) if x.startswith("pid=")), None),
        10,
        0.2,
    )
    return int(line.removeprefix("pid="))


def wait_gone(pid: int) -> None:
    wait_for(f"process {pid} to be gone", lambda: not process_running(pid), 10, 0.05)


def watch(emu, job_ids: list[str], timeout_s: float = 30) -> list[dict[str, str]]:
    """Poll the jobs' statuses until all are done; every distinct snapshot, in order."""
    batch = emu.client("batch")
    snapshots: list[dict[str, str]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        jobs = batch.describe_jobs(jobs=job_ids)["jobs"]
        snapshot = {job["jobId"]: job["status"] for job in jobs}
        if not snapshots or snapshots[-1] != snapshot:
            snapshots.append(snapshot)
        if all(status in DONE for status in snapshot.values()):
            return snapshots
        assert time.monotonic() < deadline, f"jobs still running after {timeout_s} s: {snapshot}"
        time.sleep(0.03)


# ---------------------------------------------------------------------------------------------
# One job
# ---------------------------------------------------------------------------------------------
def test_a_job_runs_its_command_with_parameters_and_environment(emu, queue, probe_dir):
    bucket = f"batch-out-{uuid.uuid4().hex[:8]}"
    emu.client("s3").create_bucket(Bucket=bucket)
    group = f"/aws/batch/probe-{uuid.uuid4().hex[:6]}"
    definition = define(
        emu,
        ["put", "Ref::bucket", "Ref::key", "note", "Ref::unknown"],
        parameters={"bucket": "not-this-one", "key": "default.json"},
        container={
            "environment": [{"name": "GREETING", "value": "hello"}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": group, "awslogs-stream-prefix": "probe"},
            },
        },
    )
    job_id = submit(
        emu,
        queue,
        definition,
        parameters={"bucket": bucket},
        containerOverrides={"environment": [{"name": "PROBE_OVERRIDE", "value": "yes"}]},
    )
    job = wait_done(emu, job_id)

    assert job["status"] == "SUCCEEDED", job
    assert job["statusReason"] == EXITED
    assert job["container"]["exitCode"] == 0
    assert job["createdAt"] <= job["startedAt"] <= job["stoppedAt"]
    assert len(job["attempts"]) == 1 and job["attempts"][0]["container"]["exitCode"] == 0
    body = emu.client("s3").get_object(Bucket=bucket, Key="default.json")["Body"].read()
    report = json.loads(body)
    # Ref:: elements take the parameters (SubmitJob's over the definition's); unknown stay.
    assert report["argv"] == ["put", bucket, "default.json", "note", "Ref::unknown"]
    env = report["env"]
    assert env["GREETING"] == "hello" and env["PROBE_OVERRIDE"] == "yes"
    assert env["AWS_BATCH_JOB_ID"] == job_id and env["AWS_BATCH_JOB_ATTEMPT"] == "1"
    assert env["AWS_BATCH_JQ_NAME"].startswith("q-") and env["AWS_BATCH_CE_NAME"].startswith("ce-")
    assert "AWS_BATCH_JOB_ARRAY_INDEX" not in env
    # The Dockerfile's container paths are the test's directory: WORKDIR, ENV, ENTRYPOINT.
    assert report["cwd"] == str(probe_dir) and env["PROBE_HOME"] == str(probe_dir)

    stream = job["container"]["logStreamName"]
    assert stream.startswith("probe/default/")
    assert seen(emu, stream, group) == report
    # DescribeJobs shows the job's own environment, the same on every call.
    again = describe(emu, job_id)
    names = [e["name"] for e in again["container"]["environment"]]
    assert sorted(names) == ["GREETING", "PROBE_OVERRIDE"]
    assert again["container"]["environment"] == job["container"]["environment"]
    listed = emu.client("batch").list_jobs(jobQueue=queue, jobStatus="SUCCEEDED")
    summary = next(s for s in listed["jobSummaryList"] if s["jobId"] == job_id)
    assert summary["container"] == {"exitCode": 0} and summary["stoppedAt"] == job["stoppedAt"]


def test_a_job_goes_through_its_states_to_running_then_succeeded(emu, queue):
    job_id = submit(emu, queue, define(emu, ["sleep", "1.5"]))
    statuses = [snapshot[job_id] for snapshot in watch(emu, [job_id])]

    assert "RUNNING" in statuses and statuses[-1] == "SUCCEEDED", statuses
    assert [ORDER.index(s) for s in statuses] == sorted(ORDER.index(s) for s in statuses)


def test_state_changes_are_published_as_batch_job_state_change_events(emu, queue):
    sqs = emu.client("sqs")
    inbox = sqs.create_queue(QueueName=f"batch-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = emu.client("events")
    rule = f"batch-{uuid.uuid4().hex[:8]}"
    # The platform's alarm rule matches like this (detail.status, detail.jobQueue).
    pattern = {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {"jobQueue": [queue]},
    }
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "inbox", "Arn": inbox_arn}])
    job_id = submit(emu, queue, define(emu, ["exit", "1"]))
    assert wait_done(emu, job_id)["status"] == "FAILED"

    received: list[dict] = []

    def failed_event() -> bool:
        for message in sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            received.append(json.loads(message["Body"]))
        return any(e["detail"]["status"] == "FAILED" for e in received)

    wait_for("the job's FAILED event", failed_event, 15, 0.2)
    statuses = [e["detail"]["status"] for e in received if e["detail"]["jobId"] == job_id]
    # One event per change but the submission itself (SQS does not promise their order).
    assert sorted(statuses, key=ORDER.index) == [
        "PENDING",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "FAILED",
    ]
    last = next(e for e in received if e["detail"]["status"] == "FAILED")
    assert last["source"] == "aws.batch" and last["detail-type"] == "Batch Job State Change"
    assert last["resources"] == [last["detail"]["jobArn"]]
    assert last["detail"]["jobQueue"] == queue and last["detail"]["container"]["exitCode"] == 1


def test_job_names_follow_aws_rules(emu, queue):
    batch = emu.client("batch")
    definition = define(emu, ["exit", "0"])
    job_id = batch.submit_job(jobName="j", jobQueue=queue, jobDefinition=definition)["jobId"]
    assert wait_done(emu, job_id)["status"] == "SUCCEEDED"
    with pytest.raises(ClientError, match="Job name should match valid pattern"):
        batch.submit_job(jobName="-j", jobQueue=queue, jobDefinition=definition)


# ---------------------------------------------------------------------------------------------
# Retries and timeouts
# ---------------------------------------------------------------------------------------------
def test_a_failing_job_is_retried_per_its_strategy_then_fails(emu, queue):
    definition = define(emu, ["exit", "3"], retryStrategy={"attempts": 3})
    job = wait_done(emu, submit(emu, queue, definition))

    assert job["status"] == "FAILED"
    assert job["statusReason"] == EXITED and job["container"]["exitCode"] == 3
    assert [a["container"]["exitCode"] for a in job["attempts"]] == [3, 3, 3]
    assert all(a["statusReason"] == EXITED for a in job["attempts"])
    numbers = [
        seen(emu, a["container"]["logStreamName"])["env"]["AWS_BATCH_JOB_ATTEMPT"]
        for a in job["attempts"]
    ]
    assert numbers == ["1", "2", "3"]


def test_a_retried_job_succeeds_when_an_attempt_does(emu, queue):
    definition = define(emu, ["fail-until", "2"], retryStrategy={"attempts": 3})
    job = wait_done(emu, submit(emu, queue, definition))

    assert job["status"] == "SUCCEEDED"
    assert [a["container"]["exitCode"] for a in job["attempts"]] == [1, 0]


def test_evaluate_on_exit_decides_whether_to_retry(emu, queue):
    strategy = {
        "attempts": 3,
        "evaluateOnExit": [
            {"onExitCode": "3", "action": "EXIT"},
            {"onExitCode": "4*", "action": "retry"},
        ],
    }
    exits = define(emu, ["exit", "3"])
    retries = define(emu, ["exit", "42"])
    unmatched = define(emu, ["exit", "5"])
    # SubmitJob's retryStrategy overrides the definition's (none here: one attempt).
    jobs = [submit(emu, queue, d, retryStrategy=strategy) for d in (exits, retries, unmatched)]
    attempts = [len(wait_done(emu, job_id)["attempts"]) for job_id in jobs]

    assert attempts == [1, 3, 3]  # EXIT stops; RETRY retries; no rule matching retries too


def test_a_malformed_retry_strategy_is_rejected(emu, queue):
    definition = define(emu, ["exit", "0"])
    with pytest.raises(ClientError, match="attempts must be between 1 and 10"):
        submit(emu, queue, definition, retryStrategy={"attempts": 11})
    with pytest.raises(ClientError, match="RETRY or EXIT"):
        submit(emu, queue, definition, retryStrategy={"evaluateOnExit": [{"action": "again"}]})


def test_a_job_past_its_timeout_fails_unretried_and_its_process_is_gone(emu, queue):
    definition = define(
        emu, ["sleep", "600"], timeout={"attemptDurationSeconds": 60}, retryStrategy={"attempts": 2}
    )
    job_id = submit(emu, queue, definition)
    pid = running_pid(emu, job_id)
    assert process_running(pid)

    emu.advance_clock(61)
    job = wait_done(emu, job_id)

    assert job["status"] == "FAILED"
    assert job["statusReason"] == "Job attempt duration exceeded timeout"
    assert len(job["attempts"]) == 1  # a timed-out job is not retried
    assert job["container"]["exitCode"] == 128 + 15  # SIGTERM
    wait_gone(pid)


def test_terminate_kills_a_running_job_and_records_the_reason(emu, queue):
    definition = define(emu, ["sleep", "600"], retryStrategy={"attempts": 2})
    job_id = submit(emu, queue, definition)
    pid = running_pid(emu, job_id)

    emu.client("batch").terminate_job(jobId=job_id, reason="stopped by the test")
    job = wait_done(emu, job_id)

    assert job["status"] == "FAILED" and job["statusReason"] == "stopped by the test"
    assert len(job["attempts"]) == 1
    wait_gone(pid)


# ---------------------------------------------------------------------------------------------
# Scheduling
# ---------------------------------------------------------------------------------------------
def test_a_disabled_queue_keeps_jobs_runnable_and_a_cancelled_one_fails(emu, network):
    queue, name = fargate_queue(emu, network, state="DISABLED")
    definition = define(emu, ["exit", "0"])
    cancelled, waiting = submit(emu, queue, definition), submit(emu, queue, definition)
    wait_status(emu, cancelled, "RUNNABLE")
    wait_status(emu, waiting, "RUNNABLE")
    time.sleep(0.5)
    assert describe(emu, waiting)["status"] == "RUNNABLE"

    batch = emu.client("batch")
    batch.cancel_job(jobId=cancelled, reason="not needed")
    job = wait_done(emu, cancelled)
    assert job["status"] == "FAILED" and job["statusReason"] == "not needed"
    assert job["attempts"] == []

    batch.update_job_queue(jobQueue=name, state="ENABLED")
    assert wait_done(emu, waiting)["status"] == "SUCCEEDED"


def test_max_vcpus_bounds_how_many_jobs_run_at_once(emu, network):
    queue, _ = fargate_queue(emu, network, max_vcpus=1)
    definition = define(emu, ["sleep", "0.8"])
    jobs = [submit(emu, queue, definition) for _ in range(2)]
    snapshots = watch(emu, jobs)

    busy = [
        [s for s in snapshot.values() if s in ("STARTING", "RUNNING")] for snapshot in snapshots
    ]
    assert max(len(b) for b in busy) == 1, snapshots
    first, second = (describe(emu, job_id) for job_id in jobs)
    assert first["status"] == second["status"] == "SUCCEEDED"
    assert second["startedAt"] >= first["stoppedAt"]  # in submission order


# ---------------------------------------------------------------------------------------------
# Arrays and dependencies
# ---------------------------------------------------------------------------------------------
def test_an_array_job_runs_its_children_and_succeeds(emu, queue):
    parent_id = submit(emu, queue, define(emu, ["exit", "0"]), arrayProperties={"size": 3})
    parent = wait_done(emu, parent_id)

    assert parent["status"] == "SUCCEEDED", parent
    assert parent["arrayProperties"]["size"] == 3
    assert parent["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 3
    children = emu.client("batch").list_jobs(arrayJobId=parent_id)["jobSummaryList"]
    assert sorted(c["arrayProperties"]["index"] for c in children) == [0, 1, 2]
    for child in children:
        detail = describe(emu, child["jobId"])
        env = seen(emu, detail["container"]["logStreamName"])["env"]
        assert child["jobId"] == f"{parent_id}:{child['arrayProperties']['index']}"
        assert env["AWS_BATCH_JOB_ARRAY_INDEX"] == str(child["arrayProperties"]["index"])
        assert env["AWS_BATCH_JOB_ARRAY_SIZE"] == "3" and env["AWS_BATCH_JOB_ID"] == child["jobId"]


def test_an_array_job_fails_once_all_children_are_done_and_one_failed(emu, queue):
    definition = define(emu, ["fail-index", "1", "sleep", "0.5"])
    parent_id = submit(emu, queue, definition, arrayProperties={"size": 3})
    parent = wait_done(emu, parent_id)

    assert parent["status"] == "FAILED"
    summary = parent["arrayProperties"]["statusSummary"]
    assert (summary["SUCCEEDED"], summary["FAILED"]) == (2, 1)
    children = [describe(emu, f"{parent_id}:{i}") for i in range(3)]
    assert [c["status"] for c in children] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert parent["stoppedAt"] >= max(c["stoppedAt"] for c in children)


def test_a_job_runs_after_what_it_depends_on(emu, queue):
    first = submit(emu, queue, define(emu, ["sleep", "1"]))
    then = submit(emu, queue, define(emu, ["exit", "0"]), dependsOn=[{"jobId": first}])
    snapshots = watch(emu, [first, then])

    assert any(s[first] == "RUNNING" and s[then] == "PENDING" for s in snapshots), snapshots
    before, after = describe(emu, first), describe(emu, then)
    assert after["status"] == "SUCCEEDED" and after["startedAt"] >= before["stoppedAt"]


def test_a_job_whose_dependency_failed_fails_without_running(emu, queue):
    failing = submit(emu, queue, define(emu, ["exit", "1"]))
    then = submit(emu, queue, define(emu, ["exit", "0"]), dependsOn=[{"jobId": failing}])
    job = wait_done(emu, then)

    assert job["status"] == "FAILED" and job["statusReason"] == "Dependent Job failed"
    assert job["attempts"] == []


def test_sequential_and_n_to_n_array_children_wait_for_their_own_predecessor(emu, queue):
    definition = define(emu, ["sleep", "0.5"])
    sequential = submit(
        emu, queue, definition, arrayProperties={"size": 3}, dependsOn=[{"type": "SEQUENTIAL"}]
    )
    n_to_n = submit(
        emu,
        queue,
        define(emu, ["exit", "0"]),
        arrayProperties={"size": 3},
        dependsOn=[{"jobId": sequential, "type": "N_TO_N"}],
    )
    assert wait_done(emu, sequential)["status"] == "SUCCEEDED"
    assert wait_done(emu, n_to_n)["status"] == "SUCCEEDED"
    first = [describe(emu, f"{sequential}:{i}") for i in range(3)]
    then = [describe(emu, f"{n_to_n}:{i}") for i in range(3)]
    for earlier, later in itertools.pairwise(first):
        assert later["startedAt"] >= earlier["stoppedAt"]
    # Child i of the N_TO_N array waits for child i only: child 0 may run before child 2 of the
    # first array started.
    for before, after in zip(first, then, strict=True):
        assert after["startedAt"] >= before["stoppedAt"]
    assert then[0]["stoppedAt"] <= first[2]["stoppedAt"]


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------
def test_an_image_no_dockerfile_maps_fails_the_job_unretried(emu, queue):
    image = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/nothing-like-it:1"
    # The batch module's retry rules: a container that cannot start is not retried.
    strategy = {
        "attempts": 3,
        "evaluateOnExit": [
            {"onStatusReason": "Host EC2*", "action": "RETRY"},
            {"onExitCode": "*", "action": "RETRY"},
            {"onReason": "*", "action": "EXIT"},
        ],
    }
    job = wait_done(emu, submit(emu, queue, define(emu, [], image=image, retryStrategy=strategy)))

    assert job["status"] == "FAILED"
    reason = job["statusReason"]
    assert reason.startswith("CannotPullContainerError:") and image in reason
    assert "LOCALAWS_IMAGES" in reason
    assert job["container"]["reason"] == reason and "exitCode" not in job["container"]
    assert len(job["attempts"]) == 1


def test_the_batch_processor_image_runs_as_the_repository_code(emu, queue):
    image = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/batch-processor:test"
    job = wait_done(emu, submit(emu, queue, define(emu, ["--help"], image=image)))

    assert job["status"] == "SUCCEEDED", job
    lines = log_lines(emu, job["container"]["logStreamName"])
    assert lines[0].startswith("usage: python -m batch_processor.job"), lines


# ---------------------------------------------------------------------------------------------
# Engine mode
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_engine_emu(tmp_path_factory) -> Iterator[tuple[Emulator, FakeEngine]]:
    """An emulator with LOCALAWS_CONTAINERS=engine and the fake engine as `docker`, whose
    `test/probe:1` is the probe program."""
    root = tmp_path_factory.mktemp("batch-engine")
    probe = _probe_dir(root)
    engine = FakeEngine.install(
        root / "bin",
        root / "engine",
        images={"byo/probe:1": [sys.executable, str(probe / "probe.py")]},
    )
    emulator = start_emulator(
        root,
        env={
            **OTHERS_OFF,
            "LOCALAWS_CONTAINERS": "engine",
            "LOCALAWS_CONTAINER_ENGINE": "docker",
            "PATH": f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}",
        },
    )
    try:
        yield emulator, engine
    finally:
        stop_process(emulator.proc)
        engine.kill_all()


def test_engine_mode_runs_the_image_with_the_engine(fake_engine_emu):
    emulator, engine = fake_engine_emu
    queue, _ = fargate_queue(emulator, fargate_network(emulator))
    succeeds = submit(
        emulator, queue, define(emulator, ["note", "Ref::word"]), parameters={"word": "hi"}
    )
    fails = submit(emulator, queue, define(emulator, ["exit", "2"]))

    job = wait_done(emulator, succeeds)
    assert job["status"] == "SUCCEEDED", job
    report = seen(emulator, job["container"]["logStreamName"])
    assert report["argv"] == ["note", "hi"]
    assert report["env"]["AWS_BATCH_JOB_ID"] == succeeds
    assert report["env"]["AWS_ENDPOINT_URL"] == emulator.url  # --network host: the emulator
    failed = wait_done(emulator, fails)
    assert failed["status"] == "FAILED" and failed["container"]["exitCode"] == 2
    assert engine.containers() == []  # run --rm: nothing left behind


def _real_engine() -> str | None:
    """Why the real-engine test cannot run here, or None when docker/podman answers and holds
    the batch-processor image (make images TAG=local)."""
    for name in ("docker", "podman"):
        path = shutil.which(name)
        if path is None:
            continue
        info = subprocess.run([path, "info"], capture_output=True, timeout=10, check=False)
        if info.returncode != 0:
            continue
        image = subprocess.run(
            [path, "image", "inspect", "byo/batch-processor:local"],
            capture_output=True,
            check=False,
        )
        if image.returncode != 0:
            return f"{name} answers but has no byo/batch-processor:local (make images TAG=local)"
        return None
    return "no docker or podman engine answers on this machine"


def test_engine_mode_runs_the_real_batch_processor_image(tmp_path):
    reason = _real_engine()
    if reason is not None:
        pytest.skip(reason)
    emulator = start_emulator(tmp_path, env={**OTHERS_OFF, "LOCALAWS_CONTAINERS": "engine"})
    try:
        queue, _ = fargate_queue(emulator, fargate_network(emulator))
        image = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/batch-processor:local"
        job = wait_done(
            emulator, submit(emulator, queue, define(emulator, ["--help"], image=image))
        )
        assert job["status"] == "SUCCEEDED", job
        assert any(
            "usage" in line for line in log_lines(emulator, job["container"]["logStreamName"])
        )
    finally:
        stop_process(emulator.proc)

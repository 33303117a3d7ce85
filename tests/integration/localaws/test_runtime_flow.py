"""The seed's story on the embedded AWS with nothing but the AWS APIs: upload input/<name>.csv and
the S3 notification runs the trigger Lambda, which submits the Batch job, which scores every row
through the endpoint into output/ and the job record. No test here calls the trigger or the job.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.helpers.aws import fargate_job_queue
from tests.helpers.emulator import own_emulator
from tests.helpers.flow import ACCOUNT, build_flow, wait_for
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample" / "sample.csv"


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """An own emulator: the DLQ test moves its clock past Lambda's retry delays."""
    with own_emulator(tmp_path_factory.mktemp("flow-emulator")) as emu:
        yield emu


def upload(aws, bucket: str, key: str, body: bytes) -> str:
    put = aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}#{put['VersionId']}"


def finished(aws, flow, record_key: str):
    def check():
        record = flow.record(aws, record_key)
        if record.get("Status") in ("SUCCEEDED", "FAILED") and record.get("JobId"):
            (job,) = aws.client("batch").describe_jobs(jobs=[record["JobId"]])["jobs"]
            if job["status"] in ("SUCCEEDED", "FAILED"):
                return record, job
        return None

    return wait_for(f"the job record of {record_key}", check, timeout_s=180)


def read_output(aws, uri: str) -> list[list[str]]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return list(csv.reader(io.StringIO(body)))


def test_an_upload_alone_scores_every_row_into_output_and_the_record(aws, trained_model, tmp_path):
    flow = build_flow(aws, trained_model.model_path, tmp_path)
    record_key = upload(aws, flow.bucket, "input/sample.csv", SAMPLE.read_bytes())

    record, job = finished(aws, flow, record_key)
    assert record["Status"] == "SUCCEEDED" and job["status"] == "SUCCEEDED", (record, job)
    assert record["RowsIn"] == "10" and record["RowsScored"] == "10"
    assert record["OutputUri"].startswith(f"s3://{flow.bucket}/output/")
    assert record["OutputUri"].endswith("-sample.csv")
    assert len(read_output(aws, record["OutputUri"])) == 10
    # The job ran the definition's command with the object's coordinates substituted.
    assert job["parameters"]["key"] == "input/sample.csv"
    assert job["container"]["exitCode"] == 0
    # The trigger's own log lines are in its log group, as on AWS.
    logs = aws.client("logs")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{flow.function}")["logStreams"]
    assert streams
    # Nothing else in the bucket triggers: a key outside input/ or not .csv submits no job.
    upload(aws, flow.bucket, "other/sample.csv", SAMPLE.read_bytes())
    upload(aws, flow.bucket, "input/notes.txt", b"not a csv\n")
    listed = aws.client("batch").list_jobs(jobQueue=flow.queue, jobStatus="SUCCEEDED")
    assert [j["jobId"] for j in listed["jobSummaryList"]] == [job["jobId"]]


def test_a_duplicate_event_submits_one_job(aws, trained_model, tmp_path):
    flow = build_flow(aws, trained_model.model_path, tmp_path)
    s3 = aws.client("s3")
    put = s3.put_object(Bucket=flow.bucket, Key="input/dup.csv", Body=SAMPLE.read_bytes())
    record_key = f"s3://{flow.bucket}/input/dup.csv#{put['VersionId']}"
    record, _ = finished(aws, flow, record_key)
    # S3 delivers at least once: the same event again (as S3 would resend it) is a duplicate.
    head = s3.head_object(Bucket=flow.bucket, Key="input/dup.csv")
    event = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": flow.bucket, "arn": f"arn:aws:s3:::{flow.bucket}"},
                    "object": {
                        "key": "input/dup.csv",
                        "size": head["ContentLength"],
                        "eTag": head["ETag"].strip('"'),
                        "versionId": put["VersionId"],
                    },
                },
            }
        ]
    }
    answer = aws.client("lambda").invoke(FunctionName=flow.function, Payload=json.dumps(event))
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    assert result["results"][0]["status"] == "duplicate"
    jobs = aws.client("batch").list_jobs(
        jobQueue=flow.queue, filters=[{"name": "JOB_NAME", "values": [record["JobName"]]}]
    )["jobSummaryList"]
    assert len(jobs) == 1


def test_a_file_over_the_array_threshold_runs_as_an_array_job(aws, trained_model, tmp_path):
    flow = build_flow(aws, trained_model.model_path, tmp_path, array_threshold_bytes=1000)
    record_key = upload(aws, flow.bucket, "input/big.csv", SAMPLE.read_bytes())

    record, job = finished(aws, flow, record_key)
    assert job["status"] == "SUCCEEDED", job
    size = job["arrayProperties"]["size"]
    assert size == 3  # 2,711 bytes over a 1,000-byte threshold
    assert job["arrayProperties"]["statusSummary"]["SUCCEEDED"] == size
    children = aws.client("batch").list_jobs(arrayJobId=job["jobId"])["jobSummaryList"]
    assert len(children) == size
    assert all(child["status"] == "SUCCEEDED" for child in children)
    assert record["Status"] == "SUCCEEDED" and record["RowsScored"] == "10"
    assert len(read_output(aws, record["OutputUri"])) == 10


def test_a_step_functions_execution_submits_a_batch_job_and_waits_for_it(
    aws, trained_model, tmp_path
):
    flow = build_flow(aws, trained_model.model_path, tmp_path)
    s3 = aws.client("s3")
    # Not under input/: only the state machine submits this job.
    put = s3.put_object(Bucket=flow.bucket, Key="manual/rows.csv", Body=SAMPLE.read_bytes())
    definition = {
        "StartAt": "Score",
        "States": {
            "Score": {
                "Type": "Task",
                "Resource": "arn:aws:states:::batch:submitJob.sync",
                "Parameters": {
                    "JobName": "sfn-score",
                    "JobQueue": flow.queue,
                    "JobDefinition": flow.definition,
                    "Parameters": {
                        "bucket": flow.bucket,
                        "key": "manual/rows.csv",
                        "etag": put["ETag"].strip('"'),
                        "version": put["VersionId"],
                        "shards": "1",
                    },
                },
                "End": True,
            }
        },
    }
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"score-{flow.function}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]

    def done():
        described = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    described = wait_for("the execution", done, timeout_s=180)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["Status"] == "SUCCEEDED"
    record = flow.record(aws, f"s3://{flow.bucket}/manual/rows.csv#{put['VersionId']}")
    assert record["Status"] == "SUCCEEDED" and record["RowsScored"] == "10"


def test_a_failing_trigger_is_retried_then_dead_lettered_and_alarmed(aws, trained_model, tmp_path):
    flow = build_flow(aws, trained_model.model_path, tmp_path)
    lambdas = aws.client("lambda")
    # A job queue that does not exist: the trigger cannot submit, and says so by raising.
    config = lambdas.get_function_configuration(FunctionName=flow.function)
    variables = {**config["Environment"]["Variables"], "JOB_QUEUE": "no-such-queue"}
    lambdas.update_function_configuration(
        FunctionName=flow.function, Environment={"Variables": variables}
    )
    # The platform's DLQ alarm (terraform/modules/observability), notifying a topic an SQS
    # queue subscribes to.
    sqs, sns = aws.client("sqs"), aws.client("sns")
    topic = sns.create_topic(Name=f"alarms-{flow.function}")["TopicArn"]
    inbox = sqs.create_queue(QueueName=f"inbox-{flow.function}")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    alarm = f"{flow.function}-dlq-not-empty"
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": flow.dlq_url.rsplit("/", 1)[1]}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
    )
    upload(aws, flow.bucket, "input/broken.csv", SAMPLE.read_bytes())

    def in_dlq():
        # Lambda waits about 1 and then 2 minutes between attempts: move the clock on.
        aws.advance_clock(70)
        attributes = sqs.get_queue_attributes(
            QueueUrl=flow.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    wait_for("the event in the trigger's DLQ", in_dlq, timeout_s=120, poll_s=1)

    def alarmed():
        aws.advance_clock(30)  # SQS's metrics come once a minute
        (state,) = aws.client("cloudwatch").describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
        return state["StateValue"] == "ALARM"

    wait_for(f"{alarm} in ALARM", alarmed, timeout_s=120, poll_s=1)
    notified = wait_for(
        "the alarm's notification",
        lambda: sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1).get("Messages"),
    )
    assert json.loads(json.loads(notified[0]["Body"])["Message"])["NewStateValue"] == "ALARM"

    got = sqs.receive_message(
        QueueUrl=flow.dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    (message,) = got["Messages"]
    event = json.loads(message["Body"])
    assert event["Records"][0]["s3"]["object"]["key"] == "input/broken.csv"
    assert "ErrorMessage" in message["MessageAttributes"]
    streams = aws.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{flow.function}")[
        "logStreams"
    ]
    messages = [
        e["message"]
        for s in streams
        for e in aws.client("logs").get_log_events(
            logGroupName=f"/aws/lambda/{flow.function}", logStreamName=s["logStreamName"]
        )["events"]
    ]
    assert sum(m.startswith("START RequestId") for m in messages) == 3  # the first try + 2 retries


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (by parent links in /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_runtime_leaves_no_process_when_the_emulator_stops(tmp_path: Path):
    """The emulator stopped while a Batch job's process runs: nothing of it is left."""
    dockerfile = tmp_path / "sleeper" / "Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text('FROM python:3.12-slim\nENTRYPOINT ["sleep"]\nCMD ["300"]\n')
    (tmp_path / "short-lived").mkdir()
    with own_emulator(
        tmp_path / "short-lived", env={"LOCALAWS_IMAGES": f"sleeper={dockerfile}"}
    ) as emu:
        queue, _ = fargate_job_queue(emu, ["true"])
        batch = emu.client("batch")
        definition = batch.register_job_definition(
            jobDefinitionName="sleeper",
            type="container",
            platformCapabilities=["FARGATE"],
            containerProperties={
                "image": "sleeper:1",
                "resourceRequirements": [
                    {"type": "VCPU", "value": "1"},
                    {"type": "MEMORY", "value": "512"},
                ],
            },
        )["jobDefinitionArn"]
        job = batch.submit_job(jobName="sleeps", jobQueue=queue, jobDefinition=definition)
        wait_for(
            "the job to run",
            lambda: batch.describe_jobs(jobs=[job["jobId"]])["jobs"][0]["status"] == "RUNNING",
        )
        running = descendants(emu.proc.pid)
        assert running, "the RUNNING job has no process"
    left = [pid for pid in running if alive(pid)]
    assert not left, f"processes left after the emulator stopped: {left}"

"""The embedded Lambda through the AWS APIs only: functions created with boto3 from zips built
here run as processes — Invoke (RequestResponse, Event, DryRun), errors, log tails, timeouts,
runtimes, CloudWatch logs and metrics, S3 and SNS notifications, throttling, and asynchronous
retries into a dead-letter queue on an own emulator whose clock the test advances."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.helpers.emulator import Emulator, own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

# One handler module for most tests: what it does depends on the event.
APP = """
import json, os, subprocess, sys, time
import boto3

def handler(event, context):
    action = event.get("action")
    print(f"handling {action} in {context.function_name}")
    if action == "raise":
        raise ValueError("the handler failed on purpose")
    if action == "hang":
        child = subprocess.Popen(["sleep", "60"])
        print(f"pids {os.getpid()} {child.pid}", flush=True)
        time.sleep(60)
    if action == "write":
        boto3.client("s3").put_object(
            Bucket=event["bucket"], Key=event["key"], Body=json.dumps(event).encode()
        )
    return {
        "action": action,
        "my_var": os.environ.get("MY_VAR"),
        "function_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
        "log_group": os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME"),
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "cwd": os.getcwd(),
    }
"""

# Records every event it gets under seen/<n> of the event's bucket, after waiting for a `go`
# object: if S3 invoked it synchronously, the put_object that notified it would wait for it.
RECORDER = """
import json, time, uuid
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    record = event["Records"][0]
    if "s3" in record:
        bucket = record["s3"]["bucket"]["name"]
    else:
        bucket = json.loads(record["Sns"]["Message"])["bucket"]
    for _ in range(200):
        try:
            s3.head_object(Bucket=bucket, Key="go")
            break
        except Exception:
            time.sleep(0.05)
    s3.put_object(Bucket=bucket, Key=f"seen/{uuid.uuid4().hex}", Body=json.dumps(event).encode())
"""

ALWAYS_FAILS = """
def handler(event, context):
    print("attempt for", context.aws_request_id)
    raise RuntimeError(f"cannot process {event['id']}")
"""


def package(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def lambda_role(aws: Emulator) -> str:
    return aws.client("iam").create_role(
        RoleName=f"lambda-test-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]


def create_function(aws: Emulator, code: bytes, handler: str = "app.handler", **kwargs) -> str:
    name = f"fn-{uuid.uuid4().hex[:10]}"
    aws.client("lambda").create_function(
        FunctionName=name,
        Runtime=kwargs.pop("Runtime", "python3.12"),
        Role=lambda_role(aws),
        Handler=handler,
        Code={"ZipFile": code},
        **kwargs,
    )
    return name


def invoke(aws: Emulator, name: str, event: dict, **kwargs) -> dict:
    # One attempt: the test sees exactly what the API answered.
    client = aws.client("lambda", config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    response["Body"] = response["Payload"].read()
    return response


def log_messages(aws: Emulator, name: str) -> list[str]:
    logs = aws.client("logs")
    try:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except ClientError:
        return []
    return [e["message"] for e in sorted(events, key=lambda e: (e["timestamp"], e["eventId"]))]


def starts(aws: Emulator, name: str) -> list[str]:
    return [m for m in log_messages(aws, name) if m.startswith("START RequestId: ")]


def s3_json(aws: Emulator, bucket: str, key: str) -> dict | None:
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError:
        return None
    return json.loads(body)


def seen(aws: Emulator, bucket: str) -> list[dict]:
    listed = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix="seen/").get("Contents", [])
    return [s3_json(aws, bucket, o["Key"]) for o in listed]


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has stopped running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def app(emulator: Emulator) -> str:
    return create_function(
        emulator,
        package({"app.py": APP}),
        Environment={"Variables": {"MY_VAR": "from-the-function"}},
        MemorySize=256,
        Timeout=10,
    )


@pytest.fixture
def bucket(emulator: Emulator) -> str:
    name = f"lambda-test-{uuid.uuid4().hex[:10]}"
    emulator.client("s3").create_bucket(Bucket=name)
    return name


# -------------------------------------------------------------------------------------------------
# Invoke
# -------------------------------------------------------------------------------------------------
def test_request_response_answers_the_handlers_result_with_its_environment(emulator, app):
    response = invoke(emulator, app, {"action": "echo"})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    result = json.loads(response["Body"])
    assert result["action"] == "echo"
    assert result["my_var"] == "from-the-function"
    assert result["function_name"] == app
    assert result["memory"] == "256"
    assert result["log_group"] == f"/aws/lambda/{app}"
    assert result["task_root"] == result["cwd"]
    assert 0 < result["remaining_ms"] <= 10_000
    uuid.UUID(result["request_id"])


def test_a_raising_handler_answers_awss_unhandled_error_payload(emulator, app):
    response = invoke(emulator, app, {"action": "raise"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the handler failed on purpose"
    uuid.UUID(error["requestId"])
    assert any("app.py" in frame and "in handler" in frame for frame in error["stackTrace"])
    assert not any("lambda_bootstrap" in frame for frame in error["stackTrace"])


def test_log_type_tail_answers_the_invocations_log(emulator, app):
    response = invoke(emulator, app, {"action": "echo"}, LogType="Tail")

    tail = base64.b64decode(response["LogResult"]).decode()
    request_id = json.loads(response["Body"])["request_id"]
    lines = tail.splitlines()
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert f"handling echo in {app}" in lines
    assert f"END RequestId: {request_id}" in lines
    report = lines[-1]
    assert report.startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "\tMemory Size: 256 MB\t" in report and "\tMax Memory Used: " in report
    assert "LogResult" not in invoke(emulator, app, {"action": "echo"})  # only when asked


def test_a_handler_that_cannot_be_loaded_answers_the_runtimes_error(emulator):
    missing = create_function(emulator, package({"app.py": APP}), handler="nowhere.handler")
    no_function = create_function(emulator, package({"app.py": APP}), handler="app.absent")

    import_error = json.loads(invoke(emulator, missing, {})["Body"])
    not_found = json.loads(invoke(emulator, no_function, {})["Body"])

    assert import_error["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'nowhere'" in import_error["errorMessage"]
    assert not_found["errorType"] == "Runtime.HandlerNotFound"
    assert not_found["errorMessage"] == "Handler 'absent' missing on module 'app'"


def test_dry_run_runs_nothing(emulator, app, bucket):
    response = invoke(
        emulator, app, {"action": "write", "bucket": bucket, "key": "dry"}, InvocationType="DryRun"
    )
    invoke(emulator, app, {"action": "write", "bucket": bucket, "key": "after"})

    assert response["StatusCode"] == 204
    assert response["Body"] == b""
    assert s3_json(emulator, bucket, "after") is not None
    assert s3_json(emulator, bucket, "dry") is None


def test_event_answers_202_at_once_and_the_handler_runs_later(emulator, app, bucket):
    event = {"action": "write", "bucket": bucket, "key": "from-event"}
    response = invoke(emulator, app, event, InvocationType="Event")

    assert response["StatusCode"] == 202
    assert response["Body"] == b""
    written = wait_for(
        "the Event invocation's object", lambda: s3_json(emulator, bucket, "from-event")
    )
    assert written == event


def test_the_legacy_invoke_async_queues_the_event(emulator, app, bucket):
    event = {"action": "write", "bucket": bucket, "key": "from-invoke-async"}
    response = emulator.client("lambda").invoke_async(
        FunctionName=app, InvokeArgs=json.dumps(event).encode()
    )

    assert response["Status"] == 202
    written = wait_for(
        "the InvokeAsync invocation's object",
        lambda: s3_json(emulator, bucket, "from-invoke-async"),
    )
    assert written == event


def test_a_handler_past_its_timeout_is_killed_with_its_children(emulator):
    name = create_function(emulator, package({"app.py": APP}), Timeout=1)

    response = invoke(emulator, name, {"action": "hang"}, LogType="Tail")

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in tail
    assert "Status: timeout" in tail.splitlines()[-1]
    (pids,) = [line for line in tail.splitlines() if line.startswith("pids ")]
    handler_pid, child_pid = (int(p) for p in pids.split()[1:])
    wait_for(
        "the timed-out processes to be gone",
        lambda: not (alive(handler_pid) or alive(child_pid)),
        timeout_s=10,
    )


def test_a_runtime_other_than_python_fails_with_a_message_saying_so(emulator):
    name = create_function(
        emulator,
        package({"index.js": "exports.handler = async () => 'hi';"}),
        handler="index.handler",
        Runtime="nodejs20.x",
    )

    response = invoke(emulator, name, {})

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert "nodejs20.x" in error["errorMessage"]
    assert "only Python runtimes (python3.x) run here" in error["errorMessage"]
    assert any("nodejs20.x" in m for m in log_messages(emulator, name))


def test_reserved_concurrency_zero_throttles(emulator):
    name = create_function(emulator, package({"app.py": APP}))
    emulator.client("lambda").put_function_concurrency(
        FunctionName=name, ReservedConcurrentExecutions=0
    )

    with pytest.raises(ClientError) as raised:
        invoke(emulator, name, {"action": "echo"})

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


# -------------------------------------------------------------------------------------------------
# Logs and metrics
# -------------------------------------------------------------------------------------------------
def test_invocations_log_to_their_group_framed_like_awss(emulator):
    name = create_function(emulator, package({"app.py": APP}))
    request_id = json.loads(invoke(emulator, name, {"action": "logged"})["Body"])["request_id"]

    streams = emulator.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")
    (stream,) = streams["logStreams"]
    assert stream["logStreamName"].split("]")[0].endswith("/[$LATEST")
    assert len(stream["logStreamName"].split("]")[1]) == 32
    messages = log_messages(emulator, name)
    assert messages[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert f"handling logged in {name}" in messages
    assert messages[-2] == f"END RequestId: {request_id}"
    assert messages[-1].startswith(f"REPORT RequestId: {request_id}\t")
    assert "\tBilled Duration: " in messages[-1] and "\tInit Duration: " in messages[-1]


def test_invocations_and_errors_are_lambda_metrics(emulator):
    name = create_function(emulator, package({"app.py": APP}))
    invoke(emulator, name, {"action": "echo"})
    invoke(emulator, name, {"action": "raise"})
    cloudwatch = emulator.client("cloudwatch")
    now = datetime.now(UTC)

    def total(metric: str) -> float | None:
        points = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/Lambda",
                            "MetricName": metric,
                            "Dimensions": [{"Name": "FunctionName", "Value": name}],
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                }
            ],
            StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=10),
        )["MetricDataResults"][0]["Values"]
        return sum(points) if points else None

    assert wait_for("the Invocations metric", lambda: total("Invocations") == 2)
    assert total("Errors") == 1


# -------------------------------------------------------------------------------------------------
# Event sources
# -------------------------------------------------------------------------------------------------
def test_s3_notifications_invoke_asynchronously_with_awss_event_only_for_matching_keys(
    emulator, bucket
):
    s3 = emulator.client("s3")
    name = create_function(emulator, package({"app.py": RECORDER}), Timeout=15)
    arn = emulator.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "inputs",
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "input/"},
                                {"Name": "suffix", "Value": ".csv"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="input/notes.txt", Body=b"wrong suffix")
    s3.put_object(Bucket=bucket, Key="elsewhere/a.csv", Body=b"wrong prefix")
    put = s3.put_object(Bucket=bucket, Key="input/my file (1).csv", Body=b"a,b\n1,2\n")

    # put_object has answered while the function still waits for `go`: S3 invoked it
    # asynchronously.
    assert seen(emulator, bucket) == []
    s3.put_object(Bucket=bucket, Key="go", Body=b"")
    (event,) = wait_for("the notification's invocation", lambda: seen(emulator, bucket))

    (record,) = event["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["configurationId"] == "inputs"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    assert obj["key"] == "input/my+file+%281%29.csv"
    assert obj["size"] == 8
    assert obj["eTag"] == put["ETag"].strip('"')
    assert int(obj["sequencer"], 16) > 0
    assert record["eventTime"].endswith("Z")
    assert record["userIdentity"]["principalId"]
    assert record["responseElements"]["x-amz-request-id"]

    # A later matching upload is seen too, and still nothing for the two that did not match.
    s3.put_object(Bucket=bucket, Key="input/second.csv", Body=b"x")
    events = wait_for(
        "the second invocation", lambda: (e := seen(emulator, bucket)) and len(e) == 2 and e
    )
    keys = sorted(e["Records"][0]["s3"]["object"]["key"] for e in events)
    assert keys == ["input/my+file+%281%29.csv", "input/second.csv"]
    assert len(starts(emulator, name)) == 2


def test_sns_delivers_to_a_subscribed_function_asynchronously_with_awss_sns_event(emulator, bucket):
    name = create_function(emulator, package({"app.py": RECORDER}), Timeout=15)
    arn = emulator.client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    sns = emulator.client("sns")
    topic = sns.create_topic(Name=f"topic-{uuid.uuid4().hex[:8]}")["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)["SubscriptionArn"]
    message = json.dumps({"bucket": bucket})

    published = sns.publish(
        TopicArn=topic,
        Message=message,
        Subject="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    assert seen(emulator, bucket) == []  # Publish answered while the function waits for `go`
    emulator.client("s3").put_object(Bucket=bucket, Key="go", Body=b"")
    (event,) = wait_for("the SNS invocation", lambda: seen(emulator, bucket))

    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == subscription
    notification = record["Sns"]
    assert notification["Type"] == "Notification"
    assert notification["MessageId"] == published["MessageId"]
    assert notification["TopicArn"] == topic
    assert notification["Subject"] == "hello"
    assert notification["Message"] == message
    assert notification["MessageAttributes"] == {"kind": {"Type": "String", "Value": "test"}}
    assert notification["SigningCertUrl"].startswith("https://sns.us-east-1.amazonaws.com/")
    assert subscription in notification["UnsubscribeUrl"]


# -------------------------------------------------------------------------------------------------
# Asynchronous retries and the dead-letter queue (an own emulator: the test moves its clock)
# -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def own_aws(tmp_path_factory):
    with own_emulator(tmp_path_factory.mktemp("lambda-emulator")) as emu:
        yield emu


def test_a_failing_async_event_is_retried_twice_on_awss_delays_then_sent_to_the_dlq(own_aws):
    sqs = own_aws.client("sqs")
    dlq = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    name = create_function(
        own_aws, package({"app.py": ALWAYS_FAILS}), DeadLetterConfig={"TargetArn": dlq_arn}
    )
    event = {"id": "event-1"}

    assert invoke(own_aws, name, event, InvocationType="Event")["StatusCode"] == 202

    def attempts(count: int):
        def check():
            found = starts(own_aws, name)
            return found if len(found) >= count else None

        return check

    def dlq_messages():
        return sqs.receive_message(
            QueueUrl=dlq, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])

    assert len(wait_for("the first attempt", attempts(1), timeout_s=30)) == 1
    assert dlq_messages() == []  # the first retry waits about a minute
    own_aws.advance_clock(61)
    assert len(wait_for("the second attempt", attempts(2), timeout_s=30)) == 2
    assert dlq_messages() == []  # the second retry waits about two minutes more
    own_aws.advance_clock(121)
    found = wait_for("the third attempt", attempts(3), timeout_s=30)
    (message,) = wait_for("the event in the dead-letter queue", dlq_messages, timeout_s=30)

    assert len({line.split()[2] for line in found}) == 1  # one request ID across the attempts
    request_id = found[0].split()[2]
    assert json.loads(message["Body"]) == event
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {
        "RequestID": request_id,
        "ErrorCode": "200",
        "ErrorMessage": "cannot process event-1",
    }
    assert message["MessageAttributes"]["ErrorCode"]["DataType"] == "Number"
    assert len(starts(own_aws, name)) == 3

"""The runtime's EventBridge, through the AWS APIs and the runtime's HTTP routes only: schedules
fire by the runtime's clock, events (PutEvents, S3's EventBridge notifications, SageMaker's model
package changes) reach the targets of the rules they match, shaped as the targets ask, and
AWS/Events metrics count it.

An own emulator: the tests advance its clock. The runtime's Lambda, alarms, scaling and Step
Functions services are off in it: not under test here, they only slow its start and stop.
"""

from __future__ import annotations

import io
import json
import urllib.error
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.helpers.aws import fargate_job_queue, unique
from tests.helpers.emulator import Emulator, own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
JOB_STATES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
OTHERS_OFF = {"LOCALAWS_RUNTIME_OFF": "lambda,alarms,scaling,stepfunctions"}


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with own_emulator(tmp_path_factory.mktemp("events"), env=OTHERS_OFF) as emulator:
        yield emulator


def queue(emu: Emulator) -> tuple[str, str]:
    sqs = emu.client("sqs")
    url = sqs.create_queue(QueueName=unique("events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def receive(emu: Emulator, url: str, wait_s: int = 1) -> list[str]:
    messages = (
        emu.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s)
        .get("Messages", [])
    )
    return [m["Body"] for m in messages]


def one_message(emu: Emulator, url: str, what: str) -> str:
    bodies = wait_for(what, lambda: receive(emu, url), timeout_s=30, poll_s=0)
    assert len(bodies) == 1, bodies
    return bodies[0]


def clock_now(emu: Emulator) -> datetime:
    return datetime.fromisoformat(emu.advance_clock(0)["now"])


def rules(emu: Emulator) -> dict[str, dict]:
    return {r["name"]: r for r in emu.localaws("GET", "/localaws/events/rules")["rules"]}


def test_a_schedule_the_runtime_cannot_run_is_reported_with_the_rule(emu):
    name = unique("lw")
    emu.client("events").put_rule(Name=name, ScheduleExpression="cron(0 0 LW * ? *)")
    rule = rules(emu)[name]
    assert rule["next"] is None
    assert "LW" in rule["schedule_error"]


def test_put_events_reaches_the_rules_whose_pattern_matches_and_no_other(emu):
    url, arn = queue(emu)
    events = emu.client("events")
    name, source = unique("orders"), unique("my.shop")
    events.put_rule(
        Name=name, EventPattern=json.dumps({"source": [source], "detail": {"kind": ["order"]}})
    )
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    answer = events.put_events(
        Entries=[
            {"Source": source, "DetailType": "Order Placed", "Detail": '{"kind": "order", "n": 7}'},
            {"Source": source, "DetailType": "Order Placed", "Detail": '{"kind": "refund"}'},
            {"Source": "other.app", "DetailType": "Order Placed", "Detail": '{"kind": "order"}'},
        ]
    )
    assert answer["FailedEntryCount"] == 0
    event = json.loads(one_message(emu, url, "the matching event"))
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["source"] == source and event["detail-type"] == "Order Placed"
    assert event["detail"] == {"kind": "order", "n": 7}
    assert abs(datetime.fromisoformat(event["time"]) - clock_now(emu)) < timedelta(minutes=1)
    assert receive(emu, url, wait_s=1) == [], "a non-matching event was delivered"


def test_an_input_transformer_shapes_what_the_target_gets(emu):
    url, arn = queue(emu)
    events = emu.client("events")
    name, source = unique("shaped"), unique("my.app")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": "queue",
                "Arn": arn,
                "InputTransformer": {
                    "InputPathsMap": {"key": "$.detail.key", "size": "$.detail.size"},
                    "InputTemplate": '{"file": <key>, "bytes": <size>, '
                    '"says": "<key> has <size> bytes", "rule": "<aws.events.rule-name>"}',
                },
            }
        ],
    )
    events.put_events(
        Entries=[{"Source": source, "DetailType": "x", "Detail": '{"key": "a.csv", "size": 12}'}]
    )
    assert json.loads(one_message(emu, url, "the transformed input")) == {
        "file": "a.csv",
        "bytes": 12,
        "says": "a.csv has 12 bytes",
        "rule": name,
    }


def test_a_batch_target_fired_through_the_route_submits_its_job(emu):
    job_queue, definition = fargate_job_queue(emu, ["echo", "monitor"])
    events = emu.client("events")
    name, job_name = unique("monitor-schedule"), unique("monitor")
    rule_arn = events.put_rule(Name=name, ScheduleExpression="rate(1 hour)")["RuleArn"]
    events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": "monitor-job",
                "Arn": job_queue,
                "BatchParameters": {"JobDefinition": definition, "JobName": job_name},
            }
        ],
    )
    fired = emu.localaws("POST", f"/localaws/events/rules/{name}/fire")
    assert fired["rule"] == rule_arn
    (target,) = fired["targets"]
    assert (target["id"], target["arn"]) == ("monitor-job", job_queue)
    assert target["result"]["jobName"] == job_name
    batch = emu.client("batch")
    listed = {
        job["jobId"]: job["jobName"]
        for status in JOB_STATES
        for job in batch.list_jobs(jobQueue=job_queue, jobStatus=status)["jobSummaryList"]
    }
    assert listed[target["result"]["jobId"]] == job_name

    with pytest.raises(urllib.error.HTTPError) as missing:
        emu.localaws("POST", "/localaws/events/rules/no-such-rule/fire")
    assert missing.value.code == 404
    assert "no-such-rule" in json.loads(missing.value.read())["message"]


def test_a_pattern_rule_fires_through_the_route_with_the_event_given(emu):
    url, arn = queue(emu)
    events = emu.client("events")
    name = unique("pattern")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["aws.batch"]}))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn, "InputPath": "$.detail"}])
    with pytest.raises(urllib.error.HTTPError) as no_event:
        emu.localaws("POST", f"/localaws/events/rules/{name}/fire")
    assert no_event.value.code == 400
    fired = emu.localaws(
        "POST",
        f"/localaws/events/rules/{name}/fire",
        {"source": "aws.batch", "detail-type": "Batch Job State Change", "detail": {"a": 1}},
    )
    assert fired["targets"][0]["result"]["MessageId"]
    assert json.loads(one_message(emu, url, "the fired event's detail")) == {"a": 1}


def test_every_kind_of_target_gets_the_event(emu):
    url, queue_arn = queue(emu)
    events, logs, sns = emu.client("events"), emu.client("logs"), emu.client("sns")
    group = unique("/aws/events/test")
    logs.create_log_group(logGroupName=group)
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    role = emu.client("iam").create_role(
        RoleName=unique("events"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    function = emu.client("lambda").create_function(
        FunctionName=unique("handler"),
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    machine = emu.client("stepfunctions").create_state_machine(
        name=unique("machine"),
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=role,
    )["stateMachineArn"]
    bus = unique("bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    forwarded_url, forwarded_arn = queue(emu)
    events.put_rule(Name="on-bus", EventBusName=bus, EventPattern='{"source": ["my.app"]}')
    events.put_targets(Rule="on-bus", EventBusName=bus, Targets=[{"Id": "q", "Arn": forwarded_arn}])
    name = unique("fanout")
    events.put_rule(Name=name, EventPattern='{"source": ["my.app"]}')
    events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "logs", "Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*"},
            {"Id": "sns", "Arn": topic, "InputPath": "$.detail"},
            {"Id": "states", "Arn": machine, "Input": '{"fixed": true}'},
            {"Id": "bus", "Arn": bus_arn},
            {"Id": "lambda", "Arn": function},
            {"Id": "unsupported", "Arn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"},
        ],
    )
    fired = emu.localaws(
        "POST",
        f"/localaws/events/rules/{name}/fire",
        {"source": "my.app", "detail-type": "x", "detail": {"n": 1}},
    )
    results = {t["id"]: t["result"] for t in fired["targets"]}
    stream = results["logs"]["logStream"]
    logged = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    assert json.loads(logged[0]["message"])["detail"] == {"n": 1}
    assert json.loads(one_message(emu, url, "the SNS topic's message")) == {"n": 1}
    execution = emu.client("stepfunctions").describe_execution(
        executionArn=results["states"]["executionArn"]
    )
    assert json.loads(execution["input"]) == {"fixed": True}
    assert results["bus"]["EventId"]
    forwarded = json.loads(one_message(emu, forwarded_url, "the event on the other bus"))
    assert forwarded["detail"] == {"n": 1}
    assert results["lambda"] == {"StatusCode": 202}  # an asynchronous Invoke
    assert "error" in results["unsupported"]


def test_s3_eventbridge_notifications_reach_a_rule_on_object_created(emu):
    url, arn = queue(emu)
    s3, events = emu.client("s3"), emu.client("events")
    bucket = unique("notified")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    name = unique("uploads")
    events.put_rule(
        Name=name,
        EventPattern=json.dumps(
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [bucket]}, "object": {"key": [{"prefix": "in/"}]}},
            }
        ),
    )
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    s3.put_object(Bucket=bucket, Key="out/ignored.csv", Body=b"x")
    s3.put_object(Bucket=bucket, Key="in/data.csv", Body=b"a,b\n1,2\n")
    event = json.loads(one_message(emu, url, "the Object Created event"))
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["detail"]["object"]["key"] == "in/data.csv"
    assert set(event["detail"]["object"]) >= {"size", "etag"}  # AWS's spelling (moto's: eTag)
    assert "eTag" not in event["detail"]["object"]
    assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
    assert event["id"] != "17793124-05d4-b198-2fde-7ededc63b103"  # not moto's canned id
    assert abs(datetime.fromisoformat(event["time"]) - clock_now(emu)) < timedelta(minutes=1)
    assert receive(emu, url, wait_s=1) == []


def test_a_model_package_approval_publishes_sagemakers_state_change_event(emu):
    url, arn = queue(emu)
    sagemaker, events = emu.client("sagemaker"), emu.client("events")
    group = unique("models")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    name = unique("approvals")
    events.put_rule(
        Name=name,
        EventPattern=json.dumps(
            {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelPackageGroupName": [group]},
            }
        ),
    )
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    package = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgb:1", "ModelDataUrl": "s3://b/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    created = json.loads(one_message(emu, url, "the event of the new model package"))
    assert created["resources"] == [package]
    assert created["detail"]["ModelApprovalStatus"] == "PendingManualApproval"

    sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    approved = json.loads(one_message(emu, url, "the event of the approval"))
    assert approved["source"] == "aws.sagemaker"
    detail = approved["detail"]
    assert detail["ModelApprovalStatus"] == "Approved"
    assert (detail["ModelPackageArn"], detail["ModelPackageGroupName"]) == (package, group)
    assert detail["ModelPackageVersion"] == 1
    assert detail["ModelPackageStatus"] == "Completed"
    assert detail["InferenceSpecification"]["Containers"][0]["Image"] == "xgb:1"
    datetime.strptime(detail["CreationTime"], "%Y-%m-%dT%H:%M:%SZ")  # as AWS writes it

    sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    assert receive(emu, url, wait_s=1) == [], "an update that changed no status was published"


def test_triggered_rules_and_failed_invocations_are_aws_events_metrics(emu):
    events, cloudwatch = emu.client("events"), emu.client("cloudwatch")
    name, source = unique("counted"), unique("my.app")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))
    missing_queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{unique('gone')}"
    events.put_targets(Rule=name, Targets=[{"Id": "gone", "Arn": missing_queue}])
    events.put_events(Entries=[{"Source": source, "DetailType": "x", "Detail": "{}"}] * 2)

    now = clock_now(emu)

    def total(metric: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/Events",
            MetricName=metric,
            Dimensions=[{"Name": "RuleName", "Value": name}],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(hours=1),
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(p["Sum"] for p in points)

    wait_for("two TriggeredRules", lambda: total("TriggeredRules") == 2, timeout_s=30)
    assert total("Invocations") == 2
    wait_for("two FailedInvocations", lambda: total("FailedInvocations") == 2, timeout_s=30)


# The tests that advance the clock by hours come last: moto's CloudWatch Logs refuses events
# more than 2 hours ahead of the wall clock, and a logs target writes at the runtime's clock.


def test_a_rate_rule_fires_one_period_after_it_was_created_and_not_before(emu):
    url, arn = queue(emu)
    events = emu.client("events")
    name = unique("hourly")
    created = clock_now(emu)
    rule_arn = events.put_rule(Name=name, ScheduleExpression="rate(1 hour)")["RuleArn"]
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    next_run = datetime.fromisoformat(rules(emu)[name]["next"])
    assert timedelta(minutes=59) < next_run - created < timedelta(minutes=61)

    emu.advance_clock(50 * 60)
    assert receive(emu, url, wait_s=1) == [], "fired 50 minutes into a rate(1 hour)"
    emu.advance_clock(11 * 60)
    event = json.loads(one_message(emu, url, "the scheduled event an hour after creation"))
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [rule_arn]
    assert event["detail"] == {}
    assert (event["account"], event["region"], event["version"]) == (ACCOUNT, "us-east-1", "0")
    assert datetime.fromisoformat(event["time"]) == next_run  # the scheduled time
    assert datetime.fromisoformat(rules(emu)[name]["next"]) == next_run + timedelta(hours=1)

    events.disable_rule(Name=name)
    emu.advance_clock(3 * 3600)
    assert receive(emu, url, wait_s=1) == [], "a DISABLED rule fired"
    assert rules(emu)[name]["next"] is None
    enabled = clock_now(emu)
    events.enable_rule(Name=name)  # a rate counts again from when the rule is enabled
    next_run = datetime.fromisoformat(rules(emu)[name]["next"])
    assert timedelta(minutes=59) < next_run - enabled < timedelta(minutes=61)


def test_a_cron_rule_fires_at_its_next_time(emu):
    url, arn = queue(emu)
    events = emu.client("events")
    # A minute past a half hour, so that the next half hour is the rule's next time.
    now = clock_now(emu)
    half_hour = now.replace(minute=30 if now.minute >= 30 else 0, second=0, microsecond=0)
    emu.advance_clock((half_hour + timedelta(minutes=31) - now).total_seconds())
    name = unique("cron")
    # every 30 minutes, any day: AWS's `?` and day-of-week names
    events.put_rule(Name=name, ScheduleExpression="cron(0/30 * ? * SUN-SAT *)")
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
    next_run = datetime.fromisoformat(rules(emu)[name]["next"])
    assert next_run == half_hour + timedelta(hours=1)
    now = clock_now(emu)

    emu.advance_clock((next_run - now).total_seconds() - 5)
    assert receive(emu, url, wait_s=1) == [], "fired before its time"
    emu.advance_clock(10)
    event = json.loads(one_message(emu, url, "the cron rule's event"))
    assert datetime.fromisoformat(event["time"]) == next_run
    assert datetime.fromisoformat(rules(emu)[name]["next"]) == next_run + timedelta(minutes=30)

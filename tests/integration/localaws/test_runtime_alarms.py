"""CloudWatch alarms evaluated by the embedded AWS, their SNS notifications and the SQS metrics,
through boto3 and the runtime's HTTP routes only.

An own emulator (its clock is advanced) evaluates every second, with EventBridge on for the
alarms' state change events; every metric datapoint is put at the runtime clock's time, since
alarm periods follow that clock.
"""

from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.helpers.aws import unique
from tests.helpers.emulator import Emulator, own_emulator

pytestmark = pytest.mark.integration

REGION = "US East (N. Virginia)"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory):
    with own_emulator(
        tmp_path_factory.mktemp("alarms"),
        env={
            "LOCALAWS_ALARM_INTERVAL_S": "1",
            "LOCALAWS_RUNTIME_OFF": "lambda,batch,scaling,stepfunctions",
        },
    ) as emulator:
        yield emulator


def clock_now(emu: Emulator) -> datetime:
    return datetime.fromisoformat(emu.localaws("GET", "/localaws/runtime")["clock"]["now"])


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {timeout:.0f} s (last seen: {last!r})")


def alarm_of(cw, name: str) -> dict:
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def wait_state(cw, name: str, state: str) -> dict:
    return wait_for(
        f"alarm {name} in {state}",
        lambda: (a := alarm_of(cw, name))["StateValue"] == state and a,
    )


def subscribed_queue(emu: Emulator, topic: str, raw: bool = False) -> str:
    sqs = emu.client("sqs")
    url = sqs.create_queue(QueueName=unique("sub"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    emu.client("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={"RawMessageDelivery": "true" if raw else "false"},
    )
    return url


def receive(emu: Emulator, url: str) -> str:
    """The next message body on the queue (deleted)."""
    sqs = emu.client("sqs")

    def one() -> str | None:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            return None
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        return messages[0]["Body"]

    return wait_for(f"a message on {url}", one)


def put(emu: Emulator, namespace: str, name: str, value: float, **datum: Any) -> None:
    datum.setdefault("Timestamp", clock_now(emu))
    emu.client("cloudwatch").put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": name, "Value": value, **datum}]
    )


def history(cw, name: str, kind: str = "StateUpdate") -> list[dict]:
    return cw.describe_alarm_history(AlarmName=name, HistoryItemType=kind)["AlarmHistoryItems"]


def test_a_breaching_metric_alarms_notifies_the_topic_and_recovers(emu):
    cw, sns = emu.client("cloudwatch"), emu.client("sns")
    topic = sns.create_topic(Name=unique("alarms"))["TopicArn"]
    envelopes, raw = subscribed_queue(emu, topic), subscribed_queue(emu, topic, raw=True)
    name, namespace = unique("latency-high"), unique("App")
    dimensions = [{"Name": "Service", "Value": "api"}]
    alarm = {
        "AlarmName": name,
        "AlarmDescription": "API latency above 10 ms",
        "Namespace": namespace,
        "MetricName": "Latency",
        "Dimensions": dimensions,
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": [topic],
        "OKActions": [topic],
    }
    cw.put_metric_alarm(**alarm)
    assert alarm_of(cw, name)["StateValue"] == "INSUFFICIENT_DATA"  # as a new alarm on AWS

    put(emu, namespace, "Latency", 1000.0, Dimensions=[{"Name": "Service", "Value": "web"}])
    put(emu, namespace, "Latency", 50.0, Dimensions=dimensions)
    described = wait_state(cw, name, "ALARM")
    assert "[50.0 (" in described["StateReason"]  # the other dimension's 1000.0 is not its metric
    assert "was greater than the threshold (10.0)" in described["StateReason"]

    (item,) = history(cw, name)
    assert item["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    data = json.loads(item["HistoryData"])
    assert data["oldState"]["stateValue"] == "INSUFFICIENT_DATA"
    assert data["newState"]["stateValue"] == "ALARM"
    assert data["newState"]["stateReasonData"]["recentDatapoints"] == [50.0]

    envelope = json.loads(receive(emu, envelopes))
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert envelope["Subject"] == f'ALARM: "{name}" in {REGION}'
    message = json.loads(envelope["Message"])
    assert message["AlarmName"] == name
    assert message["AlarmDescription"] == "API latency above 10 ms"
    assert message["AWSAccountId"] == "123456789012"
    assert message["NewStateValue"] == "ALARM"
    assert message["OldStateValue"] == "INSUFFICIENT_DATA"
    assert message["NewStateReason"] == described["StateReason"]
    assert message["Region"] == REGION
    assert message["AlarmArn"] == described["AlarmArn"]
    assert datetime.strptime(message["StateChangeTime"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert message["Trigger"] == {
        "MetricName": "Latency",
        "Namespace": namespace,
        "StatisticType": "Statistic",
        "Statistic": "MAXIMUM",
        "Unit": None,
        "Dimensions": [{"value": "api", "name": "Service"}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 10.0,
        "TreatMissingData": "missing",
        "EvaluateLowSampleCountPercentile": "",
    }
    assert json.loads(receive(emu, raw)) == message  # raw delivery: the bare message
    (action,) = wait_for("the action in the history", lambda: history(cw, name, "Action"))
    assert action["HistorySummary"] == f"Successfully executed action {topic}"

    # Updating an alarm keeps its state, as on AWS (moto would start it over).
    cw.put_metric_alarm(**{**alarm, "AlarmDescription": "API latency above 10 ms (p100)"})
    updated = alarm_of(cw, name)
    assert (updated["StateValue"], updated["AlarmDescription"]) == (
        "ALARM",
        alarm["AlarmDescription"] + " (p100)",
    )

    # The recovering datapoint is put two minutes ahead before the clock gets there: put after
    # the advance, an evaluation in between would rightly find no data and go to
    # INSUFFICIENT_DATA first (TreatMissingData=missing).
    put(
        emu,
        namespace,
        "Latency",
        1.0,
        Dimensions=dimensions,
        Timestamp=clock_now(emu) + timedelta(seconds=120),
    )
    emu.advance_clock(120)
    wait_state(cw, name, "OK")
    message = json.loads(json.loads(receive(emu, envelopes))["Message"])
    assert (message["OldStateValue"], message["NewStateValue"]) == ("ALARM", "OK")
    assert "was not greater than the threshold (10.0)" in message["NewStateReason"]

    newest, oldest = history(cw, name)
    assert newest["HistorySummary"] == "Alarm updated from ALARM to OK"
    page = cw.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", MaxRecords=1, ScanBy="TimestampAscending"
    )
    assert page["AlarmHistoryItems"] == [oldest] and page["NextToken"]


def test_treat_missing_data_as_documented(emu):
    cw = emu.client("cloudwatch")
    namespace = unique("Sparse")
    names = {
        mode: unique(f"missing-{mode}")
        for mode in ("missing", "ignore", "breaching", "notBreaching")
    }
    for mode, name in names.items():
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace=namespace,
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData=mode,
        )
    # No datapoint at all: breaching is ALARM, notBreaching OK, missing INSUFFICIENT_DATA,
    # ignore keeps the state it has.
    breaching = wait_state(cw, names["breaching"], "ALARM")
    assert breaching["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [Breaching]."
    )
    wait_state(cw, names["notBreaching"], "OK")
    assert alarm_of(cw, names["missing"])["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm_of(cw, names["ignore"])["StateValue"] == "INSUFFICIENT_DATA"

    put(emu, namespace, "Errors", 0.0)  # a real, non-breaching datapoint decides for all
    for name in names.values():
        wait_state(cw, name, "OK")

    emu.advance_clock(600)  # the datapoint leaves the evaluation range
    wait_state(cw, names["breaching"], "ALARM")
    wait_state(cw, names["missing"], "INSUFFICIENT_DATA")
    assert alarm_of(cw, names["notBreaching"])["StateValue"] == "OK"
    assert alarm_of(cw, names["ignore"])["StateValue"] == "OK"


def test_datapoints_to_alarm_m_of_n(emu):
    cw = emu.client("cloudwatch")
    name, namespace = unique("two-of-three"), unique("Jobs")
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace=namespace,
        MetricName="Failures",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=5.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    now = clock_now(emu)
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Failures", "Value": 9.0, "Timestamp": now - timedelta(seconds=120)},
            {"MetricName": "Failures", "Value": 1.0, "Timestamp": now - timedelta(seconds=60)},
        ],
    )
    one_of_three = wait_state(cw, name, "OK")  # one breaching datapoint is not two
    assert (
        "(minimum 2 datapoints for INSUFFICIENT_DATA -> OK transition)"
        in (one_of_three["StateReason"])
    )
    put(emu, namespace, "Failures", 7.0)
    two_of_three = wait_state(cw, name, "ALARM")
    assert two_of_three["StateReason"].startswith(
        "Threshold Crossed: 2 out of the last 3 datapoints [7.0 ("
    )
    assert "(minimum 2 datapoints for OK -> ALARM transition)" in two_of_three["StateReason"]


def test_an_extended_statistic_alarm(emu):
    cw = emu.client("cloudwatch")
    namespace = unique("Model")
    above, below = unique("p90-above-89"), unique("p90-above-90")
    for name, threshold in ((above, 89.0), (below, 90.0)):
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace=namespace,
            MetricName="ModelLatency",
            ExtendedStatistic="p90",
            Period=60,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold",
        )
    cw.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "ModelLatency",
                "Values": [float(v) for v in range(1, 101)],
                "Timestamp": clock_now(emu),
            }
        ],
    )
    wait_state(cw, above, "ALARM")
    assert "[90.0 (" in wait_state(cw, below, "OK")["StateReason"]


def test_set_alarm_state_acts_as_on_aws(emu):
    cw, sns = emu.client("cloudwatch"), emu.client("sns")
    topic = sns.create_topic(Name=unique("tests"))["TopicArn"]
    url = subscribed_queue(emu, topic, raw=True)
    name = unique("set-by-hand")
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace=unique("None"),
        MetricName="Nothing",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",  # no data: the evaluation keeps what SetAlarmState set
        AlarmActions=[topic],
        OKActions=[topic],
    )
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing the pager")
    message = json.loads(receive(emu, url))
    assert (message["NewStateValue"], message["NewStateReason"]) == ("ALARM", "testing the pager")

    cw.disable_alarm_actions(AlarmNames=[name])
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="quiet")
    cw.enable_alarm_actions(AlarmNames=[name])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="loud")
    message = json.loads(receive(emu, url))  # actions are sent in order: no OK before it
    assert (message["OldStateValue"], message["NewStateReason"]) == ("OK", "loud")
    assert len(history(cw, name)) == 3
    assert alarm_of(cw, name)["StateValue"] == "ALARM"


def outbox(emu: Emulator, **query: str) -> list[dict]:
    path = "/localaws/sns/outbox" + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )
    return emu.localaws("GET", path)["messages"]


def test_email_sms_and_https_deliveries_are_recorded_in_the_outbox(emu):
    sns = emu.client("sns")
    topic = sns.create_topic(Name=unique("people"))["TopicArn"]
    subscriptions = {
        ("email", "ops@example.com"): None,
        ("email", "alarms-only@example.com"): {"FilterPolicy": json.dumps({"kind": ["alarm"]})},
        ("email-json", "robot@example.com"): None,
        ("sms", "+15555550100"): None,
        ("https", "https://hooks.example.com/sns"): None,
    }
    for (protocol, endpoint), attributes in subscriptions.items():
        sns.subscribe(
            TopicArn=topic,
            Protocol=protocol,
            Endpoint=endpoint,
            **({"Attributes": attributes} if attributes else {}),
        )
    sns.publish(TopicArn=topic, Subject="Deploy", Message="deployed v7")
    sns.publish(
        TopicArn=topic,
        Subject="Pager",
        Message=json.dumps({"default": "page (default)", "email": "page (email)"}),
        MessageStructure="json",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "alarm"}},
    )

    records = outbox(emu, topic=topic)
    assert [(r["protocol"], r["endpoint"], r["subject"], r["message"]) for r in records] == [
        ("email", "ops@example.com", "Deploy", "deployed v7"),
        ("email-json", "robot@example.com", "Deploy", "deployed v7"),
        ("sms", "+15555550100", "Deploy", "deployed v7"),
        ("https", "https://hooks.example.com/sns", "Deploy", "deployed v7"),
        ("email", "ops@example.com", "Pager", "page (email)"),
        ("email", "alarms-only@example.com", "Pager", "page (email)"),  # its filter matches
        ("email-json", "robot@example.com", "Pager", "page (default)"),
        ("sms", "+15555550100", "Pager", "page (default)"),
        ("https", "https://hooks.example.com/sns", "Pager", "page (default)"),
    ]
    assert records[5]["message_attributes"] == {"kind": {"Type": "String", "Value": "alarm"}}
    envelope = json.loads(records[3]["body"])  # what the https endpoint would have been posted
    assert (envelope["Type"], envelope["TopicArn"], envelope["Message"]) == (
        "Notification",
        topic,
        "deployed v7",
    )
    assert "body" not in records[0]
    assert [r["endpoint"] for r in outbox(emu, topic=topic, protocol="email")] == [
        "ops@example.com",
        "ops@example.com",
        "alarms-only@example.com",
    ]

    with pytest.raises(urllib.error.HTTPError) as error:
        outbox(emu, protocol="sqs")
    assert error.value.code == 400
    assert "'sqs' has no outbox" in json.loads(error.value.read())["message"]

    assert emu.localaws("DELETE", "/localaws/sns/outbox")["deleted"] >= len(records)
    assert outbox(emu, topic=topic) == []


def test_sqs_queue_metrics_and_the_platform_dlq_alarm(emu):
    cw, sqs = emu.client("cloudwatch"), emu.client("sqs")
    prefix = unique("byo")
    queue = f"{prefix}-trigger-dlq"
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    name = f"{prefix}-trigger-dlq-not-empty"  # as terraform/modules/observability declares it
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": queue}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    wait_state(cw, name, "OK")
    for n in range(2):
        sqs.send_message(QueueUrl=url, MessageBody=f"failed event {n}")
    emu.advance_clock(60)  # SQS publishes its metrics once a minute
    wait_state(cw, name, "ALARM")

    def statistic(metric: str, stat: str) -> float | None:
        now = clock_now(emu)
        points = cw.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName=metric,
            Dimensions=[{"Name": "QueueName", "Value": queue}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=1),
            Period=60,
            Statistics=[stat],
        )["Datapoints"]
        return max((p[stat] for p in points), default=None)

    assert statistic("ApproximateNumberOfMessagesVisible", "Maximum") == 2.0
    assert statistic("NumberOfMessagesSent", "Sum") == 2.0
    assert statistic("ApproximateAgeOfOldestMessage", "Maximum") >= 60.0

    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    emu.advance_clock(60)
    wait_state(cw, name, "OK")


def test_a_state_change_is_an_eventbridge_event(emu):
    events, sqs, cw = emu.client("events"), emu.client("sqs"), emu.client("cloudwatch")
    url = sqs.create_queue(QueueName=unique("alarm-events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    name = unique("evented")
    rule = unique("alarm-changes")
    pattern = {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [name], "state": {"value": ["ALARM"]}},
    }
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn["QueueArn"]}])
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace=unique("Evented"),
        MetricName="Errors",
        Dimensions=[{"Name": "Service", "Value": "api"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="breaching",
    )
    event = json.loads(receive(emu, url))
    assert (event["source"], event["detail-type"]) == (
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
    )
    assert event["resources"] == [alarm_of(cw, name)["AlarmArn"]]
    detail = event["detail"]
    assert (detail["previousState"]["value"], detail["state"]["value"]) == (
        "INSUFFICIENT_DATA",
        "ALARM",
    )
    assert detail["state"]["reason"] == alarm_of(cw, name)["StateReason"]
    assert detail["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] == {
        "Service": "api"
    }

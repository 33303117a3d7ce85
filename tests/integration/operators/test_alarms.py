"""`byo alarms list / history / outbox` against the embedded AWS."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from click.testing import CliRunner
from rich.console import Console

from operators.alarms import ON_AWS
from operators.cli import cli
from operators.cli.options import guarded

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch):
    """Tables as wide as their rows, so that what a test looks for is on one line."""
    monkeypatch.setattr("operators.cli.alarms.console", Console(width=250))


def byo(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def byo_failing(capsys, *args: str) -> tuple[int, str]:
    """Run byo as its entry point does (expected failures: one line on stderr, an exit code)."""
    code = guarded(cli.main, list(args), standalone_mode=False)
    return code, " ".join(capsys.readouterr().err.split())


def byo_json(*args: str):
    result = byo(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def wait_for(what: str, probe, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {timeout:.0f} s")


@pytest.fixture(scope="module")
def paged_alarm(emulator):
    """An alarm set to ALARM by hand (its metric has no data, and it ignores missing data, so
    evaluation leaves it there), whose topic has an email subscriber."""
    suffix = uuid.uuid4().hex[:8]
    topic = emulator.client("sns").create_topic(Name=f"pager-{suffix}")["TopicArn"]
    emulator.client("sns").subscribe(
        TopicArn=topic, Protocol="email", Endpoint="oncall@example.com"
    )
    name = f"cli-dlq-not-empty-{suffix}"
    cw = emulator.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": f"dlq-{suffix}"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
        AlarmActions=[topic],
    )
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="paging on-call")
    return {"name": name, "topic": topic, "queue": f"dlq-{suffix}"}


def test_list_shows_the_alarm_its_state_and_metric(paged_alarm):
    listed = byo_json("alarms", "list", "--state", "alarm")
    (alarm,) = [a for a in listed if a["name"] == paged_alarm["name"]]
    assert alarm["state"] == "ALARM" and alarm["reason"] == "paging on-call"
    assert alarm["metric"] == (
        f"AWS/SQS ApproximateNumberOfMessagesVisible QueueName={paged_alarm['queue']}"
    )
    assert alarm["condition"] == "Maximum > 0 for 1 of 1 periods of 60 s"
    assert all(a["state"] == "ALARM" for a in listed)
    result = byo("alarms", "list", "--state", "ALARM")
    assert result.exit_code == 0 and paged_alarm["name"] in result.output


def test_history_shows_the_state_change_and_its_notification(paged_alarm, capsys):
    items = wait_for(
        "the alarm's action in its history",
        lambda: len(found := byo_json("alarms", "history", paged_alarm["name"])) == 2 and found,
    )
    action, update = items  # newest first
    assert update["type"] == "StateUpdate"
    assert update["summary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert update["data"]["newState"]["stateReason"] == "paging on-call"
    assert (action["type"], action["data"]["actionState"]) == ("Action", "Succeeded")
    result = byo("alarms", "history", paged_alarm["name"], "--type", "StateUpdate")
    assert (
        result.exit_code == 0 and "Alarm updated from INSUFFICIENT_DATA to ALARM" in result.output
    )
    code, error = byo_failing(capsys, "alarms", "history", "no-such-alarm")
    assert (code, error) == (
        2,
        "error: no alarm named 'no-such-alarm' (`byo alarms list` shows them)",
    )


def test_outbox_shows_the_email_notification(paged_alarm, capsys):
    (record,) = wait_for(
        "the email in the outbox",
        lambda: byo_json("alarms", "outbox", "--topic", paged_alarm["topic"]),
    )
    assert (record["protocol"], record["endpoint"]) == ("email", "oncall@example.com")
    assert record["subject"] == f'ALARM: "{paged_alarm["name"]}" in US East (N. Virginia)'
    assert json.loads(record["message"])["NewStateReason"] == "paging on-call"
    result = byo("alarms", "outbox", "--topic", paged_alarm["topic"])
    assert result.exit_code == 0 and "INSUFFICIENT_DATA -> ALARM" in result.output
    code, error = byo_failing(capsys, "alarms", "outbox", "--protocol", "sqs")
    assert code == 2 and "protocol 'sqs' has no outbox" in error


def test_outbox_on_aws_says_where_the_notifications_went(monkeypatch, capsys):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SNS"):
        monkeypatch.delenv(name, raising=False)
    assert byo_failing(capsys, "alarms", "outbox") == (1, f"error: {ON_AWS}")

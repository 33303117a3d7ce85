"""`operators.events.fire_rule` on AWS, where EventBridge has no "run now": the Batch targets
are submitted through Batch's own API, any other target is an error for that target alone."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from operators.aws import Clients
from operators.errors import ConfigError
from operators.events import embedded_events_url, fire_rule

QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/byo-batch"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/byo-monitor-schedule"


@pytest.fixture
def aws(monkeypatch) -> tuple[Clients, Stubber, Stubber]:
    """Clients for AWS itself (no endpoint override), with stubbed EventBridge and Batch."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EVENTS", "AWS_ENDPOINT_URL_BATCH"):
        monkeypatch.delenv(name, raising=False)
    clients = Clients(boto3.session.Session(region_name="us-east-1"))
    events, batch = Stubber(clients.client("events")), Stubber(clients.client("batch"))
    events.activate()
    batch.activate()
    return clients, events, batch


def test_on_aws_the_events_endpoint_is_not_the_embedded_one(aws):
    clients, _, _ = aws
    assert embedded_events_url(clients) is None  # decided by the host: no request is made


def test_on_aws_a_batch_target_is_submitted_with_its_batch_parameters(aws):
    clients, events, batch = aws
    events.add_response(
        "describe_rule",
        {"Name": "byo-monitor-schedule", "Arn": RULE_ARN, "ScheduleExpression": "rate(1 hour)"},
        {"Name": "byo-monitor-schedule", "EventBusName": "default"},
    )
    events.add_response(
        "list_targets_by_rule",
        {
            "Targets": [
                {
                    "Id": "monitor-job",
                    "Arn": QUEUE,
                    "BatchParameters": {
                        "JobDefinition": "byo-monitor",
                        "JobName": "byo-monitor",
                        "RetryStrategy": {"Attempts": 2},
                    },
                    "Input": json.dumps({"Parameters": {"window": "1h"}}),
                },
                {"Id": "topic", "Arn": "arn:aws:sns:us-east-1:123456789012:alarms"},
            ]
        },
        {"Rule": "byo-monitor-schedule", "EventBusName": "default"},
    )
    batch.add_response(
        "submit_job",
        {"jobId": "j-1", "jobName": "byo-monitor", "jobArn": f"{QUEUE}/j-1"},
        {
            "jobName": "byo-monitor",
            "jobQueue": QUEUE,
            "jobDefinition": "byo-monitor",
            "retryStrategy": {"attempts": 2},
            "parameters": {"window": "1h"},
        },
    )
    fired = fire_rule(clients, "byo-monitor-schedule")
    assert (fired["rule"], fired["via"]) == (RULE_ARN, "aws")
    job, topic = fired["targets"]
    assert job == {
        "id": "monitor-job",
        "arn": QUEUE,
        "result": {"jobId": "j-1", "jobName": "byo-monitor", "jobArn": f"{QUEUE}/j-1"},
    }
    assert "only EventBridge can deliver to arn:aws:sns" in topic["result"]["error"]
    events.assert_no_pending_responses()
    batch.assert_no_pending_responses()


def test_on_aws_an_unknown_rule_is_a_usage_error(aws):
    clients, events, _ = aws
    events.add_client_error(
        "describe_rule", "ResourceNotFoundException", "Rule nope does not exist."
    )
    with pytest.raises(ConfigError, match="no rule nope on event bus default"):
        fire_rule(clients, "nope")

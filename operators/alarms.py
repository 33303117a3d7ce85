"""The platform's CloudWatch alarms: their states, their history, the notifications they sent.

Plain functions over boto3 clients (operators.aws.Clients). The notification outbox is the
embedded AWS's alone: it records the email, SMS and HTTP(S) deliveries it does not send, and
`outbox` reads it over HTTP from the endpoint the SNS client uses. On AWS those notifications
went to the subscribed addresses, and `outbox` says so instead of asking AWS.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

from operators.aws import Clients
from operators.errors import ByoError, ConfigError

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
HISTORY_ITEM_TYPES = ("StateUpdate", "Action", "ConfigurationUpdate")
OUTBOX_PATH = "/localaws/sns/outbox"
ON_AWS = (
    "the notification outbox exists only on the embedded AWS; on AWS the notifications went "
    "to the subscribed addresses"
)
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _metric(alarm: dict[str, Any]) -> str:
    """What the alarm watches: "AWS/SQS ApproximateNumberOfMessagesVisible QueueName=dlq"."""
    if "AlarmRule" in alarm:
        return f"rule {alarm['AlarmRule']}"
    if alarm.get("Metrics"):
        returned = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
        if returned and "Expression" in returned[0]:
            return f"metric math {returned[0]['Expression']}"
        alarm = {**alarm, **(returned or alarm["Metrics"])[0]["MetricStat"]["Metric"]}
    dimensions = " ".join(f"{d['Name']}={d['Value']}" for d in alarm.get("Dimensions", []))
    return " ".join(p for p in (alarm.get("Namespace"), alarm.get("MetricName"), dimensions) if p)


def _condition(alarm: dict[str, Any]) -> str | None:
    """When it goes to ALARM: "Maximum > 0 for 1 of 1 periods of 60 s"."""
    if "ComparisonOperator" not in alarm:
        return None
    statistic = alarm.get("ExtendedStatistic") or alarm.get("Statistic") or "value"
    operator = COMPARISONS.get(alarm["ComparisonOperator"], alarm["ComparisonOperator"])
    periods = alarm.get("EvaluationPeriods")
    condition = f"{statistic} {operator} {alarm.get('Threshold', 0):g}"
    if periods:
        condition += f" for {alarm.get('DatapointsToAlarm') or periods} of {periods} periods"
        if alarm.get("Period"):
            condition += f" of {alarm['Period']} s"
    return condition


def list_alarms(clients: Clients, state: str | None = None) -> list[dict[str, Any]]:
    """Every alarm (or those in `state`): name, state, reason, updated, metric, condition."""
    if state is not None and state not in STATES:
        raise ConfigError(f"alarm state {state!r}: expected one of {', '.join(STATES)}")
    pages = clients.client("cloudwatch").get_paginator("describe_alarms")
    alarms = []
    for page in pages.paginate(**({"StateValue": state} if state else {})):
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            alarms.append(
                {
                    "name": alarm["AlarmName"],
                    "state": alarm["StateValue"],
                    "reason": alarm.get("StateReason"),
                    "updated": _when(alarm.get("StateUpdatedTimestamp")),
                    "metric": _metric(alarm),
                    "condition": _condition(alarm),
                    "actions_enabled": alarm.get("ActionsEnabled", True),
                }
            )
    return sorted(alarms, key=lambda a: a["name"])


def alarm_history(
    clients: Clients, name: str, limit: int = 20, kind: str | None = None
) -> list[dict[str, Any]]:
    """The alarm's newest `limit` history items (state changes, actions), newest first; each
    item's data parsed from CloudWatch's JSON."""
    if limit < 1:
        raise ConfigError(f"history limit {limit}: expected at least 1")
    if kind is not None and kind not in HISTORY_ITEM_TYPES:
        raise ConfigError(f"history type {kind!r}: expected one of {', '.join(HISTORY_ITEM_TYPES)}")
    cloudwatch = clients.client("cloudwatch")
    request: dict[str, Any] = {
        "AlarmName": name,
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        "ScanBy": "TimestampDescending",
    }
    if kind:
        request["HistoryItemType"] = kind
    items: list[dict[str, Any]] = []
    while len(items) < limit:
        page = cloudwatch.describe_alarm_history(**request, MaxRecords=min(limit - len(items), 100))
        items.extend(page.get("AlarmHistoryItems", []))
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    if not items and not cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]:
        raise ConfigError(f"no alarm named {name!r} (`byo alarms list` shows them)")
    return [
        {
            "time": _when(item.get("Timestamp")),
            "type": item.get("HistoryItemType"),
            "summary": item.get("HistorySummary"),
            "data": _parsed(item.get("HistoryData")),
        }
        for item in items[:limit]
    ]


def _parsed(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


def outbox(
    clients: Clients, topic: str | None = None, protocol: str | None = None, timeout_s: float = 10
) -> list[dict[str, Any]]:
    """The email, SMS and HTTP(S) deliveries the embedded AWS recorded instead of sending them,
    oldest first (of one topic ARN and one protocol, if given)."""
    endpoint = clients.client("sns").meta.endpoint_url.rstrip("/")
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    if host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        raise ByoError(ON_AWS)
    query = urllib.parse.urlencode(
        {k: v for k, v in (("topic", topic), ("protocol", protocol)) if v}
    )
    url = f"{endpoint}{OUTBOX_PATH}" + (f"?{query}" if query else "")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return json.loads(response.read())["messages"]
    except urllib.error.HTTPError as exc:
        if exc.code == 400:
            body = _parsed(exc.read().decode(errors="replace"))
            raise ConfigError(body["message"] if isinstance(body, dict) else str(exc)) from None
        if exc.code == 404:
            raise ByoError(
                f"{endpoint} keeps no notification outbox: it is not the embedded AWS, or the "
                "runtime's alarms service is off (LOCALAWS_RUNTIME_OFF)"
            ) from None
        raise ByoError(f"reading the outbox at {url} failed: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ByoError(
            f"cannot reach {endpoint} ({exc}): is the emulator running (make emulator-up), or "
            "AWS_ENDPOINT_URL wrong?"
        ) from None


def describe_delivery(record: dict[str, Any]) -> str:
    """One line for a recorded delivery: an alarm notification's alarm and change of state,
    else the message itself."""
    message = record.get("message") or ""
    notification = _parsed(message)
    if isinstance(notification, dict) and {"AlarmName", "NewStateValue"} <= notification.keys():
        return (
            f"{notification['AlarmName']}: {notification.get('OldStateValue')} -> "
            f"{notification['NewStateValue']}"
        )
    return message if len(message) <= 80 else message[:79] + "…"

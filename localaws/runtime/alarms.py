"""CloudWatch metric alarms, evaluated as CloudWatch evaluates them, with their actions.

moto keeps alarms and metric data but never evaluates an alarm. Here a thread does, every
LOCALAWS_ALARM_INTERVAL_S seconds (default 10) of the runtime's clock, for every metric alarm
of the emulator's account and region, following AWS's "Evaluating an alarm" (CloudWatch User
Guide, AlarmThatSendsEmail): the alarm's statistic (or pNN extended statistic) per Period over
an evaluation range a little longer than EvaluationPeriods, DatapointsToAlarm of the last
EvaluationPeriods datapoints ("M out of N"), TreatMissingData and its premature-ALARM rule, all
four comparisons against a threshold. A new state is set as SetAlarmState sets it, and every
state change, whether made here or by SetAlarmState, is handled as CloudWatch handles it: a
StateUpdate in the alarm's history (DescribeAlarmHistory, which moto lacks, answers from it),
the alarm's SNS actions for the new state (AWS's notification JSON), and a "CloudWatch Alarm
State Change" event. As on AWS, a new alarm starts in INSUFFICIENT_DATA and PutMetricAlarm on
an existing alarm keeps its state.

Left out, and left alone: alarms on anomaly-detection bands (the three band comparisons),
metric math (moto's GetMetricData evaluates no expression; an alarm whose Metrics list returns
one plain MetricStat is evaluated), trimmed/winsorized extended statistics, composite alarms,
EvaluateLowSampleCountPercentile=ignore (always evaluated), and actions other than SNS topics
(recorded in the history as not executed). A scaling policy as an action goes to the scaling
service (scaling.py: a step-scaling policy applies its step adjustment).

AWS publishes the SQS metrics the platform's DLQ alarm reads; moto publishes none. So once a
minute (runtime clock) the AWS/SQS metrics of every queue go in with PutMetricData:
ApproximateNumberOfMessagesVisible, -NotVisible, -Delayed, ApproximateAgeOfOldestMessage and
NumberOfMessagesSent (SendMessage and SNS deliveries since the last minute), by QueueName.
"""

from __future__ import annotations

import json
import logging
import math
import operator
import queue
import re
import threading
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from typing import Any

import numpy as np
from botocore.exceptions import BotoCoreError, ClientError
from moto.cloudwatch.exceptions import CloudWatchException, InvalidParameterValue
from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    MetricDatum,
    MetricDatumBase,
    Statistics,
    cloudwatch_backends,
)
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.sqs.models import Queue, SQSBackend, sqs_backends

from localaws.runtime import Context, seconds_setting
from localaws.runtime.hooks import Hooks
from localaws.runtime.sns import SnsDelivery

log = logging.getLogger("localaws.runtime.alarms")

INTERVAL_VAR = "LOCALAWS_ALARM_INTERVAL_S"
DEFAULT_INTERVAL_S = 10.0
QUEUE_METRICS_EVERY_S = 60.0
HISTORY_SIZE = 10_000  # history items kept per account and region
PUT_METRIC_DATA_MAX = 500  # datums per PutMetricData call (AWS allows 1000)

ALARM, OK, INSUFFICIENT_DATA = "ALARM", "OK", "INSUFFICIENT_DATA"
STATE_CHANGE = "CloudWatch Alarm State Change"

# ComparisonOperator -> (does a value breach the threshold, how AWS's state reason says it)
COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
BAND_COMPARISONS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
TREAT_MISSING_DATA = ("missing", "ignore", "breaching", "notBreaching")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)")


class Unsupported(Exception):
    """An alarm this runtime does not evaluate (says why); it keeps the state it has."""


# ---------------------------------------------------------------------------------------------
# Evaluation: a pure function of the datapoints in the evaluation range
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str = "missing"

    def __post_init__(self) -> None:
        if self.comparison in BAND_COMPARISONS:
            raise Unsupported(
                f"ComparisonOperator {self.comparison}: anomaly-detection bands are not evaluated"
            )
        if self.comparison not in COMPARISONS:
            raise Unsupported(f"ComparisonOperator {self.comparison!r} is not one of AWS's")
        if self.treat_missing_data not in TREAT_MISSING_DATA:
            raise Unsupported(f"TreatMissingData {self.treat_missing_data!r} is not one of AWS's")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise Unsupported(
                f"DatapointsToAlarm {self.datapoints_to_alarm} is not between 1 and "
                f"EvaluationPeriods {self.evaluation_periods}"
            )

    @classmethod
    def of_alarm(cls, alarm: Alarm) -> Rule:
        if alarm.threshold is None:  # ThresholdMetricId: the band of an anomaly detector
            raise Unsupported("no Threshold: anomaly-detection bands are not evaluated")
        periods = int(alarm.evaluation_periods)
        return cls(
            comparison=alarm.comparison_operator,
            threshold=float(alarm.threshold),
            evaluation_periods=periods,
            datapoints_to_alarm=int(alarm.datapoints_to_alarm or periods),
            treat_missing_data=alarm.treat_missing_data or "missing",
        )

    def breaches(self, value: float) -> bool:
        return COMPARISONS[self.comparison][0](value, self.threshold)


@dataclass(frozen=True)
class Verdict:
    state: str | None  # None: the alarm keeps its current state (TreatMissingData ignore)
    evaluated: tuple[int, ...]  # indices of the real datapoints evaluated, oldest first
    filled: int  # missing datapoints filled in as TreatMissingData says
    breaching: int  # breaching datapoints among the evaluated ones, filled ones included


def evaluation_range(evaluation_periods: int) -> int:
    """How many periods CloudWatch retrieves: more than EvaluationPeriods, by an amount AWS does
    not document; its examples retrieve 5 for 3."""
    return evaluation_periods + max(evaluation_periods // 3, 2)


def evaluate(values: Sequence[float | None], rule: Rule) -> Verdict:
    """The alarm state for the datapoints of the evaluation range (oldest first; None: missing),
    as AWS's "How alarm state is evaluated when data is missing" says:

    - at least EvaluationPeriods real datapoints: the most recent EvaluationPeriods of them
      decide (ALARM if DatapointsToAlarm of them breach, else OK), missing ones are ignored;
    - fewer: breaching/notBreaching fill in the missing ones, as few as needed; missing/ignore
      do not — no datapoint at all is INSUFFICIENT_DATA (missing) or no change (ignore);
      DatapointsToAlarm breaching real ones is ALARM; a non-breaching one is OK; otherwise only
      breaching ones, and the oldest is at least DatapointsToAlarm periods old: ALARM (the
      premature-alarm rule; ignore keeps its state); otherwise INSUFFICIENT_DATA / no change.

    This reproduces every row of both tables in AWS's guide and its premature-alarm examples.
    """
    real = [i for i, value in enumerate(values) if value is not None]
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    if len(real) >= n:
        used = real[-n:]
        breaching = sum(rule.breaches(values[i]) for i in used)
        return Verdict(ALARM if breaching >= m else OK, tuple(used), 0, breaching)
    breaching = sum(rule.breaches(values[i]) for i in real)
    treat = rule.treat_missing_data
    if treat in ("breaching", "notBreaching"):
        filled = n - len(real)
        total = breaching + (filled if treat == "breaching" else 0)
        return Verdict(ALARM if total >= m else OK, tuple(real), filled, total)
    keep = INSUFFICIENT_DATA if treat == "missing" else None
    if not real:
        return Verdict(keep, (), 0, 0)
    if breaching >= m:
        return Verdict(ALARM, tuple(real), 0, breaching)
    if breaching < len(real):
        return Verdict(OK, tuple(real), 0, breaching)
    oldest_breach_age = len(values) - real[0]
    if oldest_breach_age >= m:
        return Verdict(ALARM if treat == "missing" else None, tuple(real), 0, breaching)
    return Verdict(keep, tuple(real), 0, breaching)


# ---------------------------------------------------------------------------------------------
# Datapoints: the alarm's statistic per period, from moto's metric data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Datapoint:
    start: datetime  # the period's start (naive UTC, as moto keeps timestamps)
    value: float
    samples: float


@dataclass(frozen=True)
class MetricQuery:
    namespace: str
    metric_name: str
    dimensions: frozenset[tuple[str, str]]
    statistic: str  # a standard statistic, or pNN
    period: int
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS and _percentile(self.statistic) is None:
            raise Unsupported(f"statistic {self.statistic!r} is not evaluated")
        if self.period <= 0:
            raise Unsupported(f"Period {self.period} is not positive")

    @classmethod
    def of_alarm(cls, alarm: Alarm) -> MetricQuery:
        """The one metric the alarm watches: its own, or the one MetricStat its Metrics list
        returns (metric math is not evaluated)."""
        queries = alarm.metric_data_queries
        if not queries:
            return cls(
                alarm.namespace,
                alarm.metric_name,
                frozenset((d.name, d.value) for d in alarm.dimensions),
                alarm.extended_statistic or alarm.statistic,
                int(alarm.period),
                alarm.unit,
            )
        returned = [q for q in queries if q.return_data in (None, True, "true")]
        if len(returned) != 1 or returned[0].metric_stat is None or returned[0].expression:
            raise Unsupported("metric math (an expression in Metrics) is not evaluated")
        stat = returned[0].metric_stat
        return cls(
            stat.metric.namespace,
            stat.metric.metric_name,
            frozenset((d.name, d.value) for d in stat.metric.dimensions),
            stat.stat,
            int(stat.period),
            stat.unit,
        )

    def matches(self, datum: MetricDatumBase) -> bool:
        """A datum of this metric: same namespace and name, exactly these dimensions (as
        CloudWatch identifies a metric), and the alarm's unit if it names one."""
        return (
            datum.namespace == self.namespace
            and datum.name == self.metric_name
            and frozenset((d.name, d.value) for d in datum.dimensions) == self.dimensions
            and (self.unit is None or datum.unit == self.unit)
        )


def _percentile(statistic: str | None) -> float | None:
    """NN of a pNN statistic (0 to 100); None for any other statistic."""
    match = PERCENTILE.fullmatch(statistic or "")
    if match is None or not 0 <= float(match.group(1)) <= 100:
        return None
    return float(match.group(1))


def period_end(now: float, period: int) -> datetime:
    """The end of the period holding `now` (periods start at multiples of Period since the
    epoch), as a naive UTC datetime."""
    end = (math.floor(now / period) + 1) * period
    return datetime.fromtimestamp(end, UTC).replace(tzinfo=None)


def aggregate(
    datums: Sequence[MetricDatumBase], statistic: str, start: datetime
) -> Datapoint | None:
    """One period's datapoint, with moto's own statistics; a percentile from the raw values, by
    the nearest-rank definition (statistic sets carry none). None: nothing to aggregate."""
    q = _percentile(statistic)
    if q is None:
        stats = Statistics([statistic, "SampleCount"], start)
        stats.metric_data = list(datums)
        value = stats.get_statistics_for_type(statistic)
        samples = stats.calc_sample_count()
    else:
        values = [d.value for d in datums if isinstance(d, MetricDatum)]
        value = float(np.percentile(values, q, method="inverted_cdf")) if values else None
        samples = len(values)
    return None if value is None else Datapoint(start, float(value), float(samples))


def datapoints(
    metric_data: Iterable[MetricDatumBase], query: MetricQuery, end: datetime, count: int
) -> list[Datapoint | None]:
    """The query's datapoints of the `count` periods before `end`, oldest first (None where a
    period has no data)."""
    start = end - timedelta(seconds=query.period * count)
    buckets: list[list[MetricDatumBase]] = [[] for _ in range(count)]
    for datum in metric_data:
        if start <= datum.timestamp < end and query.matches(datum):
            buckets[int((datum.timestamp - start).total_seconds() // query.period)].append(datum)
    return [
        aggregate(bucket, query.statistic, start + timedelta(seconds=query.period * index))
        if bucket
        else None
        for index, bucket in enumerate(buckets)
    ]


# ---------------------------------------------------------------------------------------------
# What CloudWatch writes: state reasons, history items, notifications, events
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StateSnapshot:
    value: str
    reason: str | None
    reason_data: str | None
    timestamp: datetime

    @classmethod
    def of(cls, alarm: Alarm) -> StateSnapshot:
        return cls(
            alarm.state_value,
            alarm.state_reason,
            alarm.state_reason_data,
            alarm.state_updated_timestamp,
        )


def aws_time(moment: datetime) -> str:
    """CloudWatch's timestamps in notifications and events: 2019-10-02T17:04:40.985+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _number(value: float) -> str:
    return repr(float(value))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _was(n: int) -> str:
    return "was" if n == 1 else "were"


def state_reason(
    verdict: Verdict, rule: Rule, points: Sequence[Datapoint | None], old_state: str
) -> str:
    """The StateReason CloudWatch gives a state it evaluated, such as

    Threshold Crossed: 1 out of the last 1 datapoints [5.0 (02/12/26 05:40:00)] was greater
    than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition).
    """
    n = rule.evaluation_periods
    if verdict.state == INSUFFICIENT_DATA:
        unknown = n - len(verdict.evaluated)
        return f"Insufficient Data: {_count(unknown, 'datapoint')} {_was(unknown)} unknown."
    treated = "Breaching" if rule.treat_missing_data == "breaching" else "NonBreaching"
    if not verdict.evaluated:
        return (
            f"Threshold Crossed: no datapoints were received for {_count(n, 'period')} and "
            f"{_count(n, 'missing datapoint')} {_was(n)} treated as [{treated}]."
        )
    words = COMPARISONS[rule.comparison][1]
    real = [points[i] for i in reversed(verdict.evaluated)]  # newest first, as AWS lists them
    total = len(verdict.evaluated) + verdict.filled
    if verdict.state == ALARM:
        shown = [p for p in real if rule.breaches(p.value)]
        count, needed = verdict.breaching, rule.datapoints_to_alarm
    else:
        shown = [p for p in real if not rule.breaches(p.value)]
        count, needed = total - verdict.breaching, n - rule.datapoints_to_alarm + 1
        words = f"not {words}"
    listed = ", ".join(f"{_number(p.value)} ({p.start:%d/%m/%y %H:%M:%S})" for p in shown)
    reason = (
        f"Threshold Crossed: {count} out of the last {total} datapoints"
        f"{f' [{listed}]' if listed else ''} {_was(count)} {words} the threshold "
        f"({_number(rule.threshold)})"
    )
    if verdict.filled:
        filled = verdict.filled
        reason += (
            f", and {_count(filled, 'missing datapoint')} {_was(filled)} treated as [{treated}]"
        )
    return (
        f"{reason} (minimum {_count(needed, 'datapoint')} for {old_state} -> {verdict.state} "
        "transition)."
    )


def state_reason_data(
    verdict: Verdict,
    query: MetricQuery,
    rule: Rule,
    points: Sequence[Datapoint | None],
    query_date: datetime,
) -> dict[str, Any]:
    """The StateReasonData CloudWatch gives an evaluated state (JSON, version 1.0)."""
    evaluated = [points[i] for i in verdict.evaluated]
    data: dict[str, Any] = {"version": "1.0", "queryDate": aws_time(query_date)}
    if evaluated:
        data["startDate"] = aws_time(evaluated[0].start)
    kind = "statistic" if _percentile(query.statistic) is None else "extendedStatistic"
    data[kind] = query.statistic
    if query.unit:
        data["unit"] = query.unit
    data["period"] = query.period
    data["recentDatapoints"] = [p.value for p in evaluated]
    data["threshold"] = rule.threshold
    data["evaluatedDatapoints"] = [
        {"timestamp": aws_time(p.start), "sampleCount": p.samples, "value": p.value}
        for p in reversed(evaluated)
    ]
    return data


def _reason_data(raw: str | None) -> dict[str, Any] | None:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    return data or None


def _alarm_type(alarm: Alarm) -> str:
    return "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"


def state_update_item(alarm: Alarm, before: StateSnapshot) -> dict[str, Any]:
    """A StateUpdate item of DescribeAlarmHistory (HistoryData as CloudWatch writes it)."""

    def state(value: str, reason: str | None, raw_data: str | None) -> dict[str, Any]:
        described: dict[str, Any] = {"stateValue": value, "stateReason": reason}
        data = _reason_data(raw_data)
        if data is not None:
            described["stateReasonData"] = data
        return described

    history = {
        "version": "1.0",
        "oldState": state(before.value, before.reason, before.reason_data),
        "newState": state(alarm.state_value, alarm.state_reason, alarm.state_reason_data),
    }
    return {
        "AlarmName": alarm.name,
        "AlarmType": _alarm_type(alarm),
        "Timestamp": alarm.state_updated_timestamp,
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {before.value} to {alarm.state_value}",
        "HistoryData": json.dumps(history),
    }


def action_item(
    alarm_name: str,
    alarm_type: str,
    when: datetime,
    state_updated: datetime,
    action: str,
    message_id: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """An Action item of DescribeAlarmHistory: one alarm action, executed or not."""
    data: dict[str, Any] = {
        "actionState": "Succeeded" if error is None else "Failed",
        "stateUpdateTimestamp": int(state_updated.replace(tzinfo=UTC).timestamp() * 1000),
        "notificationResource": action,
    }
    if error is None:
        data["publishedMessage"] = {"messageId": message_id}
        summary = f"Successfully executed action {action}"
    else:
        data["error"] = error
        summary = f"Failed to execute action {action}. Received error: {error}"
    return {
        "AlarmName": alarm_name,
        "AlarmType": alarm_type,
        "Timestamp": when,
        "HistoryItemType": "Action",
        "HistorySummary": summary[:255],
        "HistoryData": json.dumps(data),
    }


@cache
def region_description(region: str) -> str:
    """A region's long name, as alarm notifications give it ("US East (N. Virginia)")."""
    from botocore.loaders import create_loader

    for partition in create_loader().load_data("endpoints")["partitions"]:
        described = partition["regions"].get(region)
        if described and described.get("description"):
            return described["description"]
    return region


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _metrics_json(alarm: Alarm) -> list[dict[str, Any]]:
    """The alarm's Metrics list, for the Trigger of its notifications."""
    metrics = []
    for q in alarm.metric_data_queries:
        entry = _without_none(
            {"Id": q.id, "Label": q.label, "ReturnData": q.return_data, "Expression": q.expression}
        )
        if q.metric_stat is not None:
            metric = q.metric_stat.metric
            entry["MetricStat"] = _without_none(
                {
                    "Metric": {
                        "Namespace": metric.namespace,
                        "MetricName": metric.metric_name,
                        "Dimensions": [
                            {"value": d.value, "name": d.name} for d in metric.dimensions
                        ],
                    },
                    "Period": q.metric_stat.period,
                    "Stat": q.metric_stat.stat,
                    "Unit": q.metric_stat.unit,
                }
            )
        metrics.append(entry)
    return metrics


def trigger(alarm: Alarm) -> dict[str, Any]:
    """The Trigger of an alarm notification: what the alarm watches and how."""
    described: dict[str, Any] = {}
    if alarm.metric_data_queries:
        described["Metrics"] = _metrics_json(alarm)
    else:
        described["MetricName"] = alarm.metric_name
        described["Namespace"] = alarm.namespace
        if alarm.extended_statistic:
            described["StatisticType"] = "ExtendedStatistic"
            described["ExtendedStatistic"] = alarm.extended_statistic
        else:
            described["StatisticType"] = "Statistic"
            described["Statistic"] = (alarm.statistic or "").upper()
        described["Unit"] = alarm.unit
        described["Dimensions"] = [{"value": d.value, "name": d.name} for d in alarm.dimensions]
        described["Period"] = alarm.period
    described.update(
        {
            "EvaluationPeriods": alarm.evaluation_periods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm or alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": None if alarm.threshold is None else float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
        }
    )
    return described


def notification(alarm: Alarm, old_state: str, account_id: str, region: str) -> tuple[str, str]:
    """The Subject and Message CloudWatch publishes to an alarm's SNS actions."""
    where = region_description(region)
    message: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": aws_time(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": aws_time(alarm.state_updated_timestamp),
        "Region": where,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
    }
    if alarm.rule is not None:
        message["AlarmRule"] = alarm.rule
    else:
        message["Trigger"] = trigger(alarm)
    subject = f'{alarm.state_value}: "{alarm.name}" in {where}'
    return subject[:100], json.dumps(message)  # SNS takes subjects of up to 100 characters


def state_change_event(alarm: Alarm, before: StateSnapshot) -> dict[str, Any]:
    """The detail of the "CloudWatch Alarm State Change" event (source aws.cloudwatch)."""

    def state(value: str, reason: str | None, raw_data: str | None, when: datetime) -> dict:
        described = {"value": value, "reason": reason, "timestamp": aws_time(when)}
        if _reason_data(raw_data) is not None:
            described["reasonData"] = raw_data
        return described

    if alarm.metric_data_queries:
        metrics = [
            _without_none(
                {
                    "id": q.id,
                    "expression": q.expression,
                    "label": q.label,
                    "returnData": q.return_data,
                    "metricStat": None
                    if q.metric_stat is None
                    else {
                        "metric": {
                            "dimensions": {
                                d.name: d.value for d in q.metric_stat.metric.dimensions
                            },
                            "name": q.metric_stat.metric.metric_name,
                            "namespace": q.metric_stat.metric.namespace,
                        },
                        "period": q.metric_stat.period,
                        "stat": q.metric_stat.stat,
                    },
                }
            )
            for q in alarm.metric_data_queries
        ]
    else:
        metrics = [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, alarm.alarm_arn)),
                "metricStat": {
                    "metric": {
                        "dimensions": {d.name: d.value for d in alarm.dimensions},
                        "name": alarm.metric_name,
                        "namespace": alarm.namespace,
                    },
                    "period": alarm.period,
                    "stat": alarm.extended_statistic or alarm.statistic,
                },
                "returnData": True,
            }
        ]
    return {
        "alarmName": alarm.name,
        "state": state(
            alarm.state_value,
            alarm.state_reason,
            alarm.state_reason_data,
            alarm.state_updated_timestamp,
        ),
        "previousState": state(before.value, before.reason, before.reason_data, before.timestamp),
        "configuration": _without_none({"description": alarm.description, "metrics": metrics}),
    }


def queue_metrics(queue: Queue, sent: int, age_s: float, stamp: datetime) -> list[dict[str, Any]]:
    """The AWS/SQS datums SQS publishes for one queue (PutMetricData's MetricData), given the
    messages sent to it since the last ones and the age of its oldest message."""
    dimensions = [{"Name": "QueueName", "Value": queue.name}]
    values = [
        ("ApproximateNumberOfMessagesVisible", queue.approximate_number_of_messages, "Count"),
        (
            "ApproximateNumberOfMessagesNotVisible",
            queue.approximate_number_of_messages_not_visible,
            "Count",
        ),
        (
            "ApproximateNumberOfMessagesDelayed",
            queue.approximate_number_of_messages_delayed,
            "Count",
        ),
        ("ApproximateAgeOfOldestMessage", int(age_s), "Seconds"),
        ("NumberOfMessagesSent", sent, "Count"),
    ]
    return [
        {
            "MetricName": name,
            "Dimensions": dimensions,
            "Timestamp": stamp,
            "Value": float(value),
            "Unit": unit,
        }
        for name, value, unit in values
    ]


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
class InvalidNextToken(CloudWatchException):
    code = "InvalidNextToken"


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _is_sns_topic(arn: str) -> bool:
    return arn.startswith("arn:") and arn.split(":")[2:3] == ["sns"]


def _is_scaling_policy(arn: str) -> bool:
    return (
        arn.startswith("arn:")
        and arn.split(":")[2:3] == ["autoscaling"]
        and ":scalingPolicy:" in arn
    )


class AlarmsRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.interval_s = seconds_setting(INTERVAL_VAR, DEFAULT_INTERVAL_S)
        self.sns = SnsDelivery(ctx)
        self._hooks = Hooks()
        self._history: dict[tuple[str, str], deque[dict[str, Any]]] = defaultdict(
            lambda: deque(maxlen=HISTORY_SIZE)
        )
        self._actions: queue.Queue[Callable[[], Any] | None] = queue.Queue()
        self._sent: Counter[str] = Counter()  # SendMessage per queue since the last minute
        self._lock = threading.Lock()
        self._queue_metrics_at: float | None = None
        self._unsupported: set[tuple[str, str]] = set()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self.sns.start()
        self._install_hooks()
        self._threads = [
            threading.Thread(target=self._evaluate_forever, name="alarms", daemon=True),
            threading.Thread(target=self._run_actions, name="alarm-actions", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.ctx.stopping.set()
        self._actions.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._hooks.restore()
        self.sns.stop()

    def routes(self, app: Any) -> None:
        self.sns.routes(app)

    def _now(self) -> datetime:
        return _naive_utc(self.ctx.clock.now())

    def _cloudwatch(self) -> CloudWatchBackend:
        return cloudwatch_backends[self.ctx.account_id][self.ctx.region]

    # -- hooks on moto ----------------------------------------------------------------------------
    def _install_hooks(self) -> None:
        runtime = self
        put_metric_alarm = CloudWatchBackend.put_metric_alarm
        set_alarm_state = CloudWatchBackend.set_alarm_state
        send_message = SQSBackend.send_message

        def put_metric_alarm_hook(backend: CloudWatchBackend, *args: Any, **kwargs: Any) -> Alarm:
            name = kwargs["name"] if "name" in kwargs else args[0]
            previous = backend.alarms.get(name)
            alarm = put_metric_alarm(backend, *args, **kwargs)
            try:
                runtime._configured(alarm, previous)
            except Exception:
                log.exception("alarm %s: cannot keep its state", name)
            return alarm

        def set_alarm_state_hook(
            backend: CloudWatchBackend, alarm_name: str, *args: Any, **kwargs: Any
        ) -> None:
            alarm = backend.alarms.get(alarm_name)
            before = StateSnapshot.of(alarm) if alarm is not None else None
            set_alarm_state(backend, alarm_name, *args, **kwargs)  # unknown alarm: raises
            try:
                runtime._state_set(backend, backend.alarms[alarm_name], before)
            except Exception:
                log.exception("alarm %s: cannot act on its new state", alarm_name)

        def describe_alarm_history(response: CloudWatchResponse) -> ActionResult:
            return runtime._describe_alarm_history(response)

        def send_message_hook(backend: SQSBackend, queue_name: str, *args: Any, **kw: Any) -> Any:
            message = send_message(backend, queue_name, *args, **kw)
            message.runtime_sent_at = runtime.ctx.clock.time()  # moto's sent time is the wall's
            if (backend.account_id, backend.region_name) == (
                runtime.ctx.account_id,
                runtime.ctx.region,
            ):
                with runtime._lock:
                    runtime._sent[queue_name] += 1
            return message

        self._hooks.install(CloudWatchBackend, "put_metric_alarm", put_metric_alarm_hook)
        self._hooks.install(CloudWatchBackend, "set_alarm_state", set_alarm_state_hook)
        self._hooks.install(CloudWatchResponse, "describe_alarm_history", describe_alarm_history)
        self._hooks.install(SQSBackend, "send_message", send_message_hook)

    def _configured(self, alarm: Alarm, previous: Alarm | None) -> None:
        """PutMetricAlarm: a new alarm starts in INSUFFICIENT_DATA (moto says OK); an updated
        one keeps its state (moto starts it over)."""
        now = self._now()
        alarm.configuration_updated_timestamp = now
        if previous is None:
            alarm.state_value = INSUFFICIENT_DATA
            alarm.state_updated_timestamp = now
            return
        for name in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
            setattr(alarm, name, getattr(previous, name))
        alarm.history = previous.history

    def _state_set(
        self, backend: CloudWatchBackend, alarm: Alarm, before: StateSnapshot | None
    ) -> None:
        """After SetAlarmState (ours or a caller's): the history item, and on a change of state
        the event and the alarm's actions for the new state."""
        alarm.state_updated_timestamp = self._now()
        if before is None:
            return
        where = (backend.account_id, backend.region_name)
        self._record(where, state_update_item(alarm, before))
        if before.value == alarm.state_value:
            return
        log.info("alarm %s: %s -> %s", alarm.name, before.value, alarm.state_value)
        self._actions.put(
            partial(
                self.ctx.publish_event,
                "aws.cloudwatch",
                STATE_CHANGE,
                state_change_event(alarm, before),
                [alarm.alarm_arn],
            )
        )
        if not alarm.actions_enabled:
            return
        actions = {
            ALARM: alarm.alarm_actions,
            OK: alarm.ok_actions,
            INSUFFICIENT_DATA: alarm.insufficient_data_actions,
        }[alarm.state_value]
        if not actions:
            return
        subject, message = notification(alarm, before.value, *where)
        for action in actions:
            self._actions.put(
                partial(
                    self._run_action,
                    where,
                    alarm.name,
                    _alarm_type(alarm),
                    alarm.state_updated_timestamp,
                    action,
                    subject,
                    message,
                )
            )

    def _record(self, where: tuple[str, str], item: dict[str, Any]) -> None:
        with self._lock:
            self._history[where].append(item)

    def _run_action(
        self,
        where: tuple[str, str],
        alarm_name: str,
        alarm_type: str,
        state_updated: datetime,
        action: str,
        subject: str,
        message: str,
    ) -> None:
        message_id = error = None
        if _is_scaling_policy(action):
            executor = self.ctx.scaling_policy_executor
            if executor is None:
                return  # the scaling service is off: nothing runs Application Auto Scaling
            error = executor(action, alarm_name)
        elif not _is_sns_topic(action):
            error = "the embedded AWS runs SNS topic actions only"
        else:
            try:
                message_id = self.ctx.client("sns").publish(
                    TopicArn=action, Subject=subject, Message=message
                )["MessageId"]
            except (ClientError, BotoCoreError) as exc:
                error = str(exc)
        if error is not None:
            log.warning("alarm %s: action %s not executed: %s", alarm_name, action, error)
        self._record(
            where,
            action_item(
                alarm_name, alarm_type, self._now(), state_updated, action, message_id, error
            ),
        )

    def _run_actions(self) -> None:
        while True:
            action = self._actions.get()
            if action is None:
                return
            try:
                action()
            except Exception:
                log.exception("an alarm action failed")

    # -- DescribeAlarmHistory -----------------------------------------------------------------
    def _describe_alarm_history(self, response: CloudWatchResponse) -> ActionResult:
        backend = response.cloudwatch_backend
        name = response._get_param("AlarmName")
        types = response._get_param("AlarmTypes") or ["MetricAlarm"]
        item_type = response._get_param("HistoryItemType")
        start = response._get_param("StartDate")
        end = response._get_param("EndDate")
        scan_by = response._get_param("ScanBy") or "TimestampDescending"
        max_records = response._get_param("MaxRecords") or 100
        token = response._get_param("NextToken")
        if item_type not in (None, "ConfigurationUpdate", "StateUpdate", "Action"):
            raise InvalidParameterValue(
                f"The value {item_type} for parameter HistoryItemType is not one of "
                "ConfigurationUpdate, StateUpdate, Action."
            )
        if scan_by not in ("TimestampDescending", "TimestampAscending"):
            raise InvalidParameterValue(
                f"The value {scan_by} for parameter ScanBy is not one of TimestampDescending, "
                "TimestampAscending."
            )
        if not 1 <= int(max_records) <= 100:
            raise InvalidParameterValue(
                f"The value {max_records} for parameter MaxRecords is not between 1 and 100."
            )
        with self._lock:
            items = list(self._history[(backend.account_id, backend.region_name)])
        items = [
            i
            for i in items
            if (name is None or i["AlarmName"] == name)
            and i["AlarmType"] in types
            and (item_type is None or i["HistoryItemType"] == item_type)
            and (start is None or i["Timestamp"] >= _naive_utc(start))
            and (end is None or i["Timestamp"] <= _naive_utc(end))
        ]
        items.sort(key=lambda i: i["Timestamp"], reverse=scan_by == "TimestampDescending")
        offset = 0
        if token:
            if not token.isdigit() or int(token) > len(items):
                raise InvalidNextToken(
                    "The service cannot complete the request: invalid NextToken."
                )
            offset = int(token)
        stop = offset + int(max_records)
        result: dict[str, Any] = {"AlarmHistoryItems": items[offset:stop]}
        if stop < len(items):
            result["NextToken"] = str(stop)
        return ActionResult(result)

    # -- evaluation ---------------------------------------------------------------------------
    def _evaluate_forever(self) -> None:
        while not self.ctx.stopping.is_set():
            try:
                self._publish_queue_metrics()
            except Exception:
                log.exception("cannot publish the SQS metrics")
            try:
                self.evaluate_all()
            except Exception:
                log.exception("alarm evaluation failed")
            if self.ctx.clock.sleep(self.interval_s, self.ctx.stopping):
                return

    def evaluate_all(self) -> None:
        """One evaluation of every metric alarm of the account and region."""
        backend = self._cloudwatch()
        now = self.ctx.clock.time()
        watched: list[tuple[Alarm, MetricQuery, Rule, datetime, int]] = []
        for alarm in [a for a in list(backend.alarms.values()) if a.rule is None]:
            try:
                query, rule = MetricQuery.of_alarm(alarm), Rule.of_alarm(alarm)
            except Unsupported as exc:
                if (alarm.name, str(exc)) not in self._unsupported:
                    self._unsupported.add((alarm.name, str(exc)))
                    log.warning("alarm %s is not evaluated: %s", alarm.name, exc)
                continue
            except Exception:
                log.exception("alarm %s: cannot read its definition", alarm.name)
                continue
            end = period_end(now, query.period)
            watched.append((alarm, query, rule, end, evaluation_range(rule.evaluation_periods)))
        # One pass over moto's (ever growing) metric data: only the watched metrics' datums
        # recent enough for some alarm's evaluation range.
        horizons: dict[tuple[str, str], datetime] = {}
        for _, query, _, end, count in watched:
            key = (query.namespace, query.metric_name)
            start = end - timedelta(seconds=query.period * count)
            horizons[key] = min(start, horizons.get(key, start))
        by_metric: dict[tuple[str, str], list[MetricDatumBase]] = defaultdict(list)
        if horizons:
            for datum in backend.get_all_metrics():
                horizon = horizons.get((datum.namespace, datum.name))
                if horizon is not None and datum.timestamp >= horizon:
                    by_metric[(datum.namespace, datum.name)].append(datum)
        for alarm, query, rule, end, count in watched:
            try:
                points = datapoints(
                    by_metric[(query.namespace, query.metric_name)], query, end, count
                )
                self._evaluate(backend, alarm, query, rule, points)
            except CloudWatchException as exc:  # deleted or changed while being evaluated
                log.info("alarm %s: %s", alarm.name, exc)
            except Exception:
                log.exception("alarm %s: evaluation failed", alarm.name)

    def _evaluate(
        self,
        backend: CloudWatchBackend,
        alarm: Alarm,
        query: MetricQuery,
        rule: Rule,
        points: list[Datapoint | None],
    ) -> None:
        """Set the alarm's state (as SetAlarmState does) if its datapoints say it changed."""
        verdict = evaluate([p.value if p else None for p in points], rule)
        if verdict.state is None or verdict.state == alarm.state_value:
            return
        reason = state_reason(verdict, rule, points, alarm.state_value)
        data = state_reason_data(verdict, query, rule, points, self._now())
        backend.set_alarm_state(alarm.name, reason, json.dumps(data), verdict.state)

    def _oldest_age(self, queue: Queue, now: float) -> float:
        """The age of the queue's oldest message on the runtime's clock: since SendMessage, or
        for a message put there otherwise, since moto's (wall-clock) sent time."""
        offset = self.ctx.clock.offset
        sent = [
            getattr(m, "runtime_sent_at", None) or m.sent_timestamp / 1000 + offset
            for m in list(queue._messages)
            if m.sent_timestamp
        ]
        return max(0.0, now - min(sent)) if sent else 0.0

    def _publish_queue_metrics(self) -> None:
        now = self.ctx.clock.time()
        if (
            self._queue_metrics_at is not None
            and now - self._queue_metrics_at < QUEUE_METRICS_EVERY_S
        ):
            return
        self._queue_metrics_at = now
        queues = list(sqs_backends[self.ctx.account_id][self.ctx.region].queues.values())
        with self._lock:
            sent, self._sent = self._sent, Counter()
        stamp = self.ctx.clock.now()
        datums = [
            d
            for q in queues
            for d in queue_metrics(q, sent[q.name], self._oldest_age(q, now), stamp)
        ]
        client = self.ctx.client("cloudwatch")
        for first in range(0, len(datums), PUT_METRIC_DATA_MAX):
            client.put_metric_data(
                Namespace="AWS/SQS", MetricData=datums[first : first + PUT_METRIC_DATA_MAX]
            )

"""Alarm evaluation as a pure function: AWS's tables, each comparison, M of N, the texts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum, MetricDatum

from localaws.runtime.alarms import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Datapoint,
    MetricQuery,
    Rule,
    StateSnapshot,
    Unsupported,
    datapoints,
    evaluate,
    evaluation_range,
    notification,
    period_end,
    state_change_event,
    state_reason,
    state_reason_data,
    state_update_item,
)

RETAIN = None  # the alarm keeps its state


def values_of(row: str) -> list[float | None]:
    """AWS's notation, oldest first: X breaching, 0 not breaching, - missing (threshold 1,
    GreaterThanThreshold)."""
    return [{"X": 5.0, "0": 0.0, "-": None}[c] for c in row.split()]


def rule(m: int, n: int, treat: str = "missing", comparison: str = "GreaterThanThreshold"):
    return Rule(comparison, 1.0, n, m, treat)


# AWS's "How alarm state is evaluated when data is missing": 5 datapoints retrieved; the
# columns are TreatMissingData missing, ignore, breaching, notBreaching.
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, RETAIN, ALARM, OK),  # the premature-alarm rule
    # the guide's earlier edition: a breach too recent to judge, and one old enough
    ("- - - - X", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
    ("X - - - -", ALARM, RETAIN, ALARM, OK),
]
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - - X -", ALARM, RETAIN, ALARM, OK),
    ("- - - - X", INSUFFICIENT_DATA, RETAIN, ALARM, OK),
]
MODES = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize(("m", "table"), [(3, THREE_OF_THREE), (2, TWO_OF_THREE)])
def test_aws_tables_of_missing_data(m, table):
    for row, *expected in table:
        for mode, state in zip(MODES, expected, strict=True):
            verdict = evaluate(values_of(row), rule(m, 3, mode))
            assert verdict.state == state, f"{m} of 3, {row!r}, {mode}"


def test_the_evaluation_range_is_longer_than_the_evaluation_periods():
    assert evaluation_range(3) == 5  # AWS's example
    assert evaluation_range(1) == 3
    assert evaluation_range(30) == 40


@pytest.mark.parametrize(
    ("comparison", "value", "breaches"),
    [
        ("GreaterThanThreshold", 1.5, True),
        ("GreaterThanThreshold", 1.0, False),
        ("GreaterThanOrEqualToThreshold", 1.0, True),
        ("GreaterThanOrEqualToThreshold", 0.5, False),
        ("LessThanThreshold", 0.5, True),
        ("LessThanThreshold", 1.0, False),
        ("LessThanOrEqualToThreshold", 1.0, True),
        ("LessThanOrEqualToThreshold", 1.5, False),
    ],
)
def test_each_comparison(comparison, value, breaches):
    verdict = evaluate([value], rule(1, 1, comparison=comparison))
    assert verdict.state == (ALARM if breaches else OK)


@pytest.mark.parametrize(
    "comparison",
    [
        "LessThanLowerOrGreaterThanUpperThreshold",
        "LessThanLowerThreshold",
        "GreaterThanUpperThreshold",
    ],
)
def test_anomaly_band_comparisons_are_not_evaluated(comparison):
    with pytest.raises(Unsupported, match="anomaly-detection bands are not evaluated"):
        rule(1, 1, comparison=comparison)


def test_datapoints_to_alarm_must_be_within_the_evaluation_periods():
    with pytest.raises(Unsupported, match="DatapointsToAlarm 4"):
        rule(4, 3)
    with pytest.raises(Unsupported, match="TreatMissingData"):
        rule(1, 1, treat="sometimes")


def test_m_of_n_takes_the_most_recent_n_real_datapoints():
    # 2 of 3: the oldest breaching datapoint is no longer among the last three real ones
    verdict = evaluate(values_of("X X 0 - 0 X"), rule(2, 3))
    assert (verdict.state, verdict.evaluated, verdict.breaching) == (OK, (2, 4, 5), 1)
    verdict = evaluate(values_of("X X 0 X 0 X"), rule(2, 3))
    assert (verdict.state, verdict.evaluated) == (ALARM, (3, 4, 5))
    # 1 of 3 alarms on any breach among the last three; 3 of 3 needs all of them
    assert evaluate(values_of("0 0 X"), rule(1, 3)).state == ALARM
    assert evaluate(values_of("0 X X"), rule(3, 3)).state == OK


def test_missing_datapoints_are_filled_in_only_as_needed():
    verdict = evaluate(values_of("- - 0 - X"), rule(3, 3, "breaching"))
    assert (verdict.evaluated, verdict.filled, verdict.breaching) == ((2, 4), 1, 2)
    assert verdict.state == OK  # one real datapoint does not breach
    verdict = evaluate(values_of("- - - - -"), rule(2, 3, "notBreaching"))
    assert (verdict.state, verdict.filled, verdict.breaching) == (OK, 3, 0)


def points_of(row: str, start: datetime, period: int = 60) -> list[Datapoint | None]:
    return [
        None if v is None else Datapoint(start + timedelta(seconds=period * i), v, 1.0)
        for i, v in enumerate(values_of(row))
    ]


START = datetime(2026, 12, 2, 5, 40)


def test_the_state_reason_says_what_crossed_as_aws_does():
    r = rule(1, 1)
    points = points_of("0 - X", START)
    verdict = evaluate([p.value if p else None for p in points], r)
    assert state_reason(verdict, r, points, OK) == (
        "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (02/12/26 05:42:00)] was "
        "greater than the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    r = rule(2, 3)
    points = points_of("0 0 X 0", START)
    verdict = evaluate([p.value if p else None for p in points], r)
    assert state_reason(verdict, r, points, ALARM) == (
        "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (02/12/26 05:43:00), "
        "0.0 (02/12/26 05:41:00)] were not greater than the threshold (1.0) "
        "(minimum 2 datapoints for ALARM -> OK transition)."
    )


def test_the_state_reason_of_missing_data():
    r = rule(1, 1, "breaching")
    verdict = evaluate([None, None, None], r)
    assert state_reason(verdict, r, [None] * 3, OK) == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [Breaching]."
    )
    r = rule(3, 3)
    verdict = evaluate([None] * 5, r)
    assert state_reason(verdict, r, [None] * 5, OK) == (
        "Insufficient Data: 3 datapoints were unknown."
    )
    r = rule(2, 2, "notBreaching")
    points = points_of("- - X", START)
    verdict = evaluate([p.value if p else None for p in points], r)
    assert state_reason(verdict, r, points, ALARM) == (
        "Threshold Crossed: 1 out of the last 2 datapoints was not greater than the "
        "threshold (1.0), and 1 missing datapoint was treated as [NonBreaching] (minimum 1 "
        "datapoint for ALARM -> OK transition)."
    )


def test_the_state_reason_data_lists_the_evaluated_datapoints():
    r = rule(2, 3)
    query = MetricQuery("N", "m", frozenset(), "Maximum", 60)
    points = points_of("X - 0 X", START)
    verdict = evaluate([p.value if p else None for p in points], r)
    data = state_reason_data(verdict, query, r, points, START + timedelta(minutes=4))
    assert data == {
        "version": "1.0",
        "queryDate": "2026-12-02T05:44:00.000+0000",
        "startDate": "2026-12-02T05:40:00.000+0000",
        "statistic": "Maximum",
        "period": 60,
        "recentDatapoints": [5.0, 0.0, 5.0],
        "threshold": 1.0,
        "evaluatedDatapoints": [
            {"timestamp": "2026-12-02T05:43:00.000+0000", "sampleCount": 1.0, "value": 5.0},
            {"timestamp": "2026-12-02T05:42:00.000+0000", "sampleCount": 1.0, "value": 0.0},
            {"timestamp": "2026-12-02T05:40:00.000+0000", "sampleCount": 1.0, "value": 5.0},
        ],
    }
    json.dumps(data)  # it goes into SetAlarmState as JSON


def datum(value, seconds, name="m", dimensions=(("QueueName", "q"),), unit=None):
    return MetricDatum(
        "AWS/SQS",
        name,
        value,
        [{"Name": k, "Value": v} for k, v in dimensions],
        START + timedelta(seconds=seconds),
        unit,
    )


def test_datapoints_aggregate_each_period_of_exactly_the_alarm_metric():
    query = MetricQuery("AWS/SQS", "m", frozenset({("QueueName", "q")}), "Maximum", 60)
    data = [
        datum(1.0, 0),
        datum(7.0, 59),
        datum(3.0, 120),
        datum(99.0, 130, name="other"),
        datum(99.0, 130, dimensions=(("QueueName", "other"),)),
        datum(99.0, 130, dimensions=(("QueueName", "q"), ("Extra", "x"))),
        datum(99.0, 180),  # at the end: the next period
    ]
    points = datapoints(data, query, START + timedelta(seconds=180), 3)
    assert [p and (p.value, p.samples) for p in points] == [(7.0, 2.0), None, (3.0, 1.0)]
    assert points[0].start == START and points[2].start == START + timedelta(seconds=120)


def test_datapoints_of_each_statistic_and_of_a_unit():
    end = START + timedelta(seconds=60)
    data = [datum(float(v), 1, unit="Count") for v in range(1, 101)]
    data.append(datum(1000.0, 2, unit="Seconds"))
    data.append(
        MetricAggregatedDatum(
            "AWS/SQS", "m", 0.0, 10.0, 4, 20.0, [{"Name": "QueueName", "Value": "q"}], START, None
        )
    )

    def value(stat, unit=None):
        query = MetricQuery("AWS/SQS", "m", frozenset({("QueueName", "q")}), stat, 60, unit)
        return datapoints(data, query, end, 1)[0].value

    assert value("Sum", "Count") == 5050.0
    assert value("SampleCount") == 105.0  # a statistic set counts its samples
    assert value("Minimum") == 0.0
    assert value("Maximum") == 1000.0
    assert value("Average", "Count") == 50.5
    assert value("p90", "Count") == 90.0
    assert value("p99.5", "Count") == 100.0
    assert value("p50", "Seconds") == 1000.0


def test_unevaluated_statistics_say_so():
    with pytest.raises(Unsupported, match="tm90"):
        MetricQuery("N", "m", frozenset(), "tm90", 60)
    with pytest.raises(Unsupported, match="p101"):
        MetricQuery("N", "m", frozenset(), "p101", 60)


def test_periods_end_on_multiples_of_the_period():
    now = datetime.fromisoformat("2026-12-02T05:40:30+00:00").timestamp()
    assert period_end(now, 60) == datetime(2026, 12, 2, 5, 41)
    assert period_end(now, 300) == datetime(2026, 12, 2, 5, 45)


def moto_alarm(**overrides):
    """An alarm as moto's backend keeps it, in ALARM since 05:42 (moto's own objects, no hook)."""
    backend = CloudWatchBackend("us-east-1", "123456789012")
    spec = {
        "name": "byo-trigger-dlq-not-empty",
        "namespace": "AWS/SQS",
        "metric_name": "ApproximateNumberOfMessagesVisible",
        "comparison_operator": "GreaterThanThreshold",
        "evaluation_periods": 1,
        "period": 60,
        "threshold": 0.0,
        "statistic": "Maximum",
        "description": "The DLQ holds failed upload events.",
        "dimensions": [{"Name": "QueueName", "Value": "byo-trigger-dlq"}],
        "alarm_actions": ["arn:aws:sns:us-east-1:123456789012:byo-alarms"],
        "ok_actions": ["arn:aws:sns:us-east-1:123456789012:byo-alarms"],
        "treat_missing_data": "notBreaching",
        **overrides,
    }
    alarm = backend.put_metric_alarm(**spec)
    alarm.configuration_updated_timestamp = START
    before = StateSnapshot("OK", "Threshold Crossed: ok", '{"version": "1.0"}', START)
    alarm.state_value, alarm.state_reason = "ALARM", "Threshold Crossed: breached"
    alarm.state_reason_data = '{"version": "1.0", "recentDatapoints": [2.0]}'
    alarm.state_updated_timestamp = START + timedelta(minutes=2, microseconds=123456)
    return alarm, before


def test_the_notification_is_cloudwatchs_alarm_json():
    alarm, before = moto_alarm()
    subject, message = notification(alarm, before.value, "123456789012", "us-east-1")
    assert subject == 'ALARM: "byo-trigger-dlq-not-empty" in US East (N. Virginia)'
    assert json.loads(message) == {
        "AlarmName": "byo-trigger-dlq-not-empty",
        "AlarmDescription": "The DLQ holds failed upload events.",
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-12-02T05:40:00.000+0000",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: breached",
        "StateChangeTime": "2026-12-02T05:42:00.123+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:byo-trigger-dlq-not-empty",
        "OldStateValue": "OK",
        "OKActions": ["arn:aws:sns:us-east-1:123456789012:byo-alarms"],
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:byo-alarms"],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "StatisticType": "Statistic",
            "Statistic": "MAXIMUM",
            "Unit": None,
            "Dimensions": [{"value": "byo-trigger-dlq", "name": "QueueName"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0,
            "TreatMissingData": "notBreaching",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    alarm, before = moto_alarm(statistic=None, extended_statistic="p99", name="x" * 120)
    subject, message = notification(alarm, before.value, "123456789012", "eu-west-1")
    assert len(subject) == 100  # SNS's limit
    trigger = json.loads(message)["Trigger"]
    assert (trigger["StatisticType"], trigger["ExtendedStatistic"]) == ("ExtendedStatistic", "p99")
    assert json.loads(message)["Region"] == "Europe (Ireland)"


def test_the_history_item_holds_both_states():
    alarm, before = moto_alarm()
    item = state_update_item(alarm, before)
    assert item["HistorySummary"] == "Alarm updated from OK to ALARM"
    assert (item["AlarmType"], item["HistoryItemType"]) == ("MetricAlarm", "StateUpdate")
    assert json.loads(item["HistoryData"]) == {
        "version": "1.0",
        "oldState": {
            "stateValue": "OK",
            "stateReason": "Threshold Crossed: ok",
            "stateReasonData": {"version": "1.0"},
        },
        "newState": {
            "stateValue": "ALARM",
            "stateReason": "Threshold Crossed: breached",
            "stateReasonData": {"version": "1.0", "recentDatapoints": [2.0]},
        },
    }


def test_the_state_change_event_detail():
    alarm, before = moto_alarm()
    detail = state_change_event(alarm, before)
    assert detail["alarmName"] == "byo-trigger-dlq-not-empty"
    assert detail["state"] == {
        "value": "ALARM",
        "reason": "Threshold Crossed: breached",
        "timestamp": "2026-12-02T05:42:00.123+0000",
        "reasonData": '{"version": "1.0", "recentDatapoints": [2.0]}',
    }
    assert detail["previousState"]["value"] == "OK"
    (metric,) = detail["configuration"]["metrics"]
    assert metric["metricStat"] == {
        "metric": {
            "dimensions": {"QueueName": "byo-trigger-dlq"},
            "name": "ApproximateNumberOfMessagesVisible",
            "namespace": "AWS/SQS",
        },
        "period": 60,
        "stat": "Maximum",
    }
    assert detail["configuration"]["description"] == "The DLQ holds failed upload events."

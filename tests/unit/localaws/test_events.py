"""The embedded EventBridge's pure parts: schedule expressions (AWS's cron and rate forms) and
what a target gets (Input, InputPath, InputTransformer, Batch's SubmitJob arguments)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from localaws.runtime.events import RuleRef, submit_job_request, target_input, transform
from localaws.runtime.schedules import ScheduleError, parse

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()  # a Monday, 12:00 UTC


def runs(expression: str, count: int = 3, start: float = START, anchor: float = START) -> list:
    schedule, after, times = parse(expression), start, []
    for _ in range(count):
        after = schedule.next_after(after, anchor)
        times.append(datetime.fromtimestamp(after, UTC).strftime("%a %Y-%m-%d %H:%M"))
    return times


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # AWS's examples (eb-scheduled-rule-pattern): 10:00 every day; 12:15 every day
        (
            "cron(0 10 * * ? *)",
            ["Tue 2026-12-01 10:00", "Wed 2026-12-02 10:00", "Thu 2026-12-03 10:00"],
        ),
        (
            "cron(15 12 * * ? *)",
            ["Mon 2026-11-30 12:15", "Tue 2026-12-01 12:15", "Wed 2026-12-02 12:15"],
        ),
        # 18:00 Monday to Friday, by name and by AWS's numbers (1-7 = SUN-SAT: MON-FRI is 2-6)
        (
            "cron(0 18 ? * MON-FRI *)",
            ["Mon 2026-11-30 18:00", "Tue 2026-12-01 18:00", "Wed 2026-12-02 18:00"],
        ),
        (
            "cron(0 18 ? * 2-6 *)",
            ["Mon 2026-11-30 18:00", "Tue 2026-12-01 18:00", "Wed 2026-12-02 18:00"],
        ),
        # 1 = Sunday, 7 = Saturday
        (
            "cron(0 9 ? * 1 *)",
            ["Sun 2026-12-06 09:00", "Sun 2026-12-13 09:00", "Sun 2026-12-20 09:00"],
        ),
        (
            "cron(0 9 ? * 7 *)",
            ["Sat 2026-12-05 09:00", "Sat 2026-12-12 09:00", "Sat 2026-12-19 09:00"],
        ),
        # every 15 minutes; 1/10: the 1st, 11th, 21st minute ...
        (
            "cron(0/15 * * * ? *)",
            ["Mon 2026-11-30 12:15", "Mon 2026-11-30 12:30", "Mon 2026-11-30 12:45"],
        ),
        (
            "cron(1/10 * * * ? *)",
            ["Mon 2026-11-30 12:01", "Mon 2026-11-30 12:11", "Mon 2026-11-30 12:21"],
        ),
        # 8:00 on the first of every month; the last day of the month (L)
        (
            "cron(0 8 1 * ? *)",
            ["Tue 2026-12-01 08:00", "Fri 2027-01-01 08:00", "Mon 2027-02-01 08:00"],
        ),
        (
            "cron(0 0 L * ? *)",
            ["Thu 2026-12-31 00:00", "Sun 2027-01-31 00:00", "Sun 2027-02-28 00:00"],
        ),
        # the weekday nearest the 15th (W): 2027-05-15 is a Saturday, so Friday the 14th
        (
            "cron(0 0 15W * ? *)",
            ["Tue 2026-12-15 00:00", "Fri 2027-01-15 00:00", "Mon 2027-02-15 00:00"],
        ),
        (
            "cron(0 0 15W 5 ? *)",
            ["Fri 2027-05-14 00:00", "Mon 2028-05-15 00:00", "Tue 2029-05-15 00:00"],
        ),
        # the third Friday (6#3), the last Friday (6L), the last day of the week (L: Saturday)
        (
            "cron(0 0 ? * 6#3 *)",
            ["Fri 2026-12-18 00:00", "Fri 2027-01-15 00:00", "Fri 2027-02-19 00:00"],
        ),
        (
            "cron(0 0 ? * FRI#1 *)",
            ["Fri 2026-12-04 00:00", "Fri 2027-01-01 00:00", "Fri 2027-02-05 00:00"],
        ),
        (
            "cron(0 0 ? * 6L *)",
            ["Fri 2026-12-25 00:00", "Fri 2027-01-29 00:00", "Fri 2027-02-26 00:00"],
        ),
        (
            "cron(0 0 ? * L *)",
            ["Sat 2026-12-05 00:00", "Sat 2026-12-12 00:00", "Sat 2026-12-19 00:00"],
        ),
        # named months, a year
        ("cron(30 6 1 JAN,JUL ? 2027)", ["Fri 2027-01-01 06:30", "Thu 2027-07-01 06:30"]),
    ],
)
def test_aws_cron_expressions_give_awss_next_times(expression, expected):
    assert runs(expression, count=len(expected)) == expected


def test_a_cron_whose_years_are_over_has_no_next_run():
    assert parse("cron(0 0 1 1 ? 2020)").next_after(START, START) is None


def test_a_rate_counts_its_periods_from_when_the_rule_was_created_or_enabled():
    anchor = START - 90 * 60  # created at 10:30
    assert runs("rate(1 hour)", anchor=anchor) == [
        "Mon 2026-11-30 12:30",
        "Mon 2026-11-30 13:30",
        "Mon 2026-11-30 14:30",
    ]
    assert runs("rate(5 minutes)", count=2) == ["Mon 2026-11-30 12:05", "Mon 2026-11-30 12:10"]
    assert runs("rate(2 days)", count=1) == ["Wed 2026-12-02 12:00"]
    assert runs("rate(1 day)", count=1) == ["Tue 2026-12-01 12:00"]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("rate(1 hours)", "a value of 1 takes the unit 'hour'"),
        ("rate(5 hour)", "a value of 5 takes the unit 'hours'"),
        ("rate(0 minutes)", "positive"),
        ("rate(3 weeks)", "is not one of minute(s), hour(s), day(s)"),
        ("cron(0 10 * * *)", "six fields"),
        ("cron(0 10 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 10 ? * 8 *)", "day of week '8' is not 1-7"),
        ("cron(0 0 LW * ? *)", "LW"),
        ("cron(0 0 1 1 ? 2199)", "croniter cannot schedule it"),
        ("cron(0 25 * * ? *)", "croniter cannot schedule it"),
        ("every hour", "neither rate(value unit) nor cron("),
    ],
)
def test_what_cannot_be_scheduled_is_refused_saying_why(expression, says):
    with pytest.raises(ScheduleError) as raised:
        parse(expression)
    assert says in str(raised.value)
    assert expression in str(raised.value)


RULE = RuleRef("r", "arn:aws:events:us-east-1:123456789012:rule/r", "default", ())
EC2_EVENT = {  # AWS's example event for its input transformer examples
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state"}


def test_an_input_transformer_with_a_json_template_inserts_json_values():
    out = transform(
        {
            "InputPathsMap": {**PATHS, "resource": "$.resources[0]", "detail": "$.detail"},
            "InputTemplate": '{"instance": <instance>, "state": [9, <state>, true], '
            '"Transformed": "Yes", "about": <resource>, "d": <detail>}',
        },
        EC2_EVENT,
        RULE,
        0,
    )
    assert json.loads(out) == {
        "instance": "i-0123456789",
        "state": [9, "RUNNING", True],
        "Transformed": "Yes",
        "about": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111",
        "d": {"instance-id": "i-0123456789", "state": "RUNNING"},
    }


def test_an_input_transformer_inserts_values_in_quotes_escaped_and_strings_as_text():
    quoted = transform(
        {
            "InputPathsMap": {**PATHS, "missing": "$.detail.nothing"},
            "InputTemplate": '{"myStatus": "<instance> is in state \\"<state>\\"", "n": <missing>}',
        },
        EC2_EVENT,
        RULE,
        0,
    )
    assert json.loads(quoted) == {"myStatus": 'i-0123456789 is in state "RUNNING"', "n": None}
    text = transform(
        {"InputPathsMap": PATHS, "InputTemplate": '"instance <instance> is in <state>"'},
        EC2_EVENT,
        RULE,
        0,
    )
    assert text == '"instance i-0123456789 is in RUNNING"'


def test_an_input_transformer_has_awss_predefined_variables():
    out = json.loads(
        transform(
            {
                "InputTemplate": '{"rule": "<aws.events.rule-name>", '
                '"arn": "<aws.events.rule-arn>", "at": "<aws.events.event.ingestion-time>", '
                '"e": <aws.events.event>, '
                '"full": <aws.events.event.json>}'
            },
            EC2_EVENT,
            RULE,
            datetime(2026, 12, 1, 10, tzinfo=UTC).timestamp(),
        )
    )
    assert out["rule"] == "r" and out["arn"] == RULE.arn
    assert out["at"] == "2026-12-01T10:00:00Z"
    assert out["full"] == EC2_EVENT
    assert "detail" not in out["e"] and out["e"]["detailType"] == EC2_EVENT["detail-type"]


def test_an_undefined_placeholder_is_an_error_naming_it():
    with pytest.raises(ValueError, match="invalid placeholder nope"):
        transform({"InputTemplate": '{"a": <nope>}'}, EC2_EVENT, RULE, 0)


def test_input_and_input_path_and_the_whole_event():
    assert target_input({"Input": '{"k": 1}'}, EC2_EVENT, RULE, 0) == '{"k": 1}'
    assert json.loads(target_input({"InputPath": "$.detail"}, EC2_EVENT, RULE, 0)) == {
        "instance-id": "i-0123456789",
        "state": "RUNNING",
    }
    assert json.loads(target_input({}, EC2_EVENT, RULE, 0)) == EC2_EVENT
    with pytest.raises(ValueError, match="only one of Input, InputPath, InputTransformer"):
        target_input({"Input": "{}", "InputPath": "$"}, EC2_EVENT, RULE, 0)


def test_a_batch_target_is_a_submit_job_with_its_parameters_and_the_inputs_documents():
    target = {
        "Id": "job",
        "Arn": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "BatchParameters": {
            "JobDefinition": "jd",
            "JobName": "monitor",
            "ArrayProperties": {"Size": 3},
            "RetryStrategy": {"Attempts": 2},
        },
    }
    payload = json.dumps(
        {
            "Parameters": {"bucket": "b", "shards": 4},
            "ContainerOverrides": {
                "Command": ["echo", "Ref::bucket"],
                "Environment": [{"Name": "A", "Value": "1"}],
            },
        }
    )
    assert submit_job_request(target, payload) == {
        "jobName": "monitor",
        "jobQueue": target["Arn"],
        "jobDefinition": "jd",
        "arrayProperties": {"size": 3},
        "retryStrategy": {"attempts": 2},
        "parameters": {"bucket": "b", "shards": "4"},
        "containerOverrides": {
            "command": ["echo", "Ref::bucket"],
            "environment": [{"name": "A", "value": "1"}],
        },
    }
    scheduled = submit_job_request(target, json.dumps({"detail-type": "Scheduled Event"}))
    assert "parameters" not in scheduled and "containerOverrides" not in scheduled
    with pytest.raises(ValueError, match=r"BatchParameters\.JobDefinition and JobName"):
        submit_job_request({"Arn": target["Arn"]}, "{}")

"""`byo events list` and `byo events fire` against the embedded AWS: the monitoring module's kind
of rule (a schedule with a Batch job queue target) fired now submits its job."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner
from rich.console import Console

from operators.cli import cli
from operators.cli.options import guarded
from tests.helpers.aws import fargate_job_queue

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch):
    """Tables as wide as their rows, so that what a test looks for is on one line."""
    monkeypatch.setattr("operators.cli.events.console", Console(width=250))


def byo(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def monitor_rule(emulator) -> dict:
    """A rule like terraform/modules/monitoring's <name>-monitor-schedule."""
    job_queue, definition = fargate_job_queue(emulator, ["monitor", "run", "--window", "1h"])
    name = f"byo-{uuid.uuid4().hex[:6]}-monitor-schedule"
    job_name = name.removesuffix("-schedule")
    events = emulator.client("events")
    arn = events.put_rule(Name=name, ScheduleExpression="rate(1 hour)")["RuleArn"]
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
    return {"name": name, "arn": arn, "queue": job_queue, "job_name": job_name}


def test_byo_events_list_shows_the_rule_its_schedule_next_run_and_target(emulator, monitor_rule):
    result = byo("events", "list", "--json")
    assert result.exit_code == 0, result.output
    (rule,) = [r for r in json.loads(result.output) if r["name"] == monitor_rule["name"]]
    assert rule["schedule"] == "rate(1 hour)" and rule["state"] == "ENABLED"
    assert rule["next"]  # the embedded AWS says when it runs next
    assert rule["targets"] == [{"id": "monitor-job", "arn": monitor_rule["queue"]}]

    table = byo("events", "list")
    assert table.exit_code == 0, table.output
    assert monitor_rule["name"] in table.output and "rate(1 hour)" in table.output


def test_byo_events_fire_submits_the_rules_batch_job_and_prints_it(emulator, monitor_rule):
    result = byo("events", "fire", monitor_rule["name"], "--json")
    assert result.exit_code == 0, result.output
    fired = json.loads(result.output)
    assert (fired["rule"], fired["via"]) == (monitor_rule["arn"], "emulator")
    (target,) = fired["targets"]
    job_id = target["result"]["jobId"]
    job = emulator.client("batch").describe_jobs(jobs=[job_id])["jobs"][0]
    assert (job["jobName"], job["jobQueue"]) == (monitor_rule["job_name"], monitor_rule["queue"])

    shown = byo("events", "fire", monitor_rule["name"])
    assert shown.exit_code == 0, shown.output
    assert f"Batch job {monitor_rule['job_name']}" in shown.output


def test_byo_events_fire_of_an_unknown_rule_is_a_usage_error(emulator, capsys):
    code = guarded(cli.main, ["events", "fire", "no-such-rule"], standalone_mode=False)
    assert code == 2
    assert "error: Rule no-such-rule does not exist on EventBus default." in capsys.readouterr().err

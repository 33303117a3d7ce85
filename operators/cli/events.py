"""`byo events …`: the EventBridge rules, and firing one now (the monitoring schedule's rule
<name>-monitor-schedule submits the monitor job)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from operators import events
from operators.aws import Clients
from operators.cli.options import console, err_console, json_option, print_json, table
from operators.errors import ByoError


@click.group("events")
def events_group() -> None:
    """EventBridge rules: list them, or fire one now (the scheduled monitor, ...)."""


@events_group.command("list")
@json_option("Print the rules as JSON.")
def events_list_cmd(as_json: bool) -> None:
    """Every rule on every event bus: state, schedule or pattern, next run, targets."""
    rules = events.list_rules(Clients())
    if as_json:
        print_json(rules)
        return
    rows = [
        (
            rule["name"],
            rule["event_bus"],
            rule["state"],
            rule["schedule"] or json.dumps(rule["pattern"], separators=(",", ":")),
            rule["next"] or "-",
            "\n".join(f"{t['id']}: {t['arn']}" for t in rule["targets"]) or "-",
        )
        for rule in rules
    ]
    console.print(
        table(
            "EventBridge rules",
            ["rule", "bus", "state", "schedule / pattern", "next run", "targets"],
            rows,
        )
    )


@events_group.command("fire")
@click.argument("rule")
@click.option("--event-bus", default="default", show_default=True, help="The rule's event bus.")
@click.option(
    "--event",
    "event_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON event to fire the rule with (a pattern rule; the embedded AWS only).",
)
@json_option("Print the targets' results as JSON.")
def events_fire_cmd(rule: str, event_bus: str, event_file: Path | None, as_json: bool) -> None:
    """Fire RULE's targets now, as its schedule would; print what each target returned (a Batch
    job's id and name: follow it with `aws batch describe-jobs --jobs ID`)."""
    event = None
    if event_file is not None:
        try:
            event = json.loads(event_file.read_text())
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--event") from None
        if not isinstance(event, dict):
            raise click.BadParameter("the event must be a JSON object", param_hint="--event")
    fired = events.fire_rule(Clients(), rule, event_bus, event)
    failed = [t for t in fired["targets"] if "error" in t["result"]]
    if as_json:
        print_json(fired)
    else:
        rows = []
        for target in fired["targets"]:
            result = target["result"]
            if "error" in result:
                shown = f"error: {result['error']}"
            elif "jobId" in result:
                shown = f"Batch job {result['jobName']} {result['jobId']}"
            else:
                shown = ", ".join(f"{k} {v}" for k, v in result.items())
            rows.append((target["id"], target["arn"], shown))
        console.print(
            table(f"fired {fired['rule']} (via {fired['via']})", ["target", "arn", "result"], rows)
        )
        if not fired["targets"]:
            err_console.print(f"rule {rule} has no targets: nothing was run")
    if failed:
        raise ByoError(f"{len(failed)} of {len(fired['targets'])} targets of {rule} failed")

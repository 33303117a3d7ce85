"""`byo alarms …`: the alarms' states, one alarm's history, and the notifications they sent."""

from __future__ import annotations

import click

from operators import alarms
from operators.aws import Clients
from operators.cli.options import console, err_console, json_option, print_json, table

STATE_STYLES = {"ALARM": "red", "OK": "green", "INSUFFICIENT_DATA": "yellow"}


@click.group("alarms")
def alarms_group() -> None:
    """CloudWatch alarms: states and history, and the notifications they sent."""


@alarms_group.command("list")
@click.option(
    "--state",
    type=click.Choice(alarms.STATES, case_sensitive=False),
    help="Only the alarms in this state.",
)
@json_option()
def alarms_list_cmd(state: str | None, as_json: bool) -> None:
    """Every alarm: its state and since when, and the metric it watches (--json: and why it is
    in that state)."""
    found = alarms.list_alarms(Clients(), state.upper() if state else None)
    if as_json:
        print_json(found)
        return
    if not found:
        err_console.print(f"no alarms{f' in {state.upper()}' if state else ''}")
        return
    rows = [
        (a["name"], a["state"], a["updated"] or "-", a["metric"], a["condition"] or "-")
        for a in found
    ]
    console.print(
        table(
            "alarms",
            ["alarm", "state", "since", "metric", "alarms when"],
            rows,
            styles=[STATE_STYLES.get(a["state"]) for a in found],
        )
    )


@alarms_group.command("history")
@click.argument("name")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N items."
)
@click.option(
    "--type", "kind", type=click.Choice(alarms.HISTORY_ITEM_TYPES), help="Only items of this type."
)
@json_option()
def alarms_history_cmd(name: str, limit: int, kind: str | None, as_json: bool) -> None:
    """Alarm NAME's history, newest first: its changes of state and the actions they ran."""
    items = alarms.alarm_history(Clients(), name, limit, kind)
    if as_json:
        print_json(items)
        return
    if not items:
        err_console.print(f"no history for {name} yet")
        return
    rows = [(i["time"] or "-", i["type"] or "-", i["summary"] or "-") for i in items]
    console.print(table(f"history of {name}", ["time", "type", "summary"], rows))


@alarms_group.command("outbox")
@click.option("--topic", help="Only the deliveries of this SNS topic ARN.")
@click.option(
    "--protocol", help="Only the deliveries of this protocol (email, email-json, sms, http, https)."
)
@json_option()
def alarms_outbox_cmd(topic: str | None, protocol: str | None, as_json: bool) -> None:
    """The email, SMS and HTTP(S) notifications the embedded AWS recorded instead of sending
    them, oldest first."""
    records = alarms.outbox(Clients(), topic, protocol)
    if as_json:
        print_json(records)
        return
    if not records:
        err_console.print("the outbox is empty")
        return
    rows = [
        (
            r["time"],
            r["protocol"],
            r["endpoint"],
            r.get("subject") or "-",
            alarms.describe_delivery(r),
        )
        for r in records
    ]
    console.print(
        table("notification outbox", ["time", "protocol", "to", "subject", "message"], rows)
    )

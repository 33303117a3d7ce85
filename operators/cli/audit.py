"""`byo audit`: who changed the endpoint, its traffic and the registry — when, from where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from operators import audit
from operators.aws import Clients
from operators.cli.options import (
    console,
    err_console,
    json_option,
    print_json,
    since_option,
    table,
)
from operators.config import Settings
from operators.errors import ConfigError


@click.command("audit")
@since_option("How far back to read the audit trail (e.g. 30m, 1h, 2d).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([*audit.CHANGE_KINDS, "other"]),
    help="Only changes of this kind (repeat for several): endpoint (endpoints, configs, "
    "models), traffic (weights, capacities, scaling), registry (versions, approvals), other "
    "(SageMaker and scaling writes of no kind above). Default: endpoint, traffic, registry.",
)
@click.option(
    "--untrusted", is_flag=True, help="Only the changes by callers outside the trusted roles."
)
@click.option(
    "--log-group",
    help="The trail's CloudWatch Logs group [env BYO_AUDIT_LOG_GROUP; stack output "
    "audit.log_group].",
)
@json_option()
@click.pass_obj
def audit_cmd(
    settings: Settings,
    since: timedelta,
    kinds: tuple[str, ...],
    untrusted: bool,
    log_group: str | None,
    as_json: bool,
) -> None:
    """Who changed what serves, oldest first: each endpoint, traffic and registry change the
    audit trail recorded — when, the caller (role session, IAM user, root, or a service on the
    account's behalf) and whether it is a trusted role, from which address and region, on
    what, and its outcome."""
    outputs = settings.get("audit") or {}
    group = log_group or settings.get("audit_log_group") or outputs.get("log_group")
    if not group:
        raise ConfigError(
            "no audit trail: pass --log-group, set BYO_AUDIT_LOG_GROUP, or apply the stack "
            "with enable_audit = true (its output audit.log_group)"
        )
    now = datetime.now(UTC)
    found = audit.changes(
        Clients(),
        group,
        now - since,
        now,
        kinds=kinds or audit.CHANGE_KINDS,
        trusted=outputs.get("trusted_role_arns") or [],
    )
    if untrusted:
        found = [c for c in found if not c["trusted"]]
    if as_json:
        print_json(found)
        return
    if not found:
        err_console.print(f"no changes in the last {_ago(since)} ({group})")
        return
    rows = [
        (
            c["time"],
            c["caller"],
            "yes" if c["trusted"] else "no",
            c["from"] or "-",
            c["region"] or "-",
            c["event"],
            c["target"],
            c["detail"] or "",
            c["outcome"],
        )
        for c in found
    ]
    styles = [
        "red"
        if c["outcome"] == "ok" and not c["trusted"]
        else "dim"
        if c["outcome"] != "ok"
        else None
        for c in found
    ]
    console.print(
        table(
            f"changes in the last {_ago(since)}",
            ["time", "caller", "trusted", "from", "region", "call", "on", "what", "outcome"],
            rows,
            styles=styles,
        )
    )


def _ago(since: timedelta) -> str:
    seconds = int(since.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"

"""`byo status`: the live state of the endpoint, its batch jobs and the registry."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from operators import status
from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    json_option,
    print_json,
    table,
    variants_table,
)
from operators.config import Settings


@click.command("status")
@endpoint_option()
@json_option()
@click.pass_obj
def status_cmd(settings: Settings, endpoint: str | None, as_json: bool) -> None:
    """The live state: endpoint, variants (weight, instances, autoscaling, model), recent batch
    jobs and registered model versions."""
    clients = Clients()
    settings = settings.with_options(endpoint_name=endpoint)
    name = settings.require("endpoint_name", "--endpoint")
    report: dict[str, Any] = status.endpoint_status(clients, name)
    table_name = settings.get("job_table")
    report["recent_jobs"] = status.recent_jobs(clients, table_name) if table_name else []
    group = settings.get("model_package_group")
    report["registry"] = status.registry_versions(clients, group) if group else []
    if as_json:
        print_json(report)
        return
    console.print(
        f"endpoint [bold]{report['endpoint']}[/] {report['status']} "
        f"(config {report['config']}, data capture "
        f"{'on' if report['data_capture'] else 'off'})"
    )
    console.print(variants_table("variants", report["variants"]))
    scaled = [v for v in report["variants"] if v.get("autoscaling")]
    if scaled:
        console.print(autoscaling_table(scaled))
    console.print(
        table(
            "recent batch jobs",
            ["input", "status", "started", "rows in", "scored", "rejected"],
            [
                [
                    str(job.get(k) or "-")
                    for k in ("Key", "Status", "StartTime", "RowsIn", "RowsScored", "RowsRejected")
                ]
                for job in report["recent_jobs"]
            ],
        )
    )
    console.print(
        table(
            f"model registry {group or '-'}",
            ["version", "status"],
            [(str(p["version"]), p["status"]) for p in report["registry"]],
        )
    )


def autoscaling_table(variants: list[dict[str, Any]]) -> Table:
    """Each autoscaled variant's desired and current instance count, its bounds and its last
    scaling activity."""
    rows = []
    for v in variants:
        activity = v.get("last_scaling_activity") or {}
        low, high = v["autoscaling"]
        rows.append(
            (
                v["variant"],
                str(v.get("desired_instances") if v.get("desired_instances") is not None else "-"),
                str(v.get("instances") if v.get("instances") is not None else "-"),
                f"{low}-{high}",
                activity["time"].replace("T", " ").removesuffix("+00:00") if activity else "-",
                activity.get("description") or "-",
            )
        )
    return table(
        "autoscaling",
        ["variant", "desired", "current", "min-max", "last activity (UTC)", "description"],
        rows,
        right=["desired", "current", "min-max"],
    )

"""`byo status`: the live state of the endpoint, its batch jobs and the registry."""

from __future__ import annotations

from typing import Any

import click

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

"""`byo invoke`: a CSV's rows as traffic to the endpoint."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import Progress

from operators import invoke
from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    err_console,
    json_option,
    print_json,
    table,
)
from operators.config import Settings
from operators.errors import ByoError


@click.command("invoke")
@click.option(
    "--file",
    "rows_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Headerless CSV: one request per line.",
)
@endpoint_option()
@click.option("--target-variant", help="Send every request to this variant.")
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    help="At most this many requests per second.",
)
@click.option(
    "--inference-id-prefix",
    help="InferenceId = PREFIX + row index (joins captures with ground truth).",
)
@json_option()
@click.pass_obj
def invoke_cmd(
    settings: Settings,
    rows_file: Path,
    endpoint: str | None,
    target_variant: str | None,
    rate: float | None,
    inference_id_prefix: str | None,
    as_json: bool,
) -> None:
    """Send the rows of a CSV to the endpoint as traffic, with a summary per variant."""
    name = settings.with_options(endpoint_name=endpoint).require("endpoint_name", "--endpoint")
    rows = [line for line in rows_file.read_text().splitlines() if line.strip()]
    with Progress(transient=True, console=err_console, disable=as_json) as progress:
        task = progress.add_task(f"invoking {name}", total=len(rows))
        summary = invoke.send_rows(
            Clients(),
            name,
            rows,
            target_variant=target_variant,
            rate=rate,
            inference_id_prefix=inference_id_prefix,
            on_row=lambda: progress.advance(task),
        )
    if as_json:
        print_json({"endpoint": name, **summary.as_dict()})
    else:
        rows = [(variant, str(n)) for variant, n in sorted(summary.per_variant.items())]
        rows += [(f"[red]error: {code}[/]", str(n)) for code, n in sorted(summary.errors.items())]
        console.print(
            table(
                f"{summary.sent} requests to {name} in {summary.seconds:.1f} s",
                ["variant", "requests"],
                rows,
                right=["requests"],
            )
        )
    if summary.errors:
        raise ByoError(f"{sum(summary.errors.values())} of {summary.sent} requests failed")

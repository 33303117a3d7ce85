"""`byo invoke`: a CSV's rows as traffic to the endpoint, or as one asynchronous inference."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from operators import invoke
from operators import regions as regions_lib
from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    err_console,
    json_option,
    print_json,
    regions_option,
    table,
)
from operators.config import Settings
from operators.errors import ByoError
from operators.layout import Layout


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
    "--target-model",
    help="TargetModel of every request: the model (under the multi-model endpoint's model data "
    "prefix, e.g. churn/v2/model.tar.gz) that answers.",
)
@click.option(
    "--async",
    "as_async",
    is_flag=True,
    help="Upload the file to the data bucket (async/input/) as ONE request, InvokeEndpointAsync "
    "on an asynchronous endpoint, wait for its output (or failure) object and print it.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    help="With --async: seconds to wait for the output or failure object.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    help="At most this many requests per second.",
)
@click.option(
    "--inference-id-prefix",
    help="InferenceId = PREFIX + row index (joins captures with ground truth).",
)
@regions_option(
    "Fail over across these regions' endpoints of a multi-region stack (all: primary first): "
    "a row whose region's endpoint is gone, unreachable or failing goes to the next region."
)
@json_option()
@click.pass_obj
def invoke_cmd(
    settings: Settings,
    rows_file: Path,
    endpoint: str | None,
    target_variant: str | None,
    target_model: str | None,
    as_async: bool,
    timeout: float,
    rate: float | None,
    inference_id_prefix: str | None,
    regions: str | None,
    as_json: bool,
) -> None:
    """Send the rows of a CSV to the endpoint as traffic, with a summary per variant (or, with
    --async, as one asynchronous inference, printing its answer)."""
    if regions and (endpoint or as_async):
        raise click.UsageError(
            "--regions sends to each region's own endpoint: it takes neither --endpoint nor "
            "--async."
        )
    failover = (
        regions_lib.failover_targets(settings, regions_lib.select(settings, regions))
        if regions
        else None
    )
    name = (
        " → ".join(f"{t.endpoint} ({t.region})" for t in failover)
        if failover
        else settings.with_options(endpoint_name=endpoint).require("endpoint_name", "--endpoint")
    )
    rows = [line for line in rows_file.read_text().splitlines() if line.strip()]
    if as_async:
        clashing = [
            option
            for option, value in (
                ("--target-variant", target_variant),
                ("--target-model", target_model),
                ("--rate", rate),
                ("--inference-id-prefix", inference_id_prefix),
            )
            if value
        ]
        if clashing:
            raise click.UsageError(
                f"--async sends one InvokeEndpointAsync request, which takes none of "
                f"{', '.join(clashing)}."
            )
        if not rows:
            raise click.BadParameter(f"{rows_file} has no rows", param_hint="--file")
        invoke_async(settings, name, "\n".join(rows) + "\n", timeout, as_json)
        return
    with Progress(transient=True, console=err_console, disable=as_json) as progress:
        task = progress.add_task(f"invoking {name}", total=len(rows))
        summary = invoke.send_rows(
            Clients(),
            name,
            rows,
            target_variant=target_variant,
            target_model=target_model,
            rate=rate,
            inference_id_prefix=inference_id_prefix,
            on_row=lambda: progress.advance(task),
            failover=failover,
        )
    if as_json:
        print_json({"endpoint": name, **summary.as_dict()})
    else:
        rows = [(variant, str(n)) for variant, n in sorted(summary.per_variant.items())]
        rows += [(f"[red]error: {code}[/]", str(n)) for code, n in sorted(summary.errors.items())]
        rows += [(f"answered in {r}", str(n)) for r, n in sorted(summary.per_region.items())]
        rows += [(f"[yellow]failed over {r}[/]", str(n)) for r, n in summary.failovers.items()]
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


def invoke_async(settings: Settings, name: str, body: str, timeout: float, as_json: bool) -> None:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, transient=True, console=err_console, disable=as_json) as progress:
        task = progress.add_task(f"waiting for {name}'s asynchronous answer", total=None)
        answer = invoke.invoke_async(
            Clients(),
            name,
            body.encode(),
            Layout.from_settings(settings),
            timeout_s=timeout,
            on_wait=lambda elapsed: progress.update(task),
        )
    if as_json:
        print_json({"endpoint": name, **answer.as_dict()})
        return
    err_console.print(
        f"{answer.inference_id}: {answer.output_location} after {answer.seconds:.1f} s"
    )
    console.print(answer.body.decode("utf-8", "replace"), end="", markup=False, highlight=False)

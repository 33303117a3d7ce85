"""`byo batch …`: submit a CSV to the platform's batch flow, or score S3 CSVs here with the Batch
job's own entry point."""

from __future__ import annotations

import json
from pathlib import Path

import click

from operators import batch
from operators.aws import Clients
from operators.cli.options import console, err_console, json_option, print_json, table
from operators.config import Settings
from operators.errors import ConfigError
from operators.layout import Layout
from operators.s3 import split_uri


@click.group("batch")
def batch_group() -> None:
    """Batch scoring of S3 CSVs (the job AWS Batch runs)."""


@batch_group.command("submit")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Input object name NAME.csv [default: the file's name].")
@click.option("--job-table", help="DynamoDB job table [env BYO_JOB_TABLE; stack output job_table].")
@click.option(
    "--wait/--no-wait", default=True, show_default=True, help="Wait for the job's record."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=900,
    show_default=True,
    help="Seconds to wait for the job.",
)
@json_option("Print the job record as JSON.")
@click.pass_obj
def batch_submit_cmd(
    settings: Settings,
    path: Path,
    name: str | None,
    job_table: str | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Upload PATH to the data bucket's input/ prefix; the S3 trigger submits its Batch job."""
    clients = Clients()
    layout = Layout.from_settings(settings)
    uploaded = batch.upload_input(clients, layout, path, name)
    err_console.print(f"uploaded {path} to {uploaded.uri} ({uploaded.size:,} bytes)")
    if not wait:
        if as_json:
            print_json({"uri": uploaded.uri, "record": uploaded.record_key})
        return
    job_table = settings.with_options(job_table=job_table).require("job_table", "--job-table")
    with err_console.status("waiting for the batch job") as line:
        record = batch.wait_for_job(
            clients,
            job_table,
            uploaded.record_key,
            timeout_s=timeout,
            on_progress=lambda progress: line.update(progress.describe()),
        )
    if as_json:
        print_json(record)
        return
    job = record.pop("Job") or {}
    rows = [("batch job", f"{job.get('jobId')} {job.get('status')}")]
    rows += [(k, str(v)) for k, v in sorted(record.items())]
    console.print(table(f"job record: {uploaded.uri}", ["field", "value"], rows, show_header=False))


@batch_group.command("run")
@click.argument("uri")
@click.option(
    "--endpoint",
    envvar="BYO_ENDPOINT_NAME",
    required=True,
    help="Endpoint to score with [env BYO_ENDPOINT_NAME].",
)
@click.option(
    "--job-table",
    envvar="BYO_JOB_TABLE",
    default="",
    show_default=False,
    help="DynamoDB job table for the job record [env BYO_JOB_TABLE].",
)
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run as an array of N children over line-aligned byte ranges (in turn).",
)
@click.option("--batch-rows", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True)
@json_option("Print the summary as JSON.")
def batch_run_cmd(
    uri: str,
    endpoint: str,
    job_table: str,
    shards: int,
    batch_rows: int,
    concurrency: int,
    as_json: bool,
) -> None:
    """Score s3://BUCKET/input/NAME.csv locally with the Batch job's own entry point."""
    try:
        _, key = split_uri(uri)
    except ConfigError:
        key = ""
    if not key:
        raise click.BadParameter("expected s3://BUCKET/KEY", param_hint="URI")
    summary = batch.run_local(
        Clients(),
        uri,
        endpoint,
        job_table,
        shards=shards,
        batch_rows=batch_rows,
        concurrency=concurrency,
    )
    if as_json:
        print_json(summary)
        return
    rows = []
    for name in ("rows_in", "rows_scored", "rows_rejected", "output", "errors", "variants"):
        value = summary.get(name)
        rows.append((name, json.dumps(value) if isinstance(value, dict) else str(value)))
    console.print(table(f"batch job: {uri}", ["field", "value"], rows, show_header=False))

"""`byo batch …`: score S3 CSVs here with the Batch job's own entry point."""

from __future__ import annotations

import json

import click

from operators import batch
from operators.aws import Clients
from operators.cli.options import console, json_option, print_json, table
from operators.errors import ConfigError
from operators.s3 import split_uri


@click.group("batch")
def batch_group() -> None:
    """Batch scoring of S3 CSVs (the job AWS Batch runs)."""


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

"""`byo transform`: score every object under an S3 prefix with a SageMaker Batch Transform job."""

from __future__ import annotations

import click

from operators import transform
from operators.aws import Clients
from operators.cli.options import console, err_console, json_option, print_json, table
from operators.config import Settings
from operators.errors import ConfigError
from operators.s3 import split_uri


@click.command("transform")
@click.argument("input_uri", metavar="S3_INPUT")
@click.option(
    "--model-version",
    "version",
    type=click.IntRange(min=1),
    required=True,
    help="Registered model version to score with.",
)
@click.option(
    "--output",
    "output_uri",
    help="S3OutputPath [default: s3://<input bucket>/transform-output/<job>].",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the job.")
@click.option(
    "--strategy",
    type=click.Choice(["MultiRecord", "SingleRecord"]),
    help="BatchStrategy [SageMaker's default: MultiRecord].",
)
@click.option(
    "--max-payload-mb",
    type=click.IntRange(0, 100),
    help="MaxPayloadInMB [SageMaker's default: 6; 0: no limit].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="MaxConcurrentTransforms: requests at once [SageMaker's default: 1].",
)
@click.option("--content-type", default="text/csv", show_default=True)
@click.option("--accept", default="text/csv", show_default=True)
@click.option("--gzip", "gzipped", is_flag=True, help="The input objects are gzip-compressed.")
@click.option(
    "--input-filter", help='JSONPath of the input given to the model (e.g. "$[1:]": no id column).'
)
@click.option(
    "--join/--no-join",
    "join_input",
    default=False,
    show_default=True,
    help="JoinSource=Input: each output row is its input row followed by the prediction.",
)
@click.option(
    "--output-filter", help='JSONPath of what is kept of each output row (e.g. "$[0,-1]").'
)
@click.option("--instance-type", default=transform.DEFAULT_INSTANCE_TYPE, show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="Seconds to wait for the job.",
)
@json_option("Print the job's summary as JSON.")
@click.pass_obj
def transform_cmd(
    settings: Settings,
    input_uri: str,
    version: int,
    output_uri: str | None,
    wait: bool,
    strategy: str | None,
    max_payload_mb: int | None,
    concurrency: int | None,
    content_type: str,
    accept: str,
    gzipped: bool,
    input_filter: str | None,
    join_input: bool,
    output_filter: str | None,
    instance_type: str,
    timeout: float,
    as_json: bool,
) -> None:
    """Score every object under S3_INPUT (s3://BUCKET/PREFIX) with model version N; each
    object's predictions go to <output>/<object>.out (a failing object fails the job)."""
    for uri, hint in ((input_uri, "S3_INPUT"), (output_uri, "--output")):
        try:
            if uri is not None:
                split_uri(uri)
        except ConfigError:
            raise click.BadParameter("expected s3://BUCKET/PREFIX", param_hint=hint) from None
    options = transform.Options(
        strategy=strategy,
        max_payload_mb=max_payload_mb,
        concurrency=concurrency,
        content_type=content_type,
        accept=accept,
        compression="Gzip" if gzipped else "None",
        input_filter=input_filter,
        output_filter=output_filter,
        join_input=join_input,
        instance_type=instance_type,
    )
    with err_console.status("starting the transform job") as line:
        summary = transform.transform(
            Clients(),
            input_uri=input_uri,
            group=settings.require("model_package_group"),
            version=version,
            role_arn=settings.require("sagemaker_execution_role_arn"),
            output_uri=output_uri,
            options=options,
            wait_for_it=wait,
            timeout_s=timeout,
            on_progress=lambda progress: line.update(progress.describe()),
        )
    if as_json:
        print_json(summary)
        return
    console.print(f"transform job {summary['job']} {summary['status']} (model {summary['model']})")
    if not wait:
        console.print(f"outputs will be under {summary['output']}")
        return
    rows = [(o["uri"], f"{o['rows']:,}", f"{o['bytes']:,}") for o in summary["outputs"]]
    console.print(
        table(
            f"outputs ({summary['rows']:,} rows in {summary.get('seconds', 0):g} s)",
            ["output", "rows", "bytes"],
            rows,
            right=["rows", "bytes"],
        )
    )

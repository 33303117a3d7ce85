"""The `byo` command line: parse, validate, call a plain function, print.

Configuration lookup order (documented once, here and in the README): CLI option → environment
variable (BYO_*) → .env → Terraform outputs → default.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from operators import (
    batch,
    demo,
    deploy,
    ground_truth,
    invoke,
    registry,
    status,
    teardown,
    traffic,
)
from operators.aws import Clients
from operators.config import Settings
from operators.errors import ByoError
from operators.monitoring.commands import monitor_group
from operators.pipeline.commands import pipeline_group
from operators.stack import StackOutputs

console = Console()
err_console = Console(stderr=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("byo-platform"), prog_name="byo")
@click.option(
    "--outputs",
    "outputs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The stack's saved `terraform output -json` [env BYO_OUTPUTS]; default: ask Terraform.",
)
@click.pass_context
def cli(ctx: click.Context, outputs_file: Path | None) -> None:
    """Operate the BYO model platform: models, endpoints, traffic, monitoring.

    Every setting is looked up in this order: CLI option, environment variable BYO_<NAME>, .env,
    the platform stack's Terraform outputs, default.
    """
    ctx.obj = Settings(outputs_file=outputs_file)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def variants_table(title: str, variants: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("variant", "weight", "traffic", "instances", "autoscaling", "version", "model"):
        table.add_column(column, justify="left" if column in ("variant", "model") else "right")
    for v in variants:
        scaling = v.get("autoscaling")
        table.add_row(
            v["variant"],
            f"{v['weight']:g}",
            f"{v['traffic_share']:.0%}",
            str(v.get("instances") if v.get("instances") is not None else "-"),
            f"{scaling[0]}-{scaling[1]}" if scaling else "-",
            str(v.get("model_version") or "-"),
            v.get("model") or "-",
        )
    return table


@cli.command("status")
@click.option("--endpoint", help="Endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name].")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def status_cmd(settings: Settings, endpoint: str | None, as_json: bool) -> None:
    """The live state: endpoint, variants (weight, instances, autoscaling, model), recent batch
    jobs and registered model versions."""
    clients = Clients()
    settings.options["endpoint_name"] = endpoint
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
    jobs = Table(title="recent batch jobs", title_justify="left")
    for column in ("input", "status", "started", "rows in", "scored", "rejected"):
        jobs.add_column(column)
    for job in report["recent_jobs"]:
        jobs.add_row(
            *(
                str(job.get(k) or "-")
                for k in ("Key", "Status", "StartTime", "RowsIn", "RowsScored", "RowsRejected")
            )
        )
    console.print(jobs)
    registry = Table(title=f"model registry {group or '-'}", title_justify="left")
    for column in ("version", "status"):
        registry.add_column(column)
    for package in report["registry"]:
        registry.add_row(str(package["version"]), package["status"])
    console.print(registry)


@cli.command("invoke")
@click.option(
    "--file",
    "rows_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Headerless CSV: one request per line.",
)
@click.option("--endpoint", help="Endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name].")
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
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
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
    settings.options["endpoint_name"] = endpoint
    name = settings.require("endpoint_name", "--endpoint")
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
        table = Table(
            title=f"{summary.sent} requests to {name} in {summary.seconds:.1f} s",
            title_justify="left",
        )
        table.add_column("variant")
        table.add_column("requests", justify="right")
        for variant, count in sorted(summary.per_variant.items()):
            table.add_row(variant, str(count))
        for code, count in sorted(summary.errors.items()):
            table.add_row(f"[red]error: {code}[/]", str(count))
        console.print(table)
    if summary.errors:
        raise ByoError(f"{sum(summary.errors.values())} of {summary.sent} requests failed")


@cli.group("model")
def model_group() -> None:
    """Model versions in the registry (a SageMaker model package group)."""


def registry_table(title: str, packages: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("version", "status", "AUC", "artifact"):
        table.add_column(column)
    for p in packages:
        auc = f"{p['auc']:.4f}" if p.get("auc") is not None else "-"
        table.add_row(str(p["version"]), p["status"], auc, p["model_data_url"])
    return table


@model_group.command("register")
@click.option(
    "--artifact",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="model.tar.gz holding xgboost-model.",
)
@click.option(
    "--metrics",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="evaluation.json (binary_classification_metrics).",
)
@click.option("--approve", is_flag=True, help="Register as Approved (deployable at once).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def model_register_cmd(
    settings: Settings, artifact: Path, metrics: Path, approve: bool, as_json: bool
) -> None:
    """Upload a model version (content-addressed) and register it with its metrics."""
    package = registry.register(
        Clients(),
        artifact=artifact,
        metrics=metrics,
        bucket=settings.require("data_bucket"),
        group=settings.require("model_package_group"),
        image=settings.require("serving_image"),
        approve=approve,
    )
    if as_json:
        print_json(package)
    else:
        console.print(registry_table("registered", [package]))


@model_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def model_list_cmd(settings: Settings, as_json: bool) -> None:
    """Every registered version with its approval status and AUC."""
    group = settings.require("model_package_group")
    packages = registry.versions(Clients(), group)
    if as_json:
        print_json(packages)
    else:
        console.print(registry_table(f"model registry {group}", packages))


@model_group.command("approve")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def model_approve_cmd(settings: Settings, version: int, as_json: bool) -> None:
    """Approve VERSION for deployment."""
    package = registry.set_status(
        Clients(), settings.require("model_package_group"), version, "Approved"
    )
    if as_json:
        print_json(package)
    else:
        console.print(f"version {package['version']} is {package['status']}")


@model_group.command("reject")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why (kept with the version).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def model_reject_cmd(settings: Settings, version: int, reason: str, as_json: bool) -> None:
    """Reject VERSION, with the reason."""
    package = registry.set_status(
        Clients(), settings.require("model_package_group"), version, "Rejected", reason
    )
    if as_json:
        print_json(package)
    else:
        console.print(f"version {package['version']} is {package['status']}: {reason}")


@cli.command("deploy")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--variant", required=True, help="Variant to serve it (new or existing).")
@click.option(
    "--weight",
    type=click.FloatRange(min=0),
    help="Its traffic weight (default: kept for an existing variant, 1 for a new one).",
)
@click.option("--instances", type=click.IntRange(min=1), help="Its instance count.")
@click.option("--endpoint", help="Endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name].")
@click.option(
    "--blue-green",
    is_flag=True,
    help="On AWS: let SageMaker move the endpoint "
    "blue/green (canary first) and roll back on the alarms.",
)
@click.option("--canary-percent", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option(
    "--canary-wait",
    "canary_wait_s",
    type=click.IntRange(min=0),
    default=300,
    show_default=True,
    help="Seconds the canary serves before the rest moves.",
)
@click.option(
    "--termination-wait",
    "termination_wait_s",
    type=click.IntRange(min=0),
    default=300,
    show_default=True,
    help="Seconds the old fleet is kept afterwards.",
)
@click.option(
    "--rollback-alarm",
    "rollback_alarms",
    multiple=True,
    help="Alarm that rolls the update back (repeatable; default: the stack's 5XX and "
    "p99-latency alarms).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def deploy_cmd(
    settings: Settings,
    version: int,
    variant: str,
    weight: float | None,
    instances: int | None,
    endpoint: str | None,
    blue_green: bool,
    canary_percent: int,
    canary_wait_s: int,
    termination_wait_s: int,
    rollback_alarms: tuple[str, ...],
    as_json: bool,
) -> None:
    """Serve approved model VERSION as VARIANT (other variants and data capture are kept)."""
    settings.options["endpoint_name"] = endpoint
    deployment_config = None
    if blue_green:
        alarms = list(rollback_alarms) or [
            name
            for key, name in (settings.get("alarm_names") or {}).items()
            if key.endswith(("/5xx", "/latency-p99"))
        ]
        deployment_config = deploy.blue_green(
            canary_percent, canary_wait_s, termination_wait_s, alarms
        )
    result = deploy.deploy(
        Clients(),
        endpoint=settings.require("endpoint_name", "--endpoint"),
        group=settings.require("model_package_group"),
        version=version,
        variant=variant,
        role_arn=settings.require("sagemaker_execution_role_arn"),
        weight=weight,
        instances=instances,
        deployment_config=deployment_config,
    )
    if as_json:
        print_json(result)
    else:
        console.print(
            f"version {version} serves as {variant} on {result['endpoint']} "
            f"(config {result['endpoint_config']}, was {result['previous_config']})"
        )


@cli.group("ground-truth")
def ground_truth_group() -> None:
    """Ground-truth labels for captured requests."""


@ground_truth_group.command("generate")
@click.option("--since", type=click.DateTime(), help="Only requests at or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Only requests before (UTC).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--accuracy",
    type=click.FloatRange(0, 1),
    default=0.9,
    show_default=True,
    help="Share of labels that agree with the rule (the rest are flipped).",
)
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled dataset (CSV with a Class column): use known labels.",
)
@click.option("--endpoint", help="Endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name].")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def ground_truth_cmd(
    settings: Settings,
    since,
    until,
    seed: int,
    accuracy: float,
    labels_file: Path | None,
    endpoint: str | None,
    as_json: bool,
) -> None:
    """Label the captured requests (SageMaker's ground-truth JSONL under ground-truth/)."""
    settings.options["endpoint_name"] = endpoint
    summary = ground_truth.generate(
        Clients(),
        capture_uri=settings.require("data_capture_s3_uri"),
        endpoint=settings.require("endpoint_name", "--endpoint"),
        bucket=settings.require("data_bucket"),
        seed=seed,
        accuracy=accuracy,
        labels_file=labels_file,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['labels']} labels ({summary['positives']} positive, "
        f"{summary['flipped']} flipped, {summary['unmatched']} unmatched) from "
        f"{summary['rule']}, written to:"
    )
    for uri in summary["objects"]:
        console.print(f"  {uri}")


@cli.group("traffic")
def traffic_group() -> None:
    """Variant weights: set by hand, or shift gradually."""


@traffic_group.command("set")
@click.argument("weights", nargs=-1, metavar="VARIANT=WEIGHT...")
@click.option("--endpoint", help="Endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name].")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def traffic_set_cmd(
    settings: Settings, weights: tuple[str, ...], endpoint: str | None, as_json: bool
) -> None:
    """Set relative variant weights, e.g. `byo traffic set variant-a=9 variant-b=1`.
    Variants not named keep their weight."""
    parsed = traffic.parse_weights(list(weights))
    settings.options["endpoint_name"] = endpoint
    name = settings.require("endpoint_name", "--endpoint")
    after = traffic.set_weights(Clients(), name, parsed)
    total = sum(v.weight for v in after) or 1.0
    rows = [
        {
            "variant": v.name,
            "weight": v.weight,
            "traffic_share": v.weight / total,
            "instances": v.instances,
        }
        for v in after
    ]
    if as_json:
        print_json({"endpoint": name, "variants": rows})
        return
    console.print(variants_table(f"endpoint {name}: weights now", rows))


@cli.command("demo")
@click.option(
    "--model-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/model"),
    show_default=True,
    help="Directory holding model.tar.gz and evaluation.json (from `make model`).",
)
@click.option(
    "--sample",
    "sample_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("sample/sample.csv"),
    show_default=True,
    help="Headerless feature rows to score with the uploaded model.",
)
@click.option("--bucket", default=demo.DEMO_BUCKET, show_default=True, help="S3 bucket to use.")
@click.option(
    "--endpoint", help="SageMaker endpoint to send the sample rows to (one request each)."
)
@click.option(
    "--outputs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The platform stack's `terraform output -json`: use its bucket and endpoint, and run "
    "the batch flow (S3 input/ -> trigger -> Batch job -> output/).",
)
@click.option(
    "--data",
    "data_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("build/data/creditcard.csv"),
    show_default=True,
    help="Labelled dataset: trains model v2 and labels the ground truth (with --outputs).",
)
def demo_cmd(
    model_dir: Path,
    sample_csv: Path,
    bucket: str,
    endpoint: str | None,
    outputs: Path | None,
    data_csv: Path,
) -> None:
    """Upload the trained model to S3, read it back and score sample rows with it; with
    --endpoint, also score each row through the endpoint and show the variant that served it."""
    clients = Clients()
    config = Settings(outputs_file=outputs) if outputs else None
    stack = StackOutputs.from_settings(config) if config else None
    if stack:
        bucket, endpoint = stack.data_bucket, stack.endpoint_name
    uploaded = demo.upload_model(clients, model_dir, bucket)
    table = Table(title=f"s3://{bucket}", title_justify="left")
    table.add_column("key")
    table.add_column("bytes", justify="right")
    table.add_column("sha256")
    for artifact in uploaded:
        table.add_row(artifact.key, f"{artifact.size:,}", artifact.sha256[:16] + "…")
    console.print(table)
    console.print(f"held-out AUC: {demo.read_auc(model_dir):.4f}")
    scores = demo.score_from_s3(clients, bucket, uploaded[0].key, sample_csv)
    console.print(
        f"scored {len(scores)} rows of {sample_csv} with the model read back from S3: "
        + ", ".join(f"{s:.4f}" for s in scores)
    )
    if endpoint:
        served = Table(
            title=f"endpoint {endpoint}: one request per row of {sample_csv}", title_justify="left"
        )
        for column in ("row", "amount", "fraud probability", "variant"):
            served.add_column(column, justify="left" if column == "variant" else "right")
        for row in demo.invoke_rows(clients, endpoint, sample_csv):
            style = "bold red" if row.probability >= 0.5 else None
            served.add_row(
                str(row.line),
                f"{row.amount:,.2f}",
                f"{row.probability:.4f}",
                row.variant,
                style=style,
            )
        console.print(served)
    if stack:
        flow = demo.batch_flow(clients, stack, sample_csv)
        console.print(f"batch job {flow['job_id']} wrote {flow['output']}:")
        console.print(flow["output_text"].rstrip(), markup=False, highlight=False)
        record = Table(title="job record", title_justify="left", show_header=False)
        for name, value in flow["record"].items():
            record.add_row(name, str(value))
        console.print(record)
        if data_csv.is_file():
            rollout = demo.rollout_story(
                clients, config, data_csv, sample_csv, model_dir.parent, report=console.print
            )
            report = status.endpoint_status(clients, stack.endpoint_name)
            console.print(
                variants_table(f"byo status: endpoint {stack.endpoint_name}", report["variants"])
            )
            outcome = demo.monitoring_story(
                clients,
                config,
                rollout["version"],
                model_dir.parent / "monitoring" / "report",
                report=console.print,
            )
            table = Table(title="drift scenarios (byo monitor scenarios)", title_justify="left")
            for column in ("scenario", "what changed", "fired"):
                table.add_column(column)
            for item in outcome.scenarios:
                table.add_row(
                    item.name,
                    item.description,
                    ", ".join(item.fired) or "nothing",
                    style=None if item.as_expected else "bold red",
                )
            console.print(table)
            console.print(
                f"monitoring report: {outcome.report} (also {outcome.report_uri})",
                highlight=False,
            )


@cli.group("batch")
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
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
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
    if not uri.startswith("s3://") or "/" not in uri.removeprefix("s3://"):
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
        click.echo(json.dumps(summary, indent=2))
        return
    table = Table(title=f"batch job: {uri}", title_justify="left", show_header=False)
    for name in ("rows_in", "rows_scored", "rows_rejected", "output", "errors", "variants"):
        value = summary.get(name)
        table.add_row(name, json.dumps(value) if isinstance(value, dict) else str(value))
    console.print(table)


@traffic_group.command("shift")
@click.option("--to", "target", required=True, help="Variant to move traffic to.")
@click.option(
    "--steps",
    default="10,50,100",
    show_default=True,
    help="Its traffic share after each step, in percent.",
)
@click.option(
    "--interval",
    default="60s",
    show_default=True,
    help="How long to watch each step (e.g. 90s, 5m).",
)
@click.option(
    "--max-5xx-rate",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="Roll back if the variant's 5XX share of requests in a step is higher.",
)
@click.option("--endpoint", help="Endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name].")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def traffic_shift_cmd(
    settings: Settings,
    target: str,
    steps: str,
    interval: str,
    max_5xx_rate: float,
    endpoint: str | None,
    as_json: bool,
) -> None:
    """Shift traffic to a variant in steps, checking its 5XX rate (CloudWatch) after each;
    a failed gate or Ctrl-C restores the weights from before the shift."""
    try:
        percents = [float(p) for p in steps.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"{steps!r}: comma-separated numbers, e.g. 10,50,100", param_hint="--steps"
        ) from None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", interval)
    if not match:
        raise click.BadParameter(f"{interval!r}: e.g. 60s or 5m", param_hint="--interval")
    seconds = float(match.group(1)) * (60 if match.group(2) == "m" else 1)
    settings.options["endpoint_name"] = endpoint
    history = traffic.shift(
        Clients(),
        settings.require("endpoint_name", "--endpoint"),
        target,
        percents,
        seconds,
        max_5xx_rate,
        report=(lambda line: None) if as_json else err_console.print,
    )
    if as_json:
        print_json(history)
    else:
        console.print(
            f"{target} now takes 100% of traffic"
            if percents[-1] == 100
            else f"{target} now takes {percents[-1]:g}% of traffic"
        )


@cli.command("teardown")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--keep-data",
    is_flag=True,
    help="Keep the data bucket, its objects and the job table (destroy everything else).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def teardown_cmd(
    settings: Settings, dry_run: bool, yes: bool, keep_data: bool, as_json: bool
) -> None:
    """Remove what the operators created, then the Terraform stack, in dependency order.
    Running it again finds nothing and exits 0."""
    clients = Clients()
    todo = teardown.plan(clients, settings, keep_data)
    if as_json and (dry_run or todo.empty()):
        print_json({"dry_run": dry_run, **todo.as_dict()})
        return
    if todo.empty():
        console.print("nothing to tear down")
        return
    listing = Table(
        title="teardown" + (" (dry run)" if dry_run else ""),
        title_justify="left",
        show_header=False,
    )
    for arn in todo.model_packages:
        listing.add_row("model package", arn)
    for name in todo.pipelines:
        listing.add_row("SageMaker pipeline", name)
    for name in todo.endpoint_configs:
        listing.add_row("endpoint config", name)
    for name in todo.models:
        listing.add_row("model", name)
    if todo.bucket:
        listing.add_row("bucket objects", f"s3://{todo.bucket}: {todo.objects} versions")
    if todo.stack:
        listing.add_row("terraform", "destroy" + (" (all but storage)" if keep_data else ""))
    console.print(listing)
    if dry_run:
        return
    if not yes and not click.confirm("Remove all of this?", err=True):
        raise click.Abort()
    teardown.execute(clients, settings, todo, keep_data, report=err_console.print)
    if as_json:
        print_json({"dry_run": False, **todo.as_dict()})


cli.add_command(monitor_group)
cli.add_command(pipeline_group)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted", style="red")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ByoError as exc:
        err_console.print(f"error: {exc}", style="red", markup=False)
        sys.exit(exc.exit_code)
    except EndpointConnectionError as exc:
        err_console.print(
            f"error: cannot reach AWS at {exc.kwargs.get('endpoint_url')}: is the emulator "
            "running (make emulator-up), or AWS_ENDPOINT_URL wrong?",
            style="red",
            markup=False,
        )
        sys.exit(1)
    except NoCredentialsError:
        err_console.print(
            "error: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID "
            "(the emulator takes any)",
            style="red",
            markup=False,
        )
        sys.exit(2)
    except ClientError as exc:  # an AWS error no command expected: its code and message
        error = exc.response.get("Error", {})
        err_console.print(
            f"error: AWS {exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}",
            style="red",
            markup=False,
        )
        sys.exit(1)

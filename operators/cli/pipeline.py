"""`byo pipeline …`: run the training pipeline here, list its runs, or emit and upsert it as a
SageMaker pipeline. Its steps as SageMaker's jobs run them are in pipeline_step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from operators.aws import Clients
from operators.cli import LazyCommand, LazyGroup
from operators.cli.options import console, err_console, json_option, print_json, table
from operators.config import Settings
from operators.errors import CheckFailed, ConfigError
from operators.pipeline import definition, params, runner


@click.group(
    "pipeline",
    cls=LazyGroup,
    lazy_commands={
        "step": LazyCommand(
            "operators.cli.pipeline_step:step_group",
            "One step, as a SageMaker processing job runs it in the operators image.",
            hidden=True,
        )
    },
)
def pipeline_group() -> None:
    """Train, evaluate, gate, register and deploy a model version: process → train → evaluate →
    condition (AUC) → register → deploy, locally or as a SageMaker pipeline."""


def name_option(command):
    return click.option(
        "--name",
        help="Pipeline name [env BYO_PIPELINE_NAME; default: <stack name>-pipeline].",
    )(command)


preprocessing_option = click.option(
    "--preprocessing",
    type=click.Choice(params.PREPROCESSING),
    default=params.BY_NAME["Preprocessing"].default,
    show_default=True,
    help="Fit this preprocessor in a preprocess step and register a serial pipeline (what "
    "--param Preprocessing does locally; SageMaker fixes the steps in the definition).",
)

role_option = click.option(
    "--role-arn",
    help="Role the pipeline and its jobs run as [env BYO_PIPELINE_ROLE_ARN; default: the "
    "stack's SageMaker execution role].",
)


def parameters_help() -> str:
    return "; ".join(f"{p.name} (default {p.default!r})" for p in params.PARAMETERS)


def steps_table(record: dict[str, Any]) -> Table:
    rows, styles = [], []
    for step in record["steps"]:
        detail = step.get("reason") or ""
        if step["status"] == "Cached":
            detail = f"outputs of run {step['cached_from']}"
        elif step["name"] == "evaluate" and step["outputs"].get("binary_classification_metrics"):
            metrics = step["outputs"]["binary_classification_metrics"]
            detail = ", ".join(f"{k} {metrics[k]:.4f}" for k in ("auc", "precision", "recall"))
        elif step["name"] == "register" and step["status"] == "Succeeded":
            detail = f"version {step['outputs']['version']} ({step['outputs']['status']})"
        elif step["name"] == "deploy" and step["status"] == "Succeeded":
            detail = f"{step['outputs']['variant']} on {step['outputs']['endpoint']}"
        seconds = f"{step['seconds']:.1f}" if step.get("seconds") is not None else "-"
        rows.append((step["name"], step["status"], seconds, detail))
        styles.append({"Failed": "bold red", "Skipped": "yellow"}.get(step["status"]))
    return table(
        f"pipeline {record['pipeline']} run {record['run_id']}: {record['status']} "
        f"in {record['seconds']:.1f} s",
        ["step", "status", "seconds", "detail"],
        rows,
        right=["seconds"],
        styles=styles,
    )


@pipeline_group.command("run")
@click.option(
    "--param",
    "param_items",
    multiple=True,
    metavar="Name=value",
    help="A pipeline parameter (repeatable): " + parameters_help() + ".",
)
@click.option(
    "--data",
    help="The labelled CSV: a file, a directory of CSVs or an s3:// URI (= --param InputData=…).",
)
@click.option("--no-cache", is_flag=True, help="Run every step, even with unchanged inputs.")
@name_option
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/pipeline"),
    show_default=True,
    help="Local copies of the steps' outputs and the run records.",
)
@click.option(
    "--record",
    "record_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the run record here (like trainmodel_out.json).",
)
@json_option("Print the run record as JSON.")
@click.pass_obj
def run_cmd(
    settings: Settings,
    param_items: tuple[str, ...],
    data: str | None,
    no_cache: bool,
    name: str | None,
    work_dir: Path,
    record_file: Path | None,
    as_json: bool,
) -> None:
    """Run the pipeline's steps here, against the platform's bucket, registry and endpoint.

    A step whose inputs (data, parameters, code version) are unchanged since a run that stored
    its outputs is skipped and reuses them. Exits 3 when the AUC condition fails (nothing is
    registered), with the reason; the run record says what each step did either way.
    """
    overrides: dict[str, Any] = params.parse_assignments(param_items)
    if data is not None:
        if "InputData" in overrides:
            raise ConfigError("give the data once: --data or --param InputData")
        overrides["InputData"] = data
    runs = runner.Runner.from_settings(
        Clients(),
        settings,
        name=name,
        work_dir=work_dir,
        use_cache=not no_cache,
        progress=(lambda _: None) if as_json else (lambda line: err_console.print(line)),
    )
    try:
        record = runs.run(overrides)
    except CheckFailed:
        show_record(runs.record or {}, record_file, as_json)
        raise
    show_record(record, record_file, as_json)


def show_record(record: dict[str, Any], record_file: Path | None, as_json: bool) -> None:
    if record_file is not None:
        record_file.parent.mkdir(parents=True, exist_ok=True)
        record_file.write_text(json.dumps(record, indent=2, default=str) + "\n")
    if as_json:
        print_json(record)
        return
    console.print(steps_table(record))
    console.print(f"run record: {record['record']['local']} (also {record['record']['s3']})")


@pipeline_group.command("runs")
@name_option
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@json_option("Print the run records as JSON.")
@click.pass_obj
def runs_cmd(settings: Settings, name: str | None, limit: int, as_json: bool) -> None:
    """The pipeline's latest runs (from their records in the bucket), newest first."""
    pipeline = runner.Runner.from_settings(Clients(), settings, name=name)
    records = pipeline.runs(limit)
    if as_json:
        print_json(records)
        return
    rows, styles = [], []
    for record in records:
        steps = {s["name"]: s for s in record["steps"]}
        metrics = steps["evaluate"]["outputs"].get("binary_classification_metrics") or {}
        rows.append(
            (
                record["run_id"],
                record["status"],
                f"{record['seconds']:.1f}",
                f"{metrics['auc']:.4f}" if "auc" in metrics else "-",
                str(steps["register"]["outputs"].get("version", "-")),
                " ".join(f"{s['name']}:{s['status']}" for s in record["steps"]),
            )
        )
        styles.append("bold red" if record["status"] == "Failed" else None)
    console.print(
        table(
            f"pipeline {pipeline.name}: latest runs",
            ["run", "status", "seconds", "AUC", "version", "steps"],
            rows,
            styles=styles,
        )
    )


# -- the SageMaker pipeline ---------------------------------------------------------------
@pipeline_group.command("definition")
@name_option
@role_option
@preprocessing_option
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it to this file instead of standard output.",
)
@click.pass_obj
def definition_cmd(
    settings: Settings,
    name: str | None,
    role_arn: str | None,
    preprocessing: str,
    out_file: Path | None,
) -> None:
    """The SageMaker Pipelines definition (JSON) of the same pipeline, built with the sagemaker
    SDK: processing, training (built-in XGBoost), evaluation, the AUC condition, registration and
    the deploy step. Makes no AWS call."""
    document = definition.definition(
        definition.Target.from_settings(
            settings, name, role_arn, Clients().region, preprocessing=preprocessing
        )
    )
    text = json.dumps(document, indent=2) + "\n"
    if out_file is None:
        click.echo(text, nl=False)
    else:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text)
        err_console.print(f"wrote {out_file}")


@pipeline_group.command("upsert")
@name_option
@role_option
@preprocessing_option
@click.option("--description", help="The pipeline's description in SageMaker.")
@json_option()
@click.pass_obj
def upsert_cmd(
    settings: Settings,
    name: str | None,
    role_arn: str | None,
    preprocessing: str,
    description: str | None,
    as_json: bool,
) -> None:
    """Create the pipeline in SageMaker, or update it to this definition."""
    result = definition.upsert(
        Clients(),
        definition.Target.from_settings(
            settings, name, role_arn, Clients().region, preprocessing=preprocessing
        ),
        description=description,
    )
    if as_json:
        print_json(result)
    else:
        console.print(
            f"{'created' if result['created'] else 'updated'} pipeline {result['arn']}: "
            f"{len(result['steps'])} steps, {len(result['parameters'])} parameters",
            highlight=False,
        )

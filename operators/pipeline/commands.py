"""`byo pipeline …`: the click layer over operators.pipeline (parse, call, print)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from operators.aws import Clients
from operators.config import Settings
from operators.errors import CheckFailed, ConfigError
from operators.pipeline import params, runner

console = Console()
err_console = Console(stderr=True)


@click.group("pipeline")
def pipeline_group() -> None:
    """Train, evaluate, gate, register and deploy a model version: process → train → evaluate →
    condition (AUC) → register → deploy, locally or as a SageMaker pipeline."""


def name_option(command):
    return click.option(
        "--name",
        help="Pipeline name [env BYO_PIPELINE_NAME; default: <stack name>-pipeline].",
    )(command)


def parameters_help() -> str:
    return "; ".join(f"{p.name} (default {p.default!r})" for p in params.PARAMETERS)


def steps_table(record: dict[str, Any]) -> Table:
    table = Table(
        title=f"pipeline {record['pipeline']} run {record['run_id']}: {record['status']} "
        f"in {record['seconds']:.1f} s",
        title_justify="left",
    )
    for column in ("step", "status", "seconds", "detail"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
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
        style = {"Failed": "bold red", "Skipped": "yellow"}.get(step["status"])
        seconds = f"{step['seconds']:.1f}" if step.get("seconds") is not None else "-"
        table.add_row(step["name"], step["status"], seconds, detail, style=style)
    return table


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
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
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
        click.echo(json.dumps(record, indent=2, default=str))
        return
    console.print(steps_table(record))
    console.print(f"run record: {record['record']['local']} (also {record['record']['s3']})")


@pipeline_group.command("runs")
@name_option
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the run records as JSON.")
@click.pass_obj
def runs_cmd(settings: Settings, name: str | None, limit: int, as_json: bool) -> None:
    """The pipeline's latest runs (from their records in the bucket), newest first."""
    pipeline = runner.Runner.from_settings(Clients(), settings, name=name)
    records = pipeline.runs(limit)
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    table = Table(title=f"pipeline {pipeline.name}: latest runs", title_justify="left")
    for column in ("run", "status", "seconds", "AUC", "version", "steps"):
        table.add_column(column)
    for record in records:
        steps = {s["name"]: s for s in record["steps"]}
        metrics = steps["evaluate"]["outputs"].get("binary_classification_metrics") or {}
        table.add_row(
            record["run_id"],
            record["status"],
            f"{record['seconds']:.1f}",
            f"{metrics['auc']:.4f}" if "auc" in metrics else "-",
            str(steps["register"]["outputs"].get("version", "-")),
            " ".join(f"{s['name']}:{s['status']}" for s in record["steps"]),
            style="bold red" if record["status"] == "Failed" else None,
        )
    console.print(table)


# -- the SageMaker pipeline ---------------------------------------------------------------
def sagemaker_target(settings: Settings, name: str | None, role_arn: str | None):
    from operators.pipeline import definition

    urls = settings.get("ecr_repository_urls") or {}
    operator_image = settings.get("operator_image") or (
        f"{urls['monitor']}:latest" if "monitor" in urls else None
    )
    if not operator_image:
        raise ConfigError(
            "no operator image: set BYO_OPERATOR_IMAGE or apply the stack (output operator_image)"
        )
    settings.options["pipeline_role_arn"] = role_arn
    group = settings.get("compute_security_group_id")
    prefixes = settings.get("data_prefixes") or {}
    return definition.Target(
        name=runner.pipeline_name(settings, name),
        region=settings.get("region") or Clients().region,
        bucket=settings.require("data_bucket"),
        group=settings.require("model_package_group"),
        role_arn=settings.get("pipeline_role_arn")
        or settings.require("sagemaker_execution_role_arn", "--role-arn"),
        serving_image=settings.require("serving_image"),
        operator_image=operator_image,
        endpoint=settings.require("endpoint_name"),
        kms_key_arn=settings.get("kms_key_arn"),
        subnets=tuple(settings.get("private_subnet_ids") or ()),
        security_group_ids=(group,) if group else (),
        models_prefix=prefixes.get("models", "models/"),
        pipelines_prefix=prefixes.get("pipelines", "pipelines/"),
        endpoint_role_arn=settings.get("sagemaker_execution_role_arn"),
    )


role_option = click.option(
    "--role-arn",
    help="Role the pipeline and its jobs run as [env BYO_PIPELINE_ROLE_ARN; default: the "
    "stack's SageMaker execution role].",
)


@pipeline_group.command("definition")
@name_option
@role_option
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write it to this file instead of standard output.",
)
@click.pass_obj
def definition_cmd(
    settings: Settings, name: str | None, role_arn: str | None, out_file: Path | None
) -> None:
    """The SageMaker Pipelines definition (JSON) of the same pipeline, built with the sagemaker
    SDK: processing, training (built-in XGBoost), evaluation, the AUC condition, registration and
    the deploy step. Makes no AWS call."""
    from operators.pipeline import definition

    document = definition.definition(sagemaker_target(settings, name, role_arn))
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
@click.option("--description", help="The pipeline's description in SageMaker.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_obj
def upsert_cmd(
    settings: Settings,
    name: str | None,
    role_arn: str | None,
    description: str | None,
    as_json: bool,
) -> None:
    """Create the pipeline in SageMaker, or update it to this definition."""
    from operators.pipeline import definition

    result = definition.upsert(
        Clients(), sagemaker_target(settings, name, role_arn), description=description
    )
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        console.print(
            f"{'created' if result['created'] else 'updated'} pipeline {result['arn']}: "
            f"{len(result['steps'])} steps, {len(result['parameters'])} parameters",
            highlight=False,
        )


# -- the steps, as the pipeline's processing jobs run them ----------------------------------
@pipeline_group.group("step", hidden=True)
def step_group() -> None:
    """One step, as a SageMaker processing job runs it in the operators image."""


@step_group.command("process")
@click.option("--input", "input_path", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--target", default=params.BY_NAME["TargetColumn"].default)
@click.option("--train-fraction", type=float, default=params.BY_NAME["TrainFraction"].default)
@click.option(
    "--validation-fraction", type=float, default=params.BY_NAME["ValidationFraction"].default
)
@click.option("--test-fraction", type=float, default=params.BY_NAME["TestFraction"].default)
@click.option("--seed", type=int, default=params.BY_NAME["Seed"].default)
def step_process_cmd(
    input_path: Path,
    output: Path,
    target: str,
    train_fraction: float,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
) -> None:
    """Split the labelled CSV(s) under --input into train/validation/test under --output."""
    from operators.pipeline import steps  # xgboost, scikit-learn

    values = params.resolve(
        {
            "TargetColumn": target,
            "TrainFraction": train_fraction,
            "ValidationFraction": validation_fraction,
            "TestFraction": test_fraction,
            "Seed": seed,
        }
    )
    files = sorted(input_path.rglob("*.csv")) if input_path.is_dir() else [input_path]
    schema = steps.process(
        files,
        output,
        target=values["TargetColumn"],
        train_fraction=values["TrainFraction"],
        validation_fraction=values["ValidationFraction"],
        test_fraction=values["TestFraction"],
        seed=values["Seed"],
    )
    (output / "rejected").mkdir(parents=True, exist_ok=True)  # an output SageMaker uploads
    click.echo(json.dumps(schema, indent=2))


@step_group.command("train")
@click.option("--train", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--validation", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--schema", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--hyperparameters",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="JSON, as SageMaker writes it for a training job (values as strings).",
)
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def step_train_cmd(
    train: Path, validation: Path, schema: Path, hyperparameters: Path, model_dir: Path
) -> None:
    """Train as a SageMaker training job: `xgboost-model` into --model-dir (/opt/ml/model),
    which SageMaker packs into model.tar.gz."""
    from operators.pipeline import steps  # xgboost, scikit-learn

    result = steps.train(
        _one(train, "*.csv"),
        _one(validation, "*.csv"),
        _one(schema, "schema.json"),
        model_dir,
        hyperparameters=params.hyperparameters_from_json(json.loads(hyperparameters.read_text())),
        package=False,
    )
    click.echo(json.dumps(result))


def _one(path: Path, pattern: str) -> Path:
    """The file a processing input directory holds (or the path itself)."""
    if path.is_file():
        return path
    found = sorted(path.rglob(pattern))
    if len(found) != 1:
        raise ConfigError(f"{path}: expected one {pattern}, found {len(found)}")
    return found[0]


@step_group.command("evaluate")
@click.option("--model", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--test", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--train", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--schema", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True)
def step_evaluate_cmd(model: Path, test: Path, train: Path, schema: Path, output: Path) -> None:
    """evaluation.json and the drift-check baselines under --output."""
    from operators.pipeline import steps  # xgboost, scikit-learn

    evaluation = steps.evaluate(
        _one(model, "model.tar.gz"),
        _one(test, "*.csv"),
        _one(train, "*.csv"),
        _one(schema, "schema.json"),
        output,
    )
    click.echo(json.dumps(evaluation["binary_classification_metrics"], indent=2))


@step_group.command("deploy")
@click.option("--model-package-arn", required=True)
@click.option("--variant", required=True)
@click.option("--weight", default="keep", show_default=True)
@click.option("--endpoint", help="Endpoint [env BYO_ENDPOINT_NAME].")
@click.pass_obj
def step_deploy_cmd(
    settings: Settings, model_package_arn: str, variant: str, weight: str, endpoint: str | None
) -> None:
    """Deploy the registered version (if Approved) as --variant."""
    from operators import registry

    clients = Clients()
    settings.options["endpoint_name"] = endpoint
    package = registry.describe(clients, model_package_arn)
    state, reason, outputs = runner.deploy_version(
        clients,
        endpoint=settings.require("endpoint_name", "--endpoint"),
        group=settings.require("model_package_group"),
        role_arn=settings.require("sagemaker_execution_role_arn"),
        version=package["version"],
        variant=variant,
        weight=params.deploy_weight(weight),
    )
    click.echo(json.dumps({"status": state, "reason": reason, **outputs}, default=str))

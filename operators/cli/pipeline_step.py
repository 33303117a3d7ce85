"""`byo pipeline step …` (hidden): one step, as the SageMaker pipeline's processing and
training jobs run it in the operators image. A module of its own: the steps need xgboost and
scikit-learn, which the rest of `byo pipeline` does not."""

from __future__ import annotations

import json
from pathlib import Path

import click

from operators import registry, rollout
from operators.aws import Clients
from operators.cli.options import endpoint_option
from operators.config import Settings
from operators.pipeline import params, runner, steps


@click.group("step", hidden=True)
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
    schema = steps.process_job(
        input_path,
        output,
        target=target,
        train_fraction=train_fraction,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
        seed=seed,
    )
    click.echo(json.dumps(schema, indent=2))


@step_group.command("preprocess")
@click.option("--train", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--validation", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--test", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--schema", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--preprocessing",
    type=click.Choice([m for m in params.PREPROCESSING if m != "none"]),
    required=True,
)
def step_preprocess_cmd(
    train: Path, validation: Path, test: Path, schema: Path, output: Path, preprocessing: str
) -> None:
    """Fit the preprocessor on the train split: preprocessor/preprocess.tar.gz and the splits,
    transformed, under --output."""
    click.echo(
        json.dumps(
            steps.preprocess_job(train, validation, test, schema, output, method=preprocessing)
        )
    )


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
    click.echo(json.dumps(steps.train_job(train, validation, schema, hyperparameters, model_dir)))


@step_group.command("evaluate")
@click.option("--model", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--test", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--train", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--schema", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--preprocessor",
    type=click.Path(exists=True, path_type=Path),
    help="preprocess.tar.gz (or its directory): score the raw splits through it, then the model.",
)
def step_evaluate_cmd(
    model: Path, test: Path, train: Path, schema: Path, output: Path, preprocessor: Path | None
) -> None:
    """evaluation.json and the drift-check baselines under --output."""
    evaluation = steps.evaluate_job(model, test, train, schema, output, preprocessor)
    click.echo(json.dumps(evaluation["binary_classification_metrics"], indent=2))


@step_group.command("deploy")
@click.option("--model-package-arn", required=True)
@click.option("--variant", required=True)
@click.option("--weight", default="keep", show_default=True)
@endpoint_option("Endpoint [env BYO_ENDPOINT_NAME].")
@click.pass_obj
def step_deploy_cmd(
    settings: Settings, model_package_arn: str, variant: str, weight: str, endpoint: str | None
) -> None:
    """Deploy the registered version (if Approved) as --variant."""
    clients = Clients()
    settings = settings.with_options(endpoint_name=endpoint)
    package = registry.describe(clients, model_package_arn)
    endpoint_name = settings.require("endpoint_name", "--endpoint")
    table = settings.get("job_table")  # the endpoint's rollout lock, where the step has it
    lock = (
        rollout.lock(clients, table, endpoint_name, f"byo pipeline step deploy ({variant})")
        if table
        else None
    )
    state, reason, outputs = runner.deploy_version(
        clients,
        endpoint=endpoint_name,
        group=settings.require("model_package_group"),
        role_arn=settings.require("sagemaker_execution_role_arn"),
        version=package["version"],
        variant=variant,
        weight=params.deploy_weight(weight),
        lock=lock,
    )
    click.echo(json.dumps({"status": state, "reason": reason, **outputs}, default=str))

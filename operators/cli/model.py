"""`byo model …`: versions in the model registry (register, list, approve, reject)."""

from __future__ import annotations

from pathlib import Path

import click

from operators import registry
from operators.aws import Clients
from operators.cli.options import console, json_option, print_json, versions_table
from operators.config import Settings
from operators.errors import ConfigError
from operators.layout import Layout


@click.group("model")
def model_group() -> None:
    """Model versions in the registry (a SageMaker model package group)."""


@model_group.command("register")
@click.option(
    "--artifact",
    "artifacts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="model.tar.gz of any framework the serving image loads (XGBoost, scikit-learn, "
    "LightGBM, ONNX). Repeat it for a serial inference pipeline, in order: each container's "
    f"response is the next one's request (up to {registry.MAX_CONTAINERS}).",
)
@click.option(
    "--image",
    "images",
    multiple=True,
    help="Image serving the artifact: one per --artifact, in order, or one for all "
    "[default: the stack's serving image].",
)
@click.option(
    "--env",
    "environment",
    multiple=True,
    metavar="INDEX:KEY=VALUE",
    help="Environment variable of container INDEX (from 1, in --artifact order), e.g. "
    "1:SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT=text/csv (repeatable).",
)
@click.option(
    "--metrics",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="evaluation.json: Model Monitor's model-quality statistics (binary or multiclass "
    "classification, or regression).",
)
@click.option("--approve", is_flag=True, help="Register as Approved (deployable at once).")
@json_option()
@click.pass_obj
def model_register_cmd(
    settings: Settings,
    artifacts: tuple[Path, ...],
    images: tuple[str, ...],
    environment: tuple[str, ...],
    metrics: Path,
    approve: bool,
    as_json: bool,
) -> None:
    """Upload a model version (content-addressed) and register it with its metrics: one
    artifact, or several as a serial inference pipeline."""
    if len(artifacts) > registry.MAX_CONTAINERS:
        raise click.BadParameter(
            f"{len(artifacts)} artifacts: a serial inference pipeline has at most "
            f"{registry.MAX_CONTAINERS} containers",
            param_hint="--artifact",
        )
    default_image = None if images else settings.require("serving_image")
    try:
        served_by = registry.images_for(len(artifacts), images, default_image)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--image") from None
    try:
        environments = registry.parse_environment(environment, len(artifacts))
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--env") from None
    package = registry.register(
        Clients(),
        containers=[
            registry.Container(artifact, image, env)
            for artifact, image, env in zip(artifacts, served_by, environments, strict=True)
        ],
        metrics=metrics,
        layout=Layout.from_settings(settings),
        group=settings.require("model_package_group"),
        approve=approve,
    )
    if as_json:
        print_json(package)
    else:
        console.print(versions_table("registered", [package]))


@model_group.command("list")
@json_option()
@click.pass_obj
def model_list_cmd(settings: Settings, as_json: bool) -> None:
    """Every registered version: approval status, headline metric, containers and frameworks."""
    group = settings.require("model_package_group")
    packages = registry.versions(Clients(), group)
    if as_json:
        print_json(packages)
    else:
        console.print(versions_table(f"model registry {group}", packages))


@model_group.command("approve")
@click.argument("version", type=click.IntRange(min=1))
@json_option()
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
@json_option()
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

"""`byo model …`: versions in the model registry (register, list, approve, reject)."""

from __future__ import annotations

from pathlib import Path

import click

from operators import registry
from operators.aws import Clients
from operators.cli.options import console, json_option, print_json, registry_table
from operators.config import Settings
from operators.layout import Layout


@click.group("model")
def model_group() -> None:
    """Model versions in the registry (a SageMaker model package group)."""


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
@json_option()
@click.pass_obj
def model_register_cmd(
    settings: Settings, artifact: Path, metrics: Path, approve: bool, as_json: bool
) -> None:
    """Upload a model version (content-addressed) and register it with its metrics."""
    package = registry.register(
        Clients(),
        artifact=artifact,
        metrics=metrics,
        layout=Layout.from_settings(settings),
        group=settings.require("model_package_group"),
        image=settings.require("serving_image"),
        approve=approve,
    )
    if as_json:
        print_json(package)
    else:
        console.print(registry_table("registered", [package]))


@model_group.command("list")
@json_option()
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

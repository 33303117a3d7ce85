"""`byo deploy`: serve a registered version as a variant of the endpoint."""

from __future__ import annotations

import click

from operators import deploy, rollout
from operators.aws import Clients
from operators.cli.options import (
    canary_options,
    console,
    endpoint_option,
    err_console,
    force_option,
    json_option,
    print_json,
)
from operators.config import Settings


@click.command("deploy")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--variant", required=True, help="Variant to serve it (new or existing).")
@click.option(
    "--weight",
    type=click.FloatRange(min=0),
    help="Its traffic weight (default: kept for an existing variant, 1 for a new one).",
)
@click.option("--instances", type=click.IntRange(min=1), help="Its instance count.")
@endpoint_option()
@click.option(
    "--blue-green",
    is_flag=True,
    help="Let SageMaker move the endpoint blue/green (canary first) and roll back on the "
    "alarms (the embedded AWS runs the deployment too); fails if it was rolled back.",
)
@canary_options
@click.option(
    "--termination-wait",
    "termination_wait_s",
    type=click.IntRange(min=0),
    default=300,
    show_default=True,
    help="Seconds the old fleet is kept afterwards.",
)
@force_option()
@json_option()
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
    force: bool,
    as_json: bool,
) -> None:
    """Serve approved model VERSION as VARIANT (other variants and data capture are kept)."""
    settings = settings.with_options(endpoint_name=endpoint)
    deployment_config = None
    if blue_green:
        alarms = list(rollback_alarms) or deploy.default_rollback_alarms(
            settings.get("alarm_names")
        )
        deployment_config = deploy.blue_green(
            canary_percent, canary_wait_s, termination_wait_s, alarms
        )
    clients = Clients()
    name = settings.require("endpoint_name", "--endpoint")
    action = f"byo deploy {version} --variant {variant}" + (" --blue-green" if blue_green else "")
    lock = rollout.from_settings(
        settings, clients, name, action, force=force, report=err_console.print
    )
    result = deploy.deploy(
        clients,
        endpoint=name,
        group=settings.require("model_package_group"),
        version=version,
        variant=variant,
        role_arn=settings.require("sagemaker_execution_role_arn"),
        weight=weight,
        instances=instances,
        deployment_config=deployment_config,
        lock=lock,
    )
    if as_json:
        print_json(result)
    else:
        pipeline = (
            f" (a serial pipeline of {result['containers']} containers)"
            if result["containers"] > 1
            else ""
        )
        console.print(
            f"version {version}{pipeline} serves as {variant} on {result['endpoint']} "
            f"(config {result['endpoint_config']}, was {result['previous_config']})"
        )

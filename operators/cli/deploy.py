"""`byo deploy`: serve a registered version as a variant of the endpoint."""

from __future__ import annotations

import click

from operators import deploy, rollout
from operators import regions as regions_lib
from operators.aws import Clients
from operators.cli.options import (
    canary_options,
    console,
    endpoint_option,
    err_console,
    force_option,
    json_option,
    print_json,
    regions_option,
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
@regions_option(
    "Deploy in these regions of a multi-region stack (all: primary first), one after another "
    "with the same gates; VERSION is the primary's (mirrored to the others as needed)."
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
    regions: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Serve approved model VERSION as VARIANT (other variants and data capture are kept).

    With --regions, in each region of a multi-region stack in turn (primary first), VERSION
    mirrored into the other regions' registries first; a region that fails stops the rollout
    before the next."""
    if regions and endpoint:
        raise click.UsageError("--regions deploys to each region's own endpoint: drop --endpoint.")
    names = regions_lib.select(settings, regions) if regions else [None]
    primary = regions_lib.region(settings, regions_lib.stack_regions(settings)[0])
    results = []
    for region_name in names:
        if region_name is None:
            here, clients, number = (
                settings.with_options(endpoint_name=endpoint),
                Clients(),
                version,
            )
        else:
            view = regions_lib.region(settings, region_name)
            here, clients = view.settings, view.clients
            number = regions_lib.version_in(primary, view, version)
        deployment_config = None
        if blue_green:
            alarms = list(rollback_alarms) or deploy.default_rollback_alarms(
                here.get("alarm_names")
            )
            deployment_config = deploy.blue_green(
                canary_percent, canary_wait_s, termination_wait_s, alarms
            )
        name = here.require("endpoint_name", "--endpoint")
        action = f"byo deploy {version} --variant {variant}" + (
            " --blue-green" if blue_green else ""
        )
        lock = rollout.from_settings(
            here, clients, name, action, force=force, report=err_console.print
        )
        result = deploy.deploy(
            clients,
            endpoint=name,
            group=here.require("model_package_group"),
            version=number,
            variant=variant,
            role_arn=here.require("sagemaker_execution_role_arn"),
            weight=weight,
            instances=instances,
            deployment_config=deployment_config,
            lock=lock,
        )
        result = {**result, "region": region_name or clients.region, "version": number}
        results.append(result)
        if as_json:
            continue
        pipeline = (
            f" (a serial pipeline of {result['containers']} containers)"
            if result["containers"] > 1
            else ""
        )
        where = f" in {region_name}" if region_name else ""
        mirrored = f" (version {number} there)" if number != version else ""
        console.print(
            f"version {version}{pipeline} serves as {variant} on {result['endpoint']}{where}"
            f"{mirrored} (config {result['endpoint_config']}, was {result['previous_config']})"
        )
    if as_json:
        print_json(results if regions else results[0])

"""`byo model …`: versions in the model registry (register, list, approve, reject, mirror), and
as target models of a multi-model endpoint (add-to-mme, list-mme)."""

from __future__ import annotations

from pathlib import Path

import click

from operators import multimodel, registry
from operators import regions as regions_lib
from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    json_option,
    print_json,
    regions_option,
    table,
    versions_table,
)
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
    """Approve VERSION for deployment (of a multi-region stack's primary: and mirror it into
    every other region's registry)."""
    package = registry.set_status(
        Clients(), settings.require("model_package_group"), version, "Approved"
    )
    names = regions_lib.stack_regions(settings)
    mirrored = []
    if len(names) > 1 and (settings.get("region") or names[0]) == names[0]:
        mirrored = mirror_into(settings, version, names[1:])
    if as_json:
        print_json({**package, "mirrors": mirrored} if mirrored else package)
    else:
        console.print(f"version {package['version']} is {package['status']}")
        print_mirrors(version, mirrored)


@model_group.command("mirror")
@click.argument("version", type=click.IntRange(min=1))
@regions_option("Mirror into these regions (default: every region but the primary).")
@json_option()
@click.pass_obj
def model_mirror_cmd(settings: Settings, version: int, regions: str | None, as_json: bool) -> None:
    """Register the primary's approved VERSION in the other regions' registries of a
    multi-region stack (the replica of its artifacts, the region's image), approved; a version
    already there is left as it is."""
    names = regions_lib.stack_regions(settings)
    targets = regions_lib.select(settings, regions) if regions else names[1:]
    targets = [name for name in targets if name != names[0]]
    if not targets:
        raise ConfigError(
            f"nothing to mirror into: the stack's regions are {', '.join(names)} and the "
            "primary is where versions come from"
        )
    mirrored = mirror_into(settings, version, targets)
    if as_json:
        print_json(mirrored)
    else:
        print_mirrors(version, mirrored)


def mirror_into(settings: Settings, version: int, names: list[str]) -> list[dict]:
    primary = regions_lib.region(settings, regions_lib.stack_regions(settings)[0])
    return [
        {**regions_lib.mirror(primary, regions_lib.region(settings, name), version), "region": name}
        for name in names
    ]


def print_mirrors(version: int, mirrored: list[dict]) -> None:
    for entry in mirrored:
        how = "mirrored" if entry["created"] else "already mirrored"
        console.print(
            f"{how} into {entry['region']}: version {entry['version']} there "
            f"({entry['status']}, {entry['model_data_url']})"
        )


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


MME_ENDPOINT_HELP = "The multi-model endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name]."
MME_VARIANT_HELP = "Its variant whose multi-model container to use, when several have one."


@model_group.command("add-to-mme")
@click.argument("version", type=click.IntRange(min=1))
@endpoint_option(MME_ENDPOINT_HELP)
@click.option(
    "--as",
    "target_model",
    metavar="NAME.tar.gz",
    help="TargetModel to serve it as (a path under the endpoint's model prefix) "
    "[default: <model package group>-v<VERSION>.tar.gz].",
)
@click.option("--variant", help=MME_VARIANT_HELP)
@json_option()
@click.pass_obj
def model_add_to_mme_cmd(
    settings: Settings,
    version: int,
    endpoint: str | None,
    target_model: str | None,
    variant: str | None,
    as_json: bool,
) -> None:
    """Copy VERSION's model.tar.gz under a multi-model endpoint's model prefix (its live
    config's ModelDataUrl) and print the TargetModel that invokes it; running it again changes
    nothing."""
    name = settings.with_options(endpoint_name=endpoint).require("endpoint_name", "--endpoint")
    if target_model is not None:
        try:
            multimodel.check_target_model(target_model)
        except ConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--as") from None
    added = multimodel.add_version(
        Clients(),
        group=settings.require("model_package_group"),
        version=version,
        endpoint=name,
        target_model=target_model,
        variant=variant,
    )
    if as_json:
        print_json(added)
        return
    what = "copied to" if added["copied"] else "already at"
    console.print(f"version {version} {what} {added['uri']}", markup=False)
    target = added["target_model"]
    console.print(f"TargetModel: {target}", markup=False)
    console.print(
        f"  e.g. byo invoke --file ROWS.csv --endpoint {name} --target-model {target}",
        markup=False,
    )


@model_group.command("list-mme")
@endpoint_option(MME_ENDPOINT_HELP)
@click.option("--variant", help=MME_VARIANT_HELP)
@json_option()
@click.pass_obj
def model_list_mme_cmd(
    settings: Settings, endpoint: str | None, variant: str | None, as_json: bool
) -> None:
    """The target models under a multi-model endpoint's model prefix."""
    name = settings.with_options(endpoint_name=endpoint).require("endpoint_name", "--endpoint")
    mme, models = multimodel.list_models(Clients(), name, variant)
    if as_json:
        print_json(
            {"endpoint": name, "variant": mme.variant, "prefix": mme.prefix, "models": models}
        )
        return
    console.print(
        table(
            f"multi-model endpoint {name} ({mme.prefix})",
            ["TargetModel", "bytes", "last modified"],
            [[m["target_model"], str(m["size"]), m["last_modified"]] for m in models],
        )
    )

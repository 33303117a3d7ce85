"""Multi-model endpoints: registry versions as target models under an endpoint's model prefix.

A multi-model endpoint's model has a container whose Mode is MultiModel; its ModelDataUrl is an
S3 prefix, and a request's TargetModel names a model.tar.gz relative to it. Adding a version
copies the version's model.tar.gz there (the endpoint loads it on its first request); the
prefix is read from the endpoint's live config, so it is the one the endpoint serves now.

A target model's object is never overwritten with different content: SageMaker keeps serving a
loaded model from its cache, so a changed object under the same name would be served old or new
depending on the instance. A new model gets a new name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from operators import registry
from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.s3 import split_uri

SUFFIX = ".tar.gz"
TARGET_MODEL_MAX = 1024  # sagemaker-runtime TargetModelHeader: 1-1024, \A\S[\p{Print}]*\z


@dataclass(frozen=True)
class MultiModelContainer:
    endpoint: str
    variant: str
    model: str  # the SageMaker model
    prefix: str  # its ModelDataUrl, an s3:// prefix

    def uri(self, target_model: str) -> str:
        """Where a TargetModel's object lies: the prefix and the name, joined with one "/" (as
        the local hosting joins them)."""
        if self.prefix.endswith("/"):
            return self.prefix + target_model
        return f"{self.prefix}/{target_model}"


def containers(clients: Clients, endpoint: str) -> list[MultiModelContainer]:
    """The MultiModel containers of the endpoint's live config, by production variant."""
    sm = clients.client("sagemaker")
    try:
        described = sm.describe_endpoint(EndpointName=endpoint)
        config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    except ClientError as exc:
        raise ByoError(f"endpoint {endpoint}: {exc.response['Error'].get('Message')}") from None
    found = []
    for variant in config["ProductionVariants"]:
        model = sm.describe_model(ModelName=variant["ModelName"])
        for container in model.get("Containers") or [model.get("PrimaryContainer") or {}]:
            if container.get("Mode") == "MultiModel":
                found.append(
                    MultiModelContainer(
                        endpoint,
                        variant["VariantName"],
                        variant["ModelName"],
                        container.get("ModelDataUrl") or "",
                    )
                )
    return found


def container(clients: Clients, endpoint: str, variant: str | None = None) -> MultiModelContainer:
    """The endpoint's one multi-model container (of `variant` when it has several)."""
    found = containers(clients, endpoint)
    if variant is not None:
        found = [c for c in found if c.variant == variant]
    if not found:
        which = f"variant {variant} of endpoint {endpoint}" if variant else f"endpoint {endpoint}"
        raise ConfigError(
            f"{which} serves no multi-model container (a model container with Mode MultiModel "
            "and an S3 prefix as ModelDataUrl) in its live endpoint config"
        )
    if len({c.prefix for c in found}) > 1:
        listed = ", ".join(f"{c.variant} ({c.prefix})" for c in found)
        raise ConfigError(
            f"endpoint {endpoint} has multi-model containers under different prefixes: {listed}; "
            "name one with --variant"
        )
    chosen = found[0]
    split_uri(chosen.prefix, f"model {chosen.model}'s ModelDataUrl")
    return chosen


def check_target_model(name: str) -> str:
    """A TargetModel name a version can be copied as: the API's constraints and .tar.gz."""
    if not 1 <= len(name) <= TARGET_MODEL_MAX:
        raise ConfigError(f"{name[:60]!r}: a TargetModel has 1 to {TARGET_MODEL_MAX} characters")
    if name[0].isspace() or not name.isprintable():
        raise ConfigError(
            f"{name!r}: a TargetModel is printable characters, not starting with a space"
        )
    if name.startswith("/") or not name.endswith(SUFFIX):
        raise ConfigError(
            f"{name!r}: name the model as a relative path ending in {SUFFIX}, e.g. "
            f"credit-v3{SUFFIX}"
        )
    return name


def default_target_model(group: str, version: int) -> str:
    return f"{group}-v{version}{SUFFIX}"


def add_version(
    clients: Clients,
    *,
    group: str,
    version: int,
    endpoint: str,
    target_model: str | None = None,
    variant: str | None = None,
) -> dict[str, Any]:
    """Copy registry VERSION's model.tar.gz under the endpoint's model prefix as `target_model`
    (default <group>-v<version>.tar.gz). Idempotent: the same model already there is left as it
    is (`copied` False); a different object under that name is an error."""
    package = registry.find(clients, group, version)
    if len(package["containers"]) != 1:
        raise ConfigError(
            f"version {version} is a serial inference pipeline of {len(package['containers'])} "
            "containers; a multi-model endpoint's target model is one model.tar.gz"
        )
    name = check_target_model(target_model or default_target_model(group, version))
    mme = container(clients, endpoint, variant)
    source_bucket, source_key = split_uri(package["model_data_url"], "the version's model")
    bucket, key = split_uri(mme.uri(name))
    s3 = clients.s3
    try:
        source = s3.head_object(Bucket=source_bucket, Key=source_key)
    except ClientError as exc:
        raise ByoError(
            f"version {version}'s model {package['model_data_url']}: "
            f"{exc.response['Error'].get('Message') or exc.response['Error'].get('Code')}"
        ) from None
    existing = _head_or_none(s3, bucket, key)
    copied = False
    if existing is None:
        s3.copy({"Bucket": source_bucket, "Key": source_key}, bucket, key)
        copied = True
    elif not _same_model(existing, source, package.get("sha256")):
        raise ConfigError(
            f"{mme.uri(name)} already holds a different model; the endpoint may serve it from "
            "its cache, so choose another name with --as"
        )
    return {
        "endpoint": endpoint,
        "variant": mme.variant,
        "version": version,
        "target_model": name,
        "uri": mme.uri(name),
        "source": package["model_data_url"],
        "copied": copied,
    }


def _head_or_none(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _same_model(existing: dict[str, Any], source: dict[str, Any], digest: str | None) -> bool:
    """The registry's objects carry their sha256 in their metadata (a copy keeps it); an object
    without it is the same if its ETag is."""
    theirs = (existing.get("Metadata") or {}).get("sha256")
    if theirs is not None:
        return theirs == (digest or (source.get("Metadata") or {}).get("sha256"))
    return existing.get("ETag") == source.get("ETag")


def list_models(
    clients: Clients, endpoint: str, variant: str | None = None
) -> tuple[MultiModelContainer, list[dict[str, Any]]]:
    """The target models (every .tar.gz) under the endpoint's model prefix."""
    mme = container(clients, endpoint, variant)
    bucket, prefix = split_uri(mme.prefix)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    models = []
    pages = clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(SUFFIX):
                models.append(
                    {
                        "target_model": obj["Key"].removeprefix(prefix),
                        "size": obj["Size"],
                        "last_modified": str(obj["LastModified"]),
                    }
                )
    return mme, models

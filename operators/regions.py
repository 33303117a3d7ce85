"""A platform in several regions (terraform/stacks/multi-region): each region's view of the stack,
the registry's approved versions mirrored from the primary, and clients that fail over.

The primary registers and approves; S3 replication copies the model artifacts to the
secondary's bucket; `mirror` registers the same version (same sha256, the replica's S3 URI, the
region's serving image) in the secondary's registry, approved, so every region can deploy it
with the same gates (`byo deploy --regions all`). A client configured with every region's
endpoint (`failover_targets`) scores from the next region when one's endpoint is gone.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from operators import registry
from operators.aws import Clients, shared_session
from operators.config import Settings
from operators.errors import ByoError, ConfigError
from operators.s3 import split_uri

REPLICA_WAIT_S = 120.0
# An image in an account's own ECR names its region; the same repository in another region
# (ECR replication, or a push there) is the same host with that region.
ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/")


@dataclass(frozen=True)
class Region:
    """One region of the stack: its settings (its platform's outputs) and AWS clients there."""

    name: str
    settings: Settings
    clients: Clients

    @property
    def group(self) -> str:
        return self.settings.require("model_package_group")


def stack_regions(settings: Settings) -> list[str]:
    """The stack's regions, primary first; one region for a single-region stack."""
    return list(settings.get("stack_regions") or [settings.get("region") or Clients().region])


def select(settings: Settings, value: str | None) -> list[str]:
    """The regions a `--regions` value names: `all`, or a comma list of the stack's regions
    (in the stack's order, primary first); None: the settings' own region alone."""
    known = stack_regions(settings)
    if value is None:
        return [settings.get("region") or known[0]]
    if value.strip() == "all":
        return known
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ConfigError(
            f"--regions {value!r}: the stack's regions are {', '.join(known)} (or all)"
        )
    return [n for n in known if n in names]


def region(settings: Settings, name: str) -> Region:
    return Region(name, settings.for_region(name), Clients(shared_session(name)))


def _replica_uri(uri: str, source: Region, target: Region) -> str:
    bucket, key = split_uri(uri)
    own = source.settings.require("data_bucket")
    if bucket != own:
        raise ConfigError(
            f"{uri} is not in the {source.name} data bucket {own}: only its objects replicate "
            f"to {target.name}; upload the artifact there or register it from the bucket"
        )
    return f"s3://{target.settings.require('data_bucket')}/{key}"


def _replicated(uri: str, source: Region, target: Region) -> bool:
    bucket, key = split_uri(uri)
    prefixes = (source.settings.get("replication") or {}).get("prefixes") or ["models/"]
    return bucket == source.settings.get("data_bucket") and key.startswith(tuple(prefixes))


def regional_image(image: str, source: Region, target: Region) -> str:
    """The image that serves in `target` what `image` serves in `source`: the platform's serving
    image maps to the target's; an image of the account's own ECR to the same repository in the
    target's region; any other image is kept (the caller's to make available there)."""
    if image == source.settings.get("serving_image") and target.settings.get("serving_image"):
        return target.settings.get("serving_image")
    match = ECR_HOST.match(image)
    if match and match["account"] == source.settings.get("account_id"):
        return image.replace(
            f".dkr.ecr.{match['region']}.amazonaws.com/",
            f".dkr.ecr.{target.name}.amazonaws.com/",
            1,
        )
    return image


def wait_for_replica(
    source: Region,
    target: Region,
    source_uri: str,
    timeout_s: float = REPLICA_WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """The replica's URI in `target`, once S3 replication has put it there."""
    replica = _replica_uri(source_uri, source, target)
    bucket, key = split_uri(replica)
    deadline = clock() + timeout_s
    while True:
        try:
            target.clients.s3.head_object(Bucket=bucket, Key=key)
            return replica
        except ClientError as exc:
            if exc.response["Error"].get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise ByoError(f"{replica}: {exc.response['Error'].get('Message')}") from None
        if clock() >= deadline:
            source_bucket, source_key = split_uri(source_uri)
            status = source.clients.s3.head_object(Bucket=source_bucket, Key=source_key).get(
                "ReplicationStatus", "none (no replication rule matches it)"
            )
            raise ByoError(
                f"{source_uri} has not replicated to {replica} after {timeout_s:.0f} s "
                f"(its replication status in {source.name}: {status})"
            )
        sleep(min(1.0, max(0.0, deadline - clock())))


def mirror(
    source: Region,
    target: Region,
    version: int,
    *,
    timeout_s: float = REPLICA_WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Register approved `version` of the source's registry in the target's: the same containers
    (the replicas of their artifacts, the target region's images), metrics and metadata,
    approved. Idempotent: a version already mirrored (same sha256) is returned (and approved, if
    it was not)."""
    package = registry.find(source.clients, source.group, version)
    if package["status"] != "Approved":
        raise ConfigError(
            f"version {version} is {package['status']} in {source.name}: only approved versions "
            f"are mirrored (byo model approve {version})"
        )
    existing = package["sha256"] and registry.find_by_sha256(
        target.clients, target.group, package["sha256"]
    )
    if existing:
        if existing["status"] != "Approved":
            existing = registry.set_status(
                target.clients,
                target.group,
                existing["version"],
                "Approved",
                f"mirrored from {package['arn']}",
            )
        return {**existing, "mirrored_from": package["arn"], "created": False}
    described = source.clients.client("sagemaker").describe_model_package(
        ModelPackageName=package["arn"]
    )
    containers = []
    for container in described["InferenceSpecification"]["Containers"]:
        replica = wait_for_replica(
            source, target, container["ModelDataUrl"], timeout_s=timeout_s, sleep=sleep
        )
        containers.append(
            {
                **{k: v for k, v in container.items() if k in ("Environment", "Framework")},
                "Image": regional_image(container["Image"], source, target),
                "ModelDataUrl": replica,
            }
        )
    metrics = _rewrite_uris(described.get("ModelMetrics") or {}, source, target)
    properties = {**(described.get("CustomerMetadataProperties") or {})}
    properties["mirrored-from"] = package["arn"]
    spec = described["InferenceSpecification"]
    try:
        arn = target.clients.client("sagemaker").create_model_package(
            ModelPackageGroupName=target.group,
            ModelPackageDescription=described.get("ModelPackageDescription", ""),
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": containers,
                "SupportedContentTypes": spec.get("SupportedContentTypes", []),
                "SupportedResponseMIMETypes": spec.get("SupportedResponseMIMETypes", []),
            },
            ModelMetrics=metrics,
            CustomerMetadataProperties=properties,
        )["ModelPackageArn"]
    except ClientError as exc:
        error = exc.response["Error"]
        raise ByoError(
            f"mirroring version {version} into {target.group} ({target.name}): "
            f"{error.get('Code')}: {error.get('Message')}"
        ) from None
    return {
        **registry.describe(target.clients, arn),
        "mirrored_from": package["arn"],
        "created": True,
    }


def _rewrite_uris(value: Any, source: Region, target: Region) -> Any:
    """ModelMetrics with each replicated S3 URI pointing at its replica (others kept)."""
    if isinstance(value, dict):
        return {
            k: (
                _replica_uri(v, source, target)
                if k == "S3Uri" and _replicated(v, source, target)
                else _rewrite_uris(v, source, target)
            )
            for k, v in value.items()
        }
    return value


def version_in(
    primary: Region, target: Region, version: int, *, sleep: Callable[[float], None] = time.sleep
) -> int:
    """The target region's number for the primary's `version` (mirrored now if it is not yet)."""
    if target.name == primary.name:
        return version
    return int(mirror(primary, target, version, sleep=sleep)["version"])


@dataclass(frozen=True)
class Target:
    """One region's endpoint, as a failing-over client knows it."""

    region: str
    endpoint: str
    runtime: Any  # a sagemaker-runtime client in that region


def failover_targets(settings: Settings, names: Sequence[str]) -> list[Target]:
    """Each named region's endpoint (in that order) with a runtime client there."""
    targets = []
    for name in names:
        view = region(settings, name)
        targets.append(
            Target(
                name,
                view.settings.require("endpoint_name"),
                view.clients.client("sagemaker-runtime"),
            )
        )
    return targets

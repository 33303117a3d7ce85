"""The model registry: versions of the model in a SageMaker model package group.

A version is one container (a model.tar.gz served in an image) or a serial inference pipeline
of 2-15 containers in order, each container's response being the next one's request: one model
package whose InferenceSpecification lists the containers. Artifacts of any framework the
serving image loads (serving.frameworks) are accepted, with Model Monitor's evaluation file of
any of its problem types.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.layout import Layout
from operators.s3 import sha256_of, upload_content_addressed
from serving import frameworks
from serving.artifact import unpack
from serving.predictor import Signature

# What the serving core takes and answers (serving.codecs.CONTENT_TYPES, serving.inference.
# ACCEPTS; a test keeps them equal), written out so that the registry does not import the codecs.
CONTENT_TYPES = [
    "text/csv",
    "text/libsvm",
    "application/x-recordio-protobuf",
    "application/json",
    "application/jsonlines",
]
RESPONSE_TYPES = [
    "text/csv",
    "application/json",
    "application/jsonlines",
    "application/x-recordio-protobuf",
]
MAX_CONTAINERS = 15  # SageMaker's limit for a serial inference pipeline

# Model Monitor's problem types as an evaluation file holds them, and the metrics that head
# each one, in order of preference: the first one present is the version's headline metric.
HEADLINE_METRICS = {
    "binary_classification_metrics": ("auc",),
    "multiclass_classification_metrics": ("accuracy",),
    "regression_metrics": ("mse", "rmse", "r2"),
}

ENVIRONMENT_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")  # SageMaker's pattern for Environment


@dataclass(frozen=True)
class Container:
    """One container of a model version: its model.tar.gz, the image serving it, and the
    container's environment."""

    artifact: Path
    image: str
    environment: dict[str, str] = field(default_factory=dict)


def check_artifact(artifact: Path) -> Signature:
    """The artifact must load as the serving image loads it (any framework) and answer a row of
    zeros (unless the model does not say how many features it takes); returns its signature."""
    return _load_and_answer(artifact)[0]


def check_pipeline(artifacts: Sequence[Path]) -> list[Signature]:
    """Every artifact must be usable (check_artifact) and each container's answer to a row as
    wide as the next container's input, where both are known; returns their signatures."""
    checked = [_load_and_answer(artifact) for artifact in artifacts]
    for position in range(1, len(checked)):
        answer, (signature, _) = checked[position - 1][1], checked[position]
        if answer is None or signature.num_features is None:
            continue
        width = 1 if answer.ndim == 1 else answer.shape[1]
        if width != signature.num_features:
            raise ConfigError(
                f"container {position} ({artifacts[position - 1]}) answers {width} column(s) "
                f"per row, but container {position + 1} ({artifacts[position]}) takes "
                f"{signature.num_features} features: the containers do not chain"
            )
    return [signature for signature, _ in checked]


def _load_and_answer(artifact: Path) -> tuple[Signature, np.ndarray | None]:
    with tempfile.TemporaryDirectory(prefix="byo-check-") as work:
        try:
            unpack(artifact, Path(work))
            predictor = frameworks.load(Path(work))
            signature = predictor.signature
            answer = None
            if signature.num_features is not None:
                answer = np.asarray(predictor.predict(np.zeros((1, signature.num_features))))
        except Exception as exc:  # any failure to load or predict means: not deployable
            raise ConfigError(f"{artifact} is not a usable model.tar.gz: {exc}") from None
    return signature, answer


def check_metrics(metrics: Path) -> dict[str, Any]:
    """The evaluation file (Model Monitor's model-quality statistics) and its headline metric:
    AUC for binary classification, accuracy for multiclass, MSE (else RMSE, else R²) for
    regression. Returns problem_type, metric, value and the evaluation."""
    try:
        evaluation = json.loads(metrics.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{metrics} is not a readable JSON evaluation file: {exc}") from None
    for problem_type, names in HEADLINE_METRICS.items():
        section = evaluation.get(problem_type) if isinstance(evaluation, dict) else None
        for name in names:
            try:
                value = float(section[name]["value"])
            except (KeyError, TypeError, ValueError):
                continue
            return {
                "problem_type": problem_type,
                "metric": name,
                "value": value,
                "evaluation": evaluation,
            }
    expected = ", ".join(
        f"{problem_type}.{name}.value"
        for problem_type, names in HEADLINE_METRICS.items()
        for name in names
    )
    raise ConfigError(
        f"{metrics} holds none of {expected} (Model Monitor's model-quality statistics, as "
        "`make model` writes them)"
    )


def images_for(count: int, images: Sequence[str], default: str | None) -> list[str]:
    """The image of each of `count` containers: one per container, one for all, or none given
    (the default, the stack's serving image, for all)."""
    if not images:
        if default is None:
            raise ConfigError("no image given and no default serving image")
        return [default] * count
    if len(images) == 1:
        return list(images) * count
    if len(images) != count:
        raise ConfigError(
            f"{len(images)} images for {count} artifacts: give one image per artifact, in the "
            "same order, or one image for all"
        )
    return list(images)


def parse_environment(values: Sequence[str], count: int) -> list[dict[str, str]]:
    """Each container's environment from "INDEX:KEY=VALUE" entries (INDEX from 1, in artifact
    order), e.g. "1:SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT=text/csv"."""
    environments: list[dict[str, str]] = [{} for _ in range(count)]
    for value in values:
        match = re.fullmatch(r"(\d+):([^=]+)=(.*)", value, re.DOTALL)
        if not match:
            raise ConfigError(
                f"{value!r}: INDEX:KEY=VALUE, e.g. 1:SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT=text/csv"
            )
        index, key, setting = int(match.group(1)), match.group(2), match.group(3)
        if not 1 <= index <= count:
            raise ConfigError(
                f"{value!r}: container {index} does not exist (1 to {count}, in --artifact order)"
            )
        if not ENVIRONMENT_KEY.fullmatch(key):
            raise ConfigError(
                f"{value!r}: {key!r} is not an environment variable name (letters, digits and "
                "underscores, not starting with a digit)"
            )
        environments[index - 1][key] = setting
    return environments


def pipeline_manifest(containers: Sequence[Container], digests: Sequence[str]) -> bytes:
    """pipeline.json: a serial pipeline's containers in order (artifact sha256, image,
    environment), canonical JSON so that the same pipeline has the same sha256."""
    listed = [
        {"sha256": d, "image": c.image, "environment": c.environment}
        for c, d in zip(containers, digests, strict=True)
    ]
    return json.dumps({"containers": listed}, sort_keys=True).encode()


def version_digest(containers: Sequence[Container]) -> str:
    """The sha256 a version is registered with (find_by_sha256): its artifact's for one
    container, its pipeline.json's for a serial pipeline."""
    digests = [sha256_of(c.artifact) for c in containers]
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256(pipeline_manifest(containers, digests)).hexdigest()


def register(
    clients: Clients,
    *,
    metrics: Path,
    layout: Layout,
    group: str,
    approve: bool,
    artifact: Path | None = None,
    image: str | None = None,
    containers: Sequence[Container] | None = None,
    model_metrics: dict[str, Any] | None = None,
    drift_check_baselines: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Register `artifact` in `image`, or the serial inference pipeline `containers` (in order),
    as one model package with its metrics (and, from the pipeline, its other ModelMetrics and
    DriftCheckBaselines: S3 URIs).

    Each model.tar.gz is uploaded under a content-addressed key (layout.models). One container's
    evaluation.json lies beside its model; a pipeline's lies beside pipeline.json, the list of its
    containers (sha256, image, environment), whose sha256 is the version's."""
    if (artifact is None) == (containers is None):
        raise ConfigError("register takes either an artifact (with its image) or containers")
    if artifact is not None:
        if image is None:
            raise ConfigError(f"register {artifact}: no image to serve it")
        containers = [Container(artifact, image)]
    containers = list(containers or [])
    if not 1 <= len(containers) <= MAX_CONTAINERS:
        raise ConfigError(
            f"a model version has 1 to {MAX_CONTAINERS} containers (SageMaker's limit for a "
            f"serial inference pipeline), not {len(containers)}"
        )
    signatures = check_pipeline([c.artifact for c in containers])
    checked = check_metrics(metrics)
    digests = [sha256_of(c.artifact) for c in containers]
    s3 = clients.s3
    if len(containers) == 1:
        model, evaluation = upload_content_addressed(
            s3,
            layout.bucket,
            layout.models,
            {"model.tar.gz": containers[0].artifact, "evaluation.json": metrics},
            digest=digests[0],
        )
        models, digest = [model], digests[0]
    else:
        models = [
            upload_content_addressed(
                s3, layout.bucket, layout.models, {"model.tar.gz": c.artifact}, digest=d
            )[0]
            for c, d in zip(containers, digests, strict=True)
        ]
        with tempfile.TemporaryDirectory(prefix="byo-pipeline-") as work:
            manifest = Path(work) / "pipeline.json"
            manifest.write_bytes(pipeline_manifest(containers, digests))
            digest = sha256_of(manifest)
            _, evaluation = upload_content_addressed(
                s3,
                layout.bucket,
                layout.models,
                {"pipeline.json": manifest, "evaluation.json": metrics},
                digest=digest,
            )
    metrics_spec: dict[str, Any] = {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": evaluation.uri}}
    }
    for kind, documents in (model_metrics or {}).items():
        metrics_spec[kind] = {**metrics_spec.get(kind, {}), **documents}
    extra: dict[str, Any] = {}
    if drift_check_baselines:
        extra["DriftCheckBaselines"] = drift_check_baselines
    definitions = [
        {
            "Image": c.image,
            "ModelDataUrl": m.uri,
            "Framework": s.framework.upper(),
            **({"Environment": dict(c.environment)} if c.environment else {}),
        }
        for c, m, s in zip(containers, models, signatures, strict=True)
    ]
    headline = f"{checked['metric']} {checked['value']:.4f}"
    shape = f"{len(containers)} containers, " if len(containers) > 1 else ""
    properties = {
        **(metadata or {}),
        "sha256": digest,
        "metric": checked["metric"],
        checked["metric"]: f"{checked['value']:.6f}",
        "containers": str(len(containers)),
    }
    if signatures[0].num_features is not None:
        properties["features"] = str(signatures[0].num_features)
    try:
        arn = clients.client("sagemaker").create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=f"{shape}sha256 {digest}, {headline}",
            ModelApprovalStatus="Approved" if approve else "PendingManualApproval",
            InferenceSpecification={
                "Containers": definitions,
                "SupportedContentTypes": CONTENT_TYPES,
                "SupportedResponseMIMETypes": RESPONSE_TYPES,
            },
            ModelMetrics=metrics_spec,
            CustomerMetadataProperties=properties,
            **extra,
        )["ModelPackageArn"]
    except ClientError as exc:
        error = exc.response["Error"]
        raise ByoError(f"{error.get('Code')}: {error.get('Message')}") from None
    return describe(clients, arn)


def describe(clients: Clients, arn: str) -> dict[str, Any]:
    """A version as the operators use it: `containers` in order (image, model_data_url,
    environment, framework); model_data_url and image are the first container's."""
    package = clients.client("sagemaker").describe_model_package(ModelPackageName=arn)
    containers = [
        {
            "image": c["Image"],
            "model_data_url": c["ModelDataUrl"],
            "environment": c.get("Environment") or {},
            "framework": (c.get("Framework") or "").lower() or None,
        }
        for c in package["InferenceSpecification"]["Containers"]
    ]
    metadata = package.get("CustomerMetadataProperties") or {}
    # Versions registered before any problem type was accepted carry "auc" alone.
    metric = metadata.get("metric") or ("auc" if "auc" in metadata else None)
    value = float(metadata[metric]) if metric in metadata else None
    return {
        "sha256": metadata.get("sha256"),
        "drift_check_baselines": package.get("DriftCheckBaselines") or {},
        "version": package.get("ModelPackageVersion"),
        "arn": package["ModelPackageArn"],
        "status": package["ModelApprovalStatus"],
        "metric": metric,
        "metric_value": value,
        "auc": value if metric == "auc" else None,
        "model_data_url": containers[0]["model_data_url"],
        "image": containers[0]["image"],
        "containers": containers,
        "created": str(package.get("CreationTime")),
        "description": package.get("ApprovalDescription"),
    }


def versions(clients: Clients, group: str) -> list[dict[str, Any]]:
    try:
        summaries = clients.client("sagemaker").list_model_packages(
            ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Ascending"
        )["ModelPackageSummaryList"]
    except ClientError as exc:
        raise ByoError(f"model registry {group}: {exc.response['Error'].get('Message')}") from None
    return [describe(clients, s["ModelPackageArn"]) for s in summaries]


def find(clients: Clients, group: str, version: int) -> dict[str, Any]:
    for package in versions(clients, group):
        if package["version"] == version:
            return package
    known = ", ".join(str(p["version"]) for p in versions(clients, group)) or "none"
    raise ConfigError(f"model registry {group} has no version {version} (versions: {known})")


def set_status(
    clients: Clients, group: str, version: int, status: str, reason: str | None = None
) -> dict[str, Any]:
    package = find(clients, group, version)
    update: dict[str, Any] = {"ModelPackageArn": package["arn"], "ModelApprovalStatus": status}
    if reason:
        update["ApprovalDescription"] = reason
    clients.client("sagemaker").update_model_package(**update)
    return describe(clients, package["arn"])


def find_by_sha256(clients: Clients, group: str, digest: str) -> dict[str, Any] | None:
    """The version registered with this artifact (same sha256), if any: the newest."""
    matches = [p for p in versions(clients, group) if p.get("sha256") == digest]
    return matches[-1] if matches else None

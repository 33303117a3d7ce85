"""The model registry: versions of the model in a SageMaker model package group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.layout import Layout
from operators.s3 import sha256_of, upload_content_addressed
from serving.artifact import load_booster

CONTENT_TYPES = ["text/csv", "application/json", "application/jsonlines"]


def check_artifact(artifact: Path) -> int:
    """The artifact must load as SageMaker will and predict; returns its feature count."""
    try:
        booster = load_booster(artifact)
        features = booster.num_features()
        booster.inplace_predict(np.zeros((1, features)))
    except Exception as exc:  # any failure to load or predict means: not deployable
        raise ConfigError(f"{artifact} is not a usable model.tar.gz: {exc}") from None
    return features


def check_metrics(metrics: Path) -> dict[str, Any]:
    try:
        evaluation = json.loads(metrics.read_text())
        auc = float(evaluation["binary_classification_metrics"]["auc"]["value"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{metrics} lacks binary_classification_metrics.auc.value (as `make model` writes "
            f"it): {exc}"
        ) from None
    return {"auc": auc, "evaluation": evaluation}


def register(
    clients: Clients,
    *,
    artifact: Path,
    metrics: Path,
    layout: Layout,
    group: str,
    image: str,
    approve: bool,
    model_metrics: dict[str, Any] | None = None,
    drift_check_baselines: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Upload under a content-addressed key (layout.models) and create a model package with its
    metrics (and, from the pipeline, its other ModelMetrics and DriftCheckBaselines: S3 URIs)."""
    features = check_artifact(artifact)
    checked = check_metrics(metrics)
    digest = sha256_of(artifact)
    model, evaluation = upload_content_addressed(
        clients.s3,
        layout.bucket,
        layout.models,
        {"model.tar.gz": artifact, "evaluation.json": metrics},
        digest=digest,
    )
    model_url = model.uri
    metrics_spec: dict[str, Any] = {
        "ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": evaluation.uri}}
    }
    for kind, documents in (model_metrics or {}).items():
        metrics_spec[kind] = {**metrics_spec.get(kind, {}), **documents}
    extra: dict[str, Any] = {}
    if drift_check_baselines:
        extra["DriftCheckBaselines"] = drift_check_baselines
    try:
        arn = clients.client("sagemaker").create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=f"sha256 {digest}, AUC {checked['auc']:.4f}",
            ModelApprovalStatus="Approved" if approve else "PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": image, "ModelDataUrl": model_url}],
                "SupportedContentTypes": CONTENT_TYPES,
                "SupportedResponseMIMETypes": CONTENT_TYPES,
            },
            ModelMetrics=metrics_spec,
            CustomerMetadataProperties={
                **(metadata or {}),
                "sha256": digest,
                "auc": f"{checked['auc']:.6f}",
                "features": str(features),
            },
            **extra,
        )["ModelPackageArn"]
    except ClientError as exc:
        error = exc.response["Error"]
        raise ByoError(f"{error.get('Code')}: {error.get('Message')}") from None
    return describe(clients, arn)


def describe(clients: Clients, arn: str) -> dict[str, Any]:
    package = clients.client("sagemaker").describe_model_package(ModelPackageName=arn)
    container = package["InferenceSpecification"]["Containers"][0]
    metadata = package.get("CustomerMetadataProperties") or {}
    return {
        "sha256": metadata.get("sha256"),
        "drift_check_baselines": package.get("DriftCheckBaselines") or {},
        "version": package.get("ModelPackageVersion"),
        "arn": package["ModelPackageArn"],
        "status": package["ModelApprovalStatus"],
        "auc": float(metadata["auc"]) if "auc" in metadata else None,
        "model_data_url": container["ModelDataUrl"],
        "image": container["Image"],
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

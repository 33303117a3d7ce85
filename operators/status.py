"""`byo status`: the live state of the platform, explained."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.errors import ByoError


def endpoint_status(clients: Clients, endpoint: str) -> dict[str, Any]:
    sagemaker = clients.client("sagemaker")
    try:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
    except ClientError as exc:
        raise ByoError(f"endpoint {endpoint}: {exc.response['Error'].get('Message')}") from None
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    models = {v["VariantName"]: v["ModelName"] for v in config["ProductionVariants"]}
    autoscaling = clients.client("application-autoscaling")
    scaling, activities = {}, {}
    for target in autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]:
        parts = target["ResourceId"].split("/")
        if len(parts) == 4 and parts[1] == endpoint:
            scaling[parts[3]] = (target["MinCapacity"], target["MaxCapacity"])
            activities[parts[3]] = last_scaling_activity(autoscaling, target)
    live = described["ProductionVariants"]
    total = sum(float(v.get("CurrentWeight") or 0) for v in live) or 1.0
    variants = []
    for variant in live:
        name = variant["VariantName"]
        model = models.get(name)
        artifact, version, containers = None, None, 0
        if model:
            described_model = sagemaker.describe_model(ModelName=model)
            # One container (PrimaryContainer) or a serial pipeline (Containers): the artifact
            # shown is the first container's, as the registry describes a version.
            chain = described_model.get("Containers") or [
                described_model.get("PrimaryContainer") or {}
            ]
            artifact, containers = chain[0].get("ModelDataUrl"), len(chain)
            tags = sagemaker.list_tags(ResourceArn=described_model["ModelArn"]).get("Tags", [])
            # byo deploy tags the models it makes; the others are the stack's initial model
            version = next((t["Value"] for t in tags if t["Key"] == "byo:model-version"), "initial")
        weight = float(variant.get("CurrentWeight") or 0)
        variants.append(
            {
                "variant": name,
                "weight": weight,
                "traffic_share": weight / total,
                "instances": variant.get("CurrentInstanceCount"),
                "desired_instances": variant.get("DesiredInstanceCount"),
                "autoscaling": scaling.get(name),
                "last_scaling_activity": activities.get(name),
                "model": model,
                "model_version": version,
                "containers": containers,
                "artifact": artifact,
            }
        )
    return {
        "endpoint": endpoint,
        "status": described["EndpointStatus"],
        "config": described["EndpointConfigName"],
        "data_capture": bool((described.get("DataCaptureConfig") or {}).get("EnableCapture")),
        "variants": variants,
    }


def last_scaling_activity(autoscaling: Any, target: dict[str, Any]) -> dict[str, Any] | None:
    """The newest scaling activity of a scalable target (time, description, status), or None
    when it has none or the activities cannot be read."""
    try:
        found = autoscaling.describe_scaling_activities(
            ServiceNamespace=target["ServiceNamespace"],
            ResourceId=target["ResourceId"],
            ScalableDimension=target["ScalableDimension"],
            MaxResults=1,
        )["ScalingActivities"]
    except ClientError:
        return None
    if not found:
        return None
    activity = found[0]
    return {
        "time": activity["StartTime"].isoformat(timespec="seconds"),
        "description": activity.get("Description"),
        "cause": activity.get("Cause"),
        "status": activity.get("StatusCode"),
    }


def recent_jobs(clients: Clients, table: str, limit: int = 5) -> list[dict[str, Any]]:
    """The newest job records (by StartTime). The table also holds the rollout locks and the
    loops' records, which have no StartTime: they are not jobs."""
    items: list[dict[str, Any]] = []
    scan: dict[str, Any] = {"TableName": table, "FilterExpression": "attribute_exists(StartTime)"}
    dynamodb = clients.client("dynamodb")
    while True:
        page = dynamodb.scan(**scan)
        items.extend({k: next(iter(v.values())) for k, v in item.items()} for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items.sort(key=lambda item: item.get("StartTime", ""), reverse=True)
    return [
        {
            k: item.get(k)
            for k in (
                "Key",
                "Status",
                "StartTime",
                "RowsIn",
                "RowsScored",
                "RowsRejected",
                "OutputUri",
                "Reason",
            )
        }
        for item in items[:limit]
    ]


def registry_versions(clients: Clients, group: str) -> list[dict[str, Any]]:
    packages = clients.client("sagemaker").list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
    )["ModelPackageSummaryList"]
    return [
        {
            "version": p.get("ModelPackageVersion"),
            "status": p.get("ModelApprovalStatus"),
            "arn": p["ModelPackageArn"],
        }
        for p in packages
    ]

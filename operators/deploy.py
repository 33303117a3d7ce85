"""`byo deploy`: serve an approved model version as a production variant of the endpoint."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from operators import registry, rollout
from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.traffic import wait_in_service

# What CreateEndpointConfig accepts of a described production variant.
VARIANT_FIELDS = (
    "VariantName",
    "ModelName",
    "InstanceType",
    "InitialInstanceCount",
    "InitialVariantWeight",
    "AcceleratorType",
    "VolumeSizeInGB",
    "ModelDataDownloadTimeoutInSeconds",
    "ContainerStartupHealthCheckTimeoutInSeconds",
)


# The stack's alarms (output alarm_names, keyed "<variant>/<kind>") that roll a blue/green
# update back when none are named: every variant's server errors and p99 latency.
ROLLBACK_ALARM_KINDS = ("/5xx", "/latency-p99")


def default_rollback_alarms(alarm_names: Mapping[str, str] | None) -> list[str]:
    """The names of the stack's 5XX and p99-latency alarms, from its alarm_names output."""
    return [name for key, name in (alarm_names or {}).items() if key.endswith(ROLLBACK_ALARM_KINDS)]


def blue_green(
    canary_percent: int, canary_wait_s: int, termination_wait_s: int, rollback_alarms: list[str]
) -> dict[str, Any]:
    """SageMaker's blue/green DeploymentConfig: a canary share first, then the rest; the
    alarms roll the update back automatically."""
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary_percent},
                "WaitIntervalInSeconds": canary_wait_s,
            },
            "TerminationWaitInSeconds": termination_wait_s,
        }
    }
    if rollback_alarms:
        config["AutoRollbackConfiguration"] = {
            "Alarms": [{"AlarmName": name} for name in rollback_alarms]
        }
    return config


def model_containers(containers: list[dict[str, Any]]) -> dict[str, Any]:
    """CreateModel's containers for a registered version's: PrimaryContainer for one, else
    Containers run as a serial inference pipeline (each response is the next one's request)."""
    definitions = [
        {
            "Image": c["image"],
            "ModelDataUrl": c["model_data_url"],
            **({"Environment": c["environment"]} if c.get("environment") else {}),
        }
        for c in containers
    ]
    if len(definitions) == 1:
        return {"PrimaryContainer": definitions[0]}
    return {"Containers": definitions, "InferenceExecutionConfig": {"Mode": "Serial"}}


def deploy(
    clients: Clients,
    *,
    endpoint: str,
    group: str,
    version: int,
    variant: str,
    role_arn: str,
    weight: float | None = None,
    instances: int | None = None,
    deployment_config: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    lock: rollout.Lock | None = None,
) -> dict[str, Any]:
    """New model + new endpoint config (other variants, their live weights and data capture
    kept) + UpdateEndpoint, then wait for InService and give a new variant autoscaling.
    The endpoint's rollout `lock` is held throughout (taken here unless the caller holds it,
    as a deploy that goes on to shift traffic does)."""
    with rollout.holding(lock, endpoint) as check:
        package = registry.find(clients, group, version)
        if package["status"] != "Approved":
            raise ConfigError(
                f"version {version} is {package['status']}: approve it first "
                f"(byo model approve {version})"
            )
        sagemaker = clients.client("sagemaker")
        try:
            live = sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as exc:
            raise ByoError(f"endpoint {endpoint}: {exc.response['Error'].get('Message')}") from None
        config = sagemaker.describe_endpoint_config(EndpointConfigName=live["EndpointConfigName"])
        live_variants = {v["VariantName"]: v for v in live["ProductionVariants"]}
        variants = [
            {k: v[k] for k in VARIANT_FIELDS if k in v} for v in config["ProductionVariants"]
        ]
        for entry in variants:  # keep what the operators set since: live weights and counts
            current = live_variants.get(entry["VariantName"], {})
            if "CurrentWeight" in current:
                entry["InitialVariantWeight"] = current["CurrentWeight"]
            if current.get("CurrentInstanceCount"):
                entry["InitialInstanceCount"] = current["CurrentInstanceCount"]

        stamp = clock().strftime("%Y%m%d%H%M%S")
        existing = next((v for v in variants if v["VariantName"] == variant), None)
        template = existing or variants[0]
        new_weight = (
            weight
            if weight is not None
            else (float(existing.get("InitialVariantWeight") or 0) if existing else 1.0)
        )
        others = [float(v.get("InitialVariantWeight") or 0) for v in variants if v is not existing]
        if new_weight <= 0 and not any(w > 0 for w in others):
            raise ConfigError(
                "after this deployment every variant would have weight 0 and no "
                "request could be served; give --weight above 0"
            )
        reference = sagemaker.describe_model(ModelName=template["ModelName"])
        check()
        model_name = f"{endpoint}-v{version}-{variant}-{stamp}"[:63]
        model_args: dict[str, Any] = {
            "ModelName": model_name,
            "ExecutionRoleArn": role_arn,
            **model_containers(package["containers"]),
            "Tags": [{"Key": "byo:model-version", "Value": str(version)}],
        }
        if reference.get("VpcConfig"):
            model_args["VpcConfig"] = reference["VpcConfig"]
        sagemaker.create_model(**model_args)

        if existing:
            existing["ModelName"] = model_name
            if weight is not None:
                existing["InitialVariantWeight"] = weight
            if instances is not None:
                existing["InitialInstanceCount"] = instances
        else:
            variants.append(
                {
                    "VariantName": variant,
                    "ModelName": model_name,
                    "InstanceType": template["InstanceType"],
                    "InitialInstanceCount": instances or 1,
                    "InitialVariantWeight": 1.0 if weight is None else weight,
                }
            )
        if not any(float(v.get("InitialVariantWeight") or 0) > 0 for v in variants):
            raise ConfigError(
                "after this deployment every variant would have weight 0 and no "
                "request could be served; give --weight above 0"
            )
        config_name = f"{endpoint}-{stamp}"[:63]
        config_args: dict[str, Any] = {
            "EndpointConfigName": config_name,
            "ProductionVariants": variants,
            "Tags": [{"Key": "byo:deployed", "Value": f"v{version} as {variant}"}],
        }
        for key in ("DataCaptureConfig", "KmsKeyId"):
            if config.get(key):
                config_args[key] = config[key]
        check()
        sagemaker.create_endpoint_config(**config_args)
        update: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": config_name}
        if deployment_config:
            update["DeploymentConfig"] = deployment_config
        sagemaker.update_endpoint(**update)
        wait_deployed(clients, endpoint, config_name, live["EndpointConfigName"], sleep)
        if not existing:
            check()
            copy_autoscaling(clients, endpoint, template["VariantName"], variant, instances or 1)
        return {
            "endpoint": endpoint,
            "version": version,
            "variant": variant,
            "model": model_name,
            "containers": len(package["containers"]),
            "endpoint_config": config_name,
            "previous_config": live["EndpointConfigName"],
        }


def wait_deployed(
    clients: Clients,
    endpoint: str,
    config_name: str,
    previous_config: str,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Wait until the endpoint is InService on `config_name`. A blue/green deployment that
    SageMaker rolled back (an auto-rollback alarm tripped) ends InService on the previous config,
    or is seen RollingBack on the way: either is a ByoError that says so and why."""

    def rolled_back(described: dict[str, Any]) -> bool:
        status = described["EndpointStatus"]
        return status == "RollingBack" or (
            status == "InService" and described["EndpointConfigName"] != config_name
        )

    try:
        described = wait_in_service(clients, endpoint, sleep, timeout_s=1800)
    except ByoError:  # RollingBack is a failed status to wait_in_service
        described = clients.client("sagemaker").describe_endpoint(EndpointName=endpoint)
        if not rolled_back(described):
            raise
    if rolled_back(described):
        reason = described.get("FailureReason") or "no FailureReason given"
        raise ByoError(
            f"the blue/green deployment of {config_name} to {endpoint} was rolled back by "
            f"SageMaker: {reason} (the endpoint was on {previous_config}; it is "
            f"{described['EndpointStatus']} on {described['EndpointConfigName']})"
        )
    return described


def copy_autoscaling(
    clients: Clients, endpoint: str, source: str, variant: str, minimum: int
) -> None:
    """Give a new variant the scaling of an existing one (same target and cooldowns)."""
    aas = clients.client("application-autoscaling")
    dimension = "sagemaker:variant:DesiredInstanceCount"
    source_id = f"endpoint/{endpoint}/variant/{source}"
    targets = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[source_id])[
        "ScalableTargets"
    ]
    if not targets:
        return  # the endpoint does not autoscale
    resource_id = f"endpoint/{endpoint}/variant/{variant}"
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=dimension,
        MinCapacity=minimum,
        MaxCapacity=max(minimum, targets[0]["MaxCapacity"]),
    )
    for policy in aas.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=source_id)[
        "ScalingPolicies"
    ]:
        tracking = policy.get("TargetTrackingScalingPolicyConfiguration")
        if tracking:
            aas.put_scaling_policy(
                PolicyName=f"{endpoint}-{variant}-invocations-per-instance",
                ServiceNamespace="sagemaker",
                ResourceId=resource_id,
                ScalableDimension=dimension,
                PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration=tracking,
            )

"""Compatibility shims: what moto 5.2.5's server lacks for this platform, and nothing more.

Each patch below adds one missing behaviour and says which gap it fills (see
../shared/EMULATOR-NOTES.md). `apply()` installs them all, once, before the server starts.
Everything here patches moto's own response/backend classes, so callers keep using the ordinary
AWS APIs: nothing outside localaws/ and tests imports moto.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import moto.backends
import moto.core.responses
import moto.iam.models
from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.awslambda.models import LambdaFunction
from moto.batch.models import BatchBackend
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket, FakeKey
from moto.s3.responses import S3Response
from moto.sagemaker.exceptions import ConflictException, ValidationError
from moto.sagemaker.models import FakeEndpoint, Model, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter
from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException
from moto.stepfunctions.parser.asl.static_analyser.express_static_analyser import (
    ExpressStaticAnalyser,
)
from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser
from moto.stepfunctions.responses import StepFunctionResponse

_applied = False


def _scalable_target_tags(backend: ApplicationAutoscalingBackend) -> dict[str, dict[str, str]]:
    if not hasattr(backend, "shim_tags"):
        backend.shim_tags = {}
    return backend.shim_tags


def _find_scalable_target(backend: ApplicationAutoscalingBackend, arn: str) -> Any:
    for by_resource in backend.targets.values():
        for target in by_resource.values():
            if target.arn == arn:
                return target
    raise ValidationError(f"No scalable target found for ResourceARN {arn}")


def _patch_application_autoscaling_tags() -> None:
    """Application Auto Scaling TagResource / UntagResource / ListTagsForResource.

    moto answers HTTP 500 for all three, so `aws_appautoscaling_target` hangs in Terraform. Tags
    given to RegisterScalableTarget are kept too (moto drops them), so a re-plan shows no diff.
    """
    original_register = ApplicationAutoScalingResponse.register_scalable_target
    original_deregister = ApplicationAutoscalingBackend.deregister_scalable_target

    def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        body = original_register(self)
        tags = self._get_param("Tags") or {}
        if tags:
            arn = json.loads(body)["ScalableTargetARN"]
            _scalable_target_tags(self.applicationautoscaling_backend).setdefault(arn, {}).update(
                tags
            )
        return body

    def deregister_scalable_target(self: ApplicationAutoscalingBackend, *args: Any) -> None:
        _namespace, resource_id, dimension = args[:3]
        target = self.targets.get(dimension, {}).get(resource_id)
        original_deregister(self, *args)
        if target is not None:
            _scalable_target_tags(self).pop(target.arn, None)

    def tag_resource(self: ApplicationAutoScalingResponse) -> str:
        backend = self.applicationautoscaling_backend
        arn = self._get_param("ResourceARN")
        _find_scalable_target(backend, arn)
        _scalable_target_tags(backend).setdefault(arn, {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self: ApplicationAutoScalingResponse) -> str:
        backend = self.applicationautoscaling_backend
        arn = self._get_param("ResourceARN")
        _find_scalable_target(backend, arn)
        tags = _scalable_target_tags(backend).setdefault(arn, {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
        backend = self.applicationautoscaling_backend
        arn = self._get_param("ResourceARN")
        _find_scalable_target(backend, arn)
        return json.dumps({"Tags": _scalable_target_tags(backend).get(arn, {})})

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoscalingBackend.deregister_scalable_target = deregister_scalable_target
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource


def _patch_model_package_deletes() -> None:
    """SageMaker DeleteModelPackage and DeleteModelPackageGroup.

    moto answers HTTP 500 for both, so `terraform destroy` of a model package group hangs. As on
    AWS, a group that still holds versions cannot be deleted (ConflictException-like 400).
    """

    def delete_model_package(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        name = self._get_param("ModelPackageName")
        arn = backend.model_package_name_mapping.get(name)
        if arn is None or arn not in backend.model_packages:
            raise ValidationError(f"Model package {name} does not exist.")
        backend.model_packages.pop(arn)
        for key, value in list(backend.model_package_name_mapping.items()):
            if value == arn:
                del backend.model_package_name_mapping[key]
        return EmptyResult()

    def delete_model_package_group(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        name = self._get_param("ModelPackageGroupName").split("/")[-1]
        if name not in backend.model_package_groups:
            raise ValidationError(f"Model package group {name} does not exist.")
        if any(p.model_package_group_name == name for p in backend.model_packages.values()):
            raise ConflictException(
                f"Model package group {name} still contains model packages; delete them first."
            )
        del backend.model_package_groups[name]
        return EmptyResult()

    SageMakerResponse.delete_model_package = delete_model_package
    SageMakerResponse.delete_model_package_group = delete_model_package_group


def _patch_update_endpoint() -> None:
    """SageMaker UpdateEndpoint.

    moto answers HTTP 500, so changing an endpoint's config hangs. The endpoint takes the new
    config's variants and data capture at once (no Updating phase to wait through). With
    RetainAllVariantProperties, variants present in both configs keep their live weight and
    instance count unless listed in ExcludeRetainedVariantProperties, as on AWS.
    DeploymentConfig (blue/green) is recorded as the endpoint's LastDeploymentConfig, as AWS
    reports it; the traffic shifting itself is not simulated.
    """

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        name = self._get_param("EndpointName")
        config_name = self._get_param("EndpointConfigName")
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            arn = FakeEndpoint.arn_formatter(name, backend.account_id, backend.region_name)
            raise ValidationError(f"Could not find endpoint '{arn}'.")
        config = backend.endpoint_configs.get(config_name)
        if config is None:
            raise ValidationError(f"Could not find endpoint configuration '{config_name}'.")
        new_variants = endpoint._process_production_variants(config.production_variants)
        if self._get_param("RetainAllVariantProperties"):
            excluded = {
                p["VariantPropertyType"]
                for p in self._get_param("ExcludeRetainedVariantProperties") or []
            }
            live = {v["VariantName"]: v for v in endpoint.production_variants}
            for variant in new_variants:
                old = live.get(variant["VariantName"])
                if old is None:
                    continue
                if "DesiredWeight" not in excluded:
                    for key in ("CurrentWeight", "DesiredWeight"):
                        if key in old:
                            variant[key] = old[key]
                if "DesiredInstanceCount" not in excluded:
                    for key in ("CurrentInstanceCount", "DesiredInstanceCount"):
                        if key in old:
                            variant[key] = old[key]
        if self._get_param("DeploymentConfig"):
            endpoint.last_deployment_config = self._get_param("DeploymentConfig")
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = new_variants
        endpoint.data_capture_config = copy.deepcopy(config.data_capture_config)
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = utcnow()
        return ActionResult({"EndpointArn": endpoint.arn})

    SageMakerResponse.update_endpoint = update_endpoint


def _patch_update_weights_keeps_unspecified() -> None:
    """UpdateEndpointWeightsAndCapacities keeps what the request leaves out.

    moto sets a variant's weight or instance count to null when the request omits it; AWS keeps
    the current value. Fill the omitted fields from the live variant before moto applies them.
    """
    original = SageMakerModelBackend.update_endpoint_weights_and_capacities

    def update_endpoint_weights_and_capacities(
        self: SageMakerModelBackend,
        endpoint_name: str,
        desired_weights_and_capacities: list[dict[str, Any]],
    ) -> str:
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is not None:
            live = {v["VariantName"]: v for v in endpoint.production_variants}
            filled = []
            for desired in desired_weights_and_capacities:
                current = live.get(desired.get("VariantName"), {})
                merged = dict(desired)
                if merged.get("DesiredWeight") is None and "CurrentWeight" in current:
                    merged["DesiredWeight"] = current["CurrentWeight"]
                if merged.get("DesiredInstanceCount") is None and "CurrentInstanceCount" in current:
                    merged["DesiredInstanceCount"] = current["CurrentInstanceCount"]
                filled.append(merged)
            desired_weights_and_capacities = filled
        return original(self, endpoint_name, desired_weights_and_capacities)

    SageMakerModelBackend.update_endpoint_weights_and_capacities = (
        update_endpoint_weights_and_capacities
    )


def _monitoring_schedules(backend: SageMakerModelBackend) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "shim_monitoring_schedules"):
        backend.shim_monitoring_schedules = {}
    return backend.shim_monitoring_schedules


def _patch_monitoring_schedules() -> None:
    """SageMaker Create/Describe/List/Update/DeleteMonitoringSchedule.

    moto answers HTTP 500 for all of them (CreateDataQualityJobDefinition works). Schedules are
    stored and described; none ever runs (the platform's monitoring runs as Batch jobs). Tags on
    schedules and on model packages (whose ARNs moto cannot parse) are served too.
    """

    def _schedule(self: SageMakerResponse) -> dict[str, Any]:
        name = self._get_param("MonitoringScheduleName")
        schedule = _monitoring_schedules(self.sagemaker_backend).get(name)
        if schedule is None:
            raise ValidationError(f"Monitoring schedule {name} does not exist.")
        return schedule

    def create_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
        backend = self.sagemaker_backend
        name = self._get_param("MonitoringScheduleName")
        schedules = _monitoring_schedules(backend)
        if name in schedules:
            raise ValidationError(f"Monitoring schedule {name} already exists.")
        now = datetime.now(UTC)
        arn = arn_formatter("monitoring-schedule", name, backend.account_id, backend.region_name)
        config = self._get_param("MonitoringScheduleConfig") or {}
        schedules[name] = {
            "MonitoringScheduleArn": arn,
            "MonitoringScheduleName": name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": config.get("MonitoringType", "DataQuality"),
            "CreationTime": now,
            "LastModifiedTime": now,
            "MonitoringScheduleConfig": config,
            "Tags": self._get_param("Tags") or [],
        }
        return ActionResult({"MonitoringScheduleArn": arn})

    def describe_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
        schedule = _schedule(self)
        return ActionResult({k: v for k, v in schedule.items() if k != "Tags"})

    def update_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
        schedule = _schedule(self)
        schedule["MonitoringScheduleConfig"] = self._get_param("MonitoringScheduleConfig")
        schedule["LastModifiedTime"] = datetime.now(UTC)
        return ActionResult({"MonitoringScheduleArn": schedule["MonitoringScheduleArn"]})

    def delete_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
        schedule = _schedule(self)
        del _monitoring_schedules(self.sagemaker_backend)[schedule["MonitoringScheduleName"]]
        return EmptyResult()

    def list_monitoring_schedules(self: SageMakerResponse) -> ActionResult:
        summaries = [
            {
                k: s[k]
                for k in (
                    "MonitoringScheduleName",
                    "MonitoringScheduleArn",
                    "CreationTime",
                    "LastModifiedTime",
                    "MonitoringScheduleStatus",
                    "MonitoringType",
                )
            }
            for s in _monitoring_schedules(self.sagemaker_backend).values()
        ]
        return ActionResult({"MonitoringScheduleSummaries": summaries})

    original_get_resource = SageMakerModelBackend._get_resource_from_arn

    def _get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
        resource_type, _, name = arn.split(":")[-1].partition("/")
        if resource_type == "monitoring-schedule":
            schedule = _monitoring_schedules(self).get(name)
            if schedule is None:
                raise ValidationError(f"Could not find monitoring-schedule with name {name}")
            return _TagHolder(schedule["Tags"])
        if resource_type == "model-package":
            package = self.model_packages.get(self.model_package_name_mapping.get(arn, arn))
            if package is None:
                raise ValidationError(f"Could not find model-package {name}")
            return package
        return original_get_resource(self, arn)

    SageMakerResponse.create_monitoring_schedule = create_monitoring_schedule
    SageMakerResponse.describe_monitoring_schedule = describe_monitoring_schedule
    SageMakerResponse.update_monitoring_schedule = update_monitoring_schedule
    SageMakerResponse.delete_monitoring_schedule = delete_monitoring_schedule
    SageMakerResponse.list_monitoring_schedules = list_monitoring_schedules
    SageMakerModelBackend._get_resource_from_arn = _get_resource_from_arn


class _TagHolder:
    """The `.tags` list moto's tag calls expect, over a schedule's stored tags."""

    def __init__(self, tags: list[dict[str, str]]) -> None:
        self.tags = tags


def _applies_over_tls(statement: dict[str, Any]) -> bool:
    """False when the statement's aws:SecureTransport condition rules out a TLS request."""
    for operator, conditions in (statement.get("Condition") or {}).items():
        if operator.split(":")[-1].removesuffix("IfExists") != "Bool":
            continue
        for key, expected in conditions.items():
            if key.lower() != "aws:securetransport":
                continue
            values = expected if isinstance(expected, list) else [expected]
            if "true" not in {str(v).lower() for v in values}:
                return False
    return True


def _patch_tls_only_bucket_policy() -> None:
    """Bucket policies with `Bool aws:SecureTransport` are evaluated as for a TLS request.

    moto ignores the Bool operator, so a TLS-only policy (Deny when SecureTransport is false)
    denies every object call. The emulator is plain HTTP on loopback, standing in for AWS's
    HTTPS endpoints: statements whose SecureTransport condition excludes TLS are dropped before
    moto evaluates the rest.
    """

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        document["Statement"] = [s for s in statements if _applies_over_tls(s)]
        if not document["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(document)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def _patch_security_group_rule_descriptions() -> None:
    """Descriptions of security-group rules that target a prefix list or another group.

    moto's DescribeSecurityGroupRules reads a rule's description only from its CIDR range, so
    `aws_vpc_security_group_*_rule` with a prefix list (S3/DynamoDB gateway endpoints) or a
    referenced group re-plans `+ description` forever; ModifySecurityGroupRules then stores the
    description as a CIDR-less IP range. Keep and update it where that kind of rule holds it.
    """
    original_init = SecurityGroupRule.__init__
    original_modify = SecurityGroupBackend.modify_security_group_rules

    def __init__(self: SecurityGroupRule, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        prefix_list = kwargs.get("prefix_list_id", args[7] if len(args) > 7 else None)
        self.prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: SecurityGroupRule) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "prefix_list_description", None)
        )

    def modify_security_group_rules(
        self: SecurityGroupBackend, group_id: str, rules: dict[str, dict[str, Any]]
    ) -> None:
        group = self.get_security_group_by_name_or_id(group_id)
        moved = {}
        for rule_id, new_rule in list(rules.items()):
            rule = group.get_rule(rule_id) if group else None
            if rule is not None and not rule.ip_range and "Description" in new_rule:
                moved[rule_id] = new_rule["Description"]
                rules[rule_id] = {k: v for k, v in new_rule.items() if k != "Description"}
        original_modify(self, group_id, rules)
        for rule_id, text in moved.items():
            rule = group.get_rule(rule_id)
            if rule.source_group:
                rule.source_group["Description"] = text
            else:
                rule.prefix_list_description = text

    SecurityGroupRule.__init__ = __init__
    SecurityGroupRule.description = property(description)
    SecurityGroupBackend.modify_security_group_rules = modify_security_group_rules


def _patch_describe_model() -> None:
    """DescribeModel: no empty VpcConfig, PrimaryContainer or Containers, and the
    EnableNetworkIsolation and InferenceExecutionConfig that were asked for.

    moto answers `VpcConfig: {}` for a model created without one (AWS omits it) and always
    `EnableNetworkIsolation: false`; either makes `aws_sagemaker_model` re-plan (the first
    forces a replacement) on every plan. For a serial inference pipeline (Containers) moto drops
    `InferenceExecutionConfig` (a replacement on every plan, and the mode lost) and answers
    `PrimaryContainer: {}`; for a one-container model it answers `Containers: []`. AWS omits both.
    """
    original_response = Model.response_object.fget
    original_create = SageMakerResponse.create_model

    def response_object(self: Model) -> dict[str, Any]:
        response = original_response(self)
        for key in ("VpcConfig", "PrimaryContainer", "Containers"):
            if not response.get(key):
                response.pop(key, None)
        execution = getattr(self, "inference_execution_config", None)
        if execution:
            response["InferenceExecutionConfig"] = execution
        return response

    def create_model(self: SageMakerResponse) -> ActionResult:
        result = original_create(self)
        model = self.sagemaker_backend._models[self._get_param("ModelName")]
        model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation"))
        model.inference_execution_config = self._get_param("InferenceExecutionConfig")
        return result

    Model.response_object = property(response_object)
    SageMakerResponse.create_model = create_model


def _patch_lambda_dead_letter_config() -> None:
    """Lambda DeadLetterConfig is stored and returned.

    moto drops it on CreateFunction/UpdateFunctionConfiguration and never returns it, so an
    `aws_lambda_function` with a dead-letter queue re-plans `+ dead_letter_config` forever.
    """
    original_init = LambdaFunction.__init__
    original_get = LambdaFunction.get_configuration
    original_update = LambdaFunction.update_configuration

    def __init__(self: LambdaFunction, account_id: str, spec: dict, *args: Any, **kw: Any) -> None:
        original_init(self, account_id, spec, *args, **kw)
        self.dead_letter_config = spec.get("DeadLetterConfig")

    def get_configuration(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original_get(self, *args, **kwargs)
        dead_letter = getattr(self, "dead_letter_config", None)
        if dead_letter and dead_letter.get("TargetArn"):
            config["DeadLetterConfig"] = dead_letter
        return config

    def update_configuration(self: LambdaFunction, updates: dict[str, Any]) -> Any:
        if "DeadLetterConfig" in updates:
            self.dead_letter_config = updates["DeadLetterConfig"]
        return original_update(self, updates)

    LambdaFunction.__init__ = __init__
    LambdaFunction.get_configuration = get_configuration
    LambdaFunction.update_configuration = update_configuration


def _patch_batch_service_linked_role() -> None:
    """CreateComputeEnvironment without serviceRole uses Batch's service-linked role.

    On AWS serviceRole is optional (Batch then uses AWSServiceRoleForBatch); moto rejects the
    request ("ServiceRole is required"). Create the service-linked role on first use, as AWS does.
    """
    original = BatchBackend.create_compute_environment

    def create_compute_environment(self: BatchBackend, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("service_role"):
            iam = self.iam_backend
            path = "/aws-service-role/batch.amazonaws.com/"
            role = next((r for r in iam.get_roles() if r.path == path), None)
            if role is None:
                role = iam.create_service_linked_role("batch.amazonaws.com", "", "")
            kwargs["service_role"] = role.arn
        return original(self, *args, **kwargs)

    BatchBackend.create_compute_environment = create_compute_environment


def _shadow_summaries(
    endpoint: FakeEndpoint, shadows: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    """DescribeEndpoint's ShadowProductionVariants: ProductionVariantSummary objects, made as
    moto makes the production variants' (CurrentWeight, DesiredWeight, instance counts, …)."""
    return endpoint._process_production_variants(shadows) if shadows else None


def _patch_shadow_production_variants() -> None:
    """ShadowProductionVariants are kept, validated as AWS does, and described.

    moto drops the field: CreateEndpointConfig forgets it, so DescribeEndpointConfig and
    DescribeEndpoint never return it (`aws_sagemaker_endpoint_configuration` with
    `shadow_production_variants` re-plans forever, and the hosting has no shadow to mirror to).
    As the API reference says, a config with a shadow has exactly one production variant and one
    shadow variant; variant names are unique across both lists; the shadow is a ProductionVariant
    checked like the production ones (its model exists, InstanceType or ServerlessConfig).
    CreateEndpoint and UpdateEndpoint give the endpoint its config's shadow variants (with
    RetainAllVariantProperties, a shadow present before keeps its live weight and count).
    """
    original_create_config = SageMakerResponse.create_endpoint_config
    original_create_endpoint = SageMakerModelBackend.create_endpoint
    original_update = SageMakerResponse.update_endpoint  # the UpdateEndpoint shim's

    def create_endpoint_config(self: SageMakerResponse) -> ActionResult:
        shadows = self._get_param("ShadowProductionVariants")
        if shadows is None:
            return original_create_config(self)
        production = self._get_param("ProductionVariants") or []
        if len(shadows) != 1 or len(production) != 1:
            raise ValidationError(
                "An endpoint configuration with ShadowProductionVariants must have exactly one "
                f"variant in ProductionVariants and one in ShadowProductionVariants (got "
                f"{len(production)} and {len(shadows)})."
            )
        names = [v.get("VariantName") for v in production + shadows]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValidationError(
                f"Variant names must be unique across ProductionVariants and "
                f"ShadowProductionVariants: {', '.join(repeated)} is used more than once."
            )
        backend = self.sagemaker_backend
        backend.validate_production_variants(shadows)
        result = original_create_config(self)
        config = backend.endpoint_configs[self._get_param("EndpointConfigName")]
        try:
            config.validate_production_variants(shadows)
        except ValidationError:
            del backend.endpoint_configs[config.endpoint_config_name]
            raise
        config.shadow_production_variants = copy.deepcopy(shadows)
        return result

    def create_endpoint(self: SageMakerModelBackend, *args: Any, **kwargs: Any) -> FakeEndpoint:
        endpoint = original_create_endpoint(self, *args, **kwargs)
        config = self.endpoint_configs[endpoint.endpoint_config_name]
        shadows = getattr(config, "shadow_production_variants", None)
        endpoint.shadow_production_variants = _shadow_summaries(endpoint, shadows)
        return endpoint

    def update_endpoint(self: SageMakerResponse) -> ActionResult:
        result = original_update(self)
        backend = self.sagemaker_backend
        endpoint = backend.endpoints[self._get_param("EndpointName")]
        config = backend.endpoint_configs[endpoint.endpoint_config_name]
        summaries = _shadow_summaries(endpoint, getattr(config, "shadow_production_variants", None))
        if summaries and self._get_param("RetainAllVariantProperties"):
            excluded = {
                p["VariantPropertyType"]
                for p in self._get_param("ExcludeRetainedVariantProperties") or []
            }
            before = getattr(endpoint, "shadow_production_variants", None) or []
            live = {v["VariantName"]: v for v in before}
            for summary in summaries:
                old = live.get(summary["VariantName"], {})
                for prop, keys in (
                    ("DesiredWeight", ("CurrentWeight", "DesiredWeight")),
                    ("DesiredInstanceCount", ("CurrentInstanceCount", "DesiredInstanceCount")),
                ):
                    if prop not in excluded:
                        summary.update({k: old[k] for k in keys if k in old})
        endpoint.shadow_production_variants = summaries
        return result

    SageMakerResponse.create_endpoint_config = create_endpoint_config
    SageMakerModelBackend.create_endpoint = create_endpoint
    SageMakerResponse.update_endpoint = update_endpoint


# Fields of a ProductionVariant that size instances: a serverless variant has none of them.
_INSTANCE_FIELDS = (
    "InstanceType",
    "InitialInstanceCount",
    "AcceleratorType",
    "VolumeSizeInGB",
    "ManagedInstanceScaling",
)
_SERVERLESS_MEMORY_SIZES = (1024, 2048, 3072, 4096, 5120, 6144)
_PROVISIONED_CONCURRENCY_DIMENSION = "sagemaker:variant:DesiredProvisionedConcurrency"


def _serverless_range_errors(where: str, config: dict[str, Any]) -> list[str]:
    """AWS's member constraints of a ServerlessConfig / ServerlessUpdateConfig, in its wording."""
    errors = []
    for name, low, high in (
        ("MemorySizeInMB", 1024, 6144),
        ("MaxConcurrency", 1, 200),
        ("ProvisionedConcurrency", 1, 200),
    ):
        value = config.get(name)
        if value is None:
            continue
        member = f"{where}.{name[0].lower()}{name[1:]}"
        if value < low:
            errors.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have "
                f"value greater than or equal to {low}"
            )
        elif value > high:
            errors.append(
                f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have "
                f"value less than or equal to {high}"
            )
    return errors


def _validation_errors(errors: list[str]) -> ValidationError:
    noun = "error" if len(errors) == 1 else "errors"
    return ValidationError(f"{len(errors)} validation {noun} detected: {'; '.join(errors)}")


def _check_serverless_variants(
    production: list[dict[str, Any]],
    shadows: list[dict[str, Any]],
    data_capture: Any,
    async_inference: Any,
) -> None:
    """What CreateEndpointConfig refuses about serverless variants (moto checks only that
    MemorySizeInMB is one of the six sizes, and fails with HTTP 500 when it is missing)."""
    errors = []
    serverless = []
    for field, variants in (
        ("productionVariants", production),
        ("shadowProductionVariants", shadows),
    ):
        for index, variant in enumerate(variants, start=1):
            config = variant.get("ServerlessConfig")
            if config is None:
                continue
            serverless.append(variant.get("VariantName"))
            where = f"{field}.{index}.member.serverlessConfig"
            for name in ("MemorySizeInMB", "MaxConcurrency"):
                if config.get(name) is None:
                    member = f"{where}.{name[0].lower()}{name[1:]}"
                    errors.append(
                        f"Value null at '{member}' failed to satisfy constraint: Member must not "
                        "be null"
                    )
            errors.extend(_serverless_range_errors(where, config))
    if errors:
        raise _validation_errors(errors)
    for variant in production + shadows:
        config = variant.get("ServerlessConfig")
        if config is None:
            continue
        name = variant.get("VariantName")
        present = [f for f in _INSTANCE_FIELDS if variant.get(f) is not None]
        if present:
            raise ValidationError(
                f"Variant {name} has a ServerlessConfig and {', '.join(present)}: a serverless "
                f"variant is not sized by instances; remove {', '.join(present)} or the "
                "ServerlessConfig."
            )
        memory = config["MemorySizeInMB"]
        if memory not in _SERVERLESS_MEMORY_SIZES:
            raise ValidationError(
                f"Variant {name}: MemorySizeInMB {memory} is not valid; serverless memory comes "
                f"in 1 GB increments: {', '.join(map(str, _SERVERLESS_MEMORY_SIZES))}."
            )
        provisioned = config.get("ProvisionedConcurrency")
        if provisioned is not None and provisioned > config["MaxConcurrency"]:
            raise ValidationError(
                f"Variant {name}: ProvisionedConcurrency ({provisioned}) must be less than or "
                f"equal to MaxConcurrency ({config['MaxConcurrency']})."
            )
    if not serverless:
        return
    instance = [v.get("VariantName") for v in production if v.get("ServerlessConfig") is None]
    if instance:
        raise ValidationError(
            f"An endpoint configuration cannot mix serverless variants ({', '.join(serverless)}) "
            f"with instance-based variants ({', '.join(instance)})."
        )
    if data_capture:
        raise ValidationError(
            "DataCaptureConfig is not supported for endpoint configurations with serverless "
            f"variants ({', '.join(serverless)}): Serverless Inference does not capture data."
        )
    if async_inference:
        raise ValidationError(
            "AsyncInferenceConfig is not supported for endpoint configurations with serverless "
            f"variants ({', '.join(serverless)}): asynchronous endpoints run on instances."
        )


def _patch_serverless_variants() -> None:
    """Serverless variants: CreateEndpointConfig's checks, ServerlessUpdateConfig, and
    Application Auto Scaling of their provisioned concurrency.

    - CreateEndpointConfig refuses, as AWS does: a ServerlessConfig without MemorySizeInMB or
      MaxConcurrency, values out of the members' ranges (memory 1024-6144 in 1 GB steps,
      MaxConcurrency and ProvisionedConcurrency 1-200), ProvisionedConcurrency above
      MaxConcurrency, instance fields beside a ServerlessConfig, serverless and instance variants
      mixed, DataCaptureConfig or AsyncInferenceConfig with serverless variants.
    - The endpoint's CurrentServerlessConfig/DesiredServerlessConfig are its own copies (moto
      shares the config's dict); a variant without InitialVariantWeight (as serverless ones
      usually are) weighs the API's default 1.0 (moto leaves it without weight); and
      UpdateEndpointWeightsAndCapacities applies a variant's ServerlessUpdateConfig
      (MaxConcurrency, ProvisionedConcurrency; moto ignores it), which is how Application Auto
      Scaling sets a serverless variant's provisioned concurrency.
    - RegisterScalableTarget and the other Application Auto Scaling calls accept the scalable
      dimension sagemaker:variant:DesiredProvisionedConcurrency (moto's list lacks it).
    """
    import enum

    from moto.applicationautoscaling import models as scaling_models
    from moto.applicationautoscaling import responses as scaling_responses

    original_create_config = SageMakerResponse.create_endpoint_config
    original_process = FakeEndpoint._process_production_variants
    original_update_weights = SageMakerModelBackend.update_endpoint_weights_and_capacities

    def create_endpoint_config(self: SageMakerResponse) -> ActionResult:
        _check_serverless_variants(
            self._get_param("ProductionVariants") or [],
            self._get_param("ShadowProductionVariants") or [],
            self._get_param("DataCaptureConfig"),
            self._get_param("AsyncInferenceConfig"),
        )
        return original_create_config(self)

    def process_production_variants(
        self: FakeEndpoint, production_variants: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        processed = original_process(self, production_variants)
        for given, variant in zip(production_variants, processed, strict=True):
            for key in ("CurrentServerlessConfig", "DesiredServerlessConfig"):
                if key in variant:
                    variant[key] = copy.deepcopy(variant[key])
            if given.get("InitialVariantWeight") is None:  # the API's default weight: 1.0
                variant.setdefault("CurrentWeight", 1.0)
                variant.setdefault("DesiredWeight", 1.0)
        return processed

    def update_endpoint_weights_and_capacities(
        self: SageMakerModelBackend,
        endpoint_name: str,
        desired_weights_and_capacities: list[dict[str, Any]],
    ) -> str:
        endpoint = self.endpoints.get(endpoint_name)
        updates: dict[str, dict[str, Any]] = {}
        if endpoint is not None:
            live = {v["VariantName"]: v for v in endpoint.production_variants}
            errors = []
            for index, desired in enumerate(desired_weights_and_capacities, start=1):
                update = desired.get("ServerlessUpdateConfig")
                if not update:
                    continue
                errors.extend(
                    _serverless_range_errors(
                        f"desiredWeightsAndCapacities.{index}.member.serverlessUpdateConfig",
                        update,
                    )
                )
                name = desired.get("VariantName")
                current = (live.get(name) or {}).get("CurrentServerlessConfig")
                if name in live and current is None:
                    raise ValidationError(
                        f"Variant {name} of endpoint {endpoint_name} is not serverless: "
                        "ServerlessUpdateConfig applies to serverless variants only."
                    )
                if current is not None:
                    updates[name] = {**current, **{k: v for k, v in update.items() if v}}
            if errors:
                raise _validation_errors(errors)
            for name, new in updates.items():
                provisioned = new.get("ProvisionedConcurrency")
                if provisioned is not None and provisioned > new["MaxConcurrency"]:
                    raise ValidationError(
                        f"Variant {name}: ProvisionedConcurrency ({provisioned}) must be less "
                        f"than or equal to MaxConcurrency ({new['MaxConcurrency']})."
                    )
        arn = original_update_weights(self, endpoint_name, desired_weights_and_capacities)
        for variant in endpoint.production_variants if endpoint is not None else []:
            if "CurrentServerlessConfig" not in variant:
                continue
            for key in ("CurrentInstanceCount", "DesiredInstanceCount"):
                if variant.get(key) is None:  # moto sets them to None: serverless has none
                    variant.pop(key, None)
            new = updates.get(variant["VariantName"])
            if new is not None:
                variant["CurrentServerlessConfig"] = dict(new)
                variant["DesiredServerlessConfig"] = dict(new)
        return arn

    dimensions = scaling_models.ScalableDimensionValueSet
    if _PROVISIONED_CONCURRENCY_DIMENSION not in {d.value for d in dimensions}:
        extended = enum.Enum(  # type: ignore[misc]
            "ScalableDimensionValueSet",
            {
                **{d.name: d.value for d in dimensions},
                "SAGEMAKER_VARIANT_DESIRED_PROVISIONED_CONCURRENCY": (
                    _PROVISIONED_CONCURRENCY_DIMENSION
                ),
            },
        )
        scaling_models.ScalableDimensionValueSet = extended
        scaling_responses.ScalableDimensionValueSet = extended

    SageMakerResponse.create_endpoint_config = create_endpoint_config
    FakeEndpoint._process_production_variants = process_production_variants
    SageMakerModelBackend.update_endpoint_weights_and_capacities = (
        update_endpoint_weights_and_capacities
    )


def _patch_absent_data_capture() -> None:
    """DescribeEndpointConfig leaves out a DataCaptureConfig that CreateEndpointConfig was not
    given, as AWS does.

    moto stores the absent field as {} and returns it; the aws provider reads that as a
    data_capture_config block (enable_capture false, sampling 0), so an endpoint config made
    without data capture (every serverless one: AWS refuses capture there) re-plans as replaced
    forever.
    """

    def describe_endpoint_config(self: SageMakerResponse) -> ActionResult:
        name = self._get_param("EndpointConfigName")
        response = dict(self.sagemaker_backend.describe_endpoint_config(name))
        if not response.get("DataCaptureConfig"):
            response.pop("DataCaptureConfig", None)
        return ActionResult(response)

    SageMakerResponse.describe_endpoint_config = describe_endpoint_config


class _JSONObject(dict):
    """A JSON object of a definition, with the keys it held more than once (json.loads keeps
    the last of them)."""

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> _JSONObject:
    result = _JSONObject(pairs)
    keys = [key for key, _ in pairs]
    result.duplicates = tuple(sorted({key for key in keys if keys.count(key) > 1}))
    return result


def _pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901), as ValidateStateMachineDefinition's `location` gives one."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


_BLANK = re.compile(r"[ \t\n\r]*")


def _json_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, pointer) of every key and value of the JSON `text`: where a parser error's
    line and column sit in the definition."""
    decoder = json.JSONDecoder()
    spans: list[tuple[int, int, str]] = []

    def skip(i: int) -> int:
        return _BLANK.match(text, i).end()

    def value(i: int, pointer: str) -> int:
        start = i = skip(i)
        if text[i] in "{[":
            close = "}" if text[i] == "{" else "]"
            i, index = skip(i + 1), 0
            while text[i] != close:
                if close == "}":
                    key, after = json.decoder.scanstring(text, i + 1)
                    child = pointer + _pointer(key)
                    spans.append((i, after, child))
                    i = skip(after) + 1  # past the ':'
                else:
                    child = pointer + _pointer(index)
                i, index = skip(value(i, child)), index + 1
                if text[i] == ",":
                    i = skip(i + 1)
            end = i + 1
        else:
            end = decoder.raw_decode(text, i)[1]
        spans.append((start, end, pointer))
        return end

    value(0, "")
    return spans


def _parser_location(text: str, error: str) -> str | None:
    """The JSON pointer of the key or value an ASL parser error ("line L:C, …") points at."""
    found = re.match(r"line (\d+):(\d+)", error)
    if found is None:
        return None
    line, column = int(found[1]), int(found[2])
    offset = sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + column
    covering = [(end - start, at) for start, end, at in _json_spans(text) if start <= offset < end]
    if not covering:
        return None
    return min(covering)[1] or None  # the innermost; "" (the whole document) says nothing


def _diagnostic(code: str, message: str, location: str | None = None) -> dict[str, str]:
    diagnostic = {"severity": "ERROR", "code": code, "message": message}
    if location:
        diagnostic["location"] = location
    return diagnostic


_TERMINAL_TYPES = ("Succeed", "Fail")


def _scope_diagnostics(scope: dict[str, Any], where: str) -> list[dict[str, str]]:
    """What a parser cannot see in one StartAt/States scope (the machine, a Parallel branch, a
    Map's ItemProcessor): transitions to states it does not hold, states with no way on, no
    terminal state, duplicate names."""
    states = scope.get("States")
    if not isinstance(states, dict):
        return []  # the parser says so
    found: list[dict[str, str]] = []
    for name in getattr(states, "duplicates", ()):
        found.append(
            _diagnostic(
                "DUPLICATE_STATE_NAME",
                f"State name {name!r} appears more than once",
                where + _pointer("States", name),
            )
        )
    targets: list[tuple[str, Any, str]] = []
    if isinstance(scope.get("StartAt"), str):
        targets.append(("StartAt", scope["StartAt"], where + _pointer("StartAt")))
    terminal = False
    for name, state in states.items():
        at = where + _pointer("States", name)
        if len(name) > 80:
            found.append(
                _diagnostic("INVALID_STATE_NAME", "A state name is at most 80 characters", at)
            )
        if not isinstance(state, dict):
            continue
        kind = state.get("Type")
        if "Next" in state:
            targets.append(("Next", state["Next"], at + "/Next"))
        if kind == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                found.append(
                    _diagnostic(
                        "SCHEMA_VALIDATION_FAILED",
                        "A Choice state needs a non-empty Choices array",
                        at + "/Choices",
                    )
                )
                choices = []
            for index, rule in enumerate(choices):
                if isinstance(rule, dict) and "Next" in rule:
                    targets.append(("Next", rule["Next"], at + _pointer("Choices", index, "Next")))
            if "Default" in state:
                targets.append(("Default", state["Default"], at + "/Default"))
        catchers = state.get("Catch")
        for index, catcher in enumerate(catchers if isinstance(catchers, list) else []):
            if isinstance(catcher, dict) and "Next" in catcher:
                targets.append(("Next", catcher["Next"], at + _pointer("Catch", index, "Next")))
        if kind in _TERMINAL_TYPES or state.get("End") is True:
            terminal = True
        elif kind != "Choice" and "Next" not in state:
            found.append(
                _diagnostic(
                    "SCHEMA_VALIDATION_FAILED",
                    f"State {name!r} has neither Next nor End",
                    at,
                )
            )
        branches = state.get("Branches")
        for index, branch in enumerate(branches if isinstance(branches, list) else []):
            if isinstance(branch, dict):
                found += _scope_diagnostics(branch, at + _pointer("Branches", index))
        for field in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(field), dict):
                found += _scope_diagnostics(state[field], at + _pointer(field))
    for field, target, at in targets:
        if isinstance(target, str) and target not in states:
            found.append(
                _diagnostic(
                    "MISSING_TRANSITION_TARGET",
                    f"Missing {field!r} target: {target!r} is no state of this scope",
                    at,
                )
            )
    if states and not terminal:
        found.append(
            _diagnostic(
                "MISSING_END_STATE",
                "No terminal state (End: true, Succeed or Fail)",
                where + "/States",
            )
        )
    return found


def definition_diagnostics(definition: str | None, machine_type: str = "STANDARD") -> list[dict]:
    """ValidateStateMachineDefinition's ERROR diagnostics for an ASL definition (empty: OK)."""
    if not definition or not definition.strip():
        return [_diagnostic("MISSING_DESCRIPTION", "The definition is empty")]
    try:
        document = json.loads(definition, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        return [
            _diagnostic(
                "INVALID_JSON_DESCRIPTION",
                f"{exc.msg} at line {exc.lineno}, column {exc.colno}",
            )
        ]
    if not isinstance(document, dict):
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", "The definition is not a JSON object")]
    analyser = ExpressStaticAnalyser() if machine_type == "EXPRESS" else StaticAnalyser()
    found: list[dict[str, str]] = []
    try:
        analyser.analyse(definition)
    except ASLParserException as exc:
        for error in exc.errors or ["the ASL parser refused the definition"]:
            found.append(
                _diagnostic("SCHEMA_VALIDATION_FAILED", error, _parser_location(definition, error))
            )
    except Exception as exc:  # the parser's own checks raise ValueError and the like
        # "No '<class '….StartAt'>' definition for Program in context: '<the definition>'."
        message = re.sub(r"'<class '(?:\w+\.)*(\w+)'>'", r"'\1'", str(exc) or repr(exc))
        found.append(_diagnostic("SCHEMA_VALIDATION_FAILED", message.split(" in context: ")[0]))
    return found + _scope_diagnostics(document, "")


def _patch_validate_state_machine_definition() -> None:
    """Step Functions ValidateStateMachineDefinition.

    moto has no such action (botocore has), so a Terraform module's or a test's check of its
    state machines cannot run offline. Answered with moto's own ASL parser (the one its
    CreateStateMachine uses) and a check of each StartAt/States scope: `result` OK with no
    diagnostics, or FAIL with ERROR diagnostics (code, message, location as a JSON pointer where
    known), at most maxResults of them (`truncated` says when more were found). What it catches
    and what it cannot (AWS's validator checks more than a parser can) is listed in
    localaws/runtime/stepfunctions.py's docstring.
    """

    def validate_state_machine_definition(self: StepFunctionResponse) -> str:
        found = definition_diagnostics(
            self._get_param("definition"), self._get_param("type") or "STANDARD"
        )
        limit = self._get_param("maxResults") or 100
        return json.dumps(
            {
                "result": "FAIL" if found else "OK",
                "diagnostics": found[:limit],
                "truncated": len(found) > limit,
            }
        )

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition


def _patch_list_state_machine_versions() -> None:
    """Step Functions ListStateMachineVersions.

    moto keeps a state machine's published versions but has no such action: the Terraform
    provider lists them after creating an aws_sfn_state_machine and fails on the HTTP 500.
    Answered from moto's versions, newest first (as AWS lists them), `maxResults` at a time with
    the next version number as `nextToken`.
    """

    def list_state_machine_versions(self: StepFunctionResponse) -> str:
        machine = self.stepfunction_backend.describe_state_machine(
            self._get_param("stateMachineArn")
        )
        numbers = sorted(getattr(machine, "versions", {}), reverse=True)
        token = self._get_param("nextToken")
        if token:
            numbers = [n for n in numbers if n <= int(token)]
        limit = self._get_param("maxResults") or 1000
        page, rest = numbers[:limit], numbers[limit:]
        body: dict[str, Any] = {
            "stateMachineVersions": [
                {
                    "stateMachineVersionArn": machine.versions[n].arn,
                    "creationDate": machine.versions[n].creation_date.timestamp(),
                }
                for n in page
            ]
        }
        if rest:
            body["nextToken"] = str(rest[0])
        return json.dumps(body, default=str)

    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions


def _patch_execution_names() -> None:
    """An execution started without a name gets a UUID, as AWS names it.

    moto's plain backend does this, but its ASL engine's backend (the one the runtime's Step
    Functions service uses) passes the missing name on: the execution is named "None" and
    `$$.Execution.Name` is null — so every execution an EventBridge target starts (they pass no
    name) would share the name "None".
    """
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution


def _patch_bucket_notification_eventbridge() -> None:
    """GetBucketNotificationConfiguration answers EventBridgeConfiguration when it is on.

    moto stores a bucket's EventBridgeConfiguration (and sends its events) but leaves it out of
    the Get answer, so Terraform's aws_s3_bucket_notification with eventbridge = true plans a
    change on every refresh.
    """
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_notification

    def get_bucket_notification(self: S3Response) -> Any:
        answer = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None:
            return answer
        status, headers, body = answer
        text = body.decode() if isinstance(body, bytes) else body
        if "EventBridgeConfiguration" in text:
            return answer
        # <NotificationConfiguration xmlns="…"/> when nothing else is configured.
        text = re.sub(
            r"<NotificationConfiguration([^>]*?)\s*/>",
            r"<NotificationConfiguration\1></NotificationConfiguration>",
            text,
        )
        text = text.replace(
            "</NotificationConfiguration>",
            "<EventBridgeConfiguration></EventBridgeConfiguration></NotificationConfiguration>",
        )
        return status, headers, text

    S3Response.get_bucket_notification = get_bucket_notification


def _patch_update_model_package_keeps_metadata() -> None:
    """UpdateModelPackage changes only what it is given.

    moto sets a version's CustomerMetadataProperties, ApprovalDescription and approval status to
    what the request carries (None when absent), so approving a version without them erases its
    metadata (the sha256 the operators find versions by). On AWS, CustomerMetadataProperties
    adds or updates keys, CustomerMetadataPropertiesToRemove removes them, and what is not given
    is kept.
    """
    original = SageMakerModelBackend.update_model_package

    def update_model_package(
        self: SageMakerModelBackend,
        model_package_arn: str,
        model_approval_status: str | None,
        approval_description: str | None,
        customer_metadata_properties: dict[str, str] | None,
        *args: Any,
        **kwargs: Any,
    ) -> str:
        name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
        package = self.model_packages.get(name)
        if package is not None:
            customer_metadata_properties = {
                **(package.customer_metadata_properties or {}),
                **(customer_metadata_properties or {}),
            } or None
            if approval_description is None:
                approval_description = package.approval_description
            if model_approval_status is None:
                model_approval_status = package.model_approval_status
        return original(
            self,
            model_package_arn,
            model_approval_status,
            approval_description,
            customer_metadata_properties,
            *args,
            **kwargs,
        )

    SageMakerModelBackend.update_model_package = update_model_package


def _patch_bucket_replication_rules() -> None:
    """GetBucketReplication answers the rules as they were put.

    moto stores the whole ReplicationConfiguration but answers every rule with an empty Filter
    prefix, DeleteMarkerReplication Disabled and no SourceSelectionCriteria, so Terraform's
    aws_s3_bucket_replication_configuration plans a change on every refresh (and the runtime's
    replication could not read the rules back through the API).
    """
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import ActionResult, S3Response

    def get_bucket_replication(self: S3Response) -> Any:
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = []
        for stored in replication["Rule"]:
            rule = {
                "ID": stored["ID"],
                "Priority": int(stored.get("Priority") or 0),
                "Status": stored["Status"],
                "DeleteMarkerReplication": stored.get("DeleteMarkerReplication")
                or {"Status": "Disabled"},
                "Destination": stored["Destination"],
            }
            if "Filter" in stored:
                rule["Filter"] = stored["Filter"] or {}
            elif "Prefix" in stored:
                rule["Prefix"] = stored["Prefix"] or ""
            else:
                rule["Filter"] = {"Prefix": ""}
            for optional in ("SourceSelectionCriteria", "ExistingObjectReplication"):
                if stored.get(optional):
                    rule[optional] = stored[optional]
            rules.append(rule)
        return self.serialized(
            ActionResult(
                {"ReplicationConfiguration": {"Role": replication["Role"], "Rules": rules}}
            )
        )

    S3Response.get_bucket_replication = get_bucket_replication


def _patch_dynamodb_atomic_conditional_writes() -> None:
    """A DynamoDB write's condition check and the write itself are one step.

    moto's server is threaded and checks a ConditionExpression and then writes, unlocked, so
    two conditional writes at the same instant can both succeed (two holders of one lock item
    — the loops' and the rollouts' locks rely on DynamoDB refusing the second). Writes are
    serialized, as DynamoDB serializes the writes of one item.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def serialized(original: Any) -> Any:
        def write(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return write

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        setattr(DynamoDBBackend, name, serialized(getattr(DynamoDBBackend, name)))


_CODEBUILD_LIST_FIELDS = (
    "secondarySources",
    "secondarySourceVersions",
    "secondaryArtifacts",
    "fileSystemLocations",
)
_CODEBUILD_CLEARED_WHEN_EMPTY = (
    "buildBatchConfig",
    "description",
    "sourceVersion",
    *_CODEBUILD_LIST_FIELDS,
)
_CODEBUILD_UPDATABLE = (
    "source",
    "sourceVersion",
    "artifacts",
    "cache",
    "environment",
    "serviceRole",
    "timeoutInMinutes",
    "queuedTimeoutInMinutes",
    "autoRetryLimit",
    "encryptionKey",
    "tags",
    "vpcConfig",
    "badgeEnabled",
    "logsConfig",
    "buildBatchConfig",
    "concurrentBuildLimit",
    "description",
    *_CODEBUILD_LIST_FIELDS,
)


def _codebuild_project(backend: Any, name: str) -> Any:
    """The project a request names, by name or ARN (as AWS takes either); None if there is none."""
    if name in backend.codebuild_projects:
        return backend.codebuild_projects[name]
    for project in backend.codebuild_projects.values():
        if project.arn == name:
            return project
    return None


def _default_encryption_key(backend: Any) -> str:
    """The key CodeBuild uses when a project names none: the account's AWS-managed S3 key."""
    from moto.utilities.utils import get_partition

    region = backend.region_name
    return f"arn:{get_partition(region)}:kms:{region}:{backend.account_id}:alias/aws/s3"


def _set_project_fields(backend: Any, project: Any, fields: dict[str, Any]) -> None:
    """Store UpdateProject-style fields on a project as BatchGetProjects answers them.

    The clearing values are AWS's: concurrentBuildLimit -1, an empty vpcConfig or
    buildBatchConfig, an empty list, an empty description or sourceVersion; an empty
    encryptionKey goes back to the default key.
    """
    metadata = project.project_metadata
    for field, value in fields.items():
        if value is None:
            continue
        if field == "badgeEnabled":
            metadata["badge"] = {"badgeEnabled": bool(value)}
        elif field == "encryptionKey":
            metadata[field] = value or _default_encryption_key(backend)
        elif field == "concurrentBuildLimit":
            _set_or_clear(metadata, field, None if value == -1 else value)
        elif field == "serviceRole":
            metadata[field] = project.service_role = value
        elif field == "tags":
            metadata[field] = project.tags = value
        elif field == "vpcConfig":
            cleared = not any(value.get(key) for key in ("vpcId", "subnets"))
            _set_or_clear(metadata, field, None if cleared else value)
        elif field in _CODEBUILD_CLEARED_WHEN_EMPTY:
            _set_or_clear(metadata, field, value or None)
        else:
            metadata[field] = value


def _set_or_clear(metadata: dict[str, Any], field: str, value: Any) -> None:
    if value is None:
        metadata.pop(field, None)
    else:
        metadata[field] = value


def _patch_codebuild_projects() -> None:
    """CodeBuild projects keep what CreateProject is given, and UpdateProject updates them.

    moto's CreateProject stores alias/aws/s3 whatever encryptionKey it is given, drops
    concurrentBuildLimit, badgeEnabled, autoRetryLimit, buildBatchConfig, fileSystemLocations
    and the secondary sources/artifacts, defaults the timeouts to 0 (AWS: 60 and 480 minutes)
    and keeps lastModified under a name the answer leaves out; UpdateProject is HTTP 500
    (Terraform's aws_codebuild_project calls it on any change); DeleteProject ignores an ARN
    (the name Terraform deletes a project by). UpdateProject changes only the fields it is
    given, as AWS's.
    """
    from moto.codebuild.exceptions import InvalidInputException, ResourceNotFoundException
    from moto.codebuild.models import CodeBuildBackend
    from moto.codebuild.responses import (
        CodeBuildResponse,
        _validate_required_params_artifacts,
        _validate_required_params_environment,
        _validate_required_params_service_role,
        _validate_required_params_source,
    )
    from moto.core.utils import unix_time

    original_create = CodeBuildResponse.create_project
    original_delete = CodeBuildBackend.delete_project

    def create_project(self: CodeBuildResponse) -> Any:
        answer = original_create(self)
        project = self.codebuild_backend.codebuild_projects[self._get_param("name")]
        metadata = project.project_metadata
        fields = {
            name: self._get_param(name)
            for name in (
                "encryptionKey",
                "concurrentBuildLimit",
                "badgeEnabled",
                "autoRetryLimit",
                "buildBatchConfig",
                *_CODEBUILD_LIST_FIELDS,
            )
        }
        _set_project_fields(self.codebuild_backend, project, fields)
        if self._get_param("timeoutInMinutes") is None:
            metadata["timeoutInMinutes"] = 60
        if self._get_param("queuedTimeoutInMinutes") is None:
            metadata["queuedTimeoutInMinutes"] = 480
        metadata["lastModified"] = metadata.get("lastModifiedDate", metadata["created"])
        return answer  # the answer holds the same metadata dict, serialized after this returns

    def update_project(self: CodeBuildResponse) -> ActionResult:
        backend = self.codebuild_backend
        name = self._get_param("name")
        project = _codebuild_project(backend, name)
        if project is None:
            raise ResourceNotFoundException(f"Project cannot be found: {name}")
        fields = {field: self._get_param(field) for field in _CODEBUILD_UPDATABLE}
        if fields["source"] is not None:
            _validate_required_params_source(fields["source"])
        if fields["artifacts"] is not None:
            _validate_required_params_artifacts(fields["artifacts"])
        if fields["environment"] is not None:
            _validate_required_params_environment(fields["environment"])
        if fields["serviceRole"] is not None:
            _validate_required_params_service_role(
                self.current_account, self.region, fields["serviceRole"]
            )
        limit = fields["concurrentBuildLimit"]
        if limit is not None and limit != -1 and limit < 1:
            raise InvalidInputException(
                "Invalid concurrentBuildLimit: it must be at least 1 (-1 removes the limit)"
            )
        _set_project_fields(backend, project, fields)
        project.project_metadata["lastModified"] = unix_time()
        return ActionResult({"project": project.project_metadata})

    def delete_project(self: CodeBuildBackend, project_name: str) -> None:
        project = _codebuild_project(self, project_name)
        original_delete(self, project.project_metadata["name"] if project else project_name)

    CodeBuildResponse.create_project = create_project
    CodeBuildResponse.update_project = update_project
    CodeBuildBackend.delete_project = delete_project


def _patch_object_lock_on_buckets_with_objects() -> None:
    """PutObjectLockConfiguration is accepted on a versioned bucket that holds objects.

    moto refuses it ("Bucket needs to be empty") unless the bucket is empty; AWS enables Object
    Lock on existing buckets (versioning must be Enabled, which is still checked). Terraform's
    aws_s3_bucket_object_lock_configuration, destroyed, puts a configuration without a rule, and
    by then the bucket usually holds objects.
    """
    from moto.s3.exceptions import InvalidBucketState
    from moto.s3.models import S3Backend

    def put_object_lock_configuration(
        self: S3Backend,
        bucket_name: str,
        lock_enabled: bool,
        mode: str | None = None,
        days: int | None = None,
        years: int | None = None,
    ) -> None:
        bucket = self.get_bucket(bucket_name)
        if not bucket.is_versioned:
            raise InvalidBucketState(
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
            )
        if lock_enabled:
            bucket.object_lock_enabled = True
            bucket.versioning_status = "Enabled"
        bucket.default_lock_mode = mode
        bucket.default_lock_days = days
        bucket.default_lock_years = years

    S3Backend.put_object_lock_configuration = put_object_lock_configuration


def _patch_cloudtrail_delete_by_arn() -> None:
    """DeleteTrail takes the trail's name or its ARN, as AWS's does.

    moto deleted by name only and did nothing for an ARN; Terraform's aws_cloudtrail deletes by
    its id, the ARN, so the trail outlived `terraform destroy`. A trail that does not exist is
    TrailNotFoundException (moto's get_trail).
    """
    from moto.cloudtrail.models import CloudTrailBackend

    def delete_trail(self: CloudTrailBackend, name: str) -> None:
        trail = self.get_trail(name)
        del self.trails[trail.trail_name]

    CloudTrailBackend.delete_trail = delete_trail  # type: ignore[method-assign]


def _patch_per_request_lookups() -> None:
    """Two things moto's server recomputed on every request, computed once (the emulator's CPU
    is the tests' and the demo's: a py-spy profile of a burst of S3/IAM/EC2 calls had them at
    15% and 7% of the request handling).

    - The names of moto's service packages: the dispatcher listed moto's directory and stat'ed
      each of its ~170 entries for every request (`host in list_of_moto_modules()`).
    - A response class's method names: every action ran `inspect.getmembers` over its class.
    Both depend only on the installed moto and its classes, which do not change while it runs.
    """
    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    moto.core.responses.method_names_from_class = functools.cache(  # type: ignore[assignment]
        moto.core.responses.method_names_from_class
    )


def _patch_account_lookup_creates_no_backends() -> None:
    """An access key's account found among the IAM backends that exist, creating none.

    moto's get_account_id_from (every request's account) looked the key up in each of the six
    partitions' IAM backend of every account, creating the missing ones: five partitions no
    emulated region is in, each new backend loading AWS's 1,582 managed policies (~170 ms of
    CPU here), for every account a request named. A backend not created yet holds no access key,
    so searching only the created ones finds the same account, or none (the default)."""
    from moto.core import DEFAULT_ACCOUNT_ID

    def get_account_id_from(access_key: str) -> str:
        for account_id, account in list(moto.iam.models.iam_backends.items()):
            for backend in list(dict.values(account)):  # the created ones, not __getitem__'s
                if access_key in backend.access_keys:
                    return account_id
        return DEFAULT_ACCOUNT_ID

    moto.iam.models.get_account_id_from = get_account_id_from  # type: ignore[assignment]


class _ObjectBytes:
    """An object's value for a ranged GET, read from its buffer only where sliced."""

    def __init__(self, key: FakeKey) -> None:
        self.key = key

    def __len__(self) -> int:
        return self.key.size

    def __getitem__(self, part: slice) -> bytes:
        start, stop, _ = part.indices(self.key.size)
        with self.key.lock:
            buffer = self.key._value_buffer
            buffer.seek(start)
            return buffer.read(max(0, stop - start))


def _patch_ranged_get_reads_the_range() -> None:
    """A ranged GetObject reads the range, not the whole object.

    moto's get_object reads the whole value (a copy of the object), and its range handler slices
    that (a second copy): a 64 KiB GET of a 270 MiB object copied 540 MiB. While get_object runs
    for a request with a Range header, a key's value is an _ObjectBytes, which moto's range
    handler sizes and slices as it did the bytes; whatever it does not slice (a multi-range or
    unparsable Range: the whole object, as moto answers) is read whole, as before.
    """
    lazy = threading.local()
    value = FakeKey.value

    def key_value(self: FakeKey) -> Any:
        return _ObjectBytes(self) if getattr(lazy, "on", False) else value.fget(self)

    FakeKey.value = property(key_value, value.fset)
    original_get_object = S3Response.get_object
    original_key_response = S3Response.key_response

    def get_object(self: S3Response) -> Any:
        lazy.on = bool(self.headers.get("range"))
        try:
            return original_get_object(self)
        finally:
            lazy.on = False

    def key_response(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        response = original_key_response(self, *args, **kwargs)
        if isinstance(response, tuple) and isinstance(response[-1], _ObjectBytes):
            response = (*response[:-1], response[-1][:])
        return response

    S3Response.get_object = get_object
    S3Response.key_response = key_response


def apply() -> None:
    """Install every shim (idempotent)."""
    global _applied
    if _applied:
        return
    _patch_application_autoscaling_tags()
    _patch_model_package_deletes()
    _patch_update_endpoint()
    _patch_update_weights_keeps_unspecified()
    _patch_monitoring_schedules()
    _patch_tls_only_bucket_policy()
    _patch_security_group_rule_descriptions()
    _patch_describe_model()
    _patch_lambda_dead_letter_config()
    _patch_batch_service_linked_role()
    _patch_shadow_production_variants()  # after _patch_update_endpoint: it wraps that shim
    _patch_serverless_variants()  # after the shadow and weights shims: it wraps both
    _patch_absent_data_capture()
    _patch_validate_state_machine_definition()
    _patch_list_state_machine_versions()
    _patch_execution_names()
    _patch_bucket_notification_eventbridge()
    _patch_update_model_package_keeps_metadata()
    _patch_bucket_replication_rules()
    _patch_dynamodb_atomic_conditional_writes()
    _patch_codebuild_projects()
    _patch_object_lock_on_buckets_with_objects()
    _patch_cloudtrail_delete_by_arn()
    _patch_per_request_lookups()
    _patch_ranged_get_reads_the_range()
    _patch_account_lookup_creates_no_backends()
    _applied = True

"""Application Auto Scaling of SageMaker endpoint variants, run locally.

moto stores scalable targets and scaling policies but never scales. This service does what AWS's
scaler does for a scalable target `endpoint/<endpoint>/variant/<variant>`, of dimension
`sagemaker:variant:DesiredInstanceCount` (MinCapacity may be 0: an asynchronous endpoint's scale
to zero) or `sagemaker:variant:DesiredProvisionedConcurrency` (a serverless variant's
provisioned concurrency, set with UpdateEndpointWeightsAndCapacities' ServerlessUpdateConfig;
its predefined metric SageMakerVariantProvisionedConcurrencyUtilization is the Average of
ServerlessProvisionedConcurrencyUtilization), with `TargetTrackingScaling` policies as below and
`StepScaling` policies:

- Step scaling. An alarm whose actions name the policy invokes it on its change of state (the
  alarms service hands the action over: `Context.scaling_policy_executor`) and again once a
  minute while it stays in that state, as CloudWatch does for Auto Scaling actions. The metric
  is the alarm's evaluated datapoints (StateReasonData) aggregated by MetricAggregationType
  (default Average); the step whose interval holds metric - threshold applies (bounds as the API
  reference defines their inclusiveness); AdjustmentType ChangeInCapacity, ExactCapacity or
  PercentChangeInCapacity (rounded as AWS rounds, at least MinAdjustmentMagnitude); Cooldown
  (default 300 s): a scale-out within a scale-out's cooldown counts from the capacity before it,
  a scale-in waits for the last scale-in's cooldown unless a scale-out came after it.

Target tracking:

- Metric. SageMaker's `InvocationsPerInstance` is each request counted as 1/instances of its
  variant. The hosting publishes `AWS/SageMaker Invocations` per EndpointName/VariantName; every
  tick reads the Invocations that arrived since the last one (by wall-clock window, as the
  hosting stamps them) and publishes `AWS/SageMaker InvocationsPerInstance` = those invocations /
  the variant's current instance count, stamped with the runtime's clock. Policies with a
  `CustomizedMetricSpecification` (one metric, one statistic) read that metric instead.
- Evaluation, as the two CloudWatch alarms AWS creates for a target-tracking policy (created
  here too, `TargetTracking-<resource>-AlarmHigh-<uuid>` / `-AlarmLow-<uuid>`, so
  PutScalingPolicy and DescribeScalingPolicies list them): one-minute periods of the metric;
  scale out when the last 3 complete minutes are all above the target, to
  ceil(current * newest minute / target); scale in when the last 15 complete minutes are all
  below 90 % of the target, to ceil(current * highest of those minutes / target). A minute with
  no data counts as 0 (an idle SageMaker endpoint reports 0 invocations), so it never scales out
  and does let an idle endpoint scale in — but only from the policy's put on (before it, nothing
  says the variant was idle): a policy put on an endpoint with no data yet waits 15 minutes
  before it may scale in, as a new AlarmLow does. New capacities stay within
  MinCapacity..MaxCapacity.
- Cooldowns (ScaleOutCooldown / ScaleInCooldown, SageMaker's default 300 s each), from the end
  of the activity: a scale-in waits for both the scale-out cooldown of the last scale-out and the
  scale-in cooldown of the last scale-in; a scale-out is never blocked (it ends a running
  scale-in cooldown), and it starts from the current count, which holds the capacity the last
  scale-out added. Each action needs one complete minute of data measured after the previous
  action, so the same minutes never drive two actions. DisableScaleIn and the target's
  SuspendedState (DynamicScalingInSuspended / DynamicScalingOutSuspended) are honoured. With
  several policies on one target it scales out if any policy says so and in only if all
  policies that may scale in agree, to the largest capacity asked for (as AWS documents).
- Action: UpdateEndpointWeightsAndCapacities with the variant's DesiredInstanceCount (moto then
  sets CurrentInstanceCount to it at once, so DescribeEndpoint shows both), recorded as a scaling
  activity that DescribeScalingActivities answers (moto lacks that call: added here), and, when
  a scale-out reaches MaxCapacity, the "Application Auto Scaling Scaling Activity State Change"
  event AWS sends.

Times (minutes, cooldowns, activity times) come from the runtime's clock, so tests advance it
past cooldowns and windows. `LOCALAWS_SCALING_INTERVAL_S` (default 10) sets how often the
targets are evaluated. `GET /localaws/scaling` shows each target's last evaluation.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.models import (
    ApplicationAutoscalingBackend,
    FakeApplicationAutoscalingPolicy,
    applicationautoscaling_backends,
)
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

from localaws.runtime import Context, seconds_setting

log = logging.getLogger("localaws.runtime.scaling")

INTERVAL_VAR = "LOCALAWS_SCALING_INTERVAL_S"
DEFAULT_INTERVAL_S = 10.0
SERVICE_NAMESPACE = "sagemaker"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PROVISIONED_CONCURRENCY = "sagemaker:variant:DesiredProvisionedConcurrency"
DIMENSIONS = (SCALABLE_DIMENSION, PROVISIONED_CONCURRENCY)
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"
PROVISIONED_CONCURRENCY_METRIC = "SageMakerVariantProvisionedConcurrencyUtilization"
# PredefinedMetricType -> (its scalable dimension, the AWS/SageMaker metric, the statistic).
PREDEFINED_METRICS = {
    PREDEFINED_METRIC: (SCALABLE_DIMENSION, "InvocationsPerInstance", "Sum"),
    PROVISIONED_CONCURRENCY_METRIC: (
        PROVISIONED_CONCURRENCY,
        "ServerlessProvisionedConcurrencyUtilization",
        "Average",
    ),
}
METRICS_NAMESPACE = "AWS/SageMaker"
PERIOD_S = 60  # the alarms' period: one-minute datapoints
HIGH_PERIODS = 3  # AlarmHigh: metric > target for 3 of 3 minutes
LOW_PERIODS = 15  # AlarmLow: metric < 90 % of target for 15 of 15 minutes
LOW_RATIO = 0.9
DEFAULT_COOLDOWN_S = 300.0  # SageMaker variants' default ScaleOutCooldown and ScaleInCooldown
# The hosting stamps Invocations when it flushes (every second) and puts them a moment later:
# a tick reads only datapoints stamped at least this long ago, so none is missed or read twice.
METRIC_LAG_S = 2
STATISTICS = ("Average", "Minimum", "Maximum", "SampleCount", "Sum")
STATE_CHANGE = "Application Auto Scaling Scaling Activity State Change"


class UnsupportedPolicy(ValueError):
    """A policy this runtime does not evaluate (the message says why)."""


# ---------------------------------------------------------------------------------------------
# Policies and the rules, as pure functions
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricSpec:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    unit: str | None = None

    def cloudwatch_dimensions(self) -> list[dict[str, str]]:
        return [{"Name": name, "Value": value} for name, value in self.dimensions]


@dataclass(frozen=True)
class TrackingPolicy:
    name: str
    target_value: float
    metric: MetricSpec | None  # None: not evaluated here; `unsupported` says why
    scale_out_cooldown_s: float = DEFAULT_COOLDOWN_S
    scale_in_cooldown_s: float = DEFAULT_COOLDOWN_S
    disable_scale_in: bool = False
    alarm_high: str = ""
    alarm_low: str = ""
    unsupported: str = ""
    # When the policy was put (runtime clock; None: before this runtime started). Its alarms
    # are created then, so only minutes from then on are theirs to evaluate.
    put_at: float | None = None


@dataclass(frozen=True)
class Bounds:
    min_capacity: int
    max_capacity: int
    scale_out_suspended: bool = False
    scale_in_suspended: bool = False


@dataclass
class History:
    """When the target's last successful scale-out and scale-in ended (runtime clock)."""

    last_scale_out_at: float | None = None
    last_scale_in_at: float | None = None

    @property
    def last_activity_at(self) -> float | None:
        times = [t for t in (self.last_scale_out_at, self.last_scale_in_at) if t is not None]
        return max(times) if times else None


@dataclass(frozen=True)
class Decision:
    policy: TrackingPolicy
    direction: str | None  # "out", "in" or None (no action)
    capacity: int | None
    reason: str


def parse_resource_id(resource_id: str) -> tuple[str, str]:
    """(endpoint, variant) of `endpoint/<endpoint>/variant/<variant>`."""
    parts = resource_id.split("/")
    if len(parts) != 4 or parts[0] != "endpoint" or parts[2] != "variant":
        raise UnsupportedPolicy(
            f"resource {resource_id!r} is not endpoint/<endpoint>/variant/<variant>"
        )
    return parts[1], parts[3]


def metric_spec(
    config: dict[str, Any], resource_id: str, dimension: str = SCALABLE_DIMENSION
) -> MetricSpec:
    """The metric a target-tracking configuration tracks for the variant `resource_id`."""
    predefined = config.get("PredefinedMetricSpecification")
    customized = config.get("CustomizedMetricSpecification")
    if predefined:
        kind = predefined.get("PredefinedMetricType")
        if kind not in PREDEFINED_METRICS:
            raise UnsupportedPolicy(
                f"PredefinedMetricType {kind} is not evaluated locally (only "
                f"{', '.join(PREDEFINED_METRICS)} and a CustomizedMetricSpecification)"
            )
        kind_dimension, name, statistic = PREDEFINED_METRICS[kind]
        if dimension != kind_dimension:
            raise UnsupportedPolicy(
                f"PredefinedMetricType {kind} tracks {kind_dimension}, not {dimension}"
            )
        endpoint, variant = parse_resource_id(resource_id)
        return MetricSpec(
            METRICS_NAMESPACE,
            name,
            (("EndpointName", endpoint), ("VariantName", variant)),
            statistic,
        )
    if customized:
        if customized.get("Metrics"):
            raise UnsupportedPolicy(
                "a CustomizedMetricSpecification with Metrics (metric math) is not evaluated "
                "locally; give MetricName, Namespace, Dimensions and Statistic"
            )
        statistic = customized.get("Statistic")
        if statistic not in STATISTICS:
            raise UnsupportedPolicy(
                f"CustomizedMetricSpecification Statistic {statistic!r} must be one of "
                f"{', '.join(STATISTICS)}"
            )
        if not customized.get("MetricName") or not customized.get("Namespace"):
            raise UnsupportedPolicy("CustomizedMetricSpecification needs MetricName and Namespace")
        return MetricSpec(
            customized["Namespace"],
            customized["MetricName"],
            tuple((d["Name"], d["Value"]) for d in customized.get("Dimensions") or []),
            statistic,
            customized.get("Unit"),
        )
    raise UnsupportedPolicy(
        "the policy has neither PredefinedMetricSpecification nor CustomizedMetricSpecification"
    )


def target_value(config: dict[str, Any]) -> float:
    try:
        value = float(config["TargetValue"])
    except (KeyError, TypeError, ValueError):
        raise UnsupportedPolicy("TargetValue must be a number") from None
    if not value > 0:
        raise UnsupportedPolicy(f"TargetValue must be > 0, got {value:g}")
    return value


def parse_policy(policy: dict[str, Any]) -> TrackingPolicy:
    """A DescribeScalingPolicies entry (TargetTrackingScaling) as the rules read it."""
    config = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
    alarms = [a.get("AlarmName", "") for a in policy.get("Alarms") or []]
    resource_id = policy["ResourceId"]
    dimension = policy.get("ScalableDimension", SCALABLE_DIMENSION)
    common = {
        "name": policy["PolicyName"],
        "scale_out_cooldown_s": float(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN_S)),
        "scale_in_cooldown_s": float(config.get("ScaleInCooldown", DEFAULT_COOLDOWN_S)),
        "disable_scale_in": bool(config.get("DisableScaleIn", False)),
        "alarm_high": next(
            (a for a in alarms if "-AlarmHigh-" in a), f"TargetTracking-{resource_id}-AlarmHigh"
        ),
        "alarm_low": next(
            (a for a in alarms if "-AlarmLow-" in a), f"TargetTracking-{resource_id}-AlarmLow"
        ),
    }
    try:
        return TrackingPolicy(
            target_value=target_value(config),
            metric=metric_spec(config, resource_id, dimension),
            **common,
        )
    except UnsupportedPolicy as exc:
        return TrackingPolicy(target_value=0.0, metric=None, unsupported=str(exc), **common)


def bounds_of(target: dict[str, Any]) -> Bounds:
    suspended = target.get("SuspendedState") or {}
    return Bounds(
        min_capacity=int(target["MinCapacity"]),
        max_capacity=int(target["MaxCapacity"]),
        scale_out_suspended=bool(suspended.get("DynamicScalingOutSuspended")),
        scale_in_suspended=bool(suspended.get("DynamicScalingInSuspended")),
    )


def capacity_for(current: int, metric: float, target: float) -> int:
    """AWS's proportional capacity: ceil(current * metric / target). Rounded to 9 decimals
    first, so float noise (6.0000000001) does not add an instance."""
    if target <= 0:
        raise ValueError(f"target must be > 0, got {target}")
    return math.ceil(round(current * metric / target, 9))


def clamp(capacity: int, bounds: Bounds) -> int:
    return max(bounds.min_capacity, min(bounds.max_capacity, capacity))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def scale_in_block(policy: TrackingPolicy, history: History, now: float) -> str | None:
    """Why a cooldown blocks a scale-in now, or None. The scale-out cooldown of the last
    scale-out blocks it; so does the scale-in cooldown of the last scale-in, unless a scale-out
    came after that scale-in (a scale-out ends a running scale-in cooldown)."""
    out_at, in_at = history.last_scale_out_at, history.last_scale_in_at
    if out_at is not None and now < out_at + policy.scale_out_cooldown_s:
        until = _iso(out_at + policy.scale_out_cooldown_s)
        return f"scale-in blocked by the scale-out cooldown until {until}"
    if (
        in_at is not None
        and (out_at is None or in_at > out_at)
        and now < in_at + policy.scale_in_cooldown_s
    ):
        until = _iso(in_at + policy.scale_in_cooldown_s)
        return f"scale-in blocked by the scale-in cooldown until {until}"
    return None


def fresh(newest_minute_start: float, history: History) -> bool:
    """True when the newest complete minute was measured entirely after the last activity."""
    last = history.last_activity_at
    return last is None or newest_minute_start >= last


def decide(
    policy: TrackingPolicy,
    current: int,
    bounds: Bounds,
    minutes: Sequence[float | None],
    newest_minute_start: float,
    history: History,
    now: float,
) -> Decision:
    """What one target-tracking policy asks for. `minutes`: the metric over the last complete
    one-minute periods, oldest first, None where there was no data."""
    target = policy.target_value
    name = policy.metric.name if policy.metric else "metric"
    high = list(minutes[-HIGH_PERIODS:])
    if len(high) == HIGH_PERIODS and all(v is not None and v > target for v in high):
        newest = high[-1]
        if bounds.scale_out_suspended:
            return Decision(policy, None, None, "scale-out suspended (DynamicScalingOutSuspended)")
        if not fresh(newest_minute_start, history):
            return Decision(
                policy, None, None, "waiting for a minute of data after the last activity"
            )
        capacity = clamp(capacity_for(current, newest, target), bounds)
        if capacity <= current:
            at = "max" if current >= bounds.max_capacity else "desired"
            return Decision(
                policy, None, None, f"{name} above {target:g}; already at {at} capacity {current}"
            )
        return Decision(
            policy,
            "out",
            capacity,
            f"{name} {newest:g} above {target:g} for {HIGH_PERIODS} minutes",
        )
    # A minute with no data is an idle endpoint's 0, but only from the policy's put on: before
    # it the variant may not have existed, and nothing says it was idle.
    window = minutes[-LOW_PERIODS:]
    first_start = newest_minute_start - (len(window) - 1) * PERIOD_S
    low = [
        v
        if v is not None
        else (0.0 if policy.put_at is None or first_start + i * PERIOD_S >= policy.put_at else None)
        for i, v in enumerate(window)
    ]
    threshold = LOW_RATIO * target
    if len(low) == LOW_PERIODS and all(v is not None and v < threshold for v in low):
        if policy.disable_scale_in:
            return Decision(policy, None, None, "scale-in disabled (DisableScaleIn)")
        if bounds.scale_in_suspended:
            return Decision(policy, None, None, "scale-in suspended (DynamicScalingInSuspended)")
        blocked = scale_in_block(policy, history, now)
        if blocked:
            return Decision(policy, None, None, blocked)
        if not fresh(newest_minute_start, history):
            return Decision(
                policy, None, None, "waiting for a minute of data after the last activity"
            )
        capacity = clamp(capacity_for(current, max(low), target), bounds)
        if capacity >= current:
            at = "min" if current <= bounds.min_capacity else "desired"
            return Decision(
                policy,
                None,
                None,
                f"{name} below {threshold:g}; already at {at} capacity {current}",
            )
        return Decision(
            policy, "in", capacity, f"{name} below {threshold:g} for {LOW_PERIODS} minutes"
        )
    return Decision(
        policy,
        None,
        None,
        f"{name} neither above {target:g} for {HIGH_PERIODS} minutes nor below {threshold:g} "
        f"for {LOW_PERIODS}",
    )


def combine(decisions: Iterable[Decision]) -> Decision | None:
    """The one action of a target with several policies: scale out if any policy asks to, scale
    in only if every policy that may scale in asks to; the largest capacity asked for wins."""
    decisions = list(decisions)
    outs = [d for d in decisions if d.direction == "out"]
    if outs:
        return max(outs, key=lambda d: d.capacity or 0)
    voters = [d for d in decisions if d.policy.metric is not None and not d.policy.disable_scale_in]
    ins = [d for d in voters if d.direction == "in"]
    if ins and len(ins) == len(voters):
        return max(ins, key=lambda d: d.capacity or 0)
    return None


@dataclass(frozen=True)
class Step:
    lower: float | None  # MetricIntervalLowerBound (None: minus infinity)
    upper: float | None  # MetricIntervalUpperBound (None: plus infinity)
    adjustment: int


@dataclass(frozen=True)
class StepPolicy:
    name: str
    arn: str
    adjustment_type: str
    steps: tuple[Step, ...]
    min_adjustment_magnitude: int | None = None
    cooldown_s: float = DEFAULT_COOLDOWN_S
    aggregation: str = "Average"


ADJUSTMENT_TYPES = ("ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity")
AGGREGATIONS = ("Average", "Minimum", "Maximum")


def parse_step_policy(policy: dict[str, Any]) -> StepPolicy:
    """A DescribeScalingPolicies entry (StepScaling) as the rules read it, with AWS's defaults
    (Cooldown 300 s, MetricAggregationType Average)."""
    config = policy.get("StepScalingPolicyConfiguration") or {}
    kind = config.get("AdjustmentType")
    if kind not in ADJUSTMENT_TYPES:
        raise UnsupportedPolicy(
            f"AdjustmentType {kind!r} must be one of {', '.join(ADJUSTMENT_TYPES)}"
        )
    aggregation = config.get("MetricAggregationType") or "Average"
    if aggregation not in AGGREGATIONS:
        raise UnsupportedPolicy(
            f"MetricAggregationType {aggregation!r} must be one of {', '.join(AGGREGATIONS)}"
        )
    steps = tuple(
        Step(
            lower=None
            if s.get("MetricIntervalLowerBound") is None
            else float(s["MetricIntervalLowerBound"]),
            upper=None
            if s.get("MetricIntervalUpperBound") is None
            else float(s["MetricIntervalUpperBound"]),
            adjustment=int(s["ScalingAdjustment"]),
        )
        for s in config.get("StepAdjustments") or []
    )
    if not steps:
        raise UnsupportedPolicy("StepAdjustments must have at least one step adjustment")
    magnitude = config.get("MinAdjustmentMagnitude")
    return StepPolicy(
        name=policy["PolicyName"],
        arn=policy["PolicyARN"],
        adjustment_type=kind,
        steps=steps,
        min_adjustment_magnitude=None if magnitude is None else int(magnitude),
        cooldown_s=float(config.get("Cooldown", DEFAULT_COOLDOWN_S)),
        aggregation=aggregation,
    )


def choose_step(steps: Sequence[Step], metric: float, threshold: float) -> Step | None:
    """The step whose interval holds metric - threshold. Above the breach threshold the lower
    bound is inclusive and the upper exclusive; below it, the other way round (as the API
    reference defines MetricIntervalLowerBound/UpperBound)."""
    difference = metric - threshold
    above = difference >= 0
    for step in steps:
        low_ok = step.lower is None or (
            difference >= step.lower if above else difference > step.lower
        )
        high_ok = step.upper is None or (
            difference < step.upper if above else difference <= step.upper
        )
        if low_ok and high_ok:
            return step
    return None


def stepped_capacity(policy: StepPolicy, step: Step, current: int) -> int:
    """The capacity a step asks for from `current`. PercentChangeInCapacity rounds as
    Application Auto Scaling does (a change between -1 and 1 is -1 or 1, a larger one goes
    towards 0) and is at least MinAdjustmentMagnitude."""
    if policy.adjustment_type == "ExactCapacity":
        return step.adjustment
    if policy.adjustment_type == "ChangeInCapacity":
        return current + step.adjustment
    change = current * step.adjustment / 100
    if 0 < abs(change) < 1:
        change = math.copysign(1, change)
    change = float(math.trunc(round(change, 9)))
    magnitude = policy.min_adjustment_magnitude
    if magnitude is not None and change and abs(change) < magnitude:
        change = math.copysign(magnitude, change)
    return current + int(change)


def aggregate_metric(values: Sequence[float], aggregation: str) -> float:
    if aggregation == "Minimum":
        return min(values)
    if aggregation == "Maximum":
        return max(values)
    return sum(values) / len(values)


@dataclass
class StepHistory:
    """A target's last step-scaling activities (runtime clock) and the capacity the last
    scale-out started from (its cooldown counts the capacity it added towards the next)."""

    last_scale_out_at: float | None = None
    scale_out_from: int | None = None
    last_scale_in_at: float | None = None


def step_decision(
    policy: StepPolicy,
    current: int,
    bounds: Bounds,
    metric: float,
    threshold: float,
    history: StepHistory,
    now: float,
) -> tuple[str | None, int | None, str]:
    """(direction "out" | "in" | None, new capacity, why) for one execution of the policy.
    While a scale-out's cooldown runs, the next scale-out starts from the capacity before it,
    so it happens only when it asks for more; a scale-in waits out the cooldown of the last
    scale-in unless a scale-out came after it (Application Auto Scaling's cooldown rules)."""
    step = choose_step(policy.steps, metric, threshold)
    if step is None:
        return None, None, f"no step adjustment for the metric {metric:g} (threshold {threshold:g})"
    out_at = history.last_scale_out_at
    in_cooldown = out_at is not None and now < out_at + policy.cooldown_s
    base = history.scale_out_from if in_cooldown and history.scale_out_from is not None else current
    capacity = clamp(stepped_capacity(policy, step, base), bounds)
    if capacity > current:
        if bounds.scale_out_suspended:
            return None, None, "scale-out suspended (DynamicScalingOutSuspended)"
        return "out", capacity, f"step adjustment {step.adjustment:+d} ({policy.adjustment_type})"
    if in_cooldown and stepped_capacity(policy, step, base) > base:
        return None, None, f"a scale-out's cooldown runs until {_iso(out_at + policy.cooldown_s)}"
    capacity = clamp(stepped_capacity(policy, step, current), bounds)
    if capacity < current:
        if bounds.scale_in_suspended:
            return None, None, "scale-in suspended (DynamicScalingInSuspended)"
        in_at = history.last_scale_in_at
        if (
            in_at is not None
            and (out_at is None or in_at > out_at)
            and now < in_at + policy.cooldown_s
        ):
            until = _iso(in_at + policy.cooldown_s)
            return None, None, f"scale-in blocked by the scale-in cooldown until {until}"
        return "in", capacity, f"step adjustment {step.adjustment:+d} ({policy.adjustment_type})"
    return (
        None,
        None,
        f"already at capacity {current} (min {bounds.min_capacity}, max {bounds.max_capacity})",
    )


def interval_from_env(env: dict[str, str] | None = None) -> float:
    return seconds_setting(INTERVAL_VAR, DEFAULT_INTERVAL_S, env)


# ---------------------------------------------------------------------------------------------
# moto hooks: the alarms of a SageMaker target-tracking policy, DescribeScalingActivities
# ---------------------------------------------------------------------------------------------
_activities_lock = threading.Lock()


def _activities(backend: ApplicationAutoscalingBackend) -> list[dict[str, Any]]:
    if not hasattr(backend, "localaws_scaling_activities"):
        backend.localaws_scaling_activities = []
    return backend.localaws_scaling_activities


def _sagemaker_alarms(policy: FakeApplicationAutoscalingPolicy) -> list[Any]:
    """AlarmHigh and AlarmLow as AWS creates them for a target-tracking policy, on the policy's
    metric. Missing data is not breaching for AlarmHigh and breaching for AlarmLow: the rule
    above counts a minute without data as 0."""
    from moto.cloudwatch.models import cloudwatch_backends

    config = policy.target_tracking_scaling_policy_configuration or {}
    metric = metric_spec(config, policy.resource_id, policy.scalable_dimension)
    target = target_value(config)
    cloudwatch = cloudwatch_backends[policy.account_id][policy.region_name]
    action = f"{policy.policy_arn}:createdBy/{uuid.uuid4()}"
    alarms = []
    for kind, operator, periods, threshold, missing in (
        ("AlarmHigh", "GreaterThanThreshold", HIGH_PERIODS, target, "notBreaching"),
        ("AlarmLow", "LessThanThreshold", LOW_PERIODS, LOW_RATIO * target, "breaching"),
    ):
        alarms.append(
            cloudwatch.put_metric_alarm(
                name=f"TargetTracking-{policy.resource_id}-{kind}-{uuid.uuid4()}",
                namespace=metric.namespace,
                metric_name=metric.name,
                metric_data_queries=[],
                comparison_operator=operator,
                evaluation_periods=periods,
                datapoints_to_alarm=periods,
                period=PERIOD_S,
                threshold=threshold,
                statistic=metric.statistic,
                unit=metric.unit,
                description=f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {action}.",
                dimensions=metric.cloudwatch_dimensions(),
                alarm_actions=[action],
                treat_missing_data=missing,
            )
        )
    return alarms


def _state_actions(alarm: dict[str, Any]) -> list[str]:
    """The actions of a DescribeAlarms alarm for the state it is in."""
    return {
        "ALARM": alarm.get("AlarmActions"),
        "OK": alarm.get("OKActions"),
        "INSUFFICIENT_DATA": alarm.get("InsufficientDataActions"),
    }.get(alarm.get("StateValue", "")) or []


def describe_scaling_activities(self: ApplicationAutoScalingResponse) -> str:
    """DescribeScalingActivities over the activities this runtime recorded, newest first."""
    if not self._get_param("ServiceNamespace"):
        raise AWSValidationException(
            "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy "
            "constraint: Member must not be null"
        )
    self._validate_params()
    namespace = self._get_param("ServiceNamespace")
    resource_id = self._get_param("ResourceId")
    dimension = self._get_param("ScalableDimension")
    max_results = self._get_int_param("MaxResults") or 50
    if not 1 <= max_results <= 50:
        raise AWSValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            "satisfy constraint: Member must have value between 1 and 50"
        )
    token = self._get_param("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise AWSValidationException(f"Invalid NextToken {token!r}") from None
    with _activities_lock:
        matching = [
            dict(a)
            for a in _activities(self.applicationautoscaling_backend)
            if a["ServiceNamespace"] == namespace
            and (not resource_id or a["ResourceId"] == resource_id)
            and (not dimension or a["ScalableDimension"] == dimension)
        ]
    matching.sort(key=lambda a: a["StartTime"], reverse=True)
    body: dict[str, Any] = {"ScalingActivities": matching[start : start + max_results]}
    if start + max_results < len(matching):
        body["NextToken"] = str(start + max_results)
    return json.dumps(body)


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
@dataclass
class _TargetView:
    """What GET /localaws/scaling shows of a target's last evaluation."""

    resource_id: str
    dimension: str = SCALABLE_DIMENSION
    desired: int | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None
    evaluated_at: str | None = None
    action: str | None = None
    policies: list[dict[str, Any]] = field(default_factory=list)


class ScalingRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.interval_s = interval_from_env()
        self._thread: threading.Thread | None = None
        self._originals: dict[str, Any] = {}
        self._read_until: dict[tuple[str, str], int] = {}  # variant -> wall-clock second
        self._history: dict[tuple[str, str], History] = {}  # (resource, dimension)
        self._step_history: dict[tuple[str, str], StepHistory] = {}
        # (policy ARN, alarm) -> (the alarm state's StateUpdatedTimestamp, when executed)
        self._step_runs: dict[tuple[str, str], tuple[str, float]] = {}
        self._step_lock = threading.Lock()
        self._minutes: dict[tuple[MetricSpec, int], float | None] = {}
        self._put_at: dict[str, float] = {}  # policy ARN -> when put (runtime clock)
        self._views: dict[tuple[str, str], _TargetView] = {}
        self._view_lock = threading.Lock()
        self.ticks = 0
        self.last_tick: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._install_hooks()
        self.ctx.scaling_policy_executor = self.execute_policy
        self._thread = threading.Thread(target=self._loop, name="runtime-scaling", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.ctx.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.ctx.scaling_policy_executor == self.execute_policy:
            self.ctx.scaling_policy_executor = None
        self._restore_hooks()

    def routes(self, app: Any) -> None:
        from flask import jsonify

        @app.get("/localaws/scaling")
        def scaling_state() -> Any:
            return jsonify(self.describe())

    def describe(self) -> dict[str, Any]:
        with self._view_lock:
            targets = [vars(view) for view in self._views.values()]
        return {
            "interval_seconds": self.interval_s,
            "ticks": self.ticks,
            "last_tick": self.last_tick,
            "targets": targets,
        }

    def _install_hooks(self) -> None:
        original_create = FakeApplicationAutoscalingPolicy.create_alarms
        original_put = ApplicationAutoscalingBackend.put_scaling_policy
        self._originals = {
            "create_alarms": original_create,
            "put_scaling_policy": original_put,
            "describe_scaling_activities": ApplicationAutoScalingResponse.__dict__.get(
                "describe_scaling_activities"
            ),
        }

        def create_alarms(policy: FakeApplicationAutoscalingPolicy) -> None:
            original_create(policy)
            if (
                policy.policy_type == "TargetTrackingScaling"
                and policy.service_namespace == SERVICE_NAMESPACE
            ):
                try:
                    policy.alarms.extend(_sagemaker_alarms(policy))
                except UnsupportedPolicy as exc:
                    log.warning("policy %s: no alarms: %s", policy.policy_name, exc)
                except Exception:
                    log.exception("policy %s: creating its alarms failed", policy.policy_name)

        def put_scaling_policy(
            backend: ApplicationAutoscalingBackend,
            policy_name: str,
            service_namespace: str,
            resource_id: str,
            scalable_dimension: str,
            policy_body: dict[str, Any],
            policy_type: str | None,
        ) -> FakeApplicationAutoscalingPolicy:
            """A policy put again replaces its alarms (moto keeps the old ones too)."""
            key = FakeApplicationAutoscalingPolicy.formulate_key(
                service_namespace, resource_id, scalable_dimension, policy_name
            )
            old = backend.policies.get(key)
            policy = original_put(
                backend,
                policy_name=policy_name,
                service_namespace=service_namespace,
                resource_id=resource_id,
                scalable_dimension=scalable_dimension,
                policy_body=policy_body,
                policy_type=policy_type,
            )
            self._put_at[policy.policy_arn] = self.ctx.clock.time()
            if old is not None and old is not policy and service_namespace == SERVICE_NAMESPACE:
                try:
                    old.delete_alarms(backend.account_id, backend.region_name)
                except Exception:
                    log.exception("policy %s: deleting its old alarms failed", policy_name)
            return policy

        FakeApplicationAutoscalingPolicy.create_alarms = create_alarms
        ApplicationAutoscalingBackend.put_scaling_policy = put_scaling_policy
        ApplicationAutoScalingResponse.describe_scaling_activities = describe_scaling_activities

    def _restore_hooks(self) -> None:
        if not self._originals:
            return
        FakeApplicationAutoscalingPolicy.create_alarms = self._originals["create_alarms"]
        ApplicationAutoscalingBackend.put_scaling_policy = self._originals["put_scaling_policy"]
        previous = self._originals["describe_scaling_activities"]
        if previous is None:
            del ApplicationAutoScalingResponse.describe_scaling_activities
        else:
            ApplicationAutoScalingResponse.describe_scaling_activities = previous
        self._originals = {}

    def _loop(self) -> None:
        while not self.ctx.stopping.is_set():
            try:
                self.tick()
            except (ClientError, BotoCoreError) as exc:
                log.warning("scaling: evaluation failed: %s", exc)
            except Exception:
                log.exception("scaling: evaluation failed")
            if self.ctx.clock.sleep(self.interval_s, self.ctx.stopping):
                return

    # -- one evaluation ------------------------------------------------------------------------
    def tick(self) -> None:
        now = self.ctx.clock.time()
        capacities = self._capacities()
        for (endpoint, variant), count in capacities[SCALABLE_DIMENSION].items():
            self._publish_invocations_per_instance(endpoint, variant, count)
        policies = self._policies()
        self._evaluate_targets(policies, capacities, now)
        self._repeat_step_policies(policies, now)
        self.ticks += 1
        self.last_tick = _iso(now)

    def _capacities(self) -> dict[str, dict[tuple[str, str], int]]:
        """By scalable dimension, every variant's current capacity: an instance-based variant's
        desired instance count, a serverless variant's provisioned concurrency."""
        sagemaker = self.ctx.client("sagemaker")
        counts: dict[tuple[str, str], int] = {}
        provisioned: dict[tuple[str, str], int] = {}
        for page in sagemaker.get_paginator("list_endpoints").paginate():
            for summary in page["Endpoints"]:
                name = summary["EndpointName"]
                try:
                    described = sagemaker.describe_endpoint(EndpointName=name)
                except ClientError:
                    continue  # deleted in between
                created = int(described["CreationTime"].timestamp())
                for variant in described.get("ProductionVariants") or []:
                    key = (name, variant["VariantName"])
                    serverless = variant.get("CurrentServerlessConfig") or {}
                    if serverless.get("ProvisionedConcurrency") is not None:
                        provisioned[key] = int(serverless["ProvisionedConcurrency"])
                    count = variant.get("DesiredInstanceCount", variant.get("CurrentInstanceCount"))
                    if count is None:
                        continue  # serverless: no instances to scale
                    counts[key] = int(count)
                    self._read_until.setdefault(key, created)
        for gone in set(self._read_until) - set(counts):
            del self._read_until[gone]
        return {SCALABLE_DIMENSION: counts, PROVISIONED_CONCURRENCY: provisioned}

    def _publish_invocations_per_instance(self, endpoint: str, variant: str, count: int) -> None:
        key = (endpoint, variant)
        start, end = self._read_until[key], int(time.time()) - METRIC_LAG_S
        if end <= start:
            return
        cloudwatch = self.ctx.client("cloudwatch")
        dimensions = [
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ]
        answer = cloudwatch.get_metric_statistics(
            Namespace=METRICS_NAMESPACE,
            MetricName="Invocations",
            Dimensions=dimensions,
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=datetime.fromtimestamp(end, UTC),
            Period=PERIOD_S * max(1, math.ceil((end - start) / PERIOD_S)),
            Statistics=["Sum"],
        )
        invocations = sum(point["Sum"] for point in answer["Datapoints"])
        self._read_until[key] = end
        if invocations and count > 0:
            cloudwatch.put_metric_data(
                Namespace=METRICS_NAMESPACE,
                MetricData=[
                    {
                        "MetricName": "InvocationsPerInstance",
                        "Dimensions": dimensions,
                        "Timestamp": self.ctx.clock.now(),
                        "Value": invocations / count,
                        "Unit": "None",
                    }
                ],
            )

    def _minute_values(self, metric: MetricSpec, newest_end: int) -> list[float | None]:
        """The metric's statistic for each of the last LOW_PERIODS complete minutes (oldest
        first; None without data). A complete minute no longer changes, so each is read once."""
        first = newest_end - LOW_PERIODS * PERIOD_S
        for key in [k for k in self._minutes if k[1] < first]:
            del self._minutes[key]
        cloudwatch = self.ctx.client("cloudwatch")
        values = []
        for minute in range(first, newest_end, PERIOD_S):
            key = (metric, minute)
            if key not in self._minutes:
                extra = {"Unit": metric.unit} if metric.unit else {}
                points = cloudwatch.get_metric_statistics(
                    Namespace=metric.namespace,
                    MetricName=metric.name,
                    Dimensions=metric.cloudwatch_dimensions(),
                    StartTime=datetime.fromtimestamp(minute, UTC),
                    EndTime=datetime.fromtimestamp(minute + PERIOD_S, UTC),
                    Period=PERIOD_S,
                    Statistics=[metric.statistic],
                    **extra,
                )["Datapoints"]
                self._minutes[key] = float(points[0][metric.statistic]) if points else None
            values.append(self._minutes[key])
        return values

    def _policies(self) -> list[dict[str, Any]]:
        """The SageMaker variants' scaling policies (DescribeScalingPolicies)."""
        autoscaling = self.ctx.client("application-autoscaling")
        return [
            policy
            for page in autoscaling.get_paginator("describe_scaling_policies").paginate(
                ServiceNamespace=SERVICE_NAMESPACE
            )
            for policy in page["ScalingPolicies"]
            if policy.get("ScalableDimension") in DIMENSIONS
        ]

    def _evaluate_targets(
        self,
        all_policies: list[dict[str, Any]],
        capacities: dict[str, dict[tuple[str, str], int]],
        now: float,
    ) -> None:
        autoscaling = self.ctx.client("application-autoscaling")
        for dimension in DIMENSIONS:
            policies: dict[str, list[dict[str, Any]]] = {}
            for policy in all_policies:
                if (
                    policy.get("PolicyType") == "TargetTrackingScaling"
                    and policy["ScalableDimension"] == dimension
                ):
                    policies.setdefault(policy["ResourceId"], []).append(policy)
            if not policies:
                continue
            for page in autoscaling.get_paginator("describe_scalable_targets").paginate(
                ServiceNamespace=SERVICE_NAMESPACE, ScalableDimension=dimension
            ):
                for target in page["ScalableTargets"]:
                    if target["ResourceId"] in policies:
                        self._evaluate(
                            target, policies[target["ResourceId"]], capacities[dimension], now
                        )

    def _evaluate(
        self,
        target: dict[str, Any],
        policies: list[dict[str, Any]],
        counts: dict[tuple[str, str], int],
        now: float,
    ) -> None:
        resource_id, dimension = target["ResourceId"], target["ScalableDimension"]
        view = _TargetView(resource_id, dimension, evaluated_at=_iso(now))
        try:
            key = parse_resource_id(resource_id)
        except UnsupportedPolicy as exc:
            view.action = str(exc)
            self._show(view)
            return
        current = counts.get(key)
        if current is None:
            kind = "instance-based" if dimension == SCALABLE_DIMENSION else "provisioned serverless"
            view.action = f"no {kind} variant {key[1]} on endpoint {key[0]}"
            self._show(view)
            return
        bounds = bounds_of(target)
        history = self._history.setdefault((resource_id, dimension), History())
        newest_end = int(now // PERIOD_S) * PERIOD_S
        decisions = []
        for described in policies:
            policy = replace(
                parse_policy(described), put_at=self._put_at.get(described.get("PolicyARN", ""))
            )
            if policy.metric is None:
                decisions.append(Decision(policy, None, None, policy.unsupported))
                view.policies.append({"policy": policy.name, "decision": policy.unsupported})
                continue
            minutes = self._minute_values(policy.metric, newest_end)
            decision = decide(policy, current, bounds, minutes, newest_end - PERIOD_S, history, now)
            decisions.append(decision)
            view.policies.append(
                {
                    "policy": policy.name,
                    "metric": policy.metric.name,
                    "target": policy.target_value,
                    "minutes": minutes,
                    "decision": decision.reason,
                }
            )
        chosen = combine(decisions)
        view.desired, view.min_capacity, view.max_capacity = (
            current,
            bounds.min_capacity,
            bounds.max_capacity,
        )
        if chosen is not None and chosen.capacity is not None:
            view.action = self._scale(target, key, current, chosen, bounds, history)
            view.desired = chosen.capacity
        self._show(view)

    def _show(self, view: _TargetView) -> None:
        with self._view_lock:
            self._views[(view.resource_id, view.dimension)] = view

    def _scale(
        self,
        target: dict[str, Any],
        key: tuple[str, str],
        current: int,
        decision: Decision,
        bounds: Bounds,
        history: History,
    ) -> str:
        """Apply a target-tracking decision and record it as the target's history."""
        policy = decision.policy
        alarm = policy.alarm_high if decision.direction == "out" else policy.alarm_low
        assert decision.capacity is not None and decision.direction is not None
        ok, message = self._set_capacity(
            target,
            key,
            current,
            decision.capacity,
            decision.direction,
            bounds,
            f"monitor alarm {alarm} in state ALARM triggered policy {policy.name}",
            decision.reason,
        )
        if not ok:
            return message
        if decision.direction == "out":
            history.last_scale_out_at = self.ctx.clock.time()
        else:
            history.last_scale_in_at = self.ctx.clock.time()
        return f"scale-{decision.direction} to {decision.capacity}: {decision.reason}"

    def _set_capacity(
        self,
        target: dict[str, Any],
        key: tuple[str, str],
        current: int,
        capacity: int,
        direction: str,
        bounds: Bounds,
        cause: str,
        reason: str,
    ) -> tuple[bool, str]:
        """Set the variant's desired instance count or provisioned concurrency through the
        SageMaker API, record the scaling activity and, on a scale-out to MaxCapacity, send the
        state-change event. (succeeded, the activity's status message)."""
        endpoint, variant = key
        dimension = target["ScalableDimension"]
        what = "instance count" if dimension == SCALABLE_DIMENSION else "provisioned concurrency"
        change: dict[str, Any] = (
            {"DesiredInstanceCount": capacity}
            if dimension == SCALABLE_DIMENSION
            else {"ServerlessUpdateConfig": {"ProvisionedConcurrency": capacity}}
        )
        started = self.ctx.clock.now()
        try:
            # Application Auto Scaling calls SageMaker through its service-linked role: CloudTrail
            # records the call as that role's (localaws.runtime.cloudtrail).
            self.ctx.client(
                "sagemaker", on_behalf="LOCALAWSAUTOSCALING0"
            ).update_endpoint_weights_and_capacities(
                EndpointName=endpoint,
                DesiredWeightsAndCapacities=[{"VariantName": variant, **change}],
            )
            status = "Successful"
            message = (
                f"Successfully set desired {what} to {capacity}. "
                "Change successfully fulfilled by sagemaker."
            )
        except ClientError as exc:
            status = "Failed"
            message = (
                f"Failed to set desired {what} to {capacity}. "
                f"Reason: {exc.response['Error'].get('Message')}"
            )
        ended = self.ctx.clock.now()
        activity = {
            "ActivityId": str(uuid.uuid4()),
            "ServiceNamespace": SERVICE_NAMESPACE,
            "ResourceId": target["ResourceId"],
            "ScalableDimension": dimension,
            "Description": f"Setting desired {what} to {capacity}.",
            "Cause": cause,
            "StartTime": started.timestamp(),
            "EndTime": ended.timestamp(),
            "StatusCode": status,
            "StatusMessage": message,
        }
        backend = applicationautoscaling_backends[self.ctx.account_id][self.ctx.region]
        with _activities_lock:
            _activities(backend).append(activity)
        log.info(
            "scaling %s (%s) from %d to %d (%s): %s",
            target["ResourceId"],
            dimension,
            current,
            capacity,
            reason,
            status,
        )
        if status != "Successful":
            return False, message
        if direction == "out" and capacity == bounds.max_capacity:
            self.ctx.publish_event(
                "aws.application-autoscaling",
                STATE_CHANGE,
                {
                    "startTime": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "endTime": ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "newDesiredCapacity": capacity,
                    "oldDesiredCapacity": current,
                    "minCapacity": bounds.min_capacity,
                    "maxCapacity": bounds.max_capacity,
                    "resourceId": target["ResourceId"],
                    "scalableDimension": dimension,
                    "serviceNamespace": SERVICE_NAMESPACE,
                    "statusCode": status,
                    "scaledToMax": True,
                    "direction": "scale-out",
                },
            )
        return True, message

    # -- step scaling ----------------------------------------------------------------------------
    def execute_policy(self, action: str, alarm_name: str) -> str | None:
        """An alarm's action naming a scaling policy (the alarms service calls this on the
        alarm's change of state): a step-scaling policy applies its step adjustment; a
        target-tracking policy's alarms are this service's own evaluation, so nothing more
        happens. None, or why the action failed."""
        try:
            return self._execute(action, alarm_name, repeat=False)
        except (ClientError, BotoCoreError) as exc:
            return str(exc)

    def _repeat_step_policies(self, policies: list[dict[str, Any]], now: float) -> None:
        """As CloudWatch does for Auto Scaling actions, an alarm that stays in the state whose
        actions name a step-scaling policy invokes it again once a minute."""
        steps = {p["PolicyARN"] for p in policies if p.get("PolicyType") == "StepScaling"}
        if not steps:
            return
        for page in (
            self.ctx.client("cloudwatch")
            .get_paginator("describe_alarms")
            .paginate(AlarmTypes=["MetricAlarm"])
        ):
            for alarm in page["MetricAlarms"]:
                if not alarm.get("ActionsEnabled", True):
                    continue
                for action in set(_state_actions(alarm)) & steps:
                    with self._step_lock:
                        run = self._step_runs.get((action, alarm["AlarmName"]))
                    state_at = str(alarm.get("StateUpdatedTimestamp"))
                    if run is None or run[0] != state_at or now - run[1] >= PERIOD_S:
                        self._execute(action, alarm["AlarmName"], repeat=True)

    def _execute(self, action: str, alarm_name: str, repeat: bool) -> str | None:
        policy = next(
            (p for p in self._policies() if p["PolicyARN"] == action),
            None,
        )
        if policy is None:
            if any(action.startswith(f"{p['PolicyARN']}:createdBy/") for p in self._policies()):
                return None  # a target-tracking alarm: evaluated by the tick
            return f"no scaling policy {action}"
        if policy.get("PolicyType") != "StepScaling":
            return None
        try:
            step_policy = parse_step_policy(policy)
        except UnsupportedPolicy as exc:
            return f"policy {policy['PolicyName']}: {exc}"
        found = self.ctx.client("cloudwatch").describe_alarms(AlarmNames=[alarm_name])
        if not found["MetricAlarms"]:
            return f"no metric alarm {alarm_name}"
        alarm = found["MetricAlarms"][0]
        if action not in _state_actions(alarm):
            return None  # the alarm has left the state that invoked the policy
        now = self.ctx.clock.time()
        state_at = str(alarm.get("StateUpdatedTimestamp"))
        run_key = (action, alarm_name)
        with self._step_lock:
            run = self._step_runs.get(run_key)
            if run is not None and run[0] == state_at and (not repeat or now - run[1] < PERIOD_S):
                return None  # this state change already invoked it (the tick came first)
            self._step_runs[run_key] = (state_at, now)
            return self._step(policy, step_policy, alarm, now)

    def _step(
        self,
        policy: dict[str, Any],
        step_policy: StepPolicy,
        alarm: dict[str, Any],
        now: float,
    ) -> str | None:
        resource_id, dimension = policy["ResourceId"], policy["ScalableDimension"]
        targets = self.ctx.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceIds=[resource_id],
            ScalableDimension=dimension,
        )["ScalableTargets"]
        if not targets:
            return f"no scalable target {resource_id} ({dimension})"
        target = targets[0]
        key = parse_resource_id(resource_id)
        current = self._capacities()[dimension].get(key)
        if current is None:
            return f"no variant {key[1]} on endpoint {key[0]} with a {dimension}"
        reason_data = alarm.get("StateReasonData")
        try:
            values = [
                float(v)
                for v in (json.loads(reason_data) if reason_data else {}).get(
                    "recentDatapoints", []
                )
                if v is not None
            ]
        except (ValueError, TypeError, AttributeError):
            values = []
        if not values:
            return (
                f"alarm {alarm['AlarmName']} carries no datapoints (StateReasonData "
                "recentDatapoints): the step adjustment needs the metric's value"
            )
        metric = aggregate_metric(values, step_policy.aggregation)
        bounds = bounds_of(target)
        history = self._step_history.setdefault((resource_id, dimension), StepHistory())
        direction, capacity, reason = step_decision(
            step_policy, current, bounds, metric, float(alarm["Threshold"]), history, now
        )
        view = _TargetView(
            resource_id,
            dimension,
            desired=current,
            min_capacity=bounds.min_capacity,
            max_capacity=bounds.max_capacity,
            evaluated_at=_iso(now),
            policies=[{"policy": step_policy.name, "metric": metric, "decision": reason}],
        )
        if direction is None or capacity is None:
            view.action = reason
            self._show(view)
            return None
        ok, message = self._set_capacity(
            target,
            key,
            current,
            capacity,
            direction,
            bounds,
            f"monitor alarm {alarm['AlarmName']} in state {alarm['StateValue']} triggered policy "
            f"{step_policy.name}",
            reason,
        )
        view.action = f"scale-{direction} to {capacity}: {reason}" if ok else message
        view.desired = capacity if ok else current
        self._show(view)
        if not ok:
            return message
        ended = self.ctx.clock.time()
        if direction == "out":
            if history.last_scale_out_at is None or ended >= history.last_scale_out_at + (
                step_policy.cooldown_s
            ):
                history.scale_out_from = current
            history.last_scale_out_at = ended
        else:
            history.last_scale_in_at = ended
        return None

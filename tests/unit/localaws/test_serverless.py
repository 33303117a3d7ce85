"""Serverless variants and step scaling as pure rules: the hosting's settings and config
defaults, CreateEndpointConfig's refusals (the shim's check), and step scaling's intervals,
adjustments, rounding and cooldowns (localaws.runtime.scaling)."""

from __future__ import annotations

import pytest
from moto.sagemaker.exceptions import ValidationError

from localaws.hosting.serverless import (
    DEFAULT_IDLE_S,
    IDLE_VAR,
    ServerlessConfig,
    ServerlessSettingError,
    number_setting,
)
from localaws.runtime.scaling import (
    Bounds,
    Step,
    StepHistory,
    StepPolicy,
    UnsupportedPolicy,
    aggregate_metric,
    choose_step,
    parse_step_policy,
    step_decision,
    stepped_capacity,
)
from localaws.shims import _check_serverless_variants

BOUNDS = Bounds(min_capacity=0, max_capacity=10)
NOW = 1_000_000.0


def policy(kind: str = "ChangeInCapacity", *steps: Step, **extra) -> StepPolicy:
    return StepPolicy("p", "arn:p", kind, steps or (Step(0.0, None, 1),), **extra)


# -- the hosting's settings and the config's defaults ----------------------------------------------
def test_settings_default_and_name_the_variable_when_wrong():
    assert number_setting(IDLE_VAR, DEFAULT_IDLE_S, {}, positive=True) == 600.0
    assert number_setting(IDLE_VAR, 1.0, {IDLE_VAR: "2.5"}, positive=True) == 2.5
    for raw in ("soon", "-1", "0"):
        with pytest.raises(ServerlessSettingError, match=IDLE_VAR):
            number_setting(IDLE_VAR, 1.0, {IDLE_VAR: raw}, positive=True)
    assert number_setting("X", 5.0, {"X": "0"}, positive=False) == 0.0


def test_provisioned_concurrency_left_out_is_none_at_all():
    assert ServerlessConfig.of({"MemorySizeInMB": 1024, "MaxConcurrency": 5}).provisioned == 0
    assert ServerlessConfig.of(
        {"MemorySizeInMB": 1024, "MaxConcurrency": 5, "ProvisionedConcurrency": 2}
    ) == ServerlessConfig(1024, 5, 2)


# -- CreateEndpointConfig's refusals ---------------------------------------------------------------
def serverless(name: str = "v1", **config) -> dict:
    return {
        "VariantName": name,
        "ModelName": "m",
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, **config},
    }


def instance(name: str = "v2") -> dict:
    return {"VariantName": name, "ModelName": "m", "InstanceType": "ml.m5.large"}


def test_valid_serverless_and_instance_configs_pass():
    _check_serverless_variants([serverless(ProvisionedConcurrency=5)], [], None, None)
    _check_serverless_variants([serverless("a"), serverless("b")], [], None, None)
    _check_serverless_variants([instance()], [], {"EnableCapture": True}, {"x": 1})


@pytest.mark.parametrize(
    ("production", "capture", "asynchronous", "message"),
    [
        (
            [serverless(MemorySizeInMB=512)],
            None,
            None,
            "Value '512' at 'productionVariants.1.member.serverlessConfig.memorySizeInMB' failed "
            "to satisfy constraint: Member must have value greater than or equal to 1024",
        ),
        ([serverless(MemorySizeInMB=3000)], None, None, "MemorySizeInMB 3000 is not valid"),
        (
            [instance("v0"), serverless(MaxConcurrency=0, ProvisionedConcurrency=300)],
            None,
            None,
            "2 validation errors detected: Value '0' at 'productionVariants.2.member."
            "serverlessConfig.maxConcurrency'",
        ),
        ([serverless(ProvisionedConcurrency=6)], None, None, "(6) must be less than or equal"),
        ([{**serverless(), "InitialInstanceCount": 1}], None, None, "and InitialInstanceCount"),
        ([serverless(), instance()], None, None, "instance-based variants (v2)"),
        ([serverless()], {"EnableCapture": False}, None, "DataCaptureConfig is not supported"),
        ([serverless()], None, {"OutputConfig": {}}, "AsyncInferenceConfig is not supported"),
    ],
)
def test_refusals_name_the_variant_and_the_rule(production, capture, asynchronous, message):
    with pytest.raises(ValidationError) as raised:
        _check_serverless_variants(production, [], capture, asynchronous)
    assert message in str(raised.value.message)


def test_a_serverless_shadow_is_checked_like_a_production_variant():
    with pytest.raises(ValidationError, match=r"shadowProductionVariants\.1\.member"):
        _check_serverless_variants(
            [serverless()], [serverless("s", MaxConcurrency=500)], None, None
        )


# -- step scaling ---------------------------------------------------------------------------------
def test_step_bounds_are_inclusive_as_the_api_reference_says():
    steps = (Step(None, -5.0, -2), Step(-5.0, 0.0, -1), Step(0.0, 10.0, 1), Step(10.0, None, 3))
    # Above the threshold: lower bound inclusive, upper exclusive.
    assert choose_step(steps, 100.0, 100.0) == steps[2]
    assert choose_step(steps, 110.0, 100.0) == steps[3]
    assert choose_step(steps, 109.9, 100.0) == steps[2]
    # Below it: lower bound exclusive, upper inclusive.
    assert choose_step(steps, 95.0, 100.0) == steps[0]
    assert choose_step(steps, 99.0, 100.0) == steps[1]
    assert choose_step((Step(0.0, 10.0, 1),), 99.0, 100.0) is None


def test_adjustment_types_and_percent_rounding():
    change = policy("ChangeInCapacity")
    assert stepped_capacity(change, Step(0.0, None, 2), 3) == 5
    exact = policy("ExactCapacity")
    assert stepped_capacity(exact, Step(0.0, None, 4), 1) == 4
    percent = policy("PercentChangeInCapacity")
    assert stepped_capacity(percent, Step(0.0, None, 10), 4) == 5  # 0.4 -> 1
    assert stepped_capacity(percent, Step(0.0, None, 50), 5) == 7  # 2.5 -> 2
    assert stepped_capacity(percent, Step(0.0, None, -10), 4) == 3  # -0.4 -> -1
    assert stepped_capacity(percent, Step(0.0, None, -50), 5) == 3  # -2.5 -> -2
    assert stepped_capacity(percent, Step(0.0, None, 100), 0) == 0  # a percentage of nothing
    magnitude = policy("PercentChangeInCapacity", min_adjustment_magnitude=2)
    assert stepped_capacity(magnitude, Step(0.0, None, 25), 4) == 6  # 1 -> at least 2


def test_aggregation_of_the_alarm_datapoints():
    assert aggregate_metric([1.0, 3.0], "Average") == 2.0
    assert aggregate_metric([1.0, 3.0], "Minimum") == 1.0
    assert aggregate_metric([1.0, 3.0], "Maximum") == 3.0


def test_scale_out_from_zero_and_the_cooldown_counts_the_capacity_it_added():
    out = policy("ChangeInCapacity", Step(0.0, 5.0, 1), Step(5.0, None, 3), cooldown_s=300)
    history = StepHistory()
    assert step_decision(out, 0, BOUNDS, 1.0, 1.0, history, NOW)[:2] == ("out", 1)
    history = StepHistory(last_scale_out_at=NOW, scale_out_from=0)
    # Within the cooldown the same step asks for 0 + 1 = 1: already there.
    assert step_decision(out, 1, BOUNDS, 1.0, 1.0, history, NOW + 60)[0] is None
    # A larger breach asks for 0 + 3 = 3: it goes ahead.
    assert step_decision(out, 1, BOUNDS, 7.0, 1.0, history, NOW + 60)[:2] == ("out", 3)
    # After the cooldown the step counts from the current capacity.
    assert step_decision(out, 1, BOUNDS, 1.0, 1.0, history, NOW + 301)[:2] == ("out", 2)


def test_scale_in_waits_for_its_cooldown_unless_a_scale_out_came_after():
    scale_in = policy("ChangeInCapacity", Step(None, 0.0, -1), cooldown_s=300)
    history = StepHistory(last_scale_in_at=NOW)
    decision = step_decision(scale_in, 3, BOUNDS, 0.0, 1.0, history, NOW + 60)
    assert decision[0] is None and "scale-in cooldown" in decision[2]
    assert step_decision(scale_in, 3, BOUNDS, 0.0, 1.0, history, NOW + 301)[:2] == ("in", 2)
    after_out = StepHistory(last_scale_in_at=NOW, last_scale_out_at=NOW + 10, scale_out_from=2)
    assert step_decision(scale_in, 3, BOUNDS, 0.0, 1.0, after_out, NOW + 60)[:2] == ("in", 2)
    # Never below MinCapacity, and suspension is honoured.
    assert step_decision(scale_in, 0, BOUNDS, 0.0, 1.0, StepHistory(), NOW)[0] is None
    suspended = Bounds(0, 10, scale_in_suspended=True)
    assert "suspended" in step_decision(scale_in, 3, suspended, 0.0, 1.0, StepHistory(), NOW)[2]


def test_step_policy_parsing_applies_the_defaults_and_names_what_is_wrong():
    parsed = parse_step_policy(
        {
            "PolicyName": "p",
            "PolicyARN": "arn:p",
            "StepScalingPolicyConfiguration": {
                "AdjustmentType": "ChangeInCapacity",
                "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
            },
        }
    )
    assert (parsed.cooldown_s, parsed.aggregation, parsed.steps) == (
        300.0,
        "Average",
        (Step(0.0, None, 1),),
    )
    for config, message in (
        ({"AdjustmentType": "Double", "StepAdjustments": [{}]}, "AdjustmentType"),
        ({"AdjustmentType": "ExactCapacity", "StepAdjustments": []}, "at least one"),
        (
            {
                "AdjustmentType": "ExactCapacity",
                "MetricAggregationType": "Sum",
                "StepAdjustments": [{"ScalingAdjustment": 1}],
            },
            "MetricAggregationType",
        ),
    ):
        with pytest.raises(UnsupportedPolicy, match=message):
            parse_step_policy(
                {"PolicyName": "p", "PolicyARN": "a", "StepScalingPolicyConfiguration": config}
            )

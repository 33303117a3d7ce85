"""The target-tracking rules of localaws.runtime.scaling as pure functions: capacities, the
alarm windows, cooldowns, suspension, several policies on one target, policy parsing."""

from __future__ import annotations

import pytest

from localaws.runtime import SettingError
from localaws.runtime.scaling import (
    LOW_PERIODS,
    Bounds,
    Decision,
    History,
    TrackingPolicy,
    capacity_for,
    clamp,
    combine,
    decide,
    interval_from_env,
    metric_spec,
    parse_policy,
    scale_in_block,
)

RESOURCE = "endpoint/ep/variant/v1"
NOW = 100_000 * 60.0  # a minute boundary, so the newest complete minute is [NOW-60, NOW)
NEWEST = NOW - 60
BOUNDS = Bounds(min_capacity=1, max_capacity=10)


def policy(**kwargs) -> TrackingPolicy:
    defaults = dict(
        name="p",
        target_value=5.0,
        metric=metric_spec(
            {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                }
            },
            RESOURCE,
        ),
        scale_out_cooldown_s=300.0,
        scale_in_cooldown_s=300.0,
    )
    return TrackingPolicy(**{**defaults, **kwargs})


def minutes(*newest: float | None, fill: float | None = None) -> list[float | None]:
    """LOW_PERIODS one-minute values, `newest` last, the rest `fill`."""
    return [fill] * (LOW_PERIODS - len(newest)) + list(newest)


def test_capacity_is_proportional_and_rounds_up():
    assert capacity_for(1, 12, 5) == 3
    assert capacity_for(2, 5, 5) == 2
    assert capacity_for(3, 0, 5) == 0
    assert capacity_for(3, 0.1 * 3, 0.3) == 3  # float noise does not add an instance
    with pytest.raises(ValueError, match="target"):
        capacity_for(1, 1, 0)


def test_clamp_keeps_capacity_within_bounds():
    assert clamp(0, BOUNDS) == 1
    assert clamp(25, BOUNDS) == 10
    assert clamp(4, BOUNDS) == 4


def test_scale_out_when_the_last_three_minutes_are_above_target():
    decision = decide(policy(), 1, BOUNDS, minutes(12, 12, 12), NEWEST, History(), NOW)
    assert (decision.direction, decision.capacity) == ("out", 3)
    # the newest minute sets the capacity
    assert decide(policy(), 2, BOUNDS, minutes(6, 6, 20), NEWEST, History(), NOW).capacity == 8


def test_no_scale_out_unless_every_one_of_the_three_minutes_is_above_target():
    # a minute at the target, or without data, is not above it
    for window in (minutes(12, 5, 12), minutes(None, 12, 12), [12.0, 12.0]):
        assert decide(policy(), 1, BOUNDS, window, NEWEST, History(), NOW).direction is None


def test_max_capacity_bounds_scale_out():
    bounds = Bounds(min_capacity=1, max_capacity=2)
    decision = decide(policy(), 1, bounds, minutes(50, 50, 50), NEWEST, History(), NOW)
    assert (decision.direction, decision.capacity) == ("out", 2)
    at_max = decide(policy(), 2, bounds, minutes(50, 50, 50), NEWEST, History(), NOW)
    assert at_max.direction is None and "max capacity 2" in at_max.reason


def test_scale_in_after_fifteen_low_minutes_missing_counting_as_zero():
    decision = decide(policy(), 4, BOUNDS, minutes(fill=None), NEWEST, History(), NOW)
    assert (decision.direction, decision.capacity) == ("in", 1)
    # the highest of the 15 minutes sets the capacity: 4 * 4 / 5 -> 4 (no change), 4 * 2 / 5 -> 2
    assert (
        decide(policy(), 4, BOUNDS, minutes(4.4, fill=0), NEWEST, History(), NOW).direction is None
    )
    assert decide(policy(), 4, BOUNDS, minutes(2, fill=0), NEWEST, History(), NOW).capacity == 2


def test_a_new_policy_counts_missing_minutes_as_zero_only_from_its_put_on():
    # put 10 minutes ago on an endpoint with no data: the 5 minutes before it are not idle ones
    new = policy(put_at=NOW - 10 * 60)
    waiting = decide(new, 4, BOUNDS, minutes(fill=None), NEWEST, History(), NOW)
    assert waiting.direction is None
    # ... but data from before the put is the metric's, as a new CloudWatch alarm reads it
    assert decide(new, 4, BOUNDS, minutes(fill=0.0), NEWEST, History(), NOW).direction == "in"
    # 15 whole minutes after the put, missing minutes are an idle endpoint's zeros
    old = policy(put_at=NOW - LOW_PERIODS * 60)
    assert decide(old, 4, BOUNDS, minutes(fill=None), NEWEST, History(), NOW).direction == "in"


def test_no_scale_in_while_one_minute_is_near_target():
    window = minutes(fill=1.0)
    window[3] = 4.5  # 90 % of the target is not below it
    assert decide(policy(), 4, BOUNDS, window, NEWEST, History(), NOW).direction is None


def test_min_capacity_bounds_scale_in():
    decision = decide(policy(), 1, BOUNDS, minutes(fill=0), NEWEST, History(), NOW)
    assert decision.direction is None and "min capacity 1" in decision.reason


def test_scale_in_is_blocked_during_the_scale_out_cooldown():
    history = History(last_scale_out_at=NOW - 200)
    decision = decide(policy(), 3, BOUNDS, minutes(fill=0), NEWEST - 300, history, NOW)
    assert decision.direction is None and "scale-out cooldown" in decision.reason
    later = decide(policy(), 3, BOUNDS, minutes(fill=0), NEWEST, history, NOW + 100)
    assert later.direction == "in"


def test_scale_in_cooldown_blocks_scale_in_but_a_scale_out_ends_it():
    p = policy(scale_out_cooldown_s=0.0, scale_in_cooldown_s=600.0)
    assert "scale-in cooldown" in scale_in_block(p, History(last_scale_in_at=NOW - 60), NOW)
    assert scale_in_block(p, History(last_scale_in_at=NOW - 600), NOW) is None
    # a scale-out after the scale-in stops its cooldown
    interrupted = History(last_scale_in_at=NOW - 120, last_scale_out_at=NOW - 60)
    assert scale_in_block(p, interrupted, NOW) is None


def test_scale_out_is_not_blocked_by_cooldowns():
    history = History(last_scale_in_at=NOW - 120, last_scale_out_at=NOW - 119)
    decision = decide(policy(), 3, BOUNDS, minutes(9, 9, 9), NEWEST, history, NOW)
    assert (decision.direction, decision.capacity) == ("out", 6)


def test_an_action_needs_a_minute_measured_after_the_last_activity():
    history = History(last_scale_out_at=NEWEST + 1)
    decision = decide(policy(), 3, BOUNDS, minutes(9, 9, 9), NEWEST, history, NOW)
    assert decision.direction is None and "after the last activity" in decision.reason


def test_disable_scale_in_and_suspended_states():
    low, high = minutes(fill=0), minutes(20, 20, 20)
    disabled = decide(policy(disable_scale_in=True), 3, BOUNDS, low, NEWEST, History(), NOW)
    assert disabled.direction is None and "DisableScaleIn" in disabled.reason
    no_in = Bounds(1, 10, scale_in_suspended=True)
    assert decide(policy(), 3, no_in, low, NEWEST, History(), NOW).direction is None
    no_out = Bounds(1, 10, scale_out_suspended=True)
    assert decide(policy(), 3, no_out, high, NEWEST, History(), NOW).direction is None
    assert decide(policy(), 3, no_in, high, NEWEST, History(), NOW).direction == "out"


def test_several_policies_scale_out_on_any_and_in_only_on_all():
    a, b, c = policy(name="a"), policy(name="b"), policy(name="c", disable_scale_in=True)
    out_a, out_b = Decision(a, "out", 4, ""), Decision(b, "out", 6, "")
    assert combine([out_a, Decision(b, None, None, "")]) is out_a
    assert combine([out_a, out_b]) is out_b
    in_a, in_b = Decision(a, "in", 2, ""), Decision(b, "in", 3, "")
    assert combine([in_a, Decision(b, None, None, "")]) is None
    assert combine([in_a, in_b]) is in_b
    # a policy that may not scale in has no say in scale-in
    assert combine([in_a, Decision(c, None, None, "")]) is in_a


def test_policy_parsing():
    described = {
        "PolicyName": "p",
        "ResourceId": RESOURCE,
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 70,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": 60,
        },
        "Alarms": [
            {"AlarmName": f"TargetTracking-{RESOURCE}-AlarmHigh-1"},
            {"AlarmName": f"TargetTracking-{RESOURCE}-AlarmLow-2"},
        ],
    }
    parsed = parse_policy(described)
    assert parsed.target_value == 70.0
    assert parsed.metric.name == "InvocationsPerInstance"
    assert parsed.metric.dimensions == (("EndpointName", "ep"), ("VariantName", "v1"))
    assert (parsed.scale_in_cooldown_s, parsed.scale_out_cooldown_s) == (60.0, 300.0)
    assert parsed.alarm_low.endswith("AlarmLow-2")

    custom = metric_spec(
        {
            "CustomizedMetricSpecification": {
                "MetricName": "Busy",
                "Namespace": "Mine",
                "Dimensions": [{"Name": "Host", "Value": "a"}],
                "Statistic": "Average",
            }
        },
        RESOURCE,
    )
    assert (custom.namespace, custom.name, custom.statistic) == ("Mine", "Busy", "Average")

    for config, message in (
        (
            {"TargetValue": 1, "PredefinedMetricSpecification": {"PredefinedMetricType": "X"}},
            "PredefinedMetricType X",
        ),
        ({"TargetValue": 1, "CustomizedMetricSpecification": {"Metrics": [{}]}}, "metric math"),
        ({"TargetValue": 0, "CustomizedMetricSpecification": {}}, "TargetValue must be > 0"),
    ):
        broken = parse_policy({**described, "TargetTrackingScalingPolicyConfiguration": config})
        assert broken.metric is None and message in broken.unsupported


def test_interval_setting():
    assert interval_from_env({}) == 10.0
    assert interval_from_env({"LOCALAWS_SCALING_INTERVAL_S": "0.5"}) == 0.5
    for bad in ("0", "-1", "soon"):
        with pytest.raises(SettingError, match="LOCALAWS_SCALING_INTERVAL_S"):
            interval_from_env({"LOCALAWS_SCALING_INTERVAL_S": bad})

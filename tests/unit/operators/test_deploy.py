"""Deploy: which alarms roll a blue/green deployment back."""

from __future__ import annotations

from operators.deploy import default_rollback_alarms


def test_blue_green_rolls_back_on_the_stacks_5xx_and_latency_alarms():
    alarm_names = {
        "variant-a/5xx": "byo-variant-a-5xx",
        "variant-a/latency-p99": "byo-variant-a-latency-p99",
        "variant-a/invocations-absent": "byo-variant-a-invocations-absent",
        "monitoring/drift": "byo-monitoring-drift",
    }
    assert default_rollback_alarms(alarm_names) == [
        "byo-variant-a-5xx",
        "byo-variant-a-latency-p99",
    ]
    assert default_rollback_alarms(None) == []

"""The deployment plan: which phases a DeploymentConfig makes, and the configs AWS refuses."""

from __future__ import annotations

import pytest

from localaws.runtime.deployments import DeploymentConfigError, Phase, failure_reason, guarded, plan


def policy(routing: dict, **extra) -> dict:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing, **extra}}


def test_only_blue_green_or_auto_rollback_configs_are_guarded():
    assert not guarded(None) and not guarded({})
    assert guarded({"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}]}})
    assert guarded(policy({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}))


def test_canary_bakes_the_canary_then_the_termination_wait():
    made = plan(
        {
            **policy(
                {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                    "WaitIntervalInSeconds": 120,
                },
                TerminationWaitInSeconds=60,
            ),
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}, {"AlarmName": "b"}]},
        },
        instances=4,
    )
    assert made.routing == "CANARY" and made.alarms == ("a", "b")
    assert [p.seconds for p in made.phases] == [120, 60]
    assert "canary capacity of 1 instance(s)" in made.phases[0].message
    assert "(TerminationWaitInSeconds)" in made.phases[1].message
    assert "full capacity of 4 instance(s)" in made.phases[1].message


def test_linear_bakes_every_step():
    by_percent = plan(
        policy(
            {
                "Type": "LINEAR",
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                "WaitIntervalInSeconds": 30,
            }
        ),
        instances=4,
    )
    assert [p.seconds for p in by_percent.phases] == [30, 30, 30, 30, 0]
    assert "linear step 2 of 4, 2 of 4 instance(s)" in by_percent.phases[1].message
    by_count = plan(
        policy(
            {
                "Type": "LINEAR",
                "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 3},
                "WaitIntervalInSeconds": 10,
            }
        ),
        instances=10,
    )
    assert len(by_count.phases) == 4 + 1  # ceil(10 / 3) steps, then the final bake


def test_no_policy_is_all_at_once_without_waits():
    made = plan({"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}]}}, instances=1)
    assert made.routing == "ALL_AT_ONCE"
    assert [p.seconds for p in made.phases] == [0, 0]


@pytest.mark.parametrize(
    ("config", "says"),
    [
        (policy({"Type": "BLUE", "WaitIntervalInSeconds": 0}), "Type: 'BLUE' is not one of"),
        (policy({"Type": "CANARY", "WaitIntervalInSeconds": 0}), "CanarySize is required"),
        (
            policy(
                {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 60},
                    "WaitIntervalInSeconds": 0,
                }
            ),
            "at most 50%",
        ),
        (
            policy(
                {
                    "Type": "LINEAR",
                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 5},
                    "WaitIntervalInSeconds": 0,
                }
            ),
            "10-50%",
        ),
        (policy({"Type": "ALL_AT_ONCE"}), "WaitIntervalInSeconds is required"),
        (
            policy({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 4000}),
            "WaitIntervalInSeconds: 4000 is not between 0 and 3600",
        ),
        (
            policy(
                {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 600},
                TerminationWaitInSeconds=300,
                MaximumExecutionTimeoutInSeconds=700,
            ),
            "must be larger than the deployment's waits (900 s",
        ),
        (
            {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": f"a{i}"} for i in range(11)]}},
            "at most 10",
        ),
    ],
)
def test_configs_aws_refuses_say_which_field_is_wrong(config, says):
    with pytest.raises(DeploymentConfigError) as refused:
        plan(config, instances=2)
    assert says in str(refused.value)


def test_the_failure_reason_names_the_alarms_the_phase_and_the_old_config():
    reason = failure_reason(["a-5xx", "a-p99"], Phase(60, "", "the canary's bake"), "config-1")
    assert "a-5xx, a-p99" in reason and "the canary's bake" in reason and "config-1" in reason

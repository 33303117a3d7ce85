"""Autoscaling on the embedded AWS through the AWS APIs alone: traffic through the hosting raises
a variant's desired instance count under a target-tracking policy (within MaxCapacity), the
scaling activity is listed and `byo status` shows it; idle, the count comes back to MinCapacity,
but never during the scale-out cooldown. The runtime's clock is advanced past minutes and
cooldowns."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from operators.cli import cli, options
from tests.helpers import models
from tests.helpers.aws import make_endpoint
from tests.helpers.emulator import own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

DIMENSION = "sagemaker:variant:DesiredInstanceCount"
TARGET = 5.0  # invocations per instance per minute
REQUESTS = 12  # a minute's traffic: 12 on one instance -> ceil(1 * 12 / 5) = 3 instances
SCALE_OUT_COOLDOWN_S = 1200
SCALE_IN_COOLDOWN_S = 60


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """An own emulator (its clock is advanced), evaluating every half second, with only the
    scaling service of the runtime on."""
    with own_emulator(
        tmp_path_factory.mktemp("scaling-emulator"),
        env={
            "LOCALAWS_SCALING_INTERVAL_S": "0.5",
            "LOCALAWS_RUNTIME_OFF": "lambda,batch,events,alarms,stepfunctions",
        },
    ) as emu:
        yield emu


def resource(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/v1"


@pytest.fixture(scope="module")
def endpoints(aws, tmp_path_factory):
    """Two one-instance endpoints on a tiny model, each a scalable target (max 10 and max 2)
    with a target-tracking policy on InvocationsPerInstance."""
    tmp = tmp_path_factory.mktemp("scaling-model")
    built = models.xgboost_model(tmp)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="scaling-models")
    s3.upload_file(str(built.tarball(tmp / "model.tar.gz")), "scaling-models", "m/model.tar.gz")
    autoscaling = aws.client("application-autoscaling")
    made = {}
    for name, maximum in (("roomy", 10), ("capped", 2)):
        endpoint = make_endpoint(aws, "s3://scaling-models/m/model.tar.gz", {"v1": 1})
        autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource(endpoint),
            ScalableDimension=DIMENSION,
            MinCapacity=1,
            MaxCapacity=maximum,
        )
        put = autoscaling.put_scaling_policy(
            PolicyName=f"{name}-invocations",
            ServiceNamespace="sagemaker",
            ResourceId=resource(endpoint),
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": TARGET,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleOutCooldown": SCALE_OUT_COOLDOWN_S,
                "ScaleInCooldown": SCALE_IN_COOLDOWN_S,
            },
        )
        made[name] = {"endpoint": endpoint, "policy": f"{name}-invocations", "put": put}
    made["body"] = "\n".join(",".join(f"{x:.4f}" for x in row) for row in built.X[:2]).encode()
    return made


def clock_now(aws) -> datetime:
    return datetime.fromisoformat(aws.localaws("GET", "/localaws/runtime")["clock"]["now"])


def start_next_minute(aws) -> None:
    """Move the runtime's clock to one second past the next minute boundary, so what follows
    falls in one one-minute period."""
    now = clock_now(aws)
    boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    aws.advance_clock((boundary - now).total_seconds() + 1)


def invocations_per_instance(aws, endpoint: str) -> float:
    """The InvocationsPerInstance published for the variant so far (all of it)."""
    now = datetime.now(UTC)
    points = aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="InvocationsPerInstance",
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": "v1"},
        ],
        StartTime=now - timedelta(days=1),
        EndTime=now + timedelta(days=1),
        Period=2 * 86400,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


def instance_counts(aws, endpoint: str) -> tuple[int, int]:
    variant = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)[
        "ProductionVariants"
    ][0]
    return variant["DesiredInstanceCount"], variant["CurrentInstanceCount"]


def activities(aws, endpoint: str) -> list[dict]:
    return aws.client("application-autoscaling").describe_scaling_activities(
        ServiceNamespace="sagemaker", ResourceId=resource(endpoint), ScalableDimension=DIMENSION
    )["ScalingActivities"]


def evaluated_since_now(aws) -> dict:
    """Wait until the scaler has run a whole evaluation after this call; its state then."""
    ticks = aws.localaws("GET", "/localaws/scaling")["ticks"]
    wait_for(
        "two more evaluations of the scaler",
        lambda: aws.localaws("GET", "/localaws/scaling")["ticks"] >= ticks + 2,
        timeout_s=30,
    )
    return aws.localaws("GET", "/localaws/scaling")


@pytest.fixture(scope="module")
def load(aws, endpoints):
    """Three one-minute periods of REQUESTS invocations on each endpoint, then the next minute
    begins: the policies' high alarm condition (3 minutes above target) holds."""
    runtime = aws.client("sagemaker-runtime")
    names = [endpoints[k]["endpoint"] for k in ("roomy", "capped")]
    for minute in range(1, 4):
        start_next_minute(aws)
        for _ in range(REQUESTS):
            for endpoint in names:
                runtime.invoke_endpoint(
                    EndpointName=endpoint, ContentType="text/csv", Body=endpoints["body"]
                )
        for endpoint in names:
            wait_for(
                f"InvocationsPerInstance of {endpoint} to reach {REQUESTS * minute}",
                lambda e=endpoint, m=minute: invocations_per_instance(aws, e) >= REQUESTS * m,
                timeout_s=30,
            )
    start_next_minute(aws)
    for endpoint in names:
        wait_for(
            f"{endpoint} to scale out",
            lambda e=endpoint: instance_counts(aws, e)[0] > 1,
            timeout_s=30,
        )
    return endpoints


def test_put_scaling_policy_creates_the_target_tracking_alarms(aws, endpoints):
    put = endpoints["roomy"]["put"]
    names = sorted(a["AlarmName"] for a in put["Alarms"])
    prefix = f"TargetTracking-{resource(endpoints['roomy']['endpoint'])}"
    assert len(names) == 2
    assert names[0].startswith(f"{prefix}-AlarmHigh-") and names[1].startswith(
        f"{prefix}-AlarmLow-"
    )
    alarms = {
        a["AlarmName"]: a
        for a in aws.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    }
    high, low = (alarms[n] for n in names)
    assert (high["MetricName"], high["Statistic"], high["Period"]) == (
        "InvocationsPerInstance",
        "Sum",
        60,
    )
    assert (high["ComparisonOperator"], high["Threshold"], high["EvaluationPeriods"]) == (
        "GreaterThanThreshold",
        TARGET,
        3,
    )
    assert (low["ComparisonOperator"], low["Threshold"], low["EvaluationPeriods"]) == (
        "LessThanThreshold",
        0.9 * TARGET,
        15,
    )


def test_load_raises_the_desired_count_in_proportion(aws, load):
    # 12 invocations a minute on one instance, 5 per instance wanted: ceil(12 / 5) = 3
    assert instance_counts(aws, load["roomy"]["endpoint"]) == (3, 3)


def test_max_capacity_bounds_the_scale_out(aws, load):
    assert instance_counts(aws, load["capped"]["endpoint"]) == (2, 2)
    (activity,) = activities(aws, load["capped"]["endpoint"])
    assert activity["Description"] == "Setting desired instance count to 2."


def test_the_scale_out_is_a_listed_scaling_activity(aws, load):
    endpoint = load["roomy"]["endpoint"]
    (activity,) = activities(aws, endpoint)
    high = next(
        a["AlarmName"] for a in load["roomy"]["put"]["Alarms"] if "AlarmHigh" in a["AlarmName"]
    )
    assert activity["ServiceNamespace"] == "sagemaker"
    assert activity["ResourceId"] == resource(endpoint)
    assert activity["ScalableDimension"] == DIMENSION
    assert activity["Description"] == "Setting desired instance count to 3."
    assert activity["Cause"] == (
        f"monitor alarm {high} in state ALARM triggered policy {load['roomy']['policy']}"
    )
    assert activity["StatusCode"] == "Successful"
    assert activity["StatusMessage"] == (
        "Successfully set desired instance count to 3. Change successfully fulfilled by sagemaker."
    )
    assert activity["ActivityId"]
    assert activity["StartTime"] <= activity["EndTime"]
    # on the runtime's clock, which the load moved about three minutes past the wall clock
    assert datetime.now(UTC) + timedelta(minutes=2) < activity["StartTime"] <= clock_now(aws)


def test_byo_status_shows_the_instances_bounds_and_last_activity(aws, load, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"endpoint_name": {"value": load["roomy"]["endpoint"]}}))
    result = CliRunner().invoke(cli, ["--outputs", str(outputs), "status", "--json"])
    assert result.exit_code == 0, result.output
    (variant,) = json.loads(result.output)["variants"]
    assert (variant["desired_instances"], variant["instances"]) == (3, 3)
    assert variant["autoscaling"] == [1, 10]
    assert variant["last_scaling_activity"]["description"] == "Setting desired instance count to 3."
    assert variant["last_scaling_activity"]["status"] == "Successful"

    # One line per table row: the console's width was fixed when it was made (COLUMNS then).
    monkeypatch.setattr(options.console, "_width", 200)
    human = CliRunner().invoke(cli, ["--outputs", str(outputs), "status"])
    assert human.exit_code == 0, human.output
    assert "last activity" in human.output
    assert "Setting desired instance count to 3." in human.output


def test_idle_scales_in_to_min_but_not_during_the_scale_out_cooldown(aws, load):
    roomy, capped = load["roomy"]["endpoint"], load["capped"]["endpoint"]
    # 16 idle minutes: the low alarm's 15 minutes hold, the 20-minute scale-out cooldown does not
    aws.advance_clock(16 * 60)
    state = evaluated_since_now(aws)
    view = next(t for t in state["targets"] if t["resource_id"] == resource(roomy))
    assert "blocked by the scale-out cooldown" in view["policies"][0]["decision"], view
    assert instance_counts(aws, roomy) == (3, 3)
    assert instance_counts(aws, capped) == (2, 2)

    aws.advance_clock(5 * 60)
    for endpoint in (roomy, capped):
        wait_for(
            f"{endpoint} to scale in to MinCapacity",
            lambda e=endpoint: instance_counts(aws, e) == (1, 1),
            timeout_s=30,
        )
    newest = activities(aws, roomy)[0]
    assert newest["Description"] == "Setting desired instance count to 1."
    assert "-AlarmLow-" in newest["Cause"]
    assert len(activities(aws, roomy)) == 2

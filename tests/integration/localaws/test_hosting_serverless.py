"""Serverless variants on the embedded AWS, through boto3: predictions as in-process, MaxConcurrency
→ ThrottlingException (429) under real concurrent requests, cold starts (after idle, and none
while provisioned concurrency is warm) in ModelSetupTime/OverheadLatency, CreateEndpointConfig's
refusals, and Application Auto Scaling of provisioned concurrency and of instance counts down to
0 and back (step scaling on an alarm). The scaling tests share one own emulator whose clock moves.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from serving.inference import Options, invoke, load_model
from tests.helpers import models
from tests.helpers.aws import SAGEMAKER_ROLE, unique
from tests.helpers.emulator import own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

COLD_START_MS = 300
# Long enough that the warm call follows the burst within it on a loaded 2-core machine (at
# 0.6 s, a metrics flush between them once outlasted it in CI).
IDLE_S = 2.0
NO_RETRIES = Config(retries={"total_max_attempts": 1})
INSTANCE = "sagemaker:variant:DesiredInstanceCount"
PROVISIONED = "sagemaker:variant:DesiredProvisionedConcurrency"


# -- helpers -------------------------------------------------------------------------------------
def csv_body(X: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in X).encode()


def in_process(built: models.BuiltModel, body: bytes) -> np.ndarray:
    answer = invoke(load_model(built.model_dir), body, "text/csv", None, Options())
    return np.array([float(v) for v in answer.body.decode().split()])


def predictions(answer: dict) -> np.ndarray:
    return np.array([float(v) for v in answer["Body"].read().decode().split()])


def flush(emulator) -> None:
    urllib.request.urlopen(
        urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    ).close()


def statistics(emulator, endpoint: str, metric: str, variant: str = "v1") -> dict:
    """All of a variant's datapoints of `metric` as one statistic set (SampleCount 0: none)."""
    now = datetime.now(UTC)
    points = emulator.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=7200,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
    )["Datapoints"]
    if not points:
        return {"SampleCount": 0.0, "Sum": 0.0}
    (point,) = points
    return point


def serverless_endpoint(emulator, model_url: str, **serverless: int) -> str:
    sm = emulator.client("sagemaker")
    model = unique("model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "byo/serving:1", "ModelDataUrl": model_url},
    )
    config = unique("serverless-config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "v1",
                "ModelName": model,
                "ServerlessConfig": {"MemorySizeInMB": 2048, **serverless},
            }
        ],
    )
    endpoint = unique("serverless")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint


def concurrently(calls: int, call) -> list:
    """`calls` calls of call() started together on threads; their results or exceptions."""
    barrier = threading.Barrier(calls)
    results: list = [None] * calls

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # the outcome under test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> models.BuiltModel:
    return models.xgboost_model(tmp_path_factory.mktemp("serverless-model"))


def upload(emulator, built: models.BuiltModel, tmp: Path) -> str:
    bucket = unique("serverless-models")
    emulator.client("s3").create_bucket(Bucket=bucket)
    tarball = built.tarball(tmp / "model.tar.gz")
    emulator.client("s3").upload_file(str(tarball), bucket, "models/m/model.tar.gz")
    return f"s3://{bucket}/models/m/model.tar.gz"


# -- the session emulator ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_url(emulator, built, tmp_path_factory) -> str:
    return upload(emulator, built, tmp_path_factory.mktemp("serverless-upload"))


def test_serverless_variant_answers_as_in_process_and_its_first_request_is_a_cold_start(
    emulator, built, model_url
):
    endpoint = serverless_endpoint(emulator, model_url, MaxConcurrency=2)
    variant = emulator.client("sagemaker").describe_endpoint(EndpointName=endpoint)[
        "ProductionVariants"
    ][0]
    assert variant["CurrentServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 2}
    assert "CurrentInstanceCount" not in variant
    runtime = emulator.client("sagemaker-runtime")
    body = csv_body(built.X[:20])
    for _ in range(3):
        answer = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        assert answer["InvokedProductionVariant"] == "v1"
        np.testing.assert_allclose(predictions(answer), in_process(built, body), rtol=1e-6)
    flush(emulator)
    setup = statistics(emulator, endpoint, "ModelSetupTime")
    overhead = statistics(emulator, endpoint, "OverheadLatency")
    latency = statistics(emulator, endpoint, "ModelLatency")
    assert setup["SampleCount"] == 1 and setup["Unit"] == "Microseconds"  # one cold start
    assert overhead["SampleCount"] == 3 and latency["SampleCount"] == 3
    # The cold start (the model's load) is overhead, not the model's latency.
    assert overhead["Maximum"] >= setup["Maximum"] > 0
    assert (
        statistics(emulator, endpoint, "ServerlessProvisionedConcurrencyInvocations")["SampleCount"]
        == 0
    )  # no provisioned concurrency, no such metrics


@pytest.mark.parametrize(
    ("variant", "extra", "message"),
    [
        ({"MaxConcurrency": 201}, {}, "Member must have value less than or equal to 200"),
        ({"MemorySizeInMB": 1500}, {}, "1 GB increments"),
        ({"MemorySizeInMB": 7168}, {}, "less than or equal to 6144"),
        ({"ProvisionedConcurrency": 3}, {}, "ProvisionedConcurrency (3) must be less than"),
        ({"InstanceType": "ml.m5.large"}, {}, "ServerlessConfig and InstanceType"),
        ({}, {"mixed": True}, "cannot mix serverless variants (v1) with instance-based"),
        (
            {},
            {
                "DataCaptureConfig": {
                    "EnableCapture": True,
                    "InitialSamplingPercentage": 100,
                    "DestinationS3Uri": "s3://b/captures",
                    "CaptureOptions": [{"CaptureMode": "Input"}],
                }
            },
            "DataCaptureConfig is not supported",
        ),
        (
            {},
            {"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/out"}}},
            "AsyncInferenceConfig is not supported",
        ),
        ({"MaxConcurrency": None}, {}, "serverlessConfig.maxConcurrency' failed to satisfy"),
    ],
)
def test_create_endpoint_config_refuses_what_aws_refuses_for_serverless(
    emulator, model_url, variant, extra, message
):
    # Parameter validation off: the emulator, not botocore, has to refuse a missing member.
    sm = emulator.client("sagemaker", config=Config(parameter_validation=False))
    model = unique("model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "byo/serving:1", "ModelDataUrl": model_url},
    )
    serverless = {"MemorySizeInMB": 2048, "MaxConcurrency": 2}
    serverless.update({k: v for k, v in variant.items() if k != "InstanceType"})
    serverless = {k: v for k, v in serverless.items() if v is not None}
    production = [{"VariantName": "v1", "ModelName": model, "ServerlessConfig": serverless}]
    if "InstanceType" in variant:
        production[0]["InstanceType"] = variant["InstanceType"]
    extra = dict(extra)
    if extra.pop("mixed", False):
        production.append(
            {
                "VariantName": "v2",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        )
    name = unique("refused")
    with pytest.raises(ClientError) as raised:
        sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=production, **extra)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert message in error["Message"], error["Message"]
    with pytest.raises(ClientError):  # nothing was stored
        sm.describe_endpoint_config(EndpointConfigName=name)


# -- an own emulator: cold-start delay, short idle, a movable clock -------------------------------
@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with own_emulator(
        tmp_path_factory.mktemp("serverless-emulator"),
        env={
            "LOCALAWS_SERVERLESS_COLD_START_MS": str(COLD_START_MS),
            "LOCALAWS_SERVERLESS_IDLE_S": str(IDLE_S),
            "LOCALAWS_SCALING_INTERVAL_S": "0.5",
            "LOCALAWS_ALARM_INTERVAL_S": "0.5",
            "LOCALAWS_RUNTIME_OFF": "lambda,batch,events,stepfunctions,deployments,transform",
        },
    ) as emu:
        yield emu


@pytest.fixture(scope="module")
def own_model_url(aws, built, tmp_path_factory) -> str:
    return upload(aws, built, tmp_path_factory.mktemp("serverless-own-upload"))


def test_max_concurrency_throttles_and_idle_environments_go_cold(aws, built, own_model_url):
    endpoint = serverless_endpoint(aws, own_model_url, MaxConcurrency=1)
    runtime = aws.client("sagemaker-runtime", config=NO_RETRIES)
    body = csv_body(built.X[:5])

    def call():
        return predictions(
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        )

    # Three at once on a cold variant: one holds the only slot through its cold start.
    results = concurrently(3, call)
    answered = [r for r in results if isinstance(r, np.ndarray)]
    throttled = [r for r in results if isinstance(r, ClientError)]
    assert len(answered) == 1 and len(throttled) == 2, results
    np.testing.assert_allclose(answered[0], in_process(built, body), rtol=1e-6)
    error = throttled[0].response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert "MaxConcurrency (1)" in error["Error"]["Message"]

    # Cold starts are counted by ModelSetupTime (one sample each), not by a request's time.
    def cold_starts() -> float:
        flush(aws)
        return statistics(aws, endpoint, "ModelSetupTime")["SampleCount"]

    call()  # at once: the environment is still warm
    assert cold_starts() == 1  # the first request's
    time.sleep(IDLE_S + 0.3)
    call()  # idle too long: a new environment
    assert cold_starts() == 2
    setup = statistics(aws, endpoint, "ModelSetupTime")
    assert setup["Minimum"] >= COLD_START_MS * 1e3  # the configured delay, then the real load
    assert statistics(aws, endpoint, "OverheadLatency")["SampleCount"] == 3
    assert statistics(aws, endpoint, "Invocations")["Sum"] == 3  # throttled never reached it


def clock_now(aws) -> datetime:
    return datetime.fromisoformat(aws.localaws("GET", "/localaws/runtime")["clock"]["now"])


def minute_start(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def put_minutes(
    aws, metric: str, dimensions: dict[str, str], values: list[float], advance: bool = True
) -> None:
    """One datapoint per minute from the runtime clock's current minute on, then (advance) the
    clock moves past the last of them: those minutes are the scaler's newest complete ones."""
    first = minute_start(clock_now(aws))
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": first + timedelta(minutes=i, seconds=30),
                "Value": value,
            }
            for i, value in enumerate(values)
        ],
    )
    if not advance:
        return
    target = first + timedelta(minutes=len(values), seconds=1)
    aws.advance_clock((target - clock_now(aws)).total_seconds())


def activities(aws, endpoint: str, dimension: str) -> list[dict]:
    return aws.client("application-autoscaling").describe_scaling_activities(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{endpoint}/variant/v1",
        ScalableDimension=dimension,
    )["ScalingActivities"]


def test_target_tracking_raises_provisioned_concurrency_and_the_hosting_keeps_it_warm(
    aws, built, own_model_url
):
    endpoint = serverless_endpoint(aws, own_model_url, MaxConcurrency=4, ProvisionedConcurrency=1)
    resource = f"endpoint/{endpoint}/variant/v1"
    scaling = aws.client("application-autoscaling")
    scaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=PROVISIONED,
        MinCapacity=1,
        MaxCapacity=4,
    )
    scaling.put_scaling_policy(
        PolicyName="provisioned-utilization",
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=PROVISIONED,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 0.5,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantProvisionedConcurrencyUtilization"
            },
        },
    )
    runtime = aws.client("sagemaker-runtime", config=NO_RETRIES)
    body = csv_body(built.X[:5])
    # Provisioned: warm from the start (no cold start although the variant never ran; checked
    # with ModelSetupTime below).
    runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
    # Three minutes fully utilised -> ceil(1 * 1.0 / 0.5) = 2.
    put_minutes(
        aws,
        "ServerlessProvisionedConcurrencyUtilization",
        {"EndpointName": endpoint, "VariantName": "v1"},
        [1.0, 1.0, 1.0],
    )
    sm = aws.client("sagemaker")

    def provisioned() -> int:
        variant = sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"][0]
        return variant["CurrentServerlessConfig"]["ProvisionedConcurrency"]

    wait_for("provisioned concurrency 2", lambda: provisioned() == 2, timeout_s=20)
    (activity,) = activities(aws, endpoint, PROVISIONED)
    assert activity["Description"] == "Setting desired provisioned concurrency to 2."
    assert activity["StatusCode"] == "Successful"
    slow = csv_body(np.repeat(built.X, 400, axis=0))  # ~48k rows: each request takes a while
    prefix = "ServerlessProvisionedConcurrency"
    attempts = 0
    while attempts < 3:  # until two requests were in the gate at the same moment
        attempts += 1
        results = concurrently(
            2,
            lambda: predictions(
                runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=slow)
            ),
        )
        assert all(isinstance(r, np.ndarray) for r in results), results
        flush(aws)
        if statistics(aws, endpoint, f"{prefix}Executions")["Maximum"] == 2:
            break
    assert statistics(aws, endpoint, f"{prefix}Executions")["Maximum"] == 2  # both at once
    assert statistics(aws, endpoint, f"{prefix}Invocations")["Sum"] == 1 + 2 * attempts
    assert statistics(aws, endpoint, f"{prefix}SpilloverInvocations")["Sum"] == 0
    assert statistics(aws, endpoint, f"{prefix}Utilization")["Maximum"] == 1.0  # 2 of 2
    assert statistics(aws, endpoint, "ModelSetupTime")["SampleCount"] == 0


@pytest.fixture(scope="module")
def instance_endpoint(aws, own_model_url) -> str:
    sm = aws.client("sagemaker")
    model = unique("model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "byo/serving:1", "ModelDataUrl": own_model_url},
    )
    config = unique("instance-config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "v1",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    endpoint = unique("scale-to-zero")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    aws.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{endpoint}/variant/v1",
        ScalableDimension=INSTANCE,
        MinCapacity=0,
        MaxCapacity=2,
    )
    return endpoint


def instance_count(aws, endpoint: str) -> int:
    variant = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)[
        "ProductionVariants"
    ][0]
    return variant["DesiredInstanceCount"]


def test_target_tracking_on_backlog_per_instance_scales_in_to_zero(aws, instance_endpoint):
    scaling = aws.client("application-autoscaling")
    scaling.put_scaling_policy(
        PolicyName="backlog-per-instance",
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{instance_endpoint}/variant/v1",
        ScalableDimension=INSTANCE,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 5.0,
            "CustomizedMetricSpecification": {
                "MetricName": "ApproximateBacklogSizePerInstance",
                "Namespace": "AWS/SageMaker",
                "Dimensions": [{"Name": "EndpointName", "Value": instance_endpoint}],
                "Statistic": "Average",
            },
            "ScaleInCooldown": 60,
            "ScaleOutCooldown": 60,
        },
    )
    put_minutes(
        aws, "ApproximateBacklogSizePerInstance", {"EndpointName": instance_endpoint}, [0.0] * 15
    )
    wait_for("0 instances", lambda: instance_count(aws, instance_endpoint) == 0, timeout_s=20)
    (activity,) = activities(aws, instance_endpoint, INSTANCE)
    assert activity["Description"] == "Setting desired instance count to 0."


def test_step_scaling_on_has_backlog_without_capacity_brings_the_first_instance(
    aws, instance_endpoint
):
    if instance_count(aws, instance_endpoint) != 0:
        pytest.skip("needs the scale-in to 0 of the previous test")
    scaling = aws.client("application-autoscaling")
    policy = scaling.put_scaling_policy(
        PolicyName="has-backlog-without-capacity",
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{instance_endpoint}/variant/v1",
        ScalableDimension=INSTANCE,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "MetricAggregationType": "Average",
            "Cooldown": 300,
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
        },
    )
    cloudwatch = aws.client("cloudwatch")
    alarm = unique("has-backlog-without-capacity")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/SageMaker",
        MetricName="HasBacklogWithoutCapacity",
        Dimensions=[{"Name": "EndpointName", "Value": instance_endpoint}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=2,
        DatapointsToAlarm=2,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="missing",
        AlarmActions=[policy["PolicyARN"]],
    )
    # The backlog is there: per instance (once there is one) 2, under the target-tracking
    # policy's target 5, where ceil(1 * 2 / 5) = 1 keeps the instance the step brings.
    put_minutes(
        aws,
        "ApproximateBacklogSizePerInstance",
        {"EndpointName": instance_endpoint},
        [2.0] * 4,
        advance=False,
    )
    put_minutes(aws, "HasBacklogWithoutCapacity", {"EndpointName": instance_endpoint}, [1.0, 1.0])
    wait_for("1 instance", lambda: instance_count(aws, instance_endpoint) == 1, timeout_s=20)
    newest = activities(aws, instance_endpoint, INSTANCE)[0]
    assert newest["Description"] == "Setting desired instance count to 1."
    assert newest["Cause"] == (
        f"monitor alarm {alarm} in state ALARM triggered policy has-backlog-without-capacity"
    )

    def executed() -> list[dict]:
        return cloudwatch.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action")[
            "AlarmHistoryItems"
        ]

    wait_for("the alarm's action in its history", lambda: executed(), timeout_s=10)
    data = json.loads(executed()[0]["HistoryData"])
    assert data["actionState"] == "Succeeded", data
    # A minute later the alarm, still in ALARM, invokes the policy again: within its cooldown
    # the +1 counts from the capacity before the scale-out (0), so nothing changes.
    aws.advance_clock(61)
    time.sleep(1.5)
    assert instance_count(aws, instance_endpoint) == 1
    assert len(activities(aws, instance_endpoint, INSTANCE)) == 2

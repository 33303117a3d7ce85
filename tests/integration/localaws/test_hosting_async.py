"""Asynchronous inference in the local hosting through an unmodified boto3 client:
InvokeEndpointAsync → queue → S3 output / failure objects, SNS notifications, backlog metrics."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.helpers.aws import SAGEMAKER_ROLE, make_endpoint, s3_object, unique
from tests.helpers.emulator import own_emulator
from tests.helpers.models import xgboost_model

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model(emulator, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("async-model")
    built = xgboost_model(tmp)
    bucket = unique("async")
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(built.tarball(tmp / "model.tar.gz")), bucket, "models/m/model.tar.gz")
    return built, bucket, f"s3://{bucket}/models/m/model.tar.gz"


def async_endpoint(emulator, model_url: str, bucket: str, **output) -> str:
    sm = emulator.client("sagemaker")
    name = unique("model-async")
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": model_url},
    )
    config = unique("config-async")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "only",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        AsyncInferenceConfig={
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2},
            "OutputConfig": {
                "S3OutputPath": f"s3://{bucket}/async/output",
                "S3FailurePath": f"s3://{bucket}/async/failure",
                **output,
            },
        },
    )
    endpoint = unique("endpoint-async")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint


def csv_rows(X: np.ndarray) -> str:
    return "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in X)


def test_async_answers_equal_in_process_predictions(emulator, model):
    built, bucket, url = model
    endpoint = async_endpoint(emulator, url, bucket)
    s3 = emulator.client("s3")
    s3.put_object(Bucket=bucket, Key="async/input/rows.csv", Body=csv_rows(built.X).encode())
    runtime = emulator.client("sagemaker-runtime")
    answer = runtime.invoke_endpoint_async(
        EndpointName=endpoint,
        InputLocation=f"s3://{bucket}/async/input/rows.csv",
        ContentType="text/csv",
        InferenceId="rows-1",
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["InferenceId"] == "rows-1"
    assert answer["OutputLocation"] == f"s3://{bucket}/async/output/rows-1.out"
    assert answer["FailureLocation"] == f"s3://{bucket}/async/failure/rows-1-error.out"
    served = np.array(
        [float(x) for x in s3_object(emulator.client("s3"), answer["OutputLocation"]).split()]
    )
    np.testing.assert_allclose(served, built.expected, rtol=1e-6)

    # An inline Body, a generated InferenceId, S3OutputPathExtension and Filename.
    inline = runtime.invoke_endpoint_async(
        EndpointName=endpoint,
        Body=csv_rows(built.X[:3]).encode(),
        ContentType="text/csv",
        S3OutputPathExtension="batch/7",
        Filename="three.out",
    )
    assert len(inline["InferenceId"]) == 36
    assert inline["OutputLocation"] == f"s3://{bucket}/async/output/batch/7/three.out"
    served = np.array(
        [float(x) for x in s3_object(emulator.client("s3"), inline["OutputLocation"]).split()]
    )
    np.testing.assert_allclose(served, built.expected[:3], rtol=1e-6)


def test_async_validation_errors(emulator, model):
    _, bucket, url = model
    runtime = emulator.client("sagemaker-runtime")
    realtime = make_endpoint(emulator, url, {"only": 1})
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint_async(EndpointName=realtime, InputLocation=f"s3://{bucket}/x")
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "no AsyncInferenceConfig" in error.value.response["Error"]["Message"]

    endpoint = async_endpoint(emulator, url, bucket)
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint_async(EndpointName=endpoint, InputLocation=f"s3://{bucket}/x",
                                      RequestTTLSeconds=21_601)  # fmt: skip
    assert "RequestTTLSeconds must be between 60 and 21600" in str(error.value)
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1\n")
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "send requests with InvokeEndpointAsync" in error.value.response["Error"]["Message"]


def test_failure_object_and_error_topic(emulator, model):
    _, bucket, url = model
    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    errors = sns.create_topic(Name=unique("async-errors"))["TopicArn"]
    queue = sqs.create_queue(QueueName=unique("async-errors"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=errors, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})  # fmt: skip
    endpoint = async_endpoint(emulator, url, bucket, NotificationConfig={"ErrorTopic": errors})
    emulator.client("s3").put_object(Bucket=bucket, Key="async/input/bad.csv", Body=b"1,2,x\n")
    runtime = emulator.client("sagemaker-runtime")
    answer = runtime.invoke_endpoint_async(
        EndpointName=endpoint,
        InputLocation=f"s3://{bucket}/async/input/bad.csv",
        ContentType="text/csv",
    )
    failure = s3_object(emulator.client("s3"), answer["FailureLocation"]).decode()
    assert failure, "the model's error text is the failure object"
    deadline = time.monotonic() + 10
    messages: list = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
    assert messages, "the error topic was notified"
    note = json.loads(messages[0]["Body"])
    assert note["invocationStatus"] == "Failed"
    assert note["eventName"] == "InferenceResult" and note["eventSource"] == "aws:sagemaker"
    assert note["inferenceId"] == answer["InferenceId"]
    assert note["failureReason"].startswith("ClientError: ")
    assert note["requestParameters"] == {
        "endpointName": endpoint,
        "contentType": "text/csv",
        "inputLocation": f"s3://{bucket}/async/input/bad.csv",
    }
    assert note["responseParameters"]["failureLocation"] == answer["FailureLocation"]
    assert not wait_object_absent(emulator, answer["OutputLocation"])


def wait_object_absent(emulator, uri: str) -> bool:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        emulator.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def test_zero_instances_grow_the_backlog(emulator, model):
    built, bucket, url = model
    endpoint = async_endpoint(emulator, url, bucket)
    sm = emulator.client("sagemaker")
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "only", "DesiredInstanceCount": 0}],
    )
    runtime = emulator.client("sagemaker-runtime")
    answers = [
        runtime.invoke_endpoint_async(
            EndpointName=endpoint, Body=csv_rows(built.X[:1]).encode(), ContentType="text/csv"
        )
        for _ in range(3)
    ]
    cloudwatch = emulator.client("cloudwatch")

    def newest(metric: str) -> float | None:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=metric,
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}],
            StartTime=datetime.now(UTC) - timedelta(minutes=5),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        return max((p["Maximum"] for p in points), default=None)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and newest("ApproximateBacklogSize") != 3:
        time.sleep(0.2)
    assert newest("ApproximateBacklogSize") == 3
    assert newest("HasBacklogWithoutCapacity") == 1
    assert (newest("ApproximateAgeOfOldestRequest") or 0) > 0
    assert not wait_object_absent(emulator, answers[0]["OutputLocation"]), "nothing ran"

    # An instance again (as a scale-out from zero would set): the backlog drains.
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "only", "DesiredInstanceCount": 1}],
    )
    for answer in answers:
        served = float(s3_object(emulator.client("s3"), answer["OutputLocation"]).decode())
        assert served == pytest.approx(built.expected[0], rel=1e-6)


def test_step_scaling_on_has_backlog_without_capacity_scales_from_zero(tmp_path, model):
    """End to end on an emulator of its own (alarms and scaling evaluated every half second):
    the hosting's own HasBacklogWithoutCapacity drives the alarm → StepScaling → 1 instance →
    the waiting request runs."""
    built, _, _ = model
    with own_emulator(
        tmp_path,
        env={
            "LOCALAWS_SCALING_INTERVAL_S": "0.5",
            "LOCALAWS_ALARM_INTERVAL_S": "0.5",
            "LOCALAWS_RUNTIME_OFF": "lambda,batch,events,stepfunctions,deployments,transform",
        },
    ) as aws:
        bucket = unique("async-zero")
        aws.client("s3").create_bucket(Bucket=bucket)
        aws.client("s3").upload_file(
            str(built.tarball(tmp_path / "model.tar.gz")), bucket, "models/m/model.tar.gz"
        )
        endpoint = async_endpoint(aws, f"s3://{bucket}/models/m/model.tar.gz", bucket)
        sm = aws.client("sagemaker")
        sm.update_endpoint_weights_and_capacities(
            EndpointName=endpoint,
            DesiredWeightsAndCapacities=[{"VariantName": "only", "DesiredInstanceCount": 0}],
        )
        scaling = aws.client("application-autoscaling")
        resource = f"endpoint/{endpoint}/variant/only"
        dimension = "sagemaker:variant:DesiredInstanceCount"
        scaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension=dimension,
            MinCapacity=0,
            MaxCapacity=1,
        )
        policy = scaling.put_scaling_policy(
            PolicyName="from-zero",
            ServiceNamespace="sagemaker",
            ResourceId=resource,
            ScalableDimension=dimension,
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration={
                "AdjustmentType": "ChangeInCapacity",
                "MetricAggregationType": "Maximum",
                "Cooldown": 300,
                "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
            },
        )
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName=unique("backlog-without-capacity"),
            Namespace="AWS/SageMaker",
            MetricName="HasBacklogWithoutCapacity",
            Dimensions=[{"Name": "EndpointName", "Value": endpoint}],
            Statistic="Maximum",
            Period=10,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[policy["PolicyARN"]],
        )
        answer = aws.client("sagemaker-runtime").invoke_endpoint_async(
            EndpointName=endpoint, Body=csv_rows(built.X[:1]).encode(), ContentType="text/csv"
        )
        served = float(s3_object(aws.client("s3"), answer["OutputLocation"], timeout_s=30).decode())
        assert served == pytest.approx(built.expected[0], rel=1e-6)
        variant = sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"][0]
        assert variant["CurrentInstanceCount"] == 1

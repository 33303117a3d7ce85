"""SageMaker blue/green deployments on the embedded AWS, through the AWS APIs alone: UpdateEndpoint
with a canary DeploymentConfig keeps the endpoint Updating through the canary's bake and the
final baking period (the runtime's clock advanced past them), then InService on the new config;
a rollback alarm in ALARM during the canary rolls it back (RollingBack, then InService on the old
config, FailureReason, the old model answering); an update during a deployment is refused as AWS
refuses it; the state changes arrive as EventBridge events."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from tests.helpers import models
from tests.helpers.aws import SAGEMAKER_ROLE, make_endpoint, unique
from tests.helpers.emulator import own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

STATE_CHANGE = "SageMaker Endpoint Deployment State Change"
CANARY_WAIT_S = 600
TERMINATION_WAIT_S = 300


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """An own emulator (its clock is advanced) evaluating alarms every second; the services a
    deployment needs: events (its state changes), alarms and deployments."""
    with own_emulator(
        tmp_path_factory.mktemp("deployments-emulator"),
        env={
            "LOCALAWS_ALARM_INTERVAL_S": "1",
            "LOCALAWS_RUNTIME_OFF": "lambda,batch,scaling,stepfunctions",
        },
    ) as emu:
        yield emu


@pytest.fixture(scope="module")
def model_urls(aws, tmp_path_factory):
    """Two tiny models that answer differently: blue (a classifier: probabilities) and green (a
    regressor), uploaded as model.tar.gz; with what each answers for one row."""
    tmp = tmp_path_factory.mktemp("deployment-models")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="deployment-models")
    urls, answers = {}, {}
    for color, objective in (("blue", "binary:logistic"), ("green", "reg:squarederror")):
        built = models.xgboost_model(tmp, objective=objective)
        s3.upload_file(
            str(built.tarball(tmp / f"{color}.tar.gz")), "deployment-models", f"{color}.tar.gz"
        )
        urls[color] = f"s3://deployment-models/{color}.tar.gz"
        answers[color] = float(built.expected[0])
    assert abs(answers["blue"] - answers["green"]) > 1e-3, "the two models must answer apart"
    row = ",".join(str(x) for x in models.rows()[0]) + "\n"
    return urls, answers, row.encode()


def green_config(aws, model_url: str) -> str:
    sm = aws.client("sagemaker")
    model = unique("green-model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": model_url},
    )
    config = unique("green-config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "v1",
                "ModelName": model,
                "InitialInstanceCount": 2,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1,
            }
        ],
    )
    return config


def alarm(aws, endpoint: str) -> str:
    """A rollback alarm on a metric the test puts: OK until a datapoint reaches 1."""
    name = unique("rollback")
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="Test/Deployments",
        MetricName="Errors",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    return name


def canary(alarm_name: str) -> dict:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                "WaitIntervalInSeconds": CANARY_WAIT_S,
            },
            "TerminationWaitInSeconds": TERMINATION_WAIT_S,
            "MaximumExecutionTimeoutInSeconds": 1800,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm_name}]},
    }


def state_changes(aws, endpoint: str) -> str:
    """An SQS queue that an EventBridge rule fills with the endpoint's deployment events."""
    sqs, events = aws.client("sqs"), aws.client("events")
    url = sqs.create_queue(QueueName=unique("deployment-events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    endpoint_arn = aws.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    rule = unique("deployments")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.sagemaker"],
                "detail-type": [STATE_CHANGE],
                "resources": [endpoint_arn],
            }
        ),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def received(aws, url: str, seen: list[dict]) -> list[dict]:
    sqs = aws.client("sqs")
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        seen.append(json.loads(message["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def statuses(events: list[dict]) -> list[str]:
    collapsed: list[str] = []
    for event in events:
        status = event["detail"]["EndpointStatus"]
        if not collapsed or collapsed[-1] != status:
            collapsed.append(status)
    return collapsed


def answer(aws, endpoint: str, row: bytes) -> float:
    body = aws.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=row
    )["Body"]
    return float(body.read().decode().split()[0])


def baking(sm, endpoint: str) -> str:
    described = sm.describe_endpoint(EndpointName=endpoint)
    summary = described.get("PendingDeploymentSummary") or {}
    variants = summary.get("ProductionVariants") or [{}]
    return (variants[0].get("VariantStatus") or [{}])[0].get("StatusMessage", "")


def runtime_now(aws) -> datetime:
    return datetime.fromisoformat(aws.localaws("GET", "/localaws/runtime")["clock"]["now"])


def test_an_alarm_in_the_canary_rolls_the_deployment_back(aws, model_urls):
    urls, answers, row = model_urls
    endpoint = make_endpoint(aws, urls["blue"], {"v1": 1})
    sm = aws.client("sagemaker")
    blue = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    assert answer(aws, endpoint, row) == pytest.approx(answers["blue"], rel=1e-5)
    green = green_config(aws, urls["green"])
    name = alarm(aws, endpoint)
    queue = state_changes(aws, endpoint)

    sm.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=green, DeploymentConfig=canary(name)
    )
    during = sm.describe_endpoint(EndpointName=endpoint)
    assert during["EndpointStatus"] == "Updating"
    assert during["PendingDeploymentSummary"]["EndpointConfigName"] == green
    assert "canary capacity of 1 instance(s)" in baking(sm, endpoint)
    # The canary serves: the green model answers while the alarms are watched.
    assert answer(aws, endpoint, row) == pytest.approx(answers["green"], rel=1e-5)

    aws.client("cloudwatch").put_metric_data(
        Namespace="Test/Deployments",
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [{"Name": "EndpointName", "Value": endpoint}],
                "Value": 5,
                "Timestamp": runtime_now(aws),
            }
        ],
    )
    after = wait_for(
        "the endpoint rolled back to its old config",
        lambda: (
            (d := sm.describe_endpoint(EndpointName=endpoint))["EndpointStatus"] == "InService"
            and d
        ),
        timeout_s=30,
    )
    assert after["EndpointConfigName"] == blue
    assert name in after["FailureReason"] and "canary" in after["FailureReason"]
    assert after["LastDeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": name}
    ]
    assert "PendingDeploymentSummary" not in after
    assert answer(aws, endpoint, row) == pytest.approx(answers["blue"], rel=1e-5)
    seen: list[dict] = []
    wait_for(
        "the rollback's state change events",
        lambda: statuses(received(aws, queue, seen))[-1:] == ["IN_SERVICE"],
        timeout_s=30,
    )
    assert statuses(seen) == ["UPDATING", "ROLLING_BACK", "IN_SERVICE"]
    assert seen[-1]["detail"]["EndpointConfigName"] == blue


def test_an_update_during_a_deployment_is_refused(aws, model_urls):
    urls, _, _ = model_urls
    endpoint = make_endpoint(aws, urls["blue"], {"v1": 1})
    sm = aws.client("sagemaker")
    green = green_config(aws, urls["green"])
    sm.update_endpoint(
        EndpointName=endpoint,
        EndpointConfigName=green,
        DeploymentConfig=canary(alarm(aws, endpoint)),
    )
    with pytest.raises(ClientError) as again:
        sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=green)
    assert again.value.response["Error"]["Code"] == "ValidationException"
    assert again.value.response["Error"]["Message"].startswith(
        'Cannot update in-progress endpoint "arn:aws:sagemaker:'
    )
    with pytest.raises(ClientError) as weights:
        sm.update_endpoint_weights_and_capacities(
            EndpointName=endpoint,
            DesiredWeightsAndCapacities=[{"VariantName": "v1", "DesiredWeight": 2}],
        )
    assert "Cannot update in-progress endpoint" in weights.value.response["Error"]["Message"]


def test_a_deployment_config_aws_refuses_is_a_validation_error(aws, model_urls):
    urls, _, _ = model_urls
    endpoint = make_endpoint(aws, urls["blue"], {"v1": 1})
    sm = aws.client("sagemaker")
    blue = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    config = canary(alarm(aws, endpoint))
    del config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["CanarySize"]
    with pytest.raises(ClientError) as refused:
        sm.update_endpoint(
            EndpointName=endpoint,
            EndpointConfigName=green_config(aws, urls["green"]),
            DeploymentConfig=config,
        )
    assert "CanarySize is required" in refused.value.response["Error"]["Message"]
    unchanged = sm.describe_endpoint(EndpointName=endpoint)
    assert (unchanged["EndpointStatus"], unchanged["EndpointConfigName"]) == ("InService", blue)


def test_with_no_alarm_the_canary_and_baking_period_end_in_service_on_the_new_config(
    aws, model_urls
):
    """Last: it advances the runtime's clock."""
    urls, answers, row = model_urls
    endpoint = make_endpoint(aws, urls["blue"], {"v1": 1})
    sm = aws.client("sagemaker")
    green = green_config(aws, urls["green"])
    queue = state_changes(aws, endpoint)
    sm.update_endpoint(
        EndpointName=endpoint,
        EndpointConfigName=green,
        DeploymentConfig=canary(alarm(aws, endpoint)),
    )
    assert "canary capacity" in baking(sm, endpoint)

    aws.advance_clock(CANARY_WAIT_S)
    wait_for(
        "the final baking period",
        lambda: "(TerminationWaitInSeconds)" in baking(sm, endpoint),
        timeout_s=30,
    )
    assert sm.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"

    aws.advance_clock(TERMINATION_WAIT_S)
    done = wait_for(
        "the endpoint InService after the baking period",
        lambda: (
            (d := sm.describe_endpoint(EndpointName=endpoint))["EndpointStatus"] == "InService"
            and d
        ),
        timeout_s=30,
    )
    assert done["EndpointConfigName"] == green
    assert "FailureReason" not in done and "PendingDeploymentSummary" not in done
    assert [v["CurrentInstanceCount"] for v in done["ProductionVariants"]] == [2]
    assert answer(aws, endpoint, row) == pytest.approx(answers["green"], rel=1e-5)
    seen: list[dict] = []
    wait_for(
        "the deployment's state change events",
        lambda: statuses(received(aws, queue, seen))[-1:] == ["IN_SERVICE"],
        timeout_s=30,
    )
    assert statuses(seen) == ["UPDATING", "IN_SERVICE"]
    messages = [
        e["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0][
            "StatusMessage"
        ]
        for e in seen
        if "PendingDeploymentSummary" in e["detail"]
    ]
    assert [("canary" in m, "TerminationWaitInSeconds" in m) for m in messages] == [
        (True, False),
        (False, True),
    ]

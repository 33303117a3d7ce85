"""`byo deploy --blue-green` on the embedded AWS: SageMaker's deployment guardrails roll the update
back when a rollback alarm is in ALARM, and the command fails saying so and why."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from operators.cli import cli
from operators.errors import ByoError
from tests.helpers.aws import minimal_stack
from tests.helpers.emulator import own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """An own emulator evaluating alarms every second (alarms, deployments and events on)."""
    with own_emulator(
        tmp_path_factory.mktemp("blue-green-emulator"),
        env={
            "LOCALAWS_ALARM_INTERVAL_S": "1",
            "LOCALAWS_RUNTIME_OFF": "lambda,batch,scaling,stepfunctions",
        },
    ) as emu:
        yield emu


def test_blue_green_deploy_fails_when_the_rollback_alarm_trips(
    aws, trained_model, tmp_path, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", aws.runtime_url)
    stack = minimal_stack(aws, tmp_path)
    run = lambda *a: CliRunner().invoke(cli, ["--outputs", str(stack["outputs"]), *a])  # noqa: E731
    registered = run(
        "model",
        "register",
        "--artifact",
        str(trained_model.model_path),
        "--metrics",
        str(trained_model.evaluation_path),
        "--approve",
    )
    assert registered.exit_code == 0, registered.output

    cloudwatch = aws.client("cloudwatch")
    dimensions = [{"Name": "EndpointName", "Value": stack["endpoint"]}]
    cloudwatch.put_metric_alarm(
        AlarmName="blue-green-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=dimensions,
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    now = datetime.fromisoformat(aws.localaws("GET", "/localaws/runtime")["clock"]["now"])
    cloudwatch.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocation5XXErrors",
                "Dimensions": dimensions,
                "Value": 3,
                "Timestamp": now,
            }
        ],
    )
    wait_for(
        "the 5XX alarm in ALARM",
        lambda: (
            cloudwatch.describe_alarms(AlarmNames=["blue-green-5xx"])["MetricAlarms"][0][
                "StateValue"
            ]
            == "ALARM"
        ),
        timeout_s=30,
    )
    sm = aws.client("sagemaker")
    before = sm.describe_endpoint(EndpointName=stack["endpoint"])["EndpointConfigName"]

    result = run(
        "deploy",
        "1",
        "--variant",
        "variant-a",
        "--blue-green",
        "--canary-percent",
        "50",
        "--canary-wait",
        "600",
        "--termination-wait",
        "0",
        "--rollback-alarm",
        "blue-green-5xx",
    )

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, ByoError)
    message = str(result.exception)
    assert "blue/green deployment" in message and "rolled back" in message
    assert "blue-green-5xx" in message and before in message
    after = sm.describe_endpoint(EndpointName=stack["endpoint"])
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == ("InService", before)
    assert json.dumps(after["LastDeploymentConfig"]).count("blue-green-5xx") == 1

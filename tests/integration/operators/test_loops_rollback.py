"""The deploy loop's job when the new version errors: `byo loops deploy` rolls it out blue/green,
the canary's requests fail (a model whose predict raises: HTTP 500 from the model, counted in
Invocation5XXErrors), the 5XX alarm goes to ALARM, SageMaker's guardrails (the embedded AWS's
deployments runtime) roll the endpoint back, and the job records "rolled-back" and fails."""

from __future__ import annotations

import json
import operator
import tarfile
import threading

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from operators import loops, registry
from operators.aws import Clients
from operators.errors import ByoError
from tests.helpers.aws import minimal_stack
from tests.helpers.emulator import own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """An own emulator evaluating alarms every second (alarms, deployments and events on)."""
    with own_emulator(
        tmp_path_factory.mktemp("loops-rollback-emulator"),
        env={
            "LOCALAWS_ALARM_INTERVAL_S": "1",
            "LOCALAWS_RUNTIME_OFF": "lambda,batch,scaling,stepfunctions",
        },
    ) as emu:
        yield emu


def erroring_model(path, features: int = 30):
    """A scikit-learn pipeline that loads and describes itself like any other, and raises in
    every prediction with an error that is the model's, not the request's (its first step
    indexes the rows' array by a column name: IndexError)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, features)), rng.integers(0, 2, 200)
    model = Pipeline(
        [
            ("breaks", FunctionTransformer(operator.itemgetter("amount")).fit(x)),
            ("model", LogisticRegression().fit(x, y)),
        ]
    )
    work = path.parent / "erroring"
    work.mkdir()
    joblib.dump(model, work / "model.joblib")
    with tarfile.open(path, "w:gz") as tar:
        tar.add(work / "model.joblib", arcname="model.joblib")
    return path


def test_the_deploy_loop_rolls_back_when_the_canary_errors(aws, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", aws.runtime_url)
    stack = minimal_stack(aws, tmp_path)
    table = json.loads(stack["outputs"].read_text())["job_table"]["value"]
    # byo model register refuses a model that fails on its probe rows: this one is put in the
    # registry as another tool would, approved, as a version that broke after its checks.
    key = "models/erroring/model.tar.gz"
    aws.client("s3").upload_file(
        str(erroring_model(tmp_path / "model.tar.gz")), stack["bucket"], key
    )
    aws.client("sagemaker").create_model_package(
        ModelPackageGroupName=stack["group"],
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [
                {"Image": "byo-serving:1", "ModelDataUrl": f"s3://{stack['bucket']}/{key}"}
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="loop-canary-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": stack["endpoint"]},
            {"Name": "VariantName", "Value": "variant-a"},
        ],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    sm, runtime = aws.client("sagemaker"), aws.client("sagemaker-runtime")
    before = sm.describe_endpoint(EndpointName=stack["endpoint"])["EndpointConfigName"]
    row = ",".join(["0.5"] * 30) + "\n"
    answers: list[str] = []
    done = threading.Event()

    def canary_traffic() -> None:
        """Clients keep sending while the canary bakes: the new model's answers are 500s."""
        wait_for(
            "the deployment to start",
            lambda: (
                sm.describe_endpoint(EndpointName=stack["endpoint"])["EndpointStatus"] == "Updating"
            ),
            timeout_s=60,
            poll_s=0.1,
        )
        while not done.is_set():
            try:
                runtime.invoke_endpoint(
                    EndpointName=stack["endpoint"], ContentType="text/csv", Body=row
                )
                answers.append("ok")
            except runtime.exceptions.ModelError as exc:
                answers.append(str(exc.response.get("OriginalStatusCode")))
            except Exception as exc:  # the endpoint rolling back answers other errors too
                answers.append(type(exc).__name__)
            done.wait(0.2)

    sender = threading.Thread(target=canary_traffic, daemon=True)
    sender.start()
    try:
        with pytest.raises(ByoError, match="was rolled back"):
            loops.deploy_approved(
                Clients(),
                table=table,
                record="loops/deploy/rollback-1",
                version=1,
                endpoint=stack["endpoint"],
                group=stack["group"],
                role_arn=json.loads(stack["outputs"].read_text())["sagemaker_execution_role_arn"][
                    "value"
                ],
                name="test",
                deployment_config={
                    "BlueGreenUpdatePolicy": {
                        "TrafficRoutingConfiguration": {
                            "Type": "CANARY",
                            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                            "WaitIntervalInSeconds": 120,
                        },
                        "TerminationWaitInSeconds": 0,
                    },
                    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "loop-canary-5xx"}]},
                },
            )
    finally:
        done.set()
        sender.join(timeout=10)
    assert "500" in answers, answers  # the canary's model failed, as a 500 from the model
    saved = loops.read_record(Clients(), table, "loops/deploy/rollback-1")
    assert saved["Outcome"] == "rolled-back", saved
    assert "loop-canary-5xx" in saved["Message"] and saved["ServingVersion"] == "initial"
    after = sm.describe_endpoint(EndpointName=stack["endpoint"])
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == ("InService", before)
    assert registry.find(Clients(), stack["group"], 1)["status"] == "Approved"

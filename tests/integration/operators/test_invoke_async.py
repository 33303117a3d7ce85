"""`byo invoke --async` through click's CliRunner against the embedded AWS's asynchronous
endpoint: the rows file as one InvokeEndpointAsync request, its answer awaited in S3."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from operators.cli import cli
from operators.errors import ByoError
from tests.helpers.aws import SAGEMAKER_ROLE, unique
from tests.helpers.models import xgboost_model

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(emulator, tmp_path_factory):
    """A data bucket, a model and an asynchronous endpoint, as the stack outputs byo reads."""
    tmp = tmp_path_factory.mktemp("invoke-async")
    built = xgboost_model(tmp)
    bucket = unique("data")
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(built.tarball(tmp / "model.tar.gz")), bucket, "models/a/model.tar.gz")
    sm = emulator.client("sagemaker")
    model = unique("model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": f"s3://{bucket}/models/a/model.tar.gz"},
    )
    config = unique("config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "variant-a",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        AsyncInferenceConfig={
            "OutputConfig": {
                "S3OutputPath": f"s3://{bucket}/async/output",
                "S3FailurePath": f"s3://{bucket}/async/failure",
            }
        },
    )
    endpoint = unique("endpoint")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    outputs = tmp / "outputs.json"
    outputs.write_text(
        json.dumps({"data_bucket": {"value": bucket}, "endpoint_name": {"value": endpoint}})
    )
    return built, bucket, outputs, tmp


def rows_file(path, X) -> str:
    path.write_text(
        "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in X) + "\n"
    )
    return str(path)


def test_invoke_async_prints_the_answer(stack):
    built, bucket, outputs, tmp = stack
    result = CliRunner().invoke(
        cli,
        [
            "--outputs",
            str(outputs),
            "invoke",
            "--async",
            "--json",
            "--timeout",
            "20",
            "--file",
            rows_file(tmp / "rows.csv", built.X),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["input_location"].startswith(f"s3://{bucket}/async/input/")
    assert answer["output_location"] == (f"s3://{bucket}/async/output/{answer['inference_id']}.out")
    served = np.array([float(x) for x in answer["output"].split()])
    np.testing.assert_allclose(served, built.expected, rtol=1e-6)


def test_invoke_async_failure_names_the_failure_object(stack):
    _, bucket, outputs, tmp = stack
    bad = tmp / "bad.csv"
    bad.write_text("1,2,not-a-number\n")
    result = CliRunner().invoke(
        cli,
        ["--outputs", str(outputs), "invoke", "--async", "--timeout", "20", "--file", str(bad)],
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, ByoError)
    message = str(result.exception)
    assert "not-a-number" in message, "the model's error text"
    assert f"(failure object s3://{bucket}/async/failure/" in message
    assert message.endswith("-error.out)")


def test_async_takes_no_per_row_options(stack):
    built, _, outputs, tmp = stack
    result = CliRunner().invoke(
        cli,
        [
            "--outputs",
            str(outputs),
            "invoke",
            "--async",
            "--target-model",
            "a.tar.gz",
            "--file",
            rows_file(tmp / "one.csv", built.X[:1]),
        ],
    )
    assert result.exit_code == 2
    assert "--target-model" in result.stderr

"""`byo transform` against the embedded AWS: a registered version scores every object under a
prefix with a Batch Transform job; the outputs, their row counts and the joined id column
match in-process predictions; a failed job exits 1 with its FailureReason; a bad URI is a usage
error."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError
from click.testing import CliRunner

from operators.cli import cli
from serving.artifact import load_booster
from tests.helpers.aws import minimal_stack
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample" / "sample.csv"


@pytest.fixture(scope="module")
def stack(emulator, trained_model, tmp_path_factory):
    """The minimal stack with the trained model registered as version 1, and its predictions
    for the sample's rows."""
    stack = minimal_stack(emulator, tmp_path_factory.mktemp("transform-stack"))
    registered = byo(
        stack,
        "model",
        "register",
        "--artifact",
        str(trained_model.model_path),
        "--metrics",
        str(trained_model.evaluation_path),
    )
    assert registered.exit_code == 0, registered.output
    expected = load_booster(trained_model.model_path).predict(
        xgb.DMatrix(np.loadtxt(SAMPLE, delimiter=",", ndmin=2))
    )
    return {**stack, "expected": expected}


def byo(stack, *args: str):
    return CliRunner().invoke(cli, ["--outputs", str(stack["outputs"]), *args])


def test_transform_joins_each_prediction_to_its_id(emulator, stack):
    bucket = stack["bucket"]
    lines = SAMPLE.read_text().splitlines()
    with_ids = "".join(f"row-{i},{line}\n" for i, line in enumerate(lines))
    s3 = emulator.client("s3")
    s3.put_object(Bucket=bucket, Key="scoring/a.csv", Body=with_ids.encode())
    s3.put_object(Bucket=bucket, Key="scoring/b.csv", Body=with_ids.encode())
    result = byo(
        stack,
        "transform",
        f"s3://{bucket}/scoring/",
        "--model-version",
        "1",
        "--input-filter",
        "$[1:]",
        "--join",
        "--output-filter",
        "$[0,-1]",
        "--concurrency",
        "2",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["status"] == "Completed"
    assert summary["rows"] == 2 * len(lines)
    assert [o["uri"].rsplit("/", 1)[1] for o in summary["outputs"]] == ["a.csv.out", "b.csv.out"]
    with pytest.raises(ClientError):  # the job's own model is gone with the job
        emulator.client("sagemaker").describe_model(ModelName=summary["model"])
    key = summary["outputs"][0]["uri"].removeprefix(f"s3://{bucket}/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert [r[0] for r in rows] == [f"row-{i}" for i in range(len(lines))]
    np.testing.assert_allclose([float(r[1]) for r in rows], stack["expected"], rtol=1e-6)

    s3.put_object(Bucket=bucket, Key="plain/sample.csv", Body=SAMPLE.read_bytes())
    output = f"s3://{bucket}/plain-out"
    table = byo(
        stack, "transform", f"s3://{bucket}/plain/", "--model-version", "1", "--output", output
    )
    assert table.exit_code == 0, table.output
    assert "Completed" in table.output and "sample.csv.out" in table.output
    body = s3.get_object(Bucket=bucket, Key="plain-out/sample.csv.out")["Body"].read().decode()
    np.testing.assert_allclose([float(v) for v in body.split()], stack["expected"], rtol=1e-6)


def test_a_failed_job_exits_1_with_its_failure_reason(emulator, stack):
    bucket = stack["bucket"]
    emulator.client("s3").put_object(
        Bucket=bucket, Key="huge/one.csv", Body=b"1," * (600 * 1024) + b"1\n"
    )
    result = byo(
        stack,
        "transform",
        f"s3://{bucket}/huge/",
        "--model-version",
        "1",
        "--max-payload-mb",
        "1",
    )
    assert result.exit_code == 1
    message = result.output + str(result.exception)
    assert "Failed" in message and "Too much data for max payload size" in message
    assert f"{bucket}/huge/one.csv" in message


def test_bad_input_is_a_usage_error(stack):
    result = byo(stack, "transform", "not-s3", "--model-version", "1")
    assert result.exit_code == 2
    assert "expected s3://BUCKET/PREFIX" in result.output
    missing = byo(stack, "transform", f"s3://{stack['bucket']}/x/", "--model-version", "9")
    assert missing.exit_code != 0
    assert "has no version 9" in str(missing.exception) + missing.output

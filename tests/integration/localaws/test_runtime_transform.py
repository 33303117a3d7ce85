"""SageMaker Batch Transform on the embedded AWS, through boto3 alone: CreateTransformJob runs
the model (the hosting's loading code) over every object under a prefix and writes
`<output>/<name>.out`, equal row for row to the model's in-process predictions (MultiRecord,
SingleRecord with several concurrent requests, gzip input, JoinSource=Input with an InputFilter
dropping an id column); a record above MaxPayloadInMB fails the job with AWS's reason naming
the object; a missing model is refused; StopTransformJob stops a running job (no output kept);
the job's logs are in /aws/sagemaker/TransformJobs."""

from __future__ import annotations

import csv
import gzip
import io

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.helpers import models
from tests.helpers.aws import SAGEMAKER_ROLE, unique
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

RESOURCES = {"InstanceType": "ml.m5.large", "InstanceCount": 1}


def csv_rows(X: np.ndarray, ids: list[str] | None = None) -> bytes:
    """Rows as headerless CSV, NaN as an empty field (a missing value), an id column first."""
    lines = []
    for index, row in enumerate(X):
        fields = ["" if np.isnan(v) else repr(float(v)) for v in row]
        lines.append(",".join(([ids[index]] if ids else []) + fields))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def setup(emulator, tmp_path_factory):
    """A bucket, a small XGBoost classifier as a SageMaker model, its in-process predictions."""
    tmp = tmp_path_factory.mktemp("transform")
    built = models.xgboost_model(tmp)
    bucket = unique("transform")
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(built.tarball(tmp / "model.tar.gz")), bucket, "models/model.tar.gz")
    model = unique("transform-model")
    emulator.client("sagemaker").create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": f"s3://{bucket}/models/model.tar.gz"},
    )
    return bucket, model, built


def run_job(emulator, model: str, input_uri: str, output_uri: str, **fields) -> dict:
    sm = emulator.client("sagemaker")
    name = unique("job")
    transform_input = {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
        "ContentType": "text/csv",
        "SplitType": "Line",
        **fields.pop("TransformInput", {}),
    }
    sm.create_transform_job(
        TransformJobName=name,
        ModelName=model,
        TransformInput=transform_input,
        TransformOutput={"S3OutputPath": output_uri, **fields.pop("TransformOutput", {})},
        TransformResources=RESOURCES,
        **fields,
    )
    return wait_for(
        f"transform job {name}",
        lambda: (
            (d := sm.describe_transform_job(TransformJobName=name))["TransformJobStatus"]
            not in ("InProgress", "Stopping")
            and d
        ),
        timeout_s=20,
        poll_s=0.05,
    )


def read(emulator, bucket: str, key: str) -> str:
    return emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def scores(text: str) -> np.ndarray:
    return np.array([float(line) for line in text.splitlines()])


def test_multi_record_scores_every_object_under_the_prefix(emulator, setup):
    bucket, model, built = setup
    s3 = emulator.client("s3")
    s3.put_object(Bucket=bucket, Key="in1/a.csv", Body=csv_rows(built.X[:70]))
    s3.put_object(Bucket=bucket, Key="in1/more/b.csv", Body=csv_rows(built.X[70:]))
    job = run_job(
        emulator,
        model,
        f"s3://{bucket}/in1/",
        f"s3://{bucket}/out1",
        BatchStrategy="MultiRecord",
        TransformOutput={"AssembleWith": "Line", "Accept": "text/csv"},
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert job["TransformStartTime"] <= job["TransformEndTime"]
    # AWS's defaults, as DescribeTransformJob shows them
    assert (job["MaxPayloadInMB"], job["MaxConcurrentTransforms"]) == (6, 1)
    assert job["TransformInput"]["CompressionType"] == "None"
    assert job["DataProcessing"] == {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None"}
    served = np.concatenate(
        [
            scores(read(emulator, bucket, "out1/a.csv.out")),
            scores(read(emulator, bucket, "out1/more/b.csv.out")),
        ]
    )
    np.testing.assert_allclose(served, built.expected, rtol=1e-6)
    listed = emulator.client("sagemaker").list_transform_jobs(NameContains=job["TransformJobName"])
    assert [j["TransformJobStatus"] for j in listed["TransformJobSummaries"]] == ["Completed"]
    streams = emulator.client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TransformJobs", logStreamNamePrefix=job["TransformJobName"]
    )["logStreams"]
    assert any(s["logStreamName"].endswith("/data-log") for s in streams)


def test_single_record_concurrent_and_gzip(emulator, setup):
    bucket, model, built = setup
    emulator.client("s3").put_object(
        Bucket=bucket, Key="in2/rows.csv.gz", Body=gzip.compress(csv_rows(built.X))
    )
    job = run_job(
        emulator,
        model,
        f"s3://{bucket}/in2/",
        f"s3://{bucket}/out2/",
        BatchStrategy="SingleRecord",
        MaxConcurrentTransforms=4,
        TransformInput={"CompressionType": "Gzip"},
        TransformOutput={"AssembleWith": "Line"},
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    served = scores(read(emulator, bucket, "out2/rows.csv.gz.out"))
    np.testing.assert_allclose(served, built.expected, rtol=1e-6)


def test_join_source_input_with_an_input_filter_keeps_the_id_column(emulator, setup):
    bucket, model, built = setup
    ids = [f"id-{i}" for i in range(len(built.X))]
    emulator.client("s3").put_object(Bucket=bucket, Key="in3/ids.csv", Body=csv_rows(built.X, ids))
    job = run_job(
        emulator,
        model,
        f"s3://{bucket}/in3/ids.csv",
        f"s3://{bucket}/out3",
        TransformOutput={"AssembleWith": "Line", "Accept": "text/csv"},
        DataProcessing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
    )
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    rows = list(csv.reader(io.StringIO(read(emulator, bucket, "out3/ids.csv.out"))))
    assert [r[0] for r in rows] == ids
    np.testing.assert_allclose([float(r[1]) for r in rows], built.expected, rtol=1e-6)


def test_a_record_above_max_payload_fails_the_job_naming_the_object(emulator, setup):
    bucket, model, built = setup
    big = csv_rows(built.X[:2]) + b"1," * (600 * 1024) + b"1\n"
    emulator.client("s3").put_object(Bucket=bucket, Key="in4/big.csv", Body=big)
    job = run_job(emulator, model, f"s3://{bucket}/in4/", f"s3://{bucket}/out4", MaxPayloadInMB=1)
    assert job["TransformJobStatus"] == "Failed"
    assert f"{bucket}/in4/big.csv" in job["FailureReason"]
    assert "Too much data for max payload size" in job["FailureReason"]
    listed = emulator.client("s3").list_objects_v2(Bucket=bucket, Prefix="out4/")
    assert listed["KeyCount"] == 0


def test_a_missing_model_is_refused(emulator, setup):
    bucket, _, _ = setup
    with pytest.raises(ClientError) as caught:
        emulator.client("sagemaker").create_transform_job(
            TransformJobName=unique("job"),
            ModelName="no-such-model",
            TransformInput={
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/in1/"}
                }
            },
            TransformOutput={"S3OutputPath": f"s3://{bucket}/out5"},
            TransformResources=RESOURCES,
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find model" in caught.value.response["Error"]["Message"]


def test_stop_transform_job_stops_a_running_job(emulator, setup):
    bucket, model, built = setup
    many = np.tile(built.X, (200, 1))  # 24,000 rows, one request each: seconds of work
    emulator.client("s3").put_object(Bucket=bucket, Key="in6/many.csv", Body=csv_rows(many))
    sm = emulator.client("sagemaker")
    name = unique("job")
    sm.create_transform_job(
        TransformJobName=name,
        ModelName=model,
        BatchStrategy="SingleRecord",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/in6/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{bucket}/out6"},
        TransformResources=RESOURCES,
    )
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "InProgress"
    sm.stop_transform_job(TransformJobName=name)
    assert sm.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    job = wait_for(
        "the job stopped",
        lambda: (
            (d := sm.describe_transform_job(TransformJobName=name))["TransformJobStatus"]
            == "Stopped"
            and d
        ),
        timeout_s=10,
        poll_s=0.05,
    )
    assert "TransformEndTime" in job
    assert emulator.client("s3").list_objects_v2(Bucket=bucket, Prefix="out6/")["KeyCount"] == 0
    with pytest.raises(ClientError) as caught:
        sm.stop_transform_job(TransformJobName=unique("no-such-job"))
    assert "Could not find transform job" in caught.value.response["Error"]["Message"]

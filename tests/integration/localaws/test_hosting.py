"""Local SageMaker hosting through an unmodified boto3 sagemaker-runtime client."""

from __future__ import annotations

import json
import urllib.request
import uuid

import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError

from serving.artifact import load_booster
from tests.helpers.aws import make_endpoint
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample" / "sample.csv"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def model_url(emulator, trained_model) -> str:
    bucket = unique("models")
    emulator.client("s3").create_bucket(Bucket=bucket)
    emulator.client("s3").upload_file(str(trained_model.model_path), bucket, "m/model.tar.gz")
    return f"s3://{bucket}/m/model.tar.gz"


@pytest.fixture(scope="module")
def capture_bucket(emulator) -> str:
    bucket = unique("captures")
    emulator.client("s3").create_bucket(Bucket=bucket)
    return bucket


def flush(emulator) -> int:
    with urllib.request.urlopen(
        urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    ) as response:
        return json.loads(response.read())["captureRecordsWritten"]


def captured(emulator, bucket: str, endpoint: str) -> dict[str, list[dict]]:
    """Capture records per variant, read back from S3."""
    s3 = emulator.client("s3")
    records: dict[str, list[dict]] = {}
    listing = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"captures/{endpoint}/"
    )
    for page in listing:
        for obj in page.get("Contents", []):
            variant = obj["Key"].split("/")[2]
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            records.setdefault(variant, []).extend(json.loads(line) for line in body.splitlines())
    return records


@pytest.fixture
def runtime(emulator):
    return emulator.client("sagemaker-runtime")


def test_predictions_equal_in_process_predictions(emulator, runtime, model_url, trained_model):
    endpoint = make_endpoint(emulator, model_url, {"only": 1})
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=SAMPLE.read_bytes()
    )
    assert response["InvokedProductionVariant"] == "only"
    assert response["ContentType"] == "text/csv"
    served = np.array([float(x) for x in response["Body"].read().decode().split()])
    expected = load_booster(trained_model.model_path).predict(
        xgb.DMatrix(np.loadtxt(SAMPLE, delimiter=",", ndmin=2))
    )
    np.testing.assert_allclose(served, expected, rtol=1e-6)

    as_json = runtime.invoke_endpoint(
        EndpointName=endpoint,
        ContentType="text/csv",
        Accept="application/json",
        Body=SAMPLE.read_bytes(),
    )
    scores = [p["score"] for p in json.loads(as_json["Body"].read())["predictions"]]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_weighted_routing_follows_live_weights(emulator, runtime, model_url):
    endpoint = make_endpoint(emulator, model_url, {"a": 9, "b": 1})
    row = SAMPLE.read_bytes().splitlines()[0]
    counts = {"a": 0, "b": 0}
    for _ in range(400):
        response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=row)
        counts[response["InvokedProductionVariant"]] += 1
    # Binomial(400, 0.1): mean 40, sd 6; 5 sd either side fails about once in 3.5 million runs,
    # and excludes an even split (200) or all to one variant.
    assert 10 <= counts["b"] <= 70, counts

    emulator.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "a", "DesiredWeight": 0},
            {"VariantName": "b", "DesiredWeight": 1},
        ],
    )
    served = {
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=row)[
            "InvokedProductionVariant"
        ]
        for _ in range(50)
    }
    assert served == {"b"}, "a weight change takes effect without a restart"


def test_target_variant_overrides_weights(emulator, runtime, model_url):
    endpoint = make_endpoint(emulator, model_url, {"a": 1, "b": 0})
    row = SAMPLE.read_bytes().splitlines()[0]
    for _ in range(20):
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Body=row, TargetVariant="b"
        )
        assert response["InvokedProductionVariant"] == "b"


def test_unknown_endpoint_and_variant_are_validation_errors(emulator, runtime, model_url):
    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(EndpointName="missing", ContentType="text/csv", Body=b"1")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    endpoint = make_endpoint(emulator, model_url, {"a": 1})
    with pytest.raises(ClientError) as err:
        runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="text/csv",
            Body=SAMPLE.read_bytes(),
            TargetVariant="nope",
        )
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_bad_payload_is_a_model_error_naming_the_line(emulator, runtime, model_url):
    endpoint = make_endpoint(emulator, model_url, {"a": 1})
    rows = SAMPLE.read_bytes().splitlines()
    body = rows[0] + b"\n" + rows[1].replace(b",", b",oops,", 1) + b"\n"
    with pytest.raises(runtime.exceptions.ModelError) as err:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
    error = err.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400
    assert "line 2" in error["OriginalMessage"]


def test_captures_every_request_in_sagemakers_format(emulator, runtime, model_url, capture_bucket):
    endpoint = make_endpoint(emulator, model_url, {"a": 1, "b": 1}, capture_bucket)
    rows = SAMPLE.read_bytes().splitlines()
    answers = {}
    for i in range(40):
        body = rows[i % len(rows)] + b"\n"
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Body=body, InferenceId=f"req-{i}"
        )
        answers[f"req-{i}"] = (body.decode(), response["Body"].read().decode())
    flush(emulator)

    records = captured(emulator, capture_bucket, endpoint)
    assert sum(len(r) for r in records.values()) == 40
    assert set(records) <= {"a", "b"}
    for record in (r for rs in records.values() for r in rs):
        assert record["eventVersion"] == "0"
        metadata = record["eventMetadata"]
        assert set(metadata) == {"eventId", "inferenceId", "inferenceTime"}
        sent, answered = answers[metadata["inferenceId"]]
        assert record["captureData"]["endpointInput"] == {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "data": sent,
            "encoding": "CSV",
        }
        assert record["captureData"]["endpointOutput"] == {
            "observedContentType": "text/csv",
            "mode": "OUTPUT",
            "data": answered,
            "encoding": "CSV",
        }
    keys = emulator.client("s3").list_objects_v2(
        Bucket=capture_bucket, Prefix=f"captures/{endpoint}/"
    )["Contents"]
    parts = keys[0]["Key"].split("/")
    assert len(parts) == 8 and parts[-1].endswith(".jsonl")  # captures/ep/variant/yyyy/mm/dd/hh/f
    assert len(parts[3]) == 4 and len(parts[4]) == len(parts[5]) == len(parts[6]) == 2


def test_sampling_and_capture_modes_are_honoured(emulator, runtime, model_url, capture_bucket):
    endpoint = make_endpoint(
        emulator, model_url, {"a": 1}, capture_bucket, sampling=50, modes=("Input",)
    )
    row = SAMPLE.read_bytes().splitlines()[0]
    for _ in range(400):
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=row)
    flush(emulator)
    records = captured(emulator, capture_bucket, endpoint)["a"]
    # Binomial(400, 0.5): mean 200, sd 10; 5 sd either side.
    assert 150 <= len(records) <= 250
    assert all(set(r["captureData"]) == {"endpointInput"} for r in records)


def test_uncaptured_content_types_are_base64(emulator, runtime, model_url, capture_bucket):
    endpoint = make_endpoint(emulator, model_url, {"a": 1}, capture_bucket)
    row = json.dumps([float(x) for x in SAMPLE.read_text().splitlines()[0].split(",")])
    response = runtime.invoke_endpoint(
        EndpointName=endpoint,
        ContentType="application/jsonlines",
        Accept="application/jsonlines",
        Body=row.encode(),
    )
    assert response["ContentType"] == "application/jsonlines"
    flush(emulator)
    (record,) = captured(emulator, capture_bucket, endpoint)["a"]
    captured_input = record["captureData"]["endpointInput"]
    assert captured_input["encoding"] == "BASE64"
    import base64

    assert base64.b64decode(captured_input["data"]).decode() == row


def test_per_variant_metrics_reach_cloudwatch(emulator, runtime, model_url):
    endpoint = make_endpoint(emulator, model_url, {"a": 1})
    row = SAMPLE.read_bytes().splitlines()[0]
    for _ in range(7):
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=row)
    with pytest.raises(runtime.exceptions.ModelError):
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2\n")
    flush(emulator)

    cloudwatch = emulator.client("cloudwatch")
    from datetime import UTC, datetime, timedelta

    def total(metric: str, statistic: str = "Sum") -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=metric,
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": "a"},
            ],
            StartTime=datetime.now(UTC) - timedelta(minutes=10),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=60,
            Statistics=[statistic],
        )["Datapoints"]
        return sum(p[statistic] for p in points)

    assert total("Invocations") == 8
    assert total("Invocation4XXErrors") == 1
    assert total("Invocation5XXErrors") == 0
    assert total("ModelLatency", "SampleCount") == 7


def test_update_endpoint_serves_the_new_configs_model(emulator, runtime, model_url, tmp_path):
    endpoint = make_endpoint(emulator, model_url, {"a": 1})
    rows = np.loadtxt(SAMPLE, delimiter=",", ndmin=2)
    before = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=SAMPLE.read_bytes()
    )["Body"].read()

    # A second model version: a small booster trained on other labels scores differently.
    rng = np.random.default_rng(1)
    features = rng.normal(size=(500, 30))
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 2},
        xgb.DMatrix(features, label=(features[:, 0] > 0).astype(int)),
        5,
    )
    from serving.artifact import sagemaker_model_json, write_tarball

    write_tarball(sagemaker_model_json(booster), tmp_path / "model.tar.gz")
    bucket = model_url.removeprefix("s3://").split("/")[0]
    emulator.client("s3").upload_file(str(tmp_path / "model.tar.gz"), bucket, "v2/model.tar.gz")
    new_endpoint_config_source = make_endpoint(emulator, f"s3://{bucket}/v2/model.tar.gz", {"a": 1})
    sm = emulator.client("sagemaker")
    new_config = sm.describe_endpoint(EndpointName=new_endpoint_config_source)["EndpointConfigName"]
    sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=new_config)

    after = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=SAMPLE.read_bytes()
    )["Body"].read()
    assert after != before
    np.testing.assert_allclose(
        [float(x) for x in after.split()], booster.predict(xgb.DMatrix(rows)), rtol=1e-6
    )


def test_closing_the_hosting_flushes_what_it_buffered(emulator, model_url, capture_bucket):
    """What the emulator does at shutdown: buffered captures are written before it stops."""
    from localaws.hosting import Hosting, create_app

    endpoint = make_endpoint(emulator, model_url, {"a": 1}, capture_bucket)
    hosting = Hosting(emulator.url, flush_interval_s=3600)  # only close() can write them
    client = create_app(hosting).test_client()
    for _ in range(5):
        answer = client.post(
            f"/endpoints/{endpoint}/invocations", data=SAMPLE.read_bytes(), content_type="text/csv"
        )
        assert answer.status_code == 200
    assert captured(emulator, capture_bucket, endpoint) == {}
    hosting.close()
    assert sum(len(r) for r in captured(emulator, capture_bucket, endpoint).values()) == 5

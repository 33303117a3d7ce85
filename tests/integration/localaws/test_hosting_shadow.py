"""Shadow variants in the local hosting, through boto3: every request (or the shadow's share) is
mirrored to the shadow off the request's path, its answers go to its own captures and metrics,
and only the production answer is returned."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from localaws.hosting.shadow import DROPPED_METRIC, ShadowMirror, sampling_share
from serving.inference import Options, invoke, load_model
from tests.helpers import models
from tests.helpers.aws import SAGEMAKER_ROLE, unique

pytestmark = pytest.mark.integration


# -- helpers the operators' shadow tests share --------------------------------------------------
def csv_body(X: np.ndarray) -> bytes:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in X).encode()


def in_process(built: models.BuiltModel, body: bytes) -> np.ndarray:
    """What serving's inference core answers for the body, in this process."""
    answer = invoke(load_model(built.model_dir), body, "text/csv", None, Options())
    return np.array([float(v) for v in answer.body.decode().split()])


def upload(emulator, built: models.BuiltModel, tmp_path: Path, bucket: str, name: str) -> str:
    """The model as s3://bucket/models/<name>/model.tar.gz (models/: where pickles may load)."""
    tarball = built.tarball(tmp_path / f"{name}.tar.gz")
    emulator.client("s3").upload_file(str(tarball), bucket, f"models/{name}/model.tar.gz")
    return f"s3://{bucket}/models/{name}/model.tar.gz"


def create_model(emulator, url: str, environment: dict[str, str] | None = None) -> str:
    name = unique("model")
    container = {"Image": "byo/serving:1", "ModelDataUrl": url}
    if environment:
        container["Environment"] = environment
    emulator.client("sagemaker").create_model(
        ModelName=name, ExecutionRoleArn=SAGEMAKER_ROLE, PrimaryContainer=container
    )
    return name


def shadow_endpoint(
    emulator,
    production_model: str,
    shadow_model: str,
    capture_bucket: str,
    shadow_weight: float = 1.0,
) -> str:
    """An endpoint: variant `production` serves production_model, `shadow` shadows it; data
    capture of inputs and outputs to s3://capture_bucket/captures."""
    sm = emulator.client("sagemaker")

    def variant(name: str, model: str, weight: float) -> dict:
        return {
            "VariantName": name,
            "ModelName": model,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": weight,
        }

    config = unique("shadow-config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[variant("production", production_model, 1.0)],
        ShadowProductionVariants=[variant("shadow", shadow_model, shadow_weight)],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{capture_bucket}/captures",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        },
    )
    endpoint = unique("shadowed")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint


def flush(emulator) -> None:
    urllib.request.urlopen(
        urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    ).close()


def captured(emulator, bucket: str, endpoint: str) -> dict[str, list[dict]]:
    """Capture records per variant, read back from S3."""
    s3 = emulator.client("s3")
    records: dict[str, list[dict]] = {}
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"captures/{endpoint}/"
    )
    for page in pages:
        for obj in page.get("Contents", []):
            variant = obj["Key"].split("/")[2]
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            records.setdefault(variant, []).extend(json.loads(line) for line in body.splitlines())
    return records


def wait_for_captures(
    emulator, bucket: str, endpoint: str, counts: dict[str, int], timeout_s: float = 15
) -> dict[str, list[dict]]:
    """Flush until each variant has its count of capture records (the shadow's come later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        flush(emulator)
        records = captured(emulator, bucket, endpoint)
        have = {v: len(records.get(v, [])) for v in counts}
        if all(have[v] >= n for v, n in counts.items()) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def metric_sum(emulator, endpoint: str, variant: str, metric: str) -> float:
    now = datetime.now(UTC)
    points = emulator.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


def output_scores(record: dict) -> list[float]:
    return [float(v) for v in record["captureData"]["endpointOutput"]["data"].split()]


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bucket(emulator) -> str:
    name = unique("shadow")
    emulator.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, models.BuiltModel]:
    """Two real, different binary classifiers and a model whose every answer is a 500."""
    tmp = tmp_path_factory.mktemp("shadow-models")
    return {
        "xgboost": models.xgboost_model(tmp),
        "logistic": models.sklearn_model(tmp, "classifier"),
        "failing": models.sklearn_model(tmp, "transformer"),
    }


@pytest.fixture(scope="module")
def model_names(emulator, built, bucket, tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("shadow-tarballs")
    urls = {name: upload(emulator, b, tmp, bucket, name) for name, b in built.items()}
    # A transformer asked for selectable outputs cannot give them: ModelFailure (500) each time.
    failing_env = {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label"}
    return {
        "xgboost": create_model(emulator, urls["xgboost"]),
        "logistic": create_model(emulator, urls["logistic"]),
        "failing": create_model(emulator, urls["failing"], failing_env),
    }


# -- tests --------------------------------------------------------------------------------------
def test_shadow_answers_go_to_its_own_captures_and_metrics(emulator, built, model_names, bucket):
    endpoint = shadow_endpoint(emulator, model_names["xgboost"], model_names["logistic"], bucket)
    runtime = emulator.client("sagemaker-runtime")
    X = built["logistic"].X
    requests = [csv_body(X[i : i + 4]) for i in range(0, 24, 4)]
    for i, body in enumerate(requests):
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Body=body, InferenceId=f"req-{i}"
        )
        assert response["InvokedProductionVariant"] == "production"
        served = np.array([float(v) for v in response["Body"].read().decode().split()])
        np.testing.assert_allclose(served, in_process(built["xgboost"], body), rtol=1e-6)

    records = wait_for_captures(emulator, bucket, endpoint, {"production": 6, "shadow": 6})
    assert {v: len(r) for v, r in records.items()} == {"production": 6, "shadow": 6}
    shadow = {r["eventMetadata"]["inferenceId"]: r for r in records["shadow"]}
    production = {r["eventMetadata"]["inferenceId"]: r for r in records["production"]}
    assert set(shadow) == set(production) == {f"req-{i}" for i in range(6)}
    for i, body in enumerate(requests):
        record = shadow[f"req-{i}"]
        assert record["captureData"]["endpointInput"]["data"] == body.decode()
        np.testing.assert_allclose(
            output_scores(record), in_process(built["logistic"], body), rtol=1e-6
        )
        np.testing.assert_allclose(
            output_scores(production[f"req-{i}"]), in_process(built["xgboost"], body), rtol=1e-6
        )
    assert metric_sum(emulator, endpoint, "shadow", "Invocations") == 6
    assert metric_sum(emulator, endpoint, "production", "Invocations") == 6


def test_a_failing_shadow_never_reaches_the_client(emulator, built, model_names, bucket):
    endpoint = shadow_endpoint(emulator, model_names["xgboost"], model_names["failing"], bucket)
    runtime = emulator.client("sagemaker-runtime")
    body = csv_body(built["logistic"].X[:5])
    for _ in range(4):
        response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        served = np.array([float(v) for v in response["Body"].read().decode().split()])
        np.testing.assert_allclose(served, in_process(built["xgboost"], body), rtol=1e-6)
    deadline = time.monotonic() + 15
    while metric_sum(emulator, endpoint, "shadow", "Invocation5XXErrors") < 4:
        assert time.monotonic() < deadline, "the shadow's 500s were never published"
        flush(emulator)
        time.sleep(0.2)
    records = wait_for_captures(emulator, bucket, endpoint, {"production": 4})
    assert set(records) == {"production"}  # a failed shadow request has no answer to capture


def test_the_shadow_weight_sets_its_share_of_requests(emulator, built, model_names, bucket):
    endpoint = shadow_endpoint(
        emulator, model_names["xgboost"], model_names["logistic"], bucket, shadow_weight=0.25
    )
    runtime = emulator.client("sagemaker-runtime")
    body = csv_body(built["logistic"].X[:1])
    for _ in range(80):
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
    wait_for_captures(emulator, bucket, endpoint, {"production": 80})
    time.sleep(0.3)  # the last mirrored requests finish
    flush(emulator)
    records = captured(emulator, bucket, endpoint)
    assert len(records["production"]) == 80
    mirrored = len(records.get("shadow", []))
    assert 5 <= mirrored <= 40, mirrored  # binomial(80, 0.25): 20 expected, outside is < 1e-4


def test_sampling_share_is_the_shadow_weight_over_production():
    assert sampling_share({"CurrentWeight": 1.0}, {"CurrentWeight": 1.0}) == 1.0
    assert sampling_share({"CurrentWeight": 2.0}, {"CurrentWeight": 0.5}) == 0.25
    assert sampling_share({"CurrentWeight": 1.0}, {"CurrentWeight": 3.0}) == 1.0
    assert sampling_share({"VariantName": "p"}, {"VariantName": "s"}) == 1.0  # AWS default 1.0
    assert sampling_share({"CurrentWeight": 1.0}, {"CurrentWeight": 0.0}) == 0.0


class _BlockedHosting:
    """A hosting whose shadow requests wait until released: the mirror's queue fills."""

    def __init__(self) -> None:
        self.rng = random.Random(0)
        self.release = threading.Event()
        self.observed: list[tuple] = []
        self.metrics = self
        self.invoked = 0

    def observe(self, *sample) -> None:
        self.observed.append(sample)

    def invoke_variant(self, *args) -> None:
        self.release.wait(5)
        self.invoked += 1


def test_a_full_mirror_queue_drops_without_blocking():
    from localaws.hosting.models import EndpointConfig

    hosting = _BlockedHosting()
    mirror = ShadowMirror(hosting, workers=1, queue_size=3)
    config = EndpointConfig(
        models={"p": "m"}, capture=None, shadow_variants={"s": {"ModelName": "shadow-model"}}
    )
    described = {
        "ProductionVariants": [{"VariantName": "p", "CurrentWeight": 1.0}],
        "ShadowProductionVariants": [{"VariantName": "s", "CurrentWeight": 1.0}],
    }
    started = time.perf_counter()
    for _ in range(10):
        mirror.mirror("e", described, config, b"1,2", {"Content-Type": "text/csv"})
    assert time.perf_counter() - started < 0.5  # never waited for the blocked shadow
    assert mirror.dropped == 7
    assert hosting.observed == [("e", "s", DROPPED_METRIC, 1, "Count")] * 7
    hosting.release.set()
    mirror.close()
    assert hosting.invoked == 3 and mirror.mirrored == 3

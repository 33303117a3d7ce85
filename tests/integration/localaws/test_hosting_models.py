"""Bring your own model through the local hosting: every framework, every content type, the
selectable outputs, serial inference pipelines and the artifacts that cannot load — all through
an unmodified boto3 sagemaker-runtime client, compared with each framework's own predictions."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
import tarfile
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import joblib
import numpy as np
import pytest
import xgboost as xgb
from sklearn.preprocessing import StandardScaler

from localaws.hosting import Hosting
from serving.artifact import MODEL_FILE
from serving.codecs import decode, decode_recordio_labels, encode_recordio_features
from tests.helpers import models
from tests.helpers.aws import SAGEMAKER_ROLE
from tests.helpers.fake_engine import FakeEngine, process_running

pytestmark = pytest.mark.integration

KINDS = {
    "xgboost-binary": lambda tmp: models.xgboost_model(tmp, objective="binary:logistic"),
    "xgboost-softprob-ubj": lambda tmp: models.xgboost_model(
        tmp, objective="multi:softprob", fmt="ubj"
    ),
    "xgboost-softmax": lambda tmp: models.xgboost_model(tmp, objective="multi:softmax"),
    "xgboost-regression": lambda tmp: models.xgboost_model(tmp, objective="reg:squarederror"),
    "xgboost-ranking": lambda tmp: models.xgboost_model(tmp, objective="rank:pairwise"),
    "xgboost-count": lambda tmp: models.xgboost_model(tmp, objective="count:poisson"),
    "sklearn-classifier": lambda tmp: models.sklearn_model(tmp, kind="classifier"),
    "sklearn-iris-tree": lambda tmp: models.sklearn_model(tmp, kind="multiclass"),
    "sklearn-named-pipeline": lambda tmp: models.sklearn_model(tmp, kind="pipeline"),
    "sklearn-regressor": lambda tmp: models.sklearn_model(tmp, kind="regressor"),
    "sklearn-transformer": lambda tmp: models.sklearn_model(tmp, kind="transformer"),
    "lightgbm-binary": lambda tmp: models.lightgbm_model(tmp, objective="binary"),
    "lightgbm-multiclass": lambda tmp: models.lightgbm_model(tmp, objective="multiclass"),
    "onnx-classifier": lambda tmp: models.onnx_model(tmp, kind="classifier"),
    "onnx-regressor": lambda tmp: models.onnx_model(tmp, kind="regressor"),
}
CLASSIFIERS = ("binary:logistic", "multi:softprob")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def bucket(emulator) -> str:
    name = unique("byo-models")
    emulator.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def runtime(emulator):
    return emulator.client("sagemaker-runtime")


def upload(emulator, bucket: str, model_dir: Path, key: str) -> str:
    tarball = models.write_tarball(model_dir, model_dir.parent / f"{uuid.uuid4().hex}.tar.gz")
    emulator.client("s3").upload_file(str(tarball), bucket, key)
    return f"s3://{bucket}/{key}"


def upload_bytes(emulator, bucket: str, members: dict[str, bytes], key: str) -> str:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    emulator.client("s3").put_object(Bucket=bucket, Key=key, Body=raw.getvalue())
    return f"s3://{bucket}/{key}"


def flush(emulator) -> None:
    request = urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    with urllib.request.urlopen(request) as response:
        response.read()


def capture_records(emulator, bucket: str, endpoint: str) -> list[dict]:
    flush(emulator)
    s3 = emulator.client("s3")
    records = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=f"captures/{endpoint}/").get(
        "Contents", []
    ):
        text = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        records.extend(json.loads(line) for line in text.splitlines())
    return records


def endpoint_of(emulator, containers: list[dict], mode: str | None = None, capture=None) -> str:
    """One endpoint, one variant "v", whose model holds these containers."""
    sm = emulator.client("sagemaker")
    model = unique("model")
    if len(containers) == 1 and mode is None:
        sm.create_model(
            ModelName=model, ExecutionRoleArn=SAGEMAKER_ROLE, PrimaryContainer=containers[0]
        )
    else:
        sm.create_model(
            ModelName=model,
            ExecutionRoleArn=SAGEMAKER_ROLE,
            Containers=containers,
            InferenceExecutionConfig={"Mode": mode or "Serial"},
        )
    config = unique("config")
    extra = {}
    if capture:
        extra["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{capture}/captures",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "v",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1,
            }
        ],
        **extra,
    )
    endpoint = unique("endpoint")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint


def csv_body(X: np.ndarray) -> bytes:
    lines = (",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n" for r in X)
    return "".join(lines).encode()


def libsvm_body(X: np.ndarray) -> bytes:
    return "".join(
        "0 " + " ".join(f"{i}:{float(v)!r}" for i, v in enumerate(r) if not np.isnan(v)) + "\n"
        for r in X
    ).encode()


def requests_of(X: np.ndarray) -> dict[str, bytes]:
    def value(v: float) -> float | None:
        return None if np.isnan(v) else float(v)

    rows = [[value(v) for v in r] for r in X]
    return {
        "text/csv": csv_body(X),
        "application/json": json.dumps({"instances": [{"features": r} for r in rows]}).encode(),
        "application/jsonlines": "".join(json.dumps({"features": r}) + "\n" for r in rows).encode(),
        "application/x-recordio-protobuf": encode_recordio_features(X),
    }


def scores(body: bytes, accept: str, transform: bool) -> np.ndarray:
    if accept == "text/csv":
        return np.array([[float(v) for v in line.split(",")] for line in body.decode().split()])
    if accept == "application/json":
        document = json.loads(body)
        if transform:
            return np.array([i["features"] for i in document["instances"]])
        return np.array([p["score"] for p in document["predictions"]])
    if accept == "application/jsonlines":
        key = "features" if transform else "score"
        return np.array([json.loads(line)[key] for line in body.decode().splitlines()])
    if transform:  # a transformer answers features: the next container's request
        return decode(body, accept, None)
    return np.array([r["score"] for r in decode_recordio_labels(body)])


def close(served: np.ndarray, built: models.BuiltModel, float32: bool = False) -> None:
    # ONNX computes in float32 and recordio-protobuf answers float32 tensors (as the container
    # does); everything else answers its framework's values exactly.
    onnx = "onnx" in str(built.model_dir)
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if onnx or float32 else {"rtol": 1e-12}
    np.testing.assert_allclose(served.reshape(built.expected.shape), built.expected, **tolerance)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_framework_in_every_content_type_equals_its_own_predictions(
    emulator, runtime, bucket, tmp_path, kind
):
    built = KINDS[kind](tmp_path)
    url = upload(emulator, bucket, built.model_dir, f"models/{kind}/model.tar.gz")
    endpoint = endpoint_of(emulator, [{"Image": "byo/serving:1", "ModelDataUrl": url}])
    transform = built.objective == "transform"
    for content_type, body in requests_of(built.X).items():
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType=content_type, Accept=content_type, Body=body
        )
        served = scores(response["Body"].read(), content_type, transform)
        close(np.asarray(served, dtype=float), built, float32="recordio" in content_type)
    complete = ~np.isnan(built.X).any(axis=1)  # libsvm: absent is missing for XGBoost only
    response = runtime.invoke_endpoint(
        EndpointName=endpoint,
        ContentType="text/libsvm",
        Accept="application/json",
        Body=libsvm_body(built.X[complete]),
    )
    served = scores(response["Body"].read(), "application/json", transform)
    close(served, dataclasses.replace(built, expected=built.expected[complete]))


@pytest.mark.parametrize("kind", [k for k in KINDS if "transformer" not in k])
def test_selectable_outputs_from_the_container_environment(
    emulator, runtime, bucket, tmp_path, kind
):
    built = KINDS[kind](tmp_path)
    url = upload(emulator, bucket, built.model_dir, f"models/{kind}/model.tar.gz")
    keys = "predicted_label, probability,probabilities,labels,predicted_score"
    endpoint = endpoint_of(
        emulator,
        [
            {
                "Image": "byo/serving:1",
                "ModelDataUrl": url,
                "Environment": {
                    "SAGEMAKER_INFERENCE_OUTPUT": keys,
                    "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/jsonlines",
                },
            }
        ],
    )
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=csv_body(built.X)
    )
    assert response["ContentType"] == "application/jsonlines"
    text = response["Body"].read().decode()
    rows = [json.loads(line.replace("NaN", "null")) for line in text.splitlines()]
    assert len(rows) == len(built.X)
    if built.objective in CLASSIFIERS:
        probabilities = np.array([r["probabilities"] for r in rows])
        binary = built.objective == "binary:logistic"
        close(probabilities[:, 1] if binary else probabilities, built)
        winners = (probabilities[:, 1] > 0.5) if binary else probabilities.argmax(axis=1)
        classes = built.classes or tuple(range(probabilities.shape[1]))
        assert [r["predicted_label"] for r in rows] == [classes[int(i)] for i in winners]
        assert all(r["labels"] == list(classes) for r in rows)
        # The container's "probability": P(class 1) for binary, the winner's for multi-class.
        pick = (lambda p: p[1]) if binary else max
        assert all(r["probability"] == pick(r["probabilities"]) for r in rows)
        assert all(r["predicted_score"] is None for r in rows)  # NaN: not a regression
    elif built.objective == "multi:softmax":
        assert [r["predicted_label"] for r in rows] == built.expected.tolist()
        assert all(r["probability"] is None for r in rows)
    else:
        close(np.array([r["predicted_score"] for r in rows]), built)
        assert all(r["predicted_label"] is None for r in rows)


def test_a_serial_pipeline_chains_its_containers_and_captures_input_and_final_output(
    emulator, runtime, bucket, tmp_path
):
    """scikit-learn scaler → XGBoost, as the Model Monitor BYO seed deploys them."""
    X = models.rows(missing=False)
    scaler = StandardScaler().fit(X)
    pre_dir, model_dir = tmp_path / "pre", tmp_path / "xgb"
    pre_dir.mkdir()
    model_dir.mkdir()
    joblib.dump(scaler, pre_dir / "model.joblib")
    booster = models.train_booster("binary:logistic", scaler.transform(X))
    booster.save_model(str(model_dir / "m.json"))
    (model_dir / "m.json").rename(model_dir / MODEL_FILE)
    expected = booster.predict(xgb.DMatrix(scaler.transform(X)))
    capture = unique("captures")
    emulator.client("s3").create_bucket(Bucket=capture)
    endpoint = endpoint_of(
        emulator,
        [
            {
                "Image": "sklearn:1",
                "ModelDataUrl": upload(emulator, bucket, pre_dir, "models/pre/model.tar.gz"),
                "Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
            },
            {
                "Image": "xgb:1",
                "ModelDataUrl": upload(emulator, bucket, model_dir, "models/x.tar.gz"),
            },
        ],
        capture=capture,
    )
    body = csv_body(X)
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Accept="application/json", Body=body
    )
    assert response["ContentType"] == "application/json"
    served = [p["score"] for p in json.loads(response["Body"].read())["predictions"]]
    np.testing.assert_allclose(served, expected, rtol=1e-6)

    (record,) = capture_records(emulator, capture, endpoint)
    assert record["captureData"]["endpointInput"]["data"] == body.decode()
    output = record["captureData"]["endpointOutput"]
    assert output["observedContentType"] == "application/json"
    assert json.loads(output["data"])["predictions"][0]["score"] == served[0]
    # One request, one invocation: ModelLatency covers the whole chain, once.
    cloudwatch = emulator.client("cloudwatch")
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": "v"},
        ],
        StartTime=datetime.now(UTC) - timedelta(minutes=10),
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60,
        Statistics=["SampleCount", "Maximum"],
    )["Datapoints"]
    assert sum(p["SampleCount"] for p in points) == 1
    assert max(p["Maximum"] for p in points) > 0


def model_error(runtime, endpoint: str) -> dict:
    with pytest.raises(runtime.exceptions.ModelError) as caught:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1,2,3\n")
    return caught.value.response


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({}, "holds no files"),
        ({"notes.txt": b"hello"}, "notes.txt: not an XGBoost, scikit-learn"),
        ({"weights.bin": b"\x00\x01\x02"}, "weights.bin: not an XGBoost"),
    ],
    ids=["empty-tarball", "unknown-text", "unknown-binary"],
)
def test_bad_artifacts_fail_as_a_container_that_does_not_load(
    emulator, runtime, bucket, members, problem
):
    key = f"models/{unique('bad')}/model.tar.gz"
    url = upload_bytes(emulator, bucket, members, key)
    endpoint = endpoint_of(emulator, [{"Image": "byo/serving:1", "ModelDataUrl": url}])
    error = model_error(runtime, endpoint)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 500
    assert url in error["Error"]["Message"] and problem in error["Error"]["Message"]


def test_a_feature_count_that_disagrees_with_inference_json_names_both(
    emulator, runtime, bucket, tmp_path
):
    built = models.xgboost_model(tmp_path, objective="binary:logistic")
    models.inference_json(built.model_dir, features=built.num_features + 1)
    url = upload(emulator, bucket, built.model_dir, f"models/{unique('count')}/model.tar.gz")
    message = model_error(runtime, endpoint_of(emulator, [{"ModelDataUrl": url}]))["Error"]
    assert f"inference.json lists {built.num_features + 1} features" in message["Message"]


def test_a_scikit_learn_version_mismatch_is_refused_naming_both_versions(
    emulator, runtime, bucket, tmp_path
):
    built = models.sklearn_model(tmp_path, kind="classifier", saved_version="1.0.2")
    url = upload(emulator, bucket, built.model_dir, f"models/{unique('old')}/model.tar.gz")
    message = model_error(runtime, endpoint_of(emulator, [{"ModelDataUrl": url}]))["Error"]
    assert "saved with scikit-learn 1.0.2" in message["Message"]


def test_pickles_are_unpickled_only_from_the_model_location(emulator, runtime, bucket, tmp_path):
    built = models.sklearn_model(tmp_path, kind="classifier")
    url = upload(emulator, bucket, built.model_dir, f"uploads/{unique('any')}/model.tar.gz")
    message = model_error(runtime, endpoint_of(emulator, [{"ModelDataUrl": url}]))["Error"]
    assert (
        "unpickling runs only for artifacts from the configured model location"
        in (message["Message"])
    )
    assert (
        "s3://*/models/*" in message["Message"]
        and "LOCALAWS_PICKLE_LOCATIONS" in (message["Message"])
    )
    # The same model in XGBoost's own format (no pickle) loads from anywhere.
    xgb_model = models.xgboost_model(tmp_path, objective="binary:logistic")
    url = upload(emulator, bucket, xgb_model.model_dir, f"uploads/{unique('any')}/model.tar.gz")
    endpoint = endpoint_of(emulator, [{"ModelDataUrl": url}])
    response = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=csv_body(xgb_model.X)
    )
    close(np.array(response["Body"].read().split(), dtype=float), xgb_model)


def test_direct_mode_serves_the_container_the_request_names(emulator, runtime, bucket, tmp_path):
    first = models.xgboost_model(tmp_path, objective="binary:logistic")
    second = models.xgboost_model(tmp_path, objective="reg:squarederror")
    endpoint = endpoint_of(
        emulator,
        [
            {
                "ContainerHostname": "classify",
                "ModelDataUrl": upload(emulator, bucket, first.model_dir, "models/d1.tar.gz"),
            },
            {
                "ContainerHostname": "regress",
                "ModelDataUrl": upload(emulator, bucket, second.model_dir, "models/d2.tar.gz"),
            },
        ],
        mode="Direct",
    )
    response = runtime.invoke_endpoint(
        EndpointName=endpoint,
        ContentType="text/csv",
        TargetContainerHostname="regress",
        Body=csv_body(second.X),
    )
    close(np.array(response["Body"].read().split(), dtype=float), second)
    with pytest.raises(runtime.exceptions.ValidationError, match="TargetContainerHostname"):
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=b"1\n")


def test_with_an_engine_the_hosting_runs_each_container_image_and_stops_it_with_the_endpoint(
    emulator, bucket, tmp_path, monkeypatch
):
    """LOCALAWS_CONTAINERS=engine: the variant's own image serves (here the stand-in engine of
    tests/helpers/fake_engine.py runs the serving image's program, where no Docker daemon runs);
    a deleted endpoint's containers are stopped by the sweep, and close() leaves none."""
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/byo/serving:1"
    engine = FakeEngine.install(
        tmp_path / "bin",
        tmp_path / "engine",
        images={"byo/serving:1": [sys.executable, "-m", "serving.server"]},
    )
    monkeypatch.setenv("LOCALAWS_CONTAINERS", "engine")
    monkeypatch.setenv("LOCALAWS_CONTAINER_ENGINE", "docker")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    built = models.sklearn_model(tmp_path, kind="multiclass")
    url = upload(emulator, bucket, built.model_dir, f"models/{unique('engine')}/model.tar.gz")
    endpoint = endpoint_of(
        emulator,
        [
            {
                "Image": image,
                "ModelDataUrl": url,
                "Environment": {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label"},
            }
        ],
    )
    hosting = Hosting(emulator.url, cache_dir=tmp_path / "cache")
    try:
        assert hosting.endpoints.engine is not None
        body, _ = hosting.invoke(endpoint, csv_body(built.X), {"Content-Type": "text/csv"})
        assert [int(v) for v in body.decode().split()] == built.predict.tolist()
        (name,) = engine.containers()
        pid = engine.container(name)["pid"]
        assert process_running(pid)
        emulator.client("sagemaker").delete_endpoint(EndpointName=endpoint)
        assert hosting.sweep()  # the endpoint is gone: its model's container stops
        assert not process_running(pid)
    finally:
        hosting.close()
        engine.kill_all()
    assert engine.containers() == []

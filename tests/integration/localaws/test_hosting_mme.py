"""Multi-model endpoints in the local hosting, through boto3: TargetModel picks a model.tar.gz
under the container's prefix, models load on first use and are evicted least recently used,
errors and per-model metrics as SageMaker answers and publishes them."""

from __future__ import annotations

import os
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from botocore.exceptions import ClientError

from localaws.hosting.models import HostingError
from localaws.hosting.multimodel import MEMORY_VAR
from tests.helpers.aws import SAGEMAKER_ROLE, make_endpoint, unique
from tests.helpers.fake_engine import FakeEngine
from tests.helpers.models import sklearn_model, xgboost_model

pytestmark = pytest.mark.integration


def csv_body(X: np.ndarray) -> bytes:
    lines = (",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n" for r in X)
    return "".join(lines).encode()


def scores(body: bytes) -> np.ndarray:
    return np.array(body.decode().split(), dtype=float)


def mme_endpoint(emulator, prefix: str, **container) -> tuple[str, str]:
    """An endpoint whose one variant's model is a MultiModel container over `prefix`; returns
    the endpoint's and the model's names."""
    sm = emulator.client("sagemaker")
    model = unique("mme-model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={
            "Image": "xgb:1",
            "Mode": "MultiModel",
            "ModelDataUrl": prefix,
            **container,
        },
    )
    config = unique("mme-config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "v1",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    endpoint = unique("mme")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint, model


@pytest.fixture(scope="module")
def models(emulator, tmp_path_factory):
    """Two different real models (XGBoost, a pickled scikit-learn classifier) under one prefix
    in models/ (where the hosting may unpickle)."""
    tmp = tmp_path_factory.mktemp("mme")
    built = {"xgb.tar.gz": xgboost_model(tmp), "team-b/sklearn.tar.gz": sklearn_model(tmp)}
    bucket = unique("mme-models")
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    sizes = {}
    for target, model in built.items():
        tarball = model.tarball(tmp / target.replace("/", "-"))
        s3.upload_file(str(tarball), bucket, f"models/mme/{target}")
        sizes[target] = sum(p.stat().st_size for p in model.model_dir.rglob("*") if p.is_file())
    return {"built": built, "prefix": f"s3://{bucket}/models/mme/", "sizes": sizes}


def statistics(emulator, endpoint: str, metric: str) -> dict:
    now = datetime.now(UTC)
    points = emulator.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": "v1"},
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=7200,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
    )["Datapoints"]
    if not points:
        return {"SampleCount": 0.0, "Sum": 0.0}
    (point,) = points
    return point


def flush(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/localaws/flush", method="POST")).read()


def test_target_models_answer_as_in_process_with_their_load_metrics(emulator, models):
    endpoint, _ = mme_endpoint(emulator, models["prefix"])
    runtime = emulator.client("sagemaker-runtime")
    for _ in range(2):  # the second round is served from the cache
        for target, built in models["built"].items():
            response = runtime.invoke_endpoint(
                EndpointName=endpoint,
                TargetModel=target,
                ContentType="text/csv",
                Body=csv_body(built.X),
            )
            assert response["InvokedProductionVariant"] == "v1"
            served = scores(response["Body"].read())
            np.testing.assert_allclose(served, built.expected, rtol=1e-6)
    flush(emulator.runtime_url)
    hits = statistics(emulator, endpoint, "ModelCacheHit")
    assert (hits["SampleCount"], hits["Sum"]) == (4, 2)  # Average 0.5: half were loaded already
    for metric in ("ModelLoadingWaitTime", "ModelDownloadingTime", "ModelLoadingTime"):
        point = statistics(emulator, endpoint, metric)
        assert point["SampleCount"] == 2, metric  # one per first use
        assert point["Minimum"] > 0, metric
        assert point["Unit"] == "Microseconds"
    loaded = statistics(emulator, endpoint, "LoadedModelCount")
    assert (loaded["Minimum"], loaded["Maximum"]) == (1, 2)
    assert statistics(emulator, endpoint, "ModelUnloadingTime")["SampleCount"] == 0
    assert statistics(emulator, endpoint, "Invocations")["Sum"] == 4


def test_the_errors_sagemaker_answers(emulator, models):
    endpoint, _ = mme_endpoint(emulator, models["prefix"])
    runtime = emulator.client("sagemaker-runtime")
    body = csv_body(models["built"]["xgb.tar.gz"].X[:2])

    def error(**request) -> dict:
        with pytest.raises(ClientError) as caught:
            runtime.invoke_endpoint(ContentType="text/csv", Body=body, **request)
        return {
            "status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"],
            "code": caught.value.response["Error"]["Code"],
            "message": caught.value.response["Error"]["Message"],
        }

    bucket, _, key = models["prefix"].removeprefix("s3://").partition("/")
    missing = error(EndpointName=endpoint, TargetModel="absent.tar.gz")
    assert missing == {
        "status": 400,
        "code": "ValidationError",
        "message": f"Failed to download model data(bucket: {bucket}, key: {key}absent.tar.gz). "
        "Please ensure that there is an object located at the URL and that the role passed to "
        "CreateModel has permissions to download the model.",
    }
    no_target = error(EndpointName=endpoint)
    assert (no_target["status"], no_target["code"]) == (400, "ValidationError")
    assert "missing a target model header" in no_target["message"]
    bad_name = error(EndpointName=endpoint, TargetModel="tab\tinside.tar.gz")
    assert (bad_name["status"], bad_name["code"]) == (400, "ValidationError")
    assert r"regular expression pattern: \A\S[\p{Print}]*\z" in bad_name["message"]
    too_long = error(EndpointName=endpoint, TargetModel="m" * 1025)
    assert "length less than or equal to 1024" in too_long["message"]

    single = make_endpoint(emulator, f"{models['prefix']}xgb.tar.gz", {"v1": 1})
    not_mme = error(EndpointName=single, TargetModel="xgb.tar.gz")
    assert (not_mme["status"], not_mme["code"]) == (400, "ValidationError")
    assert (
        "is not a multi-model endpoint and does not support target model header"
        in (not_mme["message"])
    )
    # An object that is no model: the container's load fails (ModelError, its 500).
    s3 = emulator.client("s3")
    s3.put_object(Bucket=bucket, Key=f"{key}junk.tar.gz", Body=b"not a tarball")
    junk = error(EndpointName=endpoint, TargetModel="junk.tar.gz")
    assert (junk["status"], junk["code"]) == (424, "ModelError")
    assert "junk.tar.gz" in junk["message"]
    # After all of these the endpoint still answers.
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, TargetModel="xgb.tar.gz", ContentType="text/csv", Body=body
    )
    np.testing.assert_allclose(
        scores(answer["Body"].read()), models["built"]["xgb.tar.gz"].expected[:2], rtol=1e-6
    )


def test_lru_eviction_under_the_memory_budget(emulator, models, monkeypatch, tmp_path):
    """A budget that holds either model but not both: using one evicts the other, whose next
    request loads it again (ModelCacheHit 0 again, one ModelUnloadingTime per eviction)."""
    from localaws.hosting import Hosting

    sizes = models["sizes"].values()
    budget = max(sizes) + min(sizes) / 2
    monkeypatch.setenv(MEMORY_VAR, str(budget / 1024 / 1024))
    endpoint, model = mme_endpoint(emulator, models["prefix"])
    hosting = Hosting(emulator.url, cache_dir=tmp_path / "cache", flush_interval_s=3600)
    try:
        order = ["xgb.tar.gz", "xgb.tar.gz", "team-b/sklearn.tar.gz", "xgb.tar.gz"]
        for target in order:
            built = models["built"][target]
            body, _ = hosting.invoke(
                endpoint,
                csv_body(built.X),
                {"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Model": target},
            )
            np.testing.assert_allclose(scores(body), built.expected, rtol=1e-6)
        (stage,) = hosting.endpoints.model(model).stages
        assert stage.multimodel.loaded == ["xgb.tar.gz"]
        assert len(list((tmp_path / "cache").glob("mme-*"))) == 1  # evicted artifacts deleted
        hosting.flush()
    finally:
        hosting.close()
    hits = statistics(emulator, endpoint, "ModelCacheHit")
    assert (hits["SampleCount"], hits["Sum"]) == (4, 1)  # only the second request hit
    assert statistics(emulator, endpoint, "ModelUnloadingTime")["SampleCount"] == 2
    assert statistics(emulator, endpoint, "LoadedModelCount")["Maximum"] == 1


def test_model_cache_setting_disabled_loads_every_request(emulator, models):
    endpoint, _ = mme_endpoint(
        emulator, models["prefix"], MultiModelConfig={"ModelCacheSetting": "Disabled"}
    )
    runtime = emulator.client("sagemaker-runtime")
    built = models["built"]["xgb.tar.gz"]
    for _ in range(2):
        response = runtime.invoke_endpoint(
            EndpointName=endpoint,
            TargetModel="xgb.tar.gz",
            ContentType="text/csv",
            Body=csv_body(built.X[:3]),
        )
        np.testing.assert_allclose(scores(response["Body"].read()), built.expected[:3], rtol=1e-6)
    flush(emulator.runtime_url)
    hits = statistics(emulator, endpoint, "ModelCacheHit")
    assert (hits["SampleCount"], hits["Sum"]) == (2, 0)
    assert statistics(emulator, endpoint, "LoadedModelCount")["Maximum"] == 0


def test_with_a_container_engine_a_multi_model_container_fails_saying_so(
    emulator, models, monkeypatch, tmp_path
):
    """LOCALAWS_CONTAINERS=engine (the stand-in engine of tests/helpers/fake_engine.py): the
    hosting does not run multi-model images, and says so instead of serving something else."""
    from localaws.hosting import Hosting

    FakeEngine.install(
        tmp_path / "bin",
        tmp_path / "engine",
        images={"xgb:1": [sys.executable, "-m", "serving.server"]},
    )
    monkeypatch.setenv("LOCALAWS_CONTAINERS", "engine")
    monkeypatch.setenv("LOCALAWS_CONTAINER_ENGINE", "docker")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    endpoint, _ = mme_endpoint(emulator, models["prefix"])
    hosting = Hosting(emulator.url, cache_dir=tmp_path / "cache")
    try:
        assert hosting.endpoints.engine is not None
        with pytest.raises(HostingError) as caught:
            hosting.invoke(
                endpoint,
                b"1,2\n",
                {"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Model": "xgb.tar.gz"},
            )
    finally:
        hosting.close()
    assert (caught.value.status, caught.value.code) == (424, "ModelError")
    assert "not supported with a container engine (LOCALAWS_CONTAINERS=engine)" in str(caught.value)

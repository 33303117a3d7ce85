"""Gated traffic shifts: health read from the per-variant metrics the hosting publishes."""

from __future__ import annotations

import contextlib
import urllib.request
import uuid

import joblib
import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from operators.aws import Clients
from operators.errors import ByoError
from operators.traffic import Variant, live_variants, shift, step_weights
from tests.helpers import models
from tests.helpers.aws import SAGEMAKER_ROLE, make_endpoint
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

ROW = (REPO / "sample" / "sample.csv").read_bytes().splitlines()[0]


def test_step_weights_keep_the_others_proportions():
    current = [Variant("a", 9, 1), Variant("b", 1, 1), Variant("c", 0, 1)]
    assert step_weights(current, "b", 10) == {"b": 10.0, "a": 90.0, "c": 0.0}
    assert step_weights(current, "b", 100) == {"b": 100.0, "a": 0.0, "c": 0.0}


@pytest.fixture
def endpoint_with_a_failing_b(emulator, trained_model, tmp_path):
    """variant-a serves the real model; variant-b a scikit-learn transformer whose container
    asks for selectable outputs (SAGEMAKER_INFERENCE_OUTPUT), which it cannot give: 500."""
    bucket = f"shift-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "good/model.tar.gz")
    scaler_dir = tmp_path / "scaler"
    scaler_dir.mkdir()
    joblib.dump(
        StandardScaler().fit(np.random.default_rng(0).random((60, 30))),
        scaler_dir / "model.joblib",
    )
    models.write_tarball(scaler_dir, tmp_path / "model.tar.gz")
    s3.upload_file(str(tmp_path / "model.tar.gz"), bucket, "models/bad/model.tar.gz")
    good = make_endpoint(emulator, f"s3://{bucket}/good/model.tar.gz", {"variant-a": 1})
    sm = emulator.client("sagemaker")
    model_a = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=good)["EndpointConfigName"]
    )["ProductionVariants"][0]["ModelName"]
    model_b = f"failing-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=model_b,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={
            "Image": "byo/serving:1",
            "ModelDataUrl": f"s3://{bucket}/models/bad/model.tar.gz",
            "Environment": {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label"},
        },
    )
    config = f"both-{uuid.uuid4().hex[:8]}"
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "variant-a",
                "ModelName": model_a,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 9,
            },
            {
                "VariantName": "variant-b",
                "ModelName": model_b,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1,
            },
        ],
    )
    sm.update_endpoint(EndpointName=good, EndpointConfigName=config)
    return good


def traffic_during(emulator, endpoint: str, requests: int = 60):
    """The injected sleep: instead of waiting, send traffic and let the hosting publish."""
    runtime = emulator.client("sagemaker-runtime")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if seconds < 30:  # the InService polls, not an observation interval
            return
        for _ in range(requests):
            with contextlib.suppress(runtime.exceptions.ModelError):  # the failing variant's
                runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)
        urllib.request.urlopen(
            urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
        ).close()

    return sleep, waits


def test_failing_variant_rolls_the_shift_back(emulator, endpoint_with_a_failing_b):
    endpoint = endpoint_with_a_failing_b
    sleep, waits = traffic_during(emulator, endpoint)
    with pytest.raises(
        ByoError,
        match=r"rolled back .*5XX rate .* weights restored to "
        r"variant-a=9, variant-b=1",
    ):
        shift(Clients(), endpoint, "variant-b", [10, 50, 100], 60, 0.01, sleep=sleep)
    assert waits[0] == 60
    weights = {v.name: v.weight for v in live_variants(Clients(), endpoint)}
    assert weights == {"variant-a": 9.0, "variant-b": 1.0}


def test_healthy_variant_takes_all_traffic(emulator, trained_model):
    bucket = f"shift-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "m/model.tar.gz")
    endpoint = make_endpoint(
        emulator, f"s3://{bucket}/m/model.tar.gz", {"variant-a": 9, "variant-b": 1}
    )
    sleep, _ = traffic_during(emulator, endpoint, requests=40)
    history = shift(Clients(), endpoint, "variant-b", [25, 100], 60, 0.01, sleep=sleep)
    assert [h["percent"] for h in history] == [25, 100]
    assert all(h["errors_5xx"] == 0 and h["invocations"] > 0 for h in history)
    weights = {v.name: v.weight for v in live_variants(Clients(), endpoint)}
    assert weights == {"variant-a": 0.0, "variant-b": 100.0}


def test_ctrl_c_during_a_step_restores_the_weights(emulator, trained_model):
    bucket = f"shift-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "m/model.tar.gz")
    endpoint = make_endpoint(
        emulator, f"s3://{bucket}/m/model.tar.gz", {"variant-a": 9, "variant-b": 1}
    )

    def interrupted(seconds: float) -> None:
        if seconds >= 30:
            raise KeyboardInterrupt  # Ctrl-C while watching the first step

    with pytest.raises(
        ByoError,
        match=r"rolled back \(interrupted\); weights restored to "
        r"variant-a=9, variant-b=1",
    ):
        shift(Clients(), endpoint, "variant-b", [50, 100], 60, 0.01, sleep=interrupted)
    weights = {v.name: v.weight for v in live_variants(Clients(), endpoint)}
    assert weights == {"variant-a": 9.0, "variant-b": 1.0}

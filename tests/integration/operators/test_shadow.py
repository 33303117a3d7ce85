"""`byo shadow report` and `byo shadow promote` on shadow endpoints of the local hosting."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from click.testing import CliRunner

from operators import shadow
from operators.aws import Clients
from operators.cli import cli
from operators.errors import ByoError
from tests.helpers import models
from tests.helpers.aws import make_endpoint, unique
from tests.integration.localaws.test_hosting_shadow import (
    create_model,
    csv_body,
    flush,
    in_process,
    shadow_endpoint,
    upload,
    wait_for_captures,
)

pytestmark = pytest.mark.integration


def byo(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def bucket(emulator) -> str:
    name = unique("shadow-ops")
    emulator.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, models.BuiltModel]:
    tmp = tmp_path_factory.mktemp("shadow-ops-models")
    return {  # seed 1: an xgboost that disagrees with the logistic regression on a few rows
        "xgboost": models.xgboost_model(tmp, seed=1),
        "logistic": models.sklearn_model(tmp, "classifier"),
        "failing": models.sklearn_model(tmp, "transformer"),
    }


@pytest.fixture(scope="module")
def urls(emulator, built, bucket, tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("shadow-ops-tarballs")
    return {name: upload(emulator, b, tmp, bucket, name) for name, b in built.items()}


@pytest.fixture
def model_names(emulator, urls) -> dict[str, str]:
    # A transformer asked for selectable outputs cannot give them: ModelFailure (500) each time.
    failing_env = {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label"}
    return {
        "xgboost": create_model(emulator, urls["xgboost"]),
        "logistic": create_model(emulator, urls["logistic"]),
        "failing": create_model(emulator, urls["failing"], failing_env),
    }


def test_report_compares_two_real_models_on_the_paired_requests(
    emulator, built, model_names, bucket
):
    endpoint = shadow_endpoint(emulator, model_names["xgboost"], model_names["logistic"], bucket)
    runtime = emulator.client("sagemaker-runtime")
    X = built["logistic"].X
    bodies = [csv_body(X[i : i + 4]) for i in range(0, 28, 4)]
    for i, body in enumerate(bodies):
        extra = {"InferenceId": f"req-{i}"} if i < 5 else {}  # the last two pair by payload
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body, **extra)
    wait_for_captures(emulator, bucket, endpoint, {"production": 7, "shadow": 7})
    flush(emulator)

    result = byo("shadow", "report", "--endpoint", endpoint, "--since", "1h", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)

    production = np.concatenate([in_process(built["xgboost"], b) for b in bodies])
    shadowed = np.concatenate([in_process(built["logistic"], b) for b in bodies])
    agreement = np.mean((production >= 0.5) == (shadowed >= 0.5))
    assert 0 < agreement < 1  # two different models: the case tests something
    assert found["pairs"] == 7 and found["unpaired"] == {"production": 0, "shadow": 0}
    scores = found["scores"]
    assert scores["rows"] == 28 and scores["agreement_kind"] == "threshold 0.5"
    assert scores["agreement"] == pytest.approx(agreement)
    deltas = np.abs(production - shadowed)
    assert scores["mean_abs_delta"] == pytest.approx(deltas.mean(), rel=1e-5)
    assert scores["max_abs_delta"] == pytest.approx(deltas.max(), rel=1e-5)
    for variant in ("production", "shadow"):
        metrics = found["metrics"][variant]
        assert metrics["latency_samples"] == 7 and metrics["invocations"] == 7
        assert 0 < metrics["latency_mean_ms"] <= metrics["latency_max_ms"]
    assert found["metrics"]["shadow"]["errors_4xx"] == found["metrics"]["shadow"]["errors_5xx"] == 0

    table = byo("shadow", "report", "--endpoint", endpoint)
    assert table.exit_code == 0, table.output
    assert f"{agreement:.2%}" in table.output and "7 (28 rows)" in table.output


def test_report_says_when_there_is_no_shadow_or_no_capture(emulator, urls, model_names, bucket):
    plain = make_endpoint(emulator, urls["xgboost"], {"only": 1})
    result = byo("shadow", "report", "--endpoint", plain)
    assert isinstance(result.exception, ByoError)  # byo prints it on stderr, exit 1
    assert "has no shadow variant" in str(result.exception)

    quiet = shadow_endpoint(emulator, model_names["xgboost"], model_names["logistic"], bucket)
    result = byo("shadow", "report", "--endpoint", quiet, "--since", "30m")
    assert isinstance(result.exception, ByoError)
    assert "no captures of production" in str(result.exception)

    result = byo("shadow", "report", "--endpoint", quiet, "--since", "soon")
    assert result.exit_code == 2 and "--since" in result.output


def traffic_during(emulator, endpoint: str, body: bytes, requests: int = 40):
    """The injected sleep: instead of waiting, send traffic and let the hosting publish."""
    runtime = emulator.client("sagemaker-runtime")

    def sleep(seconds: float) -> None:
        if seconds < 30:  # the InService polls, not an observation interval
            return
        for _ in range(requests):
            with contextlib.suppress(runtime.exceptions.ModelError):  # a failing variant's
                runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=body)
        flush(emulator)

    return sleep


def live(emulator, endpoint: str) -> dict:
    return emulator.client("sagemaker").describe_endpoint(EndpointName=endpoint)


def test_promote_makes_the_shadow_production_and_retires_the_old(
    emulator, built, model_names, bucket
):
    endpoint = shadow_endpoint(emulator, model_names["xgboost"], model_names["logistic"], bucket)
    before = live(emulator, endpoint)["EndpointConfigName"]
    body = csv_body(built["logistic"].X[:6])
    result = shadow.promote(
        Clients(),
        endpoint,
        [50, 100],
        60,
        0.01,
        sleep=traffic_during(emulator, endpoint, body),
    )
    assert [s["percent"] for s in result["steps"]] == [50, 100]
    assert all(s["errors_5xx"] == 0 and s["invocations"] > 0 for s in result["steps"])
    assert (result["promoted"], result["retired"], result["previous_config"]) == (
        "shadow",
        "production",
        before,
    )

    described = live(emulator, endpoint)
    assert described["EndpointConfigName"] == result["endpoint_config"]
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["shadow"]
    assert "ShadowProductionVariants" not in described
    config = emulator.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=result["endpoint_config"]
    )
    assert config["ProductionVariants"][0]["ModelName"] == model_names["logistic"]
    assert config["DataCaptureConfig"]["EnableCapture"] is True
    response = emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=body
    )
    assert response["InvokedProductionVariant"] == "shadow"
    served = np.array([float(v) for v in response["Body"].read().decode().split()])
    np.testing.assert_allclose(served, in_process(built["logistic"], body), rtol=1e-6)


def test_a_failing_shadow_is_not_promoted(emulator, built, model_names, bucket):
    endpoint = shadow_endpoint(emulator, model_names["xgboost"], model_names["failing"], bucket)
    before = live(emulator, endpoint)
    body = csv_body(built["logistic"].X[:6])
    with pytest.raises(ByoError, match=r"promotion of shadow rolled back \(.*5XX rate"):
        shadow.promote(
            Clients(),
            endpoint,
            [50, 100],
            60,
            0.01,
            sleep=traffic_during(emulator, endpoint, body),
        )
    after = live(emulator, endpoint)
    assert after["EndpointConfigName"] == before["EndpointConfigName"]
    assert [v["VariantName"] for v in after["ShadowProductionVariants"]] == ["shadow"]
    assert [(v["VariantName"], v["CurrentWeight"]) for v in after["ProductionVariants"]] == [
        ("production", 1.0)
    ]
    response = emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=body
    )
    assert response["InvokedProductionVariant"] == "production"

    # The report of the failed shadow: nothing to pair (it never answered), its 500s counted.
    flush(emulator)
    found = json.loads(byo("shadow", "report", "--endpoint", endpoint, "--json").output)
    assert found["pairs"] == 0 and found["captures"]["shadow"] == 0
    assert found["captures"]["production"] > 0
    shadow_metrics = found["metrics"]["shadow"]
    assert shadow_metrics["errors_5xx"] == shadow_metrics["invocations"] > 0
    served = np.array([float(v) for v in response["Body"].read().decode().split()])
    np.testing.assert_allclose(served, in_process(built["xgboost"], body), rtol=1e-6)

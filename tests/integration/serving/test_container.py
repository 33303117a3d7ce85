"""The serving image's contract with SageMaker, checked on the built image (byo/serving:local,
from `make images TAG=local`) under a real engine: skipped, with the reason, where no Docker or
Podman daemon answers or the image is not built. The server's behaviour itself is test_server.py's.

SageMaker runs `docker run <image> serve` with the model at /opt/ml/model and sends GET /ping
(2 s to answer) and POST /invocations to port 8080; it stops a container with SIGTERM, then
SIGKILL 30 s later.
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from localaws.containers import ContainerHost, Engine, Running, find_engine, why_not_engine
from serving.artifact import MODEL_FILE, booster_from_bytes
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

IMAGE = "byo/serving:local"
SAMPLE = REPO / "sample" / "sample.csv"
ENGINE_ENV = {**os.environ, "LOCALAWS_CONTAINERS": "engine"}


@pytest.fixture(scope="module")
def engine() -> Engine:
    found = find_engine(ENGINE_ENV)
    if found is None:
        pytest.skip(why_not_engine(ENGINE_ENV))
    if not found.has_image(IMAGE):
        pytest.skip(f"{IMAGE} is not built: make images TAG=local")
    return found


@pytest.fixture(scope="module")
def model_dir(engine, request, tmp_path_factory) -> Path:
    # Trained only once an engine and the image are there (a session fixture would come first).
    trained_model = request.getfixturevalue("trained_model")
    target = tmp_path_factory.mktemp("model")
    with tarfile.open(trained_model.model_path, "r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture(scope="module")
def container(engine, model_dir, tmp_path_factory) -> Iterator[Running]:
    host = ContainerHost(engine, tmp_path_factory.mktemp("containers"))
    try:
        yield host.start("contract", IMAGE, model_dir, {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"})
    finally:
        host.close()


def scores(body: bytes) -> list[float]:
    return [float(x) for x in re.split(rb"[,\s]+", body.strip())]


def test_ping_answers_200_within_sagemakers_2_s(container):
    # Running.ping waits PING_TIMEOUT_S (SageMaker's 2 s) and answers None past it.
    assert [container.ping() for _ in range(5)] == [200] * 5


def test_invocations_on_8080_answer_as_the_model(container, model_dir):
    status, body, content_type = container.invoke(SAMPLE.read_bytes(), "text/csv", "text/csv")
    assert (status, content_type.split(";")[0]) == (200, "text/csv")
    rows = np.loadtxt(SAMPLE, delimiter=",", ndmin=2)
    booster = booster_from_bytes((model_dir / MODEL_FILE).read_bytes())
    want = booster.predict(xgb.DMatrix(rows))
    np.testing.assert_allclose(scores(body), want, rtol=1e-6)


def test_the_image_runs_as_uid_10001(engine, container):
    found = engine.command("exec", container.container, "id", "-u")
    assert (found.returncode, found.stdout.strip()) == (0, "10001")


def test_serve_is_the_only_argument_it_takes(engine):
    refused = engine.command("run", "--rm", IMAGE, "train", timeout=120)
    assert refused.returncode == 2
    assert "training is not supported" in refused.stderr


def test_sigterm_stops_it_cleanly_well_before_sigkill(engine, model_dir, tmp_path):
    host = ContainerHost(engine, tmp_path)
    try:
        running = host.start("sigterm", IMAGE, model_dir, {})
        # `stop` sends SIGTERM and SIGKILL only after -t seconds, as SageMaker does after 30:
        # exit code 0 (not SIGKILL's 137) is the clean stop on SIGTERM.
        assert engine.command("stop", "-t", "30", running.container).returncode == 0
        state = engine.command("inspect", "--format", "{{.State.ExitCode}}", running.container)
        assert state.stdout.strip() == "0"
    finally:
        host.close()

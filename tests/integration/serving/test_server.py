"""The BYO container's contract, against a real `serve` process (gunicorn) on a free port."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from serving.artifact import load_booster
from tests.helpers import models
from tests.helpers.fake_engine import process_running
from tests.helpers.paths import REPO
from tests.helpers.processes import free_port, stop_process

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample" / "sample.csv"
SERVE = Path(sys.executable).parent / "serve"
CSV = {"Content-Type": "text/csv"}


class Server:
    def __init__(self, model_dir: Path, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(SERVE)],
            env={
                **os.environ,
                "SM_MODEL_DIR": str(model_dir),
                "SAGEMAKER_BIND_TO_PORT": str(self.port),
                "SAGEMAKER_MODEL_SERVER_WORKERS": str(workers),
                **env,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {self.proc.stdout.read().decode()}")
            try:
                if self.get("/ping")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("serve did not answer /ping")

    def get(self, path: str) -> tuple[int, bytes]:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return response.status, response.read()

    def post(
        self, body: bytes, content_type: str | None = "text/csv", accept: str | None = None
    ) -> tuple[int, str, bytes]:
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(f"{self.url}/invocations", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], exc.read()

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="module")
def model_dir(trained_model, tmp_path_factory) -> Path:
    """A model directory as SageMaker unpacks model.tar.gz into /opt/ml/model."""
    target = tmp_path_factory.mktemp("opt-ml-model")
    with tarfile.open(trained_model.model_path, "r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture(scope="module")
def server(model_dir):
    running = Server(model_dir)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def expected(trained_model) -> np.ndarray:
    rows = np.loadtxt(SAMPLE, delimiter=",", ndmin=2)
    return load_booster(trained_model.model_path).predict(xgb.DMatrix(rows))


def test_ping_answers_once_the_model_is_loaded(server):
    assert server.get("/ping")[0] == 200


def test_csv_in_csv_out_one_probability_per_line(server, expected):
    status, content_type, body = server.post(SAMPLE.read_bytes())
    assert status == 200
    assert content_type.startswith("text/csv")
    np.testing.assert_allclose([float(x) for x in body.decode().splitlines()], expected, rtol=1e-6)


def test_large_bodies_by_length_and_chunked_on_one_connection(server, expected):
    """A body of ~1 MB sent with Content-Length and then chunked, on one keep-alive connection:
    both whole (the length's is read by gunicorn's reader at once), the next request after each
    one intact."""
    sample = SAMPLE.read_bytes()
    copies = max(1, (1 << 20) // len(sample))
    body = sample * copies
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        answers = []
        for chunked in (False, True, False):
            payload = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
            conn.request(
                "POST",
                "/invocations",
                body=payload if chunked else body,
                headers={"Content-Type": "text/csv"},
                encode_chunked=chunked,
            )
            response = conn.getresponse()
            answers.append((response.status, response.read()))
    finally:
        conn.close()
    for status, answer in answers:
        assert status == 200
        np.testing.assert_allclose(
            [float(x) for x in answer.split()], np.tile(expected, copies), rtol=1e-6
        )


def test_empty_csv_fields_are_missing_values_xgboost_handles(server, trained_model):
    rows = SAMPLE.read_bytes().splitlines()
    # column 2 empty on line 1, "nan" in column 30 on line 2
    first = rows[0].split(b",")
    first[1] = b""
    second = rows[1].split(b",")
    second[29] = b"nan"
    status, _, body = server.post(b",".join(first) + b"\n" + b",".join(second) + b"\n")
    assert status == 200
    matrix = np.loadtxt(SAMPLE, delimiter=",", ndmin=2)[:2]
    matrix[0, 1] = np.nan
    matrix[1, 29] = np.nan
    want = load_booster(trained_model.model_path).predict(xgb.DMatrix(matrix))
    np.testing.assert_allclose([float(x) for x in body.decode().split()], want, rtol=1e-6)


def test_json_and_jsonlines_in_and_out(server, expected):
    rows = np.loadtxt(SAMPLE, delimiter=",", ndmin=2).tolist()
    status, content_type, body = server.post(
        json.dumps({"instances": [{"features": r} for r in rows]}).encode(),
        "application/json",
        "application/json",
    )
    assert (status, content_type) == (200, "application/json")
    np.testing.assert_allclose(
        [p["score"] for p in json.loads(body)["predictions"]], expected, rtol=1e-6
    )

    lines = "\n".join(json.dumps(r) for r in rows).encode()
    status, content_type, body = server.post(
        lines, "application/jsonlines", "application/jsonlines"
    )
    assert (status, content_type) == (200, "application/jsonlines")
    scores = [json.loads(line)["score"] for line in body.decode().splitlines()]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("accept", "answer_type"),
    [
        ("application/json", "application/json"),
        ("application/jsonlines", "application/jsonlines"),
        ("text/csv;q=1, application/json;q=0.5", "text/csv"),
        ("*/*", "text/csv"),
    ],
)
def test_accept_negotiation(server, accept, answer_type):
    status, content_type, _ = server.post(SAMPLE.read_bytes(), accept=accept)
    assert (status, content_type.split(";")[0]) == (200, answer_type)


def test_unsupported_content_type_is_415(server):
    status, _, body = server.post(b"x", "image/png")
    assert status == 415
    assert b"image/png" in body


def test_unacceptable_accept_is_406(server):
    assert server.post(SAMPLE.read_bytes(), accept="application/xml")[0] == 406


def test_payload_over_6_mb_is_413(server):
    row = SAMPLE.read_bytes().splitlines()[0] + b"\n"
    status, _, body = server.post(row * (6 * 1024 * 1024 // len(row) + 1))
    assert status == 413
    assert b"6 MB" in body


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda rows: [*rows[:2], b"abc" + rows[2][rows[2].index(b",") :], *rows[3:]],
            "line 3, column 1: 'abc' is not a number",
        ),
        (lambda rows: [rows[0], rows[1].rsplit(b",", 1)[0]], "line 2: expected 30 values, got 29"),
        (lambda rows: [rows[0], b"", rows[1]], "line 2: empty line"),
        (
            lambda rows: [rows[0], b"inf" + rows[1][rows[1].index(b",") :]],
            "line 2, column 1: 'inf' is not finite",
        ),
        (lambda rows: [rows[0], b"\xff\xfe" + rows[1]], "line 2"),
    ],
)
def test_malformed_rows_are_400_naming_line_and_problem(server, mutate, message):
    body = b"\n".join(mutate(SAMPLE.read_bytes().splitlines())) + b"\n"
    status, _, answer = server.post(body)
    assert status == 400
    assert message in answer.decode(errors="replace")
    assert b"Traceback" not in answer


def test_selectable_outputs_of_a_transformer_are_500_with_a_message(tmp_path):
    built = models.sklearn_model(tmp_path, kind="transformer")
    server = Server(built.model_dir, workers=1, SAGEMAKER_INFERENCE_OUTPUT="predicted_label")
    try:
        status, _, body = server.post(csv_rows(built.X))
    finally:
        server.stop()
    assert status == 500
    assert b"unset SAGEMAKER_INFERENCE_OUTPUT" in body
    assert b"Traceback" not in body


def test_concurrent_requests_each_get_their_own_answer(server, expected):
    rows = SAMPLE.read_bytes().splitlines()

    def call(i: int) -> tuple[int, float]:
        status, _, body = server.post(rows[i % len(rows)] + b"\n")
        return status, float(body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(200)))
    assert all(status == 200 for status, _ in results)
    np.testing.assert_allclose(
        [score for _, score in results], [expected[i % len(rows)] for i in range(200)], rtol=1e-6
    )


def test_worker_count_comes_from_the_environment(model_dir):
    server = Server(model_dir, workers=3)

    def workers() -> int:
        found = subprocess.run(
            ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True
        ).stdout.split()
        return len(found)

    try:
        deadline = time.monotonic() + 20  # /ping answers once the first worker is up
        while workers() < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # and no more than 3 appear
        assert workers() == 3
    finally:
        server.stop()


def test_model_tarball_in_the_model_dir_is_unpacked(trained_model, tmp_path, expected):
    shutil.copy(trained_model.model_path, tmp_path / "model.tar.gz")
    server = Server(tmp_path, workers=1)
    try:
        status, _, body = server.post(SAMPLE.read_bytes())
    finally:
        server.stop()
    assert status == 200
    np.testing.assert_allclose([float(x) for x in body.split()], expected, rtol=1e-6)


def test_missing_model_fails_fast_with_a_clear_message(tmp_path):
    result = subprocess.run(
        [str(SERVE)],
        env={
            **os.environ,
            "SM_MODEL_DIR": str(tmp_path),
            "SAGEMAKER_BIND_TO_PORT": str(free_port()),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "cannot load the model" in result.stderr
    assert "holds no files" in result.stderr


def test_a_bad_container_setting_stops_the_server_naming_it(model_dir):
    result = subprocess.run(
        [str(SERVE)],
        env={
            **os.environ,
            "SM_MODEL_DIR": str(model_dir),
            "SAGEMAKER_BIND_TO_PORT": str(free_port()),
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/html",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT='text/html'" in result.stderr


def test_empty_body_is_204_and_execution_parameters_answer_batch_transform(model_dir):
    server = Server(model_dir, workers=2, SAGEMAKER_MAX_PAYLOAD_IN_MB="12")
    try:
        assert server.post(b"")[0] == 204
        status, body = server.get("/execution-parameters")
    finally:
        server.stop()
    assert status == 200
    assert json.loads(body) == {
        "MaxConcurrentTransforms": 2,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 12,
    }


def csv_rows(X: np.ndarray) -> bytes:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in X).encode()


@pytest.mark.parametrize(
    "build",
    [
        lambda tmp: models.xgboost_model(tmp, objective="multi:softprob", fmt="ubj"),
        lambda tmp: models.sklearn_model(tmp, kind="multiclass"),
        lambda tmp: models.lightgbm_model(tmp, objective="regression"),
        lambda tmp: models.onnx_model(tmp, kind="classifier"),
    ],
    ids=["xgboost-softprob-ubj", "sklearn-iris-tree", "lightgbm-regression", "onnx-classifier"],
)
def test_every_framework_is_served_by_the_serve_process(tmp_path, build):
    """Real serve processes, one per framework: the default answer and the selectable outputs
    equal the framework's own predictions. The default answer comes from a worker per CPU (each
    request run in the worker's main thread), the selected outputs from one worker predicting
    with several threads (requests run in gunicorn's thread: the model's OpenMP team was made
    before the fork)."""
    built = build(tmp_path)
    body = csv_rows(built.X)
    classifier = built.objective in ("binary:logistic", "multi:softprob")
    keys = "predicted_label,probabilities" if classifier else "predicted_score"
    plain = Server(built.model_dir, workers=os.cpu_count() or 1)
    selected = Server(built.model_dir, workers=1, SAGEMAKER_INFERENCE_OUTPUT=keys)
    try:
        status, _, answer = plain.post(body)
        assert status == 200
        rows = [[float(v) for v in line.split(",")] for line in answer.decode().splitlines()]
        np.testing.assert_allclose(
            np.array(rows).reshape(built.expected.shape), built.expected, rtol=1e-5, atol=1e-7
        )
        status, _, answer = selected.post(body, accept="application/json")
        assert status == 200
        predictions = json.loads(answer)["predictions"]
    finally:
        plain.stop()
        selected.stop()
    if not classifier:
        np.testing.assert_allclose([p["predicted_score"] for p in predictions], built.expected)
        return
    probabilities = np.array([p["probabilities"] for p in predictions])
    if built.objective == "binary:logistic":
        np.testing.assert_allclose(probabilities[:, 1], built.expected, rtol=1e-5, atol=1e-7)
        winners = (probabilities[:, 1] > 0.5).astype(int)
    else:
        np.testing.assert_allclose(probabilities, built.expected, rtol=1e-5, atol=1e-7)
        winners = probabilities.argmax(axis=1)
    classes = built.classes or tuple(range(probabilities.shape[1]))
    assert [p["predicted_label"] for p in predictions] == [classes[i] for i in winners]


def test_stopping_the_server_leaves_no_worker_behind_whatever_the_framework(tmp_path):
    """An onnxruntime session loaded before the fork made workers hang in their exit and outlive
    the server; the workers now leave at once (gunicorn's worker_exit hook). An idle keep-alive
    connection does not hold the stop up: gunicorn's graceful stop waited for it until its
    30 s graceful_timeout, past the 10 s `docker stop` gives a container before SIGKILL."""
    built = models.onnx_model(tmp_path, kind="classifier")
    server = Server(built.model_dir, workers=2)
    workers = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    idle.request("POST", "/invocations", body=csv_rows(built.X[:2]), headers=CSV)
    answer = idle.getresponse()
    assert answer.status == 200 and answer.getheader("Connection") != "close"
    answer.read()  # the connection stays open, idle
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=10)  # docker stop's grace period
    finally:
        idle.close()
        server.stop()
    deadline = time.monotonic() + 10
    while any(process_running(int(pid)) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(process_running(int(pid)) for pid in workers)

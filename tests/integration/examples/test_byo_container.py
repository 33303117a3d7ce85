"""examples/byo-container: train.py's artifact, served by the example's own program (`serve`, as
its image runs it) as a local process on a free port; stopped by PID."""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_iris

from tests.helpers.fake_engine import process_running
from tests.helpers.paths import REPO
from tests.helpers.processes import free_port, stop_process

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "examples" / "byo-container"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("byo-container")
    subprocess.run(
        [sys.executable, str(EXAMPLE / "train.py"), "--out-dir", str(out)], check=True, timeout=60
    )
    return out / "model.tar.gz"


@pytest.fixture(scope="module")
def model_dir(trained, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("opt-ml-model")
    with tarfile.open(trained, "r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


class Serve:
    """program/serve as a local process: the example's image without the image."""

    def __init__(self, model_dir: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(EXAMPLE / "program" / "serve"), "serve"],
            env={
                **os.environ,
                "SM_MODEL_DIR": str(model_dir),
                "SAGEMAKER_BIND_TO_PORT": str(self.port),
                "BYO_BIND_HOST": "127.0.0.1",
                "SAGEMAKER_MODEL_SERVER_WORKERS": str(workers),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {self.proc.stdout.read().decode()}")
            try:
                if self.request("GET", "/ping")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        stop_process(self.proc)
        raise RuntimeError("serve did not answer /ping within 20 s")

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, str | None, bytes]:
        headers = {"Content-Type": content_type} if content_type else {}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], exc.read()


@pytest.fixture(scope="module")
def server(model_dir):
    running = Serve(model_dir)
    yield running
    stop_process(running.proc)


def test_train_writes_the_artifact_and_its_evaluation_reproducibly(trained, tmp_path):
    with tarfile.open(trained, "r:gz") as tar:
        assert sorted(tar.getnames()) == ["decision-tree-model.pkl", "inference.json"]
        metadata = json.load(tar.extractfile("inference.json"))
    iris = load_iris()
    assert metadata == {"features": iris.feature_names, "classes": list(iris.target_names)}
    evaluation = json.loads((trained.parent / "evaluation.json").read_text())
    accuracy = evaluation["multiclass_classification_metrics"]["accuracy"]["value"]
    assert 0.85 <= accuracy <= 1.0  # held out: a tree on iris is good, not necessarily perfect
    # Once more, in this process (scikit-learn is loaded already): the same bytes.
    runpy.run_path(str(EXAMPLE / "train.py"))["main"](["--out-dir", str(tmp_path)])
    assert (tmp_path / "model.tar.gz").read_bytes() == trained.read_bytes()
    assert (tmp_path / "evaluation.json").read_text() == json.dumps(evaluation, indent=2) + "\n"


def test_answers_are_the_trees_own_predictions_as_species_names(server, model_dir):
    iris = load_iris()
    rows = iris.data[::7]
    body = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()
    status, content_type, answer = server.request("POST", "/invocations", body, "text/csv")
    assert (status, content_type.split(";")[0]) == (200, "text/csv")
    tree = joblib.load(model_dir / "decision-tree-model.pkl")
    want = [str(iris.target_names[i]) for i in tree.predict(rows)]
    assert answer.decode().splitlines() == want
    assert len(set(want)) == 3  # every species is asked for


def test_the_inference_core_gives_the_same_names_for_the_same_artifact(server, model_dir):
    """Without an engine the local hosting serves the artifact with the core: the same species
    when the model's Environment asks for predicted_label (its default CSV answer is the three
    probabilities, as SageMaker's XGBoost container answers)."""
    from serving.inference import Options, invoke, load_model

    body = b"5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n5.9,3.0,4.2,1.5\n"
    options = Options.from_env({"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label"})
    core = invoke(load_model(model_dir), body, "text/csv", None, options)
    _, _, answer = server.request("POST", "/invocations", body, "text/csv")
    assert core.body.decode().splitlines() == answer.decode().splitlines()
    assert answer.decode().splitlines() == ["setosa", "virginica", "versicolor"]


def test_a_charset_parameter_and_a_missing_final_newline_are_fine(server):
    status, _, answer = server.request(
        "POST", "/invocations", b"5.1,3.5,1.4,0.2", "text/csv; charset=utf-8"
    )
    assert (status, answer) == (200, b"setosa\n")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"5.1,3.5,1.4,0.2\n5.1,3.5,1.4\n", "line 2: expected 4 values, got 3"),
        (b"5.1,3.5,1.4,0.2\n6.7,3.0,abc,2.3\n", "line 2, column 3: 'abc' is not a number"),
        (b"5.1,3.5,1.4,inf\n", "line 1, column 4: 'inf' is not finite"),
        (b"5.1,3.5,1.4,0.2\n\n6.7,3.0,5.2,2.3\n", "line 2: empty line"),
        (b"5.1,3.5,1.4,0.2\n\xff\xfe\n", "line 2: not UTF-8 text"),
        (b"", "empty body: send one row of 4 numbers per line"),
    ],
)
def test_bad_rows_are_400_naming_the_line(server, body, message):
    status, _, answer = server.request("POST", "/invocations", body, "text/csv")
    assert (status, answer.decode().strip()) == (400, message)


@pytest.mark.parametrize("content_type", ["application/json", None])
def test_other_content_types_are_415(server, content_type):
    status, _, answer = server.request("POST", "/invocations", b'{"x": 1}', content_type)
    assert status == 415
    assert b"this model takes text/csv" in answer


def test_sigterm_stops_the_server_and_its_workers(model_dir):
    running = Serve(model_dir, workers=2)
    deadline = time.monotonic() + 10
    workers: list[str] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        listed = subprocess.run(["pgrep", "-P", str(running.proc.pid)], capture_output=True)
        workers = listed.stdout.split()
        time.sleep(0.1)
    assert len(workers) == 2
    running.proc.send_signal(signal.SIGTERM)
    assert running.proc.wait(timeout=10) == 0
    assert not any(process_running(int(pid)) for pid in workers)


def test_a_model_dir_without_the_model_fails_with_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "program" / "serve"), "serve"],
        env={**os.environ, "SM_MODEL_DIR": str(tmp_path), "SAGEMAKER_BIND_TO_PORT": "1"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: cannot load the model: {tmp_path} has no decision-tree-model.pkl "
        "(train.py writes it)\n"
    )


def test_only_serve_is_accepted(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "program" / "serve"), "train"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "this image only serves" in done.stderr


def test_the_image_pins_the_projects_versions():
    pins = dict(
        line.split("==")
        for line in (EXAMPLE / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    project_pins = dict(d.split("==") for d in project["dependencies"])
    assert {"scikit-learn", "flask", "gunicorn"} <= pins.keys()
    for name, version in pins.items():
        if name in project_pins:
            assert version == project_pins[name], f"{name}: image {version}, pyproject"

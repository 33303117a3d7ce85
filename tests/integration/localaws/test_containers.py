"""localaws.containers: finding an engine, and running a model's image as SageMaker does.

Without a Docker daemon the orchestration runs against tests/helpers/fake_engine.py, on PATH as
`docker`, which starts each image's program as a local process: these tests check our commands,
waiting, timeouts and cleanup, not any image. The last test runs the real serving image where a
real engine answers and the image is built (make images TAG=local).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from localaws import containers
from localaws.containers import ContainerError, ContainerHost, Engine, find_engine, why_not_engine
from serving.artifact import load_booster
from tests.helpers.fake_engine import FakeEngine, process_running
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample" / "sample.csv"
SERVING_IMAGE = "byo/serving:local"

# A container program for the orchestration tests: answers /ping at once and echoes what it got.
ECHO_PROGRAM = textwrap.dedent(
    """
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status, body=b"", content_type="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            parameters = os.environ.get("ECHO_EXECUTION_PARAMETERS")
            if self.path == "/ping":
                self.answer(200)
            elif self.path == "/execution-parameters" and parameters:
                self.answer(200, parameters.encode())
            else:
                self.answer(404, b"not found", "text/plain")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.answer(200, json.dumps({
                "argv": sys.argv[1:],
                "env": dict(os.environ),
                "body": body.decode(),
                "content_type": self.headers.get("Content-Type"),
                "accept": self.headers.get("Accept"),
                "model_files": sorted(os.listdir(os.environ["SM_MODEL_DIR"])),
            }).encode(), "application/json; charset=utf-8")

        def log_message(self, *args):
            pass

    print("echo: listening", flush=True)
    address = (os.environ["BYO_BIND_HOST"], int(os.environ["SAGEMAKER_BIND_TO_PORT"]))
    ThreadingHTTPServer(address, Handler).serve_forever()
    """
)
NEVER_READY = "import time\nprint('loading shard 1/2')\nprint('loading shard 2/2', flush=True)\n"
NEVER_READY += "time.sleep(600)\n"
CRASHES = "print('cannot load the model: no model file', flush=True)\nraise SystemExit(3)\n"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[FakeEngine, dict[str, str]]]:
    """The fake engine as `docker`, first on PATH; the environment that selects it."""
    echo = tmp_path / "echo.py"
    echo.write_text(ECHO_PROGRAM)
    python = sys.executable
    engine = FakeEngine.install(
        tmp_path / "bin",
        tmp_path / "engine",
        images={
            SERVING_IMAGE: [python, "-m", "serving.server"],
            "test/echo:1": [python, str(echo)],
            "test/never-ready:1": [python, "-c", NEVER_READY],
            "test/crashes:1": [python, "-c", CRASHES],
        },
    )
    env = {
        "LOCALAWS_CONTAINERS": "engine",
        "LOCALAWS_CONTAINER_ENGINE": "docker",
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    yield engine, env
    engine.kill_all()


@pytest.fixture
def host(fake, tmp_path: Path):
    engine = find_engine(fake[1])
    assert engine is not None, why_not_engine(fake[1])
    running = ContainerHost(engine, tmp_path / "work")
    yield running
    running.close()


@pytest.fixture(scope="module")
def model_dir(trained_model, tmp_path_factory) -> Path:
    """The model.tar.gz `make model` builds, unpacked as SageMaker unpacks it."""
    target = tmp_path_factory.mktemp("model")
    target.chmod(0o700)  # as the hosting's cache directories (mkdtemp) are
    with tarfile.open(trained_model.model_path, "r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture
def echo_model(tmp_path: Path) -> Path:
    model = tmp_path / "echo-model"
    model.mkdir(mode=0o700)
    (model / "weights.bin").write_bytes(b"\0")
    return model


def scores(body: bytes) -> list[float]:
    """The serving image's CSV answer: one score per row, on one line or one per line."""
    return [float(x) for x in re.split(rb"[,\s]+", body.strip())]


def engine_names(fake_engine: FakeEngine, env: dict[str, str]) -> list[str]:
    listed = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


# ---------------------------------------------------------------------------------------------
# find_engine / why_not_engine
# ---------------------------------------------------------------------------------------------
def test_no_engine_unless_the_mode_is_engine(fake):
    _, env = fake
    for mode in (None, "core", "Engine"):
        chosen = {k: v for k, v in env.items() if k != "LOCALAWS_CONTAINERS"}
        if mode is not None:
            chosen["LOCALAWS_CONTAINERS"] = mode
        assert find_engine(chosen) is None
        assert why_not_engine(chosen).startswith("LOCALAWS_CONTAINERS is not 'engine'")


def test_the_engine_on_path_whose_info_answers(fake, tmp_path):
    _, env = fake
    assert find_engine(env) == Engine("docker", str(tmp_path / "bin" / "docker"))
    assert why_not_engine(env) == ""


def test_without_engine_on_path_the_reason_names_both(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"LOCALAWS_CONTAINERS": "engine", "PATH": str(empty)}
    assert find_engine(env) is None
    assert why_not_engine(env) == "docker is not on PATH; podman is not on PATH"


def test_a_daemon_that_does_not_answer_is_reported_with_its_message(fake, tmp_path):
    engine, env = fake
    engine.configure(info="down")
    only_fake = {**env, "PATH": str(tmp_path / "bin")}
    only_fake.pop("LOCALAWS_CONTAINER_ENGINE")
    assert find_engine(only_fake) is None
    assert why_not_engine(only_fake) == (
        "docker is on PATH but its daemon does not answer: Cannot connect to the fake engine's "
        "daemon (configured down); podman is not on PATH"
    )


def test_podman_when_docker_does_not_answer(fake, tmp_path):
    engine, _ = fake
    engine.configure(info="down")
    podman_bin = tmp_path / "podman-bin"
    FakeEngine.install(podman_bin, tmp_path / "podman-state", images={}, name="podman")
    both = {"LOCALAWS_CONTAINERS": "engine", "PATH": f"{tmp_path / 'bin'}:{podman_bin}"}
    assert find_engine(both) == Engine("podman", str(podman_bin / "podman"))
    # Naming docker keeps it docker, answering or not.
    assert find_engine({**both, "LOCALAWS_CONTAINER_ENGINE": "docker"}) is None


def test_info_that_hangs_times_out(fake, monkeypatch):
    engine, env = fake
    engine.configure(info="hang")
    monkeypatch.setattr(containers, "INFO_TIMEOUT_S", 0.5)
    assert why_not_engine(env) == "docker is on PATH but `docker info` did not answer within 0.5 s"


def test_an_unknown_engine_name_is_refused(fake):
    _, env = fake
    assert find_engine({**env, "LOCALAWS_CONTAINER_ENGINE": "lxc"}) is None
    assert why_not_engine({**env, "LOCALAWS_CONTAINER_ENGINE": "lxc"}) == (
        "LOCALAWS_CONTAINER_ENGINE is 'lxc'; it must be one of docker, podman"
    )


# ---------------------------------------------------------------------------------------------
# Orchestration, against the fake engine
# ---------------------------------------------------------------------------------------------
def test_serving_image_starts_pings_and_answers_as_the_model(host, fake, model_dir, trained_model):
    engine, _ = fake
    running = host.start("fraud-v1", SERVING_IMAGE, model_dir, {})
    assert running.ping() == 200
    status, body, content_type = running.invoke(SAMPLE.read_bytes(), "text/csv", "text/csv")
    assert (status, content_type.split(";")[0]) == (200, "text/csv")
    rows = np.loadtxt(SAMPLE, delimiter=",", ndmin=2)
    want = load_booster(trained_model.model_path).predict(xgb.DMatrix(rows))
    np.testing.assert_allclose(scores(body), want, rtol=1e-6)
    # The container's answer for a bad request is passed through, not raised.
    status, body, _ = running.invoke(b"1,2\n", "text/csv", None)
    assert status == 400
    assert body
    assert host.get("fraud-v1") is running
    assert engine.containers() == [running.container]


def test_the_run_command_is_sagemakers(host, fake, echo_model):
    engine, _ = fake
    environment = {"SAGEMAKER_PROGRAM": "inference.py", "WITH_SPACES": "a b=c", "ACCENT": "é"}
    running = host.start("echo", "test/echo:1", echo_model, environment)
    argv = engine.container(running.container)["argv"]
    assert argv[:4] == ["run", "-d", "--name", running.container]
    assert argv[4:6] == ["-p", f"127.0.0.1:{running.port}:8080"]
    source, target = argv[7].rsplit(":", 2)[:2]
    assert (argv[6], target, argv[7].endswith(":ro")) == ("-v", "/opt/ml/model", True)
    assert argv[-2:] == ["test/echo:1", "serve"]
    passed = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-e"]
    assert passed == ["SAGEMAKER_PROGRAM=inference.py", "WITH_SPACES=a b=c", "ACCENT=é"]

    status, body, content_type = running.invoke(b"hello", "text/plain", "application/json")
    assert (status, content_type) == (200, "application/json; charset=utf-8")
    seen = json.loads(body)
    assert seen["argv"] == ["serve"]
    assert {k: seen["env"][k] for k in environment} == environment
    assert (seen["body"], seen["content_type"], seen["accept"]) == (
        "hello",
        "text/plain",
        "application/json",
    )
    # The model is a world-readable copy (images run as non-root), not the 0700 original.
    assert seen["model_files"] == ["weights.bin"]
    assert Path(source) != echo_model
    assert Path(source).stat().st_mode & 0o777 == 0o755
    assert (Path(source) / "weights.bin").stat().st_mode & 0o777 == 0o644


def test_the_environment_reaches_the_serving_program(host, fake, model_dir):
    engine, _ = fake
    workers = {"SAGEMAKER_MODEL_SERVER_WORKERS": "3"}
    running = host.start("workers", SERVING_IMAGE, model_dir, workers)
    deadline = time.monotonic() + 20  # /ping answers once the first worker is up
    while len(engine.processes(running.container)) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(engine.processes(running.container)) == 1 + 3  # gunicorn's master and 3 workers


def test_execution_parameters_or_none_on_404(host, echo_model):
    plain = host.start("plain", "test/echo:1", echo_model, {})
    assert plain.execution_parameters() is None
    parameters = {"MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD"}
    batch = host.start(
        "batch", "test/echo:1", echo_model, {"ECHO_EXECUTION_PARAMETERS": json.dumps(parameters)}
    )
    assert batch.execution_parameters() == parameters
    broken = host.start("broken", "test/echo:1", echo_model, {"ECHO_EXECUTION_PARAMETERS": "{"})
    with pytest.raises(ContainerError, match="GET /execution-parameters answered invalid JSON"):
        broken.execution_parameters()


def test_an_ecr_image_uri_runs_the_local_image_of_its_repository(host, fake, echo_model):
    engine, _ = fake
    # The emulator's ECR holds no images; `make images` tags them by repository path.
    running = host.start(
        "ecr", "123456789012.dkr.ecr.us-east-1.amazonaws.com/test/echo:1", echo_model, {}
    )
    assert running.image == "test/echo:1"
    assert engine.container(running.container)["image"] == "test/echo:1"


def test_an_image_that_is_not_there_is_named(host, fake, echo_model):
    engine, _ = fake
    with pytest.raises(ContainerError) as caught:
        host.start("missing", "localhost:5000/team/model:2", echo_model, {})
    assert str(caught.value) == (
        "model missing: image localhost:5000/team/model:2 nor team/model:2 is not among "
        "docker's local images; build it (make images) or pull it first"
    )
    assert engine.containers() == []


def test_start_timeout_fails_with_the_last_log_lines_and_removes_the_container(
    fake, tmp_path, echo_model, monkeypatch
):
    engine, env = fake
    monkeypatch.setenv("LOCALAWS_CONTAINER_START_TIMEOUT", "1.5")
    host = ContainerHost(find_engine(env), tmp_path / "work")
    with pytest.raises(ContainerError) as caught:
        host.start("slow", "test/never-ready:1", echo_model, {})
    message = str(caught.value)
    assert "did not answer GET /ping with 200 within 1.5 s (LOCALAWS_CONTAINER_START_TIMEOUT)" in (
        message
    )
    assert message.endswith("its last log lines:\nloading shard 1/2\nloading shard 2/2")
    assert engine.containers() == [] == engine_names(engine, env)
    assert host.names() == []
    assert list((tmp_path / "work").iterdir()) == []  # the model copy is gone too
    host.close()


def test_a_container_that_exits_fails_at_once_with_its_logs(host, fake, echo_model):
    """At once: the message says it exited, not that the 120 s start timeout ran out."""
    engine, _ = fake
    with pytest.raises(ContainerError) as caught:
        host.start("crash", "test/crashes:1", echo_model, {})
    assert "exited before answering GET /ping" in str(caught.value)
    assert str(caught.value).endswith("cannot load the model: no model file")
    assert engine.containers() == []


def test_stop_leaves_no_process(host, fake, model_dir, tmp_path):
    engine, env = fake
    workers = {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}
    running = host.start("stopped", SERVING_IMAGE, model_dir, workers)
    deadline = time.monotonic() + 20
    while len(engine.processes(running.container)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = engine.processes(running.container)
    assert len(pids) == 3 and all(process_running(pid) for pid in pids)
    host.stop("stopped")
    assert not any(process_running(pid) for pid in pids)
    assert engine_names(engine, env) == []
    assert not running.staged.exists()
    assert host.get("stopped") is None
    with pytest.raises(ContainerError, match="no container is running for stopped"):
        host.stop("stopped")


def test_stop_all_and_a_second_start_of_a_name(host, fake, echo_model):
    engine, env = fake
    first = host.start("a", "test/echo:1", echo_model, {})
    host.start("b", "test/echo:1", echo_model, {})
    with pytest.raises(ContainerError, match="a container for a is already running"):
        host.start("a", "test/echo:1", echo_model, {})
    pids = [engine.container(c)["pid"] for c in engine.containers()]
    host.stop_all()
    assert not any(process_running(pid) for pid in pids)
    assert engine_names(engine, env) == [] and host.names() == []
    assert first.ping() is None


def test_invoking_a_container_that_died_names_it_with_its_logs(host, fake, echo_model):
    engine, _ = fake
    running = host.start("dies", "test/echo:1", echo_model, {})
    os.killpg(engine.container(running.container)["pid"], signal.SIGKILL)
    with pytest.raises(ContainerError) as caught:
        running.invoke(b"x", "text/plain")
    message = str(caught.value)
    assert message.startswith(f"container {running.container} (test/echo:1) did not answer POST")
    assert message.endswith("its last log lines:\necho: listening")


@pytest.mark.parametrize(
    ("environment", "message"),
    [({"": "x"}, "environment entry ''='x'"), ({"A=B": "x"}, "environment entry 'A=B'='x'")],
)
def test_bad_environment_entries_are_refused(host, echo_model, environment, message):
    with pytest.raises(ContainerError, match=message):
        host.start("env", "test/echo:1", echo_model, environment)


def test_a_missing_model_directory_is_refused(host, tmp_path):
    with pytest.raises(ContainerError, match=f"the model directory {tmp_path / 'nope'} does not"):
        host.start("m", "test/echo:1", tmp_path / "nope", {})


def test_containers_are_stopped_at_interpreter_exit(fake, tmp_path, echo_model):
    engine, env = fake
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from localaws.containers import ContainerHost, find_engine
        from tests.helpers.fake_engine import FakeEngine
        host = ContainerHost(find_engine({env!r}), Path({str(tmp_path / "work")!r}))
        running = host.start("left", "test/echo:1", Path({str(echo_model)!r}), {{}})
        print(FakeEngine(Path({str(engine.state)!r})).container(running.container)["pid"])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # Removed on the way out, without a stop() call.
    assert engine.containers() == []
    assert not process_running(int(done.stdout))


# ---------------------------------------------------------------------------------------------
# A real engine, where one answers
# ---------------------------------------------------------------------------------------------
REAL_ENV = {**os.environ, "LOCALAWS_CONTAINERS": "engine"}


def test_the_serving_image_under_a_real_engine(model_dir, trained_model, tmp_path):
    engine = find_engine(REAL_ENV)
    if engine is None:
        pytest.skip(why_not_engine(REAL_ENV))
    if not engine.has_image(SERVING_IMAGE):
        pytest.skip(f"{SERVING_IMAGE} is not built: make images TAG=local")
    host = ContainerHost(engine, tmp_path / "work")
    try:
        running = host.start("real", SERVING_IMAGE, model_dir, {})
        status, body, _ = running.invoke(SAMPLE.read_bytes(), "text/csv", "text/csv")
        assert status == 200
        rows = np.loadtxt(SAMPLE, delimiter=",", ndmin=2)
        want = load_booster(trained_model.model_path).predict(xgb.DMatrix(rows))
        np.testing.assert_allclose(scores(body), want, rtol=1e-6)
        container = running.container
    finally:
        host.close()
    assert container not in engine.running_names(container)

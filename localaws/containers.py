"""A SageMaker model's own image, run with a container engine (Docker or Podman) as SageMaker runs
it, for the local hosting's engine mode (LOCALAWS_CONTAINERS=engine); the runtime's Batch jobs use
the same engine (`local_image`, `run_argv`: `<engine> run --rm` in the foreground).

SageMaker's contract for an inference image ("Custom Inference Code with Hosting Services"):
- it runs `docker run <image> serve`: the `serve` argument replaces the image's CMD;
- the model's Environment becomes the container's environment; the model artifact is unpacked
  into /opt/ml/model;
- the container serves HTTP on port 8080: GET /ping answers 200 once it can take requests
  (SageMaker waits up to 2 s for each health check), POST /invocations the requests (60 s at
  most), GET /execution-parameters optionally (Batch Transform asks it for its defaults);
- a container is stopped with SIGTERM, then SIGKILL.

Here each container gets a free port on 127.0.0.1 mapped to its 8080, the model directory mounted
read-only at /opt/ml/model, the Environment as `-e KEY=VALUE`, and nothing else: in particular
no SAGEMAKER_BIND_TO_PORT, so the container listens on 8080 inside as on SageMaker. Whatever
starts here is stopped by `stop`, `stop_all`, `close`, or at interpreter exit.

    engine = find_engine()          # None unless LOCALAWS_CONTAINERS=engine and one answers
    if engine is None:
        print(why_not_engine())
    host = ContainerHost(engine, workdir)
    running = host.start("model-a", image, model_dir, {"SAGEMAKER_PROGRAM": "x"})
    status, body, content_type = running.invoke(b"1,2\\n", "text/csv", "text/csv")
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3

log = logging.getLogger("localaws.containers")

MODE_VAR = "LOCALAWS_CONTAINERS"
ENGINE_VAR = "LOCALAWS_CONTAINER_ENGINE"
START_TIMEOUT_VAR = "LOCALAWS_CONTAINER_START_TIMEOUT"
ENGINES = ("docker", "podman")

INFO_TIMEOUT_S = 5.0  # `<engine> info` of a daemon that answers takes well under a second
ENGINE_TIMEOUT_S = 60.0  # any other engine command (run, rm, logs, ps)
DEFAULT_START_TIMEOUT_S = 120.0
PING_TIMEOUT_S = 2.0  # SageMaker's wait for one health check
INVOKE_TIMEOUT_S = 60.0  # SageMaker's limit for a container's answer to /invocations
LIVENESS_CHECK_S = 1.0  # while waiting for /ping: how often to ask whether the container runs
LOG_TAIL_LINES = 30
CONTAINER_PORT = 8080
MODEL_PATH = "/opt/ml/model"


class ContainerError(Exception):
    """A container that cannot be started or does not answer: the message names the container,
    its image and what went wrong (with its last log lines where they explain it)."""


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Engine:
    name: str  # "docker" or "podman"
    path: str  # the CLI found on PATH

    def command(
        self, *args: str, timeout: float = ENGINE_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """Run `<engine> args...`; the caller reads the exit code. A hung engine raises
        ContainerError after `timeout` seconds."""
        try:
            return subprocess.run(
                [self.path, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise ContainerError(
                f"`{self.name} {' '.join(args[:2])}` did not finish within {timeout:g} s"
            ) from None

    def has_image(self, image: str) -> bool:
        return self.command("image", "inspect", image).returncode == 0

    def running_names(self, name: str) -> set[str]:
        """Names of the running containers whose name contains `name` (the engine's filter)."""
        listed = self.command("ps", "--filter", f"name={name}", "--format", "{{.Names}}")
        return set(listed.stdout.split()) if listed.returncode == 0 else set()

    def logs(self, container: str, lines: int = LOG_TAIL_LINES) -> str:
        found = self.command("logs", "--tail", str(lines), container)
        # The engine forwards the container's stdout and stderr to its own.
        text = (found.stdout + found.stderr).strip()
        return text if found.returncode == 0 else f"(no logs: {text or 'the engine gave none'})"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _probe(env: Mapping[str, str]) -> tuple[Engine | None, str]:
    mode = env.get(MODE_VAR)
    if mode != "engine":
        shown = "unset" if mode is None else f"{mode!r}"
        return None, (
            f"{MODE_VAR} is not 'engine' ({shown}): the local hosting serves every model with "
            "the inference core"
        )
    wanted = env.get(ENGINE_VAR) or None
    if wanted is not None and wanted not in ENGINES:
        return None, f"{ENGINE_VAR} is {wanted!r}; it must be one of {', '.join(ENGINES)}"
    reasons = []
    for name in (wanted,) if wanted else ENGINES:
        path = shutil.which(name, path=env.get("PATH", os.defpath))
        if path is None:
            reasons.append(f"{name} is not on PATH")
            continue
        try:
            info = subprocess.run(
                [path, "info"],
                capture_output=True,
                text=True,
                timeout=INFO_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            reasons.append(
                f"{name} is on PATH but `{name} info` did not answer within {INFO_TIMEOUT_S:g} s"
            )
            continue
        except OSError as exc:
            reasons.append(f"{name} is on PATH ({path}) but cannot run: {exc}")
            continue
        if info.returncode == 0:
            return Engine(name, path), ""
        detail = _first_line(info.stderr) or f"`{name} info` exited with {info.returncode}"
        reasons.append(f"{name} is on PATH but its daemon does not answer: {detail}")
    return None, "; ".join(reasons)


def find_engine(env: Mapping[str, str] = os.environ) -> Engine | None:
    """The container engine the local hosting runs images with: only when LOCALAWS_CONTAINERS is
    'engine', the first of docker and podman (or the one LOCALAWS_CONTAINER_ENGINE names) on
    PATH whose `info` succeeds within a few seconds. None otherwise; why_not_engine says why."""
    return _probe(env)[0]


def why_not_engine(env: Mapping[str, str] = os.environ) -> str:
    """Why find_engine(env) finds no engine, in one line; "" when it finds one."""
    return _probe(env)[1]


# ---------------------------------------------------------------------------------------------
# Running containers
# ---------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _registry_less(image: str) -> str | None:
    """`registry/path:tag` → `path:tag`, as the engine names a registry (a first path component
    with a '.' or ':', or localhost); None when the image names no registry."""
    first, sep, rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return rest
    return None


def _stage_model(model_dir: Path, target: Path) -> None:
    # Images run as a non-root user (the project's as uid 10001) and a bind mount keeps the host's
    # modes: a directory from mkdtemp (0700) would be unreadable inside. The copy is world-readable.
    shutil.copytree(model_dir, target)  # symlinks are copied as the files they point to
    for root, _, files in os.walk(target):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def local_image(engine: Engine, image: str) -> str:
    """The engine's local image for `image`: the emulator's ECR holds no images, so an ECR URI is
    also looked up by its repository path, which is what `make images` tags (byo/serving:<tag>).
    ContainerError when the engine has neither."""
    candidates = [image]
    stripped = _registry_less(image)
    if stripped:
        candidates.append(stripped)
    for candidate in candidates:
        if engine.has_image(candidate):
            return candidate
    raise ContainerError(
        f"image {' nor '.join(candidates)} is not among {engine.name}'s local images; build it "
        "(make images) or pull it first"
    )


def run_argv(
    engine: Engine,
    container: str,
    image: str,
    command: list[str],
    environment: Mapping[str, str],
) -> list[str]:
    """`<engine> run` in the foreground for a job's container (as ECS runs a Batch job): removed
    when it exits, on the host's network (the emulator answers on 127.0.0.1), the environment as
    `-e KEY=VALUE`, `command` replacing the image's CMD. The engine forwards SIGTERM to the
    container; `<engine> rm -f <container>` kills it."""
    argv = [engine.path, "run", "--rm", "--name", container, "--network", "host"]
    for key, value in environment.items():
        if not key or "=" in key:
            raise ContainerError(f"container {container}: {key!r} is not an environment name")
        argv += ["-e", f"{key}={value}"]
    return [*argv, image, *command]


class Running:
    """One started container: its HTTP API on 127.0.0.1:<port> (the container's 8080)."""

    def __init__(
        self, engine: Engine, name: str, container: str, image: str, port: int, staged: Path
    ) -> None:
        self.engine = engine
        self.name = name
        self.container = container
        self.image = image
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.staged = staged
        # A POST is never retried: a prediction may have side effects (captures, counters).
        self._pool = urllib3.HTTPConnectionPool(
            "127.0.0.1", port, maxsize=16, block=False, retries=False
        )

    def __repr__(self) -> str:
        return f"Running({self.name!r}, container={self.container!r}, image={self.image!r})"

    def _request(
        self, method: str, path: str, timeout: float, body: bytes | None = None, **headers: str
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(
                method,
                path,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(connect=PING_TIMEOUT_S, read=timeout),
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise ContainerError(
                f"container {self.container} ({self.image}) did not answer {method} {path}: "
                f"{exc}; its last log lines:\n{self.engine.logs(self.container, 10)}"
            ) from None

    def ping(self) -> int | None:
        """The status of GET /ping; None when nothing answers (yet)."""
        try:
            return self._pool.request("GET", "/ping", timeout=PING_TIMEOUT_S, redirect=False).status
        except urllib3.exceptions.HTTPError:
            return None

    def invoke(
        self, body: bytes, content_type: str | None = None, accept: str | None = None
    ) -> tuple[int, bytes, str | None]:
        """POST /invocations as SageMaker forwards InvokeEndpoint: (status, body, content type)."""
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        response = self._request("POST", "/invocations", INVOKE_TIMEOUT_S, body, **headers)
        return response.status, response.data, response.headers.get("Content-Type")

    def execution_parameters(self) -> dict[str, Any] | None:
        """GET /execution-parameters (what Batch Transform asks a container for its defaults,
        e.g. MaxConcurrentTransforms, BatchStrategy, MaxPayloadInMB); None when it answers 404."""
        response = self._request("GET", "/execution-parameters", PING_TIMEOUT_S)
        if response.status == 404:
            return None
        where = f"container {self.container} ({self.image}): GET /execution-parameters"
        if response.status != 200:
            raise ContainerError(f"{where} answered {response.status}: {response.data[:200]!r}")
        try:
            parameters = json.loads(response.data)
        except ValueError as exc:
            raise ContainerError(f"{where} answered invalid JSON: {exc}") from None
        if not isinstance(parameters, dict):
            raise ContainerError(f"{where} answered {type(parameters).__name__}, not an object")
        return parameters

    def logs(self, lines: int = LOG_TAIL_LINES) -> str:
        return self.engine.logs(self.container, lines)

    def close(self) -> None:
        self._pool.close()


class ContainerHost:
    """Starts and stops the containers of one local hosting; `workdir` holds the model
    directories the containers mount (one copy each, removed when the container stops)."""

    def __init__(self, engine: Engine, workdir: Path, start_timeout_s: float | None = None) -> None:
        self.engine = engine
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        if start_timeout_s is None:
            raw = os.environ.get(START_TIMEOUT_VAR) or str(DEFAULT_START_TIMEOUT_S)
            try:
                start_timeout_s = float(raw)
            except ValueError:
                raise ContainerError(
                    f"{START_TIMEOUT_VAR} is {raw!r}; it must be a number of seconds"
                ) from None
        if start_timeout_s <= 0:
            raise ContainerError(f"the start timeout must be above 0 s, not {start_timeout_s}")
        self.start_timeout_s = start_timeout_s
        self._running: dict[str, Running] = {}
        self._starting: set[str] = set()
        self._lock = threading.Lock()
        atexit.register(self.close)

    def get(self, name: str) -> Running | None:
        with self._lock:
            return self._running.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def start(
        self, name: str, image: str, model_dir: Path, environment: Mapping[str, str]
    ) -> Running:
        """`<engine> run` the image as SageMaker does and wait until GET /ping answers 200.

        Raises ContainerError, with the container's last log lines, when the image is not
        available, the container exits, or /ping does not answer 200 within the start timeout;
        a container that failed to start is removed."""
        if not name:
            raise ContainerError("a container needs a name (the model's), not an empty one")
        model_dir = Path(model_dir).resolve()
        if not model_dir.is_dir():
            raise ContainerError(f"model {name}: the model directory {model_dir} does not exist")
        for key, value in environment.items():
            if not key or "=" in key or not isinstance(value, str):
                raise ContainerError(
                    f"model {name}: environment entry {key!r}={value!r} is not KEY=VALUE text"
                )
        with self._lock:
            if name in self._running or name in self._starting:
                raise ContainerError(f"a container for {name} is already running; stop it first")
            self._starting.add(name)
        try:
            running = self._start(name, self._local_image(name, image), model_dir, environment)
        finally:
            with self._lock:
                self._starting.discard(name)
        with self._lock:
            self._running[name] = running
        return running

    def _local_image(self, name: str, image: str) -> str:
        try:
            return local_image(self.engine, image)
        except ContainerError as exc:
            raise ContainerError(f"model {name}: {exc}") from None

    def _start(
        self, name: str, image: str, model_dir: Path, environment: Mapping[str, str]
    ) -> Running:
        slug = re.sub(r"[^a-zA-Z0-9_.-]+", "-", name).strip("-.")[:40] or "model"
        container = f"localaws-{slug}-{uuid.uuid4().hex[:8]}"
        staged = self.workdir / container
        _stage_model(model_dir, staged / "model")
        port = _free_port()
        args = ["run", "-d", "--name", container]
        args += ["-p", f"127.0.0.1:{port}:{CONTAINER_PORT}"]
        args += ["-v", f"{staged / 'model'}:{MODEL_PATH}:ro"]
        for key, value in environment.items():
            args += ["-e", f"{key}={value}"]
        args += [image, "serve"]
        # No --rm: a container that dies while starting keeps its logs for the error message;
        # every path out of here or through stop() removes it.
        started = self.engine.command(*args)
        running = Running(self.engine, name, container, image, port, staged)
        if started.returncode != 0:
            self._remove(running)
            detail = _first_line(started.stderr) or f"exit code {started.returncode}"
            raise ContainerError(f"model {name}: `{self.engine.name} run {image}` failed: {detail}")
        log.info("started %s (%s) for %s on port %d", container, image, name, port)
        try:
            self._wait_ready(running)
        except BaseException:
            self._remove(running)
            raise
        return running

    def _wait_ready(self, running: Running) -> None:
        where = f"model {running.name}: container {running.container} ({running.image})"
        deadline = time.monotonic() + self.start_timeout_s
        next_check = time.monotonic() + LIVENESS_CHECK_S
        pause = 0.05
        while True:
            if running.ping() == 200:
                return
            now = time.monotonic()
            if now >= deadline:
                raise ContainerError(
                    f"{where} did not answer GET /ping with 200 within "
                    f"{self.start_timeout_s:g} s ({START_TIMEOUT_VAR}); its last log lines:\n"
                    f"{running.logs()}"
                )
            if now >= next_check:
                if running.container not in self.engine.running_names(running.container):
                    raise ContainerError(
                        f"{where} exited before answering GET /ping; its last log lines:\n"
                        f"{running.logs()}"
                    )
                next_check = now + LIVENESS_CHECK_S
            time.sleep(min(pause, max(deadline - now, 0)))
            pause = min(pause * 2, 0.5)

    def _remove(self, running: Running) -> None:
        running.close()
        removed = self.engine.command("rm", "-f", running.container)
        if removed.returncode != 0 and running.container in self.engine.running_names(
            running.container
        ):
            log.error(
                "could not remove container %s: %s", running.container, removed.stderr.strip()
            )
        shutil.rmtree(running.staged, ignore_errors=True)

    def stop(self, name: str) -> None:
        """Remove the container started for `name` (`<engine> rm -f`) and its model copy."""
        with self._lock:
            running = self._running.pop(name, None)
        if running is None:
            raise ContainerError(
                f"no container is running for {name} (running: {', '.join(self.names()) or 'none'})"
            )
        self._remove(running)
        log.info("stopped %s for %s", running.container, name)

    def stop_all(self) -> None:
        """Stop every container this host started; one that fails to stop does not keep the
        others running."""
        for name in self.names():
            try:
                self.stop(name)
            except ContainerError:
                log.exception("stopping the container for %s failed", name)

    def close(self) -> None:
        self.stop_all()
        atexit.unregister(self.close)

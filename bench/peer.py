"""The peer in `make bench`: MLServer with its XGBoost runtime, serving the same model file.

MLServer lives in a venv of its own (build/bench/mlserver-venv, made once and reused while its
requirements stay the same): its pins (fastapi, pydantic, protobuf, ...) are not the project's.
It runs the same xgboost release as `serve`, the one this interpreter imports.

The model directory holds `model.json` (the project's `xgboost-model`, XGBoost JSON) and a
model-settings.json naming mlserver_xgboost.XGBoostModel. The runtime loads a booster trained
with xgb.train as an XGBRegressor, whose `predict` output is the binary:logistic score: the same
number `serve` answers. MLServer's REST endpoint speaks the V2 inference protocol in JSON only
(its codecs are numpy, pandas, string, base64 and datetime inside a V2 request; there is no CSV
codec), so the peer gets the same rows as one FP64 tensor of shape [rows, 30] in a V2 JSON body.

Configurations: parallel_workers = N worker processes predict while the main process runs HTTP
(uvicorn) and hands each request to a worker; 0 predicts in the main process. The runtime has no
thread setting: xgboost's OpenMP threads follow OMP_NUM_THREADS, set per configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import xgboost as xgb

import bench
from bench import free_port, wait_http_ready

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / "build" / "bench" / "mlserver-venv"
MLSERVER = "1.7.1"
# mlserver-xgboost requires `xgboost[scikit-learn]`, the full wheel (with the ~470 MB NCCL
# library); the project runs xgboost-cpu, the same library without it. So xgboost-cpu and
# scikit-learn at the project's versions go in with MLServer, and the runtime goes in without
# its dependencies (it has no others).
REQUIREMENTS = (
    f"mlserver=={MLSERVER}",
    f"xgboost-cpu=={xgb.__version__}",
    f"scikit-learn=={version('scikit-learn')}",
    # MLServer 1.7.1's parallel workers call asyncio.get_event_loop() before setting one, which
    # uvloop 0.23 (the newest) makes an error: every worker dies at start. 0.21, current when
    # MLServer 1.7.1 came out, does not.
    "uvloop==0.21.0",
    # uvicorn parses HTTP with httptools when it is installed (uvicorn[standard]), else with h11
    # in pure Python: the peer gets the faster one.
    "httptools==0.9.0",
)
RUNTIME = f"mlserver-xgboost=={MLSERVER}"
MODEL_NAME = "fraud"
READY_SECONDS = 120  # MLServer's start, its workers spawned and each loading the model
# Its graceful stop waits for the worker pool (parallel_workers_timeout) and gRPC's grace (5 s,
# fixed in MLServer) one after the other.
STOP_SECONDS = 15


@dataclass(frozen=True)
class Configuration:
    """One way to run MLServer on this machine."""

    parallel_workers: int
    threads: int  # xgboost's OpenMP threads in each process that predicts

    @property
    def label(self) -> str:
        threads = f"{self.threads} thread{'s' if self.threads > 1 else ''}"
        return f"parallel_workers={self.parallel_workers}, {threads}"


# The issue's own measurement found the first the fastest; the others are tried in the same run.
CONFIGURATIONS = (Configuration(2, 1), Configuration(1, 2), Configuration(0, 2))


def python(venv: Path = VENV) -> Path:
    """The venv's interpreter, made (or remade, when its requirements changed) first."""
    stamp = venv / ".installed"
    wanted = "\n".join([*REQUIREMENTS, RUNTIME]) + "\n"
    if stamp.exists() and stamp.read_text() == wanted:
        return venv / "bin" / "python"
    print(f"bench: installing MLServer {MLSERVER} into {venv} (once)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    for command in ([*pip, *REQUIREMENTS], [*pip, "--no-deps", RUNTIME]):
        done = subprocess.run(command, stderr=subprocess.PIPE, text=True, check=False)
        # pip warns about every find-links location of this machine's pip config that does
        # not exist (as the Makefile's PIP_STDERR_FILTER says); the rest of its stderr stays.
        for line in done.stderr.splitlines():
            if "is ignored: it is neither a file nor a directory" not in line:
                print(line, file=sys.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"installing MLServer failed: {' '.join(command)}")
    stamp.write_text(wanted)
    return venv / "bin" / "python"


def v2_body(csv_body: bytes) -> bytes:
    """The rows of a headerless CSV body as one V2 inference request (JSON)."""
    rows = [line.split(b",") for line in csv_body.splitlines() if line]
    request = {
        "inputs": [
            {
                "name": "input-0",
                "shape": [len(rows), len(rows[0])],
                "datatype": "FP64",
                "data": [float(value) for row in rows for value in row],
            }
        ]
    }
    return json.dumps(request).encode()


def scores(answer: bytes) -> list[float]:
    """The scores of a V2 inference response."""
    return [float(v) for v in json.loads(answer)["outputs"][0]["data"]]


def write_repository(model_file: Path, root: Path, configuration: Configuration) -> int:
    """MLServer's settings.json and the model's directory under `root`; returns the HTTP port."""
    port = free_port()
    settings = {
        "debug": False,
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),  # MLServer always starts gRPC: a free port, never used
        "metrics_endpoint": None,  # no metrics server
        "parallel_workers": configuration.parallel_workers,
        "parallel_workers_timeout": 2,
        "gzip_enabled": False,  # wrk asks for no compression; nothing to do per response
    }
    (root / "settings.json").write_text(json.dumps(settings, indent=2))
    model_dir = root / MODEL_NAME
    model_dir.mkdir(exist_ok=True)
    (model_dir / "model.json").write_bytes(model_file.read_bytes())
    model_settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_xgboost.XGBoostModel",
        "parameters": {"uri": "./model.json"},
    }
    (model_dir / "model-settings.json").write_text(json.dumps(model_settings, indent=2))
    return port


def start(
    model_file: Path, root: Path, configuration: Configuration, stderr: Any
) -> tuple[subprocess.Popen, int]:
    """MLServer on a free 127.0.0.1 port in a session of its own (bench.serving.stop reaches its
    whole process group); returns it and its HTTP port (wait_ready before using it)."""
    port = write_repository(model_file, root, configuration)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(configuration.threads),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    server = subprocess.Popen(
        [str(python().parent / "mlserver"), "start", str(root)],
        cwd=root,
        env=env,
        stdout=stderr,
        stderr=stderr,
        start_new_session=True,
    )
    return server, port


INFER_PATH = f"/v2/models/{MODEL_NAME}/infer"


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}{INFER_PATH}"


def post(port: int, body: bytes) -> bytes:
    return bench.post("MLServer", port, INFER_PATH, body, "application/json")


def wait_ready(port: int, server: subprocess.Popen, log: Any) -> None:
    wait_http_ready("MLServer", port, f"/v2/models/{MODEL_NAME}/ready", server, log, READY_SECONDS)

"""Serving benchmark: the real `serve` process against two in-process limits on identical payloads.

(a) the work the server must do, in this process with no HTTP: decode the CSV body, predict,
    encode the CSV answer (serving.inference.invoke);
(b) xgboost inplace_predict alone on the already-parsed rows.
Requests go over loopback with one keep-alive connection per client thread (reopened when the
server closes it). Each cell also reports how the CPU time of serve's workers split between them
(from /proc): at concurrency 8 both cores should be busy, whatever worker accepted the clients'
connections.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import free_port
from serving.inference import invoke, load_model

BATCHES = (1, 100, 1000)
CONCURRENCY = (1, 8)
# Requests per cell: a few seconds of load on an idle machine, so that a cell outlasts the
# server's rebalancing of keep-alive connections (serving.server.CONNECTION_SECONDS).
REQUESTS = {1: 5000, 100: 1500, 1000: 600}


@dataclass
class Result:
    rows_per_request: int
    concurrency: int
    rows_per_s: float
    p50_ms: float
    p99_ms: float
    worker_cpu_s: list[float]  # CPU seconds each of serve's workers used in the cell
    wall_s: float

    @property
    def split(self) -> str:
        """Each worker's share of the workers' CPU time, e.g. 51%/49%."""
        total = sum(self.worker_cpu_s) or 1.0
        return "/".join(f"{used / total:.0%}" for used in self.worker_cpu_s)

    @property
    def balanced(self) -> bool:
        """Every worker had at least half of an even share of the CPU time."""
        total = sum(self.worker_cpu_s)
        even = total / len(self.worker_cpu_s)
        return total > 0 and min(self.worker_cpu_s) >= 0.5 * even


def workers_of(server: subprocess.Popen) -> list[int]:
    """The pids of a gunicorn master's worker processes."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    return sorted(int(pid) for pid in children.split())


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/PID/stat utime, stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def payloads(data_csv: Path) -> dict[int, bytes]:
    lines = []
    with data_csv.open() as handle:
        next(handle)
        for line, _ in zip(handle, range(max(BATCHES)), strict=False):
            lines.append(line.rsplit(",", 1)[0])  # drop Class
    return {n: ("\n".join(lines[:n]) + "\n").encode() for n in BATCHES}


def in_process(model_dir: Path, bodies: dict[int, bytes]) -> dict[int, tuple[float, float]]:
    """rows/s of (a) decode+predict+encode and (b) predict alone, one thread."""
    model = load_model(model_dir, threads=1)
    limits = {}
    for rows, body in bodies.items():
        calls = max(20, REQUESTS[rows])
        began = time.perf_counter()
        for _ in range(calls):
            invoke(model, body, "text/csv", "text/csv")
        full = calls * rows / (time.perf_counter() - began)
        features = np.loadtxt(body.splitlines(), delimiter=",", ndmin=2)
        began = time.perf_counter()
        for _ in range(calls):
            model.predict(features)
        predict = calls * rows / (time.perf_counter() - began)
        limits[rows] = (full, predict)
    return limits


def drive(
    port: int, body: bytes, rows: int, concurrency: int, total: int, workers: list[int]
) -> Result:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // concurrency

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for _ in range(per_thread):
            began = time.perf_counter()
            conn.request("POST", "/invocations", body=body, headers={"Content-Type": "text/csv"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    cpu_before = [cpu_seconds(pid) for pid in workers]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    worker_cpu = [cpu_seconds(pid) - used for pid, used in zip(workers, cpu_before, strict=True)]
    latencies.sort()
    return Result(
        rows,
        concurrency,
        len(latencies) * rows / elapsed,
        statistics.median(latencies) * 1e3,
        latencies[int(0.99 * (len(latencies) - 1))] * 1e3,
        worker_cpu,
        elapsed,
    )


READY_SECONDS = 60  # a server not answering /ping by then fails the benchmark
STOP_SECONDS = 5  # gunicorn stops in well under a second when its workers exit on SIGTERM


def start_serve(model_dir: Path, workers: int, stderr: Any) -> tuple[subprocess.Popen, int]:
    """A real `serve` process on a free 127.0.0.1 port, in a session of its own (so that stop()
    can reach all of it); returns it and its port."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "serve")],
        env={
            **os.environ,
            "SM_MODEL_DIR": str(model_dir),
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_MODEL_SERVER_WORKERS": str(workers),
        },
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    return server, port


def wait_ready(port: int, server: subprocess.Popen, log: Any = None) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if server.poll() is not None:
            raise RuntimeError(
                f"serve exited with code {server.returncode} before answering /ping: "
                f"{Path(log.name).read_text(errors='replace')[-2000:] if log else ''}"
            )
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/ping")
            ready = conn.getresponse().status == 200
            conn.close()
            if ready:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve on port {port} did not answer /ping in {READY_SECONDS} s")
        time.sleep(0.1)


def stop(server: subprocess.Popen) -> bool:
    """SIGTERM to the server's PID (gunicorn's graceful stop); then SIGKILL to its process group
    (its own session, so the group id is its PID) when anything of it is still there after
    STOP_SECONDS, a hung worker too. True when it had to."""
    if server.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=STOP_SECONDS)
    try:
        os.killpg(server.pid, 0)
    except ProcessLookupError:
        return False
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    return True


def run(model_tarball: Path, data_csv: Path) -> list[tuple[str, str, str]]:
    bodies = payloads(data_csv)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp)
        with tarfile.open(model_tarball, "r:gz") as tar:
            tar.extractall(model_dir, filter="data")
        limits = in_process(model_dir, bodies)
        workers = os.cpu_count() or 1
        server, port = start_serve(model_dir, workers, subprocess.DEVNULL)
        try:
            wait_ready(port, server)
            time.sleep(1)  # let every worker boot
            pids = workers_of(server)
            results = [
                drive(port, bodies[rows], rows, concurrency, REQUESTS[rows], pids)
                for rows in BATCHES
                for concurrency in CONCURRENCY
            ]
        finally:
            stop(server)

    table = []
    for result in results:
        full, predict = limits[result.rows_per_request]
        table.append(
            (
                f"serve ({workers} gunicorn workers): {result.rows_per_request:,} rows/request, "
                f"concurrency {result.concurrency}",
                f"{result.rows_per_s / 1e3:,.1f}k rows/s, p50 {result.p50_ms:.2f} ms, "
                f"p99 {result.p99_ms:.2f} ms; {result.rows_per_s / full:.0%} of (a) "
                f"{full / 1e3:,.1f}k rows/s, {result.rows_per_s / predict:.0%} of (b) "
                f"{predict / 1e3:,.1f}k rows/s; workers used "
                f"{sum(result.worker_cpu_s) / result.wall_s:.2f} cores, split {result.split}",
                target(result, full),
            )
        )
    return table


def target(result: Result, full: float) -> str:
    targets = []
    if result.rows_per_request == 1000:
        targets.append((">= 70% of (a)", result.rows_per_s >= 0.7 * full))
    if result.rows_per_request == 1 and result.concurrency == 1:
        targets.append(("p99 <= 2 ms", result.p99_ms <= 2))
    if result.concurrency >= 2:
        targets.append(("every worker busy (>= half an even CPU share)", result.balanced))
    return "; ".join(f"{name}: {'met' if met else 'missed'}" for name, met in targets)

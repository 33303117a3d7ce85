"""Serving benchmark: the real `serve` process against two in-process limits on identical payloads.

(a) the work the server must do, in this process with no HTTP: decode the CSV body, predict,
    encode the CSV answer (serving.inference.invoke);
(b) xgboost inplace_predict alone on the already-parsed rows.
Requests go over loopback with one keep-alive connection per client thread (reopened when the
server closes it). Each cell also reports how the CPU time of serve's workers split between them
(from /proc): at concurrency 8 both cores should be busy, whatever worker accepted the clients'
connections.

peer_section (its own RESULTS.md section): `serve` against MLServer (bench.peer), every server
driven by wrk (bench.wrk) on the same rows in the same run, the issue's targets checked.
"""

from __future__ import annotations

import http.client
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from bench import free_port, peer, post, wait_http_ready, wrk
from bench.wrk import cpu_seconds, running_in_group
from serving.artifact import MODEL_FILE
from serving.inference import invoke, load_model

BATCHES = (1, 100, 1000)
CONCURRENCY = (1, 8)
# Requests per cell: a few seconds of load on an idle machine, so that a cell outlasts the
# server's rebalancing of keep-alive connections (serving.server.CONNECTION_SECONDS).
REQUESTS = {1: 5000, 100: 1500, 1000: 600}


def balanced(workers: list[float]) -> bool:
    """Every worker had at least half of an even share of the workers' CPU time."""
    return sum(workers) > 0 and min(workers) >= 0.5 * sum(workers) / len(workers)


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
        return balanced(self.worker_cpu_s)


def workers_of(server: subprocess.Popen) -> list[int]:
    """The pids of a gunicorn master's worker processes."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    return sorted(int(pid) for pid in children.split())


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
    wait_http_ready("serve", port, "/ping", server, log, READY_SECONDS)


def stop(server: subprocess.Popen, grace: float = STOP_SECONDS) -> bool:
    """SIGTERM to the server's PID (gunicorn's graceful stop); then SIGKILL to its process group
    (its own session, so the group id is its PID) when anything of it still runs after `grace`
    seconds, a hung worker too. True when it had to. Zombies do not count: a helper that exits
    after its parent (multiprocessing's resource tracker) is left for init to reap."""
    deadline = time.monotonic() + grace
    if server.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
    while running_in_group(server.pid):
        if time.monotonic() > deadline:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
            return True
        time.sleep(0.05)
    server.wait(timeout=10)
    return False


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


# ---------------------------------------------------------------------------------------------
# serve vs MLServer, both driven by wrk
# ---------------------------------------------------------------------------------------------
PEER_HEADING = "## serve vs MLServer (wrk)"
PEER_RUNS = 3  # timed wrk runs per cell; the median run (by rows/s) is reported
PEER_SECONDS = 2  # each timed run
WARM_SECONDS = 1  # one wrk run at the cell's body and concurrency first, not timed
RATIO_TARGET = 1.5  # serve's rows/s over the best MLServer configuration's, at every cell
PREDICT_TARGET = 0.4  # serve's rows/s at 1,000 rows, c=1, over predict alone (one thread)
P99_TARGET_MS = 2.0  # serve's p99 at 1 row per request, concurrency 1
BUSY_CORES = 0.25  # others' average use of the cores above which the machine counts as busy
IDLE_CORES = 0.2  # what the machine may leave idle while serve is driven and both cores count busy


@dataclass(frozen=True)
class Cell:
    """The median of PEER_RUNS wrk runs at one rows-per-request and concurrency."""

    load: wrk.Load
    usage: wrk.Usage
    rows: int

    @property
    def rows_per_s(self) -> float:
        return self.load.requests_per_s * self.rows


@dataclass(frozen=True)
class Target:
    """A running server as wrk drives it."""

    name: str
    url: str
    content_type: str
    bodies: dict[int, bytes]  # rows per request → body
    pid: int


def wrk_run(target: Target, rows: int, concurrency: int, seconds: float) -> tuple:
    return wrk.run(
        target.url, target.bodies[rows], target.content_type, concurrency, seconds, target.pid
    )


def wrk_cells(targets: list[Target]) -> dict[str, dict[tuple[int, int], Cell]]:
    """name → (rows, concurrency) → Cell. At each cell every target is warmed up, then the
    timed runs go round the targets in turn, so that a change in the machine's other load
    falls on all of them alike."""
    cells: dict[str, dict[tuple[int, int], Cell]] = {target.name: {} for target in targets}
    for rows in BATCHES:
        for concurrency in CONCURRENCY:
            for target in targets:
                wrk_run(target, rows, concurrency, WARM_SECONDS)
            runs: dict[str, list[tuple[wrk.Load, wrk.Usage]]] = {t.name: [] for t in targets}
            for _ in range(PEER_RUNS):
                for target in targets:
                    runs[target.name].append(wrk_run(target, rows, concurrency, PEER_SECONDS))
            for name, measured in runs.items():
                measured.sort(key=lambda run: run[0].requests_per_s)
                load, usage = measured[len(measured) // 2]
                cells[name][(rows, concurrency)] = Cell(load, usage, rows)
    return cells


def post_csv(port: int, body: bytes) -> bytes:
    return post("serve", port, "/invocations", body, "text/csv")


SERVE = "serve"


def measure_peers(
    model_dir: Path, bodies: dict[int, bytes], log: Any
) -> tuple[dict[str, dict[tuple[int, int], Cell]], list[str]]:
    """Cells of serve and of every MLServer configuration (keyed by its label), all running at
    once and idle but for the one wrk drives; and the servers whose stop took a SIGKILL.
    MLServer's scores of the largest body are checked against serve's first: the same work,
    done right."""
    largest = max(BATCHES)
    v2_bodies = {rows: peer.v2_body(body) for rows, body in bodies.items()}
    servers: dict[str, subprocess.Popen] = {}
    with tempfile.TemporaryDirectory(prefix="bench-mlserver-") as roots:
        try:
            server, port = start_serve(model_dir, os.cpu_count() or 1, log)
            servers[SERVE] = server
            targets = [
                Target(
                    SERVE, f"http://127.0.0.1:{port}/invocations", "text/csv", bodies, server.pid
                )
            ]
            ports = {}
            for configuration in peer.CONFIGURATIONS:
                root = Path(roots) / str(len(servers))
                root.mkdir()
                server, ports[configuration] = peer.start(
                    model_dir / MODEL_FILE, root, configuration, log
                )
                servers[configuration.label] = server
            wait_ready(port, servers[SERVE], log)
            time.sleep(1)  # let every worker boot
            expected = np.array([float(line) for line in post_csv(port, bodies[largest]).split()])
            for configuration, peer_port in ports.items():
                peer.wait_ready(peer_port, servers[configuration.label], log)
                scores = peer.scores(peer.post(peer_port, v2_bodies[largest]))
                if not np.allclose(scores, expected, rtol=1e-5, atol=1e-7):
                    raise RuntimeError(
                        f"MLServer ({configuration.label}) scores the rows unlike serve"
                    )
                targets.append(
                    Target(
                        configuration.label,
                        peer.url(peer_port),
                        "application/json",
                        v2_bodies,
                        servers[configuration.label].pid,
                    )
                )
            cells = wrk_cells(targets)
        finally:  # all at once: each may wait STOP_SECONDS for its graceful stop
            graces = [STOP_SECONDS if name == SERVE else peer.STOP_SECONDS for name in servers]
            with ThreadPoolExecutor(len(servers) or 1) as pool:
                stopped = list(pool.map(stop, servers.values(), graces))
            forced = [name for name, killed in zip(servers, stopped, strict=True) if killed]
    return cells, forced


def rate(rows_per_s: float) -> str:
    return f"{rows_per_s / 1e3:,.{1 if rows_per_s >= 1e4 else 2}f}k"


def peer_section(model_tarball: Path, data_csv: Path, machine: str, command: str) -> list[str]:
    """The RESULTS.md section (lines): serve and every MLServer configuration under wrk, on the
    same machine in the same run, and the issue's targets."""
    started = datetime.now(UTC)
    peer.python()  # installed before the clock starts
    wrk.ensure_installed()
    machine_before, own_before = wrk.machine_cpu_seconds(), own_cpu_seconds()
    began = time.perf_counter()
    bodies = payloads(data_csv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp,
        tempfile.NamedTemporaryFile("w+", prefix="bench-peer-", suffix=".log") as log,
    ):
        model_dir = Path(tmp)
        with tarfile.open(model_tarball, "r:gz") as tar:
            tar.extractall(model_dir, filter="data")
        largest = max(BATCHES)
        _, predict_alone = in_process(model_dir, {largest: bodies[largest]})[largest]
        cells, forced = measure_peers(model_dir, bodies, log)
    took = time.perf_counter() - began
    machine_used = wrk.machine_cpu_seconds() - machine_before
    others = max(0.0, machine_used - (own_cpu_seconds() - own_before)) / took
    busy = (
        "the machine was busy: absolute rates are lower than on an idle machine; the servers' "
        "runs took turns, so its load fell on them alike, and the `others` column says how "
        "much of it each cell's reported runs had"
        if others > BUSY_CORES
        else "the machine was otherwise idle"
    )

    ours = cells[SERVE]
    theirs = {c.label: cells[c.label] for c in peer.CONFIGURATIONS}
    best: dict[tuple[int, int], tuple[str, Cell]] = {}
    for label, measured in theirs.items():
        for key, cell in measured.items():
            if key not in best or cell.rows_per_s > best[key][1].rows_per_s:
                best[key] = (label, cell)
    cores_n = os.cpu_count() or 1
    lines = [
        PEER_HEADING,
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `{command}` on: {machine}.",
        f"The section took {took:.0f} s; other processes used {others:.2f} of the {cores_n} "
        "cores on average meanwhile (/proc/stat less the CPU time of this benchmark, its "
        f"servers and wrk): {busy}.",
        "",
        *textwrap.wrap(
            "Every server gets the same 1, 100 and 1,000 fraud rows per request and the same "
            "model file; all run at once, idle but for the one being driven. serve: the real "
            f"`serve` process, {cores_n} gunicorn workers, text/csv. MLServer {peer.MLSERVER} "
            f"with mlserver-xgboost on xgboost {xgb.__version__}, serve's own, over HTTP: its "
            "REST endpoint takes the V2 inference protocol's JSON only (MLServer has no CSV "
            "codec), so it gets the same rows as one FP64 tensor [rows, 30] in a V2 JSON request "
            "and answers the same scores (checked before timing). Its configurations, each "
            "measured, the best per cell shown: "
            + "; ".join(c.label for c in peer.CONFIGURATIONS)
            + " (parallel_workers = processes that predict behind the main process's HTTP, 0 = "
            "in the main process; threads = OMP_NUM_THREADS). Load: wrk, 1 thread (one core "
            "at most), connections = concurrency, kept alive (wrk reconnects when serve closes "
            f"one); per cell one {WARM_SECONDS} s warm-up run per server, then {PEER_RUNS} "
            f"runs of {PEER_SECONDS} s per server, taking turns; the median run (by rows/s) "
            "gives every number of its row. Any socket error or non-2xx answer fails the cell. "
            "CPU in cores (CPU seconds over wall seconds, /proc): serve's 2 workers each; "
            "MLServer's main process (HTTP) + its other processes; wrk; others = the machine "
            "less the driven server and wrk (the idle servers included).",
            width=96,
        ),
        "",
        "| rows/request | concurrency | serve rows/s | serve p50 / p99 | MLServer best "
        "configuration | MLServer rows/s | MLServer p99 | serve / MLServer "
        f"(>= {RATIO_TARGET:g}x) | serve workers, cores | MLServer main + rest, cores | "
        "wrk, cores (serve / MLServer) | others, cores (serve / MLServer) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    met_ratio = 0
    for key in sorted(ours):
        rows, concurrency = key
        mine = ours[key]
        label, theirs_best = best[key]
        ratio = mine.rows_per_s / theirs_best.rows_per_s
        met_ratio += ratio >= RATIO_TARGET
        main_used, *rest = theirs_best.usage.server.values()
        lines.append(
            f"| {rows:,} | {concurrency} | {rate(mine.rows_per_s)} | "
            f"{mine.load.p50_ms:.2f} / {mine.load.p99_ms:.2f} ms | {label} | "
            f"{rate(theirs_best.rows_per_s)} | {theirs_best.load.p99_ms:.2f} ms | "
            f"{ratio:.2f}x: {'met' if ratio >= RATIO_TARGET else 'missed'} | "
            f"{'/'.join(f'{w:.2f}' for w in serve_workers(mine))} | "
            f"{main_used:.2f} + {sum(rest):.2f} | "
            f"{mine.usage.wrk:.2f} / {theirs_best.usage.wrk:.2f} | "
            f"{mine.usage.others:.2f} / {theirs_best.usage.others:.2f} |"
        )
    lines += [
        "",
        "Every MLServer configuration, rows/s (p99):",
        "",
        "| rows/request | concurrency | " + " | ".join(theirs) + " |",
        "|---|---|" + "---|" * len(theirs),
    ]
    for key in sorted(ours):
        lines.append(
            f"| {key[0]:,} | {key[1]} | "
            + " | ".join(
                f"{rate(measured[key].rows_per_s)} ({measured[key].load.p99_ms:.1f} ms)"
                for measured in theirs.values()
            )
            + " |"
        )
    large = ours[(max(BATCHES), 1)]
    small = ours[(min(BATCHES), 1)]
    share = large.rows_per_s / predict_alone
    lines += [
        "",
        "Targets:",
        "",
        f"- serve >= {RATIO_TARGET:g}x the best MLServer configuration at every cell: "
        f"{'met' if met_ratio == len(ours) else 'missed'} ({met_ratio} of {len(ours)} cells).",
        f"- serve >= {PREDICT_TARGET:.0%} of predict alone at {max(BATCHES):,} rows, c=1: "
        f"{'met' if share >= PREDICT_TARGET else 'missed'} ({rate(large.rows_per_s)} of "
        f"{rate(predict_alone)} rows/s, {share:.0%}; predict alone = the booster's predict "
        "on the parsed rows, one thread, in this process).",
        f"- 1-row p99 <= {P99_TARGET_MS:g} ms (c=1): "
        f"{'met' if small.load.p99_ms <= P99_TARGET_MS else 'missed'} "
        f"({small.load.p99_ms:.2f} ms; at c=8 {ours[(min(BATCHES), 8)].load.p99_ms:.2f} ms).",
    ]
    for concurrency in (c for c in CONCURRENCY if c >= 2):
        split = {rows: serve_workers(ours[(rows, concurrency)]) for rows in BATCHES}
        idle = {rows: max(0.0, cores_n - ours[(rows, concurrency)].usage.machine) for rows in split}
        splits = [
            f"{rows:,} row{'s' if rows > 1 else ''} {'/'.join(f'{w:.2f}' for w in split[rows])}, "
            f"idle {idle[rows]:.2f}"
            for rows in split
        ]
        met = all(balanced(split[rows]) and idle[rows] <= IDLE_CORES for rows in split)
        lines.append(
            f"- both cores busy at concurrency {concurrency}, with wrk's kept-alive connections "
            "(each of serve's workers >= half an even share of the workers' CPU, and at most "
            f"{IDLE_CORES:g} of a core left idle): {'met' if met else 'missed'} (cores: "
            f"{'; '.join(splits)})."
        )
    if forced:
        lines += [
            "",
            "Stopping took a SIGKILL to the process group (still running after SIGTERM to "
            f"its PID, {STOP_SECONDS} s for serve, {peer.STOP_SECONDS} s for MLServer): "
            f"{'; '.join(forced)}.",
        ]
    lines.append("")
    return lines


def serve_workers(cell: Cell) -> list[float]:
    """The cores each of serve's workers used (the first process is gunicorn's master)."""
    return list(cell.usage.server.values())[1:]


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its children that were waited for (the servers, wrk)."""
    own = os.times()
    return own.user + own.system + own.children_user + own.children_system

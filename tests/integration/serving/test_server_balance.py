"""Both workers of a real `serve` share the work of keep-alive clients, whatever worker accepted
their connections (serving.server.BalancingWorker); the access log says which worker answered."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from serving.server import CONNECTION_REQUESTS, CONNECTION_SECONDS
from tests.helpers import models
from tests.helpers.flow import wait_for
from tests.helpers.processes import free_port, stop_process

pytestmark = pytest.mark.integration

SERVE = Path(sys.executable).parent / "serve"
CSV = {"Content-Type": "text/csv"}
CLIENTS = 8
LOAD_SECONDS = 4 * CONNECTION_SECONDS  # each connection is closed and reopened a few times


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`serve` with 2 workers on a free 127.0.0.1 port, logging each request's worker pid."""
    tmp = tmp_path_factory.mktemp("balance")
    model = models.xgboost_model(tmp)
    port = free_port()
    access_log = tmp / "access.log"
    proc = subprocess.Popen(
        [str(SERVE)],
        env={
            **os.environ,
            "SM_MODEL_DIR": str(model.model_dir),
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
            "BYO_ACCESS_LOG": str(access_log),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("serve did not answer /ping")
        yield port, access_log, model
    finally:
        stop_process(proc)


def body(model) -> bytes:
    return "".join(",".join(map(str, row.tolist())) + "\n" for row in model.X[:5]).encode()


def answered_by(access_log: Path) -> Counter:
    """Requests to /invocations per worker pid, from the access log so far."""
    return Counter(
        line.split()[0] for line in access_log.read_text().splitlines() if "/invocations" in line
    )


def test_eight_keep_alive_clients_keep_both_workers_busy(server):
    port, access_log, model = server
    payload = body(model)
    before = answered_by(access_log)
    answers: list[bytes] = []
    connections = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        opened = 0
        try:
            deadline = time.monotonic() + LOAD_SECONDS
            while time.monotonic() < deadline:
                if conn.sock is None:
                    opened += 1
                conn.request("POST", "/invocations", body=payload, headers=CSV)
                response = conn.getresponse()
                mine.append((response.status, response.read()))
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)
        finally:
            conn.close()
        with lock:
            answers.extend(mine)
            connections[opened] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert {status for status, _ in answers} == {200}
    assert len({answer for _, answer in answers}) == 1  # the same answer on every connection
    assert min(connections) > 1  # every client was asked to reconnect at least once
    # A worker writes a request's access log line after its answer has gone out.
    served = wait_for(
        f"{len(answers)} requests in the access log",
        lambda: (seen := answered_by(access_log) - before).total() >= len(answers) and seen,
        timeout_s=10,
        poll_s=0.05,
    )
    assert len(served) == 2, served
    assert served.total() == len(answers)
    for pid, count in served.items():
        assert count >= 0.25 * len(answers), f"worker {pid} answered {count} of {len(answers)}"


def test_a_connection_with_few_requests_stays_open_however_old(server):
    port, _, model = server
    requests = 4
    assert requests < CONNECTION_REQUESTS
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.connect()
        sock = conn.sock
        for _ in range(requests):
            conn.request("POST", "/invocations", body=body(model), headers=CSV)
            response = conn.getresponse()
            response.read()
            assert response.getheader("Connection") != "close"
            time.sleep(CONNECTION_SECONDS / 2)
        assert conn.sock is sock  # one connection, open longer than CONNECTION_SECONDS
    finally:
        conn.close()

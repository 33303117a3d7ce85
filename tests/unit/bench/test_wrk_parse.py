"""bench.wrk without a peer: wrk's report parsed, a real wrk run against a tiny server in this
process, and the /proc CPU accounting."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

from bench import wrk

# A real report (wrk 4.1.0, --latency, against MLServer on a busy machine).
REPORT = """\
Running 3s test @ http://127.0.0.1:18080/v2/models/fraud/infer
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    91.23ms  127.28ms 611.95ms   87.75%
    Req/Sec   182.88    111.85   510.00     70.83%
  Latency Distribution
     50%   40.46ms
     75%   81.21ms
     90%  266.02ms
     99%  592.47ms
  471 requests in 3.08s, 299.89KB read
Requests/sec:    152.88
Transfer/sec:     97.34KB
"""


def test_report_is_parsed() -> None:
    load = wrk.parse(REPORT)
    assert load == wrk.Load(
        requests=471, seconds=3.08, requests_per_s=152.88, p50_ms=40.46, p99_ms=592.47, errors=""
    )


def test_errors_are_reported() -> None:
    report = REPORT.replace(
        "Requests/sec:",
        "  Socket errors: connect 0, read 3, write 0, timeout 1\n"
        "  Non-2xx or 3xx responses: 7\nRequests/sec:",
    )
    assert wrk.parse(report).errors == (
        "socket errors: connect 0, read 3, write 0, timeout 1; 7 non-2xx/3xx responses"
    )
    assert wrk.parse(report.replace("read 3", "read 0").replace("timeout 1", "timeout 0")).errors


@pytest.mark.parametrize(
    ("text", "ms"), [("592.47us", 0.59247), ("40.46ms", 40.46), ("1.20s", 1200.0), ("2.00m", 12e4)]
)
def test_durations(text: str, ms: float) -> None:
    assert wrk.duration_ms(text) == pytest.approx(ms)


def test_a_report_without_latencies_fails() -> None:
    with pytest.raises(wrk.WrkError, match="50%"):
        wrk.parse(REPORT.replace("     50%   40.46ms\n", ""))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the servers wrk measures

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ok = body == b"1,2,3\n" and self.headers["Content-Type"] == "text/csv"
        answer = b"0.5\n"
        self.send_response(200 if ok and self.path == "/invocations" else 500)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


@needs_wrk
def test_a_real_run_posts_the_body_and_accounts_for_the_cpu(port: int) -> None:
    load, usage = wrk.run(
        f"http://127.0.0.1:{port}/invocations", b"1,2,3\n", "text/csv", 2, 1, os.getpid()
    )
    assert load.requests > 10
    assert load.errors == ""
    assert 0 < load.p50_ms <= load.p99_ms
    # This process served every request; wrk is the only child waited for meanwhile.
    assert usage.server[os.getpid()] > 0
    assert 0 < usage.wrk <= 1.05  # one thread: one core at most
    assert usage.machine >= usage.server[os.getpid()] + usage.wrk - 0.05
    # The server's descendants count too (under xdist: the session's emulator, a child).
    assert usage.others == pytest.approx(
        max(0.0, usage.machine - sum(usage.server.values()) - usage.wrk)
    )


@needs_wrk
def test_an_error_answer_fails_the_run_loudly(port: int) -> None:
    with pytest.raises(wrk.WrkError, match="non-2xx"):
        wrk.run(f"http://127.0.0.1:{port}/other", b"1,2,3\n", "text/csv", 1, 1, os.getpid())


def test_descendants_their_cpu_seconds_and_their_group() -> None:
    child = subprocess.Popen(["sleep", "5"], start_new_session=True)
    try:
        assert child.pid in wrk.descendants(os.getpid())
        assert wrk.server_cpu([child.pid])[child.pid] >= 0
        assert wrk.running_in_group(child.pid)
        child.kill()
        while wrk.process_table()[child.pid][0] != "Z":  # exited, not yet reaped
            pass
        assert not wrk.running_in_group(child.pid)
    finally:
        child.kill()
        child.wait()
    assert wrk.server_cpu([child.pid]) == {child.pid: 0.0}  # gone: nothing to count
    assert wrk.cpu_seconds(os.getpid()) > 0
    assert wrk.machine_cpu_seconds() > 0

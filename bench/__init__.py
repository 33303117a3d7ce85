"""Benchmarks (`make bench`): speed targets are checked here, never by timed test assertions."""

import http.client
import socket
import subprocess
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(name: str, port: int, path: str, body: bytes, content_type: str) -> bytes:
    """POST `body` to 127.0.0.1:`port``path` on a connection of its own (closed after: an idle
    keep-alive connection would delay the server's stop); anything but 200 fails naming `name`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        answer = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"{name} answered {response.status}: {answer[:500]!r}")
    return answer


def wait_http_ready(
    name: str, port: int, path: str, server: subprocess.Popen, log: Any, timeout_s: float
) -> None:
    """Poll GET `path` on 127.0.0.1:`port` until it answers 200; fail naming `name` with the
    tail of its `log` (an open file, or None) if it exits first, or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        if server.poll() is not None:
            tail = Path(log.name).read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"{name} exited with code {server.returncode} first: {tail}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", path)
            ready = conn.getresponse().status == 200
            conn.close()
            if ready:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} on port {port} did not answer {path} in {timeout_s:g} s")
        time.sleep(0.1)

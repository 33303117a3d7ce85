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

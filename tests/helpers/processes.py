"""Processes the tests start and stop: free ports, and stopping by PID."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, wait, and SIGKILL only if it does not stop in time."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def byo_process(outputs: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real `byo` (its error handling and exit codes) with a stack's outputs file."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "byo"), "--outputs", outputs, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )

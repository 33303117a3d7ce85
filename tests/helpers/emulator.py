"""The embedded AWS as the tests run it: one emulator process on free ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import boto3

from localaws.emulator import endpoint_url, wait_ready
from tests.helpers.paths import REPO
from tests.helpers.processes import free_port, stop_process


class Emulator:
    def __init__(
        self, proc: subprocess.Popen, host: str, port: int, hosting_port: int, pidfile: Path
    ) -> None:
        self.proc = proc
        self.host = host
        self.port = port
        self.pidfile = pidfile
        self.url = endpoint_url(host, port)
        self.runtime_url = endpoint_url(host, hosting_port)

    def client(self, service: str, **kwargs):
        url = self.runtime_url if service == "sagemaker-runtime" else self.url
        return boto3.client(service, endpoint_url=url, region_name="us-east-1", **kwargs)

    def localaws(self, method: str, path: str, body: dict | None = None) -> dict:
        """Call one of the runtime's own routes (`/localaws/...`) over HTTP, as a user would."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def advance_clock(self, seconds: float) -> dict:
        """Move the runtime's clock forward (cooldowns, periods, retry delays pass at once)."""
        return self.localaws("POST", "/localaws/clock", {"advance_seconds": seconds})


def start_emulator(tmp: Path, env: Mapping[str, str] | None = None) -> Emulator:
    """An emulator process on free ports; `env` adds settings (LOCALAWS_RUNTIME_OFF, ...)."""
    port, hosting_port = free_port(), free_port()
    pidfile = tmp / "emulator.pid"
    log = (tmp / "emulator.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localaws.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--hosting-port",
            str(hosting_port),
            "--pidfile",
            str(pidfile),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    try:
        wait_ready(endpoint_url("127.0.0.1", port), proc=proc)
    except BaseException:  # not ready in time: stopped, not left running after the session
        stop_process(proc)
        raise
    return Emulator(proc, "127.0.0.1", port, hosting_port, pidfile)


@contextmanager
def own_emulator(tmp: Path, env: Mapping[str, str] | None = None) -> Iterator[Emulator]:
    """An emulator of a test module's own (its clock may be moved, its settings differ),
    stopped by PID when the block ends."""
    emulator = start_emulator(tmp, env)
    try:
        yield emulator
    finally:
        stop_process(emulator.proc)

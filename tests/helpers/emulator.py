"""The embedded AWS as the tests run it: one emulator process on free ports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3

from localaws.emulator import endpoint_url, wait_ready
from tests.helpers.paths import REPO
from tests.helpers.processes import free_port


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


def start_emulator(tmp: Path) -> Emulator:
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
    )
    wait_ready(endpoint_url("127.0.0.1", port), proc=proc)
    return Emulator(proc, "127.0.0.1", port, hosting_port, pidfile)

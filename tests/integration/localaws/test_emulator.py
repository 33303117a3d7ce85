"""The emulator as a process: detach, readiness, pidfile, loopback only, clean stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from localaws.emulator import endpoint_url, is_ready, read_pid
from tests.helpers.paths import REPO
from tests.helpers.processes import free_port

pytestmark = pytest.mark.integration


def emulator_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "localaws.emulator", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on `port`, read from /proc (no traffic sent)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_detach_serves_on_loopback_and_stop_leaves_nothing(tmp_path):
    port = free_port()
    pidfile = tmp_path / "emulator.pid"
    hosting = str(free_port())  # not port+1, which another test's server may hold
    started = emulator_cli(
        "--port", str(port), "--hosting-port", hosting, "--pidfile", str(pidfile), "--detach"
    )
    assert started.returncode == 0, started.stderr
    pid = read_pid(pidfile)
    assert pid is not None
    try:
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
        assert listening_addresses(int(hosting)) == {"0100007F"}  # the SageMaker runtime too
        s3 = boto3.client("s3", endpoint_url=endpoint_url("127.0.0.1", port))
        s3.create_bucket(Bucket="detached")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["detached"]

        again = emulator_cli(
            "--port", str(port), "--hosting-port", hosting, "--pidfile", str(pidfile), "--detach"
        )
        assert again.returncode == 0, "a second up is a no-op when the same emulator answers"
        assert read_pid(pidfile) == pid
        assert emulator_cli("--pidfile", str(pidfile), "--status").returncode == 0
    finally:
        stopped = emulator_cli("--pidfile", str(pidfile), "--stop")
    assert stopped.returncode == 0
    assert "emulator stopped" in stopped.stdout
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)
    assert not pidfile.exists()
    assert not is_ready(endpoint_url("127.0.0.1", port))
    assert "no emulator running" in emulator_cli("--pidfile", str(pidfile), "--stop").stdout
    assert emulator_cli("--pidfile", str(pidfile), "--status").returncode == 1


def test_port_taken_by_another_server_is_a_clear_error(emulator, tmp_path):
    result = emulator_cli(
        "--port", str(emulator.port), "--pidfile", str(tmp_path / "other.pid"), "--detach"
    )
    assert result.returncode == 1
    assert "already answers" in result.stderr


def test_stale_pidfile_is_cleaned_up(tmp_path):
    pidfile = tmp_path / "emulator.pid"
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pidfile.write_text(finished.stdout)
    assert read_pid(pidfile) is None
    assert not pidfile.exists()


def test_sigterm_stops_a_foreground_emulator_cleanly(tmp_path):
    port = free_port()
    pidfile = tmp_path / "fg.pid"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localaws.emulator",
            "--port",
            str(port),
            "--hosting-port",
            str(free_port()),
            "--pidfile",
            str(pidfile),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "ready" in proc.stdout.readline()
        assert pidfile.read_text().strip() == str(proc.pid)
        proc.terminate()
        # a guard against a hang, not a speed check: on a loaded 2-core machine (the e2e on the
        # other worker) stopping every runtime service took longer than 10 s once
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not pidfile.exists()

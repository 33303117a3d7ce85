"""Load from `wrk`, and the CPU each side used meanwhile.

wrk is a C load generator on one event loop: with threads = 1 it uses one core at most, so the
server it measures keeps the others (a Python client would share them). A Lua script posts one
body with one content type over `concurrency` keep-alive connections; wrk reconnects by itself
when the server closes one. Any socket error or non-2xx answer fails the run.

CPU accounting, in cores (CPU seconds over the run's wall seconds): each process of the server
(its master and every descendant, from /proc/PID/stat utime + stime), wrk (the run's child, from
getrusage(RUSAGE_CHILDREN): nothing else is waited for meanwhile), and the whole machine
(/proc/stat). Whatever the machine used beyond the server and wrk is other processes' load.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# The body and content type come from the environment, so one script serves every cell.
SCRIPT = """\
wrk.method = "POST"
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
"""
TIMEOUT_SECONDS = 10  # wrk's per-request timeout (its default, 2 s, is short for a busy machine)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}


class WrkError(RuntimeError):
    """wrk is missing, failed, or saw errors."""


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: str  # "" when none: socket errors and non-2xx/3xx answers, as wrk counts them


@dataclass(frozen=True)
class Usage:
    """CPU used during a run, in cores."""

    server: dict[int, float]  # pid → cores: the server's master first, then its descendants
    wrk: float
    machine: float  # every process, from /proc/stat

    @property
    def others(self) -> float:
        """What the rest of the machine used: load that was not the benchmark's."""
        return max(0.0, self.machine - sum(self.server.values()) - self.wrk)


def ensure_installed() -> str:
    """The path of wrk, installed from Debian's packages first when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise WrkError("wrk is not installed: run `sudo apt-get install -y wrk`, then again")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise WrkError("`apt-get install wrk` ran but no wrk is on PATH")
    return found


def duration_ms(text: str) -> float:
    """A wrk duration ("592.47us", "40.46ms", "1.20s", "2.00m") in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise WrkError(f"not a wrk duration: {text!r}")
    return float(match[1]) * UNITS[match[2]]


def parse(output: str) -> Load:
    """wrk's report (run with --latency)."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise WrkError(f"wrk's output has no {pattern!r}:\n{output}")
        return match

    done = find(r"^\s*(\d+) requests in ([\d.]+\w+),")
    errors = []
    socket = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    if socket and any(int(n) for n in re.findall(r"\d+", socket[1])):
        errors.append(f"socket errors: {socket[1].strip()}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors.append(f"{non_2xx[1]} non-2xx/3xx responses")
    return Load(
        requests=int(done[1]),
        seconds=duration_ms(done[2]) / 1e3,
        requests_per_s=float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
        p50_ms=duration_ms(find(r"^\s+50%\s+(\S+)")[1]),
        p99_ms=duration_ms(find(r"^\s+99%\s+(\S+)")[1]),
        errors="; ".join(errors),
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/PID/stat utime, stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot (/proc/stat: all but idle and iowait)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split(maxsplit=9)[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_table() -> dict[int, tuple[str, int, int]]:
    """pid → (state, parent pid, process group) of every process, from /proc/PID/stat."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            state, ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
            table[int(entry.name)] = (state, int(ppid), int(pgrp))
    return table


def running_in_group(pgid: int) -> bool:
    """Whether a process of the group still runs (a zombie, exited and waiting to be reaped,
    does not)."""
    return any(pgrp == pgid and state != "Z" for state, _, pgrp in process_table().values())


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, found by parent pid in /proc (children first seen first)."""
    parents = {child: ppid for child, (_, ppid, _) in process_table().items()}
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = sorted(child for child, parent in parents.items() if parent in frontier)
        found.extend(children)
        frontier = children
    return found


def server_cpu(processes: list[int]) -> dict[int, float]:
    """CPU seconds of each process; 0 for one that is gone (it used nothing we can see)."""
    used = {}
    for pid in processes:
        try:
            used[pid] = cpu_seconds(pid)
        except OSError:
            used[pid] = 0.0
    return used


def run(
    url: str,
    body: bytes,
    content_type: str,
    concurrency: int,
    seconds: float,
    server_pid: int,
) -> tuple[Load, Usage]:
    """One wrk run against `url`; fails when wrk saw any error."""
    processes = [server_pid, *descendants(server_pid)]
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(SCRIPT)
        body_file = Path(tmp) / "body"
        body_file.write_bytes(body)
        command = [
            ensure_installed(),
            "--threads",
            "1",
            "--connections",
            str(concurrency),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            f"{TIMEOUT_SECONDS}s",
            "--latency",
            "--script",
            str(script),
            url,
        ]
        env = {**os.environ, "BENCH_BODY": str(body_file), "BENCH_CONTENT_TYPE": content_type}
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_before = server_cpu(processes)
        machine_before = machine_cpu_seconds()
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - began
        machine_after = machine_cpu_seconds()
        server_after = server_cpu(processes)
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    load = parse(done.stdout)
    if load.errors:
        raise WrkError(f"wrk against {url} saw errors ({load.errors}):\n{done.stdout}")
    wrk_seconds = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    usage = Usage(
        server={pid: max(0.0, server_after[pid] - server_before[pid]) / wall for pid in processes},
        wrk=wrk_seconds / wall,
        machine=(machine_after - machine_before) / wall,
    )
    return load, usage

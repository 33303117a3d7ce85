"""Every process the runtime starts: run to completion (or past a timeout), lines streamed to a
callback, and all of them killed — with their children — when the emulator stops.

Each process leads its own process group (`start_new_session`), so a kill reaches whatever it
started too; on Linux it also gets SIGKILL if the thread that started it dies with the emulator
(PR_SET_PDEATHSIG), so not even a SIGKILLed emulator leaves one behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("localaws.runtime.processes")

PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
_PR_SET_PDEATHSIG = 1


def base_env() -> dict[str, str]:
    """The few host variables every process needs (PATH, HOME, locale); nothing else leaks."""
    return {name: os.environ[name] for name in PASS_THROUGH if name in os.environ}


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Finished:
    exit_code: int | None  # None: killed (timeout or stop); negative: killed by that signal
    timed_out: bool
    stopped: bool  # killed because the runtime stopped
    duration_s: float
    pid: int


class Processes:
    def __init__(self) -> None:
        self._running: dict[int, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._stopping = False

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | str | None = None,
        timeout_s: float | None = None,
        on_line: Callable[[str], None] | None = None,
        stdin: bytes | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> Finished:
        """Run `argv` (stdout and stderr merged, read line by line into `on_line`) until it exits,
        or kill its process group after `timeout_s`. `on_start` gets its PID (its process group)
        once it runs, for `send_signal`. Raises OSError if it cannot start."""
        started = time.monotonic()
        with self._lock:
            if self._stopping:
                return Finished(None, False, True, 0.0, 0)
            proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # only prctl between fork and exec: no locks taken
            )
            self._running[proc.pid] = proc
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            self._kill(proc)

        timer = None
        if timeout_s is not None:
            timer = threading.Timer(timeout_s, on_timeout)
            timer.daemon = True
            timer.start()
        try:
            if on_start is not None:
                on_start(proc.pid)
            if stdin is not None:
                threading.Thread(target=_feed, args=(proc, stdin), daemon=True).start()
            assert proc.stdout is not None
            for raw in proc.stdout:
                if on_line is not None:
                    on_line(raw.decode("utf-8", errors="replace").rstrip("\n"))
            code = proc.wait()
        finally:
            if timer is not None:
                timer.cancel()
            with self._lock:
                self._running.pop(proc.pid, None)
                stopped = self._stopping
            # Whatever the process left running in its group goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        killed = timed_out.is_set() or (stopped and code < 0)
        return Finished(
            exit_code=None if killed else code,
            timed_out=timed_out.is_set(),
            stopped=stopped and not timed_out.is_set() and code < 0,
            duration_s=time.monotonic() - started,
            pid=proc.pid,
        )

    def send_signal(self, pid: int, signum: int) -> bool:
        """Send `signum` to the process group of `pid`, one of `run`'s processes, if it is still
        running (never to a reused PID: the process is not reaped while it is checked)."""
        with self._lock:
            proc = self._running.get(pid)
            if proc is None or proc.poll() is not None:
                return False
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signum)
            return True

    def _kill(self, proc: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def kill_all(self, grace_s: float = 2.0) -> None:
        """SIGTERM every running process group, SIGKILL what is left after `grace_s`."""
        with self._lock:
            self._stopping = True
            procs = list(self._running.values())
        for proc in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            self._kill(proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        if procs:
            log.info("runtime: stopped %d running process(es)", len(procs))


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError, OSError):
        proc.stdin.write(data)
        proc.stdin.close()

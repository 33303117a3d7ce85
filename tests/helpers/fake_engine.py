"""A stand-in for the docker CLI where no Docker daemon runs: it checks only OUR orchestration
(localaws.containers: the commands it runs, their arguments, waiting for /ping, stopping), never
an image. It builds nothing, isolates nothing, and says nothing about whether an image works
under a real engine; the real-engine tests do that where Docker or Podman runs.

Each "image" is a local program, the image's ENTRYPOINT: `run IMAGE ARGS...` starts
`<entrypoint> ARGS...` as a local process in its own session, with what the container would see
translated to the host:
- `-p 127.0.0.1:<host port>:8080` → SAGEMAKER_BIND_TO_PORT=<host port>, BYO_BIND_HOST=127.0.0.1
  (the program listens where the engine would publish the container's 8080);
- `-v <dir>:/opt/ml/model[:ro]` → SM_MODEL_DIR=<dir> (read-only is not enforced);
- `-e KEY=VALUE` → KEY=VALUE; of the host's environment only PATH, and PYTHONPATH=the repository.

Commands, with docker's exit codes and messages where our code reads them:
  info | image inspect IMAGE | run [-d] [--rm] --name NAME [-p ..] [-v ..] [-e ..]
  [--network host] IMAGE [ARGS...] (without -d: attached, as a Batch job's container runs)
  ps [-a] [--filter name=SUBSTRING] [--format {{.Names}}] | logs [--tail N] NAME | rm -f NAME...

State (images, containers, logs) lives in a directory; `install` writes the `docker` wrapper
that points at it. Tests: put the wrapper's directory first on PATH (LOCALAWS_CONTAINER_ENGINE
=docker) and read what ran with FakeEngine.container(name).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTAINER_PORT = "8080"
MODEL_PATH = "/opt/ml/model"


def process_running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an orphan that nothing reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class FakeEngine:
    """The test's view of one fake engine: its configuration and its containers."""

    def __init__(self, state: Path) -> None:
        self.state = state

    @classmethod
    def install(
        cls, bin_dir: Path, state: Path, images: dict[str, list[str]], name: str = "docker"
    ) -> FakeEngine:
        """Write `bin_dir/<name>` and the configuration: `images` maps an image name to its
        entry point (argv)."""
        bin_dir.mkdir(parents=True, exist_ok=True)
        (state / "containers").mkdir(parents=True, exist_ok=True)
        engine = cls(state)
        engine.configure(images=images, info="ok")
        wrapper = bin_dir / name
        wrapper.write_text(
            f'#!/bin/sh\nFAKE_ENGINE_STATE="{state}" exec "{sys.executable}" "{__file__}" "$@"\n'
        )
        wrapper.chmod(0o755)
        return engine

    def configure(self, **settings: object) -> None:
        """images: {image: argv}; info: "ok" | "down" (the daemon does not answer) | "hang"."""
        path = self.state / "config.json"
        config = json.loads(path.read_text()) if path.exists() else {}
        config.update(settings)
        path.write_text(json.dumps(config))

    def containers(self) -> list[str]:
        return sorted(p.stem for p in (self.state / "containers").glob("*.json"))

    def container(self, name: str) -> dict:
        """What `run` started: argv (as the engine received it), env, pid, log."""
        return json.loads((self.state / "containers" / f"{name}.json").read_text())

    def kill_all(self) -> None:
        """Kill what a failed test left running (what `rm -f` would have removed)."""
        for name in self.containers():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.container(name)["pid"], signal.SIGKILL)

    def processes(self, name: str) -> list[int]:
        """The container's process and its children (e.g. gunicorn's workers)."""
        pid = self.container(name)["pid"]
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        return [pid, *(int(p) for p in children.stdout.split())]


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------
def _fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def _record_path(state: Path, name: str) -> Path:
    return state / "containers" / f"{name}.json"


def _group_alive(pgid: int) -> bool:
    """Whether any process of the process group is alive (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _running(record: dict) -> bool:
    return process_running(record["pid"])


def _run(state: Path, config: dict, args: list[str]) -> int:
    name, env, detached, remove = None, {}, False, False
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-d":
            detached = True
        elif flag == "--rm":
            remove = True
        elif flag in ("--name", "-p", "-v", "-e", "--network") and args:
            value = args.pop(0)
            if flag == "--network":
                if value != "host":
                    return _fail(f"fake engine: only --network host is known, not {value}", 125)
            elif flag == "--name":
                name = value
            elif flag == "-p":
                host_ip, host_port, container_port = value.split(":")
                if container_port != CONTAINER_PORT:
                    return _fail(f"fake engine: only port {CONTAINER_PORT} is published", 125)
                env.update(SAGEMAKER_BIND_TO_PORT=host_port, BYO_BIND_HOST=host_ip)
            elif flag == "-v":
                source, target, *_mode = value.split(":")
                if target != MODEL_PATH:
                    return _fail(f"fake engine: only {MODEL_PATH} can be mounted", 125)
                env["SM_MODEL_DIR"] = source
            else:
                key, _, val = value.partition("=")
                env[key] = val
        else:
            return _fail(f"unknown flag: {flag}", 125)
    if name is None or not args:
        return _fail("fake engine: run needs --name and an image", 125)
    image, command = args[0], args[1:]
    if image not in config["images"]:
        return _fail(f"Unable to find image '{image}' locally", 125)
    if _record_path(state, name).exists():
        return _fail(f'Conflict. The container name "/{name}" is already in use.', 125)
    log = state / "containers" / f"{name}.log"
    program_env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(REPO),
        **env,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*config["images"][image], *command],
            env=program_env,
            stdout=out if detached else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=state,
            start_new_session=True,
        )
    record = {"argv": sys.argv[1:], "image": image, "env": env, "pid": proc.pid, "log": str(log)}
    _record_path(state, name).write_text(json.dumps(record))
    if detached:
        print(f"{name}-{proc.pid}")
        return 0
    return _attached(state, name, proc, log, remove)


def _attached(state: Path, name: str, proc: subprocess.Popen, log: Path, remove: bool) -> int:
    """`run` without -d: the container's output on ours (and in its log), its exit code ours;
    SIGTERM/SIGINT forwarded to it (docker's --sig-proxy). Killing this CLI leaves the container
    running, as with docker: `rm -f` removes it."""

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    assert proc.stdout is not None
    with log.open("ab") as out:
        for line in proc.stdout:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
            out.write(line)
    code = proc.wait()
    if remove:
        _record_path(state, name).unlink(missing_ok=True)
        log.unlink(missing_ok=True)
    # docker run reports a container killed by signal N as 128 + N.
    return code if code >= 0 else 128 - code


def _ps(state: Path, args: list[str]) -> int:
    show_all, substring, names_only = False, "", False
    while args:
        flag = args.pop(0)
        if flag == "-a":
            show_all = True
        elif flag == "--filter" and args and args[0].startswith("name="):
            substring = args.pop(0).removeprefix("name=")
        elif flag == "--format" and args and args[0] == "{{.Names}}":
            args.pop(0)
            names_only = True
        else:
            return _fail(f"fake engine: ps does not take {flag}", 125)
    if not names_only:
        print("NAMES")
    for path in sorted((state / "containers").glob("*.json")):
        if substring in path.stem and (show_all or _running(json.loads(path.read_text()))):
            print(path.stem)
    return 0


def _logs(state: Path, args: list[str]) -> int:
    tail = None
    if len(args) == 3 and args[0] == "--tail":
        tail, args = int(args[1]), args[2:]
    if len(args) != 1:
        return _fail("fake engine: logs [--tail N] NAME", 125)
    path = _record_path(state, args[0])
    if not path.exists():
        return _fail(f"Error response from daemon: No such container: {args[0]}")
    lines = Path(json.loads(path.read_text())["log"]).read_text(errors="replace").splitlines()
    print("\n".join(lines[-tail:] if tail else lines))
    return 0


def _rm(state: Path, args: list[str]) -> int:
    if not args or args[0] != "-f":
        return _fail("fake engine: rm -f NAME...", 125)
    status = 0
    for name in args[1:]:
        path = _record_path(state, name)
        if not path.exists():
            status = _fail(f"Error response from daemon: No such container: {name}")
            continue
        record = json.loads(path.read_text())
        # rm -f kills (SIGKILL) the container's processes: here its session's process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 10
        # Every process of the group, not only its leader: SIGKILL lands asynchronously, and a
        # real engine's rm -f returns once the container's cgroup is empty.
        while _group_alive(record["pid"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        path.unlink()
        Path(record["log"]).unlink(missing_ok=True)
        print(name)
    return status


def main(argv: list[str]) -> int:
    state = Path(os.environ["FAKE_ENGINE_STATE"])
    config = json.loads((state / "config.json").read_text())
    if not argv:
        return _fail("fake engine: no command", 125)
    command, args = argv[0], list(argv[1:])
    if command == "info":
        if config["info"] == "down":
            return _fail("Cannot connect to the fake engine's daemon (configured down)")
        if config["info"] == "hang":
            time.sleep(3600)
        print("fake engine (tests/helpers/fake_engine.py)")
        return 0
    if command == "image" and args[:1] == ["inspect"] and len(args) == 2:
        if args[1] in config["images"]:
            print(json.dumps([{"RepoTags": [args[1]]}]))
            return 0
        return _fail(f"Error: No such image: {args[1]}")
    handlers = {
        "run": lambda: _run(state, config, args),
        "ps": lambda: _ps(state, args),
        "logs": lambda: _logs(state, args),
        "rm": lambda: _rm(state, args),
    }
    if command not in handlers:
        return _fail(f"fake engine: {command} is not a command it stands in for", 125)
    return handlers[command]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

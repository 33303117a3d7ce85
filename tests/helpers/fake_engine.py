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
  info | version [--format {{.Server.Version}}|{{.Client.Version}}]
  image inspect [--format {{.Id}}] IMAGE | run [-d] [--rm] --name NAME [-p ..] [-v ..] [-e ..]
  [--network host] IMAGE [ARGS...] (without -d: attached, as a Batch job's container runs)
  ps [-a] [--filter name=SUBSTRING] [--format {{.Names}}] | logs [--tail N] NAME | rm -f NAME...
  build [-f DOCKERFILE] [-t TAG]... [--build-arg K=V]... [...] CONTEXT | tag SOURCE TARGET
  push IMAGE | login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]

`build` reads the Dockerfile (-f relative to the working directory, as docker's) and checks that
its COPY/ADD sources are in the context, prints a step per instruction and tags an image whose
id is the hash of the Dockerfile and the context's files; nothing is built, and a built image
cannot be run (`run` knows only the configured images). `push` of a local image pretends the
registry took it (no network); `login` wants a password, as docker does without a TTY.

State (images, containers, logs, built images, every command it was given with its working
directory) lives in a directory; `install` writes the `docker` wrapper that points at it. Tests:
put the wrapper's directory first on PATH (LOCALAWS_CONTAINER_ENGINE=docker) and read what ran
with FakeEngine.container(name), what it was asked with FakeEngine.calls(command), the images
`build` made with FakeEngine.built(reference).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTAINER_PORT = "8080"
MODEL_PATH = "/opt/ml/model"
VERSION = "28.0.0-fake"


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

    def calls(self, command: str | None = None) -> list[dict]:
        """Every command the engine was given, in order ({"argv": [...], "cwd": ...}); those whose
        first argument is `command`, if given."""
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        calls = [json.loads(line) for line in path.read_text().splitlines() if line]
        return [c for c in calls if command is None or c["argv"][:1] == [command]]

    def built(self, reference: str) -> dict | None:
        """The image `build` (or `tag`) made as `reference`: Id, dockerfile, context, files."""
        return _built(self.state).get(_normalized(reference))

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


# ---------------------------------------------------------------------------------------------
# Images: build, tag, inspect, push, login
# ---------------------------------------------------------------------------------------------
def _normalized(reference: str) -> str:
    """`name` → `name:latest`, as docker names an image without a tag."""
    return reference if ":" in reference.rsplit("/", 1)[-1] else f"{reference}:latest"


def _built(state: Path) -> dict[str, dict]:
    path = state / "built.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save_built(state: Path, built: dict[str, dict]) -> None:
    path = state / "built.json"
    path.with_suffix(".tmp").write_text(json.dumps(built))
    path.with_suffix(".tmp").replace(path)


def _image_id(state: Path, config: dict, reference: str) -> str | None:
    if reference in config["images"]:
        return "sha256:" + hashlib.sha256(reference.encode()).hexdigest()
    image = _built(state).get(_normalized(reference))
    return image["Id"] if image else None


def _inspect(state: Path, config: dict, args: list[str]) -> int:
    fmt = None
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        name, _, value = flag.partition("=")
        if name not in ("-f", "--format") or not (value or args):
            return _fail(f"fake engine: image inspect does not take {flag}", 125)
        fmt = value or args.pop(0)
    if len(args) != 1 or fmt not in (None, "{{.Id}}"):
        return _fail("fake engine: image inspect [--format {{.Id}}] IMAGE", 125)
    image_id = _image_id(state, config, args[0])
    if image_id is None:
        return _fail(f"Error: No such image: {args[0]}")
    print(image_id if fmt else json.dumps([{"Id": image_id, "RepoTags": [args[0]]}]))
    return 0


def _instructions(dockerfile: Path) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    instructions, current = [], ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        current += line
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        instructions.append(current)
        current = ""
    return [*instructions, current] if current else instructions


def _missing_source(instruction: str, context: Path) -> str | None:
    """A COPY/ADD source that is not in the context (sources with wildcards, variables or
    another stage's are not checked)."""
    keyword, _, rest = instruction.partition(" ")
    if keyword.upper() not in ("COPY", "ADD"):
        return None
    rest = rest.strip()
    words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    if any(word.startswith("--from") for word in words):
        return None
    sources = [word for word in words if not word.startswith("--")][:-1]
    for source in sources:
        if any(c in source for c in "*?[$") or "://" in source:
            continue
        if not (context / source).exists():
            return source
    return None


def _build(state: Path, args: list[str]) -> int:
    valued = ("-f", "--file", "-t", "--tag", "--build-arg", "--platform", "--target", "--label")
    valued += ("--progress", "--network", "--cache-from", "--iidfile")
    switches = ("-q", "--quiet", "--pull", "--no-cache", "--rm", "--force-rm", "--load")
    dockerfile, tags, context = None, [], None
    while args:
        arg = args.pop(0)
        name, eq, value = arg.partition("=")
        if name in valued:
            if not eq:
                if not args:
                    return _fail(f"flag needs an argument: {name}", 125)
                value = args.pop(0)
            if name in ("-f", "--file"):
                dockerfile = value
            elif name in ("-t", "--tag"):
                tags.append(_normalized(value))
        elif arg in switches:
            continue
        elif arg.startswith("-"):
            return _fail(f"unknown flag: {arg}", 125)
        elif context is None:
            context = arg
        else:
            return _fail('"docker build" requires exactly 1 argument.')
    if context is None:
        return _fail('"docker build" requires exactly 1 argument.')
    root = Path(context).resolve()
    if not root.is_dir():
        return _fail(f'unable to prepare context: path "{context}" not found')
    file = Path(dockerfile).resolve() if dockerfile else root / "Dockerfile"
    if not file.is_file():
        return _fail(
            "unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
            f"lstat {file}: no such file or directory"
        )
    instructions = _instructions(file)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256(file.read_bytes())
    for name in files:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    for number, instruction in enumerate(instructions, 1):
        print(f"Step {number}/{len(instructions)} : {instruction}")
        missing = _missing_source(instruction, root)
        if missing is not None:
            return _fail(
                "COPY failed: file not found in build context or excluded by .dockerignore: "
                f"stat {missing}: file does not exist"
            )
    image = {"Id": f"sha256:{digest.hexdigest()}", "dockerfile": str(file), "context": str(root)}
    image["files"] = files
    built = _built(state)
    built.update(dict.fromkeys(tags, image))
    _save_built(state, built)
    print(f"Successfully built {digest.hexdigest()[:12]}")
    for tag in tags:
        print(f"Successfully tagged {tag}")
    return 0


def _tag(state: Path, config: dict, args: list[str]) -> int:
    if len(args) != 2:
        return _fail('"docker tag" requires exactly 2 arguments.')
    image_id = _image_id(state, config, args[0])
    if image_id is None:
        return _fail(f"Error response from daemon: No such image: {args[0]}")
    built = _built(state)
    built[_normalized(args[1])] = {**built.get(_normalized(args[0]), {}), "Id": image_id}
    _save_built(state, built)
    return 0


def _push(state: Path, config: dict, args: list[str]) -> int:
    references = [a for a in args if not a.startswith("-")]
    if len(references) != 1:
        return _fail('"docker push" requires exactly 1 argument.')
    reference = _normalized(references[0])
    image_id = _image_id(state, config, reference)
    name, _, tag = reference.rpartition(":")
    if image_id is None:
        return _fail(f"An image does not exist locally with the tag: {name}")
    print(f"The push refers to repository [{name}]")
    print(f"{tag}: digest: sha256:{hashlib.sha256(image_id.encode()).hexdigest()} size: 528")
    return 0


def _login(args: list[str]) -> int:
    password, from_stdin = None, False
    while args:
        arg = args.pop(0)
        name, eq, value = arg.partition("=")
        if name in ("-u", "--username", "-p", "--password"):
            value = value if eq else (args.pop(0) if args else "")
            if name in ("-p", "--password"):
                password = value
        elif arg == "--password-stdin":
            from_stdin = True
        elif arg.startswith("-"):
            return _fail(f"unknown flag: {arg}", 125)
    if from_stdin:
        password = sys.stdin.read().strip()
    if not password:
        return _fail("Error: Cannot perform an interactive login from a non TTY device")
    print("Login Succeeded")
    return 0


def _version(config: dict, args: list[str]) -> int:
    fmt = args[1] if args[:1] == ["--format"] and len(args) == 2 else None
    if args and fmt is None:
        return _fail("fake engine: version [--format {{.Server.Version}}]", 125)
    if fmt == "{{.Client.Version}}":
        print(VERSION)
        return 0
    if fmt is None:
        print(f"Client: fake engine (tests/helpers/fake_engine.py)\n Version: {VERSION}\n")
    if config["info"] != "ok":
        return _fail("Cannot connect to the fake engine's daemon (configured down)")
    print(VERSION if fmt else f"Server: fake engine\n Version: {VERSION}")
    return 0


def _record_call(state: Path, argv: list[str]) -> None:
    line = json.dumps({"argv": argv, "cwd": os.getcwd()}) + "\n"
    # One write of a line opened for appending: concurrent calls do not interleave.
    fd = os.open(state / "calls.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    state = Path(os.environ["FAKE_ENGINE_STATE"])
    config = json.loads((state / "config.json").read_text())
    _record_call(state, argv)
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
    if command == "image" and args[:1] in (["inspect"], ["push"]):
        command, args = args[0], args[1:]
    handlers = {
        "run": lambda: _run(state, config, args),
        "ps": lambda: _ps(state, args),
        "logs": lambda: _logs(state, args),
        "rm": lambda: _rm(state, args),
        "inspect": lambda: _inspect(state, config, args),
        "build": lambda: _build(state, args),
        "tag": lambda: _tag(state, config, args),
        "push": lambda: _push(state, config, args),
        "login": lambda: _login(args),
        "version": lambda: _version(config, args),
    }
    if command not in handlers:
        return _fail(f"fake engine: {command} is not a command it stands in for", 125)
    return handlers[command]()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

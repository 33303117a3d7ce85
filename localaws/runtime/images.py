"""A container image of this repository, run as a local process of the repository's own code.

Without a container engine the runtime cannot run an image, but the images a job definition names
are built from this repository's Dockerfiles, and a Dockerfile says exactly what its container
runs: the final stage's ENTRYPOINT and CMD, its ENV and WORKDIR, and (through COPY) where the
repository's files sit inside it. So an image URI maps to a Dockerfile, and the Dockerfile to a
process (read with dockerfile-parse, a Dockerfile parser from PyPI):

- the image's repository name, last segment ("…/byo/batch-processor:tag" → "batch-processor"),
  names a directory of the repository holding a Dockerfile ("-" and "_" are the same):
  batch_processor/Dockerfile, operators/Dockerfile, serving/Dockerfile. LOCALAWS_IMAGES=
  "name=path/to/Dockerfile,…" adds or overrides mappings (name: a repository name, or its last
  segment). The build context is the repository root for a Dockerfile inside the repository
  (as their `docker build -f <dir>/Dockerfile .` says), else the Dockerfile's own directory.
- the process is ENTRYPOINT + (the job's command, or CMD when it has none), exactly as Docker
  runs them (a shell-form ENTRYPOINT ignores both; shell forms run under /bin/sh -c);
  "python"/"python3" is this interpreter (sys.executable), other programs come from this venv's
  bin directory (where `byo` is installed), then PATH.
- container paths map to repository paths through the COPY instructions: COPY batch_processor/
  /opt/program/batch_processor/ puts the repository's batch_processor at
  /opt/program/batch_processor, so /opt/program is the repository root. WORKDIR becomes the
  process's working directory (a scratch directory when nothing was copied there); ENV values
  (PYTHONPATH=/opt/program) and arguments that are container paths become repository paths.
- USER is noted, not applied: the process runs as the emulator's user.

An image that cannot be mapped raises ImageError, whose message starts the way the container
agent's own does ("CannotPullContainerError: …"), says which image and why, and how to add one.
The process sees the whole repository, where the image holds only what it copies.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from dockerfile_parse import DockerfileParser
from dockerfile_parse.util import Context, WordSplitter

IMAGES_VAR = "LOCALAWS_IMAGES"
REPO = Path(__file__).resolve().parents[2]
PULL_ERROR = "CannotPullContainerError"
START_ERROR = "CannotStartContainerError"
SHELL = ("/bin/sh", "-c")
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_GLOB = re.compile(r"[*?\[]")


class ImageError(Exception):
    """An image the runtime cannot run as a process; `kind` is the container error AWS reports
    for it (CannotPullContainerError: no image; CannotStartContainerError: nothing to execute)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def normalized(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def repository_of(image: str) -> str:
    """`registry/path/name:tag@digest` → `path/name` (what ECR calls the repository name)."""
    ref = image.split("@", 1)[0]
    first, sep, rest = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        ref = rest
    head, _, last = ref.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def dockerfiles(env: Mapping[str, str] = os.environ) -> dict[str, Path]:
    """Image name (normalized) → Dockerfile: the repository's `<dir>/Dockerfile`s, then
    LOCALAWS_IMAGES (relative paths from the current directory)."""
    found = {
        normalized(path.parent.name): path
        for path in sorted(REPO.glob("*/Dockerfile"))
        if not path.parent.name.startswith(".")
    }
    for entry in (e.strip() for e in env.get(IMAGES_VAR, "").split(",")):
        if not entry:
            continue
        name, sep, path = entry.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ImageError(
                PULL_ERROR,
                f"{IMAGES_VAR} entry {entry!r} is not name=path/to/Dockerfile "
                "(e.g. batch-processor=batch_processor/Dockerfile)",
            )
        found[normalized(name)] = Path(path.strip()).absolute()
    return found


def resolve(image: str, env: Mapping[str, str] = os.environ) -> Image:
    """The Dockerfile image `image` (a URI) was built from, read; ImageError when none maps it."""
    if not image:
        raise ImageError(PULL_ERROR, "the job definition names no image")
    repository = repository_of(image)
    known = dockerfiles(env)
    path = known.get(normalized(repository)) or known.get(normalized(repository.split("/")[-1]))
    if path is None:
        raise ImageError(
            PULL_ERROR,
            f"image {image}: no Dockerfile of this repository maps its repository "
            f"{repository!r} (known: {', '.join(sorted(known)) or 'none'}); add one with "
            f"{IMAGES_VAR}={repository.split('/')[-1]}=path/to/Dockerfile",
        )
    if not path.is_file():
        raise ImageError(
            PULL_ERROR,
            f"image {image}: its Dockerfile {path} (from {IMAGES_VAR}) does not exist",
        )
    return parse(path)


# ---------------------------------------------------------------------------------------------
# Reading a Dockerfile
# ---------------------------------------------------------------------------------------------
@dataclass
class _Stage:
    entrypoint: tuple[str, ...] = ()
    entrypoint_shell: bool = False
    cmd: tuple[str, ...] = ()
    cmd_set: bool = False  # CMD given in this stage (an ENTRYPOINT then keeps it)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str | None = None
    copies: list[tuple[str, Path]] = field(default_factory=list)

    def inherit(self) -> _Stage:
        """A stage FROM this one: its image config and files, no CMD of its own yet."""
        return replace(self, cmd_set=False, env=dict(self.env), copies=list(self.copies))


def _command(value: str) -> tuple[tuple[str, ...], bool]:
    """An ENTRYPOINT/CMD value as argv; True if it was the shell form (run by /bin/sh -c)."""
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return tuple(parsed), False
    return (*SHELL, value), True


def _expanded(value: str, scope: Context) -> str:
    """`value` with the ARG/ENV variables in scope substituted and quotes removed."""
    return WordSplitter(value, args=scope.args, envs=scope.envs).dequote()


def _container_join(workdir: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(workdir, path))


def parse(path: Path, context: Path | None = None) -> Image:
    """Read the Dockerfile at `path` (build context: the repository root for a Dockerfile inside
    it, else its directory). ImageError when it has no stage or a COPY source is missing."""
    path = Path(path).resolve()
    if context is None:
        context = REPO if path.is_relative_to(REPO) else path.parent
    parser = DockerfileParser(str(path), env_replace=True)
    stages: list[_Stage] = []
    names: dict[str, _Stage] = {}
    stage: _Stage | None = None
    for instruction, scope in zip(parser.structure, parser.context_structure, strict=True):
        kind, value = instruction["instruction"], instruction["value"]
        if kind == "FROM":
            words = value.split()
            base = next((w for w in words if not w.startswith("--")), "")
            parent = names.get(base.lower())
            stage = parent.inherit() if parent is not None else _Stage()
            stages.append(stage)
            if len(words) >= 3 and words[-2].lower() == "as":
                names[words[-1].lower()] = stage
            continue
        if stage is None:
            continue  # ARG / comments before the first FROM
        if kind == "ENV":
            stage.env.update(scope.line_envs)
        elif kind == "WORKDIR":
            stage.workdir = _container_join(stage.workdir, _expanded(value, scope))
        elif kind == "USER":
            stage.user = _expanded(value, scope)
        elif kind == "ENTRYPOINT":
            stage.entrypoint, stage.entrypoint_shell = _command(value)
            if not stage.cmd_set:
                stage.cmd = ()  # Docker: an ENTRYPOINT resets a CMD inherited from the base
        elif kind == "CMD":
            stage.cmd, _ = _command(value)
            stage.cmd_set = True
        elif kind in ("COPY", "ADD"):
            stage.copies.extend(_copies(kind, value, scope, stage, context, stages, names, path))
    if not stages:
        raise ImageError(PULL_ERROR, f"{path} has no FROM instruction: it builds no image")
    final = stages[-1]
    return Image(
        dockerfile=path,
        context=context,
        entrypoint=final.entrypoint,
        entrypoint_shell=final.entrypoint_shell,
        cmd=final.cmd,
        env=dict(final.env),
        workdir=final.workdir,
        user=final.user,
        copies=_with_roots(final.copies, context),
    )


def _copies(
    kind: str,
    value: str,
    scope: Context,
    stage: _Stage,
    context: Path,
    stages: list[_Stage],
    names: dict[str, _Stage],
    dockerfile: Path,
) -> list[tuple[str, Path]]:
    """(container path, host path) for each source of one COPY/ADD."""
    words, shell = _command(value)
    if shell:
        words = tuple(WordSplitter(value, args=scope.args, envs=scope.envs).split())
    flags = [w for w in words if w.startswith("--")]
    words = tuple(w for w in words if not w.startswith("--"))
    if len(words) < 2:
        return []
    *sources, dest = words
    source_stage = None
    for flag in flags:
        if flag.startswith("--from="):
            name = flag.removeprefix("--from=").lower()
            source_stage = names.get(name)
            if source_stage is None and name.isdigit() and int(name) < len(stages):
                source_stage = stages[int(name)]
            if source_stage is None:
                return []  # from another image: nothing of this repository
    into_dir = dest.endswith("/") or len(sources) > 1
    dest = _container_join(stage.workdir, dest)
    found: list[tuple[str, Path]] = []
    for source in sources:
        if kind == "ADD" and re.match(r"^[a-z]+://", source):
            continue  # a URL, not a file of the repository
        if source_stage is not None:
            host = _host_path(source_stage.copies, _container_join("/", source))
            hosts = [host] if host is not None else []
        else:
            relative = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
            hosts = (
                sorted(context.glob(relative)) if _GLOB.search(relative) else [context / relative]
            )
            if not hosts or not all(h.exists() for h in hosts):
                raise ImageError(
                    PULL_ERROR,
                    f"{dockerfile}: {kind} source {source!r} does not exist in the build "
                    f"context {context}: the image cannot be built",
                )
        for host in hosts:
            host = host.resolve()
            if host.is_dir():
                found.append((dest, host))
            elif into_dir or len(hosts) > 1:
                found.append((posixpath.join(dest, host.name), host))
            else:
                found.append((dest, host))
    return found


def _with_roots(copies: list[tuple[str, Path]], context: Path) -> tuple[tuple[str, Path], ...]:
    """The copies, plus the directory each one implies is the context root (COPY a/b.py
    /opt/program/a/ → /opt/program is the root), most specific container path first."""
    roots = []
    for container, host in copies:
        if not host.is_relative_to(context):
            continue
        tail = host.relative_to(context).parts
        parts = container.strip("/").split("/") if container != "/" else []
        if tail and len(parts) >= len(tail) and tuple(parts[-len(tail) :]) == tail:
            root = "/" + "/".join(parts[: -len(tail)])
            if (root, context) not in roots:
                roots.append((root, context))
    # Longest container path first; a COPY's own mapping before an implied root of equal length.
    ordered = sorted(
        [(c, h, 0) for c, h in copies] + [(c, h, 1) for c, h in roots],
        key=lambda item: (-len(item[0].rstrip("/")), item[2]),
    )
    return tuple((c, h) for c, h, _ in ordered)


def _host_path(copies: Sequence[tuple[str, Path]], container_path: str) -> Path | None:
    path = posixpath.normpath(container_path)
    for container, host in copies:
        if path == container:
            return host
        prefix = container.rstrip("/") + "/"
        if path.startswith(prefix):
            return host / path[len(prefix) :]
    return None


# ---------------------------------------------------------------------------------------------
# The image as a process
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Launch:
    """How to start the image's process: argv, the image's environment (container paths mapped,
    PATH for the host), and its working directory (None: a scratch directory)."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None


@dataclass(frozen=True)
class Image:
    """What a Dockerfile's final stage says its container runs."""

    dockerfile: Path
    context: Path
    entrypoint: tuple[str, ...]
    entrypoint_shell: bool
    cmd: tuple[str, ...]
    env: dict[str, str]
    workdir: str
    user: str | None
    copies: tuple[tuple[str, Path], ...]

    def host_path(self, container_path: str) -> Path | None:
        """The repository path a container path holds, or None when nothing was copied there."""
        return _host_path(self.copies, container_path)

    def argv(self, command: Sequence[str] | None = None) -> list[str]:
        """What Docker runs: ENTRYPOINT + (command, or CMD when there is none); a shell-form
        ENTRYPOINT ignores both."""
        if self.entrypoint_shell:
            return list(self.entrypoint)
        return [*self.entrypoint, *(command if command else self.cmd)]

    def _env_value(self, value: str) -> str:
        mapped = []
        for part in value.split(":"):
            host = self.host_path(part) if part.startswith("/") else None
            mapped.append(str(host) if host is not None else part)
        return ":".join(mapped)

    def launch(self, command: Sequence[str] | None, host_path: str) -> Launch:
        """The process for `command` (the job's; None or empty: the image's CMD). `host_path` is
        the host's PATH; the process's PATH is this venv's bin, then it. ImageError
        (CannotStartContainerError) when there is nothing to run or the program is not found."""
        argv = self.argv(command)
        if not argv:
            raise ImageError(
                START_ERROR,
                f"{self.dockerfile} has no ENTRYPOINT or CMD and the job gives no command: "
                "no command specified",
            )
        venv_bin = str(Path(sys.executable).parent)
        env = {name: self._env_value(value) for name, value in self.env.items() if name != "PATH"}
        image_dirs = [
            str(host)
            for part in self.env.get("PATH", "").split(":")
            if part.startswith("/") and (host := self.host_path(part)) is not None
        ]
        env["PATH"] = os.pathsep.join([venv_bin, *image_dirs, *filter(None, [host_path])])
        cwd = self.host_path(self.workdir)
        program = self._program(argv[0], env["PATH"])
        arguments = [self._argument(argument) for argument in argv[1:]]
        return Launch([program, *arguments], env, cwd if cwd is not None and cwd.is_dir() else None)

    def _argument(self, argument: str) -> str:
        """An argument that is a container path something was copied to, as the host path."""
        host = self.host_path(argument) if argument.startswith("/") else None
        return str(host) if host is not None else argument

    def _program(self, name: str, search_path: str) -> str:
        if _PYTHON.fullmatch(posixpath.basename(name)):
            return sys.executable
        if "/" in name:
            container = _container_join(self.workdir, name)
            host = self.host_path(container)
            if host is not None and host.is_file():
                return str(host)
            if Path(container).is_file():
                return container  # a program the host has too (/bin/sh)
            name = posixpath.basename(name)
        found = shutil.which(name, path=search_path)
        if found is None:
            raise ImageError(
                START_ERROR,
                f"{self.dockerfile}: exec: {name!r}: executable file not found in this venv "
                f"or on PATH",
            )
        return found

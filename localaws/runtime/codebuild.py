"""AWS CodeBuild builds, run: StartBuild (from the API or an EventBridge rule's target) runs the
build as CodeBuild does, for projects like the build module's (an S3 ZIP source, an inline
buildspec, a docker build pushed to ECR).

moto keeps projects and makes a build record on StartBuild, but runs nothing: BatchGetBuilds
answers every build SUCCEEDED with made-up phases. The hooks (localaws.runtime.hooks):

- `CodeBuildResponse.start_build` reads StartBuild's overrides, which moto drops
  (environmentVariablesOverride, buildspecOverride, timeoutInMinutesOverride, imageOverride,
  privilegedModeOverride, sourceLocationOverride, sourceTypeOverride, logsConfigOverride, ...);
- `CodeBuildBackend.start_build` → moto's record, filled in from the project as AWS's is
  (source, environment, logs, timeouts, build number), IN_PROGRESS in QUEUED, and a worker
  thread runs the build;
- `batch_get_builds` / `stop_build` answer the records as the builds stand (BatchGetBuilds
  names unknown ids in buildsNotFound); ListBuildsForProject is sorted by sortOrder,
  DESCENDING (newest first) unless asked otherwise, as AWS's.

A build goes SUBMITTED → QUEUED → PROVISIONING → DOWNLOAD_SOURCE → INSTALL → PRE_BUILD → BUILD →
POST_BUILD → UPLOAD_ARTIFACTS → FINALIZING → COMPLETED, each phase with its phaseStatus,
startTime/endTime/durationInSeconds and, when it failed, contexts [{statusCode, message}]. Failures
move as CodeBuild's "Build phase transitions" say: one in PROVISIONING, DOWNLOAD_SOURCE, INSTALL
or PRE_BUILD goes to FINALIZING; BUILD's to POST_BUILD, POST_BUILD's to UPLOAD_ARTIFACTS — unless
the phase says `on-failure: ABORT` (to FINALIZING) or `CONTINUE` (to the next phase).

- DOWNLOAD_SOURCE: an S3 source's location "<bucket>/<key>" (sourceVersion: the object's version)
  is read through the emulator's S3 API and unzipped into the build's directory under the
  runtime's work dir (CODEBUILD_SRC_DIR). The buildspec is the project's (or buildspecOverride):
  inline YAML, or a path in the source; none given, the source's buildspec.yml. It is parsed with
  PyYAML (moto[server]'s own dependency) and checked field by field (`parse_buildspec`); a bad
  one is a YAML_FILE_ERROR naming the field. A missing object, a file that is not a ZIP or no
  buildspec fail the phase with a message naming the location. NO_SOURCE builds run an inline
  buildspec in an empty directory; other source types are not fetched here (the phase says so).
- The commands: each phase's `commands`, then its `finally` commands (which run even when a
  command failed), in one bash shell per build, in the source directory — as buildspec 0.2
  runs them, in the same shell instance, so variables and `cd` carry over (0.1: each in a
  subshell). A command exiting non-zero fails its phase (COMMAND_EXECUTION_ERROR) and skips
  the phase's remaining commands. The environment: buildspec env.variables / parameter-store /
  secrets-manager, under the project's environment variables (PLAINTEXT, PARAMETER_STORE,
  SECRETS_MANAGER), under environmentVariablesOverride — AWS's precedence — plus CodeBuild's
  own: CODEBUILD_BUILD_ID, _BUILD_ARN, _BUILD_NUMBER, _BUILD_IMAGE, _BUILD_SUCCEEDING (0 once a
  phase failed), _INITIATOR ("root": the emulator's callers are its root user),
  _KMS_KEY_ID, _LOG_PATH, _PROJECT_ARN, _SOURCE_REPO_URL, _SRC_DIR, _START_TIME,
  CODEBUILD_SOURCE_VERSION (an S3 source: the object's version id, when it has one; AWS sets no
  CODEBUILD_RESOLVED_SOURCE_VERSION for S3 sources, nor resolvedSourceVersion, and neither does
  this), AWS_REGION / AWS_DEFAULT_REGION, and the emulator's endpoint with the service role's
  STS credentials (so `aws` and SDK calls in a build reach the emulator, as the role).
  env.exported-variables end up in the build's exportedEnvironmentVariables. The build image
  (environment.image) is not used: the commands run with this machine's tools; run-as,
  runtime-versions, proxy, cache and reports are noted in the log and not applied.
- timeoutInMinutes (timeoutInMinutesOverride; 60 when 0) on the runtime's clock: the running
  command's process group is killed, the phase and build TIMED_OUT. StopBuild kills it too:
  STOPPED (its answer waits up to 5 s for that). FINALIZING follows either way.
- UPLOAD_ARTIFACTS uploads nothing: NO_ARTIFACTS projects succeed, any other artifacts type fails
  the phase saying so, rather than pretending.
- Logs: every command's output (stdout and stderr) and CodeBuild's own "[Container] ..." lines go
  to CloudWatch Logs, group logsConfig.cloudWatchLogs.groupName (default /aws/codebuild/<project>),
  stream "<streamName>/<build uuid>" (no streamName: the uuid, the build id's part after the
  colon); the build's `logs` has groupName, streamName, deepLink, cloudWatchLogsArn. Status
  DISABLED: no logs.
- Events: "CodeBuild Build State Change" (IN_PROGRESS, then SUCCEEDED / FAILED / STOPPED /
  TIMED_OUT) and "CodeBuild Build Phase Change" after each phase, source aws.codebuild, the
  detail as AWS's build notifications reference shows (build-status or completed-phase*,
  project-name, build-id — the build's ARN —, additional-information).

Docker. A project with privilegedMode true builds images: PROVISIONING looks for a container
engine as localaws.containers does (docker or podman on PATH whose daemon answers, or the one
LOCALAWS_CONTAINER_ENGINE names; LOCALAWS_CONTAINERS need not be "engine"). With none, the build
runs no command: PROVISIONING fails saying there is no engine. With one, the build's PATH starts
with a `docker` of the runtime's that runs the engine's CLI (podman too, under that name), with
one exception: the emulator has no registry, so the emulator's ECR (hosts
<account>.dkr.ecr.<region>.amazonaws.com) is answered by the shim itself. `docker login` to it
succeeds offline (any password: the emulator checks none); `docker push` to it reads the local
image's id (`<engine> image inspect`) and records the image in the emulator's ECR with PutImage —
a manifest whose config digest is that id, without layers (those stay in the local engine) —
failing as a registry would when the repository does not exist or a tag is immutable. The image
itself stays in the local engine under its ECR name, where the hosting's and Batch's engine mode
look for ECR images (localaws.containers.local_image). A push to any other registry goes to the
engine as it is (and fails offline, as it would).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import queue
import re
import shutil
import signal
import sys
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml  # PyYAML: moto[server]'s own dependency (its CloudFormation templates)
from botocore.exceptions import ClientError
from moto.codebuild.exceptions import InvalidInputException
from moto.codebuild.models import CodeBuildBackend
from moto.codebuild.responses import CodeBuildResponse
from moto.core.responses import ActionResult

from localaws.containers import MODE_VAR, Engine, find_engine, why_not_engine
from localaws.runtime import Context
from localaws.runtime.hooks import Hooks
from localaws.runtime.logs import Logs, LogStream
from localaws.runtime.processes import base_env

log = logging.getLogger("localaws.runtime.codebuild")

SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE = (
    "SUBMITTED",
    "QUEUED",
    "PROVISIONING",
    "DOWNLOAD_SOURCE",
)
INSTALL, PRE_BUILD, BUILD, POST_BUILD = "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD"
UPLOAD_ARTIFACTS, FINALIZING, COMPLETED = "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"
IN_PROGRESS, SUCCEEDED, FAILED = "IN_PROGRESS", "SUCCEEDED", "FAILED"
STOPPED, TIMED_OUT = "STOPPED", "TIMED_OUT"
# The buildspec's phases, in order, with the phase types they run in.
PHASES = {"install": INSTALL, "pre_build": PRE_BUILD, "build": BUILD, "post_build": POST_BUILD}

STATE_EVENT = "CodeBuild Build State Change"
PHASE_EVENT = "CodeBuild Build Phase Change"
NO_ENGINE = (
    "no container engine (docker or podman) on this machine: this build runs docker; "
    "`make images` builds the images locally"
)
INITIATOR = "root"
DEFAULT_TIMEOUT_MIN = 60
DEFAULT_QUEUED_TIMEOUT_MIN = 480
STOP_WAIT_S = 5.0  # StopBuild answers once the build is STOPPED, or after this long
FLUSH_S = 1.0  # a running command's lines reach CloudWatch Logs at least this often
POLL_S = 0.2
# StartBuild's parameters the runtime applies (moto reads projectName, sourceVersion and
# artifactsOverride only).
START_BUILD_PARAMETERS = (
    "sourceVersion",
    "artifactsOverride",
    "environmentVariablesOverride",
    "sourceTypeOverride",
    "sourceLocationOverride",
    "buildspecOverride",
    "environmentTypeOverride",
    "imageOverride",
    "computeTypeOverride",
    "serviceRoleOverride",
    "privilegedModeOverride",
    "timeoutInMinutesOverride",
    "queuedTimeoutInMinutesOverride",
    "encryptionKeyOverride",
    "logsConfigOverride",
)

# What a buildspec may hold at its top level, in its env and in a phase (AWS's buildspec
# reference); what is accepted but not applied here is named in the build's log.
TOP_LEVEL = (
    "version",
    "run-as",
    "env",
    "proxy",
    "batch",
    "phases",
    "reports",
    "artifacts",
    "cache",
)
ENV_FIELDS = (
    "shell",
    "variables",
    "parameter-store",
    "secrets-manager",
    "exported-variables",
    "git-credential-helper",
)
PHASE_FIELDS = ("commands", "finally", "on-failure", "run-as", "runtime-versions")
NOT_APPLIED = ("run-as", "proxy", "batch", "reports", "cache", "artifacts")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------------------------
# The buildspec
# ---------------------------------------------------------------------------------------------
class BuildspecError(ValueError):
    """A buildspec CodeBuild would reject (YAML_FILE_ERROR); the message names the field."""


@dataclass(frozen=True)
class PhaseSpec:
    commands: tuple[str, ...]
    finally_commands: tuple[str, ...] = ()
    on_failure: str | None = None  # None: the phase transitions; ABORT or CONTINUE


@dataclass(frozen=True)
class Buildspec:
    version: str  # "0.2" or "0.1"
    phases: dict[str, PhaseSpec]  # buildspec phase name (install, ...) → its commands
    variables: dict[str, str] = field(default_factory=dict)
    parameter_store: dict[str, str] = field(default_factory=dict)  # variable → parameter name
    secrets_manager: dict[str, str] = field(default_factory=dict)  # variable → secret reference
    exported_variables: tuple[str, ...] = ()
    not_applied: tuple[str, ...] = ()  # fields read but not applied here


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    kind = "nothing" if value is None else type(value).__name__
    raise BuildspecError(f"{where}: expected a string, got {kind}")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        kind = "nothing" if value is None else type(value).__name__
        raise BuildspecError(f"{where}: expected a mapping, got {kind}")
    return value


def _names_to_strings(value: Any, where: str) -> dict[str, str]:
    found = {}
    for name, item in _mapping(value, where).items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise BuildspecError(f"{where}: {name!r} is not an environment variable name")
        found[name] = _scalar(item, f"{where}/{name}")
    return found


def _commands(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        kind = "nothing" if value is None else type(value).__name__
        raise BuildspecError(f"{where}: expected a list of commands, got {kind}")
    commands = []
    for index, command in enumerate(value):
        if isinstance(command, dict):
            raise BuildspecError(
                f"{where}[{index}]: a command must be a string, not a mapping (quote the "
                "command: an unquoted ': ' makes YAML read a mapping)"
            )
        commands.append(_scalar(command, f"{where}[{index}]"))
    return tuple(commands)


def _phase(name: str, value: Any) -> tuple[PhaseSpec, list[str]]:
    where = f"phases/{name}"
    spec = _mapping(value, where)
    for key in spec:
        if key not in PHASE_FIELDS:
            raise BuildspecError(
                f"{where}/{key}: not a field of a phase ({', '.join(PHASE_FIELDS)})"
            )
    if "commands" not in spec:
        raise BuildspecError(f"{where}/commands: missing (a phase's list of commands)")
    on_failure = spec.get("on-failure")
    if on_failure is not None and on_failure not in ("ABORT", "CONTINUE"):
        raise BuildspecError(
            f"{where}/on-failure: {on_failure!r} is not ABORT or CONTINUE (the embedded "
            "CodeBuild retries no phase)"
        )
    if "runtime-versions" in spec and name != "install":
        raise BuildspecError(f"{where}/runtime-versions: only the install phase has them")
    ignored = [f"{where}/{key}" for key in ("run-as", "runtime-versions") if key in spec]
    return (
        PhaseSpec(
            _commands(spec["commands"], f"{where}/commands"),
            _commands(spec["finally"], f"{where}/finally") if "finally" in spec else (),
            on_failure,
        ),
        ignored,
    )


def parse_buildspec(text: str) -> Buildspec:
    """A buildspec's YAML, checked as CodeBuild checks it; BuildspecError names what is wrong."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildspecError(f"not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise BuildspecError("the buildspec must be a YAML mapping (version, env, phases, ...)")
    for key in document:
        if key not in TOP_LEVEL:
            raise BuildspecError(f"{key}: not a buildspec field ({', '.join(TOP_LEVEL)})")
    if "version" not in document:
        raise BuildspecError("version: missing (the buildspec's version, 0.2)")
    version = str(document["version"])
    if version not in ("0.2", "0.1"):
        raise BuildspecError(f"version: {document['version']!r} is not 0.2 or 0.1")
    not_applied = [key for key in NOT_APPLIED if key in document]
    env = _mapping(document.get("env") or {}, "env")
    for key in env:
        if key not in ENV_FIELDS:
            raise BuildspecError(f"env/{key}: not a field of env ({', '.join(ENV_FIELDS)})")
    shell = env.get("shell", "bash")
    if shell not in ("bash", "/bin/bash"):
        raise BuildspecError(f"env/shell: {shell!r}: the embedded CodeBuild runs commands in bash")
    if "git-credential-helper" in env:
        not_applied.append("env/git-credential-helper")
    exported = env.get("exported-variables") or []
    if not isinstance(exported, list) or not all(
        isinstance(name, str) and _ENV_NAME.match(name) for name in exported
    ):
        raise BuildspecError("env/exported-variables: expected a list of variable names")
    if "phases" not in document:
        raise BuildspecError("phases: missing (install, pre_build, build, post_build)")
    phases = {}
    for name, value in _mapping(document["phases"], "phases").items():
        if name not in PHASES:
            raise BuildspecError(f"phases/{name}: not a phase ({', '.join(PHASES)})")
        phases[name], ignored = _phase(name, value)
        not_applied += ignored
    return Buildspec(
        version=version,
        phases=phases,
        variables=_names_to_strings(env.get("variables") or {}, "env/variables"),
        parameter_store=_names_to_strings(env.get("parameter-store") or {}, "env/parameter-store"),
        secrets_manager=_names_to_strings(env.get("secrets-manager") or {}, "env/secrets-manager"),
        exported_variables=tuple(exported),
        not_applied=tuple(not_applied),
    )


# ---------------------------------------------------------------------------------------------
# The `docker` a privileged build runs: the engine's CLI, the emulator's ECR answered here
# ---------------------------------------------------------------------------------------------
DOCKER_SHIM = r'''#!__PYTHON__
"""`docker` in a build of the embedded CodeBuild (localaws.runtime.codebuild): __ENGINE__'s CLI,
except that login and push to the emulator's ECR are answered here (it has no registry)."""
import hashlib
import json
import os
import re
import subprocess
import sys

ENGINE = __ENGINE_PATH__
ECR_HOST = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
GLOBAL_VALUED = {"--config", "-c", "--context", "-H", "--host", "-l", "--log-level",
                 "--tlscacert", "--tlscert", "--tlskey"}
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG = "application/vnd.docker.container.image.v1+json"


def ecr_host(server):
    host = server.split("://", 1)[-1].split("/", 1)[0]
    return ECR_HOST.match(host)


def login(args):
    server, password, from_stdin = None, None, False
    while args:
        arg = args.pop(0)
        name, _, value = arg.partition("=")
        if name in ("-u", "--username", "-p", "--password"):
            value = value or (args.pop(0) if args else "")
            if name in ("-p", "--password"):
                password = value
        elif arg == "--password-stdin":
            from_stdin = True
        elif not arg.startswith("-"):
            server = arg
    if server is None or not ecr_host(server):
        return None
    if from_stdin:
        password = sys.stdin.read().strip()
    if not password:
        print("Error: Cannot perform an interactive login from a non TTY device", file=sys.stderr)
        return 1
    print("Login Succeeded")
    return 0


def push(args):
    references = [arg for arg in args if not arg.startswith("-")]
    if len(references) != 1:
        return None
    reference = references[0]
    host, _, path = reference.partition("/")
    match = ECR_HOST.match(host)
    if not match or not path or "@" in path:
        return None
    account, region = match.group(1), match.group(2)
    repository, tag = path, "latest"
    if ":" in path.rsplit("/", 1)[-1]:
        repository, _, tag = path.rpartition(":")
    inspected = subprocess.run(
        [ENGINE, "image", "inspect", "--format", "{{.Id}}", f"{host}/{repository}:{tag}"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    if inspected.returncode != 0:
        print(f"An image does not exist locally with the tag: {host}/{repository}", file=sys.stderr)
        return 1
    image_id = inspected.stdout.strip()
    if not image_id.startswith("sha256:"):
        image_id = f"sha256:{image_id}"
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": MANIFEST,
         "config": {"mediaType": CONFIG, "size": 0, "digest": image_id}, "layers": []},
        sort_keys=True,
    )
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    print(f"The push refers to repository [{host}/{repository}]", flush=True)
    import boto3
    from botocore.exceptions import ClientError

    ecr = boto3.client("ecr", region_name=region)
    try:
        ecr.describe_repositories(registryId=account, repositoryNames=[repository])
        ecr.put_image(registryId=account, repositoryName=repository, imageManifest=manifest,
                      imageManifestMediaType=MANIFEST, imageTag=tag, imageDigest=digest)
    except ClientError as exc:
        code, message = exc.response["Error"]["Code"], exc.response["Error"].get("Message")
        if code == "RepositoryNotFoundException":
            print(f"name unknown: The repository with name '{repository}' does not exist in the "
                  f"registry with id '{account}'", file=sys.stderr)
            return 1
        if code != "ImageAlreadyExistsException":  # the same image and tag: nothing to push
            print(f"{code}: {message}", file=sys.stderr)
            return 1
    print(f"{tag}: digest: {digest} size: {len(manifest)}")
    return 0


def main(argv):
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in GLOBAL_VALUED else 1
    command, rest = argv[index:index + 1], list(argv[index + 1:])
    if command == ["image"] and rest[:1] == ["push"]:
        command, rest = ["push"], rest[1:]
    answered = None
    if command == ["login"]:
        answered = login(rest)
    elif command == ["push"]:
        answered = push(rest)
    if answered is not None:
        return answered
    os.execv(ENGINE, [ENGINE, *argv])


sys.exit(main(sys.argv[1:]))
'''


def write_docker_shim(directory: Path, engine: Engine) -> Path:
    """`directory/docker`: the build's docker (the engine's CLI; the emulator's ECR answered by
    the shim), run by this interpreter (boto3 for PutImage)."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "docker"
    shim.write_text(
        DOCKER_SHIM.replace("__PYTHON__", sys.executable)
        .replace("__ENGINE_PATH__", json.dumps(engine.path))
        .replace("__ENGINE__", engine.name)
    )
    shim.chmod(0o755)
    return shim


# ---------------------------------------------------------------------------------------------
# Records and events
# ---------------------------------------------------------------------------------------------
def _event_time(value: datetime | None) -> str | None:
    """A time as CodeBuild's events write it: "Sep 1, 2017 4:12:29 PM"."""
    if value is None:
        return None
    hour = value.hour % 12 or 12
    return f"{value:%b} {value.day}, {value.year} {hour}:{value:%M:%S} {value:%p}"


def _environment_variables(variables: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "name": str(v.get("name")),
            "value": str(v.get("value", "")),
            "type": v.get("type") or "PLAINTEXT",
        }
        for v in variables
    ]


def _merged(base: list[dict[str, Any]], overrides: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Environment variables with `overrides` replacing those of the same name."""
    merged = {v["name"]: v for v in _environment_variables(base)}
    merged.update({v["name"]: v for v in _environment_variables(overrides)})
    return list(merged.values())


@dataclass
class _Outcome:
    status: str
    code: str = ""
    message: str = ""

    @property
    def contexts(self) -> list[dict[str, str]]:
        return [{"statusCode": self.code, "message": self.message}] if self.message else []


def _interrupted(status: str, timeout_min: int) -> _Outcome:
    if status == TIMED_OUT:
        return _Outcome(
            TIMED_OUT, "BUILD_TIMED_OUT", f"Build timed out after {timeout_min} minutes"
        )
    return _Outcome(STOPPED, "BUILD_STOPPED", "Build stopped (StopBuild)")


class _Interrupted(Exception):
    """The emulator stops while the build runs: the build is left as it is."""


# ---------------------------------------------------------------------------------------------
# The build's shell
# ---------------------------------------------------------------------------------------------
# Commands come on fd 3 (a FIFO), NUL-terminated; each is eval'd with stdin from /dev/null and
# followed by a marker line with its exit status, so the runtime knows when it ended.
SHELL_LOOP = r"""
exec 2>&1
__localaws_mark=$2
exec 3<"$1"
while IFS= read -r -d '' __localaws_command <&3; do
  eval "$__localaws_command" </dev/null
  printf '\n%s%d\n' "$__localaws_mark" "$?"
done
"""
_EXITED = object()  # the shell process ended


class _Shell:
    """One bash per build that runs the commands one at a time, in the same shell instance (a
    command that exits it is followed by a new one)."""

    def __init__(
        self,
        ctx: Context,
        fifo: Path,
        env: dict[str, str],
        cwd: Path,
        on_line: Callable[[str], None],
    ) -> None:
        self.ctx = ctx
        self.fifo = fifo
        self.env = env
        self.cwd = cwd
        self.on_line = on_line
        self.mark = f"__localaws_{uuid.uuid4().hex}_exit="
        self.capture = f"__localaws_{uuid.uuid4().hex}_value="
        self.captured: list[str] = []
        self._results: queue.Queue[Any] = queue.Queue()
        self._blank = False
        self._pid: int | None = None
        self._exit_code: int | None = None
        self._thread: threading.Thread | None = None
        os.mkfifo(fifo)
        # Read-write: the open never blocks, and the FIFO has a writer while a shell restarts.
        self._fd = os.open(fifo, os.O_RDWR)

    def _start(self) -> None:
        self._pid = None
        thread = threading.Thread(target=self._main, name="codebuild-shell", daemon=True)
        self._thread = thread
        thread.start()

    def _main(self) -> None:
        argv = ["bash", "--noprofile", "--norc", "-c", SHELL_LOOP, "codebuild", str(self.fifo)]
        try:
            finished = self.ctx.processes.run(
                [*argv, self.mark],
                env=self.env,
                cwd=self.cwd,
                on_line=self._line,
                on_start=self._started,
            )
            self._exit_code = finished.exit_code
        except OSError as exc:
            self.on_line(f"[Container] cannot start bash: {exc}")
            self._exit_code = 127
        finally:
            if self._blank:
                self.on_line("")
                self._blank = False
            self._results.put(_EXITED)

    def _started(self, pid: int) -> None:
        self._pid = pid

    def _line(self, line: str) -> None:
        if line.startswith(self.mark):
            self._blank = False  # the marker's own newline
            self._results.put(int(line[len(self.mark) :] or 1))
            return
        if line.startswith(self.capture):
            self.captured.append(line[len(self.capture) :])
            return
        if self._blank:
            self.on_line("")
        self._blank = line == ""
        if not self._blank:
            self.on_line(line)

    def run(self, command: str, interrupted: Callable[[], bool]) -> int | None:
        """Run one command; its exit status, or None when the build was interrupted (the shell
        is then killed)."""
        if self._thread is None or not self._thread.is_alive():
            self._start()
        os.write(self._fd, command.encode() + b"\0")
        killed = False
        while True:
            try:
                result = self._results.get(timeout=POLL_S)
            except queue.Empty:
                if interrupted() and not killed:
                    killed = self.kill()  # False until the shell has started
                continue
            if result is _EXITED:
                if self._thread is not None:
                    self._thread.join(timeout=5)
                self._thread = None
                if interrupted() or self.ctx.stopping.is_set():
                    return None
                return self._exit_code if self._exit_code is not None else 1
            return None if interrupted() else int(result)

    def values(self, names: Iterable[str]) -> dict[str, str]:
        """The shell's current values of `names` (unset: left out)."""
        self.captured.clear()
        names = list(names)
        if not names or self._thread is None or not self._thread.is_alive():
            return {}
        loop = " ".join(names)
        self.run(
            f'for __n in {loop}; do [ -n "${{!__n+x}}" ] && '
            f"printf '%s%s=%s\\n' '{self.capture}' \"$__n\" \"${{!__n}}\"; done; true",
            lambda: False,
        )
        return dict(line.partition("=")[::2] for line in self.captured)

    def kill(self) -> bool:
        """Kill the shell and whatever it runs (its process group); whether it was running."""
        pid = self._pid
        return pid is not None and self.ctx.processes.send_signal(pid, signal.SIGKILL)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)  # the shell reads EOF and exits
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
            if thread.is_alive():
                self.kill()
                thread.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# One build
# ---------------------------------------------------------------------------------------------
@dataclass
class _Build:
    record: dict[str, Any]  # moto's build, as BatchGetBuilds answers it
    account: str
    region: str
    project: dict[str, Any]  # the project as it was at StartBuild
    finished: threading.Event = field(default_factory=threading.Event)
    interrupt: str | None = None  # STOPPED or TIMED_OUT
    thread: threading.Thread | None = None
    shell: _Shell | None = None


class _Run:
    """A build's phases, run in its worker thread."""

    def __init__(self, runtime: CodeBuildRuntime, build: _Build) -> None:
        self.runtime = runtime
        self.ctx = runtime.ctx
        self.build = build
        self.record = build.record
        self.work = self.ctx.work_dir / "codebuild" / build.record["id"].rpartition(":")[2]
        self.src = self.work / "src"
        self.engine: Engine | None = None
        self.buildspec: Buildspec | None = None
        self.env: dict[str, str] = {}
        self.source_version: str | None = None
        self.failed = False
        self.stream: LogStream | None = None
        self._flushed = 0.0

    # -- logging --------------------------------------------------------------------------------
    def _open_log(self) -> None:
        logs = self.record["logs"]
        if logs["cloudWatchLogs"].get("status") == "DISABLED":
            return
        client = Logs(self.ctx.client("logs", self.build.region))
        self.stream = client.stream(logs["groupName"], logs["streamName"])

    def line(self, text: str) -> None:
        if self.stream is None:
            return
        self.stream.write(text)
        now = self.ctx.clock.time()
        if now - self._flushed >= FLUSH_S:
            self._flushed = now
            self.stream.flush()

    def say(self, text: str) -> None:
        """One of CodeBuild's own log lines: "[Container] 2026/12/01 10:00:00.123456 text"."""
        self.line(f"[Container] {datetime.now():%Y/%m/%d %H:%M:%S.%f} {text}")

    # -- phases ---------------------------------------------------------------------------------
    def _begin(self, phase: str) -> None:
        with self.runtime.lock:
            self.record["phases"].append({"phaseType": phase, "startTime": self.ctx.clock.now()})
            self.record["currentPhase"] = phase
        if phase not in (QUEUED, COMPLETED):
            self.say(f"Entering phase {phase}")

    def _end(self, outcome: _Outcome) -> None:
        now = self.ctx.clock.now()
        with self.runtime.lock:
            phase = self.record["phases"][-1]
            phase["phaseStatus"] = outcome.status
            phase["endTime"] = now
            phase["durationInSeconds"] = int((now - phase["startTime"]).total_seconds())
            phase["contexts"] = outcome.contexts
            detail = self.runtime.event_detail(self.build)
        if phase["phaseType"] != QUEUED:
            self.say(f"Phase complete: {phase['phaseType']} State: {outcome.status}")
            self.say(f"Phase context status code: {outcome.code} Message: {outcome.message}")
        if outcome.status != SUCCEEDED and not self.failed:
            self.failed = True
            self.env["CODEBUILD_BUILD_SUCCEEDING"] = "0"  # for a shell started after this
            if self.build.shell is not None and self.build.interrupt is None:
                self.build.shell.run("export CODEBUILD_BUILD_SUCCEEDING=0", lambda: False)
        detail.update(
            {
                "completed-phase": phase["phaseType"],
                "completed-phase-status": outcome.status,
                "completed-phase-duration-seconds": phase["durationInSeconds"],
                "completed-phase-start": _event_time(phase["startTime"]),
                "completed-phase-end": _event_time(now),
                "completed-phase-context": json.dumps(outcome.contexts),
            }
        )
        detail.pop("build-status", None)
        self.runtime.publish(self.build, PHASE_EVENT, detail)

    def _step(self, phase: str, work: Callable[[], _Outcome]) -> _Outcome:
        """Run a phase the runtime does itself (provisioning, download, artifacts)."""
        self._begin(phase)
        try:
            outcome = work()
        except Exception as exc:  # the build says what went wrong, the emulator keeps serving
            log.exception("codebuild: %s of %s failed", phase, self.record["id"])
            outcome = _Outcome(FAILED, "CLIENT_ERROR", f"localaws could not run {phase}: {exc}")
        if self.build.interrupt is not None and outcome.status == SUCCEEDED:
            outcome = self._interruption()
        self._end(outcome)
        return outcome

    def _interruption(self) -> _Outcome:
        assert self.build.interrupt is not None
        return _interrupted(self.build.interrupt, self.record["timeoutInMinutes"])

    def live(self) -> None:
        self._end(_Outcome(SUCCEEDED))  # QUEUED: builds start at once here
        self.runtime.publish(self.build, STATE_EVENT, self.runtime.event_detail(self.build))
        self._open_log()
        try:
            status = self._phases()
        except _Interrupted:
            self._clean_up()
            return
        except Exception:
            self._clean_up()
            raise
        self._begin(FINALIZING)
        self._clean_up()
        self._end(_Outcome(SUCCEEDED))
        self._complete(status)

    def _clean_up(self) -> None:
        """The build environment goes: its shell (and what it left running), its directory."""
        if self.build.shell is not None:
            self.build.shell.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def _phases(self) -> str:
        """Every phase up to FINALIZING; the build's status."""
        for phase, work in ((PROVISIONING, self._provision), (DOWNLOAD_SOURCE, self._download)):
            outcome = self._step(phase, work)
            if outcome.status != SUCCEEDED:
                return self.build.interrupt or FAILED
        assert self.buildspec is not None
        names = [*PHASES, "artifacts"]
        index = 0
        while index < len(names):
            name = names[index]
            spec = self.buildspec.phases.get(name)
            if name == "artifacts":
                outcome = self._step(UPLOAD_ARTIFACTS, self._artifacts)
            else:
                outcome = self._commands(PHASES[name], spec)
            index += 1
            if outcome.status == SUCCEEDED:
                continue
            if self.build.interrupt is not None:
                return self.build.interrupt
            on_failure = spec.on_failure if spec is not None else None
            if on_failure == "ABORT" or (on_failure is None and name in ("install", "pre_build")):
                break
        if self.build.shell is not None and self.buildspec.exported_variables:
            exported = self.build.shell.values(self.buildspec.exported_variables)
            with self.runtime.lock:
                self.record["exportedEnvironmentVariables"] = [
                    {"name": name, "value": value} for name, value in exported.items()
                ]
        return FAILED if self.failed else SUCCEEDED

    def _complete(self, status: str) -> None:
        now = self.ctx.clock.now()
        if self.stream is not None:
            self.stream.close()
        with self.runtime.lock:
            self.record["phases"].append({"phaseType": COMPLETED, "startTime": now})
            self.record.update(
                currentPhase=COMPLETED, buildStatus=status, endTime=now, buildComplete=True
            )
            detail = self.runtime.event_detail(self.build)
        self.runtime.publish(self.build, STATE_EVENT, detail)

    # -- PROVISIONING ---------------------------------------------------------------------------
    def _provision(self) -> _Outcome:
        environment = self.record["environment"]
        self.work.mkdir(parents=True, exist_ok=True)
        if not environment.get("privilegedMode"):
            return _Outcome(SUCCEEDED)
        probe = {**os.environ, MODE_VAR: "engine"}
        self.engine = find_engine(probe)
        if self.engine is None:
            self.say(f"Container engine: {why_not_engine(probe)}")
            self.say(NO_ENGINE)
            return _Outcome(FAILED, "CLIENT_ERROR", NO_ENGINE)
        write_docker_shim(self.work / "bin", self.engine)
        self.say(f"Container engine: {self.engine.name} ({self.engine.path}), as docker")
        return _Outcome(SUCCEEDED)

    # -- DOWNLOAD_SOURCE ------------------------------------------------------------------------
    def _download(self) -> _Outcome:
        source = self.record["source"]
        kind, location = source.get("type"), source.get("location") or ""
        self.src.mkdir(parents=True, exist_ok=True)
        if kind == "S3":
            failure = self._fetch(location)
            if failure is not None:
                return _Outcome(FAILED, "CLIENT_ERROR", failure)
        elif kind != "NO_SOURCE":
            return _Outcome(
                FAILED,
                "CLIENT_ERROR",
                f"the embedded CodeBuild fetches S3 sources (and runs NO_SOURCE builds), not "
                f"{kind} ({location})",
            )
        try:
            self.buildspec = parse_buildspec(self._buildspec_text(source))
        except BuildspecError as exc:
            return _Outcome(FAILED, "YAML_FILE_ERROR", str(exc))
        for what in self.buildspec.not_applied:
            self.say(f"Not applied by the embedded CodeBuild: {what}")
        try:
            self.env = self._environment()
        except (ClientError, ValueError) as exc:
            return _Outcome(FAILED, "CLIENT_ERROR", str(exc))
        return _Outcome(SUCCEEDED)

    def _fetch(self, location: str) -> str | None:
        """The S3 source's ZIP, unzipped into the source directory; what went wrong, or None."""
        where = f"for primary source and source version arn:aws:s3:::{location}"
        bucket, _, key = location.partition("/")
        if not bucket or not key:
            return f"source location {location!r} is not <bucket>/<key> of a ZIP file {where}"
        request = {"Bucket": bucket, "Key": key}
        if self.record.get("sourceVersion"):
            request["VersionId"] = self.record["sourceVersion"]
        try:
            answer = self.ctx.client("s3").get_object(**request)
            body = answer["Body"].read()
        except ClientError as exc:
            error = exc.response["Error"]
            return f"{error.get('Code')}: {error.get('Message')} {where}"
        version = answer.get("VersionId")
        if version and version != "null":
            self.source_version = version
        archive_path = self.work / "source.zip"
        archive_path.write_bytes(body)
        root = self.src.resolve()
        try:
            with zipfile.ZipFile(archive_path) as archive:
                for entry in archive.infolist():
                    target = (root / entry.filename).resolve()
                    if not target.is_relative_to(root):
                        return f"zip entry {entry.filename!r} leaves the source directory {where}"
                    archive.extract(entry, root)
                    mode = (entry.external_attr >> 16) & 0o777
                    if mode and not entry.is_dir():
                        target.chmod(mode)
        except zipfile.BadZipFile:
            return f"zip: not a valid zip file {where}"
        finally:
            archive_path.unlink(missing_ok=True)
        return None

    def _buildspec_text(self, source: dict[str, Any]) -> str:
        """The inline buildspec, or the file it names in the source (default buildspec.yml)."""
        given = source.get("buildspec") or ""
        if "\n" in given.strip() or given.lstrip().startswith(("{", "version")):
            return given
        path = given.strip() or "buildspec.yml"
        if path.startswith("arn:") or "://" in path:
            raise BuildspecError(f"buildspec {path}: the embedded CodeBuild reads no S3 buildspec")
        file = (self.src / path).resolve()
        if not file.is_relative_to(self.src.resolve()) or not file.is_file():
            where = source.get("location") or "the source"
            if source.get("type") == "S3":
                where = f"arn:aws:s3:::{where}"
            raise BuildspecError(
                f"no buildspec: {path} is not in the source {where} (and the project has no "
                "inline buildspec)"
            )
        return file.read_text()

    def _resolve(self, name: str, kind: str, reference: str) -> str:
        """Variable `name`'s value: PLAINTEXT as it is; PARAMETER_STORE and SECRETS_MANAGER from
        the emulator's Parameter Store and Secrets Manager."""
        if kind == "PARAMETER_STORE":
            try:
                answer = self.ctx.client("ssm", self.build.region).get_parameter(
                    Name=reference, WithDecryption=True
                )
            except ClientError as exc:
                raise ValueError(f"parameter does not exist: {reference} ({exc})") from None
            return str(answer["Parameter"]["Value"])
        if kind == "SECRETS_MANAGER":
            secret, _, rest = reference.partition(":")
            json_key, _, stage_and_version = rest.partition(":")
            stage, _, version = stage_and_version.partition(":")
            request: dict[str, Any] = {"SecretId": secret}
            if stage:
                request["VersionStage"] = stage
            if version:
                request["VersionId"] = version
            try:
                value = self.ctx.client("secretsmanager", self.build.region).get_secret_value(
                    **request
                )["SecretString"]
            except (ClientError, KeyError) as exc:
                raise ValueError(f"secret {secret} cannot be read: {exc}") from None
            if json_key:
                try:
                    value = json.loads(value)[json_key]
                except (ValueError, KeyError, TypeError):
                    raise ValueError(f"secret {secret} has no JSON key {json_key}") from None
            return str(value)
        if kind != "PLAINTEXT":
            raise ValueError(
                f"environment variable {name}: type {kind} is not PLAINTEXT, PARAMETER_STORE or "
                "SECRETS_MANAGER"
            )
        return reference

    def _environment(self) -> dict[str, str]:
        """The commands' environment: the buildspec's variables under the project's (with the
        overrides), CodeBuild's own, the emulator's endpoint and the service role's credentials
        (so the build's calls are the role's in CloudTrail, as on AWS)."""
        assert self.buildspec is not None
        record, region = self.record, self.build.region
        role = record.get("serviceRole")
        session = str(record.get("id", "codebuild")).replace(":", "-")
        env = {**base_env(), **self.ctx.aws_env(role, session), "AWS_REGION": region}
        env["AWS_DEFAULT_REGION"] = region
        env.update(self.buildspec.variables)
        for name, parameter in self.buildspec.parameter_store.items():
            env[name] = self._resolve(name, "PARAMETER_STORE", parameter)
        for name, secret in self.buildspec.secrets_manager.items():
            env[name] = self._resolve(name, "SECRETS_MANAGER", secret)
        for variable in record["environment"].get("environmentVariables") or []:
            env[variable["name"]] = self._resolve(
                variable["name"], variable["type"], variable["value"]
            )
        logs = record["logs"]
        codebuild = {
            "CODEBUILD_BUILD_ARN": record["arn"],
            "CODEBUILD_BUILD_ID": record["id"],
            "CODEBUILD_BUILD_IMAGE": str(record["environment"].get("image", "")),
            "CODEBUILD_BUILD_NUMBER": str(record["buildNumber"]),
            "CODEBUILD_BUILD_SUCCEEDING": "1",
            "CODEBUILD_INITIATOR": record["initiator"],
            "CODEBUILD_KMS_KEY_ID": str(record.get("encryptionKey", "")),
            "CODEBUILD_LOG_PATH": str(logs.get("streamName", "")),
            "CODEBUILD_PROJECT_ARN": self.build.project["arn"],
            "CODEBUILD_SRC_DIR": str(self.src),
            "CODEBUILD_START_TIME": str(int(record["startTime"].timestamp() * 1000)),
        }
        if record["source"].get("type") == "S3":
            codebuild["CODEBUILD_SOURCE_REPO_URL"] = f"s3://{record['source'].get('location')}"
            if self.source_version:
                codebuild["CODEBUILD_SOURCE_VERSION"] = self.source_version
        env.update(codebuild)
        if self.engine is not None:
            env["PATH"] = f"{self.work / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
        return env

    # -- INSTALL .. POST_BUILD ------------------------------------------------------------------
    def _commands(self, phase: str, spec: PhaseSpec | None) -> _Outcome:
        self._begin(phase)
        outcome = _Outcome(SUCCEEDED)
        if spec is not None:
            outcome = self._run_all(spec.commands)
            finally_outcome = self._run_all(spec.finally_commands)
            if outcome.status == SUCCEEDED:
                outcome = finally_outcome
        if self.build.interrupt is not None:
            outcome = self._interruption()
        self._end(outcome)
        return outcome

    def _run_all(self, commands: tuple[str, ...]) -> _Outcome:
        for command in commands:
            if self.build.interrupt is not None:
                return self._interruption()
            code = self._run_one(command)
            if self.ctx.stopping.is_set():
                raise _Interrupted
            if code is None:
                return self._interruption()
            if code != 0:
                self.say(f"Command did not exit successfully {command} exit status {code}")
                return _Outcome(
                    FAILED,
                    "COMMAND_EXECUTION_ERROR",
                    f"Error while executing command: {command}. Reason: exit status {code}",
                )
        return _Outcome(SUCCEEDED)

    def _run_one(self, command: str) -> int | None:
        if self.build.shell is None:
            self.build.shell = _Shell(
                self.ctx, self.work / "commands", self.env, self.src, self.line
            )
        self.say(f"Running command {command}")
        assert self.buildspec is not None
        text = f"(\n{command}\n)" if self.buildspec.version == "0.1" else command
        code = self.build.shell.run(text, lambda: self.build.interrupt is not None)
        if self.stream is not None:
            self.stream.flush()
        return code

    # -- UPLOAD_ARTIFACTS -----------------------------------------------------------------------
    def _artifacts(self) -> _Outcome:
        kind = (self.build.project.get("artifacts") or {}).get("type", "NO_ARTIFACTS")
        if kind == "NO_ARTIFACTS":
            return _Outcome(SUCCEEDED)
        return _Outcome(
            FAILED,
            "CLIENT_ERROR",
            f"the embedded CodeBuild uploads no artifacts (the project's are {kind})",
        )


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
class CodeBuildRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.lock = threading.RLock()
        self._builds: dict[str, _Build] = {}
        self._request = threading.local()  # StartBuild's parameters, for the backend hook
        self._hooks = Hooks()

    # -- hooks ----------------------------------------------------------------------------------
    def start(self) -> None:
        runtime = self
        hooks = self._hooks
        original_response_start = CodeBuildResponse.start_build
        original_list = CodeBuildResponse.list_builds_for_project
        original_start = CodeBuildBackend.start_build
        original_get = CodeBuildBackend.batch_get_builds
        original_stop = CodeBuildBackend.stop_build

        def response_start_build(response: CodeBuildResponse) -> Any:
            given = {name: response._get_param(name) for name in START_BUILD_PARAMETERS}
            runtime._request.parameters = {k: v for k, v in given.items() if v is not None}
            try:
                return original_response_start(response)
            finally:
                runtime._request.parameters = None

        def start_build(backend: CodeBuildBackend, *args: Any, **kwargs: Any) -> dict[str, Any]:
            record = original_start(backend, *args, **kwargs)
            parameters = getattr(runtime._request, "parameters", None) or {}
            # A copy: the build's thread changes the record while the answer is serialized.
            return runtime._admit(backend, record, parameters)

        def batch_get_builds(backend: CodeBuildBackend, ids: list[str]) -> list[dict[str, Any]]:
            with runtime.lock:
                ours = {i: runtime._ours(backend, i) for i in ids}
                records = {i: copy.deepcopy(b.record) for i, b in ours.items() if b is not None}
            others = [i for i, b in ours.items() if b is None]  # from before the runtime: moto's
            if others:
                records.update({b["id"]: b for b in original_get(backend, others)})
            return [records[i] for i in dict.fromkeys(ids) if i in records]

        def response_batch_get_builds(response: CodeBuildResponse) -> ActionResult:
            ids = response._get_param("ids") or []
            for build_id in ids:
                if ":" not in build_id:
                    raise InvalidInputException("Invalid build ID provided")
            builds = response.codebuild_backend.batch_get_builds(ids)
            found = {build["id"] for build in builds}
            return ActionResult(
                {"builds": builds, "buildsNotFound": [i for i in ids if i not in found]}
            )

        def stop_build(backend: CodeBuildBackend, build_id: str) -> dict[str, Any] | None:
            build = runtime._ours(backend, build_id)
            if build is None:
                return original_stop(backend, build_id)
            return runtime._stop(build)

        def list_builds_for_project(response: CodeBuildResponse) -> ActionResult:
            answer = original_list(response)
            ids = list(answer.result["ids"])  # type: ignore[index]
            if response._get_param("sortOrder") != "ASCENDING":
                ids.reverse()
            return ActionResult({"ids": ids})

        hooks.install(CodeBuildResponse, "start_build", response_start_build)
        hooks.install(CodeBuildResponse, "batch_get_builds", response_batch_get_builds)
        hooks.install(CodeBuildResponse, "list_builds_for_project", list_builds_for_project)
        hooks.install(CodeBuildBackend, "start_build", start_build)
        hooks.install(CodeBuildBackend, "batch_get_builds", batch_get_builds)
        hooks.install(CodeBuildBackend, "stop_build", stop_build)

    def stop(self) -> None:
        self.ctx.stopping.set()
        with self.lock:
            builds = list(self._builds.values())
        for build in builds:
            build.finished.set()
            if build.shell is not None:
                build.shell.kill()
        for build in builds:
            if build.thread is not None:
                build.thread.join(timeout=5)
        self._hooks.restore()

    def _ours(self, backend: CodeBuildBackend, build_id: str) -> _Build | None:
        build = self._builds.get(build_id)
        if build is None or (build.account, build.region) != (
            backend.account_id,
            backend.region_name,
        ):
            return None
        return build

    # -- StartBuild -----------------------------------------------------------------------------
    def _admit(
        self, backend: CodeBuildBackend, record: dict[str, Any], request: dict[str, Any]
    ) -> dict[str, Any]:
        """Fill moto's new record in from the project and StartBuild's overrides, as AWS's, and
        start the build; the record as it is now."""
        name = record["projectName"]
        project = copy.deepcopy(backend.codebuild_projects[name].project_metadata)
        now = self.ctx.clock.now()
        source = copy.deepcopy(project.get("source") or {})
        if request.get("sourceTypeOverride"):
            source["type"] = request["sourceTypeOverride"]
        if request.get("sourceLocationOverride"):
            source["location"] = request["sourceLocationOverride"]
        if request.get("buildspecOverride") is not None:
            source["buildspec"] = request["buildspecOverride"]
        environment = copy.deepcopy(project.get("environment") or {})
        for key, override in (
            ("image", "imageOverride"),
            ("computeType", "computeTypeOverride"),
            ("type", "environmentTypeOverride"),
            ("privilegedMode", "privilegedModeOverride"),
        ):
            if request.get(override) is not None:
                environment[key] = request[override]
        environment["environmentVariables"] = _merged(
            environment.get("environmentVariables") or [],
            request.get("environmentVariablesOverride") or [],
        )
        logs_config = copy.deepcopy(request.get("logsConfigOverride") or project.get("logsConfig"))
        uuid_part = record["id"].rpartition(":")[2]
        cloudwatch = (logs_config or {}).get("cloudWatchLogs") or {"status": "ENABLED"}
        group = cloudwatch.get("groupName") or f"/aws/codebuild/{name}"
        stream = (
            f"{cloudwatch['streamName']}/{uuid_part}" if cloudwatch.get("streamName") else uuid_part
        )
        region, account = backend.region_name, backend.account_id
        logs: dict[str, Any] = {
            "cloudWatchLogs": cloudwatch,
            "s3Logs": (logs_config or {}).get("s3Logs") or {"status": "DISABLED"},
        }
        if cloudwatch.get("status") != "DISABLED":
            logs.update(
                groupName=group,
                streamName=stream,
                deepLink=f"https://console.aws.amazon.com/cloudwatch/home?region={region}"
                f"#logEvent:group={group};stream={stream}",
                cloudWatchLogsArn=f"arn:aws:logs:{region}:{account}:log-group:{group}"
                f":log-stream:{stream}",
            )
        artifacts = request.get("artifactsOverride") or project.get("artifacts") or {}
        timeout = request.get("timeoutInMinutesOverride") or project.get("timeoutInMinutes")
        queued = request.get("queuedTimeoutInMinutesOverride") or project.get(
            "queuedTimeoutInMinutes"
        )
        with self.lock:
            for key in ("sourceVersion", "resolvedSourceVersion"):
                record.pop(key, None)
            if request.get("sourceVersion"):
                record["sourceVersion"] = request["sourceVersion"]
            record.update(
                buildNumber=len(backend.build_history[name]),
                startTime=now,
                currentPhase=QUEUED,
                buildStatus=IN_PROGRESS,
                phases=[
                    {
                        "phaseType": SUBMITTED,
                        "phaseStatus": SUCCEEDED,
                        "startTime": now,
                        "endTime": now,
                        "durationInSeconds": 0,
                        "contexts": [],
                    },
                    {"phaseType": QUEUED, "startTime": now},
                ],
                source=source,
                environment=environment,
                artifacts={"location": artifacts.get("location", "")},
                logs=logs,
                serviceRole=request.get("serviceRoleOverride") or project.get("serviceRole"),
                timeoutInMinutes=int(timeout or DEFAULT_TIMEOUT_MIN),
                queuedTimeoutInMinutes=int(queued or DEFAULT_QUEUED_TIMEOUT_MIN),
                buildComplete=False,
                initiator=INITIATOR,
                encryptionKey=request.get("encryptionKeyOverride") or project.get("encryptionKey"),
            )
            if project.get("vpcConfig"):
                record["vpcConfig"] = copy.deepcopy(project["vpcConfig"])
            build = _Build(record, account, region, project)
            self._builds[record["id"]] = build
            answer = copy.deepcopy(record)
        self.publish(build, PHASE_EVENT, self._submitted_detail(build))
        build.thread = threading.Thread(
            target=self._run, args=(build,), name=f"codebuild-{uuid_part[:8]}", daemon=True
        )
        build.thread.start()
        threading.Thread(target=self._watch, args=(build,), daemon=True).start()
        return answer

    def _run(self, build: _Build) -> None:
        try:
            _Run(self, build).live()
        except Exception:  # the emulator keeps serving; the build says it failed
            log.exception("codebuild: build %s failed", build.record["id"])
            with self.lock:
                if build.record["buildStatus"] == IN_PROGRESS:
                    build.record.update(
                        buildStatus=FAILED, buildComplete=True, endTime=self.ctx.clock.now()
                    )
        finally:
            build.finished.set()

    def _watch(self, build: _Build) -> None:
        """timeoutInMinutes on the runtime's clock: the build TIMED_OUT, its command killed."""
        seconds = build.record["timeoutInMinutes"] * 60.0
        if self.ctx.clock.sleep(seconds, build.finished):
            return
        self._interrupt(build, TIMED_OUT)

    def _interrupt(self, build: _Build, status: str) -> None:
        with self.lock:
            if build.interrupt is not None or build.finished.is_set():
                return
            build.interrupt = status
            shell = build.shell
        if shell is not None:
            shell.kill()

    def _stop(self, build: _Build) -> dict[str, Any]:
        self._interrupt(build, STOPPED)
        build.finished.wait(STOP_WAIT_S)
        with self.lock:
            return copy.deepcopy(build.record)

    # -- events ---------------------------------------------------------------------------------
    def publish(self, build: _Build, detail_type: str, detail: dict[str, Any]) -> None:
        if self.ctx.publish is None:
            return
        try:
            self.ctx.publish(
                {
                    "source": "aws.codebuild",
                    "detail-type": detail_type,
                    "detail": detail,
                    "resources": [build.record["arn"]],
                    "account": build.account,
                    "region": build.region,
                }
            )
        except Exception:
            log.exception("codebuild: publishing %s of %s failed", detail_type, build.record["id"])

    def _submitted_detail(self, build: _Build) -> dict[str, Any]:
        with self.lock:
            detail = self.event_detail(build)
            submitted = build.record["phases"][0]
        detail.pop("build-status", None)
        detail.update(
            {
                "completed-phase": SUBMITTED,
                "completed-phase-status": SUCCEEDED,
                "completed-phase-duration-seconds": 0,
                "completed-phase-start": _event_time(submitted["startTime"]),
                "completed-phase-end": _event_time(submitted["endTime"]),
                "completed-phase-context": "[]",
            }
        )
        return detail

    def event_detail(self, build: _Build) -> dict[str, Any]:
        """A state change's detail, as AWS's build notifications reference shows it (callers
        hold the lock)."""
        record = build.record
        environment = record["environment"]
        logs = record["logs"]
        phases = [
            {
                "phase-context": [
                    f"{c['statusCode']}: {c['message']}" for c in phase.get("contexts") or []
                ],
                "start-time": _event_time(phase.get("startTime")),
                "end-time": _event_time(phase.get("endTime")),
                "duration-in-seconds": phase.get("durationInSeconds"),
                "phase-type": phase["phaseType"],
                "phase-status": phase.get("phaseStatus"),
            }
            for phase in record["phases"]
        ]
        information: dict[str, Any] = {
            "build-number": record["buildNumber"],
            "build-complete": record["buildComplete"],
            "initiator": record["initiator"],
            "build-start-time": _event_time(record["startTime"]),
            "source": {
                k: v for k, v in record["source"].items() if k in ("location", "type", "buildspec")
            },
            "artifact": {"location": record["artifacts"].get("location", "")},
            "environment": {
                "image": environment.get("image"),
                "privileged-mode": bool(environment.get("privilegedMode")),
                "compute-type": environment.get("computeType"),
                "type": environment.get("type"),
                "environment-variables": environment.get("environmentVariables") or [],
            },
            "logs": {
                "group-name": logs.get("groupName"),
                "stream-name": logs.get("streamName"),
                "deep-link": logs.get("deepLink"),
            },
            "phases": phases,
            "timeout-in-minutes": record["timeoutInMinutes"],
            "queued-timeout-in-minutes": record["queuedTimeoutInMinutes"],
        }
        if record.get("sourceVersion"):
            information["source-version"] = record["sourceVersion"]
        current = record["phases"][-1]
        return {
            "build-status": record["buildStatus"],
            "project-name": record["projectName"],
            "build-id": record["arn"],
            "additional-information": information,
            "current-phase": record["currentPhase"],
            "current-phase-context": json.dumps(current.get("contexts") or []),
            "version": "1",
        }

"""AWS Batch jobs, run: SubmitJob on an enabled queue runs the job's container as AWS does.

moto keeps compute environments, queues, definitions and jobs, and its `Job` is a thread that
`BatchBackend.submit_job` starts (an array's children are Jobs "<parent>:<index>"); with
`batch.use_docker` off it runs nothing and marks every job SUCCEEDED. The hooks:

- `BatchSimpleBackend.submit_job` → moto's real `BatchBackend.submit_job` (the Job threads), whose
  jobs are then admitted here (with SubmitJob's retryStrategy, which moto drops: read in
  `BatchResponse.submitjob`, which also rejects a malformed one); its job-name pattern is AWS's
  (moto's wants two characters at least);
- `Job.run` → the executor below; `Job.status` → a plain attribute: the `batch::job` managed
  state's own progression is off, the executor moves the states;
- `Job.describe` / `describe_short` (DescribeJobs, ListJobs) report what ran: timestamps in ms,
  statusReason, container exitCode/reason/logStreamName, attempts[], retryStrategy, an array's
  rolled-up status and statusSummary; `_get_container_property("environment")` no longer appends
  AWS_BATCH_JOB_ID to the overrides on every describe.

A job: SUBMITTED → PENDING (until its dependsOn SUCCEEDED; a FAILED one fails it: "Dependent Job
failed") → RUNNABLE (until its queue and a compute environment are ENABLED and the environment's
computeResources.maxvCpus has room for its vCPUs; waiting jobs go in queue priority, then
submission order) → STARTING → RUNNING → SUCCEEDED / FAILED. Each attempt runs the image
(localaws.runtime.images: the repository's Dockerfile as a process; with LOCALAWS_CONTAINERS=
engine and an engine that answers, the real image with `<engine> run`) with the definition's
command (or containerOverrides.command) and `Ref::name` elements replaced by the parameters, its
environment plus AWS_BATCH_JOB_ID, AWS_BATCH_JOB_ATTEMPT, AWS_BATCH_JQ_NAME, AWS_BATCH_CE_NAME
(and AWS_BATCH_JOB_ARRAY_INDEX / _SIZE for array children) and the emulator's endpoints. Its lines
go to CloudWatch Logs (logConfiguration's awslogs-group, default /aws/batch/job; stream
"<awslogs-stream-prefix or definition name>/default/<task id>"). A failed attempt is retried per
retryStrategy (attempts, evaluateOnExit: the first rule whose onStatusReason, onReason and
onExitCode all match decides RETRY or EXIT; none matching retries). timeout.attemptDurationSeconds
(on the runtime's clock) SIGTERMs the attempt, SIGKILLs it 30 s later, and fails the job ("Job
attempt duration exceeded timeout") without a retry, as TerminateJob does with its reason.
Every state change is published as AWS's "Batch Job State Change" event (detail: the job's
DescribeJobs entry).
"""

from __future__ import annotations

import copy
import logging
import os
import queue
import re
import shutil
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.batch import models as batch_models
from moto.batch.exceptions import ClientException
from moto.batch.models import BatchBackend, Job
from moto.batch.responses import BatchResponse
from moto.batch_simple.models import BatchSimpleBackend

from localaws.containers import (
    MODE_VAR,
    ContainerError,
    Engine,
    find_engine,
    local_image,
    run_argv,
    why_not_engine,
)
from localaws.runtime import Context
from localaws.runtime.images import PULL_ERROR, START_ERROR, ImageError, resolve
from localaws.runtime.logs import LogStream
from localaws.runtime.processes import base_env

log = logging.getLogger("localaws.runtime.batch")

PENDING, RUNNABLE, STARTING, RUNNING = "PENDING", "RUNNABLE", "STARTING", "RUNNING"
SUCCEEDED, FAILED = "SUCCEEDED", "FAILED"
TERMINAL = (SUCCEEDED, FAILED)
STATUSES = ("SUBMITTED", PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED)

EXITED = "Essential container in task exited"
TIMED_OUT = "Job attempt duration exceeded timeout"
DEPENDENCY_FAILED = "Dependent Job failed"
CHILD_FAILED = "Array Child Job failed"
DEFAULT_LOG_GROUP = "/aws/batch/job"
EVENT_TYPE = "Batch Job State Change"

KILL_GRACE_S = 30.0  # AWS: SIGTERM, then SIGKILL if the container still runs 30 s later
POLL_S = 0.1  # how often waiting jobs look at their dependencies, capacity, cancellation
FLUSH_S = 1.0  # a running attempt's log lines reach CloudWatch Logs at least this often
ADMIT_TIMEOUT_S = 30.0  # a Job thread waits this long for its submission to be recorded


@dataclass
class _Run:
    """What the executor knows of one moto Job (an array parent, a child, or a plain job)."""

    job: Job
    seq: int
    retry_strategy: dict[str, Any]
    created_ms: int
    parent: _Run | None = None
    index: int | None = None
    children: list[_Run] = field(default_factory=list)
    status_reason: str | None = None
    started_ms: int | None = None
    stopped_ms: int | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    command: list[str] | None = None
    vcpus: float = 1.0
    pid: int | None = None  # the running attempt's process (group)
    container: str | None = None  # the running attempt's engine container


@dataclass(frozen=True)
class _Outcome:
    exit_code: int | None
    reason: str | None  # the container's (CannotPullContainerError: …)
    status_reason: str
    final: bool = False  # timed out or terminated: never retried

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.final


class BatchRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._runs: dict[str, _Run] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._waiting: list[_Run] = []  # RUNNABLE jobs, in no particular order
        self._used: dict[str, float] = {}  # compute environment ARN → vCPUs in use
        self._seq = 0
        self._submission = threading.local()  # SubmitJob's retryStrategy, for the backend hook
        self._events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._publisher: threading.Thread | None = None
        self._originals: dict[tuple[Any, str], Any] = {}
        self.engine: Engine | None = None

    # -----------------------------------------------------------------------------------------
    # Hooks
    # -----------------------------------------------------------------------------------------
    def start(self) -> None:
        if os.environ.get(MODE_VAR) == "engine":
            self.engine = find_engine()
            if self.engine is None:
                log.warning(
                    "batch: %s=engine but no engine: %s; jobs run as processes",
                    MODE_VAR,
                    why_not_engine(),
                )
        runtime = self
        original_submit = BatchBackend.submit_job
        original_submitjob = BatchResponse.submitjob

        def submit_job(backend: BatchBackend, *args: Any, **kwargs: Any) -> Any:
            name, job_id, arn = original_submit(backend, *args, **kwargs)
            try:
                runtime._admit(backend, job_id)
            except Exception:  # the job stays SUBMITTED; SubmitJob still answers
                log.exception("batch: admitting job %s failed", job_id)
            return name, job_id, arn

        def simple_submit_job(simple: BatchSimpleBackend, *args: Any, **kwargs: Any) -> Any:
            return BatchBackend.submit_job(simple.backend, *args, **kwargs)

        def submitjob(response: BatchResponse) -> str:
            strategy = response._get_param("retryStrategy")
            _check_retry_strategy(strategy)
            runtime._submission.retry_strategy = strategy
            try:
                return original_submitjob(response)
            finally:
                runtime._submission.retry_strategy = None

        def run(job: Job) -> None:
            runtime._run(job)

        def get_container_property(job: Job, name: str, default: Any) -> Any:
            return runtime._container_property(job, name, default)

        original_describe, original_short = Job.describe, Job.describe_short

        def describe(job: Job) -> dict[str, Any]:
            return runtime._describe(job, original_describe)

        def describe_short(job: Job) -> dict[str, Any]:
            return runtime._describe_short(job, original_short)

        # AWS: a job name's first character is alphanumeric, then up to 127 of [A-Za-z0-9_-];
        # moto's pattern wants two characters at least (its simple backend checks none).
        self._patch(
            batch_models, "JOB_NAME_REGEX", re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
        )
        self._patch(BatchBackend, "submit_job", submit_job)
        self._patch(BatchSimpleBackend, "submit_job", simple_submit_job)
        self._patch(BatchResponse, "submitjob", submitjob)
        self._patch(Job, "run", run)
        self._patch(Job, "status", property(lambda job: job._status, _set_job_status))
        self._patch(Job, "_get_container_property", get_container_property)
        self._patch(Job, "describe", describe)
        self._patch(Job, "describe_short", describe_short)
        self._publisher = threading.Thread(target=self._publish_loop, name="batch-events")
        self._publisher.daemon = True
        self._publisher.start()

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        """Replace `owner.name` (a class's or a module's) until stop()."""
        self._originals[(owner, name)] = owner.__dict__.get(name)
        setattr(owner, name, value)

    def stop(self) -> None:
        self.ctx.stopping.set()
        with self._lock:
            runs = list(self._runs.values())
            self._changed.notify_all()
        for run in runs:
            self._kill(run, signal.SIGKILL)
        for run in runs:
            if run.job.is_alive():
                run.job.join(timeout=5)
        if self._publisher is not None:
            self._publisher.join(timeout=5)
        for (owner, name), original in self._originals.items():
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._originals.clear()

    # -----------------------------------------------------------------------------------------
    # Submission
    # -----------------------------------------------------------------------------------------
    def _admit(self, backend: BatchBackend, job_id: str) -> None:
        """Record a job moto just created (an array parent with its children), so its threads
        start; the parent (which moto runs no thread for) is PENDING at once."""
        strategy = getattr(self._submission, "retry_strategy", None)
        now = self._now_ms()
        with self._changed:
            job = backend._jobs[job_id]
            retry = copy.deepcopy(strategy or job.job_definition.retry_strategy or {})
            parent = self._new_run(job, retry, now)
            children = job._child_jobs or []
            for index, child in enumerate(children):
                parent.children.append(self._new_run(child, retry, now, parent, index))
            self._changed.notify_all()
        if children:
            self._set_status(parent, PENDING)
        elif "size" in job.array_properties:
            self._set_status(parent, FAILED, "Array job size must be between 2 and 10,000")

    def _new_run(
        self,
        job: Job,
        retry: dict[str, Any],
        now: int,
        parent: _Run | None = None,
        index: int | None = None,
    ) -> _Run:
        self._seq += 1
        run = _Run(job, self._seq, retry, now, parent, index, vcpus=_vcpus(job))
        if job.job_definition.container_properties is not None:
            run.command = _command(job)
        job.job_created_at = datetime.fromtimestamp(now / 1000)
        self._runs[job.job_id] = run
        return run

    # -----------------------------------------------------------------------------------------
    # A job's life (in its moto Job thread)
    # -----------------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        run = self._await_admission(job)
        if run is None:
            return
        try:
            self._live(run)
        except Exception as exc:  # keep the emulator serving; the job says what went wrong
            log.exception("batch: running job %s failed", job.job_id)
            self._set_status(run, FAILED, f"localaws could not run the job: {exc}")

    def _await_admission(self, job: Job) -> _Run | None:
        """The job's record, once SubmitJob has made it (moto starts the thread before)."""
        deadline = self.ctx.clock.time() + ADMIT_TIMEOUT_S
        with self._changed:
            while job.job_id not in self._runs:
                if self.ctx.stopping.is_set():
                    return None
                if self.ctx.clock.time() >= deadline:
                    log.error("batch: job %s was never admitted; it does not run", job.job_id)
                    return None
                self._changed.wait(POLL_S)
            return self._runs[job.job_id]

    def _live(self, run: _Run) -> None:
        job = run.job
        if job.job_definition.container_properties is None:
            kind = "multi-node" if job.job_definition.node_properties else "EKS"
            self._set_status(run, FAILED, f"localaws runs container jobs only, not {kind} jobs")
            return
        self._set_status(run, PENDING)
        if not self._await_dependencies(run):
            return
        while True:
            self._set_status(run, RUNNABLE)
            environment = self._acquire(run)
            if environment is None:
                return
            try:
                outcome = self._attempt(run, environment)
            finally:
                self._release(run, environment)
            if outcome is None:  # the runtime stopped
                return
            if outcome.succeeded:
                self._set_status(run, SUCCEEDED, outcome.status_reason)
                return
            if outcome.final or not self._retry(run, outcome):
                self._set_status(run, FAILED, outcome.status_reason)
                return

    def _stop_reason(self, run: _Run) -> str | None:
        """Why the job (or its array parent) was cancelled or terminated, if it was."""
        for job in (run.job, run.parent.job if run.parent else None):
            if job is not None and job.stop:
                return job.job_stopped_reason or "Terminated"
        return None

    def _await_dependencies(self, run: _Run) -> bool:
        dependencies = self._dependencies(run)
        with self._changed:
            while True:
                if self.ctx.stopping.is_set():
                    return False
                reason = self._stop_reason(run)
                if reason is not None:
                    self._set_status(run, FAILED, reason)
                    return False
                jobs = [run.job.all_jobs.get(job_id) for job_id in dependencies]
                if any(job is None or job.status == FAILED for job in jobs):
                    self._set_status(run, FAILED, DEPENDENCY_FAILED)
                    return False
                if all(job.status == SUCCEEDED for job in jobs):
                    return True
                self._changed.wait(POLL_S)

    def _dependencies(self, run: _Run) -> list[str]:
        """The job ids this job waits for: dependsOn's jobIds; for an array child, N_TO_N → the
        same index of the other array, SEQUENTIAL → the previous index of its own."""
        found = []
        for dependency in run.job.depends_on or []:
            kind, job_id = dependency.get("type"), dependency.get("jobId")
            if run.parent is not None and kind == "SEQUENTIAL":
                if run.index:
                    found.append(f"{run.parent.job.job_id}:{run.index - 1}")
            elif run.parent is not None and kind == "N_TO_N" and job_id:
                found.append(f"{job_id}:{run.index}")
            elif job_id:
                found.append(job_id)
        return found

    # -----------------------------------------------------------------------------------------
    # Capacity
    # -----------------------------------------------------------------------------------------
    def _acquire(self, run: _Run) -> Any | None:
        """Wait (RUNNABLE) for a compute environment with room; None when the job was cancelled
        meanwhile (then FAILED) or the runtime stops."""
        with self._changed:
            self._waiting.append(run)
            try:
                while True:
                    if self.ctx.stopping.is_set():
                        return None
                    reason = self._stop_reason(run)
                    if reason is not None:
                        self._set_status(run, FAILED, reason)
                        return None
                    environment = self._placement(run)
                    if environment is not None:
                        self._used[environment.arn] = (
                            self._used.get(environment.arn, 0.0) + run.vcpus
                        )
                        return environment
                    self._changed.wait(POLL_S)
            finally:
                self._waiting.remove(run)

    def _placement(self, run: _Run) -> Any | None:
        """The first environment of the job's queue that is enabled and has room for it, unless
        a job ahead of it (queue priority, then submission) waits for that environment too."""
        if run.job.job_queue.state != "ENABLED":
            return None
        for environment in run.job.job_queue.environments:
            capacity = _max_vcpus(environment)
            if environment.state != "ENABLED" or run.vcpus > capacity:
                continue
            ahead = [
                other
                for other in self._waiting
                if other is not run
                and _order(other) < _order(run)
                and other.job.job_queue.state == "ENABLED"
                and environment in other.job.job_queue.environments
                and other.vcpus <= capacity
            ]
            if ahead:
                continue
            if self._used.get(environment.arn, 0.0) + run.vcpus <= capacity:
                return environment
        return None

    def _release(self, run: _Run, environment: Any) -> None:
        with self._changed:
            self._used[environment.arn] = self._used.get(environment.arn, 0.0) - run.vcpus
            self._changed.notify_all()

    # -----------------------------------------------------------------------------------------
    # One attempt
    # -----------------------------------------------------------------------------------------
    def _attempt(self, run: _Run, environment: Any) -> _Outcome | None:
        job = run.job
        number = len(run.attempts) + 1
        task_id = uuid.uuid4().hex
        group, stream_name = _log_target(job, task_id)
        cluster = environment.ecs_name or environment.name
        attempt: dict[str, Any] = {
            "container": {
                "taskArn": f"arn:aws:ecs:{self.ctx.region}:{self.ctx.account_id}:task/"
                f"{cluster}/{task_id}",
                "networkInterfaces": [],
            },
        }
        with self._lock:
            run.attempts.append(attempt)
        self._set_status(run, STARTING)
        scratch = self.ctx.work_dir / "batch" / task_id
        try:
            argv, env, cwd = self._prepare(run, number, environment, task_id, scratch)
        except (ImageError, ContainerError) as exc:
            reason = str(exc) if isinstance(exc, ImageError) else f"{PULL_ERROR}: {exc}"
            return self._end_attempt(run, attempt, _Outcome(None, reason, reason))
        stream = self.ctx.logs.stream(group, stream_name)
        with self._lock:
            attempt["container"]["logStreamName"] = stream_name
        self._set_status(run, RUNNING)
        watch = _Watch(self, run, stream, self._attempt_duration(job))
        try:
            finished = self.ctx.processes.run(
                argv, env=env, cwd=cwd, on_line=stream.write, on_start=watch.started
            )
        except OSError as exc:
            reason = f"{START_ERROR}: {argv[0]}: {exc}"
            return self._end_attempt(run, attempt, _Outcome(None, reason, reason))
        finally:
            watch.finish()
            stream.close()
            shutil.rmtree(scratch, ignore_errors=True)
            if watch.kill_reason is not None:
                self._remove_container(run)
            with self._lock:
                run.pid = run.container = None
        if finished.stopped or self.ctx.stopping.is_set():
            return None
        code = finished.exit_code
        if code is not None and code < 0:
            code = 128 - code  # killed by signal N: a container reports 128 + N
        if watch.kill_reason is not None:
            return self._end_attempt(run, attempt, _Outcome(code, None, watch.kill_reason, True))
        return self._end_attempt(run, attempt, _Outcome(code, None, EXITED))

    def _prepare(
        self, run: _Run, number: int, environment: Any, task_id: str, scratch: Any
    ) -> tuple[list[str], dict[str, str], Any]:
        """argv, environment and working directory of the attempt's process."""
        job = run.job
        image = job.job_definition.container_properties.get("image", "")
        batch_env = {
            "AWS_BATCH_JOB_ID": job.job_id,
            "AWS_BATCH_JOB_ATTEMPT": str(number),
            "AWS_BATCH_JQ_NAME": job.job_queue.name,
            "AWS_BATCH_CE_NAME": environment.name,
        }
        if run.parent is not None:
            batch_env["AWS_BATCH_JOB_ARRAY_INDEX"] = str(run.index)
            batch_env["AWS_BATCH_JOB_ARRAY_SIZE"] = str(len(run.parent.children))
        job_env = {**_environment(job), **batch_env}
        # The job role's credentials (the container's, on AWS through the task role endpoint).
        job_role = job.job_definition.container_properties.get("jobRoleArn")
        command = list(run.command or [])
        if self.engine is not None:
            container = f"localaws-batch-{task_id[:12]}"
            argv = run_argv(
                self.engine,
                container,
                local_image(self.engine, image),
                command,
                {**self.ctx.aws_env(job_role, task_id), **job_env},
            )
            with self._lock:
                run.container = container
            return argv, base_env(), None
        resolved = resolve(image)
        if resolved.user is not None:
            log.info("batch: %s: USER %s is not applied here", job.job_id, resolved.user)
        launch = resolved.launch(command, base_env().get("PATH", os.defpath))
        if launch.cwd is None:
            scratch.mkdir(parents=True, exist_ok=True)
        env = {**base_env(), **launch.env, **self.ctx.aws_env(job_role, task_id), **job_env}
        return launch.argv, env, launch.cwd or scratch

    def _attempt_duration(self, job: Job) -> float | None:
        timeout = job.timeout or job.job_definition.timeout or {}
        seconds = timeout.get("attemptDurationSeconds")
        return float(seconds) if seconds else None

    def _end_attempt(self, run: _Run, attempt: dict[str, Any], outcome: _Outcome) -> _Outcome:
        now = self._now_ms()
        with self._lock:
            attempt.setdefault("startedAt", now)
            attempt["stoppedAt"] = now
            attempt["statusReason"] = outcome.status_reason
            if outcome.exit_code is not None:
                attempt["container"]["exitCode"] = outcome.exit_code
            if outcome.reason is not None:
                attempt["container"]["reason"] = outcome.reason
        return outcome

    def _retry(self, run: _Run, outcome: _Outcome) -> bool:
        """Whether a failed attempt gets another (AWS: the first evaluateOnExit rule whose
        conditions all match decides; none matching retries, while attempts remain)."""
        strategy = run.retry_strategy
        if len(run.attempts) >= int(strategy.get("attempts") or 1):
            return False
        exit_code = None if outcome.exit_code is None else str(outcome.exit_code)
        for rule in strategy.get("evaluateOnExit") or []:
            conditions = (
                (rule.get("onStatusReason"), outcome.status_reason),
                (rule.get("onReason"), outcome.reason),
                (rule.get("onExitCode"), exit_code),
            )
            if all(_matches(pattern, value) for pattern, value in conditions if pattern):
                return str(rule.get("action", "")).upper() == "RETRY"
        return True

    def _kill(self, run: _Run, signum: int) -> None:
        """Signal the job's running attempt (its process group; its container's engine CLI, which
        forwards SIGTERM to the container; SIGKILL also removes the container)."""
        with self._lock:
            pid, container = run.pid, run.container
        if pid is not None:
            self.ctx.processes.send_signal(pid, signum)
        if signum == signal.SIGKILL and container is not None:
            self._remove_container(run)

    def _remove_container(self, run: _Run) -> None:
        with self._lock:
            container = run.container
        if container is None or self.engine is None:
            return
        try:
            self.engine.command("rm", "-f", container)
        except ContainerError:
            log.exception("batch: removing container %s failed", container)

    # -----------------------------------------------------------------------------------------
    # States, events, descriptions
    # -----------------------------------------------------------------------------------------
    def _now_ms(self) -> int:
        return int(self.ctx.clock.time() * 1000)

    def _set_status(self, run: _Run, status: str, reason: str | None = None) -> None:
        """Move a job to `status` (and its array parent's roll-up with it); each change is
        published, in order, as a "Batch Job State Change" event."""
        with self._changed:
            job = run.job
            if job.status in TERMINAL:
                return
            now = self._now_ms()
            changed = job.status != status
            job.status = status
            if reason is not None:
                run.status_reason = reason
            if status == RUNNING and changed:
                run.started_ms = now
                job.job_started_at = datetime.fromtimestamp(now / 1000)
                if run.attempts:
                    run.attempts[-1]["startedAt"] = now
            if status in TERMINAL:
                run.stopped_ms = now
                job.job_stopped = True
                job.job_stopped_at = datetime.fromtimestamp(now / 1000)
                attempt = run.attempts[-1]["container"] if run.attempts else {}
                job.exit_code = attempt.get("exitCode")
            self._changed.notify_all()
            if changed:
                self._events.put((job.arn, job.describe()))
            if run.parent is not None:
                self._roll_up(run.parent)

    def _roll_up(self, parent: _Run) -> None:
        """An array parent's status from its children's: PENDING until one starts, RUNNING until
        all are done, then SUCCEEDED if all succeeded, else FAILED."""
        statuses = [child.job.status for child in parent.children]
        if all(status in TERMINAL for status in statuses):
            failed = FAILED in statuses
            reason = (self._stop_reason(parent) or CHILD_FAILED) if failed else None
            self._set_status(parent, FAILED if failed else SUCCEEDED, reason)
        elif any(child.started_ms is not None for child in parent.children):
            if parent.job.status != RUNNING:
                self._set_status(parent, RUNNING)
        elif parent.job.status != PENDING:
            self._set_status(parent, PENDING)

    def _publish_loop(self) -> None:
        while not self.ctx.stopping.is_set():
            try:
                arn, detail = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.ctx.publish_event("aws.batch", EVENT_TYPE, detail, [arn])
            except Exception:
                log.exception("batch: publishing the state change of %s failed", arn)

    def _container_property(self, job: Job, name: str, default: Any) -> Any:
        """moto's, without appending AWS_BATCH_JOB_ID to the overrides' environment on each call:
        the definition's environment with the overrides' on top (DescribeJobs shows only those)."""
        if name != "environment":
            return self._originals[(Job, "_get_container_property")](job, name, default)
        return [{"name": k, "value": v} for k, v in _environment(job).items()]

    def _describe(self, job: Job, original: Callable[[Job], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            status = job._status
            detail = original(job)
            job._status = status  # moto's describe sets an array parent SUCCEEDED by itself
            run = self._runs.get(job.job_id)
            if run is None:
                return detail
            try:
                return self._describe_run(run, detail)
            except Exception:  # moto's answer rather than none
                log.exception("batch: describing job %s failed", job.job_id)
                return detail

    def _describe_run(self, run: _Run, detail: dict[str, Any]) -> dict[str, Any]:
        self._summarize(run, detail)
        detail["attempts"] = copy.deepcopy(run.attempts)
        if run.retry_strategy:
            detail["retryStrategy"] = copy.deepcopy(run.retry_strategy)
        if "container" in detail:
            props = run.job.job_definition.container_properties
            container = detail["container"]
            container["image"] = props.get("image")
            if run.command is not None:
                container["command"] = list(run.command)
            for key in ("resourceRequirements", "logConfiguration", "jobRoleArn"):
                if props.get(key):
                    container[key] = copy.deepcopy(props[key])
            container.update(_last_container(run, "exitCode", "reason", "logStreamName", "taskArn"))
        return detail

    def _describe_short(
        self, job: Job, original: Callable[[Job], dict[str, Any]]
    ) -> dict[str, Any]:
        with self._lock:
            summary = original(job)
            run = self._runs.get(job.job_id)
            if run is None:
                return summary
            try:
                self._summarize(run, summary)
            except Exception:  # moto's answer rather than none
                log.exception("batch: summarizing job %s failed", job.job_id)
                return summary
            summary.pop("container", None)
            if run.attempts:
                summary["container"] = _last_container(run, "exitCode", "reason")
            return summary

    def _summarize(self, run: _Run, into: dict[str, Any]) -> None:
        """The fields DescribeJobs and ListJobs share, from what ran (moto's own startedAt and
        stoppedAt are the epoch for a job that never started)."""
        for key in ("statusReason", "startedAt", "stoppedAt"):
            into.pop(key, None)
        into["status"] = run.job.status
        into["createdAt"] = run.created_ms
        if run.status_reason is not None:
            into["statusReason"] = run.status_reason
        if run.started_ms is not None:
            into["startedAt"] = run.started_ms
        if run.stopped_ms is not None:
            into["stoppedAt"] = run.stopped_ms
        if run.children:
            counts = dict.fromkeys(STATUSES, 0)
            for child in run.children:
                counts[child.job.status] += 1
            into["arrayProperties"] = {"statusSummary": counts, "size": len(run.children)}
        elif run.parent is not None:
            into["arrayProperties"] = {"index": run.index}


class _Watch:
    """Watches one running attempt: its timeout (on the runtime's clock) and a TerminateJob
    SIGTERM it, SIGKILL 30 s later; its log lines are flushed every second meanwhile."""

    def __init__(
        self, runtime: BatchRuntime, run: _Run, stream: LogStream, duration_s: float | None
    ) -> None:
        self.runtime = runtime
        self.run = run
        self.stream = stream
        clock = runtime.ctx.clock
        self.deadline = None if duration_s is None else clock.time() + duration_s
        self.kill_reason: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"batch-{run.job.job_id}")
        self._thread.daemon = True
        self._thread.start()

    def started(self, pid: int) -> None:
        with self.runtime._lock:
            self.run.pid = pid

    def finish(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        runtime, clock = self.runtime, self.runtime.ctx.clock
        term_sent_at: float | None = None
        killed = False
        next_flush = clock.time() + FLUSH_S
        while not self._done.is_set() and not runtime.ctx.stopping.is_set():
            now = clock.time()
            if self.kill_reason is None:
                stop_reason = runtime._stop_reason(self.run)
                if stop_reason is not None:
                    self.kill_reason = stop_reason
                elif self.deadline is not None and now >= self.deadline:
                    self.kill_reason = TIMED_OUT
            if self.kill_reason is not None and term_sent_at is None and self.run.pid is not None:
                runtime._kill(self.run, signal.SIGTERM)
                term_sent_at = now
            elif term_sent_at is not None and not killed and now - term_sent_at >= KILL_GRACE_S:
                runtime._kill(self.run, signal.SIGKILL)
                killed = True
            if now >= next_flush:
                self.stream.flush()
                next_flush = now + FLUSH_S
            self._done.wait(POLL_S)  # a poll: the deadline is read from the clock above


# ---------------------------------------------------------------------------------------------
# A job's definition, read
# ---------------------------------------------------------------------------------------------
def _set_job_status(job: Job, value: str) -> None:
    job._status = value


def _last_container(run: _Run, *keys: str) -> dict[str, Any]:
    """`keys` of the latest attempt's container (what the job's own container reports)."""
    last = run.attempts[-1]["container"] if run.attempts else {}
    return {key: last[key] for key in keys if key in last}


def _check_retry_strategy(strategy: Any) -> None:
    """SubmitJob's retryStrategy as AWS accepts it, else a ClientException saying what is wrong."""
    if strategy is None:
        return
    if not isinstance(strategy, dict):
        raise ClientException("retryStrategy must be an object with attempts and evaluateOnExit")
    attempts = strategy.get("attempts")
    if attempts is not None and not (isinstance(attempts, int) and 1 <= attempts <= 10):
        raise ClientException(f"retryStrategy.attempts must be between 1 and 10, not {attempts!r}")
    rules = strategy.get("evaluateOnExit") or []
    if len(rules) > 5:
        raise ClientException(
            f"retryStrategy.evaluateOnExit takes 5 rules at most, not {len(rules)}"
        )
    for rule in rules:
        if str(rule.get("action", "")).upper() not in ("RETRY", "EXIT"):
            raise ClientException(
                f"retryStrategy.evaluateOnExit action must be RETRY or EXIT, not "
                f"{rule.get('action')!r}"
            )


def _matches(pattern: str, value: str | None) -> bool:
    """AWS's evaluateOnExit glob: an exact match, or a prefix one when it ends with '*'. A value
    the attempt does not have (no exit code, no reason) matches nothing."""
    if value is None:
        return False
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern


def _environment(job: Job) -> dict[str, str]:
    """The definition's environment with the overrides' on top."""
    merged = {}
    for source in (job.job_definition.container_properties or {}, job.container_overrides):
        for entry in source.get("environment") or []:
            merged[entry["name"]] = entry.get("value", "")
    return merged


def _command(job: Job) -> list[str]:
    """containerOverrides.command, else the definition's, with each `Ref::name` element replaced
    by the parameter (the definition's defaults under SubmitJob's); an unknown one stays."""
    props = job.job_definition.container_properties or {}
    command = job.container_overrides.get("command") or props.get("command") or []
    if isinstance(command, str):
        command = [command]
    parameters = {**job.job_definition.parameters, **job.parameters}
    substituted = []
    for part in command:
        name = part.removeprefix("Ref::") if part.startswith("Ref::") else None
        substituted.append(str(parameters[name]) if name in parameters else part)
    return substituted


def _requirement(source: dict[str, Any], kind: str) -> str | None:
    for entry in source.get("resourceRequirements") or []:
        if str(entry.get("type", "")).upper() == kind:
            return entry.get("value")
    return None


def _vcpus(job: Job) -> float:
    props, overrides = job.job_definition.container_properties or {}, job.container_overrides
    for value in (
        _requirement(overrides, "VCPU"),
        overrides.get("vcpus"),
        _requirement(props, "VCPU"),
        props.get("vcpus"),
    ):
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                log.warning("batch: job %s: vCPUs %r is not a number; 1 used", job.job_id, value)
    return 1.0


def _max_vcpus(environment: Any) -> float:
    """A managed environment's computeResources.maxvCpus; an unmanaged one is not bounded."""
    resources = environment.compute_resources or {}
    if environment.env_type != "MANAGED" or resources.get("maxvCpus") is None:
        return float("inf")
    return float(resources["maxvCpus"])


def _order(run: _Run) -> tuple[int, int]:
    try:
        priority = int(run.job.job_queue.priority)
    except (TypeError, ValueError):
        priority = 0
    return -priority, run.seq


def _log_target(job: Job, task_id: str) -> tuple[str, str]:
    """(group, stream) of the awslogs driver: awslogs-group (default /aws/batch/job), stream
    "<awslogs-stream-prefix, or the definition's name>/default/<task id>"."""
    props = job.job_definition.container_properties or {}
    options = (props.get("logConfiguration") or {}).get("options") or {}
    group = options.get("awslogs-group") or DEFAULT_LOG_GROUP
    prefix = options.get("awslogs-stream-prefix") or job.job_definition.name
    return group, f"{prefix}/default/{task_id}"

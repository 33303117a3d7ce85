"""The embedded AWS's runtime: what AWS does by itself, run inside the emulator's process.

AWS runs Lambda functions when S3 notifies them, Batch jobs when they are submitted, EventBridge
rules on schedule, alarm evaluation, autoscaling and Step Functions executions without anyone
asking. moto keeps the resources but runs none of it (EMULATOR-NOTES.md), so each service here
hooks moto's own backends (its invoke, job thread, notification and pattern-matching code) and
does the work as local processes, driven only by the ordinary AWS APIs and events.

    lambda         Lambda functions (Python runtimes) as processes: Invoke, S3 notifications,
                   async retries, dead-letter queues, /aws/lambda/<name> logs  (lambdas.py)
    batch          Batch jobs: states, Ref:: parameters, arrays, dependsOn, retries, timeouts,
                   maxvCpus; images from this repository's Dockerfiles as processes (batch.py)
    codebuild      CodeBuild builds (S3 sources, buildspecs; docker pushes to ECR)  (codebuild.py)
    events         EventBridge schedules (rate, cron) and event patterns, delivered to targets;
                   POST /localaws/events/rules/<name>/fire fires a rule now  (events.py)
    alarms         CloudWatch metric alarms evaluated on the emulator's metrics; SNS delivery to
                   SQS and Lambda, email/http(s) recorded in an outbox  (alarms.py, sns.py)
    scaling        Application Auto Scaling target tracking of SageMaker variants  (scaling.py)
    deployments    SageMaker blue/green deployments that roll back on their alarms (deployments.py)
    stepfunctions  executions run by moto's own state-machine engine (a moto setting)
    transform      SageMaker Batch Transform jobs, run with the hosting's model loading
    replication    S3 replication of new objects to the rule's destination bucket (replication.py)
    metricfilters  CloudWatch Logs metric filters applied to ingested events  (metric_filters.py)
    cloudtrail     management calls recorded in CloudTrail's format, delivered by logging trails to
                   S3 and CloudWatch Logs  (cloudtrail.py)

All services are on by default; `LOCALAWS_RUNTIME_OFF=alarms,scaling` (or the emulator's
`--runtime-off`) switches some off, `--no-runtime` all of them. Every process a service starts
is registered with `Processes` and killed with its process group when the emulator stops.

A service is a class `Service(ctx)` with `start()` (install hooks, start threads), `stop()` and
optionally `routes(app)` (register `/localaws/...` HTTP routes on a Flask app). Services talk to
each other only through the AWS APIs of the emulator (`ctx.client(...)`), and publish AWS's own
events with `ctx.publish_event(...)`.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.config import Config

from localaws import sessions
from localaws.runtime.clock import Clock
from localaws.runtime.logs import Logs
from localaws.runtime.processes import Processes

log = logging.getLogger("localaws.runtime")

OFF_VAR = "LOCALAWS_RUNTIME_OFF"
ACCOUNT_ID = "123456789012"  # moto's default account, the one the emulator serves
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
# The key the runtime signs its own calls with: AWS's work inside its services, which CloudTrail
# does not record as the account's API calls (localaws.runtime.cloudtrail).
RUNTIME_ACCESS_KEY = "LOCALAWSRUNTIME00000"
# Keys of calls AWS makes on the account's behalf through a service-linked role, which CloudTrail
# records as that role's (key -> (invokedBy, role ARN with {account})).
ON_BEHALF: dict[str, tuple[str, str]] = {
    "LOCALAWSAUTOSCALING0": (
        "application-autoscaling.amazonaws.com",
        "arn:aws:iam::{account}:role/aws-service-role/sagemaker.application-autoscaling"
        ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
    ),
}

# name -> "module:Class"; the order is the start order (events first: others publish to it).
SERVICES: dict[str, str] = {
    "events": "localaws.runtime.events:EventsRuntime",
    "lambda": "localaws.runtime.lambdas:LambdaRuntime",
    "batch": "localaws.runtime.batch:BatchRuntime",
    "codebuild": "localaws.runtime.codebuild:CodeBuildRuntime",
    "alarms": "localaws.runtime.alarms:AlarmsRuntime",
    "scaling": "localaws.runtime.scaling:ScalingRuntime",
    "deployments": "localaws.runtime.deployments:DeploymentsRuntime",
    "transform": "localaws.runtime.transform:TransformRuntime",
    "stepfunctions": "localaws.runtime.stepfunctions:StepFunctionsRuntime",
    "replication": "localaws.runtime.replication:ReplicationRuntime",
    "metricfilters": "localaws.runtime.metric_filters:MetricFiltersRuntime",
    "cloudtrail": "localaws.runtime.cloudtrail:CloudTrailRuntime",
}


class SettingError(RuntimeError):
    """A runtime setting is wrong (names the setting)."""


def seconds_setting(name: str, default: float, env: Mapping[str, str] | None = None) -> float:
    """A positive number of seconds from the environment variable `name` (default if unset);
    anything else is a SettingError naming the variable."""
    raw = (os.environ if env is None else env).get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise SettingError(f"{name}={raw!r}: expected a positive number of seconds")
    return value


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def enabled_services(off: str | Iterable[str] | None = None, all_off: bool = False) -> list[str]:
    """The services to run: all of them, less those named in `off` (or LOCALAWS_RUNTIME_OFF)."""
    if all_off:
        return []
    if off is None:
        off = os.environ.get(OFF_VAR, "")
    names = [n.strip() for n in off.split(",")] if isinstance(off, str) else list(off)
    names = [n for n in names if n]
    unknown = sorted(set(names) - set(SERVICES) - {"all"})
    if unknown:
        raise SettingError(
            f"{OFF_VAR}: unknown service(s) {', '.join(unknown)}; "
            f"known: {', '.join(SERVICES)} (or all)"
        )
    if "all" in names:
        return []
    return [name for name in SERVICES if name not in names]


@dataclass
class Context:
    """What every service gets: where the emulator is, a clock, processes, logs, clients."""

    emulator_url: str
    hosting_url: str | None
    region: str
    clock: Clock
    processes: Processes
    work_dir: Path
    account_id: str = ACCOUNT_ID
    stopping: threading.Event = field(default_factory=threading.Event)
    publish: Callable[[dict[str, Any]], None] | None = None
    # Application Auto Scaling's side of an alarm action that names a scaling policy: set by
    # the scaling service while it runs, called by the alarms service with (policy ARN, alarm
    # name); returns an error or None.
    scaling_policy_executor: Callable[[str, str], str | None] | None = None
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.logs = Logs(self.client("logs"))

    def client(self, service: str, region: str | None = None, on_behalf: str | None = None) -> Any:
        """A boto3 client of the emulator itself (or of the hosting, for sagemaker-runtime), in
        `region` (this context's region by default). Its calls are the runtime's own, unless
        `on_behalf` names a key of ON_BEHALF: then they are that service-linked role's."""
        region = region or self.region
        key = on_behalf or RUNTIME_ACCESS_KEY
        if on_behalf is not None and on_behalf not in ON_BEHALF:
            raise ValueError(f"on_behalf={on_behalf!r}: not one of {', '.join(ON_BEHALF)}")
        with self._lock:
            if (service, region, key) not in self._clients:
                url = self.emulator_url
                if service == "sagemaker-runtime" and self.hosting_url:
                    url = self.hosting_url
                self._clients[service, region, key] = sessions.client(
                    service,
                    region=region,
                    endpoint_url=url,
                    access_key=key,
                    secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    config=Config(
                        retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32
                    ),
                )
            return self._clients[service, region, key]

    def aws_env(
        self, role_arn: str | None = None, session_name: str = "localaws"
    ) -> dict[str, str]:
        """The environment a process AWS runs gets to reach AWS: the emulator's endpoints and
        the role's STS credentials (AssumeRole on the emulator, so its calls are the role's in
        CloudTrail), or the test credentials without a role."""
        credentials = dict(CREDENTIALS)
        if role_arn:
            try:
                found = self.client("sts").assume_role(
                    RoleArn=role_arn, RoleSessionName=session_name[:64]
                )["Credentials"]
                credentials = {
                    "AWS_ACCESS_KEY_ID": found["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": found["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": found["SessionToken"],
                }
            except Exception as exc:  # a role STS refuses: the process still runs
                log.warning(
                    "runtime: cannot assume %s: %s; test credentials instead", role_arn, exc
                )
        env = {
            **credentials,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.emulator_url,
        }
        if self.hosting_url:
            env["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = self.hosting_url
        return env

    def publish_event(
        self,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str] | None = None,
    ) -> None:
        """Put one of AWS's own events (source `aws.*`) on the default bus, as the service that
        owns it would. A no-op when the events service is off."""
        if self.publish is None:
            return
        self.publish(
            {
                "source": source,
                "detail-type": detail_type,
                "detail": detail,
                "resources": resources or [],
                "account": self.account_id,
                "region": self.region,
            }
        )


class Runtime:
    """The enabled services of one emulator, started and stopped together."""

    def __init__(
        self,
        emulator_url: str,
        hosting_url: str | None,
        services: list[str],
        region: str = "us-east-1",
    ) -> None:
        self.work_dir = Path(tempfile.mkdtemp(prefix="localaws-runtime-"))
        self.ctx = Context(
            emulator_url=emulator_url,
            hosting_url=hosting_url,
            region=region,
            clock=Clock(),
            processes=Processes(),
            work_dir=self.work_dir,
        )
        self.names = list(services)
        self.services: dict[str, Any] = {}
        for name in self.names:
            module_name, _, class_name = SERVICES[name].partition(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            self.services[name] = cls(self.ctx)
        events = self.services.get("events")
        if events is not None:
            self.ctx.publish = events.publish

    def start(self) -> None:
        for name, service in self.services.items():
            service.start()
            log.info("runtime: %s started", name)

    def stop(self) -> None:
        """Stop every service (reverse order), then kill whatever process is still running."""
        self.ctx.stopping.set()
        for name, service in reversed(list(self.services.items())):
            try:
                service.stop()
            except Exception:
                log.exception("runtime: stopping %s failed", name)
        self.ctx.processes.kill_all()
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def wsgi(self, app: Callable) -> Callable:
        """`app` with the runtime's own routes (`/localaws/...`) in front of it."""
        from flask import Flask, jsonify, request

        api = Flask("localaws.runtime")

        @api.get("/localaws/runtime")
        def describe() -> Any:
            return jsonify({"services": self.names, "clock": self.ctx.clock.describe()})

        @api.post("/localaws/clock")
        def advance_clock() -> Any:
            body = request.get_json(silent=True) or {}
            try:
                seconds = float(body.get("advance_seconds", 0))
            except (TypeError, ValueError):
                return jsonify({"message": "advance_seconds must be a number of seconds"}), 400
            if seconds < 0:
                return jsonify({"message": "advance_seconds must not be negative"}), 400
            self.ctx.clock.advance(seconds)
            return jsonify(self.ctx.clock.describe())

        for service in self.services.values():
            routes = getattr(service, "routes", None)
            if routes is not None:
                routes(api)

        # A service that watches every AWS request (CloudTrail's recorder) wraps the emulator's
        # app with `middleware(app)`; the runtime's own routes are not AWS calls and pass by it.
        for service in self.services.values():
            middleware = getattr(service, "middleware", None)
            if middleware is not None:
                app = middleware(app)

        def dispatch(environ: dict, start_response: Callable) -> Any:
            if environ.get("PATH_INFO", "").startswith("/localaws/"):
                return api(environ, start_response)
            return app(environ, start_response)

        return dispatch

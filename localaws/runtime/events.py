"""EventBridge as AWS runs it: schedules fire, events are matched to rules and delivered to their
targets, and AWS/Events metrics count it.

moto keeps rules and targets and matches patterns, but delivers only to logs, SQS and event
buses, in the request that put the event, and never runs a schedule. Here:

- Events. moto's `Rule.send_to_targets` is where every event ends up, whoever put it: PutEvents
  (`EventsBackend.put_events`, hooked too so an event without a Time gets the runtime's clock)
  and moto's own S3 → EventBridge notifications. It is replaced: an ENABLED rule with an event
  pattern that moto's own matcher (moto.events.models.EventPattern) accepts queues the event for
  delivery. AWS's own events from the runtime's services (`Context.publish_event`: Batch Job
  State Change, ...) are matched the same way by `publish`. SageMaker Model Package State Change
  is published here, from hooks on moto's create_model_package / update_model_package.
- Schedules. A thread fires every ENABLED rule with a ScheduleExpression (schedules.py) on every
  bus, by the runtime's clock: a rate's first run one period after the rule was created or
  enabled (hooks on put_rule/enable_rule/disable_rule/delete_rule note those times), a cron's at
  its next time. A clock advanced past several runs fires once (for the first one missed), and
  the next run is the first one after now.
- Targets, through the emulator's own APIs: a Batch job queue (SubmitJob with BatchParameters,
  and the Parameters / ContainerOverrides of the input), Lambda (asynchronous Invoke), SNS
  (Publish), SQS (SendMessage, SqsParameters.MessageGroupId), Step Functions (StartExecution),
  a CodeBuild project (StartBuild, with the StartBuild parameters the input carries:
  environmentVariablesOverride, sourceVersion, ...), a CloudWatch Logs group, another event bus
  (PutEvents). Input, InputPath and InputTransformer shape what a target gets (target_input). A
  failed delivery is logged and counted, never raised.
- Metrics: AWS/Events TriggeredRules, Invocations and FailedInvocations per rule (RuleName, and
  EventBusName for a custom bus), to the emulator's CloudWatch.

Routes: `POST /localaws/events/rules/<name>/fire[?event-bus-name=BUS]` fires a rule's targets
now (a Scheduled Event, or the JSON body as the event) and answers what each target returned;
`GET /localaws/events/rules` lists the rules with their next scheduled time.
"""

from __future__ import annotations

import copy
import json
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from jsonpath_ng import parse as jsonpath  # moto's own dependency, for its InputTransformer too
from moto.events.models import EventsBackend, Rule, events_backends
from moto.events.utils import _BASE_EVENT_MESSAGE
from moto.sagemaker.models import SageMakerModelBackend

from localaws.runtime import Context
from localaws.runtime.schedules import Schedule, ScheduleError, parse

log = logging.getLogger("localaws.runtime.events")

SCAN_S = 1.0  # schedules are looked at this often (and at once when the clock is advanced)
NAMESPACE = "AWS/Events"
SCHEDULED_EVENT = "Scheduled Event"
MODEL_PACKAGE_EVENT = "SageMaker Model Package State Change"
# The detail fields AWS documents for SageMaker Model Package State Change (all moto knows).
MODEL_PACKAGE_FIELDS = (
    "ModelPackageGroupName",
    "ModelPackageName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "ModelPackageDescription",
    "CreationTime",
    "InferenceSpecification",
    "ModelPackageStatus",
    "ModelPackageStatusDetails",
    "CertifyForMarketplace",
    "ModelApprovalStatus",
    "MetadataProperties",
    "ModelMetrics",
    "LastModifiedTime",
)
PREDEFINED = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_\-.]+)>")


class RuleNotFound(LookupError):
    """No such rule on that bus (the route's 404)."""


class FireError(ValueError):
    """A rule that cannot be fired as asked (the route's 400)."""


@dataclass(frozen=True)
class RuleRef:
    """What a delivery needs of a rule, taken when it matched (as AWS reads targets then)."""

    name: str
    arn: str
    event_bus: str
    targets: tuple[dict[str, Any], ...]


@dataclass
class _Timer:
    """A scheduled rule's next run, by the runtime's clock."""

    expression: str
    schedule: Schedule | None
    error: str | None
    enabled: bool
    anchor: float  # when the rule was created or last enabled
    next_run: float | None = None
    failures: list[str] = field(default_factory=list)


def iso(seconds: float) -> str:
    """Epoch seconds as AWS writes an event's time: 2026-12-01T10:00:00Z."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _arn_parts(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN; ValueError if it is not one."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"target ARN {arn!r} is not an ARN")
    return parts[2], parts[3], parts[4], parts[5]


def _json_path(event: dict[str, Any], path: str) -> Any:
    """The value at `path` (AWS's JSONPath subset); a list when a wildcard matches several;
    KeyError when nothing matches."""
    try:
        matches = [m.value for m in jsonpath(path).find(event)]
    except Exception as exc:  # jsonpath_ng's parse errors have no common base
        raise ValueError(f"JSONPath {path!r} is not valid: {exc}") from None
    if not matches:
        raise KeyError(path)
    return matches if len(matches) > 1 or "*" in path else matches[0]


def transform(
    transformer: dict[str, Any], event: dict[str, Any], rule: RuleRef, ingested: float
) -> str:
    """An InputTransformer's output, as AWS documents it: each <name> of InputPathsMap (and the
    predefined aws.events.*) replaced in InputTemplate. In a JSON template (one that starts with
    { or [) a value in a string literal is inserted escaped and one outside as JSON, a missing
    one as null; in a string template values are inserted as text."""
    template = transformer.get("InputTemplate")
    if not isinstance(template, str):
        raise ValueError("InputTransformer needs an InputTemplate")
    values: dict[str, Any] = {
        "aws.events.rule-arn": rule.arn,
        "aws.events.rule-name": rule.name,
        "aws.events.event.ingestion-time": iso(ingested),
    }
    missing = set()
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        if name in PREDEFINED or name.startswith("aws.events."):
            raise ValueError(f"InputPathsMap key {name!r} is reserved")
        try:
            values[name] = _json_path(event, path)
        except KeyError:
            missing.add(name)
    as_json = {
        "aws.events.event": {
            ("detailType" if k == "detail-type" else k): v
            for k, v in event.items()
            if k != "detail"
        },
        "aws.events.event.json": event,
    }
    is_json = template.lstrip().startswith(("{", "["))
    out: list[str] = []
    in_string = escaped = False
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        literal = template[position : match.start()]
        out.append(literal)
        for char in literal:  # where the placeholder stands: in a JSON string literal or not
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = in_string
            elif char == '"':
                in_string = not in_string
        name = match.group(1)
        position = match.end()
        if name in as_json:
            out.append(json.dumps(as_json[name]))
            continue
        if name not in values and name not in missing:
            raise ValueError(f"InputTemplate contains invalid placeholder {name}")
        value = values.get(name)
        if is_json and not in_string:
            out.append(json.dumps(value))
        else:
            text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
            out.append(json.dumps(text)[1:-1] if is_json else text)
    out.append(template[position:])
    return "".join(out)


def target_input(
    target: dict[str, Any], event: dict[str, Any], rule: RuleRef, ingested: float
) -> str:
    """What a target gets: its Input (constant JSON text), the InputPath part of the event, the
    InputTransformer's output, or the whole event."""
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k)]
    if len(given) > 1:
        raise ValueError(f"only one of Input, InputPath, InputTransformer may be given: {given}")
    if target.get("Input"):
        return target["Input"]
    if target.get("InputPath"):
        try:
            return json.dumps(_json_path(event, target["InputPath"]))
        except KeyError:
            return "null"
    if target.get("InputTransformer"):
        return transform(target["InputTransformer"], event, rule, ingested)
    return json.dumps(event)


def _lower_keys(value: Any) -> Any:
    """EventBridge's ContainerOverrides (Command, Environment: Name/Value) as SubmitJob's."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def submit_job_request(target: dict[str, Any], payload: str) -> dict[str, Any]:
    """SubmitJob's arguments for a Batch job queue target: BatchParameters (JobDefinition,
    JobName, ArrayProperties.Size, RetryStrategy.Attempts), and the Parameters and
    ContainerOverrides the input carries, as EventBridge passes them."""
    batch = target.get("BatchParameters") or {}
    if not batch.get("JobDefinition") or not batch.get("JobName"):
        raise ValueError("a Batch target needs BatchParameters.JobDefinition and JobName")
    request: dict[str, Any] = {
        "jobName": batch["JobName"],
        "jobQueue": target["Arn"],
        "jobDefinition": batch["JobDefinition"],
    }
    size = (batch.get("ArrayProperties") or {}).get("Size")
    if size:
        request["arrayProperties"] = {"size": int(size)}
    attempts = (batch.get("RetryStrategy") or {}).get("Attempts")
    if attempts:
        request["retryStrategy"] = {"attempts": int(attempts)}
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if isinstance(document, dict):
        if isinstance(document.get("Parameters"), dict):
            request["parameters"] = {
                k: v if isinstance(v, str) else json.dumps(v)
                for k, v in document["Parameters"].items()
            }
        if isinstance(document.get("ContainerOverrides"), dict):
            request["containerOverrides"] = _lower_keys(document["ContainerOverrides"])
    return request


def start_build_request(arn: str, payload: str, parameters: Iterable[str]) -> dict[str, Any]:
    """StartBuild's arguments for a CodeBuild project target: the project its ARN names, and the
    members of the input (a JSON object) that are StartBuild `parameters` — EventBridge passes
    the input as StartBuild's request, so a whole event (none of whose keys are) starts the
    build as the project defines it."""
    _service, _region, _account, resource = _arn_parts(arn)
    request: dict[str, Any] = {"projectName": resource.removeprefix("project/")}
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if isinstance(document, dict):
        known = set(parameters) - {"projectName"}
        request.update({k: v for k, v in document.items() if k in known})
    return request


def _plain(value: Any) -> Any:
    """moto's objects as JSON values (datetimes as AWS writes them in events)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return iso(aware.timestamp())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class EventsRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._deliveries: queue.Queue[tuple[RuleRef, dict[str, Any], float] | None] = queue.Queue()
        self._timers: dict[str, _Timer] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._originals: list[tuple[type, str, Any]] = []

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._install_hooks()
        for name, target in (("schedules", self._run_schedules), ("deliver", self._run_deliveries)):
            thread = threading.Thread(target=target, name=f"events-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self.ctx.stopping.set()
        self._deliveries.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)
        self._originals.clear()

    # -- events in ------------------------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        """An AWS service's own event (Context.publish_event), matched against the rules of the
        default bus and delivered as EventBridge would."""
        try:
            now = self.ctx.clock.time()
            full = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": event["detail-type"],
                "source": event["source"],
                "account": event.get("account", self.ctx.account_id),
                "time": iso(now),
                "region": event.get("region", self.ctx.region),
                "resources": list(event.get("resources") or []),
                "detail": event.get("detail") or {},
            }
            backend = events_backends[full["account"]][full["region"]]
            for rule in list(backend.event_buses["default"].rules.values()):
                if self._matches(rule, full):
                    self._queue(rule, full, now)
        except Exception:
            log.exception(
                "events: cannot publish %s %s", event.get("source"), event.get("detail-type")
            )

    @staticmethod
    def _matches(rule: Rule, event: dict[str, Any]) -> bool:
        """An enabled rule with a pattern that moto's matcher accepts (a schedule-only rule has
        no pattern, and moto's matcher would take every event for it)."""
        return (
            rule.state.startswith("ENABLED")
            and bool(rule.event_pattern.get_pattern())
            and rule.event_pattern.matches_event(event)
        )

    def _queue(self, rule: Rule, event: dict[str, Any], ingested: float) -> None:
        ref = RuleRef(rule.name, rule.arn, rule.event_bus_name, tuple(copy.deepcopy(rule.targets)))
        self._deliveries.put((ref, event, ingested))

    def _moto_event(self, rule: Rule, event: dict[str, Any]) -> None:
        """moto's send_to_targets: an event PutEvents or one of moto's services put."""
        if "ingestion-time" not in event:
            # moto's S3 notification: stamped with moto's canned id and the wall clock; the
            # same dict goes to every rule, so fix it in place once.
            now = self.ctx.clock.time()
            event["ingestion-time"] = now
            event["time"] = now
            if event.get("id") == _BASE_EVENT_MESSAGE["id"]:
                event["id"] = str(uuid.uuid4())
            obj = (event.get("detail") or {}).get("object")
            if event.get("source") == "aws.s3" and isinstance(obj, dict) and "eTag" in obj:
                obj["etag"] = obj.pop("eTag")  # AWS's spelling of the field
        if not self._matches(rule, event):
            return
        time = event.get("time")
        aws_event = {
            "version": event.get("version", "0"),
            "id": event.get("id") or str(uuid.uuid4()),
            "detail-type": event.get("detail-type"),
            "source": event.get("source"),
            "account": event.get("account", self.ctx.account_id),
            "time": iso(float(time)) if isinstance(time, int | float) else time,
            "region": event.get("region", self.ctx.region),
            "resources": list(event.get("resources") or []),
            "detail": event.get("detail") or {},
        }
        if "replay-name" in event:
            aws_event["replay-name"] = event["replay-name"]
        self._queue(rule, aws_event, self.ctx.clock.time())

    # -- moto hooks -----------------------------------------------------------------------------

    def _patch(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        self._originals.append((owner, name, original))
        setattr(owner, name, make(original))

    def _safely(self, what: str, action: Callable[[], Any]) -> None:
        """Run a hook's own work; a failure there is logged, never moto's answer."""
        try:
            action()
        except Exception:
            log.exception("events: %s failed", what)

    def _install_hooks(self) -> None:
        runtime = self

        def send_to_targets(original):
            def hooked(rule: Rule, event: dict[str, Any], transform_input: bool = True) -> None:
                if rule.managed_by:  # an archive's rule: moto keeps the archive itself
                    return original(rule, event, transform_input)
                runtime._safely(f"rule {rule.name}", lambda: runtime._moto_event(rule, event))

            return hooked

        def put_events(original):
            def hooked(backend: EventsBackend, events: list[dict[str, Any]]) -> Any:
                for entry in events:
                    if isinstance(entry, dict) and entry.get("Time") is None:
                        entry["Time"] = runtime.ctx.clock.time()
                return original(backend, events)

            return hooked

        def rule_put(original):
            def hooked(backend: EventsBackend, *args: Any, **kwargs: Any) -> Rule:
                rule = original(backend, *args, **kwargs)
                now = runtime.ctx.clock.time()
                runtime._safely(f"noting rule {rule.name}", lambda: runtime._note(rule, now))
                return rule

            return hooked

        def rule_state_set(original):  # enable_rule / disable_rule: True if the rule exists
            def hooked(backend: EventsBackend, name: str, event_bus_arn: str | None) -> bool:
                done = original(backend, name, event_bus_arn)
                if done:
                    now = runtime.ctx.clock.time()
                    runtime._safely(
                        f"noting rule {name}",
                        lambda: runtime._note(backend.describe_rule(name, event_bus_arn), now),
                    )
                return done

            return hooked

        def rule_deleted(original):
            def hooked(backend: EventsBackend, name: str, event_bus_arn: str | None) -> None:
                bus = backend.event_buses.get(backend._normalize_event_bus_arn(event_bus_arn))
                rule = bus.rules.get(name) if bus is not None else None
                original(backend, name, event_bus_arn)
                if rule is not None and bus.rules.get(name) is not rule:
                    with runtime._lock:
                        runtime._timers.pop(rule.arn, None)

            return hooked

        def model_package_created(original):
            def hooked(backend: SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
                arn = original(backend, *args, **kwargs)
                runtime._safely(
                    f"event for {arn}", lambda: runtime._model_package_event(backend, arn)
                )
                return arn

            return hooked

        def model_package_updated(original):
            def hooked(backend: SageMakerModelBackend, *args: Any, **kwargs: Any) -> str:
                given = kwargs.get("model_package_arn", args[0] if args else None)
                package = backend.model_packages.get(
                    backend.model_package_name_mapping.get(given, given)
                )
                before = package.model_approval_status if package else None
                arn = original(backend, *args, **kwargs)
                if backend.model_packages[arn].model_approval_status != before:
                    runtime._safely(
                        f"event for {arn}", lambda: runtime._model_package_event(backend, arn)
                    )
                return arn

            return hooked

        self._patch(Rule, "send_to_targets", send_to_targets)
        self._patch(EventsBackend, "put_events", put_events)
        self._patch(EventsBackend, "put_rule", rule_put)
        self._patch(EventsBackend, "enable_rule", rule_state_set)
        self._patch(EventsBackend, "disable_rule", rule_state_set)
        self._patch(EventsBackend, "delete_rule", rule_deleted)
        self._patch(SageMakerModelBackend, "create_model_package", model_package_created)
        self._patch(SageMakerModelBackend, "update_model_package", model_package_updated)

    def _model_package_event(self, backend: SageMakerModelBackend, arn: str) -> None:
        described = backend.model_packages[arn].gen_response_object()
        described.setdefault("LastModifiedTime", described.get("CreationTime"))
        detail = {k: _plain(described[k]) for k in MODEL_PACKAGE_FIELDS if k in described}
        self.publish(
            {
                "source": "aws.sagemaker",
                "detail-type": MODEL_PACKAGE_EVENT,
                "detail": detail,
                "resources": [arn],
                "account": backend.account_id,
                "region": backend.region_name,
            }
        )

    # -- schedules ------------------------------------------------------------------------------

    def _note(self, rule: Rule, now: float) -> _Timer | None:
        """Keep a scheduled rule's timer: new, or its expression changed, or enabled again — a
        rate then counts from now."""
        expression = rule.scheduled_expression
        if not expression:
            with self._lock:
                self._timers.pop(rule.arn, None)
            return None
        enabled = rule.state.startswith("ENABLED")
        with self._lock:
            timer = self._timers.get(rule.arn)
            if timer is None or timer.expression != expression:
                try:
                    schedule, error = parse(expression), None
                except ScheduleError as exc:
                    schedule, error = None, str(exc)
                    log.warning("events: rule %s is not scheduled: %s", rule.name, exc)
                timer = _Timer(expression, schedule, error, enabled, anchor=now)
                if schedule is not None:
                    timer.next_run = schedule.next_after(now, now)
                self._timers[rule.arn] = timer
            elif enabled and not timer.enabled and timer.schedule is not None:
                timer.anchor = now
                timer.next_run = timer.schedule.next_after(now, now)
            timer.enabled = enabled
            return timer

    def _scheduled_rules(self) -> Iterator[Rule]:
        for regions in list(events_backends.values()):
            for backend in list(regions.values()):
                for bus in list(backend.event_buses.values()):
                    for rule in list(bus.rules.values()):
                        if rule.scheduled_expression:
                            yield rule

    def _run_schedules(self) -> None:
        while not self.ctx.clock.sleep(SCAN_S, self.ctx.stopping):
            try:
                self._tick(self.ctx.clock.time())
            except Exception:
                log.exception("events: looking at the schedules failed")

    def _tick(self, now: float) -> None:
        seen = set()
        for rule in self._scheduled_rules():
            seen.add(rule.arn)
            timer = self._note(rule, now)
            if timer is None or not timer.enabled or timer.schedule is None:
                continue
            with self._lock:
                due = timer.next_run
                if due is None or due > now:
                    continue
                timer.next_run = timer.schedule.next_after(now, timer.anchor)
            event = self.scheduled_event(rule.arn, due, rule.account_id, rule.region_name)
            self._queue(rule, event, now)
        with self._lock:
            for arn in set(self._timers) - seen:
                del self._timers[arn]

    def scheduled_event(
        self, rule_arn: str, when: float, account: str | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """The event a schedule sends its targets, as AWS does (its time: the scheduled time)."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": SCHEDULED_EVENT,
            "source": "aws.events",
            "account": account or self.ctx.account_id,
            "time": iso(when),
            "region": region or self.ctx.region,
            "resources": [rule_arn],
            "detail": {},
        }

    # -- delivery -------------------------------------------------------------------------------

    def _run_deliveries(self) -> None:
        while True:
            item = self._deliveries.get()
            if item is None or self.ctx.stopping.is_set():
                return
            rule, event, ingested = item
            try:
                self.fire(rule, event, ingested)
            except Exception:
                log.exception("events: delivering for rule %s failed", rule.name)

    def fire(self, rule: RuleRef, event: dict[str, Any], ingested: float) -> list[dict[str, Any]]:
        """Deliver `event` to each of the rule's targets; what each returned, or its error."""
        results, failed = [], 0
        for target in rule.targets:
            try:
                result = self._deliver(target, event, rule, ingested)
            except Exception as exc:  # any failure is the target's: logged and counted
                failed += 1
                result = {"error": str(exc)}
                log.warning(
                    "events: rule %s target %s (%s) failed: %s",
                    rule.name,
                    target.get("Id"),
                    target.get("Arn"),
                    exc,
                )
            results.append({"id": target.get("Id"), "arn": target.get("Arn"), "result": result})
        self._metrics(rule, len(rule.targets), failed)
        return results

    def _deliver(
        self, target: dict[str, Any], event: dict[str, Any], rule: RuleRef, ingested: float
    ) -> dict[str, Any]:
        arn = target.get("Arn") or ""
        service, region, account, resource = _arn_parts(arn)
        client = self.ctx.client
        if service == "events" and resource.startswith("event-bus/"):
            answer = client("events").put_events(
                Entries=[
                    {
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]),
                        "Resources": event["resources"],
                        "EventBusName": arn,
                    }
                ]
            )
            entry = answer["Entries"][0]
            if "ErrorCode" in entry:
                raise ValueError(f"PutEvents: {entry['ErrorCode']}: {entry.get('ErrorMessage')}")
            return {"EventId": entry["EventId"]}
        payload = target_input(target, event, rule, ingested)
        if service == "batch" and resource.startswith("job-queue/"):
            job = client("batch").submit_job(**submit_job_request(target, payload))
            return {"jobId": job["jobId"], "jobName": job["jobName"], "jobArn": job.get("jobArn")}
        if service == "lambda":
            answer = client("lambda").invoke(
                FunctionName=arn, InvocationType="Event", Payload=payload.encode()
            )
            return {"StatusCode": answer["StatusCode"]}
        if service == "sns":
            return {"MessageId": client("sns").publish(TopicArn=arn, Message=payload)["MessageId"]}
        if service == "sqs":
            sqs = client("sqs")
            url = sqs.get_queue_url(QueueName=resource, QueueOwnerAWSAccountId=account)["QueueUrl"]
            message: dict[str, Any] = {"QueueUrl": url, "MessageBody": payload}
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group:
                message["MessageGroupId"] = group
            return {"MessageId": sqs.send_message(**message)["MessageId"]}
        if service == "codebuild" and resource.startswith("project/"):
            codebuild = client("codebuild", region)
            members = codebuild.meta.service_model.operation_model("StartBuild").input_shape.members
            build = codebuild.start_build(**start_build_request(arn, payload, members))["build"]
            return {"id": build["id"], "arn": build["arn"]}
        if service == "states":
            execution = client("stepfunctions").start_execution(stateMachineArn=arn, input=payload)
            return {"executionArn": execution["executionArn"]}
        if service == "logs" and resource.startswith("log-group:"):
            group = resource.removeprefix("log-group:").removesuffix(":*")
            logs = client("logs")
            stream = event["id"]
            try:
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    raise
            answer = logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": int(self.ctx.clock.time() * 1000), "message": payload}],
            )
            if answer.get("rejectedLogEventsInfo"):  # e.g. a clock advanced 2 h past the wall's
                raise ValueError(
                    f"CloudWatch Logs rejected the event: {answer['rejectedLogEventsInfo']}"
                )
            return {"logGroup": group, "logStream": stream}
        raise ValueError(
            f"target {arn}: the embedded EventBridge delivers to Batch job queues, Lambda, SNS, "
            "SQS, Step Functions, CodeBuild projects, CloudWatch Logs groups and event buses"
        )

    def _metrics(self, rule: RuleRef, invocations: int, failed: int) -> None:
        dimensions = [{"Name": "RuleName", "Value": rule.name}]
        if rule.event_bus != "default":
            dimensions.insert(0, {"Name": "EventBusName", "Value": rule.event_bus})
        counts = {"TriggeredRules": 1, "Invocations": invocations, "FailedInvocations": failed}
        now = self.ctx.clock.now()
        data = [
            {
                "MetricName": name,
                "Dimensions": dimensions,
                "Value": float(value),
                "Unit": "Count",
                "Timestamp": now,
            }
            for name, value in counts.items()
            if value  # as AWS: Invocations and FailedInvocations only when not zero
        ]
        try:
            self.ctx.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=data)
        except ClientError as exc:
            log.warning("events: cannot put %s metrics for %s: %s", NAMESPACE, rule.name, exc)

    # -- routes ---------------------------------------------------------------------------------

    def fire_rule(
        self, name: str, event_bus: str = "default", event: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Fire a rule's targets now: with a Scheduled Event for a scheduled rule, or with
        `event` (filled in as EventBridge does) for any rule."""
        events = self.ctx.client("events")
        try:
            rule = events.describe_rule(Name=name, EventBusName=event_bus)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise RuleNotFound(f"Rule {name} does not exist on EventBus {event_bus}.") from None
            raise
        targets = [
            target
            for page in events.get_paginator("list_targets_by_rule").paginate(
                Rule=name, EventBusName=event_bus
            )
            for target in page["Targets"]
        ]
        now = self.ctx.clock.time()
        if event is None:
            if not rule.get("ScheduleExpression"):
                raise FireError(
                    f"rule {name} has an event pattern and no schedule: POST the event to fire "
                    "it with as the JSON body"
                )
            event = self.scheduled_event(rule["Arn"], now)
        else:
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": event.get("detail-type", ""),
                "source": event.get("source", ""),
                "account": self.ctx.account_id,
                "time": iso(now),
                "region": self.ctx.region,
                "resources": [],
                "detail": {},
                **event,
            }
        ref = RuleRef(name, rule["Arn"], event_bus, tuple(targets))
        return {"rule": rule["Arn"], "event": event, "targets": self.fire(ref, event, now)}

    def describe_rules(self) -> list[dict[str, Any]]:
        """Every rule on every bus, with its next scheduled time (None: not scheduled)."""
        events = self.ctx.client("events")
        rules = []
        for bus in events.list_event_buses()["EventBuses"]:
            pages = events.get_paginator("list_rules").paginate(EventBusName=bus["Name"])
            for rule in (r for page in pages for r in page["Rules"]):
                with self._lock:
                    timer = self._timers.get(rule["Arn"])
                    next_run = timer.next_run if timer and timer.enabled else None
                    error = timer.error if timer else None
                rules.append(
                    {
                        "name": rule["Name"],
                        "arn": rule["Arn"],
                        "event_bus": bus["Name"],
                        "state": rule["State"],
                        "schedule": rule.get("ScheduleExpression"),
                        "pattern": json.loads(rule["EventPattern"])
                        if rule.get("EventPattern")
                        else None,
                        "next": iso(next_run) if next_run is not None else None,
                        "schedule_error": error,
                    }
                )
        return rules

    def routes(self, app: Any) -> None:
        from flask import jsonify, request

        @app.get("/localaws/events/rules")
        def list_event_rules() -> Any:
            return jsonify({"rules": self.describe_rules()})

        @app.post("/localaws/events/rules/<name>/fire")
        def fire_event_rule(name: str) -> Any:
            bus = request.args.get("event-bus-name", "default")
            body = request.get_data(as_text=True)
            event = None
            if body.strip():
                try:
                    event = json.loads(body)
                except ValueError:
                    event = None
                if not isinstance(event, dict):
                    return jsonify({"message": "the body must be a JSON object (the event)"}), 400
            try:
                return jsonify(self.fire_rule(name, bus, event))
            except RuleNotFound as exc:
                return jsonify({"message": str(exc)}), 404
            except FireError as exc:
                return jsonify({"message": str(exc)}), 400

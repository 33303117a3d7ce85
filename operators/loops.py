"""The closed loops: retrain (on a schedule, on new data, on drift) and deploy on approval.

The state machines of terraform/modules/retraining orchestrate; the work is here, run by their
Batch jobs in the operators image (the same code offline and on AWS):

- `retrain` (`byo loops retrain`): the training pipeline on the trigger's data, registering a
  version pending approval (or approving it itself when `auto_approve_margin` is given and its
  AUC beats the serving version's by that much). It records the outcome in the job table item
  the machine named (`loops/retraining/<execution>`): Outcome (registered, approved, unchanged,
  condition-failed), Version, Auc, ServingVersion, ServingAuc, and the notification's Subject and
  Message, which the machine publishes. A failed AUC condition is an outcome (exit 0): nothing
  is registered and the notification says why; anything else that fails raises (the job fails
  and the machine notifies the error).
- `deploy_approved` (`byo loops deploy`): an approved version rolled out blue/green in place of
  the model of the variant that serves the most traffic, with a canary and the variant's alarms
  as the rollback gate, under the endpoint's rollout lock; Outcome deployed, rolled-back,
  refused (another rollout holds the endpoint) or failed. Not deployed → raises after recording.
- `status`, `trigger`, `set_trigger` (`byo loops`, `byo loops trigger`, `byo loops
  pause|resume`): the loops' executions with their records, by hand, and their rules.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from operators import deploy, registry, status
from operators import rollout as rollouts
from operators.aws import Clients
from operators.errors import ByoError, CheckFailed, ConfigError

LOOPS = ("retraining", "deploy")
REASONS = ("schedule", "new-data", "alarm", "manual")


# ---------------------------------------------------------------------------------------------
# Records in the job table
# ---------------------------------------------------------------------------------------------
def _attribute(value: Any) -> dict[str, str]:
    return {"S": str(value)}


def record_outcome(clients: Clients, table: str, key: str, **fields: Any) -> None:
    """Set fields of the record `key` (FileName) of the job table; None fields are left out."""
    fields = {k: v for k, v in fields.items() if v is not None}
    if not key.startswith("loops/"):
        raise ConfigError(f"--record {key!r}: a loop record's key starts with loops/")
    names = {f"#{k}": k for k in fields}
    values = {f":{k}": _attribute(v) for k, v in fields.items()}
    clients.client("dynamodb").update_item(
        TableName=table,
        Key={"FileName": {"S": key}},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def read_record(clients: Clients, table: str, key: str) -> dict[str, str]:
    item = (
        clients.client("dynamodb")
        .get_item(TableName=table, Key={"FileName": {"S": key}}, ConsistentRead=True)
        .get("Item")
    )
    return {k: v.get("S", v.get("N", "")) for k, v in (item or {}).items()}


# ---------------------------------------------------------------------------------------------
# What serves now
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Serving:
    variant: str
    version: str  # a registry version, or "initial" (the stack's model)
    auc: float | None


def serving(clients: Clients, endpoint: str, group: str) -> Serving:
    """The variant with the largest traffic share, its version and that version's AUC."""
    variants = status.endpoint_status(clients, endpoint)["variants"]
    if not variants:
        raise ByoError(f"endpoint {endpoint} has no production variant")
    top = max(variants, key=lambda v: v["traffic_share"])
    version, auc = str(top["model_version"]), None
    if version.isdigit():
        auc = registry.find(clients, group, int(version)).get("auc")
    return Serving(top["variant"], version, auc)


def _auc_text(auc: float | None) -> str:
    return "no registered AUC" if auc is None else f"AUC {auc:.4f}"


# ---------------------------------------------------------------------------------------------
# The retraining job
# ---------------------------------------------------------------------------------------------
def retrain(
    clients: Clients,
    *,
    runs: Any,
    table: str,
    record: str,
    reason: str,
    data: str,
    endpoint: str,
    group: str,
    name: str,
    auc_threshold: float,
    auto_approve_margin: float | None = None,
) -> dict[str, Any]:
    """Run the pipeline (`runs`: an operators.pipeline.runner.Runner) on `data`, register a
    version pending approval, compare it with the serving version, record and return the
    outcome. `name` is the platform's, for the notification's subject."""
    if reason not in REASONS:
        raise ConfigError(f"--reason {reason!r}: one of {', '.join(REASONS)}")
    current = serving(clients, endpoint, group)
    overrides = {
        "InputData": data,
        "AucThreshold": auc_threshold,
        "ModelApprovalStatus": "PendingManualApproval",
    }
    record_outcome(clients, table, record, Outcome="running", Data=data)
    try:
        run = runs.run(overrides)
    except CheckFailed as exc:
        if not _step(runs.record or {}, "condition").get("reason"):
            _record_failure(clients, table, record, name, reason, data, exc)
            raise
        run = runs.record or {}
        condition = _step(run, "condition")
        auc = (condition.get("inputs") or {}).get("auc")
        message = (
            f"Retraining ({reason}) on {data}: {condition.get('reason') or run.get('reason')}. "
            f"The serving version {current.version} ({_auc_text(current.auc)}) keeps serving. "
            f"Run record: {run.get('run_id')}."
        )
        outcome = {
            "Outcome": "condition-failed",
            "Auc": None if auc is None else f"{auc:.6f}",
            "ServingVersion": current.version,
            "ServingAuc": None if current.auc is None else f"{current.auc:.6f}",
            "RunId": run.get("run_id"),
            "Subject": f"{name}: retraining registered nothing (AUC condition)",
            "Message": message,
        }
        record_outcome(clients, table, record, **outcome)
        return outcome
    except ByoError as exc:
        _record_failure(clients, table, record, name, reason, data, exc)
        raise
    registered = _step(run, "register")
    version = int(registered["outputs"]["version"])
    auc = float(_step(run, "condition")["inputs"]["auc"])
    described = registry.find(clients, group, version)
    unchanged = registered.get("status") == "Cached" or "already registered" in str(
        registered.get("reason") or ""
    )
    approved = False
    if (
        auto_approve_margin is not None
        and not unchanged
        and current.auc is not None
        and auc >= current.auc + auto_approve_margin
    ):
        registry.set_status(
            clients,
            group,
            version,
            "Approved",
            f"auto-approved by the retraining loop: AUC {auc:.4f} beats the serving version "
            f"{current.version}'s {current.auc:.4f} by >= {auto_approve_margin:g}",
        )
        approved = True
    if unchanged:
        kind, subject = "unchanged", f"{name}: retraining found version {version} unchanged"
        status_text = f"the same model as version {version} ({described['status']})"
    elif approved:
        kind, subject = "approved", f"{name}: version {version} registered and auto-approved"
        status_text = f"version {version}, approved by the loop (it deploys on approval)"
    else:
        kind, subject = "registered", f"{name}: version {version} pending approval"
        status_text = (
            f"version {version}, PendingManualApproval (approve it: byo model approve {version})"
        )
    delta = "" if current.auc is None else f", {auc - current.auc:+.4f} against it"
    metrics = _step(run, "evaluate").get("outputs", {}).get("binary_classification_metrics", {})
    others = ", ".join(
        f"{name} {float(metrics[name]):.4f}"
        for name in ("precision", "recall", "f1")
        if isinstance(metrics.get(name), int | float)
    )
    message = (
        f"Retraining ({reason}) on {data} registered {status_text}: test AUC {auc:.4f} "
        f"(condition >= {auc_threshold:g}{'; ' + others if others else ''}); the serving "
        f"version {current.version} on "
        f"{current.variant} has {_auc_text(current.auc)}{delta}. Run record: {run.get('run_id')}."
    )
    outcome = {
        "Outcome": kind,
        "Version": str(version),
        "Auc": f"{auc:.6f}",
        "ServingVersion": current.version,
        "ServingAuc": None if current.auc is None else f"{current.auc:.6f}",
        "RunId": run.get("run_id"),
        "Subject": subject,
        "Message": message,
    }
    record_outcome(clients, table, record, **outcome)
    return outcome


def _record_failure(
    clients: Clients, table: str, record: str, name: str, reason: str, data: str, exc: Exception
) -> None:
    """The job failed: say why in the record (the machine notifies it), then fail the job."""
    record_outcome(
        clients,
        table,
        record,
        Outcome="failed",
        Subject=f"{name}: retraining failed",
        Message=f"Retraining ({reason}) on {data} failed, nothing registered: {exc}",
    )


def _step(run: Mapping[str, Any], name: str) -> dict[str, Any]:
    for step in run.get("steps") or []:
        if isinstance(step, Mapping) and step.get("name") == name:
            return dict(step)
    return {}


# ---------------------------------------------------------------------------------------------
# The deploy job
# ---------------------------------------------------------------------------------------------
def deploy_approved(
    clients: Clients,
    *,
    table: str,
    record: str,
    version: int,
    endpoint: str,
    group: str,
    role_arn: str,
    name: str,
    deployment_config: dict[str, Any],
    rollout: Callable[..., dict[str, Any]] = deploy.deploy,
) -> dict[str, Any]:
    """Roll approved `version` out blue/green in place of the model of the variant serving the
    most traffic; record the outcome; raise a ByoError unless it was deployed."""
    current = serving(clients, endpoint, group)
    record_outcome(clients, table, record, Outcome="running", Variant=current.variant)
    # The endpoint's rollout lock, held by this machine's execution for the whole rollout.
    lock = rollouts.lock(
        clients,
        table,
        endpoint,
        f"byo loops deploy {version} (blue/green)",
        holder=f"the deploy loop's execution {record.rsplit('/', 1)[-1]}",
    )
    try:
        result = rollout(
            clients,
            endpoint=endpoint,
            group=group,
            version=version,
            variant=current.variant,
            role_arn=role_arn,
            deployment_config=deployment_config,
            lock=lock,
        )
    except ByoError as exc:
        text = str(exc)
        if isinstance(exc, rollouts.RolloutLocked):
            kind, what = "refused", "was refused: another rollout holds the endpoint"
        elif "rolled back" in text:
            kind, what = "rolled-back", "was rolled back"
        else:
            kind, what = "failed", "failed"
        outcome = {
            "Outcome": kind,
            "Version": str(version),
            "ServingVersion": current.version,
            "Subject": f"{name}: deploy of version {version} {kind}",
            "Message": f"Deploy of version {version} to {endpoint} ({current.variant}) {what}: "
            f"{text}. Version {current.version} keeps serving.",
        }
        record_outcome(clients, table, record, **outcome)
        raise ByoError(outcome["Message"]) from None
    outcome = {
        "Outcome": "deployed",
        "Version": str(version),
        "ServingVersion": current.version,
        "EndpointConfig": result.get("endpoint_config"),
        "Subject": f"{name}: version {version} deployed",
        "Message": f"Version {version} serves on {endpoint} as {current.variant} "
        f"(blue/green with a canary; was version {current.version}, config "
        f"{result.get('previous_config')} → {result.get('endpoint_config')}).",
    }
    record_outcome(clients, table, record, **outcome)
    return outcome


# ---------------------------------------------------------------------------------------------
# byo loops: state, by hand, pause/resume
# ---------------------------------------------------------------------------------------------
def require_loops(outputs: Mapping[str, Any] | None) -> dict[str, Any]:
    if not outputs:
        raise ConfigError(
            "the stack has no loops: apply it with the loops variable set "
            "(terraform/stacks/platform: loops = {})"
        )
    return dict(outputs)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return str(value)


def executions(clients: Clients, loops: Mapping[str, Any], limit: int = 10) -> list[dict[str, Any]]:
    """The last `limit` executions of each loop, newest first, with their records."""
    sfn = clients.client("stepfunctions")
    table = loops["job_table"]
    rows = []
    for loop, arn in loops["state_machine_arns"].items():
        listed = sfn.list_executions(stateMachineArn=arn, maxResults=limit)["executions"]
        for execution in listed:
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            try:
                given = json.loads(described.get("input") or "{}")
            except ValueError:
                given = {}
            item = read_record(clients, table, f"loops/{loop}/{execution['name']}")
            reason = item.get("Reason") or given.get("reason")
            if loop == "deploy" and not reason:
                reason = "approval"
            rows.append(
                {
                    "loop": loop,
                    "execution": execution["name"],
                    "status": execution["status"],
                    "started": _iso(execution.get("startDate")),
                    "stopped": _iso(execution.get("stopDate")),
                    "reason": reason,
                    "alarm": item.get("Alarm") or given.get("alarm") or None,
                    "data": item.get("Data") or given.get("data"),
                    "outcome": item.get("Outcome"),
                    "version": item.get("Version"),
                    "auc": item.get("Auc"),
                    "serving_version": item.get("ServingVersion"),
                    "message": item.get("Message"),
                }
            )
    rows.sort(key=lambda r: r["started"] or "", reverse=True)
    return rows


def locks(clients: Clients, loops: Mapping[str, Any]) -> dict[str, dict[str, str] | None]:
    """Who holds each loop now (and since when), or None."""
    held = {}
    for loop in LOOPS:
        item = read_record(clients, loops["job_table"], f"loops/{loop}/lock")
        held[loop] = (
            {"holder": item["Holder"], "since": item.get("HeldSince", "")}
            if item.get("Holder")
            else None
        )
    return held


def triggers(clients: Clients, loops: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each trigger rule and whether it is on."""
    events = clients.client("events")
    rows = []
    for trigger, rule in sorted((loops.get("rule_names") or {}).items()):
        try:
            described = events.describe_rule(Name=rule)
        except ClientError as exc:
            raise ByoError(f"rule {rule}: {exc.response['Error'].get('Message')}") from None
        rows.append(
            {
                "trigger": trigger,
                "rule": rule,
                "state": described.get("State"),
                "schedule": described.get("ScheduleExpression"),
            }
        )
    return rows


def trigger(
    clients: Clients,
    loops: Mapping[str, Any],
    loop: str,
    *,
    data: str | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    """Start a loop by hand: retraining (reason manual, on `data` or the default data) or
    deploy (of approved `version`)."""
    if loop not in LOOPS:
        raise ConfigError(f"loop {loop!r}: one of {', '.join(LOOPS)}")
    if loop == "deploy":
        if version is None:
            raise ConfigError("byo loops trigger deploy needs --version N (an approved version)")
        given: dict[str, Any] = {"detail": {"ModelPackageVersion": version}}
    else:
        if version is not None:
            raise ConfigError("--version is the deploy loop's; retraining takes --data")
        given = {"reason": "manual", "alarm": "", "cooldown_seconds": 0}
        given["data"] = data or loops.get("training_data_uri")
    started = datetime.now(UTC)
    name = f"manual-{started:%Y%m%dT%H%M%S}-{os.getpid()}"
    answer = clients.client("stepfunctions").start_execution(
        stateMachineArn=loops["state_machine_arns"][loop], name=name, input=json.dumps(given)
    )
    return {"loop": loop, "execution": name, "arn": answer["executionArn"], "input": given}


def set_trigger(clients: Clients, loops: Mapping[str, Any], name: str, on: bool) -> dict[str, Any]:
    """Pause (disable) or resume (enable) a trigger's rule."""
    rules = loops.get("rule_names") or {}
    if name not in rules:
        known = ", ".join(sorted(rules)) or "none are on"
        raise ConfigError(f"trigger {name!r}: the stack's triggers are {known}")
    events = clients.client("events")
    (events.enable_rule if on else events.disable_rule)(Name=rules[name])
    return {"trigger": name, "rule": rules[name], "state": "ENABLED" if on else "DISABLED"}

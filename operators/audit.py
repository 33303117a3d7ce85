"""Who changed what serves: the audit trail's CloudTrail records, read back.

The stack's audit module (terraform/modules/audit) delivers every management call of the
account to a CloudWatch Logs group, one CloudTrail record (JSON) per event. `changes` reads the
records of a time window from it (FilterLogEvents, with a filter pattern that keeps the writes
of SageMaker and Application Auto Scaling, so AWS sends only those) and returns the calls that
change the endpoint, its traffic or the registry — who made them (the caller's identity as
CloudTrail gives it: a role's session, an IAM user, the root user, a service on the account's
behalf), when, from where, on what, with what outcome, and whether the caller is one of the
trusted roles the stack's alarms leave alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from operators.aws import Clients
from operators.errors import ByoError

# eventName -> the kind of change it is; everything else a writer does is "other"
KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "CreateEndpoint",
            "UpdateEndpoint",
            "DeleteEndpoint",
            "CreateEndpointConfig",
            "DeleteEndpointConfig",
            "CreateModel",
            "DeleteModel",
        ),
        "endpoint",
    ),
    **dict.fromkeys(
        (
            "UpdateEndpointWeightsAndCapacities",
            "RegisterScalableTarget",
            "DeregisterScalableTarget",
            "PutScalingPolicy",
            "DeleteScalingPolicy",
        ),
        "traffic",
    ),
    **dict.fromkeys(
        (
            "CreateModelPackage",
            "UpdateModelPackage",
            "DeleteModelPackage",
            "CreateModelPackageGroup",
            "DeleteModelPackageGroup",
        ),
        "registry",
    ),
}
CHANGE_KINDS = ("endpoint", "traffic", "registry")
SOURCES = ("sagemaker.amazonaws.com", "application-autoscaling.amazonaws.com")
# What AWS filters on before it sends anything (the same test is applied here again).
FILTER_PATTERN = (
    '{ ($.readOnly IS FALSE) && (($.eventSource = "sagemaker.amazonaws.com") || '
    '($.eventSource = "application-autoscaling.amazonaws.com")) }'
)
# The request parameter that names what a call changed, first found wins.
TARGET_KEYS = (
    "endpointName",
    "modelPackageName",
    "modelPackageArn",
    "modelPackageGroupName",
    "modelName",
    "endpointConfigName",
    "resourceId",
    "policyName",
)


class AuditError(ByoError):
    """The audit trail cannot be read (names the log group and why)."""


def caller(identity: dict[str, Any]) -> str:
    """A caller as a person reads it: role/NAME (session S), user/NAME, root, or a service on
    the account's behalf (`via application-autoscaling.amazonaws.com`)."""
    kind = identity.get("type")
    if kind == "AssumedRole":
        issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
        name = issuer.get("userName") or issuer.get("arn", "?").rpartition("/")[2]
        session = (identity.get("arn") or "").rpartition("/")[2]
        text = f"role/{name}" + (f" (session {session})" if session and session != name else "")
        if identity.get("invokedBy"):
            text += f" via {identity['invokedBy']}"
        return text
    if kind == "IAMUser":
        return f"user/{identity.get('userName') or identity.get('arn', '?').rpartition('/')[2]}"
    if kind == "Root":
        return "root"
    if kind == "AWSService":
        return str(identity.get("invokedBy") or "an AWS service")
    return str(identity.get("arn") or kind or "unknown")


def issuer_arn(identity: dict[str, Any]) -> str | None:
    return ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")


def target(record: dict[str, Any]) -> str:
    parameters = record.get("requestParameters") or {}
    for key in TARGET_KEYS:
        if parameters.get(key):
            return str(parameters[key])
    return "-"


def detail(record: dict[str, Any]) -> str:
    """What changed, when the request says it briefly: weights/capacities, approval status,
    the endpoint config an endpoint moves to."""
    parameters = record.get("requestParameters") or {}
    if parameters.get("modelApprovalStatus"):
        return f"approval → {parameters['modelApprovalStatus']}"
    if parameters.get("endpointConfigName") and record.get("eventName") == "UpdateEndpoint":
        return f"config → {parameters['endpointConfigName']}"
    wanted = parameters.get("desiredWeightsAndCapacities")
    if isinstance(wanted, list):
        parts = []
        for w in wanted:
            values = [
                f"{label}={w[key]}"
                for key, label in (
                    ("desiredWeight", "weight"),
                    ("desiredInstanceCount", "instances"),
                )
                if key in w
            ]
            parts.append(f"{w.get('variantName', '?')}: {', '.join(values)}")
        return "; ".join(parts)
    return ""


def change(record: dict[str, Any], trusted: Iterable[str] = ()) -> dict[str, Any]:
    """One record as `byo audit` lists it."""
    identity = record.get("userIdentity") or {}
    issuer = issuer_arn(identity)
    return {
        "time": record.get("eventTime"),
        "kind": KINDS.get(record.get("eventName", ""), "other"),
        "event": record.get("eventName"),
        "source": record.get("eventSource"),
        "caller": caller(identity),
        "caller_arn": identity.get("arn"),
        "access_key": identity.get("accessKeyId"),
        "trusted": issuer is not None and issuer in trusted,
        "from": record.get("sourceIPAddress"),
        "user_agent": record.get("userAgent"),
        "region": record.get("awsRegion"),
        "target": target(record),
        "detail": detail(record),
        "outcome": record.get("errorCode") or "ok",
        "error": record.get("errorMessage"),
        "event_id": record.get("eventID"),
    }


def _records(clients: Clients, log_group: str, start_ms: int, end_ms: int) -> Iterator[dict]:
    logs = clients.client("logs")
    kwargs: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": start_ms,
        "endTime": end_ms,
        "filterPattern": FILTER_PATTERN,
    }
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            raise AuditError(
                f"log group {log_group}: not found (is the stack's audit trail applied? "
                "enable_audit = true)"
            ) from None
        for event in page.get("events", []):
            try:
                record = json.loads(event["message"])
            except ValueError:
                continue  # not a CloudTrail record: nothing of ours
            if isinstance(record, dict):
                yield record
        token = page.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return
        kwargs["nextToken"] = token


def changes(
    clients: Clients,
    log_group: str,
    since: datetime,
    until: datetime | None = None,
    kinds: Iterable[str] = CHANGE_KINDS,
    trusted: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The writes of SageMaker and Application Auto Scaling of kinds `kinds` ("endpoint",
    "traffic", "registry", "other") between since and until, oldest first, each once."""
    until = until or datetime.now(UTC)
    wanted, trusted = set(kinds), frozenset(trusted)  # one set for every record
    found: dict[str, dict[str, Any]] = {}
    start_ms, end_ms = int(since.timestamp() * 1000), int(until.timestamp() * 1000) + 1
    for record in _records(clients, log_group, start_ms, end_ms):
        if record.get("eventSource") not in SOURCES or record.get("readOnly") is not False:
            continue
        item = change(record, trusted)
        if item["kind"] not in wanted:
            continue
        when = _time(item["time"])
        if when is None or not since <= when <= until:
            continue
        found[item["event_id"] or f"{item['time']}{item['event']}{len(found)}"] = item
    return sorted(found.values(), key=lambda c: (c["time"], c["event"] or ""))


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None

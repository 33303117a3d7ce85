"""EventBridge rules for `byo events`: list them, or fire one now.

EventBridge has no "run now". Where AWS_ENDPOINT_URL points at the embedded AWS, whose runtime
runs EventBridge (`GET /localaws/runtime` lists its events service), `fire_rule` asks it to fire
the rule (`POST /localaws/events/rules/<name>/fire`): every kind of target gets what its schedule
or pattern would send it. On AWS, `fire_rule` performs the rule's targets itself through their
own APIs: a Batch job queue target is a SubmitJob with the target's BatchParameters (and the
Parameters / ContainerOverrides of a constant Input); any other target is reported as an error
for that target, since only EventBridge can deliver it as EventBridge does.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.errors import ByoError, ConfigError

HTTP_TIMEOUT_S = 60  # a fire waits for every target's API call


def _request(method: str, url: str, body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def embedded_events_url(clients: Clients) -> str | None:
    """The emulator's URL when the EventBridge endpoint is the embedded AWS with its events
    runtime on; None for AWS (or an emulator that runs no EventBridge)."""
    url = clients.client("events").meta.endpoint_url.rstrip("/")
    host = urllib.parse.urlsplit(url).hostname or ""
    if host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return None
    try:
        status, answer = _request("GET", f"{url}/localaws/runtime")
    except OSError:
        return None
    if status == 200 and isinstance(answer, dict) and "events" in answer.get("services", []):
        return url
    return None


def _pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a paginated EventBridge list (ListEventBuses has no boto3 paginator)."""
    items, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items


def list_rules(clients: Clients) -> list[dict[str, Any]]:
    """Every rule on every event bus: name, bus, state, schedule or pattern, targets, and (on
    the embedded AWS) its next scheduled time."""
    events = clients.client("events")
    next_runs: dict[str, str | None] = {}
    url = embedded_events_url(clients)
    if url is not None:
        status, answer = _request("GET", f"{url}/localaws/events/rules")
        if status == 200 and isinstance(answer, dict):
            next_runs = {r["arn"]: r.get("next") for r in answer.get("rules", [])}
    rules = []
    for bus in _pages(events.list_event_buses, "EventBuses"):
        for rule in _pages(events.list_rules, "Rules", EventBusName=bus["Name"]):
            targets = _pages(
                events.list_targets_by_rule, "Targets", Rule=rule["Name"], EventBusName=bus["Name"]
            )
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
                    "next": next_runs.get(rule["Arn"]),
                    "targets": [{"id": t["Id"], "arn": t["Arn"]} for t in targets],
                }
            )
    return rules


def fire_rule(
    clients: Clients,
    name: str,
    event_bus: str = "default",
    event: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fire rule `name` now: {"rule": arn, "via": "emulator" | "aws", "targets": [{"id", "arn",
    "result"}]}, where a result is what the target's API returned (Batch: jobId, jobName) or
    {"error": ...}. `event` is the event to fire a pattern rule with (the embedded AWS only);
    a scheduled rule gets a Scheduled Event."""
    url = embedded_events_url(clients)
    if url is not None:
        path = f"/localaws/events/rules/{urllib.parse.quote(name, safe='')}/fire"
        query = urllib.parse.urlencode({"event-bus-name": event_bus})
        body = json.dumps(event).encode() if event is not None else None
        try:
            status, answer = _request("POST", f"{url}{path}?{query}", body)
        except OSError as exc:
            raise ByoError(f"cannot reach the emulator at {url} (rule {name}): {exc}") from None
        message = answer.get("message") if isinstance(answer, dict) else None
        if status in (400, 404):
            raise ConfigError(message or f"cannot fire rule {name}: HTTP {status}")
        if status != 200 or not isinstance(answer, dict):
            raise ByoError(f"the emulator could not fire rule {name}: HTTP {status} {message}")
        return {"rule": answer["rule"], "via": "emulator", "targets": answer["targets"]}
    if event is not None:
        raise ConfigError(
            "an event to fire a rule with is for the embedded AWS: on AWS, PutEvents it instead"
        )
    events = clients.client("events")
    try:
        rule = events.describe_rule(Name=name, EventBusName=event_bus)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise ConfigError(f"no rule {name} on event bus {event_bus}") from None
        raise
    targets = _pages(events.list_targets_by_rule, "Targets", Rule=name, EventBusName=event_bus)
    results = []
    for target in targets:
        try:
            result = _perform(clients, target)
        except (ClientError, ConfigError) as exc:
            result = {"error": str(exc)}
        results.append({"id": target["Id"], "arn": target["Arn"], "result": result})
    return {"rule": rule["Arn"], "via": "aws", "targets": results}


def _perform(clients: Clients, target: dict[str, Any]) -> dict[str, Any]:
    """Do what EventBridge does for one target, through the target's own API."""
    arn = target["Arn"]
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "batch" or not parts[5].startswith("job-queue/"):
        raise ConfigError(
            f"only EventBridge can deliver to {arn}: `byo events fire` performs Batch job queue "
            "targets itself on AWS"
        )
    if target.get("InputPath") or target.get("InputTransformer"):
        raise ConfigError(
            f"target {target['Id']} shapes the event (InputPath/InputTransformer), which only "
            "EventBridge can do"
        )
    batch = target.get("BatchParameters") or {}
    if not batch.get("JobDefinition") or not batch.get("JobName"):
        raise ConfigError(f"target {target['Id']} has no BatchParameters JobDefinition/JobName")
    request: dict[str, Any] = {
        "jobName": batch["JobName"],
        "jobQueue": arn,
        "jobDefinition": batch["JobDefinition"],
    }
    if (batch.get("ArrayProperties") or {}).get("Size"):
        request["arrayProperties"] = {"size": int(batch["ArrayProperties"]["Size"])}
    if (batch.get("RetryStrategy") or {}).get("Attempts"):
        request["retryStrategy"] = {"attempts": int(batch["RetryStrategy"]["Attempts"])}
    document = json.loads(target["Input"]) if target.get("Input") else None
    if isinstance(document, dict):
        if isinstance(document.get("Parameters"), dict):
            request["parameters"] = {
                k: v if isinstance(v, str) else json.dumps(v)
                for k, v in document["Parameters"].items()
            }
        if isinstance(document.get("ContainerOverrides"), dict):
            request["containerOverrides"] = _lower_keys(document["ContainerOverrides"])
    job = clients.client("batch").submit_job(**request)
    return {"jobId": job["jobId"], "jobName": job["jobName"], "jobArn": job.get("jobArn")}


def _lower_keys(value: Any) -> Any:
    """EventBridge's ContainerOverrides (Command, Environment: Name/Value) as SubmitJob's."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value

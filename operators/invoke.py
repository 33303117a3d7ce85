"""`byo invoke`: send CSV rows to the endpoint as traffic, one request per row, or all of them as
one asynchronous inference (InvokeEndpointAsync) whose answer is awaited in S3."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from operators.aws import Clients
from operators.errors import ByoError
from operators.layout import Layout
from operators.regions import Target
from operators.s3 import get_bytes_or_none, split_uri


@dataclass
class TrafficSummary:
    sent: int = 0
    per_variant: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    # With failover targets: rows each region answered, and requests that moved to the next one.
    per_region: Counter = field(default_factory=Counter)
    failovers: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        answer = {
            "sent": self.sent,
            "per_variant": dict(self.per_variant),
            "errors": dict(self.errors),
            "seconds": round(self.seconds, 3),
        }
        if self.per_region or self.failovers:
            answer["per_region"] = dict(self.per_region)
            answer["failovers"] = dict(self.failovers)
        return answer


# How long a region whose request failed over is passed by before it is tried again.
FAILED_REGION_REST_S = 30.0


def fails_over(exc: Exception) -> bool:
    """Whether a request that failed so should go to the next region: the endpoint is gone or
    unreachable, or the service failed (5xx); a model's own error (ModelError) or a bad request
    would fail the same way everywhere."""
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        return True
    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    if error.get("Code") == "ModelError":
        return False
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    gone = error.get("Code") == "ValidationError" and "not found" in (error.get("Message") or "")
    return gone or status >= 500


def send_rows(
    clients: Clients,
    endpoint: str,
    rows: Iterable[str],
    *,
    target_variant: str | None = None,
    target_model: str | None = None,
    rate: float | None = None,
    inference_id_prefix: str | None = None,
    on_row: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    failover: Sequence[Target] | None = None,
) -> TrafficSummary:
    """Invoke once per row, at most `rate` rows per second; errors are counted by code, not
    raised, so a traffic run reports what the endpoint did. With `failover` (every region's
    endpoint, in order; `endpoint` is then unused), a row whose request fails over
    (`fails_over`) goes to the next region's endpoint, and the failed region is passed by for
    FAILED_REGION_REST_S before it is tried first again."""
    targets = list(failover or [Target("", endpoint, clients.client("sagemaker-runtime"))])
    resting: dict[str, float] = {}  # region -> when it is tried again
    summary = TrafficSummary()
    started = clock()
    for index, row in enumerate(rows):
        if rate:
            due = started + index / rate
            now = clock()
            if due > now:
                sleep(due - now)
        request: dict[str, Any] = {"ContentType": "text/csv", "Body": row.encode()}
        if target_variant:
            request["TargetVariant"] = target_variant
        if target_model:
            request["TargetModel"] = target_model
        if inference_id_prefix:
            request["InferenceId"] = f"{inference_id_prefix}{index}"
        # A region that just failed over is passed by for a while (each request to it would
        # wait out its retries), then tried again first; if every region is passed by, all are.
        now = clock()
        live = [t for t in targets if resting.get(t.region, now) <= now] or targets
        for position, target in enumerate(live):
            try:
                response = target.runtime.invoke_endpoint(EndpointName=target.endpoint, **request)
                response["Body"].read()
                summary.per_variant[response["InvokedProductionVariant"]] += 1
                if failover:
                    summary.per_region[target.region] += 1
                resting.pop(target.region, None)
                break
            except (ClientError, BotoCoreError) as exc:
                if failover and position + 1 < len(live) and fails_over(exc):
                    summary.failovers[f"{target.region} -> {live[position + 1].region}"] += 1
                    resting[target.region] = clock() + FAILED_REGION_REST_S
                    continue
                if not isinstance(exc, ClientError):
                    raise
                summary.errors[exc.response["Error"].get("Code", "Unknown")] += 1
                break
        summary.sent += 1
        on_row()
    summary.seconds = clock() - started
    return summary


@dataclass(frozen=True)
class AsyncAnswer:
    inference_id: str
    input_location: str
    output_location: str
    failure_location: str | None
    body: bytes
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "inference_id": self.inference_id,
            "input_location": self.input_location,
            "output_location": self.output_location,
            "failure_location": self.failure_location,
            "output": self.body.decode("utf-8", "replace"),
            "seconds": round(self.seconds, 3),
        }


def invoke_async(
    clients: Clients,
    endpoint: str,
    body: bytes,
    layout: Layout,
    *,
    content_type: str = "text/csv",
    inference_id: str | None = None,
    timeout_s: float = 300.0,
    poll_s: float = 0.2,
    on_wait: Callable[[float], None] = lambda elapsed: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncAnswer:
    """Upload `body` under the data bucket's async input prefix, InvokeEndpointAsync, and wait
    for the output object (returned) or the failure object (a ByoError naming it)."""
    s3 = clients.client("s3")
    key = f"{layout.async_input}{uuid.uuid4()}.csv"
    s3.put_object(Bucket=layout.bucket, Key=key, Body=body, ContentType=content_type)
    input_location = layout.uri(key)
    request: dict[str, Any] = {
        "EndpointName": endpoint,
        "InputLocation": input_location,
        "ContentType": content_type,
    }
    if inference_id:
        request["InferenceId"] = inference_id
    started = clock()
    answer = clients.client("sagemaker-runtime").invoke_endpoint_async(**request)
    output, failure = answer["OutputLocation"], answer.get("FailureLocation")
    while True:
        result = get_bytes_or_none(s3, *split_uri(output, "OutputLocation"))
        if result is not None:
            return AsyncAnswer(
                answer["InferenceId"], input_location, output, failure, result, clock() - started
            )
        if failure:
            text = get_bytes_or_none(s3, *split_uri(failure, "FailureLocation"))
            if text is not None:
                raise ByoError(
                    f"asynchronous inference {answer['InferenceId']} on {endpoint} failed: "
                    f"{text.decode('utf-8', 'replace').strip()} (failure object {failure})"
                )
        elapsed = clock() - started
        if elapsed >= timeout_s:
            where = f"{output} or {failure}" if failure else output
            raise ByoError(
                f"asynchronous inference {answer['InferenceId']} on {endpoint}: no answer at "
                f"{where} after {timeout_s:g} s (is the endpoint scaled to zero? raise --timeout)"
            )
        on_wait(elapsed)
        sleep(poll_s)

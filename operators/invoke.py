"""`byo invoke`: send CSV rows to the endpoint as traffic, one request per row."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from operators.aws import Clients


@dataclass
class TrafficSummary:
    sent: int = 0
    per_variant: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "per_variant": dict(self.per_variant),
            "errors": dict(self.errors),
            "seconds": round(self.seconds, 3),
        }


def send_rows(
    clients: Clients,
    endpoint: str,
    rows: Iterable[str],
    *,
    target_variant: str | None = None,
    rate: float | None = None,
    inference_id_prefix: str | None = None,
    on_row: Callable[[], None] = lambda: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TrafficSummary:
    """Invoke once per row, at most `rate` rows per second; errors are counted by code, not
    raised, so a traffic run reports what the endpoint did."""
    runtime = clients.client("sagemaker-runtime")
    summary = TrafficSummary()
    started = clock()
    for index, row in enumerate(rows):
        if rate:
            due = started + index / rate
            now = clock()
            if due > now:
                sleep(due - now)
        request: dict[str, Any] = {
            "EndpointName": endpoint,
            "ContentType": "text/csv",
            "Body": row.encode(),
        }
        if target_variant:
            request["TargetVariant"] = target_variant
        if inference_id_prefix:
            request["InferenceId"] = f"{inference_id_prefix}{index}"
        try:
            response = runtime.invoke_endpoint(**request)
            response["Body"].read()
            summary.per_variant[response["InvokedProductionVariant"]] += 1
        except ClientError as exc:
            summary.errors[exc.response["Error"].get("Code", "Unknown")] += 1
        summary.sent += 1
        on_row()
    summary.seconds = clock() - started
    return summary

"""Variant weights: set them by hand (A/B tests); the gated shift builds on this."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from operators import rollout
from operators.aws import Clients
from operators.errors import ByoError, ConfigError


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float
    instances: int | None


def parse_weights(pairs: list[str]) -> dict[str, float]:
    """["variant-a=9", "variant-b=1"] → {"variant-a": 9.0, "variant-b": 1.0}, validated."""
    if not pairs:
        raise ConfigError("give at least one VARIANT=WEIGHT, e.g. variant-a=9 variant-b=1")
    weights: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"{pair!r}: expected VARIANT=WEIGHT, e.g. variant-b=1")
        try:
            weight = float(value)
        except ValueError:
            raise ConfigError(f"{pair!r}: weight {value!r} is not a number") from None
        if weight < 0 or weight != weight or weight == float("inf"):
            raise ConfigError(f"{pair!r}: weights are relative numbers >= 0 (e.g. 9 and 1)")
        if name in weights:
            raise ConfigError(f"variant {name!r} is given twice")
        weights[name] = weight
    return weights


def parse_steps(text: str) -> list[float]:
    """A shift's steps, "10,50,100" → [10.0, 50.0, 100.0]: the target's share after each, in %."""
    try:
        return [float(p) for p in text.split(",")]
    except ValueError:
        raise ConfigError(f"{text!r}: comma-separated numbers, e.g. 10,50,100") from None


def parse_interval(text: str) -> float:
    """How long a shift watches each step: "90s", "5m" or "60" (seconds) → seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", text)
    if not match:
        raise ConfigError(f"{text!r}: e.g. 60s or 5m")
    return float(match.group(1)) * (60 if match.group(2) == "m" else 1)


def live_variants(clients: Clients, endpoint: str) -> list[Variant]:
    try:
        described = clients.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    except ClientError as exc:
        raise ByoError(f"endpoint {endpoint}: {exc.response['Error'].get('Message')}") from None
    return [
        Variant(
            v["VariantName"], float(v.get("CurrentWeight") or 0.0), v.get("CurrentInstanceCount")
        )
        for v in described["ProductionVariants"]
    ]


def set_weights(
    clients: Clients,
    endpoint: str,
    weights: dict[str, float],
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 600,
    *,
    lock: rollout.Lock | None = None,
) -> list[Variant]:
    """Apply the weights (variants not named keep theirs) and wait until the endpoint is
    InService again, holding the endpoint's rollout `lock` (taken here unless the caller holds
    it). Returns the live variants afterwards."""
    with rollout.holding(lock, endpoint) as check:
        current = live_variants(clients, endpoint)
        names = {v.name for v in current}
        unknown = sorted(set(weights) - names)
        if unknown:
            raise ConfigError(
                f"endpoint {endpoint} has no variant {', '.join(unknown)}; its variants are "
                f"{', '.join(sorted(names))}"
            )
        after = {v.name: weights.get(v.name, v.weight) for v in current}
        if not any(w > 0 for w in after.values()):
            raise ConfigError(
                "at least one variant needs a weight above 0, or no request is served"
            )
        check()
        sagemaker = clients.client("sagemaker")
        try:
            sagemaker.update_endpoint_weights_and_capacities(
                EndpointName=endpoint,
                DesiredWeightsAndCapacities=[
                    {"VariantName": name, "DesiredWeight": weight}
                    for name, weight in weights.items()
                ],
            )
        except ClientError as exc:
            error = exc.response["Error"]
            raise ByoError(f"{error.get('Code')}: {error.get('Message')}") from None
        wait_in_service(clients, endpoint, sleep, timeout_s)
        return live_variants(clients, endpoint)


def wait_in_service(
    clients: Clients, endpoint: str, sleep: Callable[[float], None], timeout_s: float
) -> dict[str, Any]:
    waited = 0.0
    while True:
        described = clients.client("sagemaker").describe_endpoint(EndpointName=endpoint)
        status = described["EndpointStatus"]
        if status == "InService":
            return described
        if status in ("Failed", "RollingBack", "OutOfService"):
            raise ByoError(f"endpoint {endpoint} is {status}: {described.get('FailureReason')}")
        if waited >= timeout_s:
            raise ByoError(f"endpoint {endpoint} still {status} after {timeout_s:.0f} s")
        sleep(5)
        waited += 5


def step_weights(current: list[Variant], target: str, percent: float) -> dict[str, float]:
    """Weights giving `target` `percent`% of traffic; the others share the rest as they did."""
    others = [v for v in current if v.name != target]
    rest = sum(v.weight for v in others)
    weights = {target: float(percent)}
    for v in others:
        share = (v.weight / rest) if rest else 1 / len(others)
        weights[v.name] = round((100.0 - percent) * share, 6)
    return weights


@dataclass(frozen=True)
class GateReading:
    invocations: float
    errors_5xx: float

    @property
    def error_rate(self) -> float:
        return self.errors_5xx / self.invocations if self.invocations else 0.0


def read_gate(
    clients: Clients, endpoint: str, variant: str, start: datetime, end: datetime
) -> GateReading:
    cloudwatch = clients.client("cloudwatch")

    def total(metric: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=metric,
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": variant},
            ],
            StartTime=start,
            EndTime=end,
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(p["Sum"] for p in points)

    return GateReading(total("Invocations"), total("Invocation5XXErrors"))


def shift(
    clients: Clients,
    endpoint: str,
    target: str,
    steps: list[float],
    interval_s: float,
    max_5xx_rate: float,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    report: Callable[[str], None] = lambda line: None,
    *,
    lock: rollout.Lock | None = None,
) -> list[dict[str, Any]]:
    """Canary/linear shift to `target`, checking its 5XX rate after each step; on a failed gate,
    an error or Ctrl-C the weights from before the shift are restored and the reason raised.
    The endpoint's rollout `lock` is held throughout (taken here unless the caller holds it);
    a lock lost to another rollout stops the shift where it is, restoring nothing."""
    if not steps or any(not 0 < p <= 100 for p in steps) or steps != sorted(steps):
        raise ConfigError("--steps must be increasing percentages in (0, 100], e.g. 10,50,100")
    with rollout.holding(lock, endpoint):
        before = live_variants(clients, endpoint)
        if target not in {v.name for v in before}:
            raise ConfigError(
                f"endpoint {endpoint} has no variant {target}; its variants are "
                f"{', '.join(v.name for v in before)}"
            )
        original = {v.name: v.weight for v in before}
        history: list[dict[str, Any]] = []
        try:
            for percent in steps:
                set_weights(
                    clients, endpoint, step_weights(before, target, percent), sleep, lock=lock
                )
                started = now()
                report(f"{target} at {percent:g}%: watching for {interval_s:g} s")
                sleep(interval_s)
                reading = read_gate(
                    clients,
                    endpoint,
                    target,
                    started - timedelta(minutes=1),
                    now() + timedelta(minutes=1),
                )
                history.append(
                    {
                        "percent": percent,
                        "invocations": reading.invocations,
                        "errors_5xx": reading.errors_5xx,
                        "error_rate": reading.error_rate,
                    }
                )
                if reading.error_rate > max_5xx_rate:
                    raise GateFailed(
                        f"{target} at {percent:g}%: 5XX rate {reading.error_rate:.2%} "
                        f"({reading.errors_5xx:g} of {reading.invocations:g}) > {max_5xx_rate:.2%}"
                    )
                report(
                    f"{target} at {percent:g}%: {reading.invocations:g} requests, 5XX rate "
                    f"{reading.error_rate:.2%}: ok"
                )
        except rollout.LockLost:
            raise  # the endpoint is another rollout's now: restoring would undo that one
        except (GateFailed, ByoError, KeyboardInterrupt) as exc:
            set_weights(clients, endpoint, original, sleep, lock=lock)
            restored = ", ".join(f"{k}={v:g}" for k, v in original.items())
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            raise ByoError(
                f"shift rolled back ({reason}); weights restored to {restored}"
            ) from None
        return history


class GateFailed(ByoError):
    """The target variant's health gate failed during a shift."""

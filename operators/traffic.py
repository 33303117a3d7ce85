"""Variant weights: set them by hand (A/B tests); the gated shift builds on this."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

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
) -> list[Variant]:
    """Apply the weights (variants not named keep theirs) and wait until the endpoint is
    InService again. Returns the live variants afterwards."""
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
        raise ConfigError("at least one variant needs a weight above 0, or no request is served")
    sagemaker = clients.client("sagemaker")
    try:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=endpoint,
            DesiredWeightsAndCapacities=[
                {"VariantName": name, "DesiredWeight": weight} for name, weight in weights.items()
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

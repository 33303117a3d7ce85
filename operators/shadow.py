"""Shadow variants: compare a shadow with production on the requests both answered, and promote
the shadow to production behind the health gate of a traffic shift.

The comparison reads what SageMaker itself records: the data capture of both variants (the same
request is captured under each variant's name; pairs are joined by InferenceId, else by the
request's rows and time) and their CloudWatch metrics (ModelLatency, errors).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from operators import rollout, traffic
from operators.aws import Clients
from operators.deploy import VARIANT_FIELDS, copy_autoscaling, wait_deployed
from operators.errors import ByoError
from operators.monitoring.captures import Capture, Window, read_captures

THRESHOLD = 0.5  # scores in [0, 1] agree when both are on the same side of it
# Without an InferenceId, a shadow capture of the same rows at most this far from production's
# is the same request (the mirror runs right after production answers).
PAYLOAD_PAIR_S = 60.0


@dataclass(frozen=True)
class ShadowEndpoint:
    endpoint: str
    config_name: str
    config: dict[str, Any]  # DescribeEndpointConfig
    described: dict[str, Any]  # DescribeEndpoint
    production: dict[str, Any]  # the config's one production variant
    shadow: dict[str, Any]  # the config's one shadow variant


def shadow_endpoint(clients: Clients, endpoint: str) -> ShadowEndpoint:
    """The endpoint, its config and its production and shadow variants (a ByoError if it has
    no shadow)."""
    sagemaker = clients.client("sagemaker")
    try:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
    except ClientError as exc:
        raise ByoError(f"endpoint {endpoint}: {exc.response['Error'].get('Message')}") from None
    config_name = described["EndpointConfigName"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    shadows = config.get("ShadowProductionVariants") or []
    if not shadows:
        raise ByoError(
            f"endpoint {endpoint} has no shadow variant (its config {config_name} has no "
            "ShadowProductionVariants): deploy one with the endpoint module's "
            "shadow_production_variants first"
        )
    return ShadowEndpoint(
        endpoint, config_name, config, described, config["ProductionVariants"][0], shadows[0]
    )


# -- the report ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    production: Capture
    shadow: Capture


def pair_captures(production: list[Capture], shadow: list[Capture]) -> list[Pair]:
    """The requests both variants captured: by InferenceId where the request had one, else by
    the same rows at about the same time (each capture in one pair at most)."""
    by_id = {c.inference_id: c for c in shadow if c.inference_id}
    by_rows: dict[tuple[str, ...], list[Capture]] = {}
    for capture in shadow:
        if not capture.inference_id:
            by_rows.setdefault(tuple(capture.rows), []).append(capture)
    pairs = []
    for capture in production:
        if capture.inference_id:
            match = by_id.pop(capture.inference_id, None)
        else:
            candidates = by_rows.get(tuple(capture.rows), [])
            match = next(
                (
                    c
                    for c in candidates
                    if abs((c.time - capture.time).total_seconds()) <= PAYLOAD_PAIR_S
                ),
                None,
            )
            if match is not None:
                candidates.remove(match)
        if match is not None:
            pairs.append(Pair(capture, match))
    return pairs


def compare_scores(pairs: list[Pair]) -> dict[str, Any]:
    """Agreement and absolute score deltas over the rows of the paired requests. Scores all in
    [0, 1] (probabilities) agree at the 0.5 threshold; other answers (labels) when equal."""
    production: list[float] = []
    shadow: list[float] = []
    incomparable = 0
    for pair in pairs:
        ours, theirs = pair.production.scores, pair.shadow.scores
        if ours is None or theirs is None or len(ours) != len(theirs):
            incomparable += 1
            continue
        production.extend(ours)
        shadow.extend(theirs)
    if not production:
        return {"rows": 0, "incomparable_pairs": incomparable}
    probabilities = all(0.0 <= v <= 1.0 for v in production + shadow)
    if probabilities:
        agreeing = sum(
            (p >= THRESHOLD) == (s >= THRESHOLD) for p, s in zip(production, shadow, strict=True)
        )
    else:
        agreeing = sum(p == s for p, s in zip(production, shadow, strict=True))
    deltas = [abs(p - s) for p, s in zip(production, shadow, strict=True)]
    return {
        "rows": len(production),
        "agreement": agreeing / len(production),
        "agreement_kind": f"threshold {THRESHOLD:g}" if probabilities else "label",
        "mean_abs_delta": sum(deltas) / len(deltas),
        "max_abs_delta": max(deltas),
        "incomparable_pairs": incomparable,
    }


def variant_metrics(
    clients: Clients, endpoint: str, variant: str, since: datetime, until: datetime
) -> dict[str, Any]:
    """The variant's ModelLatency (ms) and invocation counts in the window, from CloudWatch."""
    cloudwatch = clients.client("cloudwatch")

    def points(metric: str, statistics: list[str]) -> list[dict[str, Any]]:
        return cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=metric,
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": variant},
            ],
            StartTime=since,
            EndTime=until,
            Period=60,
            Statistics=statistics,
        )["Datapoints"]

    latency = points("ModelLatency", ["SampleCount", "Sum", "Maximum"])
    samples = sum(p["SampleCount"] for p in latency)
    counts = {
        name: sum(p["Sum"] for p in points(metric, ["Sum"]))
        for name, metric in (
            ("invocations", "Invocations"),
            ("errors_4xx", "Invocation4XXErrors"),
            ("errors_5xx", "Invocation5XXErrors"),
        )
    }
    return {
        **counts,
        "latency_samples": samples,
        "latency_mean_ms": sum(p["Sum"] for p in latency) / samples / 1000 if samples else None,
        "latency_max_ms": max(p["Maximum"] for p in latency) / 1000 if samples else None,
    }


def report(
    clients: Clients, endpoint: str, since: timedelta, now: datetime | None = None
) -> dict[str, Any]:
    """Production against its shadow on the requests captured in the last `since`."""
    found = shadow_endpoint(clients, endpoint)
    capture = found.described.get("DataCaptureConfig") or found.config.get("DataCaptureConfig")
    destination = (capture or {}).get("DestinationS3Uri")
    if not destination or not (capture or {}).get("EnableCapture", True):
        raise ByoError(
            f"endpoint {endpoint} has no data capture: the shadow report compares the captured "
            "requests of both variants (enable DataCaptureConfig with Input and Output)"
        )
    until = now or datetime.now(UTC)
    window = Window(until - since, until)
    captures = read_captures(clients.s3, destination, endpoint, window)
    production_name = found.production["VariantName"]
    shadow_name = found.shadow["VariantName"]
    production = [c for c in captures if c.variant == production_name]
    shadow = [c for c in captures if c.variant == shadow_name]
    if not production:  # without them nothing can be compared; a shadow without is reported
        raise ByoError(
            f"endpoint {endpoint}: no captures of {production_name} under {destination} since "
            f"{until - since:%Y-%m-%d %H:%M} UTC; send requests (and flush the capture) or "
            "widen --since"
        )
    pairs = pair_captures(production, shadow)
    metrics_until = until + timedelta(minutes=1)  # CloudWatch's period of the last requests
    return {
        "endpoint": endpoint,
        "endpoint_config": found.config_name,
        "production_variant": production_name,
        "shadow_variant": shadow_name,
        "window": window.describe(),
        "captures": {"production": len(production), "shadow": len(shadow)},
        "pairs": len(pairs),
        "unpaired": {
            "production": len(production) - len(pairs),
            "shadow": len(shadow) - len(pairs),
        },
        "scores": compare_scores(pairs),
        "metrics": {
            name: variant_metrics(clients, endpoint, variant, until - since, metrics_until)
            for name, variant in (("production", production_name), ("shadow", shadow_name))
        },
    }


# -- promotion ----------------------------------------------------------------------------------
def _variant(entry: dict[str, Any], weight: float, instances: int | None) -> dict[str, Any]:
    variant = {k: entry[k] for k in VARIANT_FIELDS if k in entry}
    variant["InitialVariantWeight"] = weight
    if instances and "ServerlessConfig" not in entry:
        variant["InitialInstanceCount"] = instances
    for key in ("ServerlessConfig", "ManagedInstanceScaling", "RoutingConfig"):
        if key in entry:
            variant[key] = entry[key]
    return variant


def _create_config(
    clients: Clients, found: ShadowEndpoint, name: str, variants: list[dict], tag: str
) -> str:
    args: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": variants,
        "Tags": [{"Key": "byo:promoted", "Value": tag}],
    }
    for key in ("DataCaptureConfig", "KmsKeyId"):
        if found.config.get(key):
            args[key] = found.config[key]
    clients.client("sagemaker").create_endpoint_config(**args)
    return name


def _update(clients: Clients, endpoint: str, config: str, previous: str, sleep) -> None:
    clients.client("sagemaker").update_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    wait_deployed(clients, endpoint, config, previous, sleep)


def promote(
    clients: Clients,
    endpoint: str,
    steps: list[float],
    interval_s: float,
    max_5xx_rate: float,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Callable[[str], None] = lambda line: None,
    *,
    lock: rollout.Lock | None = None,
) -> dict[str, Any]:
    """Make the shadow the production variant: a config with the shadow's model as a production
    variant at weight 0 beside production (no shadow), the gated shift of `byo traffic shift` to
    it, then a config with it alone (the old production retired). A failed gate (or an error, or
    Ctrl-C) puts the endpoint back on its config from before, shadow included. The endpoint's
    rollout `lock` is held throughout (taken here unless the caller holds it); a lock lost to
    another rollout stops the promotion where it is, putting nothing back."""
    with rollout.holding(lock, endpoint) as check:
        found = shadow_endpoint(clients, endpoint)
        production_name = found.production["VariantName"]
        shadow_name = found.shadow["VariantName"]
        live = {v["VariantName"]: v for v in found.described["ProductionVariants"]}
        live_shadows = {
            v["VariantName"]: v for v in found.described.get("ShadowProductionVariants") or []
        }
        production_live = live.get(production_name, {})
        production_weight = float(production_live.get("CurrentWeight") or 1.0)
        shadow_instances = live_shadows.get(shadow_name, {}).get(
            "CurrentInstanceCount"
        ) or found.shadow.get("InitialInstanceCount")
        stamp = now().strftime("%Y%m%d%H%M%S")
        side_by_side = _create_config(
            clients,
            found,
            f"{endpoint}-promote-{stamp}"[:63],
            [
                _variant(
                    found.production, production_weight, production_live.get("CurrentInstanceCount")
                ),
                _variant(found.shadow, 0.0, shadow_instances),
            ],
            f"{shadow_name} beside {production_name}",
        )
        progress(f"{shadow_name} now a production variant at weight 0 ({side_by_side})")
        try:
            check()
            _update(clients, endpoint, side_by_side, found.config_name, sleep)
            copy_autoscaling(
                clients, endpoint, production_name, shadow_name, int(shadow_instances or 1)
            )
            history = traffic.shift(
                clients,
                endpoint,
                shadow_name,
                steps,
                interval_s,
                max_5xx_rate,
                sleep,
                now,
                progress,
                lock=lock,
            )
        except rollout.LockLost:
            raise  # the endpoint is another rollout's now: putting it back would undo that one
        except (ByoError, ClientError, KeyboardInterrupt) as exc:
            clients.client("sagemaker").update_endpoint(
                EndpointName=endpoint, EndpointConfigName=found.config_name
            )
            traffic.wait_in_service(clients, endpoint, sleep, timeout_s=1800)
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
            raise ByoError(
                f"promotion of {shadow_name} rolled back ({reason}); endpoint {endpoint} is back "
                f"on {found.config_name} with {production_name} in production and {shadow_name} "
                "as its shadow"
            ) from None
        promoted_instances = traffic.live_variants(clients, endpoint)
        instances = next((v.instances for v in promoted_instances if v.name == shadow_name), None)
        check()
        alone = _create_config(
            clients,
            found,
            f"{endpoint}-promoted-{stamp}"[:63],
            [_variant(found.shadow, 1.0, instances or shadow_instances)],
            f"{shadow_name} replaced {production_name}",
        )
        _update(clients, endpoint, alone, side_by_side, sleep)
        _retire_autoscaling(clients, endpoint, production_name)
        progress(f"{production_name} retired; {shadow_name} serves all traffic ({alone})")
        return {
            "endpoint": endpoint,
            "promoted": shadow_name,
            "model": found.shadow["ModelName"],
            "retired": production_name,
            "retired_model": found.production["ModelName"],
            "endpoint_config": alone,
            "previous_config": found.config_name,
            "steps": history,
        }


def _retire_autoscaling(clients: Clients, endpoint: str, variant: str) -> None:
    """Deregister a removed variant's scalable target, as nothing can scale it any more."""
    aas = clients.client("application-autoscaling")
    resource_id = f"endpoint/{endpoint}/variant/{variant}"
    targets = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource_id])
    for target in targets["ScalableTargets"]:
        aas.deregister_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource_id,
            ScalableDimension=target["ScalableDimension"],
        )

"""Per-variant CloudWatch metrics of the hosting (AWS/SageMaker), aggregated and published on
flush."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger("localaws.hosting")

METRICS_NAMESPACE = "AWS/SageMaker"


@dataclass
class VariantStats:
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latencies_us: list[float] = field(default_factory=list)


class MetricsPublisher:
    """Per-variant invocation metrics, aggregated and published to CloudWatch on flush."""

    def __init__(self, cloudwatch: Any) -> None:
        self.cloudwatch = cloudwatch
        self._stats: dict[tuple[str, str], VariantStats] = defaultdict(VariantStats)
        # Any other metric of a variant (OverheadLatency, ModelLoadingWaitTime, ModelCacheHit,
        # …) or of an endpoint (variant "": ApproximateBacklogSize, …): its samples, by
        # (endpoint, variant, metric name, unit).
        self._samples: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        # Held from the swap to the last put: a flush returns only once what was recorded
        # before it is in CloudWatch, even while the background flush is publishing.
        self._flushing = threading.Lock()

    def observe(self, endpoint: str, variant: str, metric: str, value: float, unit: str) -> None:
        """One sample of `metric`, published on flush as the samples' statistic set, with the
        dimensions EndpointName (and VariantName unless variant is "")."""
        with self._lock:
            self._samples[(endpoint, variant, metric, unit)].append(float(value))

    def record(self, endpoint: str, variant: str, status: int, latency_us: float | None) -> None:
        with self._lock:
            stats = self._stats[(endpoint, variant)]
            stats.invocations += 1
            if 400 <= status < 500:
                stats.errors_4xx += 1
            elif status >= 500:
                stats.errors_5xx += 1
            if latency_us is not None:
                stats.latencies_us.append(latency_us)

    def flush(self) -> None:
        with self._flushing:
            with self._lock:
                pending, self._stats = self._stats, defaultdict(VariantStats)
                samples, self._samples = self._samples, defaultdict(list)
            self._publish(pending, samples, datetime.now(UTC))

    def _publish(
        self,
        pending: dict[tuple[str, str], VariantStats],
        samples: dict[tuple[str, str, str, str], list[float]],
        now: datetime,
    ) -> None:
        self._publish_samples(samples, now)
        for (endpoint, variant), stats in pending.items():
            dimensions = [
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": variant},
            ]
            data = [
                {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Timestamp": now,
                    "Value": float(value),
                    "Unit": "Count",
                }
                for name, value in (
                    ("Invocations", stats.invocations),
                    ("Invocation4XXErrors", stats.errors_4xx),
                    ("Invocation5XXErrors", stats.errors_5xx),
                )
            ]
            if stats.latencies_us:
                data.append(
                    {
                        "MetricName": "ModelLatency",
                        "Dimensions": dimensions,
                        "Timestamp": now,
                        "Unit": "Microseconds",
                        "StatisticValues": {
                            "SampleCount": float(len(stats.latencies_us)),
                            "Sum": float(sum(stats.latencies_us)),
                            "Minimum": float(min(stats.latencies_us)),
                            "Maximum": float(max(stats.latencies_us)),
                        },
                    }
                )
            try:
                self.cloudwatch.put_metric_data(Namespace=METRICS_NAMESPACE, MetricData=data)
            except ClientError:
                log.exception("publishing metrics for %s/%s failed", endpoint, variant)

    def _publish_samples(
        self, samples: dict[tuple[str, str, str, str], list[float]], now: datetime
    ) -> None:
        by_dimensions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for (endpoint, variant, metric, unit), values in samples.items():
            dimensions = [{"Name": "EndpointName", "Value": endpoint}]
            if variant:
                dimensions.append({"Name": "VariantName", "Value": variant})
            by_dimensions[(endpoint, variant)].append(
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Timestamp": now,
                    "Unit": unit,
                    "StatisticValues": {
                        "SampleCount": float(len(values)),
                        "Sum": float(sum(values)),
                        "Minimum": float(min(values)),
                        "Maximum": float(max(values)),
                    },
                }
            )
        for (endpoint, variant), data in by_dimensions.items():
            for start in range(0, len(data), 1000):  # PutMetricData's limit per call
                try:
                    self.cloudwatch.put_metric_data(
                        Namespace=METRICS_NAMESPACE, MetricData=data[start : start + 1000]
                    )
                except ClientError:
                    log.exception("publishing metrics for %s/%s failed", endpoint, variant or "*")

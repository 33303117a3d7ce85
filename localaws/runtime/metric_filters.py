"""CloudWatch Logs metric filters: events ingested into a log group become metric data points.

moto keeps metric filters (PutMetricFilter, DescribeMetricFilters) and applies none. This service
wraps moto's PutLogEvents: each accepted event of a group is matched against the group's metric
filters (localaws.runtime.filter_patterns, AWS's filter pattern syntax) and every match puts the
filter's metricTransformations into CloudWatch, as AWS does: the metricValue (a number, or a
`$.selector` of a JSON event whose value is a number), the dimensions (`{"Name": "$.selector"}`;
an event without one of them is not counted, as AWS skips it), the unit, at the event's
timestamp. A call with no matching event puts the defaultValue when the transformation has one
(AWS: "the value reported to the metric filter during a period when no matching logs are
found"; AWS refuses a defaultValue beside dimensions, so no dimensions go with it).

PutMetricFilter on a filter name that exists replaces that filter (moto appended a second one,
so an updated filter counted twice): the hook drops the earlier filter of the same group and
name. A pattern the parser does not take is logged with the filter's name and skipped.

Data points go through a queue to a worker, so PutLogEvents answers as fast as it did.

FilterLogEvents reads the same patterns the same way: moto matched a JSON pattern (`{ $.x = 1 }`)
against every event (it knew terms only), so a reader that lets AWS filter (`byo audit`) got
everything offline; the hook matches with filter_patterns, moto's own matching is kept for what
the parser does not take.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import UTC, datetime
from typing import Any

from localaws.runtime import Context
from localaws.runtime.filter_patterns import FilterPattern, FilterPatternError, parse
from localaws.runtime.hooks import Hooks

log = logging.getLogger("localaws.runtime.metric_filters")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def data_points(
    transformation: dict[str, Any], pattern: FilterPattern, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The MetricData (PutMetricData's) that one transformation makes of a batch of events."""
    name = transformation["metricName"]
    raw_value = str(transformation.get("metricValue", "1"))
    dimensions = transformation.get("dimensions") or {}
    unit = transformation.get("unit")
    points: list[dict[str, Any]] = []
    for event in events:
        message = event.get("message", "")
        if not pattern.matches(message):
            continue
        value = (
            _number(pattern.value(message, raw_value))
            if raw_value.startswith("$.")
            else _number(raw_value)
        )
        if value is None:
            continue
        point: dict[str, Any] = {
            "MetricName": name,
            "Value": value,
            "Timestamp": datetime.fromtimestamp(event["timestamp"] / 1000, UTC),
        }
        if dimensions:
            found = {k: pattern.value(message, str(s)) for k, s in dimensions.items()}
            if any(v is None for v in found.values()):
                continue
            point["Dimensions"] = [{"Name": k, "Value": str(v)} for k, v in found.items()]
        if unit:
            point["Unit"] = unit
        points.append(point)
    if not points and transformation.get("defaultValue") is not None and not dimensions:
        points.append(
            {
                "MetricName": name,
                "Value": float(transformation["defaultValue"]),
                "Timestamp": datetime.fromtimestamp(
                    max((e["timestamp"] for e in events), default=0) / 1000, UTC
                ),
                **({"Unit": unit} if unit else {}),
            }
        )
    return points


class MetricFiltersRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.hooks = Hooks()
        self._queue: queue.Queue[tuple[str, str, list[dict[str, Any]]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._patterns: dict[str, FilterPattern | None] = {}

    def start(self) -> None:
        from moto.logs.metric_filters import MetricFilters
        from moto.logs.models import LogsBackend
        from moto.logs.utils import EventMessageFilter

        service = self

        def put_log_events(
            backend: LogsBackend, log_group_name: str, log_stream_name: str, log_events: list
        ) -> Any:
            result = original_put(backend, log_group_name, log_stream_name, log_events)
            rejected = result[1] if isinstance(result, tuple) and len(result) > 1 else {}
            accepted = _accepted(log_events, rejected or {})
            filters = backend.filters.get_matching_filters(log_group_name=log_group_name)
            if accepted and filters:
                service._queue.put((backend.region_name, log_group_name, accepted))
            return result

        def add_filter(
            filters: MetricFilters,
            filter_name: str,
            filter_pattern: str,
            log_group_name: str,
            metric_transformations: Any,
        ) -> None:
            filters.metric_filters = [
                f
                for f in filters.metric_filters
                if (f["filterName"], f["logGroupName"]) != (filter_name, log_group_name)
            ]
            original_add(
                filters, filter_name, filter_pattern, log_group_name, metric_transformations
            )

        def filter_init(matcher: EventMessageFilter, pattern: str) -> None:
            original_init(matcher, pattern)
            matcher._localaws_pattern = pattern  # type: ignore[attr-defined]

        def filter_matches(matcher: EventMessageFilter, message: str) -> bool:
            text = getattr(matcher, "_localaws_pattern", "")
            parsed = service._pattern(text, "FilterLogEvents") if text else None
            if parsed is None:
                return original_matches(matcher, message)
            return parsed.matches(message)

        original_put = self.hooks.install(LogsBackend, "put_log_events", put_log_events)
        original_init = self.hooks.install(EventMessageFilter, "__init__", filter_init)
        original_matches = self.hooks.install(EventMessageFilter, "matches", filter_matches)
        original_add = self.hooks.install(MetricFilters, "add_filter", add_filter)
        self._thread = threading.Thread(target=self._work, name="metric-filters", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.hooks.restore()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _pattern(self, text: str, filter_name: str) -> FilterPattern | None:
        if text not in self._patterns:
            try:
                self._patterns[text] = parse(text)
            except FilterPatternError as exc:
                log.warning("metric filter %s: %s; not applied", filter_name, exc)
                self._patterns[text] = None
        return self._patterns[text]

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            region, group, events = item
            try:
                self._apply(region, group, events)
            except Exception:
                log.exception("metric filters of %s: applying failed", group)

    def _apply(self, region: str, group: str, events: list[dict[str, Any]]) -> None:
        from moto.logs.models import logs_backends

        backend = logs_backends[self.ctx.account_id][region]
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for found in backend.filters.get_matching_filters(log_group_name=group):
            pattern = self._pattern(found["filterPattern"] or "", found["filterName"])
            if pattern is None:
                continue
            for transformation in found["metricTransformations"]:
                points = data_points(transformation, pattern, events)
                by_namespace.setdefault(transformation["metricNamespace"], []).extend(points)
        cloudwatch = self.ctx.client("cloudwatch", region=region)
        for namespace, points in by_namespace.items():
            for start in range(0, len(points), 1000):  # PutMetricData's limit per call
                cloudwatch.put_metric_data(
                    Namespace=namespace, MetricData=points[start : start + 1000]
                )


def _accepted(events: list[dict[str, Any]], rejected: dict[str, Any]) -> list[dict[str, Any]]:
    """The events PutLogEvents kept (rejectedLogEventsInfo gives the index ranges it did not)."""
    low = rejected.get("tooOldLogEventEndIndex", -1) + 1
    low = max(low, rejected.get("expiredLogEventEndIndex", -1) + 1)
    high = rejected.get("tooNewLogEventStartIndex", len(events))
    return list(events[low:high])

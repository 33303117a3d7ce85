"""A flush of the hosting's metrics or captures returns only once what came before it is
published, even while the background flush is publishing it (the gate of `byo traffic shift`
flushes, then reads CloudWatch)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from localaws.hosting.capture import CaptureWriter
from localaws.hosting.metrics import MetricsPublisher
from localaws.hosting.models import CaptureSettings


class SlowFirstPut:
    """A client whose first put blocks until released: a background flush caught mid-publish."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls: list[dict] = []

    def _put(self, **kwargs) -> dict:
        if not self.calls:
            self.entered.set()
            assert self.release.wait(10)
        self.calls.append(kwargs)
        return {}

    put_metric_data = put_object = _put


def second_flush_waits_for_the_first(flush, client: SlowFirstPut) -> None:
    background = threading.Thread(target=flush)
    background.start()
    assert client.entered.wait(10)
    explicit_done = threading.Event()
    explicit = threading.Thread(target=lambda: (flush(), explicit_done.set()))
    explicit.start()
    # The explicit flush found nothing left to publish; it must still wait for the first one.
    assert not explicit_done.wait(0.3)
    assert client.calls == []
    client.release.set()
    explicit.join(10)
    background.join(10)
    assert explicit_done.is_set() and len(client.calls) == 1


def test_a_metrics_flush_waits_for_the_one_in_flight():
    cloudwatch = SlowFirstPut()
    metrics = MetricsPublisher(cloudwatch)
    metrics.record("ep", "v1", 200, 1500.0)
    second_flush_waits_for_the_first(metrics.flush, cloudwatch)
    names = {d["MetricName"]: d for d in cloudwatch.calls[0]["MetricData"]}
    assert names["Invocations"]["Value"] == 1.0


def test_a_capture_flush_waits_for_the_one_in_flight():
    s3 = SlowFirstPut()
    writer = CaptureWriter(s3)
    settings = CaptureSettings(
        destination="s3://bucket/captures",
        sampling_percentage=100.0,
        capture_input=True,
        capture_output=True,
        csv_types=frozenset({"text/csv"}),
        json_types=frozenset({"application/json"}),
        kms_key_id=None,
    )
    writer.add(settings, "ep", "v1", {"eventVersion": "0"}, datetime.now(UTC))
    second_flush_waits_for_the_first(writer.flush, s3)
    assert s3.calls[0]["Bucket"] == "bucket"

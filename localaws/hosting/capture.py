"""Data capture in SageMaker's JSONL format, buffered per (destination, endpoint, variant, hour)
and written to S3 under <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/."""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from localaws.hosting.models import CaptureSettings

log = logging.getLogger("localaws.hosting")

MAX_BUFFERED_RECORDS = 1000


class CaptureWriter:
    """Buffers capture records per (destination, endpoint, variant, hour); writes JSONL to S3."""

    def __init__(self, s3: Any, max_records: int = MAX_BUFFERED_RECORDS) -> None:
        self.s3 = s3
        self.max_records = max_records
        self._buffers: dict[tuple[str, str, str, str, str | None], list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        # Held from the swap to the last write: a flush returns only once what was added before
        # it is in S3, even while the background flush is writing.
        self._flushing = threading.Lock()
        self.full = threading.Event()

    def add(
        self, capture: CaptureSettings, endpoint: str, variant: str, record: dict, when: datetime
    ) -> None:
        key = (
            capture.destination,
            endpoint,
            variant,
            when.strftime("%Y/%m/%d/%H"),
            capture.kms_key_id,
        )
        line = json.dumps(record, separators=(",", ":"))
        with self._lock:
            buffer = self._buffers[key]
            buffer.append(line)
            if len(buffer) >= self.max_records:
                self.full.set()

    def flush(self) -> int:
        """Write every buffered record; records whose write fails stay buffered. Returns count."""
        with self._flushing:
            with self._lock:
                pending, self._buffers = self._buffers, defaultdict(list)
                self.full.clear()
            return self._write(pending)

    def _write(self, pending: dict[tuple[str, str, str, str, str | None], list[str]]) -> int:
        written = 0
        for (destination, endpoint, variant, hour, kms_key), lines in pending.items():
            bucket, _, prefix = destination.removeprefix("s3://").partition("/")
            now = datetime.now(UTC)
            name = f"{now:%M-%S}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
            key = "/".join(p for p in (prefix, endpoint, variant, hour, name) if p)
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
            try:
                self.s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=("\n".join(lines) + "\n").encode(),
                    ContentType="application/jsonlines",
                    **extra,
                )
                written += len(lines)
            except ClientError:
                log.exception(
                    "capture write to s3://%s/%s failed; keeping %d records",
                    bucket,
                    key,
                    len(lines),
                )
                with self._lock:
                    self._buffers[(destination, endpoint, variant, hour, kms_key)][:0] = lines
        return written


def capture_record(
    capture: CaptureSettings,
    body: bytes,
    content_type: str | None,
    answer: bytes,
    answer_type: str,
    inference_id: str | None,
    when: datetime,
) -> dict:
    def payload(data: bytes, observed: str | None, mode: str) -> dict:
        encoding = capture.encoding(observed)
        text = base64.b64encode(data).decode() if encoding == "BASE64" else data.decode()
        return {
            "observedContentType": observed or "",
            "mode": mode,
            "data": text,
            "encoding": encoding,
        }

    data: dict[str, Any] = {}
    if capture.capture_input:
        data["endpointInput"] = payload(body, content_type, "INPUT")
    if capture.capture_output:
        data["endpointOutput"] = payload(answer, answer_type, "OUTPUT")
    metadata = {"eventId": str(uuid.uuid4())}
    if inference_id:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"captureData": data, "eventMetadata": metadata, "eventVersion": "0"}

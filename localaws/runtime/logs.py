"""CloudWatch Logs as AWS's runtimes write them: one stream per invocation/attempt, lines in
order, put through the emulator's own Logs API.

Log events carry the wall clock's time, not the runtime's (which tests advance): CloudWatch Logs
(moto too) rejects events more than two hours in the future, and a log line is a record of when
it was really written."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger("localaws.runtime.logs")

BATCH_LINES = 200  # lines buffered before a PutLogEvents
MAX_EVENT_BYTES = 256 * 1024 - 26  # a log event's limit (its 26 bytes of overhead off)


class Logs:
    def __init__(self, client: Any) -> None:
        self.client = client

    def stream(self, group: str, stream: str, create_group: bool = True) -> LogStream:
        """A new stream in `group` (created first if missing and `create_group`, as Lambda does
        and Batch's awslogs driver does with awslogs-create-group)."""
        return LogStream(self, group, stream, create_group)


class LogStream:
    def __init__(self, logs: Logs, group: str, stream: str, create_group: bool) -> None:
        self.logs = logs
        self.group = group
        self.name = stream
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ok = self._create(create_group)

    def _create(self, create_group: bool) -> bool:
        client = self.logs.client
        if create_group:
            try:
                client.create_log_group(logGroupName=self.group)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    log.warning("cannot create log group %s: %s", self.group, exc)
        try:
            client.create_log_stream(logGroupName=self.group, logStreamName=self.name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                log.warning("cannot create log stream %s/%s: %s", self.group, self.name, exc)
                return False
        return True

    def write(self, line: str) -> None:
        message = line.rstrip("\n")[:MAX_EVENT_BYTES]
        with self._lock:
            self._pending.append({"timestamp": int(time.time() * 1000), "message": message or " "})
            full = len(self._pending) >= BATCH_LINES
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending or not self._ok:
            return
        try:
            self.logs.client.put_log_events(
                logGroupName=self.group, logStreamName=self.name, logEvents=pending
            )
        except ClientError as exc:
            log.warning(
                "cannot write %d lines to %s/%s: %s", len(pending), self.group, self.name, exc
            )

    def close(self) -> None:
        self.flush()

"""The runtime's clock: the wall clock, plus an offset tests can advance.

AWS waits minutes where a test cannot (autoscaling cooldowns, alarm periods, retry delays). Every
service asks this clock what time it is, so `POST /localaws/clock {"advance_seconds": N}` moves
the runtime N seconds into the future at once: deadlines and cooldowns pass, and metric windows
that follow the clock see no datapoints yet. Nothing else about the emulator changes.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._advanced = threading.Condition(self._lock)

    def time(self) -> float:
        """Seconds since the epoch, as the runtime sees them."""
        with self._lock:
            return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> None:
        with self._advanced:
            self._offset += seconds
            self._advanced.notify_all()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait until the clock has moved `seconds` forward (really, or by `advance`), checking
        `stop` at least every 0.2 s. True if `stop` was set."""
        deadline = self.time() + seconds
        while True:
            if stop is not None and stop.is_set():
                return True
            left = deadline - self.time()
            if left <= 0:
                return False
            with self._advanced:
                self._advanced.wait(timeout=min(left, 0.2))

    def describe(self) -> dict[str, Any]:
        return {"now": self.now().isoformat(), "offset_seconds": self.offset}

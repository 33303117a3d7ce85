"""Placeholder until this service lands (replaced by its real implementation)."""

from __future__ import annotations

from typing import Any


class BatchRuntime:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def publish(self, event: dict[str, Any]) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

"""Serverless variants (ProductionVariant.ServerlessConfig) in the local hosting.

Placeholder admission: every request is admitted (the serverless helper replaces this with max
concurrency → ThrottlingException, cold starts and provisioned concurrency)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ServerlessGate:
    def __init__(self, hosting: Any) -> None:
        self.hosting = hosting

    @contextmanager
    def admit(
        self, endpoint: str, variant: str, described: dict[str, Any] | None
    ) -> Iterator[None]:
        yield

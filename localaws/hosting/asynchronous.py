"""Asynchronous inference (EndpointConfig.AsyncInferenceConfig, InvokeEndpointAsync) in the
local hosting.

Placeholder: no route yet (the async helper replaces this)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class AsyncInvocations:
    def __init__(self, hosting: Any, client: Callable[[str], Any]) -> None:
        self.hosting = hosting

    def routes(self, app: Any) -> None:
        return None

    def close(self) -> None:
        return None

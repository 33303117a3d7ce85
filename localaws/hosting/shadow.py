"""Shadow variants (ShadowProductionVariants) in the local hosting.

Placeholder: nothing is mirrored yet (the shadow helper replaces this)."""

from __future__ import annotations

from typing import Any


class ShadowMirror:
    def __init__(self, hosting: Any) -> None:
        self.hosting = hosting

    def mirror(
        self, endpoint: str, described: dict[str, Any], config: Any, body: bytes, headers: Any
    ) -> None:
        return None

    def close(self) -> None:
        return None

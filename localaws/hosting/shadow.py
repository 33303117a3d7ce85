"""Shadow variants (ShadowProductionVariants) in the local hosting.

As on SageMaker, a shadow variant gets a copy of the production traffic and its answers are
never returned: the shadow's share of the requests is its weight relative to the production
variant's (CurrentWeight, AWS's default 1.0 when left out; 1 and 1 mirror every request, 0.5
and 1 half of them, capped at all). Each mirrored request goes through Hosting.invoke_variant
under the shadow's own variant name, so its metrics (Invocations, ModelLatency, errors) and its
data capture are the shadow's.

Mirroring is off the request's path: a small pool of threads runs the shadow requests, the
production answer returns without waiting, a shadow's errors are logged and counted, never
answered. When `queue_size` shadow requests are already waiting or running, more are dropped
(never blocking production): each drop is a `ShadowRequestsDropped` sample of the shadow
variant's metrics and a log line.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from werkzeug.datastructures import Headers

from localaws.hosting.models import EndpointConfig, HostingError

log = logging.getLogger("localaws.hosting")

WORKERS = 2
QUEUE_SIZE = 64
DEFAULT_WEIGHT = 1.0  # ProductionVariant.InitialVariantWeight when left out
DROPPED_METRIC = "ShadowRequestsDropped"


def sampling_share(production: dict[str, Any] | None, shadow: dict[str, Any]) -> float:
    """The share of production's requests a shadow gets: its weight over production's."""
    mine = shadow.get("CurrentWeight")
    mine = DEFAULT_WEIGHT if mine is None else float(mine)
    theirs = (production or {}).get("CurrentWeight")
    theirs = DEFAULT_WEIGHT if theirs is None else float(theirs)
    if mine <= 0:
        return 0.0
    return 1.0 if theirs <= 0 else min(1.0, mine / theirs)


class ShadowMirror:
    def __init__(self, hosting: Any, workers: int = WORKERS, queue_size: int = QUEUE_SIZE) -> None:
        self.hosting = hosting
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hosting-shadow")
        self._slots = threading.BoundedSemaphore(queue_size)  # waiting + running
        self._lock = threading.Lock()
        self.mirrored = 0
        self.dropped = 0
        self.failed = 0

    def mirror(
        self,
        endpoint: str,
        described: dict[str, Any],
        config: EndpointConfig,
        body: bytes,
        headers: Any,
    ) -> None:
        """Send the request to each shadow variant whose share it falls in, in the background."""
        shadows = described.get("ShadowProductionVariants") or []
        if not shadows:
            return
        production = (described.get("ProductionVariants") or [None])[0]
        copied: Headers | None = None
        for shadow in shadows:
            variant = shadow["VariantName"]
            model_name = config.shadow_models.get(variant)
            if model_name is None:  # the endpoint's config changed under it; next request reads it
                continue
            if self.hosting.rng.random() >= sampling_share(production, shadow):
                continue
            if not self._slots.acquire(blocking=False):
                self._drop(endpoint, variant)
                continue
            if copied is None:  # the request's headers do not outlive the request
                copied = Headers(list(headers.items()))
            try:
                self._pool.submit(
                    self._run, endpoint, config, variant, model_name, body, copied, shadow
                )
            except RuntimeError:  # shutting down
                self._slots.release()

    def _run(
        self,
        endpoint: str,
        config: EndpointConfig,
        variant: str,
        model_name: str,
        body: bytes,
        headers: Headers,
        live: dict[str, Any],
    ) -> None:
        try:
            self.hosting.invoke_variant(endpoint, config, variant, model_name, body, headers, live)
            with self._lock:
                self.mirrored += 1
        except HostingError as exc:  # already counted in the shadow's metrics when it answered
            with self._lock:
                self.failed += 1
            log.warning("shadow %s/%s: %s %s", endpoint, variant, exc.code, exc)
        except Exception:
            with self._lock:
                self.failed += 1
            log.exception("shadow %s/%s failed", endpoint, variant)
        finally:
            self._slots.release()

    def _drop(self, endpoint: str, variant: str) -> None:
        with self._lock:
            self.dropped += 1
            dropped = self.dropped
        self.hosting.metrics.observe(endpoint, variant, DROPPED_METRIC, 1, "Count")
        if dropped == 1 or dropped % 100 == 0:
            log.warning(
                "shadow %s/%s: the mirror queue is full; request dropped (%d so far)",
                endpoint,
                variant,
                dropped,
            )

    def close(self) -> None:
        """Finish the shadow requests already taken (their captures and metrics are flushed
        after this), take no more."""
        self._pool.shutdown(wait=True)

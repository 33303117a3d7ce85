"""Serverless variants (ProductionVariant.ServerlessConfig) in the local hosting.

A serverless variant runs each request in an execution environment of its own; AWS keeps an
environment warm for a while after its last request and starts a new one (a cold start: the
container starts and loads the model) when none is free. Here, per serverless variant:

- At most MaxConcurrency requests are in flight; one more answers HTTP 429 ThrottlingException,
  as SageMaker's runtime does (the SDKs retry it: it is a throttling error code).
- ProvisionedConcurrency environments are always warm (AWS initialises them with the endpoint);
  the requests beyond them are on-demand ("spillover").
- An on-demand request finds a warm environment if one finished a request less than
  LOCALAWS_SERVERLESS_IDLE_S seconds ago (default 600: AWS documents no figure; environments
  are observed to stay warm for several minutes). Otherwise it is a cold start: the variant's
  model is really loaded again (downloaded from S3 and deserialised; a model served by a
  container engine keeps its container) after LOCALAWS_SERVERLESS_COLD_START_MS milliseconds
  (default 0) standing for the container's start.
- Metrics, as AWS publishes them for serverless variants (AWS/SageMaker, EndpointName and
  VariantName): ModelSetupTime (µs, per cold start), OverheadLatency (µs, per request: the time
  before the model gets the request — admission and any cold start; the model's own time stays
  in ModelLatency), and where ProvisionedConcurrency is set ServerlessProvisionedConcurrency-
  Executions (provisioned environments busy), -Utilization (those / ProvisionedConcurrency),
  -Invocations and -SpilloverInvocations (1 or 0 per request, so their Sum counts).

MaxConcurrency and ProvisionedConcurrency are the endpoint's live values (DescribeEndpoint's
CurrentServerlessConfig, which UpdateEndpointWeightsAndCapacities' ServerlessUpdateConfig and
Application Auto Scaling change), from the DescribeEndpoint each request already makes; the
same for a serverless shadow variant. Instance-based variants pass straight through.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from localaws.hosting.models import HostingError
from localaws.runtime import SettingError

log = logging.getLogger("localaws.hosting")

IDLE_VAR = "LOCALAWS_SERVERLESS_IDLE_S"
DEFAULT_IDLE_S = 600.0
COLD_START_VAR = "LOCALAWS_SERVERLESS_COLD_START_MS"
DEFAULT_COLD_START_MS = 0.0


class ServerlessSettingError(SettingError):
    """A LOCALAWS_SERVERLESS_* setting is not a number of the right sign (names it); the
    emulator reports it as it reports the runtime's settings (exit status 2)."""


def number_setting(name: str, default: float, env: Mapping[str, str], positive: bool) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ServerlessSettingError(f"{name}={raw!r} is not a number") from None
    if value < 0 or (positive and value == 0):
        kind = "> 0" if positive else ">= 0"
        raise ServerlessSettingError(f"{name}={raw!r} must be {kind}")
    return value


@dataclass(frozen=True)
class ServerlessConfig:
    """ProductionVariantServerlessConfig as the API reference defines it: MemorySizeInMB and
    MaxConcurrency required, ProvisionedConcurrency optional (absent: none, all on demand)."""

    memory_mb: int
    max_concurrency: int
    provisioned: int = 0

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> ServerlessConfig:
        return cls(
            memory_mb=int(config["MemorySizeInMB"]),
            max_concurrency=int(config["MaxConcurrency"]),
            provisioned=int(config.get("ProvisionedConcurrency") or 0),
        )


@dataclass
class VariantPool:
    """One serverless variant's execution environments."""

    in_flight: int = 0
    provisioned_busy: int = 0
    warm_since: list[float] = field(default_factory=list)  # idle on-demand envs: when freed
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Admission:
    provisioned: bool  # served by a provisioned environment
    cold: bool  # an on-demand environment has to start
    provisioned_busy: int  # provisioned environments busy, this request included


class ServerlessGate:
    def __init__(self, hosting: Any, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.hosting = hosting
        self.idle_s = number_setting(IDLE_VAR, DEFAULT_IDLE_S, env, positive=True)
        self.cold_start_s = number_setting(COLD_START_VAR, DEFAULT_COLD_START_MS, env, False) / 1e3
        self._pools: dict[tuple[str, str, str], VariantPool] = {}
        self._lock = threading.Lock()

    @contextmanager
    def admit(
        self,
        endpoint: str,
        variant: str,
        described: dict[str, Any] | None,
        live: dict[str, Any],
    ) -> Iterator[None]:
        """Run the request's body in one of the variant's environments (a pass-through for an
        instance-based variant); ThrottlingException when MaxConcurrency are in flight.
        `described` is the variant in its endpoint config, `live` its summary in the request's
        DescribeEndpoint: its CurrentServerlessConfig (what scaling set) rules, the config's
        ServerlessConfig until the endpoint describes one."""
        if not described or not described.get("ServerlessConfig"):
            yield
            return
        entered = time.perf_counter()
        config = ServerlessConfig.of(
            live.get("CurrentServerlessConfig") or described["ServerlessConfig"]
        )
        # A new model (UpdateEndpoint to another config) means new environments.
        pool = self._pool(endpoint, variant, described["ModelName"])
        admission = self._take(pool, config, endpoint, variant)
        started = False  # an environment whose cold start failed is not kept warm
        try:
            if admission.cold:
                self._cold_start(endpoint, variant, described["ModelName"])
            started = True
            self._observe(endpoint, variant, config, admission)
            self.hosting.metrics.observe(
                endpoint,
                variant,
                "OverheadLatency",
                (time.perf_counter() - entered) * 1e6,
                "Microseconds",
            )
            yield
        finally:
            self._release(pool, admission, keep_warm=started)

    # -- environments ---------------------------------------------------------------------------
    def _pool(self, endpoint: str, variant: str, model_name: str) -> VariantPool:
        with self._lock:
            return self._pools.setdefault((endpoint, variant, model_name), VariantPool())

    def _take(
        self, pool: VariantPool, config: ServerlessConfig, endpoint: str, variant: str
    ) -> Admission:
        now = time.monotonic()
        with pool.lock:
            if pool.in_flight >= config.max_concurrency:
                raise HostingError(
                    429,
                    "ThrottlingException",
                    f"Rate exceeded: serverless variant {variant} of endpoint {endpoint} already "
                    f"has MaxConcurrency ({config.max_concurrency}) invocations in flight.",
                )
            pool.in_flight += 1
            if pool.provisioned_busy < config.provisioned:
                pool.provisioned_busy += 1
                return Admission(True, False, pool.provisioned_busy)
            pool.warm_since = [t for t in pool.warm_since if now - t < self.idle_s]
            cold = not pool.warm_since
            if not cold:
                pool.warm_since.pop()  # the most recently used: the warmest
            return Admission(False, cold, pool.provisioned_busy)

    def _release(self, pool: VariantPool, admission: Admission, keep_warm: bool) -> None:
        with pool.lock:
            pool.in_flight -= 1
            if admission.provisioned:
                pool.provisioned_busy -= 1
            elif keep_warm:
                pool.warm_since.append(time.monotonic())

    def _cold_start(self, endpoint: str, variant: str, model_name: str) -> None:
        """A new environment: the container's start (the configured delay), then the model's
        real load; its time is the variant's ModelSetupTime."""
        started = time.perf_counter()
        self.hosting.endpoints.unload(model_name)
        if self.cold_start_s:
            time.sleep(self.cold_start_s)
        self.hosting.endpoints.model(model_name, variant)
        setup_us = (time.perf_counter() - started) * 1e6
        log.info("serverless %s/%s: cold start, %.0f ms", endpoint, variant, setup_us / 1e3)
        self.hosting.metrics.observe(endpoint, variant, "ModelSetupTime", setup_us, "Microseconds")

    # -- live configuration and metrics ------------------------------------------------------------
    def _observe(
        self, endpoint: str, variant: str, config: ServerlessConfig, admission: Admission
    ) -> None:
        if not config.provisioned:
            return
        observe = self.hosting.metrics.observe
        prefix = "ServerlessProvisionedConcurrency"
        observe(endpoint, variant, f"{prefix}Executions", admission.provisioned_busy, "Count")
        observe(
            endpoint,
            variant,
            f"{prefix}Utilization",
            admission.provisioned_busy / config.provisioned,
            "None",
        )
        observe(endpoint, variant, f"{prefix}Invocations", int(admission.provisioned), "Count")
        observe(
            endpoint,
            variant,
            f"{prefix}SpilloverInvocations",
            int(not admission.provisioned),
            "Count",
        )

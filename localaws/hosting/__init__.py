"""Local SageMaker hosting: the runtime API for endpoints defined in the emulator.

`POST /endpoints/{EndpointName}/invocations`, as InvokeEndpoint, so an unmodified boto3
`sagemaker-runtime` client with AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME pointing here works.

Every region is served: a request goes to its region's hosting (the region its client signed
for; `RegionalHosting`), which reads, captures and measures in that region.

Everything is read through the ordinary AWS APIs of the emulator (DescribeEndpoint,
DescribeEndpointConfig, DescribeModel, S3 GetObject), never moto's internals, so the same hosting
serves endpoints of any AWS-compatible emulator:
- each request reads the endpoint's *live* variants and weights (UpdateEndpointWeightsAndCapacities
  takes effect at once), routes by weight or to TargetVariant, and answers with the invoked variant
  in x-Amzn-Invoked-Production-Variant;
- each variant's model (ModelDataUrl, a model.tar.gz in S3) is loaded once with serving's
  inference core, whatever container image the model names;
- data capture is written in SageMaker's JSONL format under
  <DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/, honouring sampling and capture modes,
  buffered and flushed on size, on time and at shutdown;
- per-variant CloudWatch metrics (AWS/SageMaker: Invocations, Invocation4XXErrors,
  Invocation5XXErrors, ModelLatency) are published to the emulator.

Admin: `POST /localaws/flush` writes buffered captures and metrics now; `GET /localaws/health`.
"""

from __future__ import annotations

import json
import logging
import random
import re
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError
from flask import Flask, Response, request

from localaws import containers, sessions
from localaws.hosting.asynchronous import AsyncInvocations
from localaws.hosting.capture import CaptureWriter, capture_record
from localaws.hosting.metrics import MetricsPublisher
from localaws.hosting.models import (
    EndpointConfig,
    Endpoints,
    HostingError,
    StageAnswer,
    StageError,
    choose_variant,
    validation_error,
)
from localaws.hosting.serverless import ServerlessGate
from localaws.hosting.shadow import ShadowMirror

log = logging.getLogger("localaws.hosting")

FLUSH_INTERVAL_S = 1.0
SWEEP_INTERVAL_S = 5.0


class Hosting:
    def __init__(
        self,
        aws_endpoint_url: str,
        region: str = "us-east-1",
        cache_dir: Path | None = None,
        rng: random.Random | None = None,
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        self.region = region
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32)

        def client(name: str) -> Any:
            return sessions.client(
                name,
                region=region,
                endpoint_url=aws_endpoint_url,
                access_key="test",
                secret_key="test",
                config=config,
            )

        self._own_cache = cache_dir is None
        self.cache_dir = cache_dir or Path(tempfile.mkdtemp(prefix="localaws-hosting-"))
        engine = containers.find_engine()
        self.endpoints = Endpoints(
            client("sagemaker"),
            client("s3"),
            self.cache_dir,
            engine=containers.ContainerHost(engine, self.cache_dir / "containers")
            if engine
            else None,
            engine_absent_reason="" if engine else containers.why_not_engine(),
        )
        log.info(
            "container images run %s",
            f"in {engine}" if engine else f"as the inference core ({containers.why_not_engine()})",
        )
        self._seen_endpoints: set[str] = set()
        self.captures = CaptureWriter(client("s3"))
        self.metrics = MetricsPublisher(client("cloudwatch"))
        self.rng = rng or random.Random()
        self.flush_interval_s = flush_interval_s
        # The endpoint kinds beyond real-time instance variants (each in its own module).
        self.serverless = ServerlessGate(self)
        self.shadows = ShadowMirror(self)
        self.async_invocations = AsyncInvocations(self, client)
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="hosting-flush", daemon=True)
        self._flusher.start()

    def _flush_loop(self) -> None:
        last = swept = time.monotonic()
        while not self._stop.is_set():
            self.captures.full.wait(timeout=0.1)
            if self.captures.full.is_set() or time.monotonic() - last >= self.flush_interval_s:
                self.flush()
                last = time.monotonic()
            if self.endpoints.engine is not None and time.monotonic() - swept >= SWEEP_INTERVAL_S:
                self.sweep()
                swept = time.monotonic()

    def sweep(self) -> list[str]:
        """Stop the containers of models that no endpoint serves any more (deleted endpoints,
        replaced configs), as SageMaker stops an endpoint's instances."""
        live: set[str] = set()
        for endpoint in list(self._seen_endpoints):
            try:
                described = self.endpoints.describe(endpoint)
                live.update(self.endpoints.config(described["EndpointConfigName"]).models.values())
            except HostingError:
                self._seen_endpoints.discard(endpoint)
            except ClientError:
                log.exception("sweep: describing %s failed", endpoint)
                return []
        stopped = self.endpoints.retire(live)
        for name in stopped:
            log.info("stopped the containers of model %s (no endpoint serves it)", name)
        return stopped

    def flush(self) -> int:
        written = self.captures.flush()
        self.metrics.flush()
        return written

    def for_headers(self, headers: Any) -> Hosting:
        """The hosting that serves a request with these headers: this one (it has one region)."""
        return self

    def close(self) -> None:
        self._stop.set()
        self._flusher.join(timeout=5)
        self.async_invocations.close()
        self.shadows.close()
        self.flush()
        self.endpoints.close()
        if self._own_cache:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    def invoke(
        self, endpoint: str, body: bytes, headers: Any, queued: bool = False
    ) -> tuple[bytes, dict]:
        """InvokeEndpoint: a production variant by weight (or TargetVariant) answers; shadow
        variants get their share of the same request, and their answers are not returned.
        `queued`: an asynchronous endpoint's request, taken from its queue (only those may reach
        an asynchronous endpoint)."""
        described = self.endpoints.describe(endpoint)
        self._seen_endpoints.add(endpoint)
        config = self.endpoints.config(described["EndpointConfigName"])
        if config.async_config is not None and not queued:
            # AWS answers a ValidationError here; its exact wording is not published.
            raise validation_error(
                f"Endpoint {endpoint} is an asynchronous endpoint (its config "
                f"{described['EndpointConfigName']} has an AsyncInferenceConfig): send requests "
                f"with InvokeEndpointAsync."
            )
        variant = choose_variant(
            described["ProductionVariants"],
            headers.get("X-Amzn-SageMaker-Target-Variant"),
            self.rng,
        )
        live = next(v for v in described["ProductionVariants"] if v["VariantName"] == variant)
        answer = self.invoke_variant(
            endpoint, config, variant, config.models[variant], body, headers, live
        )
        self.shadows.mirror(endpoint, described, config, body, headers)
        return answer.body, {
            "Content-Type": answer.content_type,
            "x-Amzn-Invoked-Production-Variant": variant,
        }

    def invoke_variant(
        self,
        endpoint: str,
        config: EndpointConfig,
        variant: str,
        model_name: str,
        body: bytes,
        headers: Any,
        live: dict[str, Any],
    ) -> StageAnswer:
        """One request to one variant (production or shadow) of an endpoint: the variant's
        admission (serverless concurrency, from `live`, the variant's summary in this request's
        DescribeEndpoint), its model (a multi-model endpoint's TargetModel), its metrics and its
        data capture under its own name."""
        configured = config.variants.get(variant) or config.shadow_variants.get(variant)
        with self.serverless.admit(endpoint, variant, configured, live):
            model = self.endpoints.model(model_name, variant)
            content_type = headers.get("Content-Type")
            started = time.perf_counter()
            try:
                answer = model.invoke(
                    body,
                    content_type,
                    headers.get("Accept"),
                    headers.get("X-Amzn-SageMaker-Target-Container-Hostname"),
                    target_model=headers.get("X-Amzn-SageMaker-Target-Model"),
                    metrics=lambda metric, value, unit: self.metrics.observe(
                        endpoint, variant, metric, value, unit
                    ),
                )
            except StageError as exc:
                self.metrics.record(endpoint, variant, exc.status, None)
                kind = "client" if exc.status < 500 else "server"
                source = (
                    variant if len(model.stages) == 1 else f"{variant} (container {exc.hostname})"
                )
                raise HostingError(
                    424,
                    "ModelError",
                    f'Received {kind} error ({exc.status}) from {source} with message "{exc}". '
                    f"See the local hosting log for more information.",
                    OriginalStatusCode=exc.status,
                    OriginalMessage=str(exc),
                    LogStreamArn=f"arn:aws:logs:{self.region}:123456789012:log-group:"
                    f"/aws/sagemaker/Endpoints/{endpoint}",
                ) from None
            latency_us = (time.perf_counter() - started) * 1e6
        self.metrics.record(endpoint, variant, 200, latency_us)
        capture = config.capture
        if capture and self.rng.random() * 100 < capture.sampling_percentage:
            when = datetime.now(UTC)
            record = capture_record(
                capture,
                body,
                content_type,
                answer.body,
                answer.content_type,
                headers.get("X-Amzn-SageMaker-Inference-Id"),
                when,
            )
            self.captures.add(capture, endpoint, variant, record, when)
        return answer


# SigV4's credential scope: Credential=<access key>/<yyyymmdd>/<region>/<service>/aws4_request.
_SCOPE_REGION = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")


def request_region(headers: Any) -> str | None:
    """The region a SigV4-signed request was signed for; None for an unsigned one."""
    match = _SCOPE_REGION.search(headers.get("Authorization") or "")
    return match.group(1) if match else None


class RegionalHosting:
    """The hosting of every region: each request is served by its region's Hosting (the region
    its client signed for), made on that region's first request, so an endpoint is looked up,
    served, captured and measured in its own region; unsigned requests go to `default_region`."""

    def __init__(self, aws_endpoint_url: str, default_region: str, **options: Any) -> None:
        self.aws_endpoint_url = aws_endpoint_url
        self.default_region = default_region
        self.options = options
        self._hostings: dict[str, Hosting] = {}
        self._lock = threading.Lock()
        self.for_region(default_region)

    def for_region(self, region: str) -> Hosting:
        with self._lock:
            if region not in self._hostings:
                self._hostings[region] = Hosting(
                    self.aws_endpoint_url, region=region, **self.options
                )
            return self._hostings[region]

    def for_headers(self, headers: Any) -> Hosting:
        return self.for_region(request_region(headers) or self.default_region)

    def flush(self) -> int:
        return sum(hosting.flush() for hosting in list(self._hostings.values()))

    def close(self) -> None:
        for hosting in list(self._hostings.values()):
            hosting.close()


def create_app(hosting: Hosting | RegionalHosting) -> Flask:
    app = Flask("localaws.hosting")

    def answer(what: str, endpoint: str, work: Any) -> Response:
        """`work()`'s response; a HostingError as SageMaker's error shape, anything else as
        InternalFailure (logged)."""
        try:
            return work()
        except HostingError as exc:
            return error_response(exc)
        except Exception:
            log.exception("%s of %s failed", what, endpoint)
            return error_response(
                HostingError(500, "InternalFailure", "The local hosting failed; see its log.")
            )

    @app.post("/endpoints/<endpoint>/invocations")
    def invocations(endpoint: str) -> Response:
        def work() -> Response:
            body, headers = hosting.for_headers(request.headers).invoke(
                # werkzeug's Headers: case-insensitive, as HTTP header names are.
                endpoint,
                request.get_data(cache=False),
                request.headers,
            )
            return Response(body, status=200, headers=headers)

        return answer("invocation", endpoint, work)

    # InvokeEndpointAsync (localaws.hosting.asynchronous), by the request's region too.
    @app.post("/endpoints/<endpoint>/async-invocations")
    def async_invocations(endpoint: str) -> Response:
        queue = hosting.for_headers(request.headers).async_invocations
        return answer(
            "async invocation",
            endpoint,
            lambda: queue.accepted(
                queue.submit(endpoint, request.headers, request.get_data(cache=False))
            ),
        )

    @app.post("/localaws/flush")
    def flush() -> Response:
        return Response(
            json.dumps({"captureRecordsWritten": hosting.flush()}), mimetype="application/json"
        )

    @app.get("/localaws/health")
    def health() -> Response:
        return Response('{"status": "ok"}', mimetype="application/json")

    return app


def error_response(exc: HostingError) -> Response:
    body = {"__type": exc.code, "message": str(exc), **exc.fields}
    return Response(
        json.dumps(body),
        status=exc.status,
        mimetype="application/x-amz-json-1.1",
        headers={"x-amzn-ErrorType": exc.code},
    )

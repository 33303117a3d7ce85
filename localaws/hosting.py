"""Local SageMaker hosting: the runtime API for endpoints defined in the emulator.

`POST /endpoints/{EndpointName}/invocations`, as InvokeEndpoint, so an unmodified boto3
`sagemaker-runtime` client with AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME pointing here works.

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

import base64
import fnmatch
import json
import logging
import os
import random
import shutil
import tarfile
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from flask import Flask, Response, request

from localaws import containers
from serving.artifact import unpack
from serving.codecs import InferenceError, media_type
from serving.inference import ConfigurationError, Options, invoke, load_model
from serving.predictor import ArtifactError, Predictor

log = logging.getLogger("localaws.hosting")

FLUSH_INTERVAL_S = 1.0
MAX_BUFFERED_RECORDS = 1000
METRICS_NAMESPACE = "AWS/SageMaker"
DEFAULT_PICKLE_LOCATIONS = "s3://*/models/*"
SWEEP_INTERVAL_S = 5.0


class HostingError(Exception):
    """An InvokeEndpoint error as AWS answers it: HTTP status, error code, message, extra fields."""

    def __init__(self, status: int, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = fields


def validation_error(message: str) -> HostingError:
    return HostingError(400, "ValidationError", message)


# ---------------------------------------------------------------------------------------------
# Endpoint state, read from the emulator
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaptureSettings:
    destination: str
    sampling_percentage: float
    capture_input: bool
    capture_output: bool
    csv_types: frozenset[str]
    json_types: frozenset[str]
    kms_key_id: str | None

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> CaptureSettings | None:
        if not config or not config.get("EnableCapture"):
            return None
        modes = {o["CaptureMode"] for o in config.get("CaptureOptions", [])}
        header = config.get("CaptureContentTypeHeader") or {}
        return cls(
            destination=config["DestinationS3Uri"].rstrip("/"),
            sampling_percentage=float(config.get("InitialSamplingPercentage", 100)),
            capture_input="Input" in modes,
            capture_output="Output" in modes,
            csv_types=frozenset(media_type(t) for t in header.get("CsvContentTypes", [])),
            json_types=frozenset(media_type(t) for t in header.get("JsonContentTypes", [])),
            kms_key_id=config.get("KmsKeyId"),
        )

    def encoding(self, content_type: str | None) -> str:
        kind = media_type(content_type)
        if kind in self.csv_types:
            return "CSV"
        if kind in self.json_types:
            return "JSON"
        return "BASE64"


@dataclass(frozen=True)
class EndpointConfig:
    models: dict[str, str]  # variant name → model name
    capture: CaptureSettings | None


@dataclass
class Stage:
    """One container of a SageMaker model: served in-process by the inference core, or (with a
    container engine, LOCALAWS_CONTAINERS=engine) by the container's own image."""

    hostname: str
    image: str
    mode: str  # "core" | "engine"
    predictor: Predictor | None = None
    options: Options = field(default_factory=Options)
    running: Any = None  # localaws.containers.Running
    container_name: str = ""

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> StageAnswer:
        if self.running is not None:
            status, answer, answer_type = self.running.invoke(body, content_type, accept)
            if status >= 400:
                message = answer.decode("utf-8", "replace").strip()[:500]
                raise StageError(self.hostname, status, message or f"HTTP {status}")
            return StageAnswer(answer, answer_type or "", status)
        assert self.predictor is not None
        try:
            result = invoke(self.predictor, body, content_type, accept, self.options)
        except InferenceError as exc:
            raise StageError(self.hostname, exc.status, str(exc)) from None
        return StageAnswer(result.body, result.content_type, result.status)


@dataclass(frozen=True)
class StageAnswer:
    body: bytes
    content_type: str
    status: int


class StageError(Exception):
    def __init__(self, hostname: str, status: int, message: str) -> None:
        super().__init__(message)
        self.hostname = hostname
        self.status = status


@dataclass
class ServedModel:
    """A SageMaker model as the hosting runs it: its containers, in order (Serial), or the one
    named by TargetContainerHostname (Direct)."""

    name: str
    stages: list[Stage]
    mode: str = "Serial"

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None, target: str | None
    ) -> StageAnswer:
        if self.mode == "Direct":
            return self._direct(target).invoke(body, content_type, accept)
        if target:
            raise validation_error(
                "TargetContainerHostname is only for models whose InferenceExecutionConfig "
                f"Mode is Direct; model {self.name} runs its containers in series."
            )
        answer = StageAnswer(body, content_type or "", 200)
        last = len(self.stages) - 1
        for index, stage in enumerate(self.stages):
            # SageMaker's serial inference pipeline: each container's answer is the next one's
            # request, with its Content-Type; the client's Accept goes to the last container
            # (the others answer in their SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT).
            answer = stage.invoke(
                answer.body, answer.content_type or None, accept if index == last else None
            )
            if answer.status == 204 and index < last:
                break
        return answer

    def _direct(self, target: str | None) -> Stage:
        names = [s.hostname for s in self.stages]
        if not target:
            raise validation_error(
                f"Model {self.name} runs its containers in Direct mode: name one with "
                f"TargetContainerHostname ({', '.join(names)})."
            )
        for stage in self.stages:
            if stage.hostname == target:
                return stage
        raise validation_error(
            f"Container {target} is not one of model {self.name}'s ({', '.join(names)})."
        )

    @property
    def running(self) -> list[Any]:
        return [s.running for s in self.stages if s.running is not None]


def pickle_locations(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Where the hosting may unpickle artifacts from (glob patterns of ModelDataUrl): the
    platform's model location, models/ in any bucket, unless LOCALAWS_PICKLE_LOCATIONS says."""
    env = os.environ if env is None else env
    value = env.get("LOCALAWS_PICKLE_LOCATIONS", DEFAULT_PICKLE_LOCATIONS)
    return tuple(p.strip() for p in value.split(",") if p.strip())


class Endpoints:
    """Endpoint → config → variants → models → loaded model, read through the AWS APIs."""

    def __init__(
        self,
        sagemaker: Any,
        s3: Any,
        cache_dir: Path,
        engine: Any = None,
        engine_absent_reason: str = "",
    ) -> None:
        self.sagemaker = sagemaker
        self.s3 = s3
        self.cache_dir = cache_dir
        self.engine = engine  # a localaws.containers.ContainerHost, or None
        self.engine_absent_reason = engine_absent_reason
        self.pickle_locations = pickle_locations()
        self._configs: dict[str, EndpointConfig] = {}
        self._models: dict[str, ServedModel] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def describe(self, endpoint: str) -> dict[str, Any]:
        try:
            described = self.sagemaker.describe_endpoint(EndpointName=endpoint)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ValidationException", "ValidationError"):
                raise validation_error(f"Endpoint {endpoint} not found.") from None
            raise
        if described.get("EndpointStatus") not in ("InService", "Updating"):
            status = described.get("EndpointStatus")
            raise validation_error(f"Endpoint {endpoint} is in status {status}, not InService.")
        return described

    def config(self, name: str) -> EndpointConfig:
        # Endpoint configs are immutable: cache by name. A new config name (UpdateEndpoint) is a
        # cache miss, which is how a changed endpoint gets its new models.
        with self._lock:
            cached = self._configs.get(name)
        if cached is not None:
            return cached
        described = self.sagemaker.describe_endpoint_config(EndpointConfigName=name)
        config = EndpointConfig(
            models={v["VariantName"]: v["ModelName"] for v in described["ProductionVariants"]},
            capture=CaptureSettings.from_config(described.get("DataCaptureConfig")),
        )
        with self._lock:
            self._configs[name] = config
        return config

    def model(self, model_name: str, variant: str = "") -> ServedModel:
        # SageMaker models are immutable: a model name always means the same containers.
        with self._loading[model_name]:
            with self._lock:
                cached = self._models.get(model_name)
            if cached is not None:
                return cached
            described = self.sagemaker.describe_model(ModelName=model_name)
            containers = described.get("Containers") or [described.get("PrimaryContainer") or {}]
            mode = (described.get("InferenceExecutionConfig") or {}).get("Mode", "Serial")
            stages = []
            try:
                for index, container in enumerate(containers):
                    stages.append(self._stage(model_name, index, container))
            except HostingError:
                for stage in stages:
                    self._stop(stage)
                raise
            loaded = ServedModel(model_name, stages, mode)
            for stage in stages:
                log.info(
                    "variant %s: model %s container %s (%s) runs %s",
                    variant or "?",
                    model_name,
                    stage.hostname,
                    stage.image or "no image",
                    self._mode_text(stage),
                )
            with self._lock:
                self._models[model_name] = loaded
            return loaded

    def _mode_text(self, stage: Stage) -> str:
        if stage.mode == "engine":
            return "its image in the container engine"
        signature = stage.predictor.signature if stage.predictor else None
        what = f"{signature.framework} {signature.objective}" if signature else "?"
        reason = f"; no engine: {self.engine_absent_reason}" if self.engine_absent_reason else ""
        return f"in the inference core ({what}){reason}"

    def _stage(self, model_name: str, index: int, container: dict[str, Any]) -> Stage:
        hostname = container.get("ContainerHostname") or f"container-{index + 1}"
        image = container.get("Image") or ""
        environment = dict(container.get("Environment") or {})
        url = container.get("ModelDataUrl") or ""
        where = f"model {model_name}, container {hostname}"
        target = self._download(where, url) if url else None
        if self.engine is not None and image:
            try:
                running = self.engine.start(f"{model_name}-{hostname}", image, target, environment)
            except Exception as exc:  # the engine's message: the image failed to start
                raise HostingError(
                    424,
                    "ModelError",
                    f"{where}: image {image} did not start: {exc}",
                    OriginalStatusCode=500,
                ) from None
            return Stage(
                hostname,
                image,
                "engine",
                running=running,
                container_name=f"{model_name}-{hostname}",
            )
        if target is None:
            raise HostingError(
                424,
                "ModelError",
                f"{where} has no ModelDataUrl: without a container engine the inference core "
                "serves a container from its model artifact",
                OriginalStatusCode=500,
            )
        try:
            options = Options.from_env(environment)
            allow_pickle = any(fnmatch.fnmatchcase(url, p) for p in self.pickle_locations)
            predictor = load_model(target, threads=1, allow_pickle=allow_pickle)
        except (ArtifactError, ConfigurationError, OSError) as exc:
            hint = ""
            if "unpickling" in str(exc):
                hint = (
                    f" (pickle locations: {', '.join(self.pickle_locations) or 'none'}; "
                    "set LOCALAWS_PICKLE_LOCATIONS)"
                )
            raise HostingError(
                424,
                "ModelError",
                f"{where} could not be loaded from {url}: {exc}{hint}",
                OriginalStatusCode=500,
            ) from None
        log.info("loaded %s from %s", where, url)
        return Stage(hostname, image, "core", predictor=predictor, options=options)

    def _download(self, where: str, url: str) -> Path:
        if not url.startswith("s3://") or not url.endswith(".tar.gz"):
            raise HostingError(
                424,
                "ModelError",
                f"{where}: ModelDataUrl {url} is not an s3://…tar.gz",
                OriginalStatusCode=500,
            )
        bucket, _, key = url.removeprefix("s3://").partition("/")
        target = Path(tempfile.mkdtemp(prefix="model-", dir=self.cache_dir))
        try:
            tarball = target / "model.tar.gz"
            self.s3.download_file(bucket, key, str(tarball))
            unpack(tarball, target)
            tarball.unlink()
        except (ClientError, OSError, ValueError, tarfile.TarError) as exc:
            raise HostingError(
                424,
                "ModelError",
                f"{where} could not be loaded from {url}: {exc}",
                OriginalStatusCode=500,
            ) from None
        return target

    def _stop(self, stage: Stage) -> None:
        if stage.running is not None and self.engine is not None:
            self.engine.stop(stage.container_name)

    def retire(self, live_models: set[str]) -> list[str]:
        """Stop the containers of loaded models no live endpoint uses; returns their names."""
        with self._lock:
            gone = [n for n, m in self._models.items() if n not in live_models and m.running]
            retired = [self._models.pop(n) for n in gone]
        for model in retired:
            for stage in model.stages:
                self._stop(stage)
        return gone

    def close(self) -> None:
        if self.engine is not None:
            self.engine.stop_all()


def choose_variant(live: list[dict[str, Any]], target: str | None, rng: random.Random) -> str:
    names = [v["VariantName"] for v in live]
    if target:
        if target not in names:
            raise validation_error(
                f"The variant(s) [{target}] do not exist in the endpoint (variants: "
                f"{', '.join(names)})."
            )
        return target
    weights = [float(v.get("CurrentWeight") or 0.0) for v in live]
    if not any(w > 0 for w in weights):
        raise validation_error(
            "No production variant of the endpoint has a traffic weight above 0."
        )
    return rng.choices(names, weights=weights)[0]


# ---------------------------------------------------------------------------------------------
# Data capture
# ---------------------------------------------------------------------------------------------
class CaptureWriter:
    """Buffers capture records per (destination, endpoint, variant, hour); writes JSONL to S3."""

    def __init__(self, s3: Any, max_records: int = MAX_BUFFERED_RECORDS) -> None:
        self.s3 = s3
        self.max_records = max_records
        self._buffers: dict[tuple[str, str, str, str, str | None], list[str]] = defaultdict(list)
        self._lock = threading.Lock()
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
        with self._lock:
            pending, self._buffers = self._buffers, defaultdict(list)
            self.full.clear()
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


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------
@dataclass
class VariantStats:
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latencies_us: list[float] = field(default_factory=list)


class MetricsPublisher:
    """Per-variant invocation metrics, aggregated and published to CloudWatch on flush."""

    def __init__(self, cloudwatch: Any) -> None:
        self.cloudwatch = cloudwatch
        self._stats: dict[tuple[str, str], VariantStats] = defaultdict(VariantStats)
        self._lock = threading.Lock()

    def record(self, endpoint: str, variant: str, status: int, latency_us: float | None) -> None:
        with self._lock:
            stats = self._stats[(endpoint, variant)]
            stats.invocations += 1
            if 400 <= status < 500:
                stats.errors_4xx += 1
            elif status >= 500:
                stats.errors_5xx += 1
            if latency_us is not None:
                stats.latencies_us.append(latency_us)

    def flush(self) -> None:
        with self._lock:
            pending, self._stats = self._stats, defaultdict(VariantStats)
        now = datetime.now(UTC)
        for (endpoint, variant), stats in pending.items():
            dimensions = [
                {"Name": "EndpointName", "Value": endpoint},
                {"Name": "VariantName", "Value": variant},
            ]
            data = [
                {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Timestamp": now,
                    "Value": float(value),
                    "Unit": "Count",
                }
                for name, value in (
                    ("Invocations", stats.invocations),
                    ("Invocation4XXErrors", stats.errors_4xx),
                    ("Invocation5XXErrors", stats.errors_5xx),
                )
            ]
            if stats.latencies_us:
                data.append(
                    {
                        "MetricName": "ModelLatency",
                        "Dimensions": dimensions,
                        "Timestamp": now,
                        "Unit": "Microseconds",
                        "StatisticValues": {
                            "SampleCount": float(len(stats.latencies_us)),
                            "Sum": float(sum(stats.latencies_us)),
                            "Minimum": float(min(stats.latencies_us)),
                            "Maximum": float(max(stats.latencies_us)),
                        },
                    }
                )
            try:
                self.cloudwatch.put_metric_data(Namespace=METRICS_NAMESPACE, MetricData=data)
            except ClientError:
                log.exception("publishing metrics for %s/%s failed", endpoint, variant)


# ---------------------------------------------------------------------------------------------
# The runtime API
# ---------------------------------------------------------------------------------------------
class Hosting:
    def __init__(
        self,
        aws_endpoint_url: str,
        region: str = "us-east-1",
        cache_dir: Path | None = None,
        rng: random.Random | None = None,
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=region
        )
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32)

        def client(name: str) -> Any:
            return session.client(name, endpoint_url=aws_endpoint_url, config=config)

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

    def close(self) -> None:
        self._stop.set()
        self._flusher.join(timeout=5)
        self.flush()
        self.endpoints.close()
        if self._own_cache:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    def invoke(self, endpoint: str, body: bytes, headers: Any) -> tuple[bytes, dict]:
        described = self.endpoints.describe(endpoint)
        self._seen_endpoints.add(endpoint)
        config = self.endpoints.config(described["EndpointConfigName"])
        variant = choose_variant(
            described["ProductionVariants"],
            headers.get("X-Amzn-SageMaker-Target-Variant"),
            self.rng,
        )
        model = self.endpoints.model(config.models[variant], variant)
        content_type = headers.get("Content-Type")
        started = time.perf_counter()
        try:
            answer = model.invoke(
                body,
                content_type,
                headers.get("Accept"),
                headers.get("X-Amzn-SageMaker-Target-Container-Hostname"),
            )
        except StageError as exc:
            self.metrics.record(endpoint, variant, exc.status, None)
            kind = "client" if exc.status < 500 else "server"
            source = variant if len(model.stages) == 1 else f"{variant} (container {exc.hostname})"
            raise HostingError(
                424,
                "ModelError",
                f'Received {kind} error ({exc.status}) from {source} with message "{exc}". '
                f"See the local hosting log for more information.",
                OriginalStatusCode=exc.status,
                OriginalMessage=str(exc),
                LogStreamArn=f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/"
                f"Endpoints/{endpoint}",
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
        return answer.body, {
            "Content-Type": answer.content_type,
            "x-Amzn-Invoked-Production-Variant": variant,
        }


def create_app(hosting: Hosting) -> Flask:
    app = Flask("localaws.hosting")

    @app.post("/endpoints/<endpoint>/invocations")
    def invocations(endpoint: str) -> Response:
        try:
            body, headers = hosting.invoke(
                # werkzeug's Headers: case-insensitive, as HTTP header names are.
                endpoint,
                request.get_data(cache=False),
                request.headers,
            )
        except HostingError as exc:
            return error_response(exc)
        except Exception:
            log.exception("invocation of %s failed", endpoint)
            return error_response(
                HostingError(500, "InternalFailure", "The local hosting failed; see its log.")
            )
        return Response(body, status=200, headers=headers)

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

"""The hosting's view of endpoints: endpoint → config → variants → models → loaded model, read
through the emulator's AWS APIs (never moto's internals), and the errors InvokeEndpoint answers."""

from __future__ import annotations

import fnmatch
import logging
import os
import random
import shutil
import tarfile
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from serving.artifact import unpack
from serving.codecs import InferenceError, media_type
from serving.inference import ConfigurationError, Options, invoke, load_model
from serving.predictor import ArtifactError, Predictor

log = logging.getLogger("localaws.hosting")

# Where a model reports a metric of its variant: (metric name, value, CloudWatch unit).
MetricSink = Callable[[str, float, str], None]

DEFAULT_PICKLE_LOCATIONS = "s3://*/models/*"


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
    models: dict[str, str]  # production variant name → model name
    capture: CaptureSettings | None
    # Every field of DescribeEndpointConfig the kinds read, as described (AWS's defaults apply
    # where a field is left out): production variants by name (ServerlessConfig, …), shadow
    # variants by name (ShadowProductionVariants), AsyncInferenceConfig (None: real-time).
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    shadow_variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    async_config: dict[str, Any] | None = None

    @property
    def shadow_models(self) -> dict[str, str]:
        """Shadow variant name → model name."""
        return {name: v["ModelName"] for name, v in self.shadow_variants.items()}


@dataclass
class Stage:
    """One container of a SageMaker model: served in-process by the inference core, or (with a
    container engine, LOCALAWS_CONTAINERS=engine) by the container's own image; a MultiModel
    container serves the models under its prefix (localaws.hosting.multimodel)."""

    hostname: str
    image: str
    mode: str  # "core" | "engine" | "multimodel"
    predictor: Predictor | None = None
    options: Options = field(default_factory=Options)
    running: Any = None  # localaws.containers.Running
    container_name: str = ""
    directory: Path | None = None  # the unpacked artifact the inference core loaded
    multimodel: Any = None  # localaws.hosting.multimodel.MultiModelContainer

    def invoke(
        self,
        body: bytes,
        content_type: str | None,
        accept: str | None,
        target_model: str | None = None,
        metrics: MetricSink | None = None,
    ) -> StageAnswer:
        if self.running is not None:
            status, answer, answer_type = self.running.invoke(body, content_type, accept)
            if status >= 400:
                message = answer.decode("utf-8", "replace").strip()[:500]
                raise StageError(self.hostname, status, message or f"HTTP {status}")
            return StageAnswer(answer, answer_type or "", status)
        if self.multimodel is not None:
            return self.multimodel.invoke(
                body, content_type, accept, target_model, metrics or (lambda *_: None)
            )
        assert self.predictor is not None
        try:
            result = invoke(self.predictor, body, content_type, accept, self.options)
        except InferenceError as exc:
            raise StageError(self.hostname, exc.status, str(exc)) from None
        except Exception:  # the model itself failed: a 500, as the serving container answers it
            log.exception("%s: the model failed while predicting", self.hostname)
            raise StageError(self.hostname, 500, "internal error while predicting") from None
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
        self,
        body: bytes,
        content_type: str | None,
        accept: str | None,
        target: str | None,
        target_model: str | None = None,
        metrics: MetricSink | None = None,
    ) -> StageAnswer:
        """The model's answer; target is TargetContainerHostname, target_model a multi-model
        endpoint's TargetModel; metrics receives (name, value, unit) of the variant's own
        metrics (ModelLoadingWaitTime, ModelCacheHit, …)."""
        if target_model is not None and not any(s.multimodel for s in self.stages):
            raise validation_error(
                f"Endpoint serving model {self.name} is not a multi-model endpoint and does not "
                "support target model header."
            )
        if self.mode == "Direct":
            return self._direct(target).invoke(body, content_type, accept, target_model, metrics)
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
                answer.body,
                answer.content_type or None,
                accept if index == last else None,
                target_model,
                metrics,
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


class LoadError(Exception):
    """The inference core could not load an unpacked artifact (the message says why)."""


def load_predictor(directory: Path, url: str, locations: tuple[str, ...]) -> Predictor:
    """The inference core's model from the artifact of ModelDataUrl `url` unpacked in
    `directory`, unpickling only when `url` matches one of the pickle `locations`; a LoadError
    with the loader's reason (and, for a refused pickle, where pickles may come from)."""
    allow_pickle = any(fnmatch.fnmatchcase(url, p) for p in locations)
    try:
        return load_model(directory, threads=1, allow_pickle=allow_pickle)
    except (ArtifactError, ConfigurationError, OSError) as exc:
        hint = ""
        if "unpickling" in str(exc):
            hint = (
                f" (pickle locations: {', '.join(locations) or 'none'}; "
                "set LOCALAWS_PICKLE_LOCATIONS)"
            )
        raise LoadError(f"{exc}{hint}") from None


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
        # Imported here: multimodel builds on this module's errors and answers.
        from localaws.hosting import multimodel

        self.multimodel = multimodel
        self.mme_budget_bytes = multimodel.memory_budget()

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
            variants={v["VariantName"]: v for v in described["ProductionVariants"]},
            shadow_variants={
                v["VariantName"]: v for v in described.get("ShadowProductionVariants") or []
            },
            async_config=described.get("AsyncInferenceConfig") or None,
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
        if stage.multimodel is not None:
            return f"in the inference core as a multi-model container of {stage.multimodel.prefix}"
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
        if container.get("Mode") == "MultiModel":
            return self._multimodel_stage(where, hostname, image, url, container, environment)
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
            predictor = load_predictor(target, url, self.pickle_locations)
        except (ConfigurationError, LoadError) as exc:
            raise HostingError(
                424,
                "ModelError",
                f"{where} could not be loaded from {url}: {exc}",
                OriginalStatusCode=500,
            ) from None
        log.info("loaded %s from %s", where, url)
        return Stage(
            hostname, image, "core", predictor=predictor, options=options, directory=target
        )

    def _multimodel_stage(
        self,
        where: str,
        hostname: str,
        image: str,
        url: str,
        container: dict[str, Any],
        environment: dict[str, str],
    ) -> Stage:
        if self.engine is not None and image:
            raise HostingError(
                424,
                "ModelError",
                f"{where}: multi-model containers (Mode MultiModel) are not supported with a "
                "container engine (LOCALAWS_CONTAINERS=engine); without it the inference core "
                "serves them",
                OriginalStatusCode=500,
            )
        try:
            options = Options.from_env(environment)
        except ConfigurationError as exc:
            raise HostingError(
                424, "ModelError", f"{where}: {exc}", OriginalStatusCode=500
            ) from None
        cache = (container.get("MultiModelConfig") or {}).get("ModelCacheSetting", "Enabled")
        return Stage(
            hostname,
            image,
            "multimodel",
            options=options,
            multimodel=self.multimodel.MultiModelContainer(
                where=where,
                hostname=hostname,
                prefix=url,
                s3=self.s3,
                cache_dir=self.cache_dir,
                pickle_locations=self.pickle_locations,
                options=options,
                budget_bytes=self.mme_budget_bytes,
                caching=cache != "Disabled",
            ),
        )

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

    def unload(self, model_name: str) -> bool:
        """Forget a model served by the inference core and delete its unpacked artifacts, so the
        next request loads it anew (a serverless cold start); a model whose containers run in an
        engine stays (stopping them is the sweep's job). True if it was unloaded."""
        with self._lock:
            loaded = self._models.get(model_name)
            if loaded is None or loaded.running:
                return False
            del self._models[model_name]
        for stage in loaded.stages:
            if stage.directory is not None:
                shutil.rmtree(stage.directory, ignore_errors=True)
            if stage.multimodel is not None:
                stage.multimodel.clear()
        return True

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

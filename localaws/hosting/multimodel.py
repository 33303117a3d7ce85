"""Multi-model endpoints (a model container whose Mode is MultiModel) in the local hosting.

The container's ModelDataUrl is an S3 prefix; a request names its model with TargetModel
(X-Amzn-SageMaker-Target-Model), the path of a model.tar.gz relative to the prefix
(`<ModelDataUrl>/<TargetModel>`; a "/" is put between them unless the prefix ends with one).
As SageMaker does, per container:

- A model is downloaded and loaded on its first request, with the inference core and the same
  rules as a single-model container (its Environment; unpickling only from
  LOCALAWS_PICKLE_LOCATIONS, matched against the target's full S3 URL). Concurrent first
  requests for one model wait for one load.
- Loaded models stay in memory, least recently used evicted first when the next one would not
  fit LOCALAWS_MME_MEMORY_MB (default 1024, per container; AWS bounds the cache by the
  instance's memory). A model's size is its unpacked artifact's bytes on disk (deterministic,
  unlike an RSS delta; for the tree and linear models served here the in-memory size is of the
  same order). The most recently loaded model stays even when it alone exceeds the budget.
  MultiModelConfig.ModelCacheSetting = Disabled unloads a model after each request.
- A request waits at most 60 s for its model (SageMaker answers InvokeEndpoint within 60 s);
  beyond that it answers 429 ModelNotReadyException and the load goes on.
- Errors as SageMaker answers them: no TargetModel → ValidationError; a TargetModel outside the
  API's constraints (1-1024 printable characters, not starting with a space) → ValidationError;
  no object at the target's URL → ValidationError "Failed to download model data(bucket: …,
  key: …)"; an object that does not load → ModelError (the container's 500).
- Metrics as AWS publishes them for CPU multi-model endpoints (AWS/SageMaker, EndpointName and
  VariantName): ModelCacheHit (1 or 0 per request, unit None: its Average is the hit ratio),
  ModelLoadingWaitTime (µs a request waited for its model to be downloaded and loaded),
  ModelDownloadingTime (µs of the S3 download and unpacking), ModelLoadingTime (µs of
  deserialising it), ModelUnloadingTime (µs per eviction), LoadedModelCount (models loaded,
  per request, unit None).

With a container engine (LOCALAWS_CONTAINERS=engine) multi-model containers are not supported:
loading the model fails saying so.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localaws.hosting.models import (
    HostingError,
    LoadError,
    MetricSink,
    StageAnswer,
    StageError,
    load_predictor,
    validation_error,
)
from localaws.runtime import SettingError
from serving.artifact import unpack
from serving.codecs import InferenceError
from serving.inference import Options, invoke
from serving.predictor import Predictor

log = logging.getLogger("localaws.hosting")

MEMORY_VAR = "LOCALAWS_MME_MEMORY_MB"
DEFAULT_MEMORY_MB = 1024.0
INVOKE_WAIT_S = 60.0  # SageMaker answers InvokeEndpoint within 60 s (ModelNotReadyException)
TARGET_MODEL_MAX = 1024  # TargetModelHeader: min 1, max 1024, pattern \A\S[\p{Print}]*\z


class MultiModelSettingError(SettingError):
    """LOCALAWS_MME_MEMORY_MB is not a positive number (names it); the emulator exits 2."""


def memory_budget(env: Mapping[str, str] | None = None) -> int:
    """Bytes of models each multi-model container keeps loaded (LOCALAWS_MME_MEMORY_MB)."""
    env = os.environ if env is None else env
    raw = env.get(MEMORY_VAR, "").strip()
    if not raw:
        return int(DEFAULT_MEMORY_MB * 1024 * 1024)
    try:
        megabytes = float(raw)
    except ValueError:
        raise MultiModelSettingError(f"{MEMORY_VAR}={raw!r} is not a number of MB") from None
    if not megabytes > 0:
        raise MultiModelSettingError(f"{MEMORY_VAR}={raw!r} must be > 0 (MB)")
    return max(1, int(megabytes * 1024 * 1024))


def check_target_model(value: str | None, where: str) -> str:
    """TargetModel as the API defines it, or the ValidationError SageMaker answers."""
    if value is None:
        raise validation_error(
            f"The request is missing a target model header: {where} is a multi-model container; "
            "name the model (its path under the container's ModelDataUrl, e.g. model-a.tar.gz) "
            "with TargetModel (X-Amzn-SageMaker-Target-Model)."
        )
    if not 1 <= len(value) <= TARGET_MODEL_MAX:
        bound = (
            "greater than or equal to 1"
            if not value
            else f"less than or equal to {TARGET_MODEL_MAX}"
        )
        raise validation_error(
            f"1 validation error detected: Value '{value[:100]}' at 'targetModel' failed to "
            f"satisfy constraint: Member must have length {bound}"
        )
    if value[0].isspace() or not value.isprintable():
        raise validation_error(
            f"1 validation error detected: Value {value!r} at 'targetModel' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: \A\S[\p{Print}]*\z"
        )
    return value


@dataclass
class LoadedModel:
    target: str
    predictor: Predictor
    directory: Path
    size: int  # unpacked artifact bytes


@dataclass
class Loading:
    """One model being loaded; every request for it waits on `done`."""

    done: threading.Event = field(default_factory=threading.Event)
    model: LoadedModel | None = None
    error: Exception | None = None


class MultiModelContainer:
    """A MultiModel container: its models under one S3 prefix, loaded on use, LRU-cached."""

    def __init__(
        self,
        *,
        where: str,
        hostname: str,
        prefix: str,
        s3: Any,
        cache_dir: Path,
        pickle_locations: Sequence[str],
        options: Options,
        budget_bytes: int,
        caching: bool = True,
        wait_s: float = INVOKE_WAIT_S,
    ) -> None:
        if not prefix.startswith("s3://") or not prefix.removeprefix("s3://").split("/")[0]:
            raise HostingError(
                424,
                "ModelError",
                f"{where}: ModelDataUrl {prefix!r} is not an s3://BUCKET/PREFIX of models",
                OriginalStatusCode=500,
            )
        self.where = where
        self.hostname = hostname
        self.prefix = prefix
        self.s3 = s3
        self.cache_dir = cache_dir
        self.pickle_locations = tuple(pickle_locations)
        self.options = options
        self.budget_bytes = budget_bytes
        self.caching = caching
        self.wait_s = wait_s
        self._loaded: OrderedDict[str, LoadedModel] = OrderedDict()  # least recent first
        self._loading: dict[str, Loading] = {}
        self._lock = threading.Lock()

    def url(self, target: str) -> str:
        return self.prefix + target if self.prefix.endswith("/") else f"{self.prefix}/{target}"

    @property
    def loaded(self) -> list[str]:
        """The loaded models' TargetModel names, least recently used first."""
        with self._lock:
            return list(self._loaded)

    def invoke(
        self,
        body: bytes,
        content_type: str | None,
        accept: str | None,
        target_model: str | None,
        metrics: MetricSink,
    ) -> StageAnswer:
        arrived = time.perf_counter()
        model, hit = self._acquire(check_target_model(target_model, self.where), metrics)
        metrics("ModelCacheHit", 1.0 if hit else 0.0, "None")
        if not hit:
            metrics("ModelLoadingWaitTime", (time.perf_counter() - arrived) * 1e6, "Microseconds")
        try:
            result = invoke(model.predictor, body, content_type, accept, self.options)
        except InferenceError as exc:
            raise StageError(self.hostname, exc.status, str(exc)) from None
        finally:
            if not self.caching:
                self._unload(model, metrics)
            with self._lock:
                count = len(self._loaded)
            metrics("LoadedModelCount", float(count), "None")
        return StageAnswer(result.body, result.content_type, result.status)

    def _acquire(self, target: str, metrics: MetricSink) -> tuple[LoadedModel, bool]:
        with self._lock:
            model = self._loaded.get(target)
            if model is not None:
                self._loaded.move_to_end(target)
                return model, True
            loading = self._loading.get(target)
            if loading is None:
                loading = self._loading[target] = Loading()
                threading.Thread(
                    target=self._load,
                    args=(target, loading, metrics),
                    name=f"mme-load-{target}"[:60],
                    daemon=True,
                ).start()
        if not loading.done.wait(self.wait_s):
            raise HostingError(
                429,
                "ModelNotReadyException",
                f"Model {target} is still being downloaded or loaded (more than {self.wait_s:g} s "
                "so far); the load goes on: retry the request.",
            )
        if loading.error is not None:
            raise loading.error
        assert loading.model is not None
        return loading.model, False

    def _load(self, target: str, loading: Loading, metrics: MetricSink) -> None:
        try:
            loading.model = self._fetch_and_load(target, metrics)
        except Exception as exc:  # every waiter must get an answer, whatever failed
            if not isinstance(exc, HostingError | StageError):
                log.exception("%s: loading %s failed", self.where, target)
                exc = StageError(self.hostname, 500, f"loading {target} failed: {exc}")
            loading.error = exc
            with self._lock:
                self._loading.pop(target, None)
        loading.done.set()

    def _fetch_and_load(self, target: str, metrics: MetricSink) -> LoadedModel:
        url = self.url(target)
        bucket, _, key = url.removeprefix("s3://").partition("/")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="mme-", dir=self.cache_dir))
        try:
            started = time.perf_counter()
            tarball = directory / "model.tar.gz"
            try:
                self.s3.download_file(bucket, key, str(tarball))
            except ClientError:
                raise validation_error(
                    f"Failed to download model data(bucket: {bucket}, key: {key}). Please "
                    "ensure that there is an object located at the URL and that the role passed "
                    "to CreateModel has permissions to download the model."
                ) from None
            try:
                unpack(tarball, directory)
                tarball.unlink()
            except (OSError, ValueError, tarfile.TarError) as exc:
                raise StageError(
                    self.hostname, 500, f"model {target} ({url}) is not a model.tar.gz: {exc}"
                ) from None
            downloaded = time.perf_counter()
            try:
                predictor = load_predictor(directory, url, self.pickle_locations)
            except LoadError as exc:
                raise StageError(
                    self.hostname, 500, f"model {target} could not be loaded from {url}: {exc}"
                ) from None
            loaded = time.perf_counter()
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        metrics("ModelDownloadingTime", (downloaded - started) * 1e6, "Microseconds")
        metrics("ModelLoadingTime", (loaded - downloaded) * 1e6, "Microseconds")
        size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
        model = LoadedModel(target, predictor, directory, size)
        with self._lock:
            evicted = []
            held = sum(m.size for m in self._loaded.values())
            while self._loaded and held + size > self.budget_bytes:
                _, oldest = self._loaded.popitem(last=False)
                held -= oldest.size
                evicted.append(oldest)
            self._loaded[target] = model
            self._loading.pop(target, None)
        for old in evicted:
            self._delete(old, metrics)
            log.info(
                "%s: evicted %s (least recently used) to load %s", self.where, old.target, target
            )
        log.info("%s: loaded %s (%d bytes) from %s", self.where, target, size, url)
        return model

    def _unload(self, model: LoadedModel, metrics: MetricSink) -> None:
        with self._lock:
            if self._loaded.get(model.target) is not model:
                return
            del self._loaded[model.target]
        self._delete(model, metrics)

    @staticmethod
    def _delete(model: LoadedModel, metrics: MetricSink | None) -> None:
        # Requests already holding the model finish with it (its predictor is in memory).
        started = time.perf_counter()
        shutil.rmtree(model.directory, ignore_errors=True)
        if metrics is not None:
            metrics("ModelUnloadingTime", (time.perf_counter() - started) * 1e6, "Microseconds")

    def clear(self) -> None:
        """Unload every model (the container is gone)."""
        with self._lock:
            models, self._loaded = list(self._loaded.values()), OrderedDict()
        for model in models:
            self._delete(model, None)

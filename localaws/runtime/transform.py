"""SageMaker Batch Transform: CreateTransformJob runs, with the hosting's own model loading.

moto stores a transform job and marks it Completed at once, having run nothing. This service
hooks CreateTransformJob (and adds StopTransformJob, which moto lacks): the job is `InProgress`
while a thread of the runtime scores every input object, then `Completed`, `Failed` (with a
FailureReason naming the object and what went wrong) or, after StopTransformJob, `Stopping` and
`Stopped`; TransformStartTime/TransformEndTime, DescribeTransformJob and ListTransformJobs follow
it, and each change is a "SageMaker Transform Job State Change" event.

What a job does, field by field as the API reference defines them (defaults included):
- ModelName: the model's containers are loaded by the hosting's own code
  (localaws.hosting.models.Endpoints: the inference core, or the image with a container engine),
  a serial pipeline in order; Environment (the job's) over the model's container environment,
  plus what SageMaker sets in a transform container: SAGEMAKER_BATCH=true,
  SAGEMAKER_MAX_PAYLOAD_IN_MB, SAGEMAKER_BATCH_STRATEGY, SAGEMAKER_MAX_CONCURRENT_TRANSFORMS.
- TransformInput: S3Prefix (every object under the prefix) or ManifestFile (a JSON list whose
  first entry is {"prefix": ...}); CompressionType None|Gzip; SplitType None (the whole object
  is one request) or Line (records are lines); ContentType sent with every request.
- BatchStrategy MultiRecord (as many records as fit in MaxPayloadInMB; the default, as the
  serving container's execution-parameters answer) or SingleRecord; MaxPayloadInMB (default 6,
  at most 100, MaxConcurrentTransforms * MaxPayloadInMB at most 100, 0 = no limit): a record
  larger than it fails the job; MaxConcurrentTransforms (default 1): that many requests at once.
- ModelClientConfig.InvocationsMaxRetries (default 3): a request the model answers with a 5xx is
  sent again that many times.
- TransformOutput: `<S3OutputPath>/<the object's path under the input prefix>.out`, Accept sent
  with every request, AssembleWith None (the answers concatenated) or Line (a newline after every
  record), KmsKeyId (SSE-KMS). Outputs are written per object as it completes; a stopped job's
  outputs are removed ("SageMaker doesn't store the job's output" of a stopped job).
- DataProcessing: InputFilter, JoinSource Input|None, OutputFilter, with SageMaker's JSONPath
  subset (see `JsonPath`): for CSV a record is a JSON array of its fields ("$[1:]" drops an id
  column; a slice's end is inclusive, as AWS's examples say: "$[1:4]" is the second to the fifth
  column); the joined CSV record is the input's fields then the output's; a JSON record that is
  an object gets a SageMakerOutput attribute, any other is wrapped as
  {"SageMakerInput": ..., "SageMakerOutput": ...}.
- Logs go to /aws/sagemaker/TransformJobs, streams `<job>/<instance>` and `<job>/<instance>/
  data-log`, with SageMaker's "[sagemaker logs]:" lines.

Not run here (stored and described only): TransformResources (one local "instance"),
DataCaptureConfig, ModelClientConfig.InvocationsTimeoutInSeconds, ExperimentConfig; SplitType
RecordIO and TFRecord fail the job, saying so.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
import shutil
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from moto.core.responses import EmptyResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import (
    MissingModel,
    ResourceInUseException,
    ResourceNotFound,
    ValidationError,
)
from moto.sagemaker.models import FakeTransformJob, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from localaws import containers
from localaws.hosting.models import Endpoints, HostingError, ServedModel, StageError
from localaws.runtime import Context
from localaws.runtime.hooks import Hooks
from serving.codecs import CSV, JSON, JSONLINES, canonical_type

log = logging.getLogger("localaws.runtime.transform")

LOG_GROUP = "/aws/sagemaker/TransformJobs"
STATE_CHANGE = "SageMaker Transform Job State Change"
MIB = 1024 * 1024
DEFAULT_MAX_PAYLOAD_MB = 6
MAX_PAYLOAD_MB = 100
DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT_S = 600
MAX_ENVIRONMENT = 16
INSTANCE = "i-localaws"
DATA_FORMATS = {CSV: "csv", JSON: "json", JSONLINES: "json"}


class TransformError(Exception):
    """A job's failure: the FailureReason, in AWS's form ("ClientError: ...")."""


# ---------------------------------------------------------------------------------------------
# SageMaker's JSONPath subset
# ---------------------------------------------------------------------------------------------
_SEGMENT = re.compile(
    r"\.(?P<name>[A-Za-z_][\w-]*)|\.?\*|\[\*\]|\[(?P<names>'[^']*'(?:\s*,\s*'[^']*')*)\]"
    r"|\[(?P<indexes>[-\d:,\s]+)\]|\.\[(?P<dotnames>'[^']*'(?:\s*,\s*'[^']*')*)\]"
)


@dataclass(frozen=True)
class JsonPath:
    """`$`, `.name`, `*`, `['a','b']`, `[0]`, `[1,3,5]`, `[2:5]` (end inclusive), `[:5]`, `[2:]`,
    negative indexes (-1 is the last), as "Supported JSONPath Operators" lists them."""

    text: str
    segments: tuple[tuple[str, Any], ...]

    @classmethod
    def parse(cls, text: str, what: str) -> JsonPath:
        if not text.startswith("$"):
            raise ValueError(f"{what}: {text!r} must start with $ (the root)")
        segments: list[tuple[str, Any]] = []
        position = 1
        while position < len(text):
            match = _SEGMENT.match(text, position)
            if not match:
                raise ValueError(
                    f"{what}: {text!r} is not a supported JSONPath expression at "
                    f"{text[position:]!r} (supported: $ .name * ['name',...] [index,...] "
                    "[start:end])"
                )
            if match["name"]:
                segments.append(("names", (match["name"],)))
            elif match["names"] or match["dotnames"]:
                names = re.findall(r"'([^']*)'", match["names"] or match["dotnames"])
                segments.append(("names", tuple(names)))
            elif match["indexes"]:
                segments.append(("indexes", _indexes(match["indexes"], text, what)))
            else:
                segments.append(("wildcard", None))
            position = match.end()
        return cls(text, tuple(segments))

    @property
    def identity(self) -> bool:
        return not self.segments

    def apply(self, value: Any) -> Any:
        for kind, arg in self.segments:
            value = _step(value, kind, arg, self.text)
        return value


def _indexes(spec: str, text: str, what: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for raw in spec.split(","):
        part = raw.strip()
        try:
            if ":" in part:
                start, _, end = part.partition(":")
                parts.append(slice(int(start) if start else None, int(end) if end else None))
            else:
                parts.append(int(part))
        except ValueError:
            raise ValueError(f"{what}: {text!r}: {part!r} is not an index or a slice") from None
    return tuple(parts)


def _step(value: Any, kind: str, arg: Any, text: str) -> Any:
    if kind == "wildcard":
        if isinstance(value, dict):
            return list(value.values())
        if isinstance(value, list):
            return list(value)
        raise TransformError(f"{text}: * applies to an object or an array, not {value!r}")
    if kind == "names":
        if not isinstance(value, dict):
            raise TransformError(f"{text}: {value!r} is not an object with {', '.join(arg)}")
        missing = [n for n in arg if n not in value]
        if missing:
            raise TransformError(f"{text}: the record has no attribute {', '.join(missing)}")
        return value[arg[0]] if len(arg) == 1 else {n: value[n] for n in arg}
    if not isinstance(value, list):
        raise TransformError(f"{text}: {value!r} is not an array")
    size = len(value)
    if len(arg) == 1 and isinstance(arg[0], int):
        return value[_index(arg[0], size, text)]
    picked: list[Any] = []
    for part in arg:
        if isinstance(part, int):
            picked.append(value[_index(part, size, text)])
            continue
        start = 0 if part.start is None else _index(part.start, size, text)
        end = size - 1 if part.stop is None else _index(part.stop, size, text)
        picked.extend(value[start : end + 1])  # AWS: "between two values, inclusive"
    return picked


def _index(index: int, size: int, text: str) -> int:
    resolved = index + size if index < 0 else index
    if not 0 <= resolved < size:
        raise TransformError(f"{text}: index {index} is outside the record's {size} element(s)")
    return resolved


# ---------------------------------------------------------------------------------------------
# The job's settings, resolved as AWS resolves them (defaults, validation)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    name: str
    model: str
    source_type: str
    source_uri: str
    content_type: str | None
    compression: str
    split: str
    strategy: str
    max_payload_mb: int
    concurrency: int
    max_retries: int
    output_path: str
    accept: str | None
    assemble: str
    kms_key_id: str | None
    input_filter: JsonPath
    output_filter: JsonPath
    join: bool
    environment: dict[str, str]

    @property
    def processes_records(self) -> bool:
        """Whether records are parsed (filters or a join), not passed through as bytes."""
        return self.join or not self.input_filter.identity or not self.output_filter.identity

    @property
    def payload_limit(self) -> int | None:
        return self.max_payload_mb * MIB if self.max_payload_mb else None

    def container_environment(self) -> dict[str, str]:
        """What the job's containers get on top of the model's Environment."""
        env = dict(self.environment)
        env["SAGEMAKER_BATCH"] = "true"
        if self.max_payload_mb:
            env["SAGEMAKER_MAX_PAYLOAD_IN_MB"] = str(self.max_payload_mb)
        env["SAGEMAKER_BATCH_STRATEGY"] = (
            "MULTI_RECORD" if self.strategy == "MultiRecord" else "SINGLE_RECORD"
        )
        env["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] = str(self.concurrency)
        return env


def _choice(value: Any, allowed: tuple[str, ...], default: str, where: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        raise ValueError(f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return value


def resolve(request: dict[str, Any]) -> Spec:
    """The job as it runs, from CreateTransformJob's fields; ValueError names a bad field."""
    source = ((request.get("TransformInput") or {}).get("DataSource") or {}).get(
        "S3DataSource"
    ) or {}
    transform_input = request.get("TransformInput") or {}
    output = request.get("TransformOutput") or {}
    source_type = _choice(
        source.get("S3DataType"),
        ("S3Prefix", "ManifestFile", "AugmentedManifestFile", "Converse"),
        "S3Prefix",
        "TransformInput.DataSource.S3DataSource.S3DataType",
    )
    if source_type not in ("S3Prefix", "ManifestFile"):
        raise ValueError(
            f"TransformInput.DataSource.S3DataSource.S3DataType: {source_type} is not compatible "
            "with batch transform (use S3Prefix or ManifestFile)"
        )
    source_uri = source.get("S3Uri") or ""
    if not source_uri.startswith("s3://") or not source_uri[5:].split("/", 1)[0]:
        raise ValueError(
            f"TransformInput.DataSource.S3DataSource.S3Uri: {source_uri!r} is not an s3:// URI"
        )
    output_path = output.get("S3OutputPath") or ""
    if not output_path.startswith("s3://") or not output_path[5:].split("/", 1)[0]:
        raise ValueError(f"TransformOutput.S3OutputPath: {output_path!r} is not an s3:// URI")
    payload = request.get("MaxPayloadInMB")
    payload = DEFAULT_MAX_PAYLOAD_MB if payload is None else int(payload)
    concurrency = int(request.get("MaxConcurrentTransforms") or 1)
    if not 0 <= payload <= MAX_PAYLOAD_MB:
        raise ValueError(f"MaxPayloadInMB: {payload} must be between 0 and {MAX_PAYLOAD_MB}")
    if concurrency < 0:
        raise ValueError(f"MaxConcurrentTransforms: {concurrency} must not be negative")
    if request.get("MaxConcurrentTransforms") and concurrency * payload > MAX_PAYLOAD_MB:
        raise ValueError(
            f"MaxConcurrentTransforms * MaxPayloadInMB = {concurrency} * {payload} MB exceeds "
            f"{MAX_PAYLOAD_MB} MB"
        )
    environment = request.get("Environment") or {}
    if len(environment) > MAX_ENVIRONMENT:
        raise ValueError(
            f"Environment: {len(environment)} entries; at most {MAX_ENVIRONMENT} are supported"
        )
    retries = (request.get("ModelClientConfig") or {}).get("InvocationsMaxRetries")
    retries = DEFAULT_MAX_RETRIES if retries is None else int(retries)
    if not 0 <= retries <= 3:
        raise ValueError(f"ModelClientConfig.InvocationsMaxRetries: {retries} must be 0 to 3")
    processing = request.get("DataProcessing") or {}
    spec = Spec(
        name=request["TransformJobName"],
        model=request["ModelName"],
        source_type=source_type,
        source_uri=source_uri,
        content_type=transform_input.get("ContentType"),
        compression=_choice(
            transform_input.get("CompressionType"),
            ("None", "Gzip"),
            "None",
            "TransformInput.CompressionType",
        ),
        split=_choice(
            transform_input.get("SplitType"),
            ("None", "Line", "RecordIO", "TFRecord"),
            "None",
            "TransformInput.SplitType",
        ),
        strategy=_choice(
            request.get("BatchStrategy"),
            ("MultiRecord", "SingleRecord"),
            "MultiRecord",
            "BatchStrategy",
        ),
        max_payload_mb=payload,
        concurrency=concurrency,
        max_retries=retries,
        output_path=output_path.rstrip("/"),
        accept=output.get("Accept"),
        assemble=_choice(
            output.get("AssembleWith"), ("None", "Line"), "None", "TransformOutput.AssembleWith"
        ),
        kms_key_id=output.get("KmsKeyId") or None,
        input_filter=JsonPath.parse(
            processing.get("InputFilter") or "$", "DataProcessing.InputFilter"
        ),
        output_filter=JsonPath.parse(
            processing.get("OutputFilter") or "$", "DataProcessing.OutputFilter"
        ),
        join=_choice(
            processing.get("JoinSource"), ("Input", "None"), "None", "DataProcessing.JoinSource"
        )
        == "Input",
        environment=dict(environment),
    )
    if spec.processes_records:
        kinds = {
            "TransformInput.ContentType": spec.content_type,
            "TransformOutput.Accept": spec.accept,
        }
        for where, value in kinds.items():
            if canonical_type(value) not in DATA_FORMATS:
                raise ValueError(
                    f"DataProcessing needs {where} to be text/csv, application/json or "
                    f"application/jsonlines, not {value!r}"
                )
        if DATA_FORMATS[canonical_type(spec.content_type)] == "csv" and (
            spec.split != "Line" or spec.assemble != "Line"
        ):
            raise ValueError(
                "DataProcessing with text/csv needs TransformInput.SplitType and "
                "TransformOutput.AssembleWith to be Line"
            )
    return spec


def described_defaults(spec: Spec) -> dict[str, Any]:
    """The fields DescribeTransformJob shows with their resolved values (AWS's defaults)."""
    return {
        "max_payload_in_mb": spec.max_payload_mb,
        "max_concurrent_transforms": spec.concurrency,
        "batch_strategy": spec.strategy,
        "data_processing": {
            "InputFilter": spec.input_filter.text,
            "OutputFilter": spec.output_filter.text,
            "JoinSource": "Input" if spec.join else "None",
        },
    }


# ---------------------------------------------------------------------------------------------
# Records: splitting, mini-batches, data processing
# ---------------------------------------------------------------------------------------------
def split_records(data: bytes, split: str) -> list[bytes]:
    """An object's records: the whole object (None), or its non-blank lines (Line)."""
    if split == "None":
        return [data]
    if split == "Line":
        return [line for line in data.split(b"\n") if line.strip()]
    raise TransformError(
        f"ClientError: SplitType {split} is not run by the embedded AWS (None and Line are)"
    )


def mini_batches(records: list[bytes], spec: Spec, where: str) -> Iterator[tuple[int, int]]:
    """(start, end) ranges of records per request: one record (SingleRecord, or SplitType None),
    or as many as fit in MaxPayloadInMB (MultiRecord). A record larger than MaxPayloadInMB fails
    the object, as on AWS."""
    limit = spec.payload_limit
    newline = 1 if spec.split == "Line" else 0
    start, size = 0, 0
    for index, record in enumerate(records):
        length = len(record) + newline
        if limit is not None and length > limit:
            raise TransformError(
                f"ClientError: {where}: Too much data for max payload size: a record of "
                f"{length:,} bytes (record {index + 1}) is larger than MaxPayloadInMB "
                f"({spec.max_payload_mb} MB); raise MaxPayloadInMB or split the records"
            )
        single = spec.strategy == "SingleRecord" or spec.split == "None"
        if index > start and (single or (limit is not None and size + length > limit)):
            yield start, index
            start, size = index, 0
        size += length
    if start < len(records):
        yield start, len(records)


def _parse(record: bytes, kind: str, where: str) -> Any:
    text = record.decode("utf-8").strip("\r\n")
    if kind == "csv":
        return next(csv.reader([text]), [])
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TransformError(f"ClientError: {where}: a record is not JSON: {exc}") from None


def _render(value: Any, kind: str) -> bytes:
    if kind == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(value if isinstance(value, list) else [value])
        return out.getvalue().encode()
    return json.dumps(value, separators=(",", ":")).encode()


def _output_value(record: bytes, kind: str) -> Any:
    """An answer record as a JSON value: CSV → its fields; JSON → the value (else the text)."""
    text = record.decode("utf-8").strip("\r\n")
    if kind == "csv":
        return next(csv.reader([text]), [])
    try:
        return json.loads(text)
    except ValueError:
        return text


def answer_records(body: bytes, count: int, where: str) -> list[bytes]:
    """One answer record per input record of the request (lines; or the elements of a JSON
    array at the root or under the answer's only key)."""
    if count == 1:
        return [body.rstrip(b"\n")]
    lines = [line for line in body.split(b"\n") if line.strip()]
    if len(lines) == count:
        return lines
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, list) and len(value) == count:
        return [json.dumps(v).encode() for v in value]
    raise TransformError(
        f"ClientError: {where}: the model answered {len(lines)} line(s) for {count} records; "
        "joining and filtering need one answer record per input record (use a line format "
        "Accept such as text/csv or application/jsonlines, or BatchStrategy SingleRecord)"
    )


def join_record(source: Any, output: Any, kind: str) -> Any:
    if kind == "csv":
        extra = output if isinstance(output, list) else [output]
        return list(source) + list(extra)
    if isinstance(source, dict):
        return {**source, "SageMakerOutput": output}
    return {"SageMakerInput": source, "SageMakerOutput": output}


# ---------------------------------------------------------------------------------------------
# Running a job
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputObject:
    bucket: str
    key: str
    relative: str  # its path under the input prefix: the output is <output path>/<relative>.out

    @property
    def where(self) -> str:
        return f"{self.bucket}/{self.key}"


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def list_inputs(s3: Any, spec: Spec) -> list[InputObject]:
    if spec.source_type == "ManifestFile":
        return _manifest_inputs(s3, spec.source_uri)
    bucket, prefix = _split(spec.source_uri)
    base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    found: list[InputObject] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue
                found.append(InputObject(bucket, key, key[len(base) :]))
    except ClientError as exc:
        raise TransformError(
            f"ClientError: cannot list {spec.source_uri}: {exc.response['Error'].get('Message')}"
        ) from None
    if not found:
        raise TransformError(
            f'ClientError: No S3 objects found under S3 URL "{spec.source_uri}" given in input '
            "data source. Please ensure that the bucket exists in the selected region, and that "
            "objects exist under that S3 prefix."
        )
    return found


def _manifest_inputs(s3: Any, uri: str) -> list[InputObject]:
    bucket, key = _split(uri)
    try:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        raise TransformError(
            f"ClientError: cannot read manifest {uri}: {exc.response['Error'].get('Message')}"
        ) from None
    except ValueError as exc:
        raise TransformError(f"ClientError: manifest {uri} is not JSON: {exc}") from None
    if (
        not isinstance(manifest, list)
        or not manifest
        or not isinstance(manifest[0], dict)
        or not str(manifest[0].get("prefix", "")).startswith("s3://")
        or not all(isinstance(entry, str) for entry in manifest[1:])
    ):
        raise TransformError(
            f'ClientError: manifest {uri} must be a JSON list: [{{"prefix": "s3://bucket/'
            'prefix/"}, "relative/key", ...]'
        )
    prefix_bucket, prefix = _split(manifest[0]["prefix"])
    return [InputObject(prefix_bucket, prefix + rel, rel) for rel in manifest[1:]]


class _JobModels:
    """The SageMaker API as the job's Endpoints reads it: every container of the model gets the
    job's environment on top of its own, as SageMaker starts a transform job's containers."""

    def __init__(self, sagemaker: Any, environment: dict[str, str]) -> None:
        self.sagemaker = sagemaker
        self.environment = environment

    def describe_model(self, ModelName: str) -> dict[str, Any]:
        described = dict(self.sagemaker.describe_model(ModelName=ModelName))
        for key in ("PrimaryContainer", "Containers"):
            value = described.get(key)
            if isinstance(value, dict):
                described[key] = self._with_env(value)
            elif isinstance(value, list):
                described[key] = [self._with_env(c) for c in value]
        return described

    def _with_env(self, container: dict[str, Any]) -> dict[str, Any]:
        return {
            **container,
            "Environment": {**(container.get("Environment") or {}), **self.environment},
        }


@dataclass
class Run:
    spec: Spec
    job: FakeTransformJob
    stop: threading.Event = field(default_factory=threading.Event)
    written: list[tuple[str, str]] = field(default_factory=list)


class TransformRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._hooks = Hooks()
        self._lock = threading.Lock()
        self._runs: dict[str, Run] = {}
        self._threads: list[threading.Thread] = []
        self._engine = containers.find_engine()

    # -- hooks --------------------------------------------------------------------------------
    def start(self) -> None:
        original_create = SageMakerModelBackend.create_transform_job
        runtime = self

        def create_transform_job(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
            return runtime._create(backend, original_create, kwargs)

        def stop_transform_job(response: SageMakerResponse) -> Any:
            runtime._stop_job(response.sagemaker_backend, response._get_param("TransformJobName"))
            return EmptyResult()

        self._hooks.install(SageMakerModelBackend, "create_transform_job", create_transform_job)
        self._hooks.install(SageMakerResponse, "stop_transform_job", stop_transform_job)

    def stop(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop.set()
        for thread in list(self._threads):
            thread.join(timeout=10)
        self._hooks.restore()

    def _create(self, backend: SageMakerModelBackend, original: Any, kwargs: dict[str, Any]) -> Any:
        name = kwargs["transform_job_name"]
        request = {
            "TransformJobName": name,
            "ModelName": kwargs["model_name"],
            "MaxConcurrentTransforms": kwargs.get("max_concurrent_transforms"),
            "ModelClientConfig": kwargs.get("model_client_config"),
            "MaxPayloadInMB": kwargs.get("max_payload_in_mb"),
            "BatchStrategy": kwargs.get("batch_strategy"),
            "Environment": kwargs.get("environment"),
            "TransformInput": kwargs.get("transform_input"),
            "TransformOutput": kwargs.get("transform_output"),
            "DataProcessing": kwargs.get("data_processing"),
        }
        with self._lock:
            if name in backend.transform_jobs:
                arn = backend.transform_jobs[name].arn
                raise ResourceInUseException(
                    "Job name must be unique within an AWS account and region, and a job with "
                    f"this name already exists ({arn})"
                )
            if kwargs["model_name"] not in backend._models:
                raise MissingModel(
                    f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:model/"
                    f"{kwargs['model_name']}"
                )
            try:
                spec = resolve(request)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
            job = original(backend, **kwargs)
            for attribute, value in described_defaults(spec).items():
                setattr(job, attribute, value)
            job.transform_input = {
                "CompressionType": spec.compression,
                "SplitType": spec.split,
                **(job.transform_input or {}),
            }
            job.transform_output = {"AssembleWith": spec.assemble, **(job.transform_output or {})}
            job.model_client_config = {
                "InvocationsTimeoutInSeconds": DEFAULT_TIMEOUT_S,
                "InvocationsMaxRetries": spec.max_retries,
                **(job.model_client_config or {}),
            }
            job.transform_job_status = "InProgress"
            job.failure_reason = None
            job.labeling_job_arn = None
            job.auto_ml_job_arn = None
            job.transform_start_time = None
            job.transform_end_time = None
            run = Run(spec, job)
            self._runs[job.arn] = run
            thread = threading.Thread(
                target=self._run, args=(run,), name=f"transform-{name}", daemon=True
            )
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        self._publish(job)
        thread.start()
        log.info("transform: %s started (model %s)", name, spec.model)
        return job

    def _stop_job(self, backend: SageMakerModelBackend, name: str) -> None:
        job = backend.transform_jobs.get(name)
        if job is None:
            arn = FakeTransformJob.arn_formatter(name, backend.account_id, backend.region_name)
            raise ResourceNotFound(f"Could not find transform job '{arn}'.")
        with self._lock:
            status = job.transform_job_status
            if status in ("Stopping", "Stopped"):
                return
            if status != "InProgress":
                raise ValidationError(
                    f"Transform job {name} is {status}; only an InProgress job can be stopped."
                )
            job.transform_job_status = "Stopping"
            job.last_modified_time = utcnow()
            run = self._runs.get(job.arn)
            if run is not None:
                run.stop.set()
        self._publish(job)

    # -- the job ------------------------------------------------------------------------------
    def _run(self, run: Run) -> None:
        spec, job = run.spec, run.job
        stamp = int(time.time())
        stream = self.ctx.logs.stream(LOG_GROUP, f"{spec.name}/{INSTANCE}-{stamp}")
        data_log = self.ctx.logs.stream(LOG_GROUP, f"{spec.name}/{INSTANCE}-{stamp}/data-log")
        work = self.ctx.work_dir / "transform" / spec.name
        endpoints: Endpoints | None = None
        failure: str | None = None
        with self._lock:
            job.transform_start_time = utcnow()
            job.last_modified_time = job.transform_start_time
        try:
            work.mkdir(parents=True, exist_ok=True)
            endpoints = self._endpoints(spec, work)
            data_log.write(
                f"{_stamp()}:[sagemaker logs]: MaxConcurrentTransforms={spec.concurrency}, "
                f"MaxPayloadInMB={spec.max_payload_mb}, BatchStrategy="
                f"{spec.container_environment()['SAGEMAKER_BATCH_STRATEGY']}"
            )
            model = self._load(endpoints, spec, stream)
            inputs = list_inputs(self.ctx.client("s3"), spec)
            with ThreadPoolExecutor(
                max_workers=max(1, spec.concurrency), thread_name_prefix=f"transform-{spec.name}"
            ) as pool:
                for item in inputs:
                    if run.stop.is_set():
                        break
                    self._object(run, model, item, pool, data_log)
        except TransformError as exc:
            failure = str(exc)
        except Exception as exc:  # a bug here must still end the job, as AWS's InternalServerError
            log.exception("transform: %s failed", spec.name)
            failure = f"InternalServerError: {exc}"
        finally:
            if endpoints is not None:
                endpoints.close()
            shutil.rmtree(work, ignore_errors=True)
        if failure:
            data_log.write(f"{_stamp()}:[sagemaker logs]: {failure}")
        stream.close()
        data_log.close()
        self._finish(run, failure)

    def _endpoints(self, spec: Spec, work: Path) -> Endpoints:
        engine = (
            containers.ContainerHost(self._engine, work / "containers") if self._engine else None
        )
        return Endpoints(
            _JobModels(self.ctx.client("sagemaker"), spec.container_environment()),
            self.ctx.client("s3"),
            work,
            engine=engine,
            engine_absent_reason="" if engine else containers.why_not_engine(),
        )

    def _load(self, endpoints: Endpoints, spec: Spec, stream: Any) -> ServedModel:
        try:
            model = endpoints.model(spec.model, variant=spec.name)
        except ClientError as exc:
            raise TransformError(
                f"ClientError: model {spec.model}: {exc.response['Error'].get('Message')}"
            ) from None
        except HostingError as exc:
            raise TransformError(f"ClientError: {exc}") from None
        for stage in model.stages:
            stream.write(
                f"{_stamp()} container {stage.hostname} ({stage.image or 'no image'}) serves "
                f"{'its image' if stage.mode == 'engine' else 'the inference core'}"
            )
        return model

    def _object(
        self,
        run: Run,
        model: ServedModel,
        item: InputObject,
        pool: ThreadPoolExecutor,
        data_log: Any,
    ) -> None:
        spec = run.spec
        s3 = self.ctx.client("s3")
        try:
            data = s3.get_object(Bucket=item.bucket, Key=item.key)["Body"].read()
        except ClientError as exc:
            raise TransformError(
                f"ClientError: {item.where}: {exc.response['Error'].get('Message')}"
            ) from None
        if spec.compression == "Gzip":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as exc:
                raise TransformError(
                    f"ClientError: {item.where}: CompressionType is Gzip but the object is not "
                    f"gzip data: {exc}"
                ) from None
        records = split_records(data, spec.split)
        kind = DATA_FORMATS.get(canonical_type(spec.content_type), "")
        out_kind = DATA_FORMATS.get(canonical_type(spec.accept), "")
        sources: list[Any] = []
        if spec.processes_records:
            sources = [_parse(r, kind, item.where) for r in records]
            if not spec.input_filter.identity:
                try:
                    records = [_render(spec.input_filter.apply(s), kind) for s in sources]
                except TransformError as exc:
                    raise TransformError(f"ClientError: {item.where}: {exc}") from None
        batches = list(mini_batches(records, spec, item.where))
        newline = b"\n" if spec.split == "Line" else b""

        def score(bounds: tuple[int, int]) -> bytes:
            if run.stop.is_set():
                return b""
            body = b"".join(r + newline for r in records[bounds[0] : bounds[1]])
            return self._invoke(model, spec, body, item)

        chunks: list[bytes] = []
        for (start, end), answer in zip(batches, pool.map(score, batches), strict=True):
            if run.stop.is_set():
                return
            if not spec.processes_records:
                chunks.append(answer.rstrip(b"\n") + b"\n" if spec.assemble == "Line" else answer)
                continue
            outputs = answer_records(answer, end - start, item.where)
            for source, output in zip(sources[start:end], outputs, strict=True):
                value = _output_value(output, out_kind)
                joined = join_record(source, value, kind) if spec.join else value
                try:
                    selected = spec.output_filter.apply(joined)
                except TransformError as exc:
                    raise TransformError(f"ClientError: {item.where}: {exc}") from None
                rendered = _render(selected, kind if spec.join else out_kind)
                chunks.append(rendered + b"\n" if spec.assemble == "Line" else rendered)
        bucket, prefix = _split(spec.output_path)
        key = f"{prefix}/{item.relative}.out" if prefix else f"{item.relative}.out"
        extra: dict[str, Any] = {}
        if spec.kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": spec.kms_key_id}
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=b"".join(chunks), **extra)
        except ClientError as exc:
            raise TransformError(
                f"ClientError: cannot write s3://{bucket}/{key}: "
                f"{exc.response['Error'].get('Message')}"
            ) from None
        run.written.append((bucket, key))
        data_log.write(
            f"{_stamp()}:[sagemaker logs]: {item.where}: {len(records)} record(s) in "
            f"{len(batches)} request(s) → s3://{bucket}/{key}"
        )

    def _invoke(self, model: ServedModel, spec: Spec, body: bytes, item: InputObject) -> bytes:
        attempt = 0
        while True:
            try:
                return model.invoke(body, spec.content_type, spec.accept, None).body
            except StageError as exc:
                if exc.status >= 500 and attempt < spec.max_retries:
                    attempt += 1
                    continue
                kind = "ClientError" if exc.status < 500 else "AlgorithmError"
                raise TransformError(f"{kind}: {item.where}: {exc.status}: {exc}") from None
            except HostingError as exc:
                raise TransformError(f"ClientError: {item.where}: {exc}") from None

    def _finish(self, run: Run, failure: str | None) -> None:
        job = run.job
        with self._lock:
            stopped = run.stop.is_set() and job.transform_job_status == "Stopping"
        if run.stop.is_set() and not stopped:
            failure = failure or "InternalServerError: the embedded AWS stopped while the job ran"
        if stopped:
            s3 = self.ctx.client("s3")
            for bucket, key in run.written:
                try:
                    s3.delete_object(Bucket=bucket, Key=key)
                except (BotoCoreError, ClientError):
                    log.warning("transform: could not remove s3://%s/%s", bucket, key)
        with self._lock:
            if stopped:
                job.transform_job_status = "Stopped"
            elif failure:
                job.transform_job_status = "Failed"
                job.failure_reason = failure[:1024]
            else:
                job.transform_job_status = "Completed"
            job.transform_end_time = utcnow()
            job.last_modified_time = job.transform_end_time
            self._runs.pop(job.arn, None)
        self._publish(job)
        log.info("transform: %s %s", job.transform_job_name, job.transform_job_status)

    def _publish(self, job: FakeTransformJob) -> None:
        """The state change event, the job as DescribeTransformJob shows it (times in ms)."""
        detail = {
            key: _millis(value) if isinstance(value, datetime) else value
            for key, value in job.response_object.items()
            if value not in (None, "")
        }
        self.ctx.publish_event("aws.sagemaker", STATE_CHANGE, detail, [job.arn])


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)

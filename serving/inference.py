"""The inference core: load a model of any framework, decode a request, predict, encode.

Shared by the BYO container (serving.server) and the local SageMaker hosting (localaws.hosting),
so both serve the same models with the same answers. No web framework here: errors are
InferenceError subclasses (serving.codecs) carrying the HTTP status to answer with.

The contract is SageMaker's XGBoost container's (aws/sagemaker-xgboost-container, serve.py):
- request types: text/csv (default), text/libsvm, application/x-recordio-protobuf,
  application/json, application/jsonlines (serving.codecs);
- Accept: empty or */* → SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (default text/csv); else one of
  text/csv, application/json, application/jsonlines, application/x-recordio-protobuf (406 for
  anything else); a list is read in order, the first supported type wins;
- answers: serving.outputs (default answers and SAGEMAKER_INFERENCE_OUTPUT selectable outputs);
- SAGEMAKER_BATCH (any non-empty value, as the container tests it) → newline-separated CSV;
- payload limit: SAGEMAKER_MAX_PAYLOAD_IN_MB (Batch Transform's MaxPayloadInMB, up to 100), else
  MAX_CONTENT_LENGTH bytes (capped at 20 MiB, as the container caps it), else 6 MiB → 413;
- an empty body → 204 with an empty answer, as the container answers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serving import outputs
from serving.codecs import (
    CSV,
    JSON,
    JSONLINES,
    RECORDIO,
    BadRequest,
    InferenceError,
    canonical_type,
    decode,
    encode_recordio_features,
    encode_recordio_labels,
    encode_recordio_tensors,
    is_empty,
    request_type,
)
from serving.frameworks import load
from serving.predictor import TRANSFORM, PredictionError, Predictor

MIB = 1024 * 1024
DEFAULT_MAX_PAYLOAD_BYTES = 6 * MIB  # SageMaker real-time endpoints' request limit
MAX_CONTENT_LENGTH_CAP = 20 * MIB  # the container's cap on MAX_CONTENT_LENGTH
MAX_BATCH_PAYLOAD_MB = 100  # Batch Transform's MaxPayloadInMB upper bound
ACCEPTS = (CSV, JSON, JSONLINES, RECORDIO)


class NotAcceptable(InferenceError):
    status = 406


class PayloadTooLarge(InferenceError):
    status = 413


class ModelFailure(InferenceError):
    status = 500


class ConfigurationError(ValueError):
    """A SAGEMAKER_* setting of the container that cannot be used (names the variable)."""


@dataclass(frozen=True)
class Options:
    """The container's environment knobs, read once (the local hosting reads each SageMaker
    model container's Environment with the same function)."""

    selected_outputs: tuple[str, ...] | None = None
    default_accept: str = CSV
    batch: bool = False
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Options:
        env = os.environ if env is None else env
        selected = env.get("SAGEMAKER_INFERENCE_OUTPUT")
        default_accept = canonical_type(env.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")) or CSV
        if default_accept not in ACCEPTS:
            raise ConfigurationError(
                f"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT={default_accept!r} is not one of "
                f"{', '.join(ACCEPTS)}"
            )
        return cls(
            selected_outputs=outputs.parse_selected_keys(selected)
            if selected is not None
            else None,
            default_accept=default_accept,
            batch=bool(env.get("SAGEMAKER_BATCH")),
            max_payload_bytes=_max_payload(env),
        )

    @property
    def max_payload_mb(self) -> int:
        return max(1, self.max_payload_bytes // MIB)


def _max_payload(env: Mapping[str, str]) -> int:
    megabytes = env.get("SAGEMAKER_MAX_PAYLOAD_IN_MB")
    if megabytes:
        try:
            value = int(megabytes)
        except ValueError:
            value = 0
        if not 1 <= value <= MAX_BATCH_PAYLOAD_MB:
            raise ConfigurationError(
                f"SAGEMAKER_MAX_PAYLOAD_IN_MB={megabytes!r} must be a whole number of MB from 1 "
                f"to {MAX_BATCH_PAYLOAD_MB} (Batch Transform's MaxPayloadInMB)"
            )
        return value * MIB
    length = env.get("MAX_CONTENT_LENGTH")
    if length:
        try:
            value = int(length)
        except ValueError:
            raise ConfigurationError(
                f"MAX_CONTENT_LENGTH={length!r} must be a number of bytes"
            ) from None
        return min(value, MAX_CONTENT_LENGTH_CAP)
    return DEFAULT_MAX_PAYLOAD_BYTES


def response_type(accept: str | None, options: Options) -> str:
    """The container's _parse_accept, reading a list in order (the container takes one type)."""
    if not accept or not accept.strip():
        return options.default_accept
    for candidate in accept.split(","):
        kind = canonical_type(candidate)
        if kind == "*/*":
            return options.default_accept
        if kind in ACCEPTS:
            return kind
    raise NotAcceptable(f"Accept type {accept!r} is not supported; use one of {', '.join(ACCEPTS)}")


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    rows: int
    status: int = 200


def predict(model: Predictor, features: object) -> np.ndarray:
    try:
        return model.predict(features)
    except PredictionError as exc:
        raise BadRequest(f"unable to evaluate the payload: {exc}") from None


def invoke(
    model: Predictor,
    body: bytes,
    content_type: str | None,
    accept: str | None,
    options: Options | None = None,
) -> Answer:
    """The whole request: check, decode, predict, encode. Raises InferenceError subclasses."""
    options = options or DEFAULT_OPTIONS
    if is_empty(body):  # before anything else, the content types too, as the container does
        return Answer(b"", options.default_accept, 0, status=204)
    if len(body) > options.max_payload_bytes:
        raise PayloadTooLarge(
            f"payload is {len(body):,} bytes; the limit is {options.max_payload_bytes:,} "
            f"({options.max_payload_mb} MB): send fewer rows per request"
        )
    kind = request_type(content_type)
    out_kind = response_type(accept, options)
    features = decode(body, kind, model.signature.num_features)
    predictions = predict(model, features)
    return Answer(encode(model, predictions, out_kind, options), out_kind, len(predictions))


def encode(model: Predictor, predictions: np.ndarray, kind: str, options: Options) -> bytes:
    signature = model.signature
    keys = options.selected_outputs
    if keys is not None:
        try:
            rows = outputs.select(signature, predictions, keys)
        except outputs.SelectionError as exc:
            raise ModelFailure(str(exc)) from None
        if kind == CSV:
            return outputs.selected_csv(rows, keys, options.batch)
        if kind == JSON:
            return outputs.selected_json(rows)
        if kind == JSONLINES:
            return outputs.selected_jsonlines(rows)
        return encode_recordio_labels(outputs.selected_records(rows, signature.classes))
    if kind == CSV:
        return outputs.default_csv(signature, predictions, options.batch)
    if kind == JSON:
        return outputs.default_json(signature, predictions)
    if kind == JSONLINES:
        return outputs.default_jsonlines(signature, predictions)
    if signature.objective == TRANSFORM:
        return encode_recordio_features(predictions.reshape(len(predictions), -1))
    encoded = encode_recordio_tensors(predictions, "label", outputs.DEFAULT_RECORD_KEY)
    if encoded is not None:
        return encoded
    return encode_recordio_labels(outputs.default_records(predictions))


def load_model(
    model_dir: Path | str, threads: int | None = None, *, allow_pickle: bool = True
) -> Predictor:
    """The model in an extracted artifact (SageMaker's /opt/ml/model), any framework."""
    return load(Path(model_dir), threads=threads, allow_pickle=allow_pickle)


def execution_parameters(workers: int, options: Options) -> dict[str, object]:
    """GET /execution-parameters, as the container answers Batch Transform."""
    return {
        "MaxConcurrentTransforms": workers,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": options.max_payload_mb,
    }


def default_threads(workers: int) -> int:
    """Framework threads per worker so that workers * threads ~ CPUs."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


DEFAULT_OPTIONS = Options()

"""The inference core: load a model, decode a request body, predict, encode the answer.

Shared by the BYO container (serving.server) and the local SageMaker hosting (localaws.hosting).
No web framework here: errors are InferenceError subclasses carrying the HTTP status to answer.

Content types (SageMaker's XGBoost conventions):
- text/csv: one row per line, no header, one value per feature → one probability per line.
- application/json: [[...], ...], [...], {"instances": [[...] | {"features": [...]}, ...]}
  → {"predictions": [{"score": p}, ...]}.
- application/jsonlines: one row per line as [...] or {"features": [...]} → {"score": p} lines.
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xgboost as xgb

from serving.artifact import find_model_file

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker real-time endpoints' request limit

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
CONTENT_TYPES = (CSV, JSON, JSONLINES)


class InferenceError(Exception):
    """A request that cannot be answered; `status` is the HTTP status to answer with."""

    status = 500


class BadRequest(InferenceError):
    status = 400


class UnsupportedMediaType(InferenceError):
    status = 415


class NotAcceptable(InferenceError):
    status = 406


class PayloadTooLarge(InferenceError):
    status = 413


class ModelFailure(InferenceError):
    status = 500


def media_type(header: str | None) -> str:
    """The bare media type of a header value: 'text/csv; charset=utf-8' → 'text/csv'."""
    return (header or "").split(";", 1)[0].strip().lower()


def request_type(content_type: str | None) -> str:
    kind = media_type(content_type) or CSV
    if kind == "application/x-jsonlines":
        kind = JSONLINES
    if kind not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"content type {kind!r} is not supported; use one of {', '.join(CONTENT_TYPES)}"
        )
    return kind


def response_type(accept: str | None, request_kind: str) -> str:
    """Accept negotiation: the first acceptable supported type; */* or none → the request's type."""
    if not accept or not accept.strip():
        return request_kind
    for candidate in accept.split(","):
        kind = media_type(candidate)
        if kind == "application/x-jsonlines":
            kind = JSONLINES
        if kind in ("*/*", ""):
            return request_kind
        if kind in CONTENT_TYPES:
            return kind
        if kind == "text/*":
            return CSV
        if kind == "application/*":
            return request_kind if request_kind != CSV else JSON
    raise NotAcceptable(f"cannot answer with {accept!r}; accept one of {', '.join(CONTENT_TYPES)}")


@dataclass
class Model:
    booster: xgb.Booster
    num_features: int

    def predict(self, features: np.ndarray) -> np.ndarray:
        """One probability per row."""
        try:
            scores = self.booster.inplace_predict(features)
        except xgb.core.XGBoostError as exc:
            raise ModelFailure(f"model failed to predict: {str(exc).splitlines()[0]}") from None
        if scores.ndim != 1:
            raise ModelFailure(
                f"model returned {scores.shape[1]} values per row; this server serves binary "
                "classifiers (one probability per row)"
            )
        return scores


def load_model(model_dir: Path | str, threads: int | None = None) -> Model:
    path = find_model_file(Path(model_dir))
    booster = xgb.Booster()
    booster.load_model(bytearray(path.read_bytes()))
    if threads:
        booster.set_param({"nthread": threads})
    return Model(booster, booster.num_features())


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------
def _parse_csv_rows(body: bytes, num_features: int) -> np.ndarray:
    """Row by row (slow path, only after the fast parse failed): an empty field (or "nan") is
    a missing value, which XGBoost handles natively, as SageMaker's XGBoost container does;
    anything else that is not a finite number is named by line and column."""
    rows = []
    for number, raw in enumerate(_lines(body), start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise BadRequest(f"line {number}: not UTF-8 text") from None
        if not line:
            raise BadRequest(f"line {number}: empty line (every line must be one row)")
        values = line.split(",")
        if len(values) != num_features:
            raise BadRequest(f"line {number}: expected {num_features} values, got {len(values)}")
        row = []
        for column, value in enumerate(values, start=1):
            if not value.strip():
                row.append(math.nan)
                continue
            try:
                number_value = float(value)
            except ValueError:
                raise BadRequest(
                    f"line {number}, column {column}: {value.strip()!r} is not a number"
                ) from None
            if math.isinf(number_value):
                raise BadRequest(f"line {number}, column {column}: {value.strip()!r} is not finite")
            row.append(number_value)
        rows.append(row)
    if not rows:
        raise BadRequest("the body is not CSV rows of numbers")
    return np.array(rows, dtype=np.float64)


def decode_csv(body: bytes, num_features: int) -> np.ndarray:
    if not body.strip():
        raise BadRequest("empty body: send one row per line")
    try:
        features = np.loadtxt(
            io.BytesIO(body), delimiter=",", ndmin=2, comments=None, dtype=np.float64
        )
    except ValueError:
        return _parse_csv_rows(body, num_features)
    if (
        # loadtxt skips blank lines: a row would be lost
        features.shape[0] != body.count(b"\n") + (not body.endswith(b"\n"))
        or features.shape[1] != num_features
        or np.isinf(features).any()
    ):
        return _parse_csv_rows(body, num_features)
    return features


def _json_row(row: object, where: str, num_features: int) -> list[float]:
    if isinstance(row, dict):
        row = row.get("features")
    if not isinstance(row, list):
        raise BadRequest(f"{where}: expected a list of {num_features} numbers")
    if len(row) != num_features:
        raise BadRequest(f"{where}: expected {num_features} values, got {len(row)}")
    for column, value in enumerate(row, start=1):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(f"{where}, column {column}: {value!r} is not a number")
        if not math.isfinite(value):
            raise BadRequest(f"{where}, column {column}: {value!r} is not finite")
    return [math.nan if v is None else float(v) for v in row]


def decode_json(body: bytes, num_features: int) -> np.ndarray:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None
    if isinstance(document, dict):
        if "instances" not in document:
            raise BadRequest('JSON object needs an "instances" list')
        rows = document["instances"]
    elif isinstance(document, list) and document and not isinstance(document[0], (list, dict)):
        rows = [document]  # a single row
    else:
        rows = document
    if not isinstance(rows, list) or not rows:
        raise BadRequest("JSON body holds no rows")
    return np.array(
        [_json_row(row, f"instance {i}", num_features) for i, row in enumerate(rows, start=1)],
        dtype=np.float64,
    )


def _lines(body: bytes) -> list[bytes]:
    """The body's lines, a final newline allowed."""
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def decode_jsonlines(body: bytes, num_features: int) -> np.ndarray:
    rows = []
    for number, line in enumerate(_lines(body), start=1):
        if not line.strip():
            raise BadRequest(f"line {number}: empty line (every line must be one row)")
        try:
            row = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"line {number}: not JSON ({exc})") from None
        rows.append(_json_row(row, f"line {number}", num_features))
    if not rows:
        raise BadRequest("empty body: send one JSON row per line")
    return np.array(rows, dtype=np.float64)


DECODERS = {CSV: decode_csv, JSON: decode_json, JSONLINES: decode_jsonlines}


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------
def _scores(scores: np.ndarray) -> list[float]:
    # float32 probabilities: 9 significant digits round-trip exactly.
    return [float(f"{s:.9g}") for s in scores.tolist()]


def encode(scores: np.ndarray, kind: str) -> bytes:
    if kind == CSV:
        return ("\n".join(f"{s:.9g}" for s in scores.tolist()) + "\n").encode()
    if kind == JSON:
        return json.dumps({"predictions": [{"score": s} for s in _scores(scores)]}).encode()
    return ("\n".join(json.dumps({"score": s}) for s in _scores(scores)) + "\n").encode()


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    rows: int


def invoke(model: Model, body: bytes, content_type: str | None, accept: str | None) -> Answer:
    """The whole request: check, decode, predict, encode. Raises InferenceError subclasses."""
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"payload is {len(body):,} bytes; the limit is {MAX_PAYLOAD_BYTES:,} (6 MB): "
            "send fewer rows per request"
        )
    kind = request_type(content_type)
    out_kind = response_type(accept, kind)
    features = DECODERS[kind](body, model.num_features)
    scores = model.predict(features)
    return Answer(encode(scores, out_kind), out_kind, len(scores))


def default_threads(workers: int) -> int:
    """xgboost threads per worker so that workers * threads ~ CPUs."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))

"""What the core answers, as aws/sagemaker-xgboost-container's serving answers (serve.py,
serve_utils.py), for every framework's model (serving.predictor's objective vocabulary).

Default answers (no SAGEMAKER_INFERENCE_OUTPUT), as the newest serve.py answers (its
sagemaker_inference encoder; see the README's "Serving contract"):
- text/csv: one row per line, `str()` of each value (float32 predictions widened to float64, as
  the container's `tolist()` does), a row of several values (multi:softprob, multi-target
  regression, a transformer's rows) joined by ","; under SAGEMAKER_BATCH each row is `str()` of
  its value, so a row of several values is its Python list ("[0.1, 0.9]"), as the container
  writes it. A transformer's rows are always CSV rows: the next container of a pipeline reads
  them.
- application/json: {"predictions": [{"score": v}, ...]} (v a list for several values).
- application/jsonlines / application/x-recordio-protobuf (the container has no default encoder
  for them and fails with 500; here they are answered): one {"score": v} per line / one record
  per row with label "score".
- a transformer's rows in JSON / JSON Lines are a request for the next container:
  {"instances": [{"features": [...]}, ...]} / one {"features": [...]} per line.

Selectable outputs (SAGEMAKER_INFERENCE_OUTPUT="predicted_label,probability,..."): the keys the
container defines, with its per-objective semantics (serve_utils.get_selected_predictions); a
key the model cannot give is answered as NaN, as the container does. Where the model names its
classes (scikit-learn's classes_, or inference.json), predicted_label and labels are those
names instead of the container's 0..k-1.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from serving.predictor import TRANSFORM, Signature

log = logging.getLogger("serving")

PREDICTED_LABEL = "predicted_label"
LABELS = "labels"
PROBABILITY = "probability"
PROBABILITIES = "probabilities"
RAW_SCORE = "raw_score"
RAW_SCORES = "raw_scores"
PREDICTED_SCORE = "predicted_score"
SELECTABLE_KEYS = (
    PREDICTED_LABEL,
    LABELS,
    PROBABILITY,
    PROBABILITIES,
    RAW_SCORE,
    RAW_SCORES,
    PREDICTED_SCORE,
)

_CLASSIFICATION_NO_PROBABILITY = (PREDICTED_LABEL, LABELS, RAW_SCORE, RAW_SCORES)
_CLASSIFICATION = (*_CLASSIFICATION_NO_PROBABILITY, PROBABILITY, PROBABILITIES)
VALID_KEYS = {
    "binary:logistic": _CLASSIFICATION,
    "binary:logitraw": _CLASSIFICATION_NO_PROBABILITY,
    "binary:hinge": _CLASSIFICATION_NO_PROBABILITY,
    "multi:softmax": _CLASSIFICATION_NO_PROBABILITY,
    "multi:softprob": _CLASSIFICATION,
}


class SelectionError(Exception):
    """Selectable outputs asked of a model that has none (a transformer)."""


def valid_keys(objective: str) -> tuple[str, ...]:
    """The container's VALID_OBJECTIVES, generalised: every regression-like objective (reg:*,
    count:*, survival:*, rank:*) has a predicted_score; a transformer has nothing to select."""
    if objective in VALID_KEYS:
        return VALID_KEYS[objective]
    if objective == TRANSFORM:
        raise SelectionError(
            "SAGEMAKER_INFERENCE_OUTPUT selects a model's outputs; this container serves a "
            "transformer (its answer is the transformed rows): unset SAGEMAKER_INFERENCE_OUTPUT"
        )
    return (PREDICTED_SCORE,)


def parse_selected_keys(value: str) -> tuple[str, ...]:
    """SAGEMAKER_INFERENCE_OUTPUT as the container reads it: spaces dropped, lower-cased, split
    on commas (order kept: it is the CSV column order)."""
    return tuple(value.replace(" ", "").lower().split(","))


# ---------------------------------------------------------------------------------------------
# Per-row values, with the container's semantics (serve_utils._get_*)
# ---------------------------------------------------------------------------------------------
def _name(signature: Signature, index: Any) -> Any:
    classes = signature.classes
    if classes is None:
        return index
    return classes[int(index)]


def _labels(signature: Signature) -> Any:
    if signature.classes is not None:
        return list(signature.classes)
    if signature.objective.startswith("binary:"):
        return [0, 1]
    if signature.objective.startswith("multi:") and signature.num_class:
        return list(range(int(signature.num_class)))
    return math.nan


def _predicted_label(signature: Signature, row: np.ndarray) -> Any:
    objective = signature.objective
    if objective in ("binary:hinge", "multi:softmax"):
        value = row.item()
        return value if signature.classes is None else _name(signature, value)
    if objective == "binary:logistic":
        return _name(signature, int(row > 0.5))
    if objective == "binary:logitraw":
        return _name(signature, int(row > 0))
    if objective == "multi:softprob":
        return _name(signature, np.argmax(row).item())
    return math.nan


def _probability(objective: str, row: np.ndarray) -> Any:
    if objective == "multi:softprob":
        return max(row).item()
    if objective == "binary:logistic":
        return row.item()
    return math.nan


def _probabilities(objective: str, row: np.ndarray) -> Any:
    if objective == "multi:softprob":
        return row.tolist()
    if objective == "binary:logistic":
        positive = row.item()
        return [1.0 - positive, positive]
    return math.nan


def _raw_score(objective: str, row: np.ndarray) -> Any:
    if objective == "multi:softprob":
        return max(row).item()
    if objective in ("binary:logitraw", "binary:hinge", "binary:logistic", "multi:softmax"):
        return row.item()
    return math.nan


def _raw_scores(objective: str, row: np.ndarray) -> Any:
    if objective == "multi:softprob":
        return row.tolist()
    if objective in ("binary:logitraw", "binary:hinge", "binary:logistic", "multi:softmax"):
        # The container's own definition: [1 - v, v], whatever v is.
        value = row.item()
        return [1.0 - value, value]
    return math.nan


def select(
    signature: Signature, predictions: np.ndarray, keys: Sequence[str]
) -> list[dict[str, Any]]:
    """One dict per row holding the selected keys (serve_utils.get_selected_predictions)."""
    valid = valid_keys(signature.objective)
    invalid = [k for k in keys if k not in valid]
    if invalid:
        log.warning(
            "selected key(s) %s incompatible with objective %r; compatible: %s",
            ", ".join(invalid),
            signature.objective,
            ", ".join(valid),
        )
    objective = signature.objective
    labels = _labels(signature) if LABELS in keys else None
    chosen = [k for k in SELECTABLE_KEYS if k in keys and k in valid]
    rows = []
    for row in predictions:
        output: dict[str, Any] = {}
        for key in chosen:
            if key == PREDICTED_LABEL:
                output[key] = _predicted_label(signature, row)
            elif key == LABELS:
                output[key] = labels
            elif key == PROBABILITY:
                output[key] = _probability(objective, row)
            elif key == PROBABILITIES:
                output[key] = _probabilities(objective, row)
            elif key == RAW_SCORE:
                output[key] = _raw_score(objective, row)
            elif key == RAW_SCORES:
                output[key] = _raw_scores(objective, row)
            else:
                output[key] = row.item() if row.size == 1 else row.tolist()
        for key in invalid:
            output[key] = math.nan
        rows.append(output)
    return rows


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------
def selected_csv(rows: list[dict[str, Any]], keys: Sequence[str], batch: bool) -> bytes:
    """serve_utils._encode_selected_predictions_csv: keys in the order selected, a list as its
    Python repr in double quotes, rows joined by newlines (a final one under SAGEMAKER_BATCH)."""
    lines = [
        ",".join(f'"{row[k]}"' if isinstance(row[k], list) else str(row[k]) for k in keys)
        for row in rows
    ]
    return ("\n".join(lines) + ("\n" if batch else "")).encode()


def selected_json(rows: list[dict[str, Any]]) -> bytes:
    # The container's json.dumps: NaN stays NaN (what its clients parse).
    return json.dumps({"predictions": rows}).encode()


def selected_jsonlines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def selected_records(
    rows: list[dict[str, Any]], classes: tuple[Any, ...] | None
) -> list[dict[str, list[float]]]:
    """Each row's values as float32 tensors under its keys; a label that is a class name
    cannot be float32, so it is answered as that class's index."""
    index = {name: float(i) for i, name in enumerate(classes or ())}
    records = []
    for row in rows:
        record = {}
        for key, value in row.items():
            values = value if isinstance(value, list) else [value]
            record[key] = [v if isinstance(v, (int, float)) else index[v] for v in values]
        records.append(record)
    return records


def default_csv(signature: Signature, predictions: np.ndarray, batch: bool) -> bytes:
    if signature.objective == TRANSFORM or not batch or predictions.ndim == 1:
        # The container's sagemaker_inference encoder (np.savetxt, fmt "%s"): one row per
        # line, a row's values joined by ","; a transformer's rows always so. (SAGEMAKER_BATCH's
        # lines of one value each are the same bytes.)
        return rows_csv(predictions)
    # SAGEMAKER_BATCH: "\n".join(map(str, predictions)) + "\n" — a row of several values is
    # its Python list ("[0.1, 0.9]"), as the container writes it.
    return ("\n".join(map(str, predictions.tolist())) + "\n").encode()


def rows_csv(matrix: np.ndarray) -> bytes:
    """Rows of numbers as CSV, one row per line (a transformer's output, the next container's
    input), each value as `str()` of the Python number `tolist()` gives."""
    matrix = matrix.reshape(len(matrix), -1)
    text = _float_text(matrix.ravel(), matrix.shape[1])
    if text is not None:
        return text
    return "".join(",".join(map(str, row)) + "\n" for row in matrix.tolist()).encode()


# From this many values on, the bulk formatting is faster than str() one by one (~0.55 us a value
# for float32 scores widened to float64, 17 significant digits). Per CSV answer, bulk vs str(),
# uniform scores / log-uniform from 1e-6 (2026-12-04): 128 values 0.18 vs 0.13 / 0.27 vs 0.15 ms,
# 192 0.18 vs 0.20 / 0.28 vs 0.24, 256 0.20 vs 0.27 / 0.30 vs 0.30, 512 0.23 vs 0.54 / 0.36 vs
# 0.60, 1,000 0.30 vs 1.04 / 0.46 vs 1.15.
ARROW_FORMAT_MIN_VALUES = 256
# Values Arrow lays out unlike str() are written by str(); past this share of them, all are.
ARROW_FORMAT_MAX_REDONE = 0.25


def float_strings(values: np.ndarray) -> list[str] | None:
    """`str()` of each value as a Python float (float32 widened to float64, as tolist() does),
    formatted in bulk (_float_text); None where _float_text is."""
    text = _float_text(values, 1)
    return None if text is None else text[:-1].decode().split("\n")


def _float_text(values: np.ndarray, width: int) -> bytes | None:
    """`str()` of each value as a Python float, `width` values a line joined by ",", each line
    ended by "\n"; None for anything but floats, fewer than ARROW_FORMAT_MIN_VALUES of them, or
    when too many would need str() anyway.

    Arrow (double-conversion's shortest mode) writes the same shortest round-trip digits as
    Python's repr, laid out alike for non-whole numbers from 1e-4 to 1e10. From 1e-6 to 1e-4
    (most scores of a model of rare events) Arrow writes "0.0000123" where Python writes
    "1.23e-05": those are rewritten from Arrow's digits. Python writes an exponent from 1e16,
    Arrow from 1e10 and below 1e-6 ("1.5e-7" for "1.5e-07"), and Arrow writes whole numbers
    without ".0": those are written by str(). Should Arrow lay out anything else otherwise,
    None. The values are laid out in a byte matrix, one row each, so that every step is one
    numpy operation, not one per value."""
    if values.dtype.kind != "f" or len(values) < ARROW_FORMAT_MIN_VALUES:
        return None
    import pyarrow as pa  # here: `serve` loads it only once an answer this large is written
    import pyarrow.compute as pc

    wide = values.astype(np.float64, copy=False)
    count = len(wide)
    magnitude = np.abs(wide)
    finite = np.isfinite(wide)
    with np.errstate(invalid="ignore"):
        small = finite & (magnitude >= 1e-6) & (magnitude < 1e-4)
        redo = finite & (
            (magnitude >= 1e10) | ((magnitude < 1e-6) & (magnitude > 0)) | (wide == np.trunc(wide))
        )
    redone = np.flatnonzero(redo)
    if len(redone) > ARROW_FORMAT_MAX_REDONE * count:
        return None
    strings = pc.cast(pa.array(wide), pa.string())
    _, offsets, data = strings.buffers()
    offsets = np.frombuffer(offsets, np.int32, count + 1)
    lengths = np.diff(offsets)  # a new array: updated below as values are rewritten
    data = np.frombuffer(data, np.uint8, offsets[-1])
    if not redo[np.searchsorted(offsets, np.flatnonzero(data == ord("e")), "right") - 1].all():
        return None  # pragma: no cover - an Arrow that lays numbers out otherwise
    again = [str(float(wide[index])).encode() for index in redone.tolist()]
    columns = max(int(lengths.max()), max(map(len, again), default=0)) + 1  # + the separator
    padded = pc.utf8_rpad(strings, width=columns, padding="\x00")  # one value a row of bytes
    table = np.frombuffer(padded.buffers()[2], np.uint8, count * columns).reshape(count, columns)
    table = table.copy()
    if small.any():
        picked = np.flatnonzero(small)
        rewritten = _exponent_form(table[picked], lengths[picked], wide[picked] < 0)
        if rewritten is None:
            return None  # pragma: no cover - the same
        table[picked], lengths[picked] = rewritten
    if again:
        for index, text in zip(redone.tolist(), again, strict=True):
            table[index] = 0
            table[index, : len(text)] = np.frombuffer(text, np.uint8)
            lengths[index] = len(text)
    separators = np.full(count, ord(","), np.uint8)
    separators[width - 1 :: width] = ord("\n")
    table[np.arange(count), lengths] = separators
    return table[table != 0].tobytes()


def _exponent_form(
    table: np.ndarray, lengths: np.ndarray, negative: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows of Arrow's "0.0000123" / "-0.00000456" (values from 1e-6 to 1e-4), one value a row
    of a zero-padded byte matrix, as Python writes them: "1.23e-05" / "-4.56e-06" (one digit:
    "1e-05"); with their new lengths. None if a row is not laid out so."""
    rows, columns = table.shape
    signs = negative.any()
    body = table
    if signs:  # the sign aside
        body = table.copy()
        body[negative, :-1] = table[negative, 1:]
        body[negative, -1] = 0
    size = lengths - negative
    if (size < 7).any() or (body[:, :6] != np.frombuffer(b"0.0000", np.uint8)).any():
        return None  # pragma: no cover - not "0.0000" and a digit
    five = body[:, 6] == ord("0")  # 0.00000d: 1e-06 and up; else 0.0000d: 1e-05 and up
    lead = np.where(five, body[:, 7], body[:, 6])  # the first significant digit
    if ((lead < ord("1")) | (lead > ord("9"))).any():
        return None  # pragma: no cover
    digits = size - np.where(five, 7, 6)
    out = np.empty_like(body)
    out[:, 0] = lead
    out[:, 1] = ord(".")
    out[:, 2 : columns - 5] = body[:, 7:columns]
    if five.any():
        out[five, 2 : columns - 6] = body[five, 8:columns]
    new_size = np.where(digits > 1, digits + 5, 5)  # d[.ddd] then e-0K
    suffix = new_size - 4
    at = np.arange(rows)
    out[at, suffix] = ord("e")
    out[at, suffix + 1] = ord("-")
    out[at, suffix + 2] = ord("0")
    out[at, suffix + 3] = np.where(five, ord("6"), ord("5"))
    out *= np.arange(columns) < new_size[:, None]
    if signs:
        out[negative, 1:] = out[negative, :-1].copy()
        out[negative, 0] = ord("-")
    return out, new_size + negative


def default_json(signature: Signature, predictions: np.ndarray) -> bytes:
    if signature.objective == TRANSFORM:
        rows = predictions.reshape(len(predictions), -1).tolist()
        return json.dumps({"instances": [{"features": row} for row in rows]}).encode()
    scores = _json_numbers(predictions)
    if scores is not None:
        return ('{"predictions": [{"score": ' + '}, {"score": '.join(scores) + "}]}").encode()
    return json.dumps({"predictions": [{"score": v} for v in predictions.tolist()]}).encode()


def default_jsonlines(signature: Signature, predictions: np.ndarray) -> bytes:
    if signature.objective == TRANSFORM:
        rows = predictions.reshape(len(predictions), -1).tolist()
        return "".join(json.dumps({"features": row}) + "\n" for row in rows).encode()
    scores = _json_numbers(predictions)
    if scores is not None:
        return ('{"score": ' + '}\n{"score": '.join(scores) + "}\n").encode()
    return "".join(json.dumps({"score": v}) + "\n" for v in predictions.tolist()).encode()


_JSON_CONSTANTS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _json_numbers(predictions: np.ndarray) -> list[str] | None:
    """One score per row as json.dumps writes each (float.__repr__, NaN and Infinity as its
    constants), formatted in bulk (float_strings); None for anything else (rows of several
    values, integers, too few values, too many Arrow would not lay out as Python)."""
    if predictions.ndim != 1:
        return None
    text = float_strings(predictions)
    if text is not None:
        for index in np.flatnonzero(~np.isfinite(predictions)).tolist():
            text[index] = _JSON_CONSTANTS[text[index]]
    return text


DEFAULT_RECORD_KEY = "score"


def default_records(predictions: np.ndarray) -> list[dict[str, list[float]]]:
    matrix = predictions.reshape(len(predictions), -1).tolist()
    return [{DEFAULT_RECORD_KEY: row} for row in matrix]

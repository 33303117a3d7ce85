"""Captured traffic as SageMaker's data capture writes it: the window of requests, each one's
rows and the endpoint's scores. No model library here: ground truth and the checks share it."""

from __future__ import annotations

import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from operators.s3 import get_bytes, split_uri


def parse_window(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(m|h|d)", text.strip())
    if not match:
        raise ValueError(f"{text!r}: a duration such as 30m, 1h or 2d")
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: float(match.group(1))})


@dataclass(frozen=True)
class Window:
    since: datetime | None = None
    until: datetime | None = None
    inference_id_prefix: str | None = None  # only requests whose InferenceId starts with it

    @classmethod
    def last(cls, duration: timedelta, now: datetime | None = None) -> Window:
        end = now or datetime.now(UTC)
        return cls(end - duration, end)

    def contains(self, when: datetime) -> bool:
        return (self.since is None or when >= self.since) and (
            self.until is None or when < self.until
        )

    def hour_may_overlap(self, hour: datetime) -> bool:
        return (self.since is None or hour + timedelta(hours=1) > self.since) and (
            self.until is None or hour < self.until
        )

    def describe(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "inference_id_prefix": self.inference_id_prefix,
        }


Output = float | list[float]  # one row's answer: a score or value, or class probabilities


@dataclass(frozen=True)
class Capture:
    """One captured request: its rows (headerless CSV lines) and the endpoint's answer per row."""

    event_id: str
    inference_id: str | None
    variant: str
    time: datetime
    rows: list[str]
    outputs: list[Output] | None

    @property
    def join_key(self) -> str:
        return self.inference_id or self.event_id

    @property
    def scores(self) -> list[float] | None:
        """One number per row (a binary score, a regression value); for class probabilities,
        the probability of class 1 (what a binary model with two outputs means)."""
        if self.outputs is None:
            return None
        return [o if isinstance(o, float) else o[-1] if len(o) == 2 else o[0] for o in self.outputs]


def decode(payload: dict[str, Any]) -> str:
    data = payload.get("data", "")
    if payload.get("encoding") == "BASE64":
        return base64.b64decode(data).decode()
    return data


def _output(value: Any) -> Output:
    if isinstance(value, dict):
        for key in ("score", "scores", "probabilities", "probability", "predicted_value"):
            if key in value:
                return _output(value[key])
        if "predicted_label" in value:
            return _output(value["predicted_label"])
        raise ValueError(f"an output record without a score: {json.dumps(value)[:80]}")
    if isinstance(value, list):
        numbers = [float(v) for v in value]
        return numbers[0] if len(numbers) == 1 else numbers
    return float(value)


def parse_outputs(payload: dict[str, Any]) -> list[Output]:
    """The endpoint's answer per row from a captured (or Batch Transform) output: CSV lines
    (one value, several values joined by "," or a Python list "[0.1, 0.9]" per row),
    {"predictions": [...]} or JSON lines, each item a number, a list or a record with
    "score"/"scores"/"probabilities"/"predicted_label"."""
    text = decode(payload).strip()
    kind = payload.get("observedContentType", "")
    if kind.startswith("application/jsonlines"):
        return [_output(json.loads(line)) for line in text.splitlines() if line.strip()]
    if kind.startswith("application/json"):
        document = json.loads(text)
        items = document["predictions"] if isinstance(document, dict) else document
        return [_output(item) for item in items]
    outputs: list[Output] = []
    for line in text.splitlines():
        line = line.strip().removeprefix("[").removesuffix("]")
        if line:
            outputs.append(_output([v for v in line.split(",") if v.strip()]))
    return outputs


def per_row(outputs: list[Output] | None, rows: list[str]) -> list[Output] | None:
    """One line of n values for n rows is one score per row (as SageMaker's XGBoost answers a
    CSV batch), not one row's n class probabilities."""
    if outputs and len(outputs) == 1 and isinstance(outputs[0], list) and len(rows) > 1:
        return list(outputs[0]) if len(outputs[0]) == len(rows) else outputs
    return outputs


def parse_scores(payload: dict[str, Any]) -> list[float]:
    """One number per row (see Capture.scores)."""
    return Capture("", None, "", datetime.now(UTC), [], parse_outputs(payload)).scores or []


def read_captures(s3: Any, capture_uri: str, endpoint: str, window: Window) -> list[Capture]:
    """The endpoint's captured requests in the window, oldest first, from SageMaker's layout
    <capture_uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl."""
    bucket, prefix = split_uri(capture_uri)
    prefix = f"{prefix.strip('/')}/{endpoint}/" if prefix.strip("/") else f"{endpoint}/"
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            parts = obj["Key"][len(prefix) :].split("/")  # variant/yyyy/mm/dd/hh/file
            try:
                hour = datetime(*map(int, parts[1:5]), tzinfo=UTC)
            except (TypeError, ValueError):
                continue
            if window.hour_may_overlap(hour):
                keys.append(obj["Key"])

    def read(key: str) -> list[Capture]:
        body = get_bytes(s3, bucket, key).decode()
        variant = key[len(prefix) :].split("/")[0]
        found = []
        for line in body.splitlines():
            record = json.loads(line)
            metadata = record["eventMetadata"]
            when = datetime.strptime(metadata["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=UTC
            )
            inference_id = metadata.get("inferenceId")
            if not window.contains(when) or (
                window.inference_id_prefix
                and not (inference_id or "").startswith(window.inference_id_prefix)
            ):
                continue
            data = record["captureData"]
            rows = (
                [r for r in decode(data["endpointInput"]).splitlines() if r.strip()]
                if "endpointInput" in data
                else []
            )
            outputs = parse_outputs(data["endpointOutput"]) if "endpointOutput" in data else None
            found.append(
                Capture(
                    metadata["eventId"], inference_id, variant, when, rows, per_row(outputs, rows)
                )
            )
        return found

    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(read, keys))
    return sorted((c for batch in batches for c in batch), key=lambda c: (c.time, c.event_id))

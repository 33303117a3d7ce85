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


@dataclass(frozen=True)
class Capture:
    """One captured request: its rows (headerless CSV lines) and the endpoint's scores."""

    event_id: str
    inference_id: str | None
    variant: str
    time: datetime
    rows: list[str]
    scores: list[float] | None

    @property
    def join_key(self) -> str:
        return self.inference_id or self.event_id


def decode(payload: dict[str, Any]) -> str:
    data = payload.get("data", "")
    if payload.get("encoding") == "BASE64":
        return base64.b64decode(data).decode()
    return data


def parse_scores(payload: dict[str, Any]) -> list[float]:
    """The endpoint's scores from a captured output: CSV lines, {"predictions": [...]} or JSON
    lines of {"score": ...}."""
    text = decode(payload).strip()
    if payload.get("observedContentType", "").startswith("application/json"):
        document = json.loads(text)
        return [float(p["score"]) for p in document["predictions"]]
    if payload.get("observedContentType", "").startswith("application/jsonlines"):
        return [float(json.loads(line)["score"]) for line in text.splitlines()]
    return [float(v) for v in text.replace(",", "\n").split()]


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
            scores = parse_scores(data["endpointOutput"]) if "endpointOutput" in data else None
            found.append(Capture(metadata["eventId"], inference_id, variant, when, rows, scores))
        return found

    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(read, keys))
    return sorted((c for batch in batches for c in batch), key=lambda c: (c.time, c.event_id))

"""`byo ground-truth generate`: labels for captured requests, in SageMaker's ground-truth format.

Each captured request gets a label, keyed by its inferenceId (else its eventId), written as
JSONL under ground-truth/yyyy/mm/dd/hh/ (the hour of the request). Label rules:
- `--labels FILE` (the labelled dataset): the known label of the replayed row, flipped at rate
  (1 - accuracy);
- otherwise: the endpoint's own decision (score >= 0.5), flipped at rate (1 - accuracy).
Deterministic for a seed: each flip is drawn from a hash of (seed, event id), whatever the order.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operators.aws import Clients
from operators.errors import ConfigError

LABEL = "Class"


def row_key(text: str) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in text.strip().split(","))


def load_labels(path: Path) -> dict[tuple[float, ...], int]:
    """Feature row → label, from a dataset CSV with a header and a Class column."""
    with path.open() as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if LABEL not in header:
            raise ConfigError(f"{path} has no {LABEL} column (header: {', '.join(header[:5])}…)")
        index = header.index(LABEL)
        labels = {}
        for row in reader:
            features = row[:index] + row[index + 1 :]
            labels[row_key(",".join(features))] = int(float(row[index]))
    return labels


def draw(seed: int, event_id: str) -> float:
    digest = hashlib.sha256(f"{seed}:{event_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decode(payload: dict[str, Any]) -> str:
    data = payload.get("data", "")
    if payload.get("encoding") == "BASE64":
        return base64.b64decode(data).decode()
    return data


def captured_records(
    clients: Clients,
    capture_uri: str,
    endpoint: str,
    since: datetime | None,
    until: datetime | None,
):
    bucket, _, prefix = capture_uri.removeprefix("s3://").partition("/")
    prefix = f"{prefix.rstrip('/')}/{endpoint}/"
    pages = clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for obj in page.get("Contents", []):
            body = clients.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            for line in body.splitlines():
                record = json.loads(line)
                when = datetime.strptime(
                    record["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ"
                ).replace(tzinfo=UTC)
                if (since and when < since) or (until and when >= until):
                    continue
                yield record, when


def generate(
    clients: Clients,
    *,
    capture_uri: str,
    endpoint: str,
    bucket: str,
    seed: int = 0,
    accuracy: float = 0.9,
    labels_file: Path | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    prefix: str = "ground-truth/",
) -> dict[str, Any]:
    if not 0.0 <= accuracy <= 1.0:
        raise ConfigError(f"--accuracy must be between 0 and 1, got {accuracy}")
    labels = load_labels(labels_file) if labels_file else None
    by_hour: dict[str, list[str]] = defaultdict(list)
    counts: Counter = Counter()
    for record, when in captured_records(clients, capture_uri, endpoint, since, until):
        metadata = record["eventMetadata"]
        event_id = metadata.get("inferenceId") or metadata["eventId"]
        capture = record["captureData"]
        if labels is not None:
            if "endpointInput" not in capture:
                raise ConfigError(
                    "captures hold no input (capture mode Output only): the known "
                    "labels cannot be matched; drop --labels"
                )
            first_row = decode(capture["endpointInput"]).strip().splitlines()[0]
            label = labels.get(row_key(first_row))
            if label is None:
                counts["unmatched"] += 1
                continue
        else:
            if "endpointOutput" not in capture:
                raise ConfigError(
                    "captures hold no output (capture mode Input only): pass "
                    "--labels with the labelled dataset"
                )
            score = float(decode(capture["endpointOutput"]).split()[0])
            label = int(score >= 0.5)
        if draw(seed, event_id) >= accuracy:
            label = 1 - label
            counts["flipped"] += 1
        counts["labels"] += 1
        counts["positives"] += label
        by_hour[when.strftime("%Y/%m/%d/%H")].append(
            json.dumps(
                {
                    "groundTruthData": {"data": str(label), "encoding": "CSV"},
                    "eventMetadata": {"eventId": event_id},
                    "eventVersion": "0",
                },
                separators=(",", ":"),
            )
        )
    written = []
    for hour, lines in sorted(by_hour.items()):
        key = f"{prefix}{hour}/byo-seed{seed}.jsonl"
        clients.s3.put_object(
            Bucket=bucket, Key=key, Body=("\n".join(sorted(lines)) + "\n").encode()
        )
        written.append(f"s3://{bucket}/{key}")
    return {
        "labels": counts["labels"],
        "positives": counts["positives"],
        "flipped": counts["flipped"],
        "unmatched": counts["unmatched"],
        "objects": written,
        "rule": "known labels" if labels is not None else "endpoint decision",
        "accuracy": accuracy,
        "seed": seed,
    }

"""`byo ground-truth generate`: labels for captured requests, in SageMaker's ground-truth format.

Each captured request gets a label per row (one per line of groundTruthData, in row order),
keyed by its inferenceId (else its eventId), written as JSONL under
ground-truth/yyyy/mm/dd/hh/ (the hour of the request). Label rules:
- `--labels FILE` (the labelled dataset): the known label of the replayed row, flipped at rate
  (1 - accuracy);
- otherwise: the endpoint's own decision (score >= 0.5), flipped at rate (1 - accuracy).
Deterministic for a seed: each flip is drawn from a hash of (seed, event id), whatever the order.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from operators.aws import Clients
from operators.errors import ConfigError
from operators.layout import Layout
from operators.monitoring.captures import Window, read_captures
from operators.s3 import join_uri

LABEL = "Class"


def row_key(text: str) -> tuple[float | None, ...]:
    """A request row as the dataset's rows are keyed; a missing or non-numeric field is None,
    which no dataset row has, so such a row (altered traffic, say) is counted as unmatched."""

    def number(field: str) -> float | None:
        try:
            return round(float(field), 6)
        except ValueError:
            return None

    return tuple(number(v) for v in text.strip().split(","))


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


def label_record(event_id: str, labels: list[int]) -> str:
    """One ground-truth JSONL line: a label per row of the request, one per line."""
    return json.dumps(
        {
            "groundTruthData": {"data": "\n".join(map(str, labels)), "encoding": "CSV"},
            "eventMetadata": {"eventId": event_id},
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )


def write_labels(
    clients: Clients, bucket: str, prefix: str, by_hour: dict[str, list[str]], name: str
) -> list[str]:
    """Write label lines under prefix/yyyy/mm/dd/hh/name.jsonl; return the URIs."""
    written = []
    for hour, lines in sorted(by_hour.items()):
        key = f"{prefix}{hour}/{name}.jsonl"
        clients.s3.put_object(
            Bucket=bucket, Key=key, Body=("\n".join(sorted(lines)) + "\n").encode()
        )
        written.append(join_uri(bucket, key))
    return written


def generate(
    clients: Clients,
    *,
    capture_uri: str,
    endpoint: str,
    layout: Layout,
    seed: int = 0,
    accuracy: float = 0.9,
    labels_file: Path | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    if not 0.0 <= accuracy <= 1.0:
        raise ConfigError(f"--accuracy must be between 0 and 1, got {accuracy}")
    labels = load_labels(labels_file) if labels_file else None
    by_hour: dict[str, list[str]] = defaultdict(list)
    counts: Counter = Counter()
    for capture in read_captures(clients.s3, capture_uri, endpoint, Window(since, until)):
        if labels is not None and not capture.rows:
            raise ConfigError(
                "captures hold no input (capture mode Output only): the known "
                "labels cannot be matched; drop --labels"
            )
        if labels is None and capture.scores is None:
            raise ConfigError(
                "captures hold no output (capture mode Input only): pass "
                "--labels with the labelled dataset"
            )
        if labels is not None:
            found = [labels.get(row_key(row)) for row in capture.rows]
            if None in found:
                counts["unmatched"] += 1
                continue
        else:
            found = [int(score >= 0.5) for score in capture.scores]
        row_labels = []
        for index, label in enumerate(found):
            # Row 0 draws on the id alone, so a one-row request's label does not depend on
            # how many rows other requests had.
            key = capture.join_key if index == 0 else f"{capture.join_key}:{index}"
            if draw(seed, key) >= accuracy:
                label = 1 - label
                counts["flipped"] += 1
            row_labels.append(label)
        counts["labels"] += len(row_labels)
        counts["positives"] += sum(row_labels)
        by_hour[capture.time.strftime("%Y/%m/%d/%H")].append(
            label_record(capture.join_key, row_labels)
        )
    return {
        "labels": counts["labels"],
        "positives": counts["positives"],
        "flipped": counts["flipped"],
        "unmatched": counts["unmatched"],
        "objects": write_labels(
            clients, layout.bucket, layout.ground_truth, by_hour, f"byo-seed{seed}"
        ),
        "rule": "known labels" if labels is not None else "endpoint decision",
        "accuracy": accuracy,
        "seed": seed,
    }

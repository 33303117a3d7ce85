"""Codec microbenchmark: decode + predict + encode against predict alone, in this process, one
thread, no HTTP, per payload size (1 to 10,000 rows) and content type.

Times are this thread's CPU time (time.thread_time), medians of interleaved runs: on a shared
2-core machine wall time measures the neighbours; CPU time is what the request costs. The load
average before and after is printed with the table.

    python -m bench codecs
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xgboost as xgb

from sample.generate import FEATURES, LABEL, generate
from serving.artifact import MODEL_FILE
from serving.codecs import CSV, JSON, JSONLINES, LIBSVM, RECORDIO, encode_recordio_features
from serving.inference import invoke, load_model

SIZES = (1, 10, 100, 1_000, 10_000)
TYPES = (CSV, LIBSVM, JSON, JSONLINES, RECORDIO)
RUNS = 3
CALL_ROWS = 5_000  # rows per timed batch of calls: few calls for big payloads, many for small


def body(kind: str, rows: np.ndarray) -> bytes:
    """rows as a client sends them in each content type (CSV as the sample writes it)."""
    if kind == CSV:
        return "".join(",".join(map(str, row)) + "\n" for row in rows.tolist()).encode()
    if kind == JSON:
        return ('{"instances": [' + ", ".join(map(str, rows.tolist())) + "]}").encode()
    if kind == JSONLINES:
        return "".join(str(row) + "\n" for row in rows.tolist()).encode()
    if kind == LIBSVM:  # a label (ignored), then index:value for every feature, 0-based
        return "".join(
            "0 " + " ".join(f"{i}:{v}" for i, v in enumerate(row)) + "\n" for row in rows.tolist()
        ).encode()
    return encode_recordio_features(rows)


def cpu_seconds_per_call(call: Callable[[], object], calls: int) -> float:
    began = time.thread_time()
    for _ in range(calls):
        call()
    return (time.thread_time() - began) / calls


def measure(model_dir: Path, features: np.ndarray) -> dict[tuple[str, int], tuple[float, float]]:
    """(kind, rows) → (rows/s of the core, rows/s of predict alone), interleaved per run."""
    model = load_model(model_dir, threads=1)
    cases = {}
    for rows in SIZES:
        chunk = features[:rows]
        for kind in TYPES:
            payload = body(kind, chunk)
            cases[kind, rows] = (
                # libsvm is a request type only: its answer is CSV
                lambda payload=payload, kind=kind: invoke(
                    model, payload, kind, CSV if kind == LIBSVM else kind
                ),
                lambda chunk=chunk: model.predict(chunk),
            )
    times: dict[tuple[str, int], tuple[list[float], list[float]]] = {
        case: ([], []) for case in cases
    }
    for _ in range(RUNS):
        for (kind, rows), (core, predict) in cases.items():
            calls = max(3, CALL_ROWS // rows)
            times[kind, rows][0].append(cpu_seconds_per_call(core, calls))
            times[kind, rows][1].append(cpu_seconds_per_call(predict, calls))
    return {
        (kind, rows): (rows / statistics.median(core), rows / statistics.median(predict))
        for (kind, rows), (core, predict) in times.items()
    }


def train_model(table_rows: int, out: Path) -> np.ndarray:
    """A small XGBoost fraud model in out (a SageMaker model directory); returns the features."""
    table = generate(table_rows)
    features = np.column_stack([table.column(name).to_numpy() for name in FEATURES])
    labels = table.column(LABEL).to_numpy()
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 6, "nthread": 1},
        xgb.DMatrix(features, label=labels),
        num_boost_round=100,
    )
    booster.save_model(str(out / MODEL_FILE))
    return features


def run() -> list[str]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        features = train_model(max(SIZES), Path(tmp))
        rates = measure(Path(tmp), features)
    load_after = os.getloadavg()
    lines = [
        f"Codecs, in process, one thread, CPU time, medians of {RUNS} interleaved runs; load "
        f"average {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} "
        "cores.",
        "",
        "| content type | rows/request | decode+predict+encode | predict alone | share |",
        "|---|---|---|---|---|",
    ]
    for kind in TYPES:
        for rows in SIZES:
            core, predict = rates[kind, rows]
            lines.append(
                f"| {kind} | {rows:,} | {core / 1e3:,.1f}k rows/s | {predict / 1e3:,.1f}k rows/s "
                f"| {core / predict:.0%} |"
            )
    return lines

"""Frameworks benchmark: rows/s of every framework the serving core serves, at three levels.

Five models, all trained on the same fraud rows (sample.generate, Time, V1..V28, Amount) and
written as model directories the core loads (serving.frameworks): XGBoost binary:logistic (trained
as `make model` trains it, operators.pipeline.training.train), scikit-learn (a StandardScaler +
LogisticRegression Pipeline and a 100-tree depth-8 RandomForestClassifier, joblib), LightGBM
(binary, 100 trees, its text model) and ONNX (the scikit-learn Pipeline through skl2onnx, zipmap
off). For each, on one identical 1,000-row text/csv payload:

1. predict alone: the loaded Predictor's predict(X) on the already-parsed rows, one thread;
2. the core: serving.inference.invoke on the CSV body (decode + predict + encode), one thread;
3. served: the real `serve` process (1 and 2 gunicorn workers) driven by bench.serving's client
   at concurrency 1 and 4 over loopback, each run bounded in requests and sized from a warm-up
   to take about SERVED_SECONDS.

In-process rates are the median of RUNS timed runs. Served answers are checked against the
core's before they are timed, so every framework is measured doing the same, correct work.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.serving import (
    STOP_SECONDS,
    drive,
    payloads,
    post_csv,
    start_serve,
    stop,
    wait_ready,
    workers_of,
)
from operators.pipeline.training import SEED, train
from sample.generate import FEATURES, LABEL, read_csv, write_csv
from serving.artifact import unpack
from serving.inference import invoke, load_model
from serving.predictor import Predictor

HEADING = "## Frameworks"
# RandomForest training dominates the section's time (~10 s at 30,000 rows on 2 cores, ~2 min
# on all 284,807); prediction speed depends on the trees, not on how many rows grew them.
TRAIN_ROWS = 30_000
ROWS = 1000  # rows per predict call and per request
RUNS = 7  # timed in-process runs; the median is reported
RUN_SECONDS = 0.2  # each in-process run's length, from a warm-up call
WORKERS = (1, 2)
CONCURRENCY = (1, 4)
SERVED_SECONDS = 1.5  # each served run's length, from a warm-up
MAX_REQUESTS = 400  # and never more requests than this
MODELS = (
    ("XGBoost", "xgboost"),
    ("scikit-learn LogisticRegression pipeline", "sklearn-pipeline"),
    ("scikit-learn RandomForest", "sklearn-forest"),
    ("LightGBM", "lightgbm"),
    ("ONNX (the pipeline, skl2onnx)", "onnx"),
)

RUNTIMES = {"sklearn": "scikit-learn", "onnx": "onnxruntime"}  # what serves each framework
BUSY_CORES = 0.25  # others' average use of the cores above which the machine counts as busy


@dataclass(frozen=True)
class Measured:
    model: str
    detail: str  # what was trained: trees, size
    predict: float  # rows/s
    core: float
    served: dict[tuple[int, int], float]  # (workers, concurrency) → rows/s
    forced: tuple[int, ...]  # worker counts whose server had to be SIGKILLed


# ---------------------------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------------------------
def build_models(train_csv: Path, out: Path) -> dict[str, tuple[Path, str]]:
    """Every model of MODELS trained on `train_csv`, each in its own directory under `out`:
    name → (model directory, what it is)."""
    import joblib
    import lightgbm
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    table = read_csv(train_csv)
    x = np.column_stack([table.column(n).to_numpy().astype(np.float64) for n in FEATURES])
    y = table.column(LABEL).to_numpy().astype(np.int64)
    dirs = {name: out / name for _, name in MODELS}
    for path in dirs.values():
        path.mkdir(parents=True)
    built: dict[str, tuple[Path, str]] = {}

    result = train(train_csv, out / "xgboost-training", seed=SEED)
    unpack(result.model_path, dirs["xgboost"])
    trees = result.evaluation["model"]["best_iteration"] + 1
    built["xgboost"] = (dirs["xgboost"], f"{trees} trees (early stopping), max_depth 5")

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(x, y)
    joblib.dump(pipeline, dirs["sklearn-pipeline"] / "model.joblib")
    built["sklearn-pipeline"] = (dirs["sklearn-pipeline"], "StandardScaler + LogisticRegression")

    forest = RandomForestClassifier(n_estimators=100, max_depth=8, n_jobs=2, random_state=SEED)
    forest.fit(x, y)
    forest.set_params(n_jobs=None)  # served with one thread per worker, as the others are
    joblib.dump(forest, dirs["sklearn-forest"] / "model.joblib")
    built["sklearn-forest"] = (dirs["sklearn-forest"], "100 trees, max_depth 8")

    params = {"objective": "binary", "num_threads": 2, "verbose": -1, "seed": SEED}
    booster = lightgbm.train(params, lightgbm.Dataset(x, y), num_boost_round=100)
    booster.save_model(str(dirs["lightgbm"] / "model.txt"))
    built["lightgbm"] = (dirs["lightgbm"], f"{booster.num_trees()} trees, num_leaves 31")

    onnx_model = to_onnx(pipeline, x[:1].astype(np.float32), options={"zipmap": False})
    (dirs["onnx"] / "model.onnx").write_bytes(onnx_model.SerializeToString())
    built["onnx"] = (dirs["onnx"], "float32 input, probabilities tensor")
    return built


# ---------------------------------------------------------------------------------------------
# In-process
# ---------------------------------------------------------------------------------------------
def rows_per_second(call: Callable[[], object], rows: int) -> float:
    """Median rows/s of RUNS runs of `call`, each run as many calls as fit in RUN_SECONDS."""
    began = time.perf_counter()
    call()  # warm-up, and the size of a run
    calls = max(1, int(RUN_SECONDS / max(time.perf_counter() - began, 1e-6)))
    rates = []
    for _ in range(RUNS):
        began = time.perf_counter()
        for _ in range(calls):
            call()
        rates.append(calls * rows / (time.perf_counter() - began))
    return statistics.median(rates)


def answer_scores(body: bytes) -> np.ndarray:
    return np.loadtxt(body.splitlines(), delimiter=",", ndmin=1)


def in_process(model: Predictor, body: bytes, features: np.ndarray) -> tuple[float, float]:
    """(predict alone, the core) in rows/s, after checking the core answers predict's scores."""
    answer = invoke(model, body, "text/csv", "text/csv")
    expected = model.predict(features)
    if answer.rows != ROWS or not np.allclose(answer_scores(answer.body), expected, atol=1e-6):
        raise RuntimeError(
            f"{model.signature.source}: invoke's answer differs from predict's scores"
        )
    predict = rows_per_second(lambda: model.predict(features), ROWS)
    core = rows_per_second(lambda: invoke(model, body, "text/csv", "text/csv"), ROWS)
    return predict, core


# ---------------------------------------------------------------------------------------------
# Served
# ---------------------------------------------------------------------------------------------
def served(
    model_dir: Path, body: bytes, expected: np.ndarray, workers: int
) -> tuple[dict[tuple[int, int], float], bool]:
    """rows/s of a `serve` process with `workers` workers at each CONCURRENCY, and whether
    stopping it took a SIGKILL."""
    with tempfile.NamedTemporaryFile(prefix="bench-serve-", suffix=".log") as log:
        server, port = start_serve(model_dir, workers, log)
        try:
            wait_ready(port, server, log)
            time.sleep(1)  # let every worker boot
            if not np.allclose(answer_scores(post_csv(port, body)), expected, atol=1e-6):
                raise RuntimeError(f"serve of {model_dir} answers other scores than invoke")
            rates = {}
            pids = workers_of(server)
            for concurrency in CONCURRENCY:
                warm = drive(port, body, ROWS, concurrency, concurrency, pids)
                fits = int(SERVED_SECONDS * warm.rows_per_s / ROWS)
                total = min(MAX_REQUESTS, max(2 * concurrency, fits))
                total -= total % concurrency
                rates[(workers, concurrency)] = drive(
                    port, body, ROWS, concurrency, total, pids
                ).rows_per_s
        finally:
            forced = stop(server)
        return rates, forced


# ---------------------------------------------------------------------------------------------
# The section
# ---------------------------------------------------------------------------------------------
def measure(table: pa.Table, tmp: Path) -> list[Measured]:
    train_csv = tmp / "train.csv"
    write_csv(table.slice(0, TRAIN_ROWS), train_csv)
    body = payloads(train_csv)[ROWS]
    features = np.loadtxt(body.splitlines(), delimiter=",", ndmin=2)
    models = build_models(train_csv, tmp / "models")
    results = []
    for title, name in MODELS:
        model_dir, detail = models[name]
        model = load_model(model_dir, threads=1)
        predict, core = in_process(model, body, features)
        expected = answer_scores(invoke(model, body, "text/csv", "text/csv").body)
        rates: dict[tuple[int, int], float] = {}
        forced = []
        for workers in WORKERS:
            measured, killed = served(model_dir, body, expected, workers)
            rates.update(measured)
            if killed:
                forced.append(workers)
        framework = RUNTIMES.get(model.signature.framework, model.signature.framework)
        version = f"{framework} {model.signature.framework_version}"
        results.append(Measured(title, f"{detail}; {version}", predict, core, rates, tuple(forced)))
    return results


def rate(value: float, baseline: float) -> str:
    return f"{value / 1e3:,.1f}k ({value / baseline:.0%})"


def cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine since boot, from /proc/stat; CPU seconds of this
    process and of its children that were waited for, such as the stopped servers)."""
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(v) for v in Path("/proc/stat").read_text().split(maxsplit=8)[1:8]
    )
    machine = (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return machine, own.user + own.system + own.children_user + own.children_system


def section(table: pa.Table, machine: str, command: str) -> list[str]:
    """The RESULTS.md section (lines), measured now on the rows of `table`."""
    started = datetime.now(UTC)
    machine_before, own_before = cpu_seconds()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-frameworks-") as tmp:
        results = measure(table, Path(tmp))
    took = time.perf_counter() - began
    machine_after, own_after = cpu_seconds()
    others = max(0.0, (machine_after - machine_before) - (own_after - own_before)) / took
    busy = (
        "the machine was busy: absolute rates are lower than on an idle machine; compare "
        "within a row"
        if others > BUSY_CORES
        else "the machine was otherwise idle"
    )
    served_columns = [f"serve {w}w, c={c}" for w in WORKERS for c in CONCURRENCY]
    lines = [
        HEADING,
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC with `{command}` on: {machine}.",
        f"The section took {took:.0f} s; other processes used {others:.2f} of the "
        f"{os.cpu_count()} cores on average meanwhile (/proc/stat less this benchmark's own "
        f"CPU time): {busy}.",
        "",
        *textwrap.wrap(
            f"Rows/s on one identical {ROWS:,}-row text/csv payload, and in parentheses the "
            "share of predict alone. predict alone: the loaded Predictor's predict(X) on parsed "
            "rows, one thread. core: serving.inference.invoke (decode CSV + predict + encode "
            "CSV), one thread. serve Nw, c=C: the real `serve` process with N gunicorn workers "
            "(threads per model = cores / N for XGBoost, LightGBM and onnxruntime; one for "
            "scikit-learn) and C client threads with one keep-alive connection "
            "each (bench.serving's client, sharing the cores). In-process: median of "
            f"{RUNS} runs; served: one run per cell, at most {MAX_REQUESTS} requests, about "
            f"{SERVED_SECONDS:g} s. Every model was trained on the first {TRAIN_ROWS:,} "
            "generated rows.",
            width=96,
        ),
        "",
        "| model | trained | predict alone | core | " + " | ".join(served_columns) + " |",
        "|---|---|---|---|" + "---|" * len(served_columns),
    ]
    for result in results:
        cells = [rate(result.served[(w, c)], result.predict) for w in WORKERS for c in CONCURRENCY]
        lines.append(
            f"| {result.model} | {result.detail} | {result.predict / 1e3:,.1f}k | "
            f"{rate(result.core, result.predict)} | " + " | ".join(cells) + " |"
        )
    hung = [
        f"{result.model} with {workers} worker{'s' if workers > 1 else ''}"
        for result in results
        for workers in result.forced
    ]
    if hung:
        lines += [
            "",
            f"Stopping `serve` took a SIGKILL (something of it was still running {STOP_SECONDS} s "
            f"after SIGTERM to its PID): {'; '.join(hung)}.",
        ]
    lines.append("")
    return lines


def replace_section(text: str, lines: list[str], heading: str = HEADING) -> str:
    """RESULTS.md with the section under `heading` replaced (or appended), every other kept."""
    kept = text.splitlines()
    if heading in kept:
        start = kept.index(heading)
        end = next((i for i in range(start + 1, len(kept)) if kept[i].startswith("## ")), len(kept))
        kept = kept[:start] + kept[end:]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, "", *lines])

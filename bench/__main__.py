"""Run the benchmarks and write bench/RESULTS.md (with the machine they ran on).

Targets: emulator ready in < 5 s; training on ~300k rows well under a minute; serving at 1,000
rows/request >= 70% of the in-process decode+predict+encode rate, single-row p99 <= 5 ms;
monitoring baseline + data-quality check on 1M rows x 30 features <= 5 s, peak RSS <= 600 MiB;
the training pipeline cold and cached (no target: reported); every framework the serving core
serves, predict alone vs the core vs `serve` (no target: reported); `serve` vs MLServer's best
configuration under wrk, >= 1.5x at every cell, >= 40% of predict alone at 1,000 rows, c=1.

    python -m bench              # every section (make bench)
    python -m bench frameworks   # only the frameworks section, the rest of RESULTS.md kept
    python -m bench runtime      # only the batch flow on the embedded AWS's runtime
    python -m bench transform    # only Batch Transform vs the Batch scorer (1M rows)
    python -m bench asynchronous # only async inference's added latency (printed)
    python -m bench codecs       # only the codecs' cost per content type and size (printed)
    python -m bench peers        # only `serve` vs MLServer under wrk, the rest of RESULTS.md kept
"""

from __future__ import annotations

import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import xgboost as xgb

import bench.asynchronous
import bench.codecs
from bench import batch, frameworks, free_port, monitoring, pipeline, runtime, serving, transform
from localaws.emulator import endpoint_url, wait_ready
from operators.pipeline.training import train
from sample.generate import DEFAULT_ROWS, generate, write_csv
from serving.artifact import load_booster

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "RESULTS.md"


def emulator_start_seconds(runs: int = 5) -> list[float]:
    """Process start to first HTTP answer, then SIGTERM; one fresh process per run."""
    times = []
    for _ in range(runs):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "localaws.emulator",
                "--port",
                str(port),
                "--hosting-port",
                str(free_port()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=REPO,
        )
        wait_ready(endpoint_url("127.0.0.1", port), proc=proc)
        times.append(time.perf_counter() - started)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    return times


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}, xgboost {xgb.__version__}"
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["frameworks"]:
        section = frameworks.section(
            generate(DEFAULT_ROWS), machine(), "python -m bench frameworks"
        )
        RESULTS.write_text(frameworks.replace_section(RESULTS.read_text(), section))
        print("\n".join(section))
        return
    if args == ["runtime"]:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "creditcard.csv"
            write_csv(generate(50_000), data)  # any model will do: the flow is measured
            model = train(data, Path(tmp) / "model").model_path
            section = runtime.section(model, machine(), "python -m bench runtime")
        RESULTS.write_text(
            frameworks.replace_section(RESULTS.read_text(), section, runtime.HEADING)
        )
        print("\n".join(section))
        return
    if args == ["transform"]:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "creditcard.csv"
            write_csv(generate(50_000), data)  # any model will do: the two paths are measured
            model = train(data, Path(tmp) / "model").model_path
            section = transform.section(model, machine(), "python -m bench transform")
        RESULTS.write_text(
            frameworks.replace_section(RESULTS.read_text(), section, transform.HEADING)
        )
        print("\n".join(section))
        return
    if args == ["asynchronous"]:  # printed only: async's added latency over real-time
        print("\n".join(bench.asynchronous.run()))
        return
    if args == ["codecs"]:  # printed only: decode + predict + encode vs predict alone
        print("\n".join(bench.codecs.run()))
        return
    if args == ["peers"]:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "creditcard.csv"
            write_csv(generate(DEFAULT_ROWS), data)  # the model and rows `make bench` serves
            model = train(data, Path(tmp) / "model").model_path
            section = serving.peer_section(model, data, machine(), "python -m bench peers")
        RESULTS.write_text(
            frameworks.replace_section(RESULTS.read_text(), section, serving.PEER_HEADING)
        )
        print("\n".join(section))
        return
    if args:
        print(
            "usage: python -m bench [frameworks|runtime|transform|asynchronous|codecs|peers]  "
            f"(got {' '.join(args)!r})",
            file=sys.stderr,
        )
        sys.exit(2)
    rows: list[tuple[str, str, str]] = []

    start = emulator_start_seconds()
    rows.append(
        (
            "emulator + SageMaker hosting: start to ready (5 runs)",
            f"median {statistics.median(start):.2f} s, max {max(start):.2f} s",
            "< 5 s",
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "creditcard.csv"
        began = time.perf_counter()
        table = generate(DEFAULT_ROWS)
        write_csv(table, data)
        took = time.perf_counter() - began
        rows.append(
            (
                f"sample: generate + write {DEFAULT_ROWS:,} rows",
                f"{took:.2f} s ({DEFAULT_ROWS / took / 1e3:.0f}k rows/s, "
                f"{data.stat().st_size / 2**20:.0f} MiB)",
                "",
            )
        )

        began = time.perf_counter()
        result = train(data, Path(tmp) / "model")
        took = time.perf_counter() - began
        auc = result.evaluation["binary_classification_metrics"]["auc"]["value"]
        rows.append(
            (
                f"sample: train on {DEFAULT_ROWS:,} rows (read CSV, split, fit, evaluate, package)",
                f"{took:.2f} s, AUC {auc:.4f}, {result.evaluation['model']['best_iteration'] + 1}"
                " trees",
                "well under 60 s",
            )
        )

        rows.extend(serving.run(result.model_path, data))
        rows.extend(batch.run(result.model_path))
        rows.extend(monitoring.run())
        rows.extend(pipeline.run(data))

        booster = load_booster(result.model_path)
        features = np.column_stack([table.column(i).to_numpy() for i in range(30)])
        for per_call in (1, 100, 10_000):
            chunk = features[:per_call]
            calls = max(1, 20_000 // per_call)
            began = time.perf_counter()
            for _ in range(calls):
                booster.inplace_predict(chunk)
            took = time.perf_counter() - began
            rows.append(
                (
                    f"model: inplace_predict, {per_call:,} rows per call",
                    f"{calls * per_call / took / 1e3:,.1f}k rows/s",
                    "",
                )
            )
        framework_lines = frameworks.section(table, machine(), "make bench")
        runtime_lines = runtime.section(result.model_path, machine(), "make bench")
        peer_lines = serving.peer_section(result.model_path, data, machine(), "make bench")

    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `make bench` on: {machine()}.",
        "",
        "Serving rows compare the real `serve` process (gunicorn, loopback HTTP, one keep-alive",
        "connection per client thread; the Python client shares the 2 cores) with two in-process",
        "limits on identical payloads: (a) decode CSV + predict + encode CSV, one thread, no HTTP;",
        "(b) xgboost inplace_predict alone, one thread. Above 100% means the 2 workers ran in",
        "parallel where (a) is one thread.",
        "",
        "Batch rows run everything through the embedded AWS (emulator S3, local SageMaker",
        "hosting): (a) the seed's whole file in one InvokeEndpoint, (b) one call per row, (c) the",
        "streaming job as its own process (peak RSS = its VmHWM); raw = the hosted endpoint fed",
        "1,000-row requests by 4 threads, the job's default batch and concurrency.",
        "",
        "| what | measured | target |",
        "|---|---|---|",
        *[f"| {what} | {measured} | {target} |" for what, measured, target in rows],
        "",
        *framework_lines,
        *runtime_lines,
        *peer_lines,
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

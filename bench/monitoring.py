"""Monitoring benchmark: data-quality baseline + check on 1M rows x 30 features.

Run in its own process (`python -m bench.monitoring BASELINE.csv CURRENT.csv`) so its peak RSS
is its own. Times the steps `byo monitor baseline` and `byo monitor data-quality --data` run,
without S3: read the CSV (pyarrow, multi-threaded), statistics with KLL sketches, constraints,
JSON; then the current file the same way and every data-quality check against the baseline.
Also the path captures take: the same 1M rows as one headerless CSV body in memory.

Peak RSS is the process's own high-water mark (VmHWM) plus each sketch worker's, summed (an upper
bound on what was resident at once). VmHWM, not getrusage: Linux keeps a parent's peak in a
child's ru_maxrss across exec, so ru_maxrss here was the generating parent's (~620 MiB).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sample.generate import generate, write_csv

ROWS = 1_000_000


def peak_rss_mib(pid: int | str = "self") -> float:
    """A process's peak RSS (VmHWM); getrusage's where there is no /proc."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else 0.0


def children() -> list[int]:
    """This process's child processes (the sketch workers and their resource trackers)."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as listed:
            return [int(pid) for pid in listed.read().split()]
    except OSError:
        return []


def measure(baseline_csv: Path, current_csv: Path) -> dict[str, float]:
    from operators.monitoring import data_quality, datasets

    timings = {}
    began = time.perf_counter()
    dataset = datasets.read_dataset(baseline_csv)
    stats = data_quality.statistics(dataset.features)
    constraints = data_quality.suggest_constraints(stats)
    stats_json = json.dumps(stats)
    timings["baseline_s"] = time.perf_counter() - began
    names = dataset.features.column_names
    del dataset

    began = time.perf_counter()
    current = datasets.current_from_file(current_csv, names, "Class")
    result = data_quality.check(stats, constraints, current)
    json.dumps(result.statistics)
    timings["check_s"] = time.perf_counter() - began
    timings["violations"] = len(result.violations)
    timings["peak_rss_mib"] = peak_rss_mib()
    timings["workers_peak_rss_mib"] = sum(peak_rss_mib(pid) for pid in children())
    del current

    lines = current_csv.read_bytes().splitlines()[1:]  # no header, no Class column
    body = b"\n".join(line.rsplit(b",", 1)[0] for line in lines) + b"\n"
    del lines
    began = time.perf_counter()
    captured = datasets.current_from_rows(body, names)
    data_quality.check(stats, constraints, captured)
    timings["captured_check_s"] = time.perf_counter() - began
    timings["statistics_json_mib"] = len(stats_json) / 2**20
    return timings


def run() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        baseline, current = Path(tmp) / "baseline.csv", Path(tmp) / "current.csv"
        write_csv(generate(ROWS, seed=11), baseline)
        write_csv(generate(ROWS, seed=12), current)
        size = baseline.stat().st_size / 2**20
        out = subprocess.run(
            [sys.executable, "-m", "bench.monitoring", str(baseline), str(current)],
            capture_output=True,
            text=True,
            check=True,
        )
    t = json.loads(out.stdout)
    total = t["baseline_s"] + t["check_s"]
    # Each process's own peak, summed: at least what was resident at once.
    rss = t["peak_rss_mib"] + t["workers_peak_rss_mib"]
    met = {True: "met", False: "missed"}
    return [
        (
            f"monitor: data-quality baseline + check, {ROWS:,} rows x 30 features "
            f"({size:.0f} MiB CSV each)",
            f"{total:.2f} s (baseline {t['baseline_s']:.2f} s, check {t['check_s']:.2f} s, "
            f"{t['violations']} violations on fresh rows); peak RSS {rss:.0f} MiB: the process "
            f"{t['peak_rss_mib']:.0f} MiB (both tables loaded in turn) + its sketch workers "
            f"{t['workers_peak_rss_mib']:.0f} MiB (each one's own peak, summed); "
            f"statistics.json {t['statistics_json_mib']:.1f} MiB",
            f"<= 5 s: {met[total <= 5]}; peak RSS <= 600 MiB: {met[rss <= 600]}",
        ),
        (
            f"monitor: data-quality check of {ROWS:,} captured rows (one headerless body)",
            f"{t['captured_check_s']:.2f} s",
            "",
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), Path(sys.argv[2]))))

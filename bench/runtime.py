"""The embedded AWS's runtime: how long the platform's own batch flow takes with nothing but an
upload, against `byo batch run` (the same job's code run here, in this process) on the same file.

The flow: put_object of input/<name>.csv → S3 notification → the trigger Lambda (its own process)
→ SubmitJob → the Batch executor starts `python -m batch_processor.job ...` (from the repository's
Dockerfile) → the job scores every row through the hosted endpoint → output/ and the SUCCEEDED
job record, then the job SUCCEEDED in Batch. Measured from put_object's return to both, polled
every 20 ms; split into the trigger's share (upload → the record the trigger writes), Batch's
(submitted → the job's process running) and the job's own run (startedAt → stoppedAt).

    python -m bench runtime      # this section only, the rest of RESULTS.md kept
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from operators.aws import Clients
from operators.batch import run_local
from sample.generate import FEATURES, generate, write_csv
from tests.helpers.emulator import Emulator, start_emulator
from tests.helpers.flow import Flow, build_flow
from tests.helpers.processes import stop_process

HEADING = "## Batch flow on the embedded AWS's runtime (upload → SUCCEEDED record)"
SMALL_RUNS = 5
LARGE_ROWS = 1_000_000
POLL_S = 0.02


@dataclass(frozen=True)
class Run:
    total_s: float  # put_object returned → record and job SUCCEEDED
    trigger_s: float  # put_object returned → the job record exists (the trigger submitted)
    queued_s: float  # the job's createdAt → startedAt (Batch: RUNNABLE → STARTING → RUNNING)
    job_s: float  # the job's startedAt → stoppedAt
    array_size: int


def flow_run(emulator: Emulator, flow: Flow, path: Path, name: str) -> Run:
    s3, dynamodb, batch = (emulator.client(n) for n in ("s3", "dynamodb", "batch"))
    key = f"input/{name}"
    if path.stat().st_size > 64 * 2**20:
        s3.upload_file(str(path), flow.bucket, key)
        began = time.perf_counter()
        version = s3.head_object(Bucket=flow.bucket, Key=key)["VersionId"]
    else:
        put = s3.put_object(Bucket=flow.bucket, Key=key, Body=path.read_bytes())
        began = time.perf_counter()
        version = put["VersionId"]
    record_key = f"s3://{flow.bucket}/{key}#{version}"
    trigger_s = None
    while True:
        item = dynamodb.get_item(
            TableName=flow.table, Key={"FileName": {"S": record_key}}, ConsistentRead=True
        ).get("Item", {})
        if item and trigger_s is None:
            trigger_s = time.perf_counter() - began
        status = item.get("Status", {}).get("S")
        if status == "FAILED":
            raise RuntimeError(f"{record_key}: the job record says FAILED: {item}")
        if status == "SUCCEEDED":
            (job,) = batch.describe_jobs(jobs=[item["JobId"]["S"]])["jobs"]
            if job["status"] == "FAILED":
                raise RuntimeError(f"{record_key}: job FAILED: {job.get('statusReason')}")
            if job["status"] == "SUCCEEDED":
                total = time.perf_counter() - began
                break
        time.sleep(POLL_S)
    return Run(
        total_s=total,
        trigger_s=trigger_s or total,
        queued_s=(job["startedAt"] - job["createdAt"]) / 1000,
        job_s=(job["stoppedAt"] - job["startedAt"]) / 1000,
        array_size=job.get("arrayProperties", {}).get("size", 0),
    )


def byo_batch_run(emulator: Emulator, flow: Flow, path: Path, name: str) -> float:
    """`byo batch run` on the same file (in this process; array children one after another)."""
    key = f"direct/{name}"
    emulator.client("s3").upload_file(str(path), flow.bucket, key)
    began = time.perf_counter()
    run_local(Clients(), f"s3://{flow.bucket}/{key}", flow.endpoint, flow.table)
    return time.perf_counter() - began


def describe(run: Run) -> str:
    array = f", array of {run.array_size}" if run.array_size else ""
    return (
        f"trigger {run.trigger_s:.2f} s, queued {run.queued_s:.2f} s, job {run.job_s:.2f} s{array}"
    )


@contextmanager
def flow_on_emulator(work: Path, model_tarball: Path) -> Iterator[tuple[Emulator, Flow]]:
    """An own emulator under work/emulator with the batch flow built on it (the trigger Lambda,
    the bucket notification, the scoring job on the hosted endpoint), boto3's endpoint
    variables pointing at it meanwhile; the variables are restored and the emulator stopped by
    PID at the end."""
    (work / "emulator").mkdir()
    emulator = start_emulator(work / "emulator")
    saved = {
        n: os.environ.get(n) for n in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")
    }
    os.environ.update(
        AWS_ENDPOINT_URL=emulator.url,
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=emulator.runtime_url,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        yield emulator, build_flow(emulator, model_tarball, work)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        stop_process(emulator.proc)


def large_csv(work: Path) -> Path:
    """LARGE_ROWS synthetic rows of the 30 features, no header: the large file both sections
    score."""
    large = work / "large.csv"
    write_csv(generate(LARGE_ROWS, seed=7).select(FEATURES), large, header=False)
    return large


def section(model_tarball: Path, machine: str, command: str) -> list[str]:
    started = datetime.now().astimezone()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-runtime-") as tmp:
        work = Path(tmp)
        with flow_on_emulator(work, model_tarball) as (emulator, flow):
            sample = Path(__file__).resolve().parent.parent / "sample" / "sample.csv"
            runs = [flow_run(emulator, flow, sample, f"sample-{i}.csv") for i in range(SMALL_RUNS)]
            median = statistics.median(r.total_s for r in runs)
            middle = sorted(runs, key=lambda r: r.total_s)[SMALL_RUNS // 2]
            direct = statistics.median(
                byo_batch_run(emulator, flow, sample, f"sample-{i}.csv") for i in range(3)
            )
            rows.append(
                (
                    f"sample.csv (10 rows): put_object → SUCCEEDED record and job, median of "
                    f"{SMALL_RUNS}",
                    f"{median:.2f} s (min {min(r.total_s for r in runs):.2f}, max "
                    f"{max(r.total_s for r in runs):.2f}; median run: {describe(middle)}); "
                    f"`byo batch run` {direct:.2f} s: the runtime adds {median - direct:.2f} s",
                )
            )
            large = large_csv(work)
            run = flow_run(emulator, flow, large, "large.csv")
            direct = byo_batch_run(emulator, flow, large, "large.csv")
            rows.append(
                (
                    f"{LARGE_ROWS:,} rows ({large.stat().st_size / 2**20:.0f} MiB): upload done "
                    "→ SUCCEEDED record and job",
                    f"{run.total_s:.1f} s ({LARGE_ROWS / run.total_s / 1e3:.1f}k rows/s; "
                    f"{describe(run)}); `byo batch run` {direct:.1f} s: "
                    f"{run.total_s / direct:.2f}x",
                )
            )
    return [
        HEADING,
        "",
        f"Run {started:%Y-%m-%d %H:%M %Z} with `{command}` on: {machine}.",
        "",
        "The S3 notification, the trigger Lambda, the Batch executor and the job all run in the",
        "embedded AWS by themselves; `byo batch run` runs the same job code in one process with no",
        "Lambda and no Batch (array children one after another), so the difference is the",
        "runtime's own overhead (processes started, polling, the trigger's round trips).",
        "",
        "| what | measured |",
        "|---|---|",
        *(f"| {what} | {measured} |" for what, measured in rows),
        "",
    ]

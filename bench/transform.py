"""SageMaker Batch Transform against the Batch scorer on the same 1M-row file, both on the
embedded AWS and its local hosting.

- The Batch scorer: the platform's flow as bench/runtime.py runs it (put_object of input/<name>
  → S3 notification → trigger Lambda → SubmitJob → the Batch executor runs batch_processor.job,
  which streams the rows through InvokeEndpoint of the hosted endpoint), measured from
  put_object's return to the SUCCEEDED record and job; and the job's own run (startedAt →
  stoppedAt).
- Batch Transform: CreateTransformJob with the endpoint's own SageMaker model over the same
  object (SplitType Line, MultiRecord, MaxPayloadInMB 6), measured from CreateTransformJob's
  return to Completed (DescribeTransformJob every 20 ms), and the job's own TransformStartTime →
  TransformEndTime; with MaxConcurrentTransforms 1 (SageMaker's default) and 4 (the scorer's
  concurrency).

    python -m bench transform     # this section only, the rest of RESULTS.md kept
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.runtime import LARGE_ROWS, flow_on_emulator, flow_run, large_csv
from tests.helpers.emulator import Emulator

HEADING = "## Batch Transform vs the Batch scorer (1M rows, the local hosting)"
POLL_S = 0.02
CONCURRENCY = (1, 4)


def transform_run(
    emulator: Emulator, model: str, input_uri: str, output_uri: str, concurrency: int
) -> tuple[float, float]:
    """(CreateTransformJob's return → Completed, TransformStartTime → TransformEndTime) in s."""
    sm = emulator.client("sagemaker")
    name = f"bench-transform-{concurrency}-{int(time.time())}"
    sm.create_transform_job(
        TransformJobName=name,
        ModelName=model,
        BatchStrategy="MultiRecord",
        MaxPayloadInMB=6,
        MaxConcurrentTransforms=concurrency,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": output_uri, "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    began = time.perf_counter()
    while True:
        job = sm.describe_transform_job(TransformJobName=name)
        if job["TransformJobStatus"] not in ("InProgress", "Stopping"):
            break
        time.sleep(POLL_S)
    total = time.perf_counter() - began
    if job["TransformJobStatus"] != "Completed":
        raise RuntimeError(f"{name}: {job['TransformJobStatus']}: {job.get('FailureReason')}")
    return total, (job["TransformEndTime"] - job["TransformStartTime"]).total_seconds()


def count_rows(emulator: Emulator, bucket: str, key: str) -> int:
    return emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().count(b"\n")


def section(model_tarball: Path, machine: str, command: str) -> list[str]:
    started = datetime.now().astimezone()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-transform-") as tmp:
        work = Path(tmp)
        with flow_on_emulator(work, model_tarball) as (emulator, flow):
            large = large_csv(work)
            size = f"{large.stat().st_size / 2**20:.0f} MiB"
            run = flow_run(emulator, flow, large, "large.csv")
            rows.append(
                (
                    "Batch scorer: put_object → SUCCEEDED record and job (the flow)",
                    f"{run.total_s:.1f} s ({LARGE_ROWS / run.total_s / 1e3:.1f}k rows/s); the "
                    f"job's own run {run.job_s:.1f} s ({LARGE_ROWS / run.job_s / 1e3:.1f}k "
                    f"rows/s{f', array of {run.array_size}' if run.array_size else ''})",
                )
            )
            sm = emulator.client("sagemaker")
            config = sm.describe_endpoint(EndpointName=flow.endpoint)["EndpointConfigName"]
            model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
                "ModelName"
            ]
            emulator.client("s3").upload_file(str(large), flow.bucket, "transform-in/large.csv")
            for concurrency in CONCURRENCY:
                output = f"transform-out-{concurrency}"
                total, own = transform_run(
                    emulator,
                    model,
                    f"s3://{flow.bucket}/transform-in/",
                    f"s3://{flow.bucket}/{output}",
                    concurrency,
                )
                scored = count_rows(emulator, flow.bucket, f"{output}/large.csv.out")
                if scored != LARGE_ROWS:
                    raise RuntimeError(f"transform wrote {scored:,} rows of {LARGE_ROWS:,}")
                rows.append(
                    (
                        f"Batch Transform, MaxConcurrentTransforms={concurrency}: "
                        "CreateTransformJob → Completed",
                        f"{total:.1f} s ({LARGE_ROWS / total / 1e3:.1f}k rows/s); the job's own "
                        f"run {own:.1f} s ({LARGE_ROWS / own / 1e3:.1f}k rows/s); "
                        f"{run.total_s / total:.2f}x the scorer's flow",
                    )
                )
    return [
        HEADING,
        "",
        f"Run {started:%Y-%m-%d %H:%M %Z} with `{command}` on: {machine}.",
        "",
        f"The same {LARGE_ROWS:,}-row file ({size}, 30 features, no header) and the same model.",
        "The scorer streams 1,000-row requests with 4 threads through InvokeEndpoint (HTTP to",
        "the hosting) and keeps per-row error accounting; Batch Transform sends 6 MB mini-batches",
        "straight to the model the hosting's code loaded (no HTTP hop) and fails the object on",
        "any error.",
        "",
        "| what | measured |",
        "|---|---|",
        *(f"| {what} | {measured} |" for what, measured in rows),
        "",
    ]

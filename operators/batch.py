"""Batch scoring: `byo batch submit` (the platform's own flow: upload input/<name>.csv, the S3
trigger submits the Batch job, wait for its record) and `byo batch run` (the Batch job's entry
point, run here instead of in a container)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from batch_processor.job import Job, JobFailed, Settings
from batch_processor.trigger import InputObject
from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.layout import Layout
from operators.s3 import split_uri

POLL_S = 0.5
JOB_TERMINAL = ("SUCCEEDED", "FAILED")


@dataclass(frozen=True)
class Uploaded:
    """An input object and the job record (FileName) its S3 event creates."""

    uri: str
    record_key: str
    size: int


@dataclass(frozen=True)
class Progress:
    record_status: str | None  # the job record's Status; None until the trigger wrote it
    job_id: str | None
    job_status: str | None  # the Batch job's (DescribeJobs)
    elapsed_s: float

    def describe(self) -> str:
        if self.record_status is None:
            return f"waiting for the S3 trigger to submit a job ({self.elapsed_s:.0f} s)"
        job = f", Batch job {self.job_id} {self.job_status}" if self.job_id else ""
        return f"job record {self.record_status}{job} ({self.elapsed_s:.0f} s)"


def upload_input(clients: Clients, layout: Layout, path: Path, name: str | None = None) -> Uploaded:
    """Put a local CSV at input/<name>.csv, where the platform's S3 trigger picks it up."""
    name = name or path.name
    if not name.endswith(".csv") or "/" in name:
        raise ConfigError(f"input name {name!r}: expected NAME.csv (the trigger's input suffix)")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    key = f"{layout.input}{name}"
    clients.s3.upload_file(str(path), layout.bucket, key)
    head = clients.s3.head_object(Bucket=layout.bucket, Key=key)
    obj = InputObject(
        layout.bucket,
        key,
        head["ContentLength"],
        head["ETag"].strip('"'),
        head.get("VersionId"),
    )
    return Uploaded(layout.uri(key), obj.record_key, obj.size)


def wait_for_job(
    clients: Clients,
    job_table: str,
    record_key: str,
    *,
    timeout_s: float = 600.0,
    on_progress: Callable[[Progress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Wait until the job record `record_key` and its Batch job both SUCCEEDED; return the record
    (plain values) with the job's description under "Job". ByoError if either FAILED, or if
    nothing finished within `timeout_s`."""
    dynamodb, batch = clients.client("dynamodb"), clients.client("batch")
    started = clock()
    while True:
        item = dynamodb.get_item(
            TableName=job_table, Key={"FileName": {"S": record_key}}, ConsistentRead=True
        ).get("Item")
        record = {k: next(iter(v.values())) for k, v in (item or {}).items()}
        job = None
        if record.get("JobId"):
            jobs = batch.describe_jobs(jobs=[record["JobId"]])["jobs"]
            job = jobs[0] if jobs else None
        progress = Progress(
            record.get("Status"),
            record.get("JobId"),
            job["status"] if job else None,
            clock() - started,
        )
        if on_progress is not None:
            on_progress(progress)
        if progress.record_status == "FAILED" or progress.job_status == "FAILED":
            reason = (job or {}).get("statusReason") or record.get("Reason") or "no reason given"
            raise ByoError(f"the batch job for {record_key} FAILED: {reason}")
        if progress.record_status == "SUCCEEDED" and progress.job_status == "SUCCEEDED":
            return {**record, "Job": job}
        if progress.elapsed_s >= timeout_s:
            raise ByoError(
                f"{record_key}: {progress.describe()} after {timeout_s:.0f} s; "
                + (
                    "is the bucket's notification to the trigger on the input prefix?"
                    if progress.record_status is None
                    else "see the job's log group"
                )
            )
        sleep(POLL_S)


def run_local(
    clients: Clients,
    uri: str,
    endpoint: str,
    job_table: str,
    *,
    shards: int = 1,
    batch_rows: int = 1000,
    concurrency: int = 4,
) -> dict[str, Any]:
    """Score an S3 CSV as the Batch job would (array children run one after another)."""
    bucket, key = split_uri(uri)
    try:
        head = clients.s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        raise ConfigError(
            f"cannot read {uri}: {exc.response['Error'].get('Message') or exc}"
        ) from None
    base = Settings(
        bucket=bucket,
        key=key,
        etag=head["ETag"].strip('"'),
        version_id=head.get("VersionId") or "",
        endpoint=endpoint,
        job_table=job_table,
        batch_rows=batch_rows,
        concurrency=concurrency,
        shards=shards,
    )
    return run_shards(clients, base, f"batch job for {uri}")


def run_shards(clients: Clients, base: Settings, label: str) -> dict[str, Any]:
    """Run every shard of the job here, one after another; the last assembles the output."""
    summary = None
    for shard in range(base.shards):
        job = Job(
            replace(base, shard=shard),
            clients.s3,
            clients.client("sagemaker-runtime"),
            clients.client("dynamodb"),
        )
        try:
            summary = job.run() or summary
        except JobFailed as exc:
            raise ByoError(f"{label} FAILED: {exc}") from None
    if summary is None:
        raise ByoError(f"{label}: no shard assembled the output (see the job record)")
    return summary


def wait_for_batch_job(
    clients: Clients,
    job_id: str,
    *,
    timeout_s: float = 600.0,
    on_progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Wait until Batch job `job_id` SUCCEEDED or FAILED; return its description."""
    batch = clients.client("batch")
    started = clock()
    while True:
        jobs = batch.describe_jobs(jobs=[job_id])["jobs"]
        if not jobs:
            raise ByoError(f"no Batch job {job_id}")
        job = jobs[0]
        if on_progress is not None:
            on_progress(f"Batch job {job['jobName']} {job['status']} ({clock() - started:.0f} s)")
        if job["status"] in JOB_TERMINAL:
            return job
        if clock() - started >= timeout_s:
            raise ByoError(f"Batch job {job_id} still {job['status']} after {timeout_s:.0f} s")
        sleep(POLL_S)


def job_log(clients: Clients, job: dict[str, Any], limit: int = 100) -> list[str]:
    """The last lines of a Batch job's log: its stream in the job definition's awslogs group."""
    stream = (job.get("container") or {}).get("logStreamName")
    if not stream:
        return []
    (definition,) = clients.client("batch").describe_job_definitions(
        jobDefinitions=[job["jobDefinition"]]
    )["jobDefinitions"]
    options = (definition.get("containerProperties", {}).get("logConfiguration") or {}).get(
        "options", {}
    )
    group = options.get("awslogs-group", "/aws/batch/job")
    try:
        events = clients.client("logs").get_log_events(
            logGroupName=group, logStreamName=stream, limit=limit, startFromHead=False
        )["events"]
    except ClientError:
        return []
    return [event["message"] for event in events]

"""`byo batch run`: the Batch job's entry point, run here instead of in a container."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from batch_processor.job import Job, JobFailed, Settings
from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.s3 import split_uri


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

"""Batch scoring's inputs and outputs, to check like endpoint captures: a Batch scorer job (the
S3 trigger's, by its AWS Batch job id or its input key) or a SageMaker Batch Transform job.

- Batch scorer: the job table's record (FileName = s3://bucket/key#version) names the input
  object (Bucket, Key, VersionId), the Batch JobId and, once SUCCEEDED, OutputUri: one line per
  scored row, the score or `id,score`. The input is headerless CSV; with an id column (the
  output's lines have two fields) the input column holding those ids is found and dropped.
- Batch Transform: DescribeTransformJob names the input prefix and S3OutputPath; each input
  object <prefix>/<rel> has its output <S3OutputPath>/<rel>.out, in the job's Accept format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.errors import ConfigError
from operators.monitoring.captures import Output, parse_outputs
from operators.s3 import get_bytes, split_uri


@dataclass(frozen=True)
class BatchRun:
    """A finished batch job's inputs (headerless CSV, features only) and outputs."""

    source: str  # what it was, for the summary
    rows: list[str]
    outputs: list[Output]

    @property
    def body(self) -> bytes:
        return ("\n".join(self.rows) + "\n").encode() if self.rows else b""


def _lines(body: bytes) -> list[str]:
    return [line for line in body.decode().splitlines() if line.strip()]


def _scorer_record(clients: Clients, table: str, job: str) -> dict[str, Any] | None:
    """The job table's record whose JobId, FileName or Key is `job` (the newest, by StartTime)."""
    dynamodb = clients.client("dynamodb")
    found = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            values = {k: next(iter(v.values())) for k, v in item.items()}
            if job in (values.get("JobId"), values.get("FileName"), values.get("Key")):
                found.append(values)
    return max(found, key=lambda r: r.get("StartTime", ""), default=None)


def _drop_id_column(rows: list[str], outputs_text: list[str]) -> tuple[list[str], list[Output]]:
    """Output lines `id,score`: the input column holding those ids is not a feature."""
    ids = [line.split(",", 1)[0] for line in outputs_text]
    scores = [float(line.split(",", 1)[1]) for line in outputs_text]
    by_id = set(ids)
    split = [row.split(",") for row in rows]
    width = max((len(r) for r in split), default=0)
    for column in range(width):
        values = {r[column] for r in split if len(r) > column}
        if values and values <= by_id:
            kept = [",".join(r[:column] + r[column + 1 :]) for r in split]
            return kept, list(scores)
    raise ConfigError("the batch output has ids, but no input column holds them")


def scorer_run(clients: Clients, table: str, job: str) -> BatchRun:
    record = _scorer_record(clients, table, job)
    if record is None:
        raise ConfigError(
            f"--batch-job {job}: no Batch scorer job with that job id or input key in {table}"
        )
    if record.get("Status") != "SUCCEEDED":
        raise ConfigError(
            f"--batch-job {job}: the job is {record.get('Status', 'unknown')}, not SUCCEEDED: "
            "its outputs are written when it finishes"
        )
    s3 = clients.s3
    extra = {"VersionId": record["VersionId"]} if record.get("VersionId") else {}
    try:
        body = s3.get_object(Bucket=record["Bucket"], Key=record["Key"], **extra)["Body"].read()
    except ClientError as exc:
        raise ConfigError(
            f"--batch-job {job}: its input s3://{record['Bucket']}/{record['Key']} cannot be "
            f"read: {exc.response['Error']['Code']}"
        ) from None
    rows = _lines(body)
    out_bucket, out_key = split_uri(record["OutputUri"])
    outputs_text = _lines(get_bytes(s3, out_bucket, out_key))
    if outputs_text and "," in outputs_text[0]:
        rows, outputs = _drop_id_column(rows, outputs_text)
    else:
        outputs = [float(line) for line in outputs_text]
    source = f"Batch job {record.get('JobId', job)} (s3://{record['Bucket']}/{record['Key']})"
    return BatchRun(source, rows, outputs)


def transform_run(clients: Clients, job: str) -> BatchRun | None:
    """A Batch Transform job's inputs and outputs; None when there is no such job."""
    sagemaker = clients.client("sagemaker")
    try:
        described = sagemaker.describe_transform_job(TransformJobName=job)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return None
        raise
    if described["TransformJobStatus"] != "Completed":
        raise ConfigError(
            f"--batch-job {job}: the transform job is {described['TransformJobStatus']}, not "
            "Completed"
        )
    source = described["TransformInput"]["DataSource"]["S3DataSource"]
    in_bucket, in_prefix = split_uri(source["S3Uri"])
    output = described["TransformOutput"]
    out_bucket, out_prefix = split_uri(output["S3OutputPath"])
    accept = output.get("Accept", "text/csv")
    keys = []
    if source.get("S3DataType", "S3Prefix") == "S3Prefix":
        paginator = clients.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=in_bucket, Prefix=in_prefix):
            keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    else:  # a manifest file: its objects
        raise ConfigError(f"--batch-job {job}: manifest inputs are not supported; use a prefix")
    rows: list[str] = []
    outputs: list[Output] = []
    base = in_prefix if in_prefix.endswith("/") or not keys else in_prefix.rsplit("/", 1)[0] + "/"
    for key in sorted(keys):
        relative = key[len(base) :] if key.startswith(base) else key.rsplit("/", 1)[-1]
        out_key = f"{out_prefix.rstrip('/')}/{relative}.out" if out_prefix else f"{relative}.out"
        rows += _lines(get_bytes(clients.s3, in_bucket, key))
        text = get_bytes(clients.s3, out_bucket, out_key).decode()
        outputs += parse_outputs({"data": text, "observedContentType": accept})
    return BatchRun(f"transform job {job} ({len(keys)} objects)", rows, outputs)


def batch_run(clients: Clients, job: str, job_table: str | None) -> BatchRun:
    """A Batch Transform job by name, else a Batch scorer job by id or input key."""
    found = transform_run(clients, job)
    if found is not None:
        return found
    if not job_table:
        raise ConfigError(f"--batch-job {job}: no transform job of that name, and no job table")
    return scorer_run(clients, job_table, job)

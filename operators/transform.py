"""`byo transform`: score every object under an S3 prefix with a SageMaker Batch Transform job.

The second batch path beside the Batch scorer (operators.batch): SageMaker runs the model over
the objects itself and writes `<output>/<name>.out` per input object; a failing object fails
the whole job (the scorer instead keeps per-row error accounting and resumes). The model is a
SageMaker model made from a registered version, as `byo deploy` makes one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from operators import registry
from operators.aws import Clients
from operators.deploy import model_containers
from operators.errors import ByoError, ConfigError
from operators.s3 import join_uri, split_uri

RUNNING = ("InProgress", "Stopping")
DEFAULT_INSTANCE_TYPE = "ml.m5.large"


@dataclass(frozen=True)
class Options:
    """CreateTransformJob's knobs; None leaves a field to SageMaker's default."""

    strategy: str | None = None  # MultiRecord | SingleRecord
    max_payload_mb: int | None = None
    concurrency: int | None = None
    content_type: str = "text/csv"
    accept: str | None = "text/csv"
    split: str = "Line"
    assemble: str = "Line"
    compression: str = "None"
    input_filter: str | None = None
    output_filter: str | None = None
    join_input: bool = False
    instance_type: str = DEFAULT_INSTANCE_TYPE
    instance_count: int = 1


@dataclass(frozen=True)
class Progress:
    status: str
    outputs: int  # .out objects written so far
    elapsed_s: float

    def describe(self) -> str:
        return f"transform job {self.status}: {self.outputs} output(s) ({self.elapsed_s:.0f} s)"


def create_model(
    clients: Clients,
    *,
    group: str,
    version: int,
    role_arn: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> str:
    """A SageMaker model of registered `version` (its containers, a serial pipeline for
    several), named transform-v<N>-<time>; returns its name."""
    package = registry.find(clients, group, version)
    name = f"transform-v{version}-{clock().strftime('%Y%m%d%H%M%S')}"[:63]
    clients.client("sagemaker").create_model(
        ModelName=name,
        ExecutionRoleArn=role_arn,
        **model_containers(package["containers"]),
        Tags=[{"Key": "byo:model-version", "Value": str(version)}],
    )
    return name


def job_request(
    name: str, model: str, input_uri: str, output_uri: str, options: Options
) -> dict[str, Any]:
    """CreateTransformJob's arguments."""
    request: dict[str, Any] = {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": options.content_type,
            "SplitType": options.split,
            "CompressionType": options.compression,
        },
        "TransformOutput": {
            "S3OutputPath": output_uri,
            "AssembleWith": options.assemble,
            **({"Accept": options.accept} if options.accept else {}),
        },
        "TransformResources": {
            "InstanceType": options.instance_type,
            "InstanceCount": options.instance_count,
        },
    }
    for key, value in (
        ("BatchStrategy", options.strategy),
        ("MaxPayloadInMB", options.max_payload_mb),
        ("MaxConcurrentTransforms", options.concurrency),
    ):
        if value is not None:
            request[key] = value
    processing = {
        key: value
        for key, value in (
            ("InputFilter", options.input_filter),
            ("OutputFilter", options.output_filter),
            ("JoinSource", "Input" if options.join_input else None),
        )
        if value
    }
    if processing:
        request["DataProcessing"] = processing
    return request


def default_output(input_uri: str, job: str) -> str:
    bucket, _ = split_uri(input_uri)
    return join_uri(bucket, f"transform-output/{job}")


def start(
    clients: Clients, name: str, model: str, input_uri: str, output_uri: str, options: Options
) -> str:
    """Start the job; returns its ARN. SageMaker's refusal (a bad field) is a ConfigError."""
    try:
        response = clients.client("sagemaker").create_transform_job(
            **job_request(name, model, input_uri, output_uri, options)
        )
    except ClientError as exc:
        raise ConfigError(f"transform job {name}: {exc.response['Error'].get('Message')}") from None
    return response["TransformJobArn"]


def outputs(clients: Clients, output_uri: str) -> list[dict[str, Any]]:
    """The job's .out objects under `output_uri`, each with its size and row (line) count."""
    bucket, prefix = split_uri(output_uri)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    s3 = clients.client("s3")
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith(".out"):
                continue
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            rows = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
            found.append(
                {"uri": join_uri(bucket, item["Key"]), "bytes": item["Size"], "rows": rows}
            )
    return found


def wait(
    clients: Clients,
    name: str,
    output_uri: str,
    *,
    timeout_s: float = 3600.0,
    on_progress: Callable[[Progress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 1.0,
) -> dict[str, Any]:
    """Wait until the job has ended; return its description. ByoError after `timeout_s`. Polls
    after 0.1 s, then twice as long each time up to `poll_s` (a small job ends in a second)."""
    sagemaker, s3 = clients.client("sagemaker"), clients.client("s3")
    bucket, prefix = split_uri(output_uri)
    started = clock()
    interval = 0.1
    while True:
        described = sagemaker.describe_transform_job(TransformJobName=name)
        status = described["TransformJobStatus"]
        if status not in RUNNING:
            return described
        if on_progress is not None:
            written = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0)
            on_progress(Progress(status, written, clock() - started))
        if clock() - started >= timeout_s:
            raise ByoError(
                f"transform job {name} is still {status} after {timeout_s:.0f} s; "
                "see /aws/sagemaker/TransformJobs"
            )
        sleep(min(interval, poll_s))
        interval *= 2


def transform(
    clients: Clients,
    *,
    input_uri: str,
    group: str,
    version: int,
    role_arn: str,
    output_uri: str | None = None,
    options: Options = Options(),
    wait_for_it: bool = True,
    timeout_s: float = 3600.0,
    on_progress: Callable[[Progress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    poll_s: float = 1.0,
) -> dict[str, Any]:
    """Model from `version`, the job over `input_uri`, then (with wait_for_it) its end: the
    summary with the outputs and their rows, the model deleted. A Failed or Stopped job is a
    ByoError with its FailureReason."""
    split_uri(input_uri)  # a ConfigError naming it, before anything is created
    model = create_model(clients, group=group, version=version, role_arn=role_arn, clock=clock)
    name = f"byo-v{version}-{clock().strftime('%Y%m%d%H%M%S%f')}"[:63]
    output_uri = output_uri or default_output(input_uri, name)
    arn = start(clients, name, model, input_uri, output_uri, options)
    summary: dict[str, Any] = {
        "job": name,
        "arn": arn,
        "model": model,
        "version": version,
        "input": input_uri,
        "output": output_uri,
        "status": "InProgress",
    }
    if not wait_for_it:
        return summary
    try:
        described = wait(
            clients,
            name,
            output_uri,
            timeout_s=timeout_s,
            on_progress=on_progress,
            sleep=sleep,
            poll_s=poll_s,
        )
    finally:
        # The model exists for this job only (teardown knows the endpoint's models, not these);
        # a job that is still running keeps it.
        if (
            clients.client("sagemaker").describe_transform_job(TransformJobName=name)[
                "TransformJobStatus"
            ]
            not in RUNNING
        ):
            clients.client("sagemaker").delete_model(ModelName=model)
    summary["status"] = described["TransformJobStatus"]
    if summary["status"] != "Completed":
        reason = described.get("FailureReason") or "no reason given"
        raise ByoError(f"transform job {name} {summary['status']}: {reason}")
    start_time, end_time = described.get("TransformStartTime"), described.get("TransformEndTime")
    if start_time and end_time:
        summary["seconds"] = round((end_time - start_time).total_seconds(), 3)
    summary["outputs"] = outputs(clients, output_uri)
    summary["rows"] = sum(o["rows"] for o in summary["outputs"])
    return summary

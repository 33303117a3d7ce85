"""The demo's steps, as plain functions the CLI calls.

Today: put the trained model and its evaluation into the target's S3, read them back, and score
sample.csv with the copy from S3. Later issues add the stack, the endpoint, traffic, monitoring.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from batch_processor.job import Settings
from batch_processor.trigger import Settings as TriggerSettings
from batch_processor.trigger import Trigger
from operators.aws import Clients
from operators.batch import run_shards
from operators.errors import ByoError, ConfigError
from operators.stack import StackOutputs
from serving.artifact import load_booster

DEMO_BUCKET = "byo-demo-artifacts"


@dataclass(frozen=True)
class UploadedArtifact:
    key: str
    size: int
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_bucket(clients: Clients, bucket: str) -> None:
    s3 = clients.s3
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise ByoError(f"cannot use bucket {bucket}: {exc}") from exc
    kwargs = {}
    if clients.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": clients.region}
    s3.create_bucket(Bucket=bucket, **kwargs)


def upload_model(clients: Clients, model_dir: Path, bucket: str) -> list[UploadedArtifact]:
    """Upload model.tar.gz and evaluation.json under models/<sha256 of the model>/."""
    files = [model_dir / "model.tar.gz", model_dir / "evaluation.json"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise ConfigError(f"missing {', '.join(missing)}: run `make model` first")
    ensure_bucket(clients, bucket)
    prefix = f"models/{sha256_of(files[0])[:16]}"
    uploaded = []
    for path in files:
        key = f"{prefix}/{path.name}"
        checksum = sha256_of(path)
        clients.s3.upload_file(str(path), bucket, key, ExtraArgs={"Metadata": {"sha256": checksum}})
        head = clients.s3.head_object(Bucket=bucket, Key=key)
        uploaded.append(UploadedArtifact(key, head["ContentLength"], head["Metadata"]["sha256"]))
    return uploaded


def score_from_s3(clients: Clients, bucket: str, key: str, rows_csv: Path) -> np.ndarray:
    """Download the model tarball and score a headerless feature CSV with it."""
    features = np.loadtxt(rows_csv, delimiter=",", ndmin=2)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "model.tar.gz"
        clients.s3.download_file(bucket, key, str(local))
        booster = load_booster(local)
    import xgboost as xgb

    return booster.predict(xgb.DMatrix(features))


@dataclass(frozen=True)
class Scored:
    line: int
    amount: float
    probability: float
    variant: str


def invoke_rows(clients: Clients, endpoint: str, rows_csv: Path) -> list[Scored]:
    """Send each row as its own InvokeEndpoint request, so the variant routing shows per row."""
    runtime = clients.client("sagemaker-runtime")
    scored = []
    for number, line in enumerate(rows_csv.read_text().splitlines(), start=1):
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=line.encode()
        )
        scored.append(
            Scored(
                line=number,
                amount=float(line.rsplit(",", 1)[-1]),
                probability=float(response["Body"].read()),
                variant=response["InvokedProductionVariant"],
            )
        )
    return scored


def batch_flow(clients: Clients, outputs: StackOutputs, rows_csv: Path) -> dict[str, Any]:
    """The ml-byo flow on the stack: put input/<name>.csv, deliver the S3 event to the trigger
    (the emulator runs no Lambda, so the demo hands the event over as S3 would), then run the
    Batch job it submitted with exactly that job's parameters (the emulator runs no container).
    """
    key = f"input/{rows_csv.stem}.csv"
    body = rows_csv.read_bytes()
    put = clients.s3.put_object(Bucket=outputs.data_bucket, Key=key, Body=body)
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": outputs.data_bucket},
                    "object": {
                        "key": key,
                        "size": len(body),
                        "eTag": put["ETag"].strip('"'),
                        "versionId": put.get("VersionId", ""),
                    },
                },
            }
        ]
    }
    trigger = Trigger(
        TriggerSettings(
            job_queue=outputs.job_queue,
            job_definition=outputs.job_definition,
            job_table=outputs.job_table,
        ),
        clients.client("batch"),
        clients.client("dynamodb"),
    )
    (submitted,) = trigger.handle(event)["results"]
    if submitted["status"] != "submitted":
        raise ByoError(
            f"the trigger did not submit a job for s3://{outputs.data_bucket}/{key}: {submitted}"
        )
    job = clients.client("batch").describe_jobs(jobs=[submitted["jobId"]])["jobs"][0]
    parameters = job["parameters"]
    settings = Settings(
        bucket=parameters["bucket"],
        key=parameters["key"],
        etag=parameters["etag"],
        version_id=parameters["version"],
        endpoint=outputs.endpoint_name,
        job_table=outputs.job_table,
        shards=int(parameters["shards"]),
    )
    summary = run_shards(clients, settings, f"batch job {submitted['jobId']}")
    record = clients.client("dynamodb").get_item(
        TableName=outputs.job_table,
        Key={"FileName": {"S": settings.record_key}},
        ConsistentRead=True,
    )["Item"]
    bucket, output_key = summary["output"].removeprefix("s3://").split("/", 1)
    output = clients.s3.get_object(Bucket=bucket, Key=output_key)["Body"].read().decode()
    return {
        "job_id": submitted["jobId"],
        "output": summary["output"],
        "output_text": output,
        "record": {k: next(iter(v.values())) for k, v in sorted(record.items())},
    }


def read_auc(model_dir: Path) -> float:
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    return evaluation["binary_classification_metrics"]["auc"]["value"]


def flush_local_hosting() -> None:
    """Have the local SageMaker hosting write captures and metrics now (AWS delivers both
    within minutes by itself, so on AWS this does nothing)."""
    runtime_url = os.environ.get("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")
    if runtime_url:
        request = urllib.request.Request(f"{runtime_url}/localaws/flush", method="POST")
        urllib.request.urlopen(request).close()


def rollout_story(
    clients: Clients, settings: Any, data_csv: Path, sample_csv: Path, work_dir: Path, report: Any
) -> dict[str, Any]:
    """Model v2 end to end through the pipeline (byo pipeline run: process, train, evaluate,
    AUC condition, register approved, deploy as variant-b at weight 0), then shift 10→50→100
    with traffic during every step, send traffic, generate ground truth."""
    # Imported here: operators.registry imports this module (sha256_of).
    from operators import ground_truth, invoke, traffic
    from operators.pipeline.runner import Runner

    endpoint = settings.require("endpoint_name")
    if "variant-b" in {v.name for v in traffic.live_variants(clients, endpoint)}:
        traffic.set_weights(clients, endpoint, {"variant-a": 1, "variant-b": 0})  # a re-run
    pipeline = Runner.from_settings(
        clients,
        settings,
        work_dir=work_dir / "pipeline",
        progress=lambda line: report(f"  pipeline {line}"),
    )
    run = pipeline.run(
        {
            "InputData": str(data_csv),
            "Seed": 7,
            "ModelApprovalStatus": "Approved",
            "DeployVariant": "variant-b",
            "DeployWeight": "0",
        }
    )
    steps = {step["name"]: step for step in run["steps"]}
    auc = steps["evaluate"]["outputs"]["binary_classification_metrics"]["auc"]
    version = steps["register"]["outputs"]["version"]
    report(
        f"pipeline run {run['run_id']}: v2 AUC {auc:.4f} ≥ AucThreshold "
        f"{run['parameters']['AucThreshold']:g}, registered as version {version} (Approved), "
        f"variant-b at weight 0; record {run['record']['local']}"
    )
    rows = [line for line in sample_csv.read_text().splitlines() if line.strip()]

    def traffic_then_wait(seconds: float) -> None:
        if seconds < 30:  # InService polls
            return
        invoke.send_rows(clients, endpoint, rows * 5)
        flush_local_hosting()

    history = traffic.shift(
        clients,
        endpoint,
        "variant-b",
        [10, 50, 100],
        60,
        0.01,
        sleep=traffic_then_wait,
        report=report,
    )
    sent = invoke.send_rows(clients, endpoint, rows, inference_id_prefix="demo-")
    report(f"sent {sent.sent} requests: {dict(sent.per_variant)}")
    flush_local_hosting()
    truth = ground_truth.generate(
        clients,
        capture_uri=settings.require("data_capture_s3_uri"),
        endpoint=endpoint,
        bucket=settings.require("data_bucket"),
        labels_file=data_csv,
        accuracy=0.9,
        seed=1,
    )
    report(
        f"ground truth: {truth['labels']} labels ({truth['unmatched']} unmatched) in "
        f"{', '.join(truth['objects'])}"
    )
    return {"version": version, "pipeline_run": run, "shift": history, "ground_truth": truth}


def monitoring_story(clients: Clients, settings: Any, version: int, report_dir: Path, report: Any):
    """Make the baselines registered with the served model (v2, by the pipeline) the monitor's,
    then run the drift scenarios through the endpoint and write their report."""
    from operators.monitoring import scenarios
    from operators.monitoring.commands import install_registered_baseline
    from operators.monitoring.monitor import Monitor

    monitor = Monitor(
        clients,
        bucket=settings.require("data_bucket"),
        endpoint=settings.require("endpoint_name"),
        capture_uri=settings.require("data_capture_s3_uri"),
    )
    created = install_registered_baseline(monitor, settings.require("model_package_group"), version)
    report(
        f"monitoring baseline: version {version}'s, registered by the pipeline "
        f"({created['manifest']['rows']:,} training rows), {len(created['files'])} files under "
        f"s3://{monitor.bucket}/monitoring/baseline/"
    )
    return scenarios.run(monitor, report_dir=report_dir, progress=report)

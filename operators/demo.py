"""The demo's steps, as plain functions the CLI calls.

Today: put the trained model and its evaluation into the target's S3, read them back, and score
sample.csv with the copy from S3. Later issues add the stack, the endpoint, traffic, monitoring.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xgboost as xgb
from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from sample.train import load_model_tarball

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
        booster = load_model_tarball(local)
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


def read_auc(model_dir: Path) -> float:
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    return evaluation["binary_classification_metrics"]["auc"]["value"]

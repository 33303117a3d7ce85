"""Asynchronous inference's added latency over real-time for one request, through the local
hosting of an emulator of its own.

Real-time: InvokeEndpoint of one CSV row until its answer. Asynchronous: the same row already in
S3, InvokeEndpointAsync until the output object can be read (polled every 5 ms, as a client
would, so up to ~5 ms of it is the polling), and with the upload of the input counted too.
Median of RUNS each, after a warm-up request of each kind (the model is loaded once).

    python -m bench asynchronous
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from botocore.exceptions import ClientError

from tests.helpers.aws import SAGEMAKER_ROLE, make_endpoint, unique
from tests.helpers.emulator import start_emulator
from tests.helpers.models import xgboost_model
from tests.helpers.processes import stop_process

RUNS = 50
POLL_S = 0.005


def run(runs: int = RUNS) -> list[str]:
    # The emulator takes any credentials; never the caller's real ones.
    os.environ.update(
        AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1"
    )
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        emulator = start_emulator(Path(tmp))
        try:
            return measure(emulator, Path(tmp), runs)
        finally:
            stop_process(emulator.proc)


def measure(emulator, tmp: Path, runs: int) -> list[str]:
    built = xgboost_model(tmp)
    bucket = unique("bench-async")
    s3, sm = emulator.client("s3"), emulator.client("sagemaker")
    runtime = emulator.client("sagemaker-runtime")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(built.tarball(tmp / "model.tar.gz")), bucket, "models/m/model.tar.gz")
    url = f"s3://{bucket}/models/m/model.tar.gz"
    realtime = make_endpoint(emulator, url, {"only": 1})
    model = unique("model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": url},
    )
    config = unique("config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "only",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        AsyncInferenceConfig={"OutputConfig": {"S3OutputPath": f"s3://{bucket}/async/output"}},
    )
    asynchronous = unique("endpoint-async")
    sm.create_endpoint(EndpointName=asynchronous, EndpointConfigName=config)
    row = ",".join(repr(float(v)) for v in built.X[0]).encode()

    def one_realtime() -> float:
        started = time.perf_counter()
        runtime.invoke_endpoint(EndpointName=realtime, ContentType="text/csv", Body=row)[
            "Body"
        ].read()
        return time.perf_counter() - started

    def one_async(upload: bool) -> float:
        key = f"async/input/{unique('row')}.csv"
        started = time.perf_counter()
        s3.put_object(Bucket=bucket, Key=key, Body=row)
        if not upload:
            started = time.perf_counter()
        answer = runtime.invoke_endpoint_async(
            EndpointName=asynchronous, InputLocation=f"s3://{bucket}/{key}", ContentType="text/csv"
        )
        output = answer["OutputLocation"].removeprefix(f"s3://{bucket}/")
        while True:
            try:
                s3.get_object(Bucket=bucket, Key=output)["Body"].read()
                return time.perf_counter() - started
            except ClientError:
                time.sleep(POLL_S)

    one_realtime(), one_async(False)  # warm-up: the model loads once per endpoint
    real = [one_realtime() for _ in range(runs)]
    queued = [one_async(False) for _ in range(runs)]
    uploaded = [one_async(True) for _ in range(runs)]
    median_real, median_async = statistics.median(real), statistics.median(queued)
    return [
        f"async inference vs real-time, one 1-row CSV request, median of {runs} "
        "(local hosting, own emulator):",
        f"  real-time InvokeEndpoint: {median_real * 1e3:.1f} ms",
        f"  InvokeEndpointAsync → output object readable: {median_async * 1e3:.1f} ms "
        f"(added {1e3 * (median_async - median_real):.1f} ms)",
        f"  with the input's upload: {statistics.median(uploaded) * 1e3:.1f} ms",
    ]


if __name__ == "__main__":
    print("\n".join(run()))

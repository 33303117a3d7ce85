"""Batch scoring benchmark: the seed's approach vs per-row calls vs the streaming job.

Everything goes through the embedded AWS (S3 in the emulator, the endpoint in the local
SageMaker hosting), started here on free ports:
(a) the seed: download the whole file, one InvokeEndpoint with all of it;
(b) one InvokeEndpoint per row (measured on the first rows: at ~1k rows/s a full run would take
    minutes to hours, so the rate is what is reported);
(c) the job (`python -m batch_processor.job`, its own process: wall time and peak RSS, the
    VmHWM of its own image);
(d) the job on the same rows as Excel writes them in a European locale (sep=; first line, a
    header, decimal commas, CRLF): the dialect path, each line normalised (first size only);
raw: the endpoint fed requests of the job's default batch size by as many threads as its default
    concurrency (1,000 rows, 4 threads).

    python -m bench.batch        # this section alone, printed (a model trained on 50k rows)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3

from batch_processor.job import Settings
from bench import free_port
from localaws.emulator import endpoint_url, wait_ready
from sample.generate import FEATURES, generate, write_csv

SIZES = (100_000, 1_000_000)
PER_ROW_SAMPLE = 3_000


def features_csv(rows: int, path: Path) -> None:
    write_csv(generate(rows, seed=7).select(FEATURES), path, header=False)


def run(model_tarball: Path) -> list[tuple[str, str, str]]:
    port, hosting_port = free_port(), free_port()
    emulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localaws.emulator",
            "--port",
            str(port),
            "--hosting-port",
            str(hosting_port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint_url("127.0.0.1", port),
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": endpoint_url("127.0.0.1", hosting_port),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        wait_ready(endpoint_url("127.0.0.1", port), proc=emulator)
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )
        s3 = session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
        sm = session.client("sagemaker", endpoint_url=env["AWS_ENDPOINT_URL"])
        runtime = session.client(
            "sagemaker-runtime", endpoint_url=env["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"]
        )
        s3.create_bucket(Bucket="bench")
        s3.upload_file(str(model_tarball), "bench", "models/model.tar.gz")
        sm.create_model(
            ModelName="bench",
            ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
            PrimaryContainer={
                "Image": "byo/serving",
                "ModelDataUrl": "s3://bench/models/model.tar.gz",
            },
        )
        sm.create_endpoint_config(
            EndpointConfigName="bench",
            ProductionVariants=[
                {
                    "VariantName": "main",
                    "ModelName": "bench",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": 1,
                }
            ],
        )
        sm.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
        return measure(s3, runtime, env)
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)


def vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def raw_rate(runtime, lines: list[bytes]) -> float:
    rows, threads_count = Settings.batch_rows, Settings.concurrency
    body = b"\n".join(lines[:rows]) + b"\n"
    calls = 15 * threads_count
    errors: list[Exception] = []

    def worker() -> None:
        try:
            for _ in range(calls // threads_count):
                runtime.invoke_endpoint(EndpointName="bench", ContentType="text/csv", Body=body)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return calls * rows / (time.perf_counter() - began)


def run_job(key: str, env: dict[str, str]) -> tuple[float, int]:
    """`python -m batch_processor.job` on s3://bench/<key>: its wall time and peak RSS (KiB)."""
    began = time.perf_counter()
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "batch_processor.job",
            "--bucket",
            "bench",
            "--key",
            key,
            "--endpoint",
            "bench",
            "--job-table",
            "",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # VmHWM of the job's own image (wait4's maxrss would count the fork of this process).
    peak_kib = 0
    while job.poll() is None:
        peak_kib = max(peak_kib, vm_hwm_kib(job.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    if job.returncode != 0:
        raise RuntimeError(f"job failed: {job.stderr.read().decode()[-2000:]}")
    return elapsed, peak_kib


def measure(s3, runtime, env: dict[str, str]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for size in SIZES:
            path = Path(tmp) / f"rows-{size}.csv"
            features_csv(size, path)
            key = f"input/rows-{size}.csv"
            s3.upload_file(str(path), "bench", key)
            lines = path.read_bytes().splitlines()

            # (a) the seed: whole file, one call
            began = time.perf_counter()
            whole = s3.get_object(Bucket="bench", Key=key)["Body"].read()
            try:
                runtime.invoke_endpoint(EndpointName="bench", ContentType="text/csv", Body=whole)
                seed = f"{size / (time.perf_counter() - began) / 1e3:,.1f}k rows/s"
            except runtime.exceptions.ModelError as exc:
                seed = (
                    f"fails after {time.perf_counter() - began:.1f} s: "
                    f"{exc.response.get('OriginalMessage', exc)[:60]}"
                )

            # (b) one call per row
            began = time.perf_counter()
            for line in lines[:PER_ROW_SAMPLE]:
                runtime.invoke_endpoint(EndpointName="bench", ContentType="text/csv", Body=line)
            per_row = PER_ROW_SAMPLE / (time.perf_counter() - began)

            # (c) the job, in its own process
            elapsed, peak_kib = run_job(key, env)
            rate = size / elapsed
            rss_mib = peak_kib / 1024
            raw = raw_rate(runtime, lines)
            results[size] = rss_mib
            rows.append((f"batch, {size:,} rows: (a) seed, whole file in one call", seed, ""))
            rows.append(
                (
                    f"batch, {size:,} rows: (b) one call per row",
                    f"{per_row / 1e3:,.2f}k rows/s (first {PER_ROW_SAMPLE:,} rows)",
                    "",
                )
            )
            rows.append(
                (
                    f"batch, {size:,} rows: (c) the job",
                    f"{rate / 1e3:,.1f}k rows/s ({elapsed:.1f} s), peak RSS {rss_mib:,.0f} MiB; "
                    f"{rate / per_row:,.0f}x (b); {rate / raw:.0%} of raw serving "
                    f"{raw / 1e3:,.1f}k rows/s",
                    f">= 100x (b): {'met' if rate >= 100 * per_row else 'missed'}; >= 70% of raw: "
                    f"{'met' if rate >= 0.7 * raw else 'missed'}",
                )
            )
            if size == SIZES[0]:
                # (d) the same rows as Excel writes them in a European locale
                european = Path(tmp) / f"rows-{size}-excel-european.csv"
                header = ";".join(FEATURES).encode()
                body = path.read_bytes().translate(bytes.maketrans(b",.", b";,"))
                european.write_bytes(b"sep=;\r\n" + header + b"\r\n" + body.replace(b"\n", b"\r\n"))
                s3.upload_file(str(european), "bench", f"input/{european.name}")
                dialect_elapsed, _ = run_job(f"input/{european.name}", env)
                dialect_rate = size / dialect_elapsed
                rows.append(
                    (
                        f"batch, {size:,} rows: (d) the job, Excel European CSV (sep=;, header, "
                        "decimal commas, CRLF)",
                        f"{dialect_rate / 1e3:,.1f}k rows/s ({dialect_elapsed:.1f} s); "
                        f"{dialect_rate / raw:.0%} of raw serving",
                        "",
                    )
                )
        ratio = results[SIZES[1]] / results[SIZES[0]]
        rows.append(
            (
                "batch job peak RSS, 1M vs 100k rows",
                f"{ratio:.2f}x",
                f"<= 1.2x: {'met' if ratio <= 1.2 else 'missed'}",
            )
        )
    return rows


def main() -> None:
    from operators.pipeline.training import train

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "creditcard.csv"
        write_csv(generate(50_000), data)  # any model will do: the job is measured
        model = train(data, Path(tmp) / "model").model_path
        for what, measured, target in run(model):
            print(f"| {what} | {measured} | {target} |")


if __name__ == "__main__":
    main()

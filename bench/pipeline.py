"""Pipeline benchmark: `byo pipeline run` on the 284,807-row dataset against the embedded AWS,
cold (every step runs, outputs uploaded to the emulator's S3) and again (every step cached).
Deploy is not part of it (no endpoint): the steps up to register are."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import free_port
from localaws.emulator import endpoint_url, wait_ready


def run(data: Path) -> list[tuple[str, str, str]]:
    port = free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "localaws.emulator", "--port", str(port), "--no-hosting"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    emulator_env = {
        "AWS_ENDPOINT_URL": endpoint_url("127.0.0.1", port),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in emulator_env}  # restored: the rest of the bench
    os.environ.update(emulator_env)
    try:
        wait_ready(endpoint_url("127.0.0.1", port), proc=emulator)
        from operators.aws import Clients
        from operators.errors import ConfigError
        from operators.layout import Layout
        from operators.pipeline.runner import Runner

        clients = Clients()
        clients.s3.create_bucket(Bucket="bench-pipeline")
        clients.client("sagemaker").create_model_package_group(ModelPackageGroupName="bench")
        records = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(2):
                runner = Runner(
                    clients,
                    name="bench",
                    layout=Layout("bench-pipeline"),
                    group="bench",
                    image="byo/serving",
                    endpoint=None,
                    role_arn=None,
                    work_dir=Path(tmp) / "work",
                )
                # deploy raises (no endpoint here) after the record is written
                with contextlib.suppress(ConfigError):
                    runner.run({"InputData": str(data), "ModelApprovalStatus": "Approved"})
                records.append(_last(Path(tmp) / "work"))
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def steps(record: dict) -> str:
        return ", ".join(
            f"{s['name']} {s['seconds']:.1f} s"
            for s in record["steps"]
            if s["name"] != "deploy" and s["seconds"] is not None
        )

    def total(record: dict) -> float:
        return sum(s["seconds"] or 0 for s in record["steps"] if s["name"] != "deploy")

    cold, warm = records
    return [
        (
            "pipeline: process → train → evaluate → condition → register, 284,807 rows, cold",
            f"{total(cold):.1f} s ({steps(cold)})",
            "",
        ),
        (
            "pipeline: the same run again (every step cached)",
            f"{total(warm):.1f} s ({steps(warm)})",
            "",
        ),
    ]


def _last(work: Path) -> dict:
    return json.loads((work / "last-run.json").read_text())

"""Shared fixtures: one embedded AWS emulator per test session (per xdist worker), on a free port.

The emulator runs as its own process and is stopped by PID at the end of the session.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from localaws.emulator import endpoint_url, wait_ready

REPO = Path(__file__).resolve().parent.parent

# Tests never reach real AWS: fixed fake credentials and region, whatever the caller's shell holds.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="test",
    AWS_SECRET_ACCESS_KEY="test",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    def __init__(
        self, proc: subprocess.Popen, host: str, port: int, hosting_port: int, pidfile: Path
    ) -> None:
        self.proc = proc
        self.host = host
        self.port = port
        self.pidfile = pidfile
        self.url = endpoint_url(host, port)
        self.runtime_url = endpoint_url(host, hosting_port)

    def client(self, service: str, **kwargs):
        url = self.runtime_url if service == "sagemaker-runtime" else self.url
        return boto3.client(service, endpoint_url=url, region_name="us-east-1", **kwargs)


def start_emulator(tmp: Path) -> Emulator:
    port, hosting_port = free_port(), free_port()
    pidfile = tmp / "emulator.pid"
    log = (tmp / "emulator.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localaws.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--hosting-port",
            str(hosting_port),
            "--pidfile",
            str(pidfile),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )
    wait_ready(endpoint_url("127.0.0.1", port), proc=proc)
    return Emulator(proc, "127.0.0.1", port, hosting_port, pidfile)


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, wait, and SIGKILL only if it does not stop in time."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running emulator with its SageMaker hosting; the standard endpoint variables point every
    boto3 client in the tests at them."""
    emu = start_emulator(tmp_path_factory.mktemp("emulator"))
    endpoints = {"AWS_ENDPOINT_URL": emu.url, "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": emu.runtime_url}
    previous = {name: os.environ.get(name) for name in endpoints}
    os.environ.update(endpoints)
    try:
        yield emu
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        stop_process(emu.proc)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic dataset (full size, default seed) as CSV."""
    from sample.generate import generate, write_csv

    path = tmp_path_factory.mktemp("data") / "creditcard.csv"
    write_csv(generate(), path)
    return path


@pytest.fixture(scope="session")
def trained_model(dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    """The model `make model` builds, trained once per test session."""
    from sample.train import train

    return train(dataset, tmp_path_factory.mktemp("model"))


# Wall times that tests report with `record_property("timing:<what>", seconds)` are printed at the
# end of the run (collected from xdist workers' reports too).
_TIMINGS: list[tuple[str, str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name.startswith("timing:"):
            _TIMINGS.append((report.nodeid, name.removeprefix("timing:"), float(value)))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _TIMINGS:
        return
    terminalreporter.section("wall times")
    for nodeid, what, seconds in _TIMINGS:
        terminalreporter.write_line(f"{seconds:8.1f} s  {what}  ({nodeid.split('::')[-1]})")


def fargate_job_queue(emulator: Emulator, command: list[str]) -> tuple[str, str]:
    """A Fargate compute environment, job queue and job definition; returns (queue, definition)."""
    import json
    import uuid

    suffix = uuid.uuid4().hex[:8]
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"sg-{suffix}", Description="batch", VpcId=vpc)
    role = emulator.client("iam").create_role(
        RoleName=f"batch-{suffix}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    batch = emulator.client("batch")
    compute = batch.create_compute_environment(
        computeEnvironmentName=f"ce-{suffix}",
        type="MANAGED",
        state="ENABLED",
        computeResources={
            "type": "FARGATE",
            "maxvCpus": 4,
            "subnets": [subnet],
            "securityGroupIds": [group["GroupId"]],
        },
        serviceRole=role,
    )["computeEnvironmentArn"]
    queue = batch.create_job_queue(
        jobQueueName=f"q-{suffix}",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": compute}],
    )["jobQueueArn"]
    definition = batch.register_job_definition(
        jobDefinitionName=f"jd-{suffix}",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": "scorer:1",
            "command": command,
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
            "executionRoleArn": role,
        },
    )["jobDefinitionArn"]
    return queue, definition


def _unique(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:8]}"


SAGEMAKER_ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def make_endpoint(
    emulator,
    model_url: str,
    weights: dict[str, int],
    capture_bucket=None,
    sampling: int = 100,
    modes=("Input", "Output"),
) -> str:
    sm = emulator.client("sagemaker")
    variants = []
    for name, weight in weights.items():
        model = _unique(f"model-{name}")
        sm.create_model(
            ModelName=model,
            ExecutionRoleArn=SAGEMAKER_ROLE,
            PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": model_url},
        )
        variants.append(
            {
                "VariantName": name,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
        )
    config = _unique("config")
    extra = {}
    if capture_bucket:
        extra["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": sampling,
            "DestinationS3Uri": f"s3://{capture_bucket}/captures",
            "CaptureOptions": [{"CaptureMode": m} for m in modes],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variants, **extra)
    endpoint = _unique("endpoint")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint

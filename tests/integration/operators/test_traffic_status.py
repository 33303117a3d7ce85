"""`byo traffic set` and `byo status` against an endpoint in the emulator."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from operators.cli import cli
from tests.helpers.aws import make_endpoint
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample" / "sample.csv"


@pytest.fixture(scope="module")
def endpoint(emulator, trained_model, tmp_path_factory):
    bucket = f"ops-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "m/model.tar.gz")
    name = make_endpoint(
        emulator, f"s3://{bucket}/m/model.tar.gz", {"variant-a": 9, "variant-b": 1}
    )
    emulator.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{name}/variant/variant-a",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    table = f"jobs-{uuid.uuid4().hex[:8]}"
    emulator.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "FileName", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "FileName", "KeyType": "HASH"}],
    )
    emulator.client("dynamodb").put_item(
        TableName=table,
        Item={
            "FileName": {"S": "s3://b/input/x.csv#v1"},
            "Key": {"S": "input/x.csv"},
            "Status": {"S": "SUCCEEDED"},
            "StartTime": {"S": "2026-11-23T10:00:00.000+00:00"},
            "RowsIn": {"N": "10"},
        },
    )
    # The table's other items (a loop's lock, a loop's record) are not batch jobs.
    for item in ({"Holder": {"S": "exec-1"}}, {"Outcome": {"S": "registered"}}):
        emulator.client("dynamodb").put_item(
            TableName=table,
            Item={"FileName": {"S": f"loops/retraining/{next(iter(item))}"}, **item},
        )
    group = f"models-{uuid.uuid4().hex[:8]}"
    emulator.client("sagemaker").create_model_package_group(ModelPackageGroupName=group)
    outputs = tmp_path_factory.mktemp("ops") / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "endpoint_name": {"value": name},
                "job_table": {"value": table},
                "model_package_group": {"value": group},
            }
        )
    )
    return {"name": name, "outputs": outputs}


def byo(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_traffic_set_changes_weights_and_routing(emulator, endpoint):
    result = byo(
        "--outputs",
        str(endpoint["outputs"]),
        "traffic",
        "set",
        "variant-a=0",
        "variant-b=1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    weights = {v["variant"]: v["weight"] for v in json.loads(result.output)["variants"]}
    assert weights == {"variant-a": 0.0, "variant-b": 1.0}
    runtime = emulator.client("sagemaker-runtime")
    served = {
        runtime.invoke_endpoint(
            EndpointName=endpoint["name"], ContentType="text/csv", Body=SAMPLE.read_bytes()
        )["InvokedProductionVariant"]
        for _ in range(20)
    }
    assert served == {"variant-b"}

    byo("--outputs", str(endpoint["outputs"]), "traffic", "set", "variant-a=9", "variant-b=1")


def test_traffic_set_refuses_unknown_variants_and_all_zero(endpoint):
    from operators.errors import ConfigError

    runner = CliRunner()
    unknown = runner.invoke(
        cli, ["--outputs", str(endpoint["outputs"]), "traffic", "set", "variant-c=1"]
    )
    assert isinstance(unknown.exception, ConfigError)
    assert "variant-a, variant-b" in str(unknown.exception)
    zero = runner.invoke(
        cli, ["--outputs", str(endpoint["outputs"]), "traffic", "set", "variant-a=0", "variant-b=0"]
    )
    assert isinstance(zero.exception, ConfigError)


def test_status_explains_the_live_state(endpoint):
    result = byo("--outputs", str(endpoint["outputs"]), "status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "InService"
    variants = {v["variant"]: v for v in report["variants"]}
    assert set(variants) == {"variant-a", "variant-b"}
    assert variants["variant-a"]["autoscaling"] == [1, 4]
    assert variants["variant-a"]["desired_instances"] == variants["variant-a"]["instances"] == 1
    assert variants["variant-a"]["last_scaling_activity"] is None  # no policy, no activity
    assert variants["variant-b"]["autoscaling"] is None
    assert variants["variant-a"]["artifact"].endswith("/m/model.tar.gz")
    assert sum(v["traffic_share"] for v in variants.values()) == pytest.approx(1.0)
    assert [job["Key"] for job in report["recent_jobs"]] == ["input/x.csv"]
    assert report["registry"] == []

    human = byo("--outputs", str(endpoint["outputs"]), "status")
    assert "variant-a" in human.output and "recent batch jobs" in human.output
    assert "last activity" in human.output  # the autoscaling table of variant-a


def test_invoke_sends_each_row_with_inference_ids(emulator, endpoint, tmp_path):
    result = byo(
        "--outputs",
        str(endpoint["outputs"]),
        "invoke",
        "--file",
        str(SAMPLE),
        "--target-variant",
        "variant-b",
        "--inference-id-prefix",
        "t-",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["sent"] == 10
    assert summary["per_variant"] == {"variant-b": 10}
    assert summary["errors"] == {}


def test_invoke_counts_failures_by_code_and_exits_1(emulator, endpoint, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text().splitlines()[0] + "\n1,2,3\n")
    result = CliRunner().invoke(
        cli, ["--outputs", str(endpoint["outputs"]), "invoke", "--file", str(bad), "--json"]
    )
    assert json.loads(result.output.split("\n}\n")[0] + "\n}")["errors"] == {"ModelError": 1}
    assert "1 of 2 requests failed" in str(result.exception)


def test_rate_limit_paces_requests_with_the_injected_clock(endpoint):
    from operators.aws import Clients
    from operators.invoke import send_rows

    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    rows = SAMPLE.read_text().splitlines()[:5]
    summary = send_rows(
        Clients(), endpoint["name"], rows, rate=2.0, sleep=sleep, clock=lambda: now[0]
    )
    assert summary.sent == 5 and not summary.errors
    assert slept == [0.5, 0.5, 0.5, 0.5]

"""The platform in two regions (terraform/stacks/multi-region) applied for real against the
emulator, which serves both: a clean re-plan, a version registered and approved in the primary
and mirrored into the secondary (its artifact replicated by S3), `byo deploy --regions all`,
the failover drill of the README (the primary's endpoint deleted, a client configured with both
regions keeps scoring from the secondary), and a destroy that leaves nothing in either region."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from click.testing import CliRunner

from operators.cli import cli
from tests.helpers.flow import wait_for
from tests.helpers.paths import REPO
from tests.helpers.stack import Terraform, stack_resources

pytestmark = pytest.mark.e2e

STACK = REPO / "terraform" / "stacks" / "multi-region"


@pytest.fixture
def terraform(emulator, tmp_path, trained_model):
    run = Terraform(
        STACK, emulator, tmp_path, trained_model.model_path, f"mr{uuid.uuid4().hex[:6]}"
    )
    yield run
    run.check_lock_kept()


def client(emulator, service: str, region: str):
    url = emulator.runtime_url if service == "sagemaker-runtime" else emulator.url
    return boto3.client(service, endpoint_url=url, region_name=region)


def test_two_regions_mirror_deploy_fail_over_and_destroy(
    terraform, emulator, trained_model, record_property, monkeypatch
):
    began = time.perf_counter()
    terraform("apply", "-input=false", "-auto-approve")
    record_property(
        "timing:multi-region apply, two platforms (emulator)", time.perf_counter() - began
    )
    began = time.perf_counter()
    plan = terraform("plan", "-input=false", "-detailed-exitcode", ok_codes=(0, 2))
    record_property("timing:multi-region re-plan (emulator)", time.perf_counter() - began)
    assert plan.returncode == 0, "re-plan after apply must show no changes:\n" + plan.stdout[-6000:]

    raw = json.loads(terraform("output", "-json").stdout)
    # `byo` finds the stack through Terraform, as after `make apply STACK=…multi-region`.
    for name in ("TF_CLI_CONFIG_FILE", "TF_DATA_DIR", "TF_VAR_name", "TF_VAR_emulator"):
        monkeypatch.setenv(name, terraform.env[name])
    for name in ("TF_VAR_initial_model_path", "TF_VAR_trigger_package_path"):
        monkeypatch.setenv(name, terraform.env[name])
    monkeypatch.setenv("BYO_STACK_DIR", str(STACK))
    primary, secondary = raw["stack_regions"]["value"]
    platforms = raw["regions"]["value"]
    names = {primary: terraform.name, secondary: f"{terraform.name}-dr"}
    assert {r: platforms[r]["endpoint_name"] for r in names} == names

    # Each region serves its own endpoint, with autoscaling and alarms of its own.
    for region, name in names.items():
        endpoint = client(emulator, "sagemaker", region).describe_endpoint(EndpointName=name)
        assert endpoint["EndpointStatus"] == "InService"
        assert endpoint["EndpointArn"].startswith(f"arn:aws:sagemaker:{region}:")
        targets = client(emulator, "application-autoscaling", region).describe_scalable_targets(
            ServiceNamespace="sagemaker"
        )["ScalableTargets"]
        assert {t["ResourceId"] for t in targets} >= {
            f"endpoint/{name}/variant/variant-a",
            f"endpoint/{name}/variant/variant-b",
        }
        alarms = client(emulator, "cloudwatch", region).describe_alarms(AlarmNamePrefix=name)
        assert alarms["MetricAlarms"], f"no alarms in {region}"

    def byo(*args: str) -> dict | list:
        result = CliRunner().invoke(cli, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    # Registered and approved in the primary: mirrored into the secondary's registry, pointing
    # at the replica S3 made of its artifact (encrypted with the secondary's key).
    registered = byo(
        "model",
        "register",
        "--artifact",
        str(trained_model.model_path),
        "--metrics",
        str(trained_model.evaluation_path),
    )
    approved = byo("model", "approve", str(registered["version"]))
    (mirror,) = approved["mirrors"]
    assert mirror["region"] == secondary and mirror["status"] == "Approved"
    assert mirror["sha256"] == registered["sha256"]
    replica_bucket = platforms[secondary]["data_bucket"]
    assert mirror["model_data_url"] == registered["model_data_url"].replace(
        platforms[primary]["data_bucket"], replica_bucket
    )
    key = mirror["model_data_url"].split("/", 3)[3]
    replica = client(emulator, "s3", secondary).head_object(Bucket=replica_bucket, Key=key)
    assert replica["ReplicationStatus"] == "REPLICA"
    assert replica["SSEKMSKeyId"] == platforms[secondary]["kms_key_arn"]
    assert mirror["image"] == platforms[secondary]["serving_image"]
    again = byo("model", "mirror", str(registered["version"]))
    assert [m["version"] for m in again] == [mirror["version"]], "mirroring twice adds nothing"

    # One deploy command, both regions, primary first.
    deployed = byo(
        "deploy", str(registered["version"]), "--variant", "variant-b", "--regions", "all"
    )
    assert [(d["region"], d["endpoint"]) for d in deployed] == list(names.items())
    assert [d["version"] for d in deployed] == [registered["version"], mirror["version"]]

    # The drill: both regions answer alike; the primary's endpoint is deleted; the client
    # configured with both regions goes on scoring every row from the secondary.
    rows = REPO / "sample" / "sample.csv"
    row = rows.read_text().splitlines()[0]
    answers = {
        region: float(
            client(emulator, "sagemaker-runtime", region)
            .invoke_endpoint(
                EndpointName=name, TargetVariant="variant-b", ContentType="text/csv", Body=row
            )["Body"]
            .read()
        )
        for region, name in names.items()
    }
    assert answers[primary] == pytest.approx(answers[secondary], rel=1e-6), answers
    before = byo("invoke", "--file", str(rows), "--regions", "all")
    assert before["per_region"] == {primary: 10} and not before["errors"]
    client(emulator, "sagemaker", primary).delete_endpoint(EndpointName=names[primary])
    after = byo("invoke", "--file", str(rows), "--regions", "all")
    assert after["per_region"] == {secondary: 10}, after
    # The first row finds the primary gone; the rest go straight to the secondary while the
    # primary rests (30 s), so no request waits on a dead region twice.
    assert after["failovers"] == {f"{primary} -> {secondary}": 1} and not after["errors"]
    # The secondary's variants publish their metrics in their own region (its alarms read them).
    wait_for(
        f"an Invocations metric of {names[secondary]} in {secondary}",
        lambda: client(emulator, "cloudwatch", secondary).list_metrics(
            Namespace="AWS/SageMaker",
            MetricName="Invocations",
            Dimensions=[{"Name": "EndpointName", "Value": names[secondary]}],
        )["Metrics"],
        timeout_s=30,
    )

    # Teardown: the operators' versions, models and configs in both regions, then the stack.
    began = time.perf_counter()
    removed = byo("teardown", "--yes")
    record_property("timing:multi-region teardown (emulator)", time.perf_counter() - began)
    assert set(removed["regions"]) == set(names)
    assert len(removed["regions"][secondary]["model_packages"]) == 1
    for region in names:
        assert stack_resources(emulator, terraform.name, region) == {}, region
    assert byo("teardown", "--yes")["stack"] is False

"""`byo model register | list | approve | reject` against the emulator's model registry."""

from __future__ import annotations

import json
import tarfile
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from operators.cli import cli
from operators.errors import ConfigError
from tests.helpers.aws import job_table

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(emulator, tmp_path):
    bucket = f"reg-{uuid.uuid4().hex[:8]}"
    emulator.client("s3").create_bucket(Bucket=bucket)
    group = f"models-{uuid.uuid4().hex[:8]}"
    emulator.client("sagemaker").create_model_package_group(ModelPackageGroupName=group)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "data_bucket": {"value": bucket},
                "model_package_group": {"value": group},
                "serving_image": {"value": "xgb:1.7-1"},
                "job_table": {"value": job_table(emulator)},  # deploy's rollout lock
            }
        )
    )
    return {"bucket": bucket, "group": group, "outputs": str(outputs)}


def byo(registry, *args: str):
    return CliRunner().invoke(cli, ["--outputs", registry["outputs"], *args])


def test_register_approve_reject_list(emulator, registry, trained_model):
    artifact, metrics = trained_model.model_path, trained_model.evaluation_path
    first = byo(
        registry,
        "model",
        "register",
        "--artifact",
        str(artifact),
        "--metrics",
        str(metrics),
        "--json",
    )
    assert first.exit_code == 0, first.output
    package = json.loads(first.output)
    assert package["version"] == 1
    assert package["status"] == "PendingManualApproval"
    assert package["auc"] == pytest.approx(
        trained_model.evaluation["binary_classification_metrics"]["auc"]["value"], abs=1e-6
    )
    key = package["model_data_url"].split("/", 3)[3]
    head = emulator.client("s3").head_object(Bucket=registry["bucket"], Key=key)
    assert key.startswith("models/") and head["Metadata"]["sha256"].startswith(key.split("/")[1])

    second = byo(
        registry,
        "model",
        "register",
        "--artifact",
        str(artifact),
        "--metrics",
        str(metrics),
        "--approve",
        "--json",
    )
    assert json.loads(second.output)["status"] == "Approved"

    approved = byo(registry, "model", "approve", "1", "--json")
    assert json.loads(approved.output)["status"] == "Approved"
    rejected = byo(registry, "model", "reject", "2", "--reason", "AUC regression")
    assert rejected.exit_code == 0 and "Rejected" in rejected.output
    listed = json.loads(byo(registry, "model", "list", "--json").output)
    assert [(p["version"], p["status"]) for p in listed] == [(1, "Approved"), (2, "Rejected")]
    assert listed[1]["description"] == "AUC regression"

    missing = byo(registry, "model", "approve", "9")
    assert isinstance(missing.exception, ConfigError)
    assert "versions: 1, 2" in str(missing.exception)


def test_register_refuses_a_broken_artifact_or_missing_metrics(registry, trained_model, tmp_path):
    broken = tmp_path / "model.tar.gz"
    with tarfile.open(broken, "w:gz") as tar:
        (tmp_path / "xgboost-model").write_text("not a model")
        tar.add(tmp_path / "xgboost-model", arcname="xgboost-model")
    result = byo(
        registry,
        "model",
        "register",
        "--artifact",
        str(broken),
        "--metrics",
        str(trained_model.evaluation_path),
    )
    assert isinstance(result.exception, ConfigError)
    assert "not a usable model.tar.gz" in str(result.exception)

    no_metrics = tmp_path / "evaluation.json"
    no_metrics.write_text(json.dumps({"regression_metrics": {}}))
    result = byo(
        registry,
        "model",
        "register",
        "--artifact",
        str(trained_model.model_path),
        "--metrics",
        str(no_metrics),
    )
    assert isinstance(result.exception, ConfigError)
    assert "binary_classification_metrics.auc.value" in str(result.exception)


def test_deploy_an_approved_version_as_a_new_variant(emulator, registry, trained_model, tmp_path):
    from tests.helpers.aws import make_endpoint

    s3 = emulator.client("s3")
    s3.upload_file(str(trained_model.model_path), registry["bucket"], "initial/model.tar.gz")
    capture = f"cap-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=capture)
    endpoint = make_endpoint(
        emulator, f"s3://{registry['bucket']}/initial/model.tar.gz", {"variant-a": 1}, capture
    )
    aas = emulator.client("application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{endpoint}/variant/variant-a",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=3,
    )
    aas.put_scaling_policy(
        PolicyName="a-policy",
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{endpoint}/variant/variant-a",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 100.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    )
    outputs = json.loads(Path(registry["outputs"]).read_text())
    outputs.update(
        {
            "endpoint_name": {"value": endpoint},
            "sagemaker_execution_role_arn": {"value": "arn:aws:iam::123456789012:role/x"},
        }
    )
    (tmp_path / "o.json").write_text(json.dumps(outputs))
    run = lambda *a: CliRunner().invoke(cli, ["--outputs", str(tmp_path / "o.json"), *a])  # noqa: E731

    run(
        "model",
        "register",
        "--artifact",
        str(trained_model.model_path),
        "--metrics",
        str(trained_model.evaluation_path),
    )
    pending = run("deploy", "1", "--variant", "variant-b")
    assert isinstance(pending.exception, ConfigError)
    assert "approve it first" in str(pending.exception)

    run("model", "approve", "1")
    deployed = run("deploy", "1", "--variant", "variant-b", "--weight", "1", "--json")
    assert deployed.exit_code == 0, deployed.output
    result = json.loads(deployed.output)
    sm = emulator.client("sagemaker")
    live = sm.describe_endpoint(EndpointName=endpoint)
    assert live["EndpointConfigName"] == result["endpoint_config"]
    assert {v["VariantName"] for v in live["ProductionVariants"]} == {"variant-a", "variant-b"}
    assert live["DataCaptureConfig"]["EnableCapture"], "data capture is kept"
    targets = aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[f"endpoint/{endpoint}/variant/variant-b"]
    )["ScalableTargets"]
    assert targets and targets[0]["MaxCapacity"] == 3
    assert "LastDeploymentConfig" not in live
    served = json.loads(run("status", "--json").output)["variants"]
    assert {v["variant"]: v["model_version"] for v in served} == {
        "variant-a": "initial",
        "variant-b": "1",
    }

    outputs["alarm_names"] = {
        "value": {
            "variant-a/5xx": "a-5xx",
            "variant-a/latency-p99": "a-p99",
            "trigger-dlq-not-empty": "dlq",
        }
    }
    (tmp_path / "o.json").write_text(json.dumps(outputs))
    # The embedded AWS runs the deployment (canary bake, then the final baking period): no
    # waits here, so it ends at once; the rollback itself is tested in test_deploy_blue_green.
    blue_green = run(
        "deploy",
        "1",
        "--variant",
        "variant-b",
        "--blue-green",
        "--canary-percent",
        "20",
        "--canary-wait",
        "0",
        "--termination-wait",
        "0",
    )
    assert blue_green.exit_code == 0, blue_green.output
    config = sm.describe_endpoint(EndpointName=endpoint)["LastDeploymentConfig"]
    routing = config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY" and routing["CanarySize"]["Value"] == 20
    assert [a["AlarmName"] for a in config["AutoRollbackConfiguration"]["Alarms"]] == [
        "a-5xx",
        "a-p99",
    ]

    runtime = emulator.client("sagemaker-runtime")
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint,
        ContentType="text/csv",
        TargetVariant="variant-b",
        Body=b"0" + b",0" * 29 + b"\n",
    )
    assert answer["InvokedProductionVariant"] == "variant-b"


def test_teardown_dry_run_lists_operator_resources_and_removes_nothing(
    emulator, registry, trained_model
):
    CliRunner().invoke(
        cli,
        [
            "--outputs",
            registry["outputs"],
            "model",
            "register",
            "--artifact",
            str(trained_model.model_path),
            "--metrics",
            str(trained_model.evaluation_path),
        ],
    )
    result = CliRunner().invoke(
        cli, ["--outputs", registry["outputs"], "teardown", "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.output
    planned = json.loads(result.output)
    assert planned["dry_run"] is True
    assert len(planned["model_packages"]) == 1
    assert planned["bucket"] == registry["bucket"] and planned["objects"] == 2
    listed = emulator.client("sagemaker").list_model_packages(
        ModelPackageGroupName=registry["group"]
    )["ModelPackageSummaryList"]
    assert len(listed) == 1, "a dry run removes nothing"


def test_deploy_refuses_to_leave_every_variant_at_weight_zero(
    emulator, registry, trained_model, tmp_path
):
    from tests.helpers.aws import make_endpoint

    emulator.client("s3").upload_file(
        str(trained_model.model_path), registry["bucket"], "initial/model.tar.gz"
    )
    endpoint = make_endpoint(
        emulator, f"s3://{registry['bucket']}/initial/model.tar.gz", {"variant-a": 1}
    )
    outputs = json.loads(Path(registry["outputs"]).read_text())
    outputs.update(
        {
            "endpoint_name": {"value": endpoint},
            "sagemaker_execution_role_arn": {"value": "arn:aws:iam::123456789012:role/x"},
        }
    )
    (tmp_path / "o.json").write_text(json.dumps(outputs))
    run = lambda *a: CliRunner().invoke(cli, ["--outputs", str(tmp_path / "o.json"), *a])  # noqa: E731
    run(
        "model",
        "register",
        "--artifact",
        str(trained_model.model_path),
        "--metrics",
        str(trained_model.evaluation_path),
        "--approve",
    )
    result = run("deploy", "1", "--variant", "variant-a", "--weight", "0")
    assert isinstance(result.exception, ConfigError)
    assert "every variant would have weight 0" in str(result.exception)

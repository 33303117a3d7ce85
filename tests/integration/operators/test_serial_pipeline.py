"""Serial inference pipelines on the emulator: a two-container version registered with
`byo model register --artifact … --artifact …`, listed, deployed as a variant whose SageMaker
model runs both containers in order (Containers + InferenceExecutionConfig Serial), next to a
one-container version that keeps its PrimaryContainer."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import tarfile
import uuid
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console
from sklearn.preprocessing import StandardScaler

from operators import registry
from operators.cli import cli
from operators.cli.options import versions_table
from operators.errors import ConfigError
from serving.artifact import sagemaker_model_json, write_tarball
from tests.helpers.aws import SAGEMAKER_ROLE, minimal_stack

pytestmark = pytest.mark.integration

FEATURES = 30
ACCEPT_CSV = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT=text/csv"


def rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(80, FEATURES))
    return x, (x[:, 0] > 0).astype(int)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> dict[str, Path]:
    """A scikit-learn scaler (the preprocessing container) and the XGBoost model after it."""
    import xgboost as xgb

    tmp = tmp_path_factory.mktemp("artifacts")
    x, y = rows()
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(x, y), 3)
    write_tarball(sagemaker_model_json(booster), tmp / "xgb.tar.gz")
    (tmp / "model.pkl").write_bytes(pickle.dumps(StandardScaler().fit(x)))
    with tarfile.open(tmp / "scaler.tar.gz", "w:gz") as tar:
        tar.add(tmp / "model.pkl", arcname="model.pkl")
    evaluation = tmp / "evaluation.json"
    evaluation.write_text(json.dumps({"binary_classification_metrics": {"auc": {"value": 0.91}}}))
    return {"scaler": tmp / "scaler.tar.gz", "xgb": tmp / "xgb.tar.gz", "evaluation": evaluation}


@pytest.fixture
def stack(emulator, tmp_path):
    """A bucket, a model package group and an endpoint (one variant), as stack outputs."""
    return minimal_stack(emulator, tmp_path)


def byo(stack, *args: str):
    return CliRunner().invoke(cli, ["--outputs", str(stack["outputs"]), *args])


def test_describe_model_shows_a_serial_pipeline_as_created(emulator):
    """The emulator answers DescribeModel as AWS does (localaws.shims): a pipeline's containers
    and its Serial mode, no empty PrimaryContainer; a one-container model, no empty Containers."""
    sm = emulator.client("sagemaker")
    name = f"pipe-{uuid.uuid4().hex[:8]}"
    containers = [
        {"Image": "sk:1", "ModelDataUrl": "s3://b/1/model.tar.gz", "Environment": {"A": "1"}},
        {"Image": "xgb:1", "ModelDataUrl": "s3://b/2/model.tar.gz"},
    ]
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        Containers=containers,
        InferenceExecutionConfig={"Mode": "Serial"},
    )
    described = sm.describe_model(ModelName=name)
    assert described["Containers"] == containers
    assert described["InferenceExecutionConfig"] == {"Mode": "Serial"}
    assert "PrimaryContainer" not in described
    assert sm.list_models()["Models"], "listing models still works"

    single = f"one-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=single, ExecutionRoleArn=SAGEMAKER_ROLE, PrimaryContainer=containers[1]
    )
    described = sm.describe_model(ModelName=single)
    assert described["PrimaryContainer"] == containers[1]
    assert "Containers" not in described and "InferenceExecutionConfig" not in described


def test_a_two_container_version_is_registered_listed_and_deployed_as_a_serial_pipeline(
    emulator, stack, artifacts
):
    registered = byo(
        stack,
        "model",
        "register",
        "--artifact",
        str(artifacts["scaler"]),
        "--artifact",
        str(artifacts["xgb"]),
        "--env",
        f"1:{ACCEPT_CSV}",
        "--metrics",
        str(artifacts["evaluation"]),
        "--approve",
        "--json",
    )
    assert registered.exit_code == 0, registered.output
    package = json.loads(registered.output)
    assert [(c["framework"], c["image"], c["environment"]) for c in package["containers"]] == [
        ("sklearn", "byo-serving:1", {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}),
        ("xgboost", "byo-serving:1", {}),
    ]
    assert (package["metric"], package["metric_value"], package["auc"]) == ("auc", 0.91, 0.91)

    # Each artifact is content-addressed as a one-container version's would be; the pipeline's
    # evaluation lies beside pipeline.json, whose sha256 is the version's.
    s3 = emulator.client("s3")
    for container, artifact in zip(
        package["containers"], [artifacts["scaler"], artifacts["xgb"]], strict=True
    ):
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
        assert (
            container["model_data_url"]
            == f"s3://{stack['bucket']}/models/{digest[:16]}/model.tar.gz"
        )
    folder = f"models/{package['sha256'][:16]}"
    manifest = s3.get_object(Bucket=stack["bucket"], Key=f"{folder}/pipeline.json")["Body"].read()
    assert hashlib.sha256(manifest).hexdigest() == package["sha256"]
    assert package["sha256"] == registry.version_digest(
        [
            registry.Container(
                artifacts["scaler"],
                "byo-serving:1",
                {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
            ),
            registry.Container(artifacts["xgb"], "byo-serving:1"),
        ]
    ), "a pipeline's sha256 can be known before registering it (find_by_sha256)"
    assert [c["image"] for c in json.loads(manifest)["containers"]] == ["byo-serving:1"] * 2
    s3.head_object(Bucket=stack["bucket"], Key=f"{folder}/evaluation.json")

    sm = emulator.client("sagemaker")
    spec = sm.describe_model_package(ModelPackageName=package["arn"])["InferenceSpecification"]
    assert [c["Framework"] for c in spec["Containers"]] == ["SKLEARN", "XGBOOST"]
    assert spec["SupportedContentTypes"] == registry.CONTENT_TYPES
    assert spec["SupportedResponseMIMETypes"] == registry.RESPONSE_TYPES

    single = byo(
        stack,
        "model",
        "register",
        "--artifact",
        str(artifacts["xgb"]),
        "--image",
        "xgb:1.7-1",
        "--metrics",
        str(artifacts["evaluation"]),
        "--approve",
        "--json",
    )
    assert single.exit_code == 0, single.output
    assert json.loads(single.output)["containers"][0]["image"] == "xgb:1.7-1"

    listed = byo(stack, "model", "list", "--json")
    assert [(p["version"], len(p["containers"])) for p in json.loads(listed.output)] == [
        (1, 2),
        (2, 1),
    ]
    table = Console(width=200, file=io.StringIO())
    table.print(versions_table("versions", json.loads(listed.output)))
    printed = [line.replace("│", " ").split() for line in table.file.getvalue().splitlines()]
    assert ["1", "Approved", "auc", "0.9100", "2", "sklearn", "→", "xgboost"] in [
        r[:8] for r in printed
    ]
    assert ["2", "Approved", "auc", "0.9100", "1", "xgboost"] in [r[:6] for r in printed]
    assert byo(stack, "model", "list").exit_code == 0

    deployed = byo(stack, "deploy", "1", "--variant", "pipeline", "--weight", "1", "--json")
    assert deployed.exit_code == 0, deployed.output
    result = json.loads(deployed.output)
    assert result["containers"] == 2
    model = sm.describe_model(ModelName=result["model"])
    assert [(c["Image"], c["ModelDataUrl"]) for c in model["Containers"]] == [
        (c["image"], c["model_data_url"]) for c in package["containers"]
    ]
    assert model["Containers"][0]["Environment"] == {
        "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"
    }
    assert model["InferenceExecutionConfig"] == {"Mode": "Serial"}
    assert "PrimaryContainer" not in model
    live = sm.describe_endpoint(EndpointName=stack["endpoint"])
    assert {v["VariantName"] for v in live["ProductionVariants"]} == {"variant-a", "pipeline"}

    deployed = byo(stack, "deploy", "2", "--variant", "variant-a")
    assert deployed.exit_code == 0, deployed.output
    assert "serves as variant-a" in deployed.output and "serial pipeline" not in deployed.output
    config = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=stack["endpoint"])[
            "EndpointConfigName"
        ]
    )
    models = {v["VariantName"]: v["ModelName"] for v in config["ProductionVariants"]}
    assert models["pipeline"] == result["model"], "the pipeline variant keeps its model"
    one = sm.describe_model(ModelName=models["variant-a"])
    assert one["PrimaryContainer"] == {
        "Image": "xgb:1.7-1",
        "ModelDataUrl": package["containers"][1]["model_data_url"],
    }
    assert "Containers" not in one and "InferenceExecutionConfig" not in one


def test_register_refuses_containers_that_do_not_chain(stack, artifacts, tmp_path):
    x = np.random.default_rng(0).normal(size=(20, 4))
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(StandardScaler().fit(x)))
    narrow = tmp_path / "narrow.tar.gz"
    with tarfile.open(narrow, "w:gz") as tar:
        tar.add(tmp_path / "model.pkl", arcname="model.pkl")
    result = byo(
        stack,
        "model",
        "register",
        "--artifact",
        str(narrow),
        "--artifact",
        str(artifacts["xgb"]),
        "--metrics",
        str(artifacts["evaluation"]),
    )
    assert isinstance(result.exception, ConfigError)
    assert "answers 4 column(s) per row, but container 2" in str(result.exception)
    assert json.loads(byo(stack, "model", "list", "--json").output) == [], "nothing registered"

"""`byo model add-to-mme | list-mme` through click's CliRunner: a registry version copied under a
multi-model endpoint's model prefix answers as TargetModel, idempotently."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from operators.cli import cli
from operators.errors import ConfigError
from tests.helpers.aws import SAGEMAKER_ROLE, make_endpoint, unique
from tests.helpers.models import xgboost_model

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(emulator, tmp_path_factory):
    """A data bucket, a model registry with one approved version, a multi-model endpoint over
    models/mme/ and a single-model endpoint, as the stack outputs byo reads."""
    tmp = tmp_path_factory.mktemp("mme-cli")
    built = xgboost_model(tmp)
    bucket, group = unique("data"), unique("models")
    emulator.client("s3").create_bucket(Bucket=bucket)
    sm = emulator.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=group)
    model = unique("mme-model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={
            "Image": "xgb:1",
            "Mode": "MultiModel",
            "ModelDataUrl": f"s3://{bucket}/models/mme",
        },
    )
    config = unique("mme-config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "v1",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    endpoint = unique("mme")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    outputs = tmp / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "data_bucket": {"value": bucket},
                "model_package_group": {"value": group},
                "serving_image": {"value": "xgb:1.7-1"},
            }
        )
    )
    evaluation = tmp / "evaluation.json"
    evaluation.write_text(json.dumps({"binary_classification_metrics": {"auc": {"value": 0.9}}}))
    stack = {"outputs": str(outputs), "bucket": bucket, "group": group, "endpoint": endpoint}
    registered = byo(
        stack,
        "model",
        "register",
        "--artifact",
        str(built.tarball(tmp / "model.tar.gz")),
        "--metrics",
        str(evaluation),
        "--approve",
        "--json",
    )
    assert registered.exit_code == 0, registered.output
    return {**stack, "built": built}


def byo(stack, *args: str):
    return CliRunner().invoke(cli, ["--outputs", stack["outputs"], *args])


def test_add_to_mme_serves_the_version_as_its_target_model(emulator, stack):
    endpoint, built = stack["endpoint"], stack["built"]
    first = byo(stack, "model", "add-to-mme", "1", "--endpoint", endpoint, "--json")
    assert first.exit_code == 0, first.output
    added = json.loads(first.output)
    target = f"{stack['group']}-v1.tar.gz"
    assert added["target_model"] == target
    assert added["uri"] == f"s3://{stack['bucket']}/models/mme/{target}"
    assert added["copied"] is True
    again = byo(stack, "model", "add-to-mme", "1", "--endpoint", endpoint, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output) == {**added, "copied": False}

    text = byo(stack, "model", "add-to-mme", "1", "--endpoint", endpoint, "--as", "team/a.tar.gz")
    assert text.exit_code == 0, text.output
    assert "TargetModel: team/a.tar.gz" in text.output

    runtime = emulator.client("sagemaker-runtime")
    body = "".join(
        ",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n" for row in built.X
    ).encode()
    for name in (target, "team/a.tar.gz"):
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, TargetModel=name, ContentType="text/csv", Body=body
        )
        served = np.array(response["Body"].read().split(), dtype=float)
        np.testing.assert_allclose(served, built.expected, rtol=1e-6)

    listed = byo(stack, "model", "list-mme", "--endpoint", endpoint, "--json")
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.output)
    assert document["prefix"] == f"s3://{stack['bucket']}/models/mme"
    assert sorted(m["target_model"] for m in document["models"]) == sorted(
        [target, "team/a.tar.gz"]
    )


def test_add_to_mme_refusals(emulator, stack):
    endpoint = stack["endpoint"]
    bad = byo(stack, "model", "add-to-mme", "1", "--endpoint", endpoint, "--as", "model.zip")
    assert bad.exit_code == 2
    assert "--as" in bad.output and ".tar.gz" in bad.output

    emulator.client("s3").put_object(
        Bucket=stack["bucket"], Key="models/mme/taken.tar.gz", Body=b"another model"
    )
    taken = byo(stack, "model", "add-to-mme", "1", "--endpoint", endpoint, "--as", "taken.tar.gz")
    assert isinstance(taken.exception, ConfigError)
    assert "already holds a different model" in str(taken.exception)

    single = make_endpoint(emulator, f"s3://{stack['bucket']}/models/mme/taken.tar.gz", {"v": 1})
    not_mme = byo(stack, "model", "add-to-mme", "1", "--endpoint", single)
    assert isinstance(not_mme.exception, ConfigError)
    assert "serves no multi-model container" in str(not_mme.exception)

    unknown = byo(stack, "model", "add-to-mme", "7", "--endpoint", endpoint)
    assert isinstance(unknown.exception, ConfigError)
    assert "has no version 7" in str(unknown.exception)

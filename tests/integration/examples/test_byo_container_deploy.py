"""examples/byo-container registered and deployed with `byo` like any other model, then served
by the local hosting (here without a container engine: the inference core serves the same
artifact, the pickle and inference.json) — the answers are the tree's own species names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile

import joblib
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris

from operators.cli import cli
from tests.helpers.aws import minimal_stack
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "examples" / "byo-container"


def test_the_example_is_registered_deployed_and_served_like_any_model(emulator, tmp_path):
    subprocess.run(
        [sys.executable, str(EXAMPLE / "train.py"), "--out-dir", str(tmp_path)],
        check=True,
        timeout=60,
    )
    stack = minimal_stack(emulator, tmp_path)
    endpoint, outputs = stack["endpoint"], stack["outputs"]

    def byo(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--outputs", str(outputs), *args])
        assert result.exit_code == 0, result.output
        return result.output

    registered = byo(
        "model",
        "register",
        "--artifact",
        str(tmp_path / "model.tar.gz"),
        "--image",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/byo/byo-container:1",
        "--env",
        "1:SAGEMAKER_INFERENCE_OUTPUT=predicted_label",
        "--metrics",
        str(tmp_path / "evaluation.json"),
        "--approve",
        "--json",
    )
    version = json.loads(registered)["version"]
    assert json.loads(registered)["containers"][0]["framework"] == "sklearn"
    byo("deploy", str(version), "--variant", "byo-tree", "--weight", "0")

    iris = load_iris()
    with tarfile.open(tmp_path / "model.tar.gz") as tar:
        tar.extractall(tmp_path / "model", filter="data")
    (pickle_file,) = (tmp_path / "model").glob("*.pkl")
    tree = joblib.load(pickle_file)
    body = "".join(",".join(map(str, row)) + "\n" for row in iris.data[::10]).encode()
    response = emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", TargetVariant="byo-tree", Body=body
    )
    assert response["InvokedProductionVariant"] == "byo-tree"
    names = re.split(r"\s+", response["Body"].read().decode().strip())
    assert names == [str(iris.target_names[i]) for i in tree.predict(iris.data[::10])]

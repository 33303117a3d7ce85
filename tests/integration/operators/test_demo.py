"""The demo (python -m operators.demo) on the emulator: the model goes to S3, scores from there."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import xgboost as xgb

from operators.aws import Clients
from operators.demo import DEMO_BUCKET, score_from_s3, upload_model
from operators.layout import Layout
from serving.artifact import load_booster
from tests.helpers.aws import make_endpoint
from tests.helpers.flow import build_flow
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

SAMPLE = REPO / "sample" / "sample.csv"


def test_upload_then_score_from_s3_matches_the_local_model(emulator, trained_model):
    clients = Clients()
    uploaded = upload_model(clients, trained_model.model_path.parent, Layout("byo-test-upload"))
    keys = [a.key for a in uploaded]
    digest = hashlib.sha256(trained_model.model_path.read_bytes()).hexdigest()
    assert keys == [f"models/{digest[:16]}/model.tar.gz", f"models/{digest[:16]}/evaluation.json"]
    assert uploaded[0].sha256 == digest
    assert uploaded[0].size == trained_model.model_path.stat().st_size

    remote = score_from_s3(clients, "byo-test-upload", keys[0], SAMPLE)
    local = load_booster(trained_model.model_path).predict(
        xgb.DMatrix(np.loadtxt(SAMPLE, delimiter=",", ndmin=2))
    )
    assert np.array_equal(remote, local)


def run_demo(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "operators.demo", *args],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_command_exits_zero_and_shows_the_objects(emulator, trained_model, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(trained_model.model_path.parent, model_dir)
    result = run_demo("--model-dir", str(model_dir))
    assert result.returncode == 0, result.stderr
    assert f"s3://{DEMO_BUCKET}" in result.stdout
    assert "model.tar.gz" in result.stdout and "evaluation.json" in result.stdout
    assert "scored 10 rows" in result.stdout


def test_demo_scores_each_row_through_the_endpoint(emulator, trained_model):
    bucket = "byo-test-demo-endpoint"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "m/model.tar.gz")
    endpoint = make_endpoint(emulator, f"s3://{bucket}/m/model.tar.gz", {"blue": 1, "green": 1})
    result = run_demo(
        "--model-dir",
        str(trained_model.model_path.parent),
        "--bucket",
        bucket,
        "--endpoint",
        endpoint,
    )
    assert result.returncode == 0, result.stderr
    table = result.stdout[result.stdout.index(f"endpoint {endpoint}") :]
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert len(rows) == 10
    assert all(("blue" in row) != ("green" in row) for row in rows)


def test_demo_runs_the_batch_flow_on_the_stack_outputs(emulator, trained_model, tmp_path):
    """The demo only uploads sample.csv: the trigger Lambda and the Batch job run by themselves."""
    flow = build_flow(emulator, trained_model.model_path, tmp_path)
    bucket = flow.bucket
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "data_bucket": {"value": bucket},
                "endpoint_name": {"value": flow.endpoint},
                "job_table": {"value": flow.table},
                "job_queue": {"value": flow.queue},
                "job_definition": {"value": flow.definition},
                "variant_names": {"value": ["variant-a"]},
            }
        )
    )
    result = run_demo(
        "--model-dir",
        str(trained_model.model_path.parent),
        "--outputs",
        str(outputs),
        "--data",
        str(tmp_path / "no-dataset.csv"),  # no model v2 story without the dataset
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote s3://{bucket}/output/" in result.stdout
    assert "SUCCEEDED" in result.stdout
    after = result.stdout[result.stdout.index("batch job") :]
    assert after.count("\n0.") + after.count("\n1.") + after.count("e-0") >= 10

    incomplete = tmp_path / "partial.json"
    incomplete.write_text(json.dumps({"data_bucket": {"value": bucket}}))
    failed = run_demo("--outputs", str(incomplete))
    assert failed.returncode == 2
    assert "lacks the stack outputs" in failed.stderr

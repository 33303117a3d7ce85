"""A Model Monitor user's own files, used unchanged: the real baselines AWS's analyzer wrote
(../shared/reference/model-monitor, read in place) imported with `byo monitor import-baseline`,
driving the checks on a real endpoint's captures, a Batch scorer job and a Batch Transform
job; what a user changes through the SageMaker SDK changes what fires."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
import xgboost as xgb
from click.testing import CliRunner

from operators.aws import Clients
from operators.cli import cli
from operators.layout import Layout
from operators.monitoring.captures import Window
from operators.monitoring.monitor import Monitor
from operators.transform import Options, start
from tests.helpers.aws import SAGEMAKER_ROLE, job_table, make_endpoint, send_rows, write_outputs
from tests.helpers.models import MODEL_FILE, new_model_dir, write_tarball
from tests.helpers.paths import MODEL_MONITOR_REFERENCE as REFERENCE
from tests.helpers.processes import byo_process
from tests.helpers.sagemaker_sdk import sdk_constraints_saved

pytestmark = pytest.mark.integration

NAMES = [f"_c{i}" for i in range(6)]


def reference_rows() -> np.ndarray:
    """The 100 rows the real statistics were computed from."""
    return np.loadtxt(REFERENCE / "dq_baseline_dataset.csv", delimiter=",", ndmin=2)


def target(matrix: np.ndarray) -> np.ndarray:
    return matrix[:, 0] + 0.5 * matrix[:, 2]


def csv_lines(matrix: np.ndarray) -> list[str]:
    return [",".join(f"{v:g}" for v in row) for row in matrix]


@pytest.fixture(scope="module")
def mm(emulator, tmp_path_factory):
    """A regression model on the reference data's six features, behind an endpoint capturing
    everything, a Batch scorer job table, and the real baseline imported as it is."""
    work = tmp_path_factory.mktemp("model-monitor-files")
    matrix = reference_rows()
    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": 3, "nthread": 1, "seed": 0},
        xgb.DMatrix(matrix, label=target(matrix)),
        30,
    )
    model_dir = new_model_dir(work, "regression")
    (model_dir / MODEL_FILE).write_bytes(bytes(booster.save_raw("json")))
    model = write_tarball(model_dir, work / "model.tar.gz")
    bucket = f"mmf-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(model), bucket, "models/r/model.tar.gz")
    model_url = f"s3://{bucket}/models/r/model.tar.gz"
    endpoint = make_endpoint(emulator, model_url, {"a": 1}, bucket)
    table = job_table(emulator)
    outputs = write_outputs(
        work / "outputs.json",
        endpoint_name=endpoint,
        data_bucket=bucket,
        data_capture_s3_uri=f"s3://{bucket}/captures",
        job_table=table,
    )
    info = {
        "bucket": bucket,
        "endpoint": endpoint,
        "outputs": str(outputs),
        "work": work,
        "model": model,
        "model_url": model_url,
        "booster": booster,
        "table": table,
    }
    info["imported"] = import_baseline(info)
    return info


def byo(mm, *args: str, expect: int = 0):
    """In-process for results; the real `byo` for an expected failure (its exit code and
    message, on stderr)."""
    if expect:
        result = byo_process(mm["outputs"], *args)
        assert result.returncode == expect, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        return " ".join(result.stderr.split())  # rich wraps long lines
    result = CliRunner().invoke(cli, ["--outputs", mm["outputs"], *args, "--json"])
    assert result.exit_code == 0, result.output + str(result.exception)
    return json.loads(result.stdout)


def import_baseline(mm, constraints=REFERENCE / "dq_constraints.json", expect: int = 0):
    return byo(
        mm,
        "monitor",
        "import-baseline",
        "--statistics",
        str(REFERENCE / "dq_statistics.json"),
        "--constraints",
        str(constraints),
        "--model-quality-statistics",
        str(REFERENCE / "mq_regression_statistics.json"),
        "--model-quality-constraints",
        str(REFERENCE / "mq_regression_constraints.json"),
        "--model",
        str(mm["model"]),
        expect=expect,
    )


def monitor_of(mm) -> Monitor:
    return Monitor(
        Clients(),
        layout=Layout.from_prefixes(mm["bucket"], {}),
        endpoint=mm["endpoint"],
        capture_uri=f"s3://{mm['bucket']}/captures",
        publish_metrics=False,
        job_table=mm["table"],
    )


def send(emulator, mm, matrix: np.ndarray, prefix: str, per_request: int = 10) -> list[str]:
    return send_rows(emulator, mm["endpoint"], csv_lines(matrix), prefix, per_request)


def write_ground_truth(emulator, mm, ids: list[str], labels: np.ndarray, per_request: int = 10):
    records = [
        json.dumps(
            {
                "groundTruthData": {
                    "data": "\n".join(
                        f"{v:.6g}" for v in labels[i * per_request : (i + 1) * per_request]
                    ),
                    "encoding": "CSV",
                },
                "eventMetadata": {"eventId": inference_id},
                "eventVersion": "0",
            }
        )
        for i, inference_id in enumerate(ids)
    ]
    key = f"ground-truth/{datetime.now(UTC):%Y/%m/%d/%H}/{uuid.uuid4().hex[:6]}.jsonl"
    emulator.client("s3").put_object(Bucket=mm["bucket"], Key=key, Body="\n".join(records).encode())


def test_the_real_baseline_is_installed_unchanged_and_needs_no_manifest(emulator, mm):
    imported = mm["imported"]
    assert imported["manifest"]["features"] == NAMES
    assert imported["manifest"]["problem_type"] == "Regression"
    s3 = emulator.client("s3")
    for name, source in (
        ("data-quality/statistics.json", "dq_statistics.json"),
        ("data-quality/constraints.json", "dq_constraints.json"),
        ("model-quality/constraints.json", "mq_regression_constraints.json"),
    ):
        body = s3.get_object(Bucket=mm["bucket"], Key=f"monitoring/baseline/{name}")["Body"]
        assert json.loads(body.read()) == json.loads((REFERENCE / source).read_text()), name
    # The manifest is the project's note, not a requirement: without it the baseline reads
    # the same from the files alone.
    s3.delete_object(Bucket=mm["bucket"], Key="monitoring/baseline/manifest.json")
    baseline = monitor_of(mm).baseline()
    assert baseline.features == NAMES and baseline.problem_type == "Regression"
    assert baseline.types == dict.fromkeys(NAMES, "Fractional")
    assert baseline.model_bytes == mm["model"].read_bytes()  # --model: kept beside the files


def test_captures_of_the_baseline_data_fire_nothing_and_shifted_ones_fire_in_its_wording(
    emulator, mm
):
    matrix = reference_rows()
    monitor = monitor_of(mm)
    send(emulator, mm, matrix, "c-")
    clean = monitor.data_quality(Window(inference_id_prefix="c-"))
    assert clean.status == "ok", clean.violations
    assert clean.summary["rows"] == 100
    shifted = matrix.copy()
    shifted[:, 0] += 2.0
    send(emulator, mm, shifted, "s-")
    result = monitor.data_quality(Window(inference_id_prefix="s-"))
    drift = [v for v in result.violations if v["constraint_check_type"] == "baseline_drift_check"]
    assert [v["feature_name"] for v in drift] == ["_c0"]
    # The analyzer's wording: post-processing scripts parse the distance and threshold.
    match = re.fullmatch(
        r"Baseline drift distance: ([0-9.]+) exceeds threshold: ([0-9.]+)", drift[0]["description"]
    )
    assert match and float(match.group(1)) > float(match.group(2)) == 0.1


def test_an_sdk_edit_of_the_constraints_changes_what_fires(emulator, mm, tmp_path):
    """Constraints.set_monitoring(False, "_c0") and save(), as a user does with the SDK: the
    same shifted traffic no longer fires for _c0."""
    edited = sdk_constraints_saved(
        REFERENCE / "dq_constraints.json", lambda c: c.set_monitoring(False, "_c0")
    )
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps(edited))
    try:
        import_baseline(mm, constraints=path)
        result = monitor_of(mm).data_quality(Window(inference_id_prefix="s-"))
        assert not [v for v in result.violations if v["feature_name"] == "_c0"]
    finally:
        import_baseline(mm)


def test_regression_model_quality_against_the_real_constraints(emulator, mm):
    matrix = reference_rows()
    monitor = monitor_of(mm)
    ids = send(emulator, mm, matrix, "mq-good-")
    write_ground_truth(emulator, mm, ids, target(matrix))
    good = monitor.model_quality(Window(inference_id_prefix="mq-good-"))
    assert good.summary["problem_type"] == "Regression"
    assert good.status == "ok", good.violations
    noisy = target(matrix) + np.random.default_rng(0).normal(0, 3.0, len(matrix))
    ids = send(emulator, mm, matrix, "mq-bad-")
    write_ground_truth(emulator, mm, ids, noisy)
    bad = monitor.model_quality(Window(inference_id_prefix="mq-bad-"))
    fired = {v["metric_name"]: v["constraint_check_type"] for v in bad.violations}
    assert fired.get("mae") == "GreaterThanThreshold" and fired.get("r2") != "GreaterThanThreshold"


def test_a_batch_scorer_jobs_inputs_are_checked_like_captures(emulator, mm):
    """The scorer's job record (as batch_processor writes it when a job SUCCEEDED) leads to
    its input and output objects; `--batch-job` takes its AWS Batch job id."""
    matrix = reference_rows()
    matrix[:, 3] = np.where(np.arange(len(matrix)) % 5 == 0, np.nan, matrix[:, 3])
    s3 = emulator.client("s3")
    body = "\n".join(",".join("" if np.isnan(v) else f"{v:g}" for v in row) for row in matrix)
    s3.put_object(Bucket=mm["bucket"], Key="input/day.csv", Body=body.encode())
    scores = mm["booster"].predict(xgb.DMatrix(matrix))
    s3.put_object(
        Bucket=mm["bucket"],
        Key="output/20261203T000000Z-day.csv",
        Body="".join(f"{s}\n" for s in scores).encode(),
    )
    emulator.client("dynamodb").put_item(
        TableName=mm["table"],
        Item={
            "FileName": {"S": f"s3://{mm['bucket']}/input/day.csv#etag"},
            "Status": {"S": "SUCCEEDED"},
            "Bucket": {"S": mm["bucket"]},
            "Key": {"S": "input/day.csv"},
            "JobId": {"S": "job-0123"},
            "StartTime": {"S": "2026-12-03T00:00:00.000+00:00"},
            "OutputUri": {"S": f"s3://{mm['bucket']}/output/20261203T000000Z-day.csv"},
        },
    )
    result = byo(mm, "monitor", "data-quality", "--batch-job", "job-0123")[0]
    assert result["summary"]["rows"] == 100
    assert result["summary"]["source"].startswith("Batch job job-0123")
    fired = {(v["constraint_check_type"], v["feature_name"]) for v in result["violations"]}
    assert ("completeness_check", "_c3") in fired
    missing = byo(mm, "monitor", "data-quality", "--batch-job", "job-none", expect=2)
    assert "no Batch scorer job" in missing and "job-none" in missing


def test_a_batch_transform_jobs_inputs_are_checked_like_captures(emulator, mm):
    matrix = reference_rows()
    matrix[:, 1] *= 4.0  # spread 4x: drift
    s3 = emulator.client("s3")
    s3.put_object(
        Bucket=mm["bucket"],
        Key="transform-in/part-0.csv",
        Body="\n".join(csv_lines(matrix)).encode(),
    )
    sm = emulator.client("sagemaker")
    model = f"mmf-model-{uuid.uuid4().hex[:6]}"
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=SAGEMAKER_ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": mm["model_url"]},
    )
    job = f"mmf-transform-{uuid.uuid4().hex[:6]}"
    start(
        Clients(),
        job,
        model,
        f"s3://{mm['bucket']}/transform-in/",
        f"s3://{mm['bucket']}/transform-out/",
        Options(),
    )
    deadline = time.monotonic() + 120
    while sm.describe_transform_job(TransformJobName=job)["TransformJobStatus"] == "InProgress":
        assert time.monotonic() < deadline, "transform job did not finish"
        time.sleep(0.5)
    result = byo(mm, "monitor", "data-quality", "--batch-job", job)[0]
    assert result["summary"]["rows"] == 100
    assert result["summary"]["source"].startswith(f"transform job {job}")
    fired = {(v["constraint_check_type"], v["feature_name"]) for v in result["violations"]}
    assert ("baseline_drift_check", "_c1") in fired


def test_a_file_that_is_not_a_baseline_is_a_usage_error_naming_it(mm, tmp_path):
    bad = tmp_path / "statistics.json"
    bad.write_text('{"version": 0.0, "dataset": {"item_count": 3}}')
    result = byo(mm, "monitor", "import-baseline", "--statistics", str(bad), expect=2)
    assert "statistics.json" in result and "no 'features' list" in result
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = byo(mm, "monitor", "import-baseline", "--statistics", str(broken), expect=2)
    assert "--statistics" in result and "not JSON" in result

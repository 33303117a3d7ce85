"""`byo pipeline run` against the emulator: the steps really run (split, xgboost, evaluation),
register in the model registry and deploy to a live endpoint served by the local hosting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from operators.cli import cli
from operators.pipeline.training import train
from sample.generate import generate, write_csv
from tests.helpers.aws import SAGEMAKER_ROLE, make_endpoint
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(emulator, trained_model, tmp_path):
    """A bucket, an empty model registry and an endpoint serving one variant (variant-a)."""
    return make_platform(emulator, trained_model.model_path, tmp_path)


def make_platform(emulator, initial_model: Path, tmp_path: Path) -> dict:
    bucket = f"pipe-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(initial_model), bucket, "initial/model.tar.gz")
    endpoint = make_endpoint(emulator, f"s3://{bucket}/initial/model.tar.gz", {"variant-a": 1})
    group = f"models-{uuid.uuid4().hex[:8]}"
    emulator.client("sagemaker").create_model_package_group(ModelPackageGroupName=group)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "name": {"value": "test"},
                "data_bucket": {"value": bucket},
                "model_package_group": {"value": group},
                "serving_image": {"value": "xgb:1.7-1"},
                "endpoint_name": {"value": endpoint},
                "sagemaker_execution_role_arn": {"value": SAGEMAKER_ROLE},
                "data_capture_s3_uri": {"value": f"s3://{bucket}/captures"},
            }
        )
    )
    return {
        "bucket": bucket,
        "group": group,
        "endpoint": endpoint,
        "outputs": outputs,
        "work": tmp_path / "pipeline",
    }


def run(platform, *args: str, catch: bool = False):
    result = CliRunner().invoke(
        cli,
        [
            "--outputs",
            str(platform["outputs"]),
            "pipeline",
            "run",
            "--work-dir",
            str(platform["work"]),
            "--json",
            *args,
        ],
        catch_exceptions=catch,
    )
    return result


def steps_of(record: dict) -> dict[str, dict]:
    return {step["name"]: step for step in record["steps"]}


def versions(emulator, group: str) -> list[dict]:
    sm = emulator.client("sagemaker")
    summaries = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    return [sm.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries]


def test_a_passing_run_registers_and_deploys_then_a_rerun_is_cached(
    emulator, platform, tmp_path, record_property
):
    # 60,000 rows (AUC 0.93 with the defaults): what the run does does not depend on size, and
    # `make model` trained on the same file is the model to match.
    dataset = tmp_path / "data.csv"
    write_csv(generate(60_000, seed=5), dataset)
    trained_model = train(dataset, tmp_path / "make-model")
    first = run(
        platform,
        "--data",
        str(dataset),
        "--param",
        "ModelApprovalStatus=Approved",
        "--param",
        "DeployWeight=1",
    )
    assert first.exit_code == 0, first.output
    record = json.loads(first.output)
    record_property("timing:pipeline run, 60,000 rows", record["seconds"])
    steps = steps_of(record)
    assert record["status"] == "Succeeded"
    assert [s["status"] for s in record["steps"]] == ["Succeeded"] * 6
    assert steps["condition"]["outputs"] == {"outcome": True}
    auc = steps["evaluate"]["outputs"]["binary_classification_metrics"]["auc"]
    assert auc > 0.9
    # With the default parameters, the pipeline trains the model `make model` trains.
    expected = trained_model.evaluation["binary_classification_metrics"]["auc"]["value"]
    assert auc == pytest.approx(expected, abs=1e-9)
    splits = steps["process"]["outputs"]["schema"]["splits"]
    rows = {k: v["rows"] for k, v in splits.items()}
    assert sum(rows.values()) == 60_000
    assert rows["train"] == pytest.approx(42_000, abs=2), rows  # 70/15/15, stratified
    assert rows["validation"] == pytest.approx(9_000, abs=2), rows

    # Registered, Approved, with its metrics and drift-check baselines in the bucket.
    [package] = versions(emulator, platform["group"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"]["pipeline-run"] == record["run_id"]
    s3 = emulator.client("s3")
    baselines = package["DriftCheckBaselines"]
    for kind, documents in {
        **baselines,
        **package["ModelMetrics"],
    }.items():
        for name, document in documents.items():
            bucket, key = document["S3Uri"].removeprefix("s3://").split("/", 1)
            body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            assert body, (kind, name)
    statistics_uri = baselines["ModelDataQuality"]["Statistics"]["S3Uri"]
    assert statistics_uri.endswith("baselines/data-quality/statistics.json")
    bucket, key = statistics_uri.removeprefix("s3://").split("/", 1)
    statistics = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert statistics["dataset"]["item_count"] == rows["train"]
    assert len(statistics["features"]) == 30

    # Deployed: variant-b serves the registered artifact and answers requests.
    sm = emulator.client("sagemaker")
    live = sm.describe_endpoint(EndpointName=platform["endpoint"])
    assert {v["VariantName"] for v in live["ProductionVariants"]} == {"variant-a", "variant-b"}
    config = sm.describe_endpoint_config(EndpointConfigName=live["EndpointConfigName"])
    model = next(
        v["ModelName"] for v in config["ProductionVariants"] if v["VariantName"] == "variant-b"
    )
    url = sm.describe_model(ModelName=model)["PrimaryContainer"]["ModelDataUrl"]
    assert url == package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    row = (REPO / "sample" / "sample.csv").read_text().splitlines()[0]
    answer = emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=platform["endpoint"],
        ContentType="text/csv",
        Body=row,
        TargetVariant="variant-b",
    )
    assert 0 <= float(answer["Body"].read()) <= 1

    # The run record: local and in the bucket, the same document.
    local = Path(record["record"]["local"])
    assert json.loads(local.read_text())["run_id"] == record["run_id"]
    bucket, key = record["record"]["s3"].removeprefix("s3://").split("/", 1)
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["steps"]

    # The monitor takes the baselines registered with the version.
    installed = CliRunner().invoke(
        cli,
        ["--outputs", str(platform["outputs"]), "monitor", "baseline", "--model-version", "1"],
        catch_exceptions=False,
    )
    assert installed.exit_code == 0, installed.output
    assert f"baseline of {rows['train']:,} rows x 30 features" in installed.output
    manifest = json.loads(
        s3.get_object(Bucket=platform["bucket"], Key="monitoring/baseline/manifest.json")[
            "Body"
        ].read()
    )
    assert manifest["installed_from"] == statistics_uri.removesuffix("data-quality/statistics.json")
    model_key = "monitoring/baseline/model.tar.gz"
    assert s3.head_object(Bucket=platform["bucket"], Key=model_key)["ContentLength"] > 0

    # A rerun with the same inputs: nothing is recomputed, registered or deployed again.
    again = json.loads(
        run(platform, "--data", str(dataset), "--param", "ModelApprovalStatus=Approved").output
    )
    record_property("timing:pipeline rerun, all cached", again["seconds"])
    steps = steps_of(again)
    assert [steps[n]["status"] for n in ("process", "train", "evaluate")] == ["Cached"] * 3
    assert {steps[n]["cached_from"] for n in ("process", "train", "evaluate")} == {record["run_id"]}
    assert steps["register"]["status"] == "Skipped"
    assert "already registered as version 1" in steps["register"]["reason"]
    assert steps["deploy"]["status"] == "Skipped"
    assert "already serves version 1" in steps["deploy"]["reason"]
    assert len(versions(emulator, platform["group"])) == 1

    # A changed hyperparameter: the split is reused, training and evaluation run again.
    changed = json.loads(run(platform, "--data", str(dataset), "--param", "NumRound=10").output)
    steps = steps_of(changed)
    assert [steps[n]["status"] for n in ("process", "train", "evaluate")] == [
        "Cached",
        "Succeeded",
        "Succeeded",
    ]
    # PendingManualApproval (the default): registered as version 2, not deployed.
    assert steps["register"]["outputs"]["version"] == 2
    assert steps["deploy"]["status"] == "Skipped"
    assert "byo model approve 2" in steps["deploy"]["reason"]

    # byo pipeline runs: the records in the bucket, newest first.
    listed = CliRunner().invoke(
        cli, ["--outputs", str(platform["outputs"]), "pipeline", "runs", "--json"]
    )
    assert [r["run_id"] for r in json.loads(listed.output)] == [
        changed["run_id"],
        again["run_id"],
        record["run_id"],
    ]


def test_a_run_below_the_auc_threshold_registers_nothing_and_exits_3(emulator, platform, tmp_path):
    dataset = tmp_path / "small.csv"  # 60,000 rows, 100 frauds: enough to train, quick
    write_csv(generate(60_000, seed=5), dataset)
    env = {**os.environ, "BYO_OUTPUTS": str(platform["outputs"])}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "byo"),
            "pipeline",
            "run",
            "--data",
            str(dataset),
            "--work-dir",
            str(platform["work"]),
            "--param",
            "AucThreshold=0.9999",
            "--param",
            "ModelApprovalStatus=Approved",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 3, result.stderr
    message = " ".join(result.stderr.split())
    assert "below AucThreshold 0.9999" in message and "nothing registered" in message
    assert versions(emulator, platform["group"]) == []
    record = json.loads((platform["work"] / "test-pipeline" / "last-run.json").read_text())
    steps = steps_of(record)
    assert record["status"] == "Failed"
    assert steps["condition"]["status"] == "Failed"
    assert steps["register"]["status"] == steps["deploy"]["status"] == "Skipped"


def test_any_csv_with_a_binary_target_rejected_rows_kept_in_the_bucket(
    emulator, platform, tmp_path
):
    from tests.helpers.data import churn_csv

    data = churn_csv(tmp_path / "churn.csv")
    result = run(platform, "--data", str(data), "--param", "TargetColumn=churned")
    assert result.exit_code == 0, result.output
    steps = steps_of(json.loads(result.output))
    assert steps["process"]["outputs"]["schema"]["rejected_rows"] == 2
    bucket, key = (
        steps["process"]["outputs"]["rejected/rejected.csv"].removeprefix("s3://").split("/", 1)
    )
    body = emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.splitlines()[1:] and all("churned is" in line for line in body.splitlines()[1:])
    assert steps["register"]["outputs"]["status"] == "PendingManualApproval"
    [package] = versions(emulator, platform["group"])
    assert package["CustomerMetadataProperties"]["features"] == "7"
    assert steps["deploy"]["status"] == "Skipped"

    # --no-cache runs every step again; the same model is not registered twice.
    forced = run(platform, "--data", str(data), "--param", "TargetColumn=churned", "--no-cache")
    steps = steps_of(json.loads(forced.output))
    assert [steps[n]["status"] for n in ("process", "train", "evaluate")] == ["Succeeded"] * 3
    assert "already registered as version 1" in steps["register"]["reason"]


def churn_with_gaps(path: Path) -> Path:
    """The churn data with f0 missing in every 7th row: the preprocessor's imputer has work."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from tests.helpers.data import churn_csv

    table = pacsv.read_csv(churn_csv(path))
    f0 = table.column("f0").to_pylist()
    f0[::7] = [None] * len(f0[::7])
    pacsv.write_csv(table.set_column(0, "f0", pa.array(f0, pa.float64())), path)
    return path


def s3_bytes(emulator, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_preprocessing_registers_and_deploys_a_serial_pipeline_of_two_containers(
    emulator, tmp_path, record_property
):
    import numpy as np
    import xgboost as xgb

    from operators.pipeline import params
    from operators.pipeline import steps as pipeline_steps
    from operators.pipeline.training import binary_classification_metrics
    from serving.artifact import load_booster

    initial = tmp_path / "initial"  # the endpoint's first model: any single-container one
    data = churn_with_gaps(tmp_path / "churn.csv")
    pipeline_steps.process(
        [data], initial, target="churned", train_fraction=0.7, validation_fraction=0.15,
        test_fraction=0.15, seed=42,
    )  # fmt: skip
    pipeline_steps.train(
        initial / "train", initial / "validation", initial / "schema" / "schema.json", initial,
        hyperparameters={**params.hyperparameters(params.resolve()), "num_round": 5},
    )  # fmt: skip
    platform = make_platform(emulator, initial / "model.tar.gz", tmp_path)
    arguments = ["--data", str(data), "--param", "TargetColumn=churned"]
    serial = [*arguments, "--param", "Preprocessing=standard-scaler"]

    first = run(platform, *serial, "--param", "ModelApprovalStatus=Approved")
    assert first.exit_code == 0, first.output
    record = json.loads(first.output)
    record_property("timing:pipeline run with preprocessing, 3,000 rows", record["seconds"])
    steps = steps_of(record)
    assert list(steps) == [
        "process", "preprocess", "train", "evaluate", "condition", "register", "deploy",
    ]  # fmt: skip
    assert {s["status"] for s in record["steps"]} == {"Succeeded"}
    assert record["parameters"]["Preprocessing"] == "standard-scaler"

    # One version, two containers in order, both artifacts under the models prefix.
    [package] = versions(emulator, platform["group"])
    preprocessor, booster = package["InferenceSpecification"]["Containers"]
    assert preprocessor["Environment"] == {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}
    assert not booster.get("Environment")
    assert preprocessor["Image"] == booster["Image"] == "xgb:1.7-1"
    for container in (preprocessor, booster):
        assert container["ModelDataUrl"].startswith(f"s3://{platform['bucket']}/models/")
    outputs = steps["preprocess"]["outputs"]
    assert s3_bytes(emulator, preprocessor["ModelDataUrl"]) == s3_bytes(
        emulator, outputs["preprocessor/preprocess.tar.gz"]
    )
    assert steps["register"]["outputs"]["containers"] == [
        preprocessor["ModelDataUrl"],
        booster["ModelDataUrl"],
    ]

    # The registered booster's scores on the preprocess step's transformed test rows are the
    # evaluate step's (which went through the served preprocessor): the same metrics, exactly.
    (tmp_path / "booster.tar.gz").write_bytes(s3_bytes(emulator, booster["ModelDataUrl"]))
    transformed = tmp_path / "transformed.csv"
    transformed.write_bytes(s3_bytes(emulator, outputs["test/test.csv"]))
    schema = steps["process"]["outputs"]["schema"]
    rows, label = pipeline_steps.read_split(transformed, schema)
    matrix = pipeline_steps._float_matrix(rows)
    score = load_booster(tmp_path / "booster.tar.gz").predict(xgb.DMatrix(matrix))
    evaluation = json.loads(s3_bytes(emulator, steps["evaluate"]["outputs"]["evaluation.json"]))
    metrics = evaluation["binary_classification_metrics"]
    assert binary_classification_metrics(label, score) == metrics
    assert steps["evaluate"]["outputs"]["binary_classification_metrics"]["auc"] > 0.9

    # Deployed as a serial model; raw rows in, the booster's scores of the transformed rows out.
    sm = emulator.client("sagemaker")
    live = sm.describe_endpoint(EndpointName=platform["endpoint"])
    config = sm.describe_endpoint_config(EndpointConfigName=live["EndpointConfigName"])
    model = next(
        v["ModelName"] for v in config["ProductionVariants"] if v["VariantName"] == "variant-b"
    )
    described = sm.describe_model(ModelName=model)
    assert described["InferenceExecutionConfig"] == {"Mode": "Serial"}
    assert [c["ModelDataUrl"] for c in described["Containers"]] == [
        preprocessor["ModelDataUrl"],
        booster["ModelDataUrl"],
    ]
    raw = tmp_path / "raw.csv"
    raw.write_bytes(s3_bytes(emulator, steps["process"]["outputs"]["test/test.csv"]))
    body = "\n".join(line.split(",", 1)[1] for line in raw.read_text().splitlines()[:20])
    answer = emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=platform["endpoint"],
        ContentType="text/csv",
        Body=body,
        TargetVariant="variant-b",
    )
    served = np.array([float(v) for v in answer["Body"].read().decode().split()])
    assert np.allclose(served, score[:20], rtol=0, atol=1e-6)

    # A rerun: nothing recomputed, registered or deployed again.
    again = json.loads(run(platform, *serial, "--param", "ModelApprovalStatus=Approved").output)
    steps = steps_of(again)
    assert [steps[n]["status"] for n in ("process", "preprocess", "train", "evaluate")] == [
        "Cached"
    ] * 4
    assert steps["preprocess"]["cached_from"] == record["run_id"]
    assert "already registered as version 1" in steps["register"]["reason"]
    assert "already serves version 1" in steps["deploy"]["reason"]

    # A new booster behind the same preprocessor is a new version, and a new deployment.
    changed = json.loads(
        run(
            platform, *serial, "--param", "NumRound=25", "--param", "ModelApprovalStatus=Approved"
        ).output
    )
    steps = steps_of(changed)
    assert [steps[n]["status"] for n in ("preprocess", "train", "register", "deploy")] == [
        "Cached", "Succeeded", "Succeeded", "Succeeded",
    ]  # fmt: skip
    assert steps["register"]["outputs"]["containers"][0] == preprocessor["ModelDataUrl"]

    # Without preprocessing (the default): no preprocess step, one container, as before.
    plain = json.loads(run(platform, *arguments).output)
    steps = steps_of(plain)
    assert "preprocess" not in steps
    assert [steps[n]["status"] for n in ("process", "train")] == ["Cached", "Succeeded"]
    assert steps["register"]["outputs"]["version"] == 3
    [third] = [p for p in versions(emulator, platform["group"]) if p["ModelPackageVersion"] == 3]
    [single] = third["InferenceSpecification"]["Containers"]
    assert not single.get("Environment")
    assert single["ModelDataUrl"] == steps["register"]["outputs"]["model_data_url"]

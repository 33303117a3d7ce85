"""`byo monitor …` against the emulator and its local hosting: baselines, checks on real
captures, ground-truth joins, metrics in CloudWatch, the scenarios and their report."""

from __future__ import annotations

import json
import uuid
from html import escape

import pytest
from click.testing import CliRunner

from operators.cli import cli
from operators.monitoring.monitor import METRIC_NAMESPACE
from tests.helpers.aws import make_endpoint, send_rows, write_outputs
from tests.helpers.processes import byo_process
from tests.helpers.sagemaker_sdk import sdk_constraints, sdk_statistics

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(emulator, trained_model, dataset, tmp_path_factory):
    """A bucket, an endpoint capturing 100%, its outputs file, and the full baseline."""
    bucket = f"mon-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "models/m/model.tar.gz")
    endpoint = make_endpoint(emulator, f"s3://{bucket}/models/m/model.tar.gz", {"a": 1}, bucket)
    work = tmp_path_factory.mktemp("monitoring")
    outputs = write_outputs(
        work / "outputs.json",
        endpoint_name=endpoint,
        data_bucket=bucket,
        data_capture_s3_uri=f"s3://{bucket}/captures",
    )
    info = {"bucket": bucket, "endpoint": endpoint, "outputs": str(outputs), "work": work}
    result = byo(
        info,
        "monitor",
        "baseline",
        "--data",
        str(dataset),
        "--model",
        str(trained_model.model_path),
        "--holdout",
        str(trained_model.model_path.parent / "holdout.csv"),
        "--out",
        str(work / "out"),
    )
    info["baseline"] = result
    return info


def byo(platform, *args: str, expect: int | None = 0):
    result = CliRunner().invoke(cli, ["--outputs", platform["outputs"], *args, "--json"])
    assert expect is None or result.exit_code == expect, result.output + str(result.exception)
    return json.loads(result.stdout)


def test_baseline_files_are_in_model_monitor_formats(platform):
    out = platform["work"] / "out" / "baseline"
    stats = json.loads((out / "data-quality/statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 284_807
    by_name = {f["name"]: f for f in stats["features"]}
    assert len(by_name) == 30 and "Class" not in by_name
    assert by_name["Time"]["inferred_type"] == "Integral"
    v1 = by_name["V1"]
    assert v1["inferred_type"] == "Fractional"
    numeric = v1["numerical_statistics"]
    assert numeric["common"] == {"num_present": 284_807, "num_missing": 0}
    assert {"mean", "sum", "std_dev", "min", "max", "distribution"} <= numeric.keys()
    kll = numeric["distribution"]["kll"]
    assert len(kll["buckets"]) == 10
    assert sum(b["count"] for b in kll["buckets"]) == 284_807
    assert kll["buckets"][0]["lower_bound"] == numeric["min"]
    assert kll["buckets"][-1]["upper_bound"] == numeric["max"]
    assert kll["sketch"]["parameters"]["k"] == 2048
    levels = kll["sketch"]["data"]
    assert sum(len(items) * 2**i for i, items in enumerate(levels)) == pytest.approx(
        284_807, rel=0.01
    )

    constraints = json.loads((out / "data-quality/constraints.json").read_text())
    feature = next(f for f in constraints["features"] if f["name"] == "Amount")
    assert feature == {
        "name": "Amount",
        "inferred_type": "Fractional",
        "completeness": 1.0,
        "num_constraints": {"is_non_negative": True},
    }
    config = constraints["monitoring_config"]
    assert config["distribution_constraints"]["comparison_threshold"] == 0.1
    assert config["distribution_constraints"]["comparison_method"] == "Robust"
    assert {"evaluate_constraints", "emit_metrics", "datatype_check_threshold"} <= config.keys()

    quality = json.loads((out / "model-quality/statistics.json").read_text())
    metrics = quality["binary_classification_metrics"]
    for name in (
        "confusion_matrix",
        "recall",
        "precision",
        "accuracy",
        "recall_best_constant_classifier",
        "precision_best_constant_classifier",
        "accuracy_best_constant_classifier",
        "true_positive_rate",
        "true_negative_rate",
        "false_positive_rate",
        "false_negative_rate",
        "receiver_operating_characteristic_curve",
        "precision_recall_curve",
        "auc",
        "f0_5",
        "f1",
        "f2",
        "f0_5_best_constant_classifier",
        "f1_best_constant_classifier",
        "f2_best_constant_classifier",
    ):
        assert name in metrics, name
    assert set(metrics["auc"]) == {"value", "standard_deviation"}
    assert metrics["auc"]["value"] > 0.9
    assert quality["dataset"]["item_count"] == 42_722  # the held-out split
    model_constraints = json.loads((out / "model-quality/constraints.json").read_text())
    auc = model_constraints["binary_classification_constraints"]["auc"]
    assert auc["comparison_operator"] == "LessThanThreshold"
    assert auc["threshold"] <= metrics["auc"]["value"] - 0.1 + 1e-6
    fpr = model_constraints["binary_classification_constraints"]["false_positive_rate"]
    assert fpr["comparison_operator"] == "GreaterThanThreshold"

    shap = json.loads((out / "attribution/analysis.json").read_text())
    label0 = shap["explanations"]["kernel_shap"]["label0"]  # Clarify's key, read by its tools
    values = label0["global_shap_values"]
    assert set(values) == set(by_name) and all(v >= 0 for v in values.values())
    assert isinstance(label0["expected_value"], float)

    # Every file is strict JSON (NaN and infinities as Model Monitor's strings), and the
    # sagemaker SDK's classes read the data-quality ones as they read Model Monitor's.
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    for path in out.rglob("*.json"):
        json.loads(path.read_text(), parse_constant=refuse)
    assert sdk_statistics(out / "data-quality/statistics.json").body_dict == stats
    assert sdk_constraints(out / "data-quality/constraints.json").body_dict == constraints

    # The model's outputs on the training data: what prediction drift compares with.
    predictions = json.loads((out / "prediction-drift/statistics.json").read_text())
    (score,) = predictions["features"]
    assert score["name"] == "prediction" and score["inferred_type"] == "Fractional"
    assert score["numerical_statistics"]["common"]["num_present"] == 284_807
    assert 0 <= score["numerical_statistics"]["min"] <= score["numerical_statistics"]["max"] <= 1


def test_scenarios_fire_their_checks_and_clean_traffic_fires_nothing(platform, tmp_path):
    report_dir = tmp_path / "report"
    outcome = byo(
        platform,
        "monitor",
        "scenarios",
        "--rows",
        "2000",
        "--report-dir",
        str(report_dir),
        expect=None,
    )
    by_name = {s["name"]: s for s in outcome["scenarios"]}
    print({n: (s["fired"], s["as_expected"]) for n, s in by_name.items()})
    assert len(by_name) == 11
    # The credit-card data has no String feature: that scenario says so, it does not fail.
    categorical = by_name.pop("categorical_values")
    assert categorical["status"] == "skipped" and "String" in categorical["reason"]
    for name, scenario in by_name.items():
        assert scenario["status"] == "ran", name
        assert scenario["as_expected"], (name, scenario["fired"], scenario["checks"])
    assert by_name["clean"]["fired"] == []
    assert "baseline_drift_check" in by_name["mean_shift"]["fired"]
    assert "completeness_check" in by_name["missing_values"]["fired"]
    assert "data_type_check" in by_name["type_change"]["fired"]
    assert "Time" in by_name["type_change"]["changed"]  # the one Integral feature
    assert "feature_attribution_drift_check" in by_name["stuck_features"]["fired"]
    assert "LessThanThreshold" in by_name["label_flips"]["fired"]
    assert "missing_column_check" in by_name["missing_column"]["fired"]
    assert "extra_column_check" in by_name["extra_column"]["fired"]
    # the container rejected every request of the wrong width (400 → ModelError): counted
    assert by_name["missing_column"]["rejected_requests"] == {"ModelError": 40}
    html = (report_dir / "report.html").read_text()
    shifted = by_name["mean_shift"]["changed"][0]
    assert "mean_shift" in html and f"drift-mean_shift-{shifted}.png" in html
    assert "categorical_values" in html and escape(categorical["reason"]) in html
    for png in (
        "metrics.png",
        "roc.png",
        f"drift-mean_shift-{shifted}.png",
        "attribution-stuck_features.png",
    ):
        assert (report_dir / png).stat().st_size > 10_000, png
    bucket, key = outcome["report_uri"].removeprefix("s3://").split("/", 1)
    assert bucket == platform["bucket"] and key.endswith("/report/report.html")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_traffic_fires_no_check_on_other_seeds(platform, tmp_path, seed):
    outcome = byo(
        platform,
        "monitor",
        "scenarios",
        "--only",
        "clean",
        "--seed",
        str(seed),
        "--rows",
        "2000",
        "--report-dir",
        str(tmp_path),
    )
    (clean,) = outcome["scenarios"]
    assert clean["fired"] == []
    statuses = {c["check"]: c["status"] for c in clean["checks"]}
    assert statuses == {
        "data-quality": "ok",
        "prediction-drift": "ok",
        "model-quality": "ok",
        "attribution-drift": "ok",
    }


def send(emulator, platform, rows: list[str], prefix: str, per_request: int = 1) -> list[str]:
    return send_rows(emulator, platform["endpoint"], rows, prefix, per_request)


@pytest.fixture(scope="module")
def labelled_traffic(emulator, platform, trained_model):
    """120 held-out rows (every positive) sent as 40 requests of 3 rows, with known labels
    written for the first 30 requests only."""
    lines = (trained_model.model_path.parent / "holdout.csv").read_text().splitlines()[1:]
    positives = [line for line in lines if line.endswith(",1")]
    rows = (positives + [line for line in lines if line.endswith(",0")])[:120]
    features = [line.rsplit(",", 1)[0] for line in rows]
    labels = [int(line.rsplit(",", 1)[1]) for line in rows]
    prefix = f"join-{uuid.uuid4().hex[:6]}-"
    ids = send(emulator, platform, features, prefix, per_request=3)
    lines_out = [
        json.dumps(
            {
                "groundTruthData": {
                    "data": "\n".join(map(str, labels[3 * i : 3 * i + 3])),
                    "encoding": "CSV",
                },
                "eventMetadata": {"eventId": inference_id},
                "eventVersion": "0",
            }
        )
        for i, inference_id in enumerate(ids[:30])
    ]
    from datetime import UTC, datetime

    key = f"ground-truth/{datetime.now(UTC):%Y/%m/%d/%H}/{prefix}labels.jsonl"
    emulator.client("s3").put_object(
        Bucket=platform["bucket"], Key=key, Body="\n".join(lines_out).encode()
    )
    return {"prefix": prefix, "ids": ids, "labels": labels}


def test_model_quality_counts_and_lists_captures_without_ground_truth(
    emulator, platform, labelled_traffic
):
    (result,) = byo(platform, "monitor", "model-quality", "--window", "1h")
    summary = result["summary"]
    # other tests' traffic is in the window too: this test's 10 unlabelled requests are among
    # the unjoined, each listed with its reason
    bucket, key = result["files"]["unjoined.jsonl"].removeprefix("s3://").split("/", 1)
    body = emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    unjoined = {json.loads(line)["id"]: json.loads(line)["reason"] for line in body.splitlines()}
    for inference_id in labelled_traffic["ids"][30:]:
        assert unjoined[inference_id] == "no ground truth for this id"
    for inference_id in labelled_traffic["ids"][:30]:
        assert inference_id not in unjoined
    assert summary["unjoined_captures"] == len(unjoined)
    assert summary["joined_captures"] + summary["unjoined_captures"] == summary["captures"]
    assert summary["rows"] >= 90


def test_checks_publish_metrics_to_cloudwatch(emulator, platform, labelled_traffic):
    results = byo(platform, "monitor", "run", "--window", "1h")
    assert [r["check"] for r in results] == [
        "data-quality",
        "prediction-drift",
        "model-quality",
        "attribution-drift",
    ]
    data = results[0]
    assert data["metrics"]["max_feature_baseline_drift"] > 0
    assert {"statistics.json", "constraint_violations.json"} <= data["files"].keys()
    metrics = emulator.client("cloudwatch").list_metrics(
        Namespace=METRIC_NAMESPACE,
        Dimensions=[{"Name": "Endpoint", "Value": platform["endpoint"]}],
    )["Metrics"]
    names = {m["MetricName"] for m in metrics}
    assert {
        "max_feature_baseline_drift",
        "feature_baseline_drift_V14",
        "data_quality_violations",
        "feature_attribution_ndcg",
        "auc",
        "model_quality_violations",
        "max_prediction_drift",
        "prediction_drift_violations",
    } <= names


def test_prediction_drift_compares_the_captured_scores_with_the_baselines(
    platform, labelled_traffic
):
    """The 120 rows hold every held-out positive (a 25% share against 0.17% in training):
    the captured scores' distribution is far from the baseline's, whatever the inputs do."""
    (result,) = byo(
        platform, "monitor", "prediction-drift", "--window", "1h", "--drift-method", "psi"
    )
    assert result["check"] == "prediction-drift"
    assert result["summary"]["drift_method"] == "psi"
    assert {"statistics.json", "constraint_violations.json"} <= result["files"].keys()
    assert result["metrics"]["max_prediction_drift"] > 0


def test_bias_reports_clarifys_metrics_for_a_facet(emulator, platform, labelled_traffic):
    (result,) = byo(platform, "monitor", "bias", "--facet", "Amount=50")
    assert result["summary"]["facet"] == "Amount=50"
    assert {"DPPL", "DI", "AD", "RD"} <= result["summary"].keys()
    assert result["status"] in ("ok", "violations")
    bucket, key = result["files"]["analysis.json"].removeprefix("s3://").split("/", 1)
    analysis = json.loads(emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    for stage, names in (
        ("pre_training_bias_metrics", {"CI", "DPL", "KL", "JS", "LP", "TVD", "KS"}),
        ("post_training_bias_metrics", {"AD", "DI", "DPPL", "RD", "DCA", "TE"}),
    ):
        (group,) = analysis[stage]["facets"]["Amount"]
        assert group["value_or_threshold"] == "50"
        assert names <= {m["name"] for m in group["metrics"]}, stage
    for facet, message in (
        ("Amount=lots", "VALUE is a threshold (a number)"),
        ("Amount", "expected COLUMN=VALUE"),
        ("Colour=5", "'Colour' is not a feature"),
    ):
        bad = byo_process(platform["outputs"], "monitor", "bias", "--facet", facet)
        assert bad.returncode == 2
        stderr = " ".join(bad.stderr.split())
        assert message in stderr and facet in stderr
        assert "Traceback" not in bad.stderr


def test_data_quality_of_a_file_names_missing_and_extra_columns(platform, dataset, tmp_path):
    header, *rows = dataset.read_text().splitlines()[:500]
    names = header.split(",")
    keep = [i for i, n in enumerate(names) if n not in ('"V7"', "V7")]
    path = tmp_path / "batch.csv"
    path.write_text(
        "\n".join(
            ",".join([*[line.split(",")[i] for i in keep], "1"])
            for line in [",".join([*names[:-1], "Class"]), *rows]
        ).replace(",1\n", ",1\n")
    )
    lines = path.read_text().splitlines()
    lines[0] = ",".join([*[names[i] for i in keep], "Extra"])
    path.write_text("\n".join(lines) + "\n")
    (result,) = byo(platform, "monitor", "data-quality", "--data", str(path), expect=None)
    types = {v["constraint_check_type"]: v for v in result["violations"]}
    assert "V7" in types["missing_column_check"]["feature_name"]
    assert "Extra" in types["extra_column_check"]["feature_name"]


def test_no_baseline_is_a_clear_error(emulator, tmp_path):
    bucket = f"nob-{uuid.uuid4().hex[:8]}"
    emulator.client("s3").create_bucket(Bucket=bucket)
    outputs = write_outputs(
        tmp_path / "outputs.json",
        endpoint_name="e",
        data_bucket=bucket,
        data_capture_s3_uri=f"s3://{bucket}/captures",
    )
    result = byo_process(str(outputs), "monitor", "data-quality")
    assert result.returncode == 2
    stderr = " ".join(result.stderr.split())  # rich wraps long lines
    assert "no baseline in s3://" in stderr and "byo monitor baseline --data" in stderr

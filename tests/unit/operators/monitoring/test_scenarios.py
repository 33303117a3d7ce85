"""The scenarios' planner on baselines of different shapes (what each scenario picks, what it
skips and why, what its altered rows change), and the report on a regression baseline."""

from __future__ import annotations

import csv
import io
import re
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from botocore.exceptions import ClientError

from operators.monitoring import (
    baselines,
    data_quality,
    datasets,
    files,
    model_quality,
    report,
    scenarios,
)
from operators.monitoring.monitor import CheckResult
from operators.monitoring.scenarios import (
    SCENARIOS,
    NotApplicable,
    Planned,
    Profile,
    ScenarioResult,
    Traffic,
    format_rows,
    plan,
)
from tests.helpers.paths import MODEL_MONITOR_REFERENCE

CREDIT_FEATURES = ["Time", *[f"V{i}" for i in range(1, 29)], "Amount"]
# attribution order of the credit-card-like baseline: V14, V4, V12, ... then the rest
CREDIT_RANKING = ["V14", "V4", "V12", "V10", "V17", "V11", "V3", "V16", "V7", "V2"]
CREDIT_RANKING += [n for n in CREDIT_FEATURES if n not in CREDIT_RANKING]
BY_NAME = {s.name: s for s in SCENARIOS}


def credit_table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns = {"Time": pa.array(np.sort(rng.integers(0, 172_800, rows)))}
    for i in range(1, 29):
        columns[f"V{i}"] = pa.array(rng.standard_t(4, rows) * (2 - i / 20))
    columns["Amount"] = pa.array(np.round(rng.lognormal(3, 1.2, rows), 2))
    return pa.table(columns)


def clarify(values: dict[str, float]) -> dict:
    """A Clarify explainability analysis.json (its own explainer key)."""
    return {
        "version": "1.0",
        "explanations": {
            "kernel_shap": {"label0": {"global_shap_values": values, "expected_value": 0.1}}
        },
    }


def baseline_of(table: pa.Table, **documents) -> baselines.Baseline:
    stats = data_quality.statistics(table)
    return baselines.from_documents(
        {
            baselines.DATA_STATISTICS: stats,
            baselines.DATA_CONSTRAINTS: data_quality.suggest_constraints(stats),
            **documents,
        },
        manifest={"features": table.column_names, "label": "label"},
    )


BINARY_CONSTRAINTS = {
    "version": 0.0,
    "binary_classification_constraints": {
        "recall": {"threshold": 0.6, "comparison_operator": "LessThanThreshold"}
    },
}


@pytest.fixture(scope="module")
def credit():
    attributions = {n: 1.0 / (k + 1) for k, n in enumerate(CREDIT_RANKING)}
    baseline = baseline_of(
        credit_table(3000, 0),
        **{
            baselines.ATTRIBUTION: clarify(attributions),
            baselines.MODEL_CONSTRAINTS: BINARY_CONSTRAINTS,
        },
    )
    return baseline, traffic_of(credit_table(1000, 1), baseline, np.zeros(1000))


def fractional_table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "narrow": rng.normal(0, 0.1, rows),  # std/range small: long tails
            "uniform": rng.uniform(0, 10, rows),  # the largest std/range
            "bimodal": np.where(rng.random(rows) < 0.5, 0.0, 4.0) + rng.normal(0, 0.3, rows),
            "skewed": rng.exponential(2.0, rows),
            "gauss": rng.normal(5, 2, rows),
            "constant": np.full(rows, 3.5),  # no spread: nothing to shift
        }
    )


@pytest.fixture(scope="module")
def fractional():
    baseline = baseline_of(fractional_table(3000, 0))
    return baseline, traffic_of(fractional_table(1000, 1), baseline, None)


MERCHANTS = ["grocery", "fuel", "travel", "online"]


def mixed_table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "merchant": pa.array(rng.choice(MERCHANTS, rows, p=[0.4, 0.3, 0.2, 0.1])),
            "items": pa.array(rng.integers(1, 9, rows)),
            "amount": rng.lognormal(3, 1, rows),
            "score": rng.uniform(0, 1, rows),
        }
    )


@pytest.fixture(scope="module")
def mixed():
    table = mixed_table(3000, 0)
    regression = model_quality.statistics(
        np.arange(200.0), np.arange(200.0) + np.random.default_rng(0).normal(0, 5, 200), "now",
        problem_type="Regression",
    )  # fmt: skip
    baseline = baseline_of(
        table,
        **{
            baselines.ATTRIBUTION: clarify({"amount": 0.5, "items": 0.3, "score": 0.2}),
            baselines.MODEL_STATISTICS: regression,
            baselines.MODEL_CONSTRAINTS: model_quality.suggest_constraints(regression),
            baselines.PREDICTION_STATISTICS: data_quality.statistics(
                pa.table({"prediction": np.random.default_rng(3).normal(50, 10, 3000)})
            ),
        },
    )
    labels = np.random.default_rng(2).normal(50, 10, 1000)
    return baseline, traffic_of(mixed_table(1000, 1), baseline, labels)


def traffic_of(table: pa.Table, baseline, labels, seed: int = 7) -> Traffic:
    columns = {}
    for name in baseline.features:
        if baseline.types[name] == "String":
            columns[name] = np.asarray(table.column(name).to_pylist(), dtype=object)
        else:
            columns[name] = table.column(name).cast(pa.float64()).to_numpy()
    return Traffic(columns, labels, np.random.default_rng(seed))


def plans(baseline) -> dict[str, Planned | NotApplicable]:
    profile = Profile.of(baseline)
    return {s.name: plan(profile, s) for s in SCENARIOS}


def cells(rows: list[str]) -> list[list[str]]:
    return list(csv.reader(rows))


def checked(baseline, rows: list[str]) -> data_quality.DataQualityResult:
    body = ("\n".join(rows) + "\n").encode()
    current = datasets.current_from_rows(body, baseline.features, baseline.types)
    return data_quality.check(baseline.data_statistics, baseline.data_constraints, current)


def assert_changes_only(traffic: Traffic, altered, baseline) -> None:
    """Every row has the baseline's width; the columns not named in `changed` are untouched;
    the named ones changed; Integral columns stay whole (but for type_change)."""
    before = cells(format_rows(list(traffic.columns.values())))
    after = cells(altered.rows)
    assert len(after) == traffic.size
    assert {len(row) for row in after} == {len(baseline.features)}
    for index, name in enumerate(baseline.features):
        old, new = [r[index] for r in before], [r[index] for r in after]
        if name in altered.changed:
            assert old != new, name
        else:
            assert old == new, name


def test_the_credit_card_baseline_picks_by_attribution_rank(credit):
    baseline, _ = credit
    planned = plans(baseline)
    assert planned["mean_shift"].changed == ["V14", "V4"]
    assert planned["scale_change"].changed == ["V12", "V10", "V17", "V11", "V3"]
    assert planned["out_of_range"].changed == ["V16"]
    assert planned["missing_values"].changed == ["V7", "V2"]
    assert planned["type_change"].changed == ["Time"]
    assert planned["stuck_features"].changed == CREDIT_RANKING[10:20]
    assert planned["missing_column"].changed == ["Amount"]
    assert isinstance(planned["label_flips"], Planned)
    assert "String feature" in planned["categorical_values"].reason
    # descriptions name what was chosen, with its rank
    assert "V14, V4 (attribution ranks 1, 2)" in planned["mean_shift"].description
    assert "Time" in planned["type_change"].description
    assert "Amount" in planned["missing_column"].description


def test_each_credit_card_scenario_changes_only_what_it_says_and_fires_its_check(credit):
    baseline, traffic = credit
    for name, planned in plans(baseline).items():
        if isinstance(planned, NotApplicable) or BY_NAME[name].batch_file:
            continue
        altered = planned.alter(traffic)
        assert_changes_only(traffic, altered, baseline)
        if name not in ("clean", "mean_shift", "out_of_range", "type_change"):
            continue  # the others fire on the smaller baselines below (each check takes ~0.7 s)
        fired = {v["constraint_check_type"] for v in checked(baseline, altered.rows).violations}
        assert set(BY_NAME[name].expected) <= fired if name != "clean" else not fired, name
        if name != "type_change":
            assert "data_type_check" not in fired, name


def test_label_flips_flip_about_thirty_percent_and_leave_the_rows(credit):
    baseline, traffic = credit
    labels = np.zeros(traffic.size)
    labels[:100] = 1
    traffic = Traffic(traffic.columns, labels, np.random.default_rng(1))
    altered = plans(baseline)["label_flips"].alter(traffic)
    assert altered.rows == format_rows(list(traffic.columns.values()))
    assert 0.27 < np.mean(altered.labels != labels) < 0.33
    assert set(np.unique(altered.labels)) == {0.0, 1.0}


def test_batch_file_scenarios_are_one_column_short_and_long(credit):
    baseline, traffic = credit
    planned = plans(baseline)
    short = planned["missing_column"].alter(traffic)
    assert short.header == CREDIT_FEATURES[:-1]
    assert {len(r) for r in cells(short.rows)} == {len(CREDIT_FEATURES) - 1}
    long = planned["extra_column"].alter(traffic)
    assert long.header == [*CREDIT_FEATURES, "Extra"]
    assert {len(r) for r in cells(long.rows)} == {len(CREDIT_FEATURES) + 1}
    assert [r[:-1] for r in cells(long.rows)] == cells(format_rows(list(traffic.columns.values())))


def test_a_fractional_baseline_without_attributions_ranks_by_spread_and_skips_with_reasons(
    fractional,
):
    baseline, traffic = fractional
    planned = plans(baseline)
    assert "Integral" in planned["type_change"].reason
    assert "attributions" in planned["stuck_features"].reason
    assert "model-quality" in planned["label_flips"].reason
    assert "String" in planned["categorical_values"].reason
    # largest std_dev / range first; the constant feature has nothing to shift
    assert planned["mean_shift"].changed == ["bimodal", "uniform"]
    assert "spread ranks 1, 2" in planned["mean_shift"].description
    assert "constant" not in planned["scale_change"].changed
    assert len(planned["scale_change"].changed) == 5
    assert planned["out_of_range"].changed == ["bimodal"]
    assert len(planned["missing_values"].changed) == 2
    for name in ("clean", "mean_shift", "scale_change", "missing_values", "out_of_range"):
        altered = planned[name].alter(traffic)
        assert_changes_only(traffic, altered, baseline)
        fired = {v["constraint_check_type"] for v in checked(baseline, altered.rows).violations}
        assert set(BY_NAME[name].expected) <= fired if name != "clean" else not fired, name


def test_a_baseline_with_a_string_feature_sends_values_outside_its_domain(mixed):
    baseline, traffic = mixed
    planned = plans(baseline)
    categorical = planned["categorical_values"]
    assert categorical.changed == ["merchant"]
    altered = categorical.alter(traffic)
    assert_changes_only(traffic, altered, baseline)
    sent = {row[0] for row in cells(altered.rows)}
    outside = sent - set(MERCHANTS)
    assert outside and all(v.startswith("unseen-") for v in outside)
    fired = {v["constraint_check_type"] for v in checked(baseline, altered.rows).violations}
    assert "categorical_values_check" in fired
    # numeric scenarios leave the String feature alone; the Integral one stays whole
    assert planned["type_change"].changed == ["items"]
    for name in ("mean_shift", "scale_change", "out_of_range", "stuck_features"):
        assert "merchant" not in planned[name].changed, name
        altered = planned[name].alter(traffic)
        assert_changes_only(traffic, altered, baseline)
        items = np.array([float(r[1]) for r in cells(altered.rows) if r[1]])
        assert (items == np.round(items)).all(), name
    missing = planned["missing_values"]
    altered = missing.alter(traffic)
    assert_changes_only(traffic, altered, baseline)
    fired = {v["constraint_check_type"] for v in checked(baseline, altered.rows).violations}
    assert "completeness_check" in fired


def test_regression_label_flips_add_noise_of_two_label_sds(mixed):
    baseline, traffic = mixed
    planned = plans(baseline)["label_flips"]
    assert "noise of 2 label standard deviations" in planned.description
    altered = planned.alter(traffic)
    noise = altered.labels - traffic.labels
    assert 1.8 < noise.std() / traffic.labels.std() < 2.2


def test_multiclass_label_flips_move_labels_to_another_class(credit):
    baseline, traffic = credit
    multiclass = {
        "version": 0.0,
        "multiclass_classification_constraints": {
            "accuracy": {"threshold": 0.6, "comparison_operator": "LessThanThreshold"}
        },
    }
    documents = {**baseline.documents, baselines.MODEL_CONSTRAINTS: multiclass}
    profile = Profile.of(baselines.from_documents(documents))
    assert profile.problem_type == "MulticlassClassification"
    labels = np.random.default_rng(0).integers(0, 3, traffic.size).astype(np.float64)
    altered = (
        BY_NAME["label_flips"]
        .plan(profile)
        .alter(Traffic(traffic.columns, labels, np.random.default_rng(1)))
    )
    moved = altered.labels != labels
    assert 0.27 < moved.mean() < 0.33
    assert set(np.unique(altered.labels)) <= {0.0, 1.0, 2.0}


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------
def data_quality_result(baseline, rows: list[str]) -> CheckResult:
    result = checked(baseline, rows)
    return CheckResult(
        "data-quality",
        "violations" if result.violations else "ok",
        result.violations,
        summary={"drift_method": "linf"},
        metrics=result.metrics,
        details={
            "statistics": result.statistics,
            "drift": result.drift,
            "distances": result.distances,
        },
    )


def model_quality_result(label: np.ndarray, prediction: np.ndarray, baseline) -> CheckResult:
    stats = model_quality.statistics(label, prediction, "now", problem_type="Regression")
    violations, _ = model_quality.violations(stats, baseline.model_constraints)
    return CheckResult(
        "model-quality",
        "violations" if violations else "ok",
        violations,
        details={"statistics": stats},
    )


def test_the_report_on_a_regression_baseline_names_each_scenario_and_its_distances(mixed, tmp_path):
    baseline, traffic = mixed
    planned = plans(baseline)
    results = []
    for name in ("clean", "mean_shift", "categorical_values", "label_flips"):
        altered = planned[name].alter(traffic)
        result = ScenarioResult(
            name, planned[name].description, list(BY_NAME[name].expected), altered.changed
        )
        result.sent = traffic.size
        result.results.append(data_quality_result(baseline, altered.rows))
        labels = altered.labels
        result.results.append(model_quality_result(labels, traffic.labels, baseline))
        results.append(result)
    results.append(
        ScenarioResult(
            "type_change", "no Integral", ["data_type_check"], [], "skipped", "no Integral here"
        )
    )
    page = report.write(tmp_path / "report", "run-1", results, baseline).read_text()
    assert baseline.describe() in page
    for result in results:
        assert f"id='{result.name}'" in page
    assert "skipped: no Integral here" in page
    assert "any model-quality violation" in page
    # the changed features' distances by every method, the firing one highlighted
    mean_shift = results[1].results[0].details["distances"]
    for feature in results[1].changed:
        for method in data_quality.DRIFT_METHODS:
            assert f"{mean_shift[feature][method]:.4f}" in page, (feature, method)
    assert "<th class='fires'>linf (fires)</th>" in page
    merchant = results[2].results[0].details["distances"]["merchant"]
    assert f"{merchant['js']:.4f}" in page
    # a numeric CDF for mean_shift's features, category bars for the String feature
    for feature in results[1].changed:
        assert (tmp_path / "report" / f"drift-mean_shift-{feature}.png").stat().st_size > 5_000
    assert (tmp_path / "report" / "drift-categorical_values-merchant.png").exists()
    # metric panels from the regression constraints; no ROC for a regression model
    assert (tmp_path / "report" / "metrics.png").stat().st_size > 10_000
    assert not (tmp_path / "report" / "roc.png").exists()
    assert not re.search(r"\bV14\b|\bauc\b", page)


def reference_baseline(statistics: str, constraints: str) -> baselines.Baseline:
    return baselines.from_documents(
        {
            baselines.DATA_STATISTICS: files.loads(
                (MODEL_MONITOR_REFERENCE / statistics).read_bytes()
            ),
            baselines.DATA_CONSTRAINTS: files.loads(
                (MODEL_MONITOR_REFERENCE / constraints).read_bytes()
            ),
        }
    )


def test_model_monitor_baselines_plan_what_applies_and_skip_the_rest():
    planned = plans(reference_baseline("dq_statistics.json", "dq_constraints.json"))
    assert len(planned["mean_shift"].changed) == 2
    assert planned["missing_column"].changed == ["_c5"]
    skipped = {name for name, p in planned.items() if isinstance(p, NotApplicable)}
    assert skipped == {"type_change", "categorical_values", "stuck_features", "label_flips"}

    planned = plans(
        reference_baseline("monitor_statistics_string.json", "monitor_constraints_string.json")
    )
    assert planned["categorical_values"].changed == ["message"]
    assert planned["missing_values"].changed == ["message"]
    for name in ("mean_shift", "scale_change", "out_of_range"):
        assert "numeric" in planned[name].reason, name


# ---------------------------------------------------------------------------------------------
# run(): the traffic sent, the checks the baseline supports, skipped scenarios
# ---------------------------------------------------------------------------------------------
class FakeRuntime:
    def __init__(self, width: int):
        self.width = width
        self.accepted: list[str] = []

    def invoke_endpoint(self, *, Body, InferenceId, **_):  # boto3's argument names
        if {len(row) for row in csv.reader(Body.decode().splitlines())} != {self.width}:
            raise ClientError({"Error": {"Code": "ModelError"}}, "InvokeEndpoint")
        self.accepted.append(InferenceId)
        return {"Body": io.BytesIO(b"0\n"), "InvokedProductionVariant": "variant-a"}


class FakeMonitor:
    """What run() uses of the monitor: the baseline, the runtime, captures and the checks."""

    endpoint, bucket, monitoring_prefix, ground_truth_prefix = "ep", "bucket", "monitoring/", "gt/"

    def __init__(self, baseline):
        self._baseline = baseline
        self.runtime = FakeRuntime(len(baseline.features))
        self.put: list[str] = []
        self.checks: list[tuple[str, str]] = []
        self.clients = SimpleNamespace(
            client=lambda name: self.runtime,
            s3=SimpleNamespace(put_object=lambda **kw: self.put.append(kw["Key"])),
        )
        self.publish_metrics = True

    def baseline(self):
        return self._baseline

    def captures(self, window):
        return [i for i in self.runtime.accepted if i.startswith(window.inference_id_prefix)]

    def _check(self, name):
        def check(window, **kwargs):
            self.checks.append((window.inference_id_prefix, name))
            return CheckResult(name, "ok")

        return check

    def __getattr__(self, name):
        if name in ("data_quality", "model_quality", "attribution_drift", "prediction_drift"):
            return self._check(name.replace("_", "-"))
        raise AttributeError(name)


def test_run_sends_each_scenario_runs_the_checks_the_baseline_has_and_skips_with_reasons(
    mixed, tmp_path
):
    documents = {k: v for k, v in mixed[0].documents.items() if k != baselines.ATTRIBUTION}
    baseline = baselines.from_documents(documents, manifest=mixed[0].manifest)
    data = tmp_path / "traffic.csv"
    table = mixed_table(400, 5).append_column("label", pa.array(np.arange(400.0)))
    pacsv.write_csv(table, data)
    monitor = FakeMonitor(baseline)
    outcome = scenarios.run(
        monitor,
        data_file=data,
        rows=200,
        only=("type_change", "mean_shift", "missing_column", "stuck_features"),
        report_dir=tmp_path / "report",
        capture_timeout_s=0,
    )
    assert monitor.publish_metrics is False
    by_name = {s.name: s for s in outcome.scenarios}
    assert list(by_name) == [
        "clean",
        "mean_shift",
        "type_change",
        "stuck_features",
        "missing_column",
    ]
    stuck = by_name["stuck_features"]
    assert (stuck.status, stuck.as_expected, stuck.sent) == ("skipped", True, 0)
    assert "attributions" in stuck.reason
    assert by_name["mean_shift"].status == "ran" and by_name["mean_shift"].sent == 200
    checks = {name for prefix, name in monitor.checks if "-mean_shift-" in prefix}
    # no attributions here: no attribution drift; prediction statistics: prediction drift
    assert checks == {"data-quality", "model-quality", "prediction-drift"}
    assert {name for prefix, name in monitor.checks if "-missing_column-" in prefix} == {
        "data-quality"
    }
    assert by_name["missing_column"].rejected == {"ModelError": 4}
    assert (
        (tmp_path / "report" / "inputs" / "missing_column.csv")
        .read_text()
        .startswith("merchant,items,amount\n")
    )
    assert any(key.endswith("report/report.html") for key in monitor.put)
    assert any(key.startswith("gt/") for key in monitor.put)  # ground truth for model quality
    as_json = {s["name"]: s for s in outcome.as_dict()["scenarios"]}
    assert as_json["stuck_features"]["reason"] == stuck.reason
    assert "skipped: " + stuck.reason in (tmp_path / "report" / "report.html").read_text()

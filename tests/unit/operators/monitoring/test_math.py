"""The monitoring checks' arithmetic, against independent references (scipy, scikit-learn)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import f1_score, fbeta_score, precision_score, recall_score, roc_auc_score

from operators.monitoring import attribution, bias, data_quality, datasets, model_quality
from operators.monitoring.captures import parse_scores, parse_window


def stats_of(**columns) -> dict:
    return data_quality.statistics(pa.table(columns))


@pytest.mark.parametrize("shift", [0.0, 0.2, 1.0])
def test_linf_distance_equals_the_ks_statistic_when_the_sketch_is_exact(shift):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=1500), rng.normal(shift, 1, size=1200)  # below k: exact sketches
    base = stats_of(x=a)["features"][0]
    current = stats_of(x=b)["features"][0]
    distance = data_quality.linf_distance(
        data_quality.numeric_cdf(base), data_quality.numeric_cdf(current)
    )
    assert distance == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)


def test_sketch_of_a_million_values_keeps_the_cdf_within_its_rank_error():
    rng = np.random.default_rng(2)
    values = rng.standard_t(5, size=1_000_000)
    feature = stats_of(x=values)["features"][0]
    levels = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    assert sum(len(items) * 2**i for i, items in enumerate(levels)) == pytest.approx(1e6, rel=1e-3)
    cdf = data_quality.numeric_cdf(feature)
    exact = np.sort(values)
    probes = np.quantile(values, np.linspace(0.01, 0.99, 50))
    true = np.searchsorted(exact, probes, side="right") / len(values)
    assert np.max(np.abs(cdf.at(probes) - true)) < 0.005
    buckets = feature["numerical_statistics"]["distribution"]["kll"]["buckets"]
    assert [b["count"] for b in buckets] == list(
        np.histogram(values, bins=10, range=(values.min(), values.max()))[0].astype(float)
    )


def test_statistics_and_constraints_layout_and_types():
    stats = stats_of(
        count=pa.array([1, 2, None, 4], pa.int64()),
        price=pa.array([1.5, -2.0, 3.0, 4.0]),
        colour=pa.array(["red", "blue", "red", None]),
    )
    by_name = {f["name"]: f for f in stats["features"]}
    assert stats["dataset"] == {"item_count": 4}
    assert by_name["count"]["inferred_type"] == "Integral"
    assert by_name["count"]["numerical_statistics"]["common"] == {
        "num_present": 3,
        "num_missing": 1,
    }
    assert by_name["price"]["numerical_statistics"]["std_dev"] == pytest.approx(
        np.std([1.5, -2.0, 3.0, 4.0])
    )
    assert by_name["colour"]["inferred_type"] == "String"
    assert by_name["colour"]["string_statistics"]["distribution"]["categorical"]["buckets"][0] == {
        "value": "red",
        "count": 2.0,
    }
    constraints = data_quality.suggest_constraints(stats)
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["count"]["completeness"] == 0.75
    assert by_name["price"]["num_constraints"] == {"is_non_negative": False}
    assert by_name["colour"]["string_constraints"] == {"domains": ["red", "blue"]}
    json.dumps(stats)  # plain JSON


def check(baseline_columns: dict, body: bytes, **config):
    stats = stats_of(**baseline_columns)
    constraints = data_quality.suggest_constraints(stats, **config)
    current = datasets.current_from_rows(body, list(baseline_columns))
    _, violations, drift = data_quality.check(stats, constraints, current)
    return {v["constraint_check_type"]: v for v in violations}, drift


def rows(*columns) -> bytes:
    return ("\n".join(",".join(v) for v in zip(*columns, strict=True)) + "\n").encode()


BASE = {
    "n": pa.array(np.arange(2000) % 50, pa.int64()),
    "x": pa.array(np.random.default_rng(3).normal(size=2000)),
}


def test_clean_rows_fire_nothing():
    rng = np.random.default_rng(4)
    found, drift = check(
        BASE,
        rows(
            [str(v) for v in rng.integers(0, 50, 500)], [f"{v:.6f}" for v in rng.normal(size=500)]
        ),
    )
    assert found == {}
    assert drift["x"] < 0.1


def test_data_type_check_fires_on_fractions_in_an_integral_feature():
    found, _ = check(BASE, rows(["1.5", "2", "3"], ["0.1", "0.2", "0.3"]))
    assert "data_type_check" in found
    assert found["data_type_check"]["feature_name"] == "n"
    assert "Integral" in found["data_type_check"]["description"]


def test_data_type_check_counts_non_numbers():
    found, _ = check(BASE, rows(["1", "2", "3"], ["0.1", "abc", "0.3"]))
    assert found["data_type_check"]["feature_name"] == "x"
    assert "1 do not" in found["data_type_check"]["description"]


def test_completeness_check_fires_on_a_missing_value():
    found, _ = check(BASE, rows(["1", "", "3"], ["0.1", "0.2", "0.3"]))
    assert found["completeness_check"]["feature_name"] == "n"
    assert "1 of 3 missing" in found["completeness_check"]["description"]


def test_short_and_long_rows_fire_missing_and_extra_column_checks_with_line_numbers():
    body = b"1,0.1\n2\n3,0.3,9\n4,0.4\n"
    found, _ = check(BASE, body)
    assert "line 2" in found["missing_column_check"]["description"]
    assert "line 3" in found["extra_column_check"]["description"]


def test_robust_comparison_needs_more_than_noise_on_a_small_window():
    """A 20-row window of the baseline's own distribution can sit past 0.1 by chance; Robust
    asks for the KS critical value too, Simple does not."""
    rng = np.random.default_rng(5)
    for _ in range(50):
        sample = rng.normal(size=20)
        body = rows([str(v) for v in rng.integers(0, 50, 20)], [f"{v:.6f}" for v in sample])
        robust, drift = check(BASE, body)
        if drift["x"] > 0.1:
            break
    else:
        pytest.fail("no noisy window found")
    assert "baseline_drift_check" not in robust
    stats = stats_of(**BASE)
    constraints = data_quality.suggest_constraints(stats)
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    _, violations, _ = data_quality.check(
        stats, constraints, datasets.current_from_rows(body, ["n", "x"])
    )
    assert any(
        v["constraint_check_type"] == "baseline_drift_check" and v["feature_name"] == "x"
        for v in violations
    )


def test_a_mean_shift_fires_baseline_drift():
    rng = np.random.default_rng(6)
    found, drift = check(
        BASE, rows(["1"] * 500, [f"{v:.6f}" for v in rng.normal(1.0, 1, size=500)])
    )
    assert found["baseline_drift_check"]["feature_name"] == "x"
    assert drift["x"] > 0.3


def test_model_quality_metrics_match_scikit_learn():
    rng = np.random.default_rng(7)
    label = (rng.random(3000) < 0.1).astype(np.int8)
    score = np.clip(label * 0.5 + rng.random(3000) * 0.6, 0, 1)
    predicted = (score >= 0.5).astype(int)
    m = model_quality.metrics(label, score)
    assert m["auc"]["value"] == pytest.approx(roc_auc_score(label, score))
    assert m["recall"]["value"] == pytest.approx(recall_score(label, predicted))
    assert m["precision"]["value"] == pytest.approx(precision_score(label, predicted))
    assert m["f1"]["value"] == pytest.approx(f1_score(label, predicted))
    assert m["f2"]["value"] == pytest.approx(fbeta_score(label, predicted, beta=2))
    assert m["f0_5"]["value"] == pytest.approx(fbeta_score(label, predicted, beta=0.5))
    matrix = m["confusion_matrix"]
    assert sum(sum(row.values()) for row in matrix.values()) == 3000
    assert m["false_positive_rate"]["value"] == pytest.approx(
        matrix["0"]["1"] / (matrix["0"]["0"] + matrix["0"]["1"])
    )
    assert 0 < m["auc"]["standard_deviation"] < 0.05
    assert m["accuracy_best_constant_classifier"]["value"] == pytest.approx(1 - label.mean())
    assert m["recall_best_constant_classifier"]["value"] == 1.0
    curve = m["receiver_operating_characteristic_curve"]
    assert len(curve["false_positive_rates"]) <= model_quality.CURVE_POINTS
    assert curve["false_positive_rates"][0] == 0 and curve["true_positive_rates"][-1] == 1


def test_model_quality_constraints_and_violations():
    rng = np.random.default_rng(8)
    label = (rng.random(5000) < 0.2).astype(np.int8)
    score = np.where(label == 1, rng.uniform(0.4, 1, 5000), rng.uniform(0, 0.6, 5000))
    stats = model_quality.statistics(label, score, "t")
    constraints = model_quality.suggest_constraints(stats)["binary_classification_constraints"]
    assert set(constraints) == set(model_quality.DEFAULT_CONSTRAINED)
    assert constraints["auc"]["threshold"] == pytest.approx(
        stats["binary_classification_metrics"]["auc"]["value"] - 0.1, abs=1e-6
    )
    assert constraints["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    same = model_quality.statistics(label[:1000], score[:1000], "t")
    assert model_quality.violations(same, {"binary_classification_constraints": constraints}) == (
        [],
        None,
    )
    flipped = label[:1000].copy()
    flipped[:300] = 1 - flipped[:300]
    worse = model_quality.statistics(flipped, score[:1000], "t")
    found, _ = model_quality.violations(worse, {"binary_classification_constraints": constraints})
    assert {v["metric_name"] for v in found} >= {"auc"}
    few = model_quality.statistics(label[:50], score[:50], "t")
    found, reason = model_quality.violations(
        few, {"binary_classification_constraints": constraints}
    )
    assert found == [] and "not evaluated" in reason


def test_ndcg_is_one_for_the_same_order_and_drops_when_the_top_features_fall():
    base = {"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.05}
    assert attribution.ndcg(base, {"a": 5, "b": 3, "c": 1, "d": 0}) == pytest.approx(1.0)
    reversed_ = attribution.ndcg(base, {"a": 0, "b": 1, "c": 3, "d": 5})
    ideal = 0.5 + 0.3 / np.log2(3) + 0.1 / 2 + 0.05 / np.log2(5)
    observed = 0.05 + 0.1 / np.log2(3) + 0.3 / 2 + 0.5 / np.log2(5)
    assert reversed_ == pytest.approx(observed / ideal)
    assert attribution.violations(reversed_, 0.9)[0]["constraint_check_type"] == (
        "feature_attribution_drift_check"
    )
    assert attribution.violations(0.95, 0.9) == []


def test_bias_metrics_for_a_facet():
    amount = np.array([10, 20, 300, 400, 30, 500])
    label = np.array([0, 1, 1, 0, 0, 1])
    predicted = np.array([0, 1, 1, 1, 0, 1])
    result = bias.metrics(amount, label, predicted, 200)
    values = result["values"]
    # a (<= 200): predicted 1 of 3; d (> 200): 3 of 3
    assert values["DPPL"] == pytest.approx(1 / 3 - 1)
    assert values["DI"] == pytest.approx(3.0)
    assert values["AD"] == pytest.approx(1 - 2 / 3)
    assert values["RD"] == pytest.approx(0.0)
    found = bias.violations("Amount", 200, values)
    assert {v["metric_name"] for v in found} == {"DI", "DPPL"}
    with pytest.raises(ValueError, match="COLUMN=NUMBER"):
        bias.parse_facet("Amount")


def test_window_and_score_parsing():
    assert parse_window("90m").total_seconds() == 5400
    assert parse_window("2d").days == 2
    with pytest.raises(ValueError, match="30m"):
        parse_window("soon")
    assert parse_scores({"data": "0.1\n0.9\n", "encoding": "CSV"}) == [0.1, 0.9]
    assert parse_scores(
        {
            "data": '{"predictions": [{"score": 0.2}]}',
            "encoding": "JSON",
            "observedContentType": "application/json",
        }
    ) == [0.2]

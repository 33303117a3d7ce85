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

"""Model quality's arithmetic against scikit-learn, and its constraints and violations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)

from operators.monitoring import model_quality

BINARY, MULTICLASS, REGRESSION = model_quality.PROBLEM_TYPES


def _binary(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    label = (rng.random(rows) < 0.2).astype(np.int8)
    score = np.where(label == 1, rng.uniform(0.4, 1, rows), rng.uniform(0, 0.6, rows))
    return label, score


def _multiclass(rows: int, seed: int, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Labels of 3 classes (shares 0.5, 0.3, 0.2) and class probabilities that favour the
    right class; more noise, a worse model."""
    rng = np.random.default_rng(seed)
    label = rng.choice(3, rows, p=[0.5, 0.3, 0.2])
    logits = rng.normal(0, noise, (rows, 3))
    logits[np.arange(rows), label] += 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return label, probabilities


def _regression(rows: int, seed: int, noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    label = rng.normal(10, 2, rows)
    return label, label + rng.normal(0, noise, rows)


def test_binary_metrics_match_scikit_learn():
    rng = np.random.default_rng(7)
    label = (rng.random(3000) < 0.1).astype(np.int8)
    score = np.clip(label * 0.5 + rng.random(3000) * 0.6, 0, 1)
    predicted = (score >= model_quality.THRESHOLD).astype(int)
    m = model_quality.statistics(label, score, "t")["binary_classification_metrics"]
    assert m["auc"]["value"] == pytest.approx(roc_auc_score(label, score))
    assert m["recall"]["value"] == pytest.approx(recall_score(label, predicted))
    assert m["precision"]["value"] == pytest.approx(precision_score(label, predicted))
    assert m["f1"]["value"] == pytest.approx(f1_score(label, predicted))
    assert m["f2"]["value"] == pytest.approx(fbeta_score(label, predicted, beta=2))
    assert m["f0_5"]["value"] == pytest.approx(fbeta_score(label, predicted, beta=0.5))
    matrix = m["confusion_matrix"]
    expected = confusion_matrix(label, predicted, labels=[0, 1])
    assert [[matrix[a][p] for p in "01"] for a in "01"] == expected.tolist()
    assert m["false_positive_rate"]["value"] == pytest.approx(expected[0, 1] / expected[0].sum())
    assert 0 < m["auc"]["standard_deviation"] < 0.05
    assert m["accuracy_best_constant_classifier"]["value"] == pytest.approx(1 - label.mean())
    assert m["recall_best_constant_classifier"]["value"] == 1.0
    curve = m["receiver_operating_characteristic_curve"]
    assert len(curve["false_positive_rates"]) <= model_quality.CURVE_POINTS
    assert curve["false_positive_rates"][0] == 0 and curve["true_positive_rates"][-1] == 1


def test_multiclass_metrics_match_scikit_learn():
    label, probabilities = _multiclass(3000, 1)
    predicted = probabilities.argmax(axis=1)
    stats = model_quality.statistics(label, probabilities, "t", problem_type=MULTICLASS)
    m = stats["multiclass_classification_metrics"]
    assert m["accuracy"]["value"] == pytest.approx(accuracy_score(label, predicted))
    for name, reference in (
        ("weighted_recall", recall_score),
        ("weighted_precision", precision_score),
        ("weighted_f1", f1_score),
    ):
        assert m[name]["value"] == pytest.approx(reference(label, predicted, average="weighted"))
    for beta, name in ((0.5, "weighted_f0_5"), (2, "weighted_f2")):
        expected = fbeta_score(label, predicted, beta=beta, average="weighted")
        assert m[name]["value"] == pytest.approx(expected)
    matrix = m["confusion_matrix"]
    assert [[matrix[a][p] for p in "012"] for a in "012"] == (
        confusion_matrix(label, predicted).tolist()
    )
    assert 0 < m["weighted_f1"]["standard_deviation"] < 0.03

    constant = DummyClassifier(strategy="most_frequent").fit(label[:, None], label)
    always = constant.predict(label[:, None])
    assert m["accuracy_best_constant_classifier"]["value"] == pytest.approx(
        accuracy_score(label, always)
    )
    for name, reference in (
        ("weighted_precision", precision_score),
        ("weighted_f1", f1_score),
    ):
        expected = reference(label, always, average="weighted", zero_division=0)
        assert m[f"{name}_best_constant_classifier"]["value"] == pytest.approx(expected)
    expected = fbeta_score(label, always, beta=2, average="weighted", zero_division=0)
    assert m["weighted_f2_best_constant_classifier"]["value"] == pytest.approx(expected)

    # Predicted labels give the same metrics as the probabilities they come from.
    from_labels = model_quality.statistics(label, predicted, "t", problem_type=MULTICLASS)
    assert from_labels == stats


def test_multiclass_string_labels():
    label = np.array(["cat", "dog", "cat", "bird"] * 20)
    predicted = np.array(["cat", "dog", "dog", "bird"] * 20)
    m = model_quality.statistics(label, predicted, "t", problem_type=MULTICLASS)[
        "multiclass_classification_metrics"
    ]
    assert m["confusion_matrix"]["cat"] == {"bird": 0, "cat": 20, "dog": 20}
    assert m["weighted_f1"]["value"] == pytest.approx(
        f1_score(label, predicted, average="weighted")
    )


def test_regression_metrics_match_scikit_learn():
    label, prediction = _regression(2000, 2)
    stats = model_quality.statistics(label, prediction, "t", problem_type=REGRESSION)
    m = stats["regression_metrics"]
    assert set(m) == {"mae", "mse", "rmse", "r2"}
    assert m["mae"]["value"] == pytest.approx(mean_absolute_error(label, prediction))
    assert m["mse"]["value"] == pytest.approx(mean_squared_error(label, prediction))
    assert m["rmse"]["value"] == pytest.approx(math.sqrt(mean_squared_error(label, prediction)))
    assert m["r2"]["value"] == pytest.approx(r2_score(label, prediction))
    assert 0 < m["mae"]["standard_deviation"] < 0.05 * m["mae"]["value"]
    assert stats["dataset"]["item_count"] == 2000
    # Labels that do not vary have no r2; nothing raises.
    flat = model_quality.statistics(np.ones(5), np.ones(5), "t", problem_type=REGRESSION)
    assert math.isnan(flat["regression_metrics"]["r2"]["value"])


def test_binary_constraints_and_violations():
    label, score = _binary(3000, 8)
    stats = model_quality.statistics(label, score, "t")
    constraints = model_quality.suggest_constraints(stats)
    assert model_quality.problem_type_of(constraints) == BINARY
    thresholds = constraints["binary_classification_constraints"]
    assert set(thresholds) == set(model_quality.DEFAULT_CONSTRAINED)
    assert thresholds["auc"]["threshold"] == pytest.approx(
        stats["binary_classification_metrics"]["auc"]["value"] - 0.1, abs=1e-6
    )
    assert thresholds["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    same = model_quality.statistics(label[:1000], score[:1000], "t")
    assert model_quality.violations(same, constraints) == ([], None)
    flipped = label[:1000].copy()
    flipped[:300] = 1 - flipped[:300]
    worse = model_quality.statistics(flipped, score[:1000], "t")
    found, reason = model_quality.violations(worse, constraints)
    assert reason is None
    assert {v["metric_name"] for v in found} >= {"auc"}
    auc = next(v for v in found if v["metric_name"] == "auc")
    value = worse["binary_classification_metrics"]["auc"]
    assert auc == {
        "constraint_check_type": "LessThanThreshold",
        "description": f"Metric auc with {value['value']!r} +/- "
        f"{value['standard_deviation']!r} was LessThanThreshold "
        f"'{thresholds['auc']['threshold']!r}'",
        "metric_name": "auc",
    }
    few = model_quality.statistics(label[:50], score[:50], "t")
    found, reason = model_quality.violations(few, constraints)
    assert found == [] and "not evaluated" in reason and "positives" in reason


def test_multiclass_constraints_and_violations():
    label, probabilities = _multiclass(5000, 3)
    stats = model_quality.statistics(label, probabilities, "t", problem_type=MULTICLASS)
    constraints = model_quality.suggest_constraints(stats)
    thresholds = constraints["multiclass_classification_constraints"]
    assert set(thresholds) == {"accuracy", "weighted_precision", "weighted_f1"}
    assert all(c["comparison_operator"] == "LessThanThreshold" for c in thresholds.values())
    accuracy = stats["multiclass_classification_metrics"]["accuracy"]["value"]
    assert thresholds["accuracy"]["threshold"] == pytest.approx(accuracy - 0.1, abs=1e-6)

    for seed in (4, 5, 6):  # clean windows of 600 rows
        clean = model_quality.statistics(*_multiclass(600, seed), "t", problem_type=MULTICLASS)
        assert model_quality.violations(clean, constraints) == ([], None)
    worse = model_quality.statistics(*_multiclass(600, 7, noise=3.0), "t", problem_type=MULTICLASS)
    found, reason = model_quality.violations(worse, constraints)
    assert reason is None
    assert {v["metric_name"] for v in found} == set(thresholds)

    # Too few rows of a class the window holds: not evaluated, whatever the metrics say.
    rare = np.concatenate([label[:600][label[:600] != 2], [2] * 5])
    rare_stats = model_quality.statistics(
        rare, np.zeros(len(rare), dtype=int), "t", problem_type=MULTICLASS
    )
    found, reason = model_quality.violations(rare_stats, constraints)
    assert found == [] and "not evaluated" in reason and "5 of class 2" in reason


def test_regression_constraints_and_violations():
    label, prediction = _regression(5000, 9)
    stats = model_quality.statistics(label, prediction, "t", problem_type=REGRESSION)
    m = stats["regression_metrics"]
    constraints = model_quality.suggest_constraints(stats)
    thresholds = constraints["regression_constraints"]
    assert {n: c["comparison_operator"] for n, c in thresholds.items()} == {
        "mae": "GreaterThanThreshold",
        "mse": "GreaterThanThreshold",
        "rmse": "GreaterThanThreshold",
        "r2": "LessThanThreshold",
    }
    # Errors have no fixed scale: their margin is relative to the baseline's.
    assert thresholds["mae"]["threshold"] == pytest.approx(m["mae"]["value"] * 1.1, rel=1e-5)
    assert thresholds["mse"]["threshold"] == pytest.approx(m["mse"]["value"] * 1.21, rel=1e-5)

    for seed in (10, 11, 12):
        clean = model_quality.statistics(*_regression(300, seed), "t", problem_type=REGRESSION)
        assert model_quality.violations(clean, constraints) == ([], None)
    worse = model_quality.statistics(*_regression(300, 13, noise=0.8), "t", problem_type=REGRESSION)
    found, _ = model_quality.violations(worse, constraints)
    assert {v["metric_name"] for v in found} >= {"mae", "rmse", "mse"}
    assert all(
        v["constraint_check_type"] == "GreaterThanThreshold"
        for v in found
        if v["metric_name"] != "r2"
    )
    few = model_quality.statistics(label[:40], prediction[:40] + 5, "t", problem_type=REGRESSION)
    found, reason = model_quality.violations(few, constraints)
    assert found == [] and reason.startswith("not evaluated: 40 labelled rows")


@pytest.mark.parametrize(
    ("comparison", "fires_at_threshold"),
    [
        ("LessThanThreshold", False),
        ("LessThanOrEqualToThreshold", True),
        ("GreaterThanThreshold", False),
        ("GreaterThanOrEqualToThreshold", True),
    ],
)
def test_every_comparison_operator(comparison, fires_at_threshold):
    stats = {
        "dataset": {"item_count": 500},
        "regression_metrics": {"mae": {"value": 1.0, "standard_deviation": "NaN"}},
    }

    def check(threshold: float) -> bool:
        constraint = {"threshold": threshold, "comparison_operator": comparison}
        found, _ = model_quality.violations(stats, {"regression_constraints": {"mae": constraint}})
        return bool(found)

    assert check(1.0) is fires_at_threshold
    assert check(2.0) is comparison.startswith("Less")
    assert check(0.5) is comparison.startswith("Greater")


def test_the_window_noise_keeps_a_near_miss_quiet():
    stats = {
        "dataset": {"item_count": 500},
        "regression_metrics": {"mae": {"value": 1.05, "standard_deviation": 0.1}},
    }
    constraint = {"mae": {"threshold": 1.0, "comparison_operator": "GreaterThanThreshold"}}
    assert model_quality.violations(stats, {"regression_constraints": constraint}) == ([], None)
    stats["regression_metrics"]["mae"]["standard_deviation"] = 0.01
    found, _ = model_quality.violations(stats, {"regression_constraints": constraint})
    assert found[0]["description"] == "Metric mae with 1.05 +/- 0.01 was GreaterThanThreshold '1.0'"


def test_nan_values_are_never_compared_and_never_raise():
    stats = {
        "dataset": {"item_count": 500},
        "regression_metrics": {
            "mae": {"value": "NaN", "standard_deviation": "NaN"},
            "r2": {"value": float("nan"), "standard_deviation": float("nan")},
            "mse": {"value": 4.0, "standard_deviation": "Infinity"},
        },
    }
    constraints = {
        "regression_constraints": {
            "mae": {"threshold": 1.0, "comparison_operator": "GreaterThanThreshold"},
            "r2": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"},
            "mse": {"threshold": 1.0, "comparison_operator": "GreaterThanThreshold"},
        }
    }
    found, _ = model_quality.violations(stats, constraints)
    assert [v["metric_name"] for v in found] == ["mse"]
    assert model_quality.metric_values(stats) == {"mse": 4.0}
    suggested = model_quality.suggest_constraints(stats)["regression_constraints"]
    assert set(suggested) == {"mse"}  # none on a NaN metric, none on a metric not there


def test_metric_values_are_the_scalars():
    label, score = _binary(500, 14)
    stats = model_quality.statistics(label, score, "t")
    values = model_quality.metric_values(stats)
    assert "confusion_matrix" not in values and "precision_recall_curve" not in values
    assert values["auc"] == stats["binary_classification_metrics"]["auc"]["value"]
    assert "f1_best_constant_classifier" in values
    assert all(isinstance(v, float) for v in values.values())


def test_files_that_do_not_go_together_are_refused():
    with pytest.raises(ValueError, match="none of binary_classification_metrics"):
        model_quality.problem_type_of({"features": []})
    regression = {"dataset": {"item_count": 500}, "regression_metrics": {}}
    binary = {"binary_classification_constraints": {}}
    with pytest.raises(ValueError, match="no binary_classification_metrics"):
        model_quality.violations(regression, binary)
    unknown = {"regression_constraints": {"mae": {"threshold": 1, "comparison_operator": "Eq"}}}
    with pytest.raises(ValueError, match="'Eq' is not one of LessThanThreshold"):
        model_quality.violations(regression, unknown)
    typo = {
        "regression_constraints": {
            "maee": {"threshold": 1, "comparison_operator": "LessThanThreshold"}
        }
    }
    with pytest.raises(ValueError, match="no metric 'maee'"):
        model_quality.violations(regression, typo)
    with pytest.raises(ValueError, match="unknown problem type 'Ranking'"):
        model_quality.statistics(np.ones(3), np.ones(3), "t", problem_type="Ranking")

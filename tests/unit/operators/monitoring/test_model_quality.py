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

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

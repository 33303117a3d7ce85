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

from __future__ import annotations

import json
import tarfile

import numpy as np
import pytest
import xgboost as xgb

from operators.pipeline.training import train
from sample.generate import generate, write_csv
from serving.artifact import MODEL_FILE, load_booster
from tests.helpers.paths import REPO


def test_auc_is_high_but_not_perfect(trained_model):
    auc = trained_model.evaluation["binary_classification_metrics"]["auc"]["value"]
    assert 0.90 <= auc <= 0.99


def test_evaluation_json_has_the_model_quality_layout(trained_model):
    evaluation = json.loads(trained_model.evaluation_path.read_text())
    metrics = evaluation["binary_classification_metrics"]
    for name in ("auc", "precision", "recall", "f1", "accuracy"):
        assert 0.0 <= metrics[name]["value"] <= 1.0
        assert metrics[name]["standard_deviation"] == "NaN"
    matrix = metrics["confusion_matrix"]
    total = sum(matrix[a][p] for a in ("0", "1") for p in ("0", "1"))
    assert total == evaluation["dataset"]["split"]["test"]
    assert matrix["1"]["0"] + matrix["1"]["1"] == evaluation["dataset"]["test_positives"]


def test_tarball_holds_only_the_model_and_loads_after_extraction(trained_model, tmp_path):
    with tarfile.open(trained_model.model_path, "r:gz") as tar:
        assert tar.getnames() == [MODEL_FILE]
        tar.extractall(tmp_path, filter="data")
    booster = xgb.Booster()
    booster.load_model(str(tmp_path / MODEL_FILE))
    rows = np.loadtxt(REPO / "sample" / "sample.csv", delimiter=",", ndmin=2)
    scores = booster.predict(xgb.DMatrix(rows))
    assert scores.shape == (10,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert np.array_equal(scores, load_booster(trained_model.model_path).predict(xgb.DMatrix(rows)))


def test_model_json_is_readable_by_xgboost_17(trained_model, tmp_path):
    """base_score must be a scalar: XGBoost 1.7 (SageMaker's 1.7-1 image) misreads a vector."""
    with tarfile.open(trained_model.model_path, "r:gz") as tar:
        model = json.loads(tar.extractfile(MODEL_FILE).read())
    base_score = model["learner"]["learner_model_param"]["base_score"]
    assert not base_score.startswith("[")
    assert 0.0 < float(base_score) < 1.0


def test_same_seed_gives_identical_model_and_metrics(tmp_path):
    # Determinism does not depend on size: 40,000 rows train in a fraction of the full set's time.
    path = tmp_path / "data.csv"
    write_csv(generate(40_000, 5), path)
    first, again = train(path, tmp_path / "first"), train(path, tmp_path / "again")
    assert again.model_path.read_bytes() == first.model_path.read_bytes()
    assert again.evaluation_path.read_text() == first.evaluation_path.read_text()


def test_too_few_positives_is_a_clear_error(tmp_path):
    path = tmp_path / "tiny.csv"
    write_csv(generate(500, 1), path)
    with pytest.raises(ValueError, match="positive rows"):
        train(path, tmp_path / "out")

"""The model scores identically under XGBoost 1.7 (SageMaker's xgboost:1.7-1 image).

`make test` builds the 1.7 interpreter first (make compat-venv); run that before plain pytest.
"""

from __future__ import annotations

import subprocess
import tarfile

import numpy as np
import pytest
import xgboost as xgb

from serving.artifact import MODEL_FILE
from tests.helpers.paths import REPO

pytestmark = pytest.mark.integration

XGB17_PYTHON = REPO / "build" / "compat" / "xgboost17" / "bin" / "python"


def test_xgboost_17_scores_match(trained_model, dataset, tmp_path):
    if not XGB17_PYTHON.exists():
        pytest.fail(f"{XGB17_PYTHON} is missing: run `make compat-venv` (make test does)")
    with tarfile.open(trained_model.model_path, "r:gz") as tar:
        tar.extractall(tmp_path, filter="data")
    rows = np.loadtxt(dataset, delimiter=",", skiprows=1, max_rows=5000)[:, :30]
    rows_path = tmp_path / "rows.csv"
    np.savetxt(rows_path, rows, delimiter=",", fmt="%.6f")
    out = tmp_path / "scores.npy"
    result = subprocess.run(
        [
            str(XGB17_PYTHON),
            str(REPO / "tests" / "compat" / "predict.py"),
            str(tmp_path / MODEL_FILE),
            str(rows_path),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.7.6"
    booster = xgb.Booster()
    booster.load_model(str(tmp_path / MODEL_FILE))
    ours = booster.predict(xgb.DMatrix(np.loadtxt(rows_path, delimiter=",", ndmin=2)))
    np.testing.assert_allclose(np.load(out), ours, rtol=0, atol=1e-6)

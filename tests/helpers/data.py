"""Datasets the tests make."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from sklearn.datasets import make_classification


def churn_csv(path: Path, rows: int = 3000) -> Path:
    """Another domain: a text target ('true'/'false'), integer and float features, two rows
    whose target is unusable."""
    features, label = make_classification(
        n_samples=rows, n_features=6, n_informative=4, weights=[0.8], class_sep=1.5, random_state=3
    )
    table = {f"f{i}": features[:, i] for i in range(6)}
    table["tenure_months"] = np.arange(rows) % 72
    target = ["true" if y else "false" for y in label]
    target[5], target[9] = "maybe", None
    table["churned"] = target
    pacsv.write_csv(pa.table(table), path)
    return path

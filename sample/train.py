"""Train the fraud model and package it the way SageMaker's XGBoost container (1.7+) loads it.

Outputs, in the output directory:
- model.tar.gz: one member, `xgboost-model` (XGBoost JSON). Byte-identical for the same data
  and seed: fixed tar/gzip metadata, so its hash can address it in the registry.
- evaluation.json: metrics on the held-out test split, in SageMaker's model-quality layout
  (`binary_classification_metrics`), plus what was trained on and how.
- holdout.csv: that test split (header, features and Class): the data the model-quality
  baseline scores (`byo monitor baseline --holdout`), since training rows flatter the model.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sample.generate import FEATURES, LABEL, read_csv, write_csv

if TYPE_CHECKING:
    import xgboost as xgb

# xgboost and scikit-learn are imported where they are used: importing xgboost imports
# scikit-learn, about 2 s, which every `byo` command would otherwise pay.

MODEL_FILE = "xgboost-model"
THRESHOLD = 0.5
HYPERPARAMETERS = {
    "objective": "binary:logistic",
    "eval_metric": "aucpr",
    "tree_method": "hist",
    "max_depth": 5,
    "eta": 0.1,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 1,
}
NUM_ROUND = 300
EARLY_STOPPING_ROUNDS = 30


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    evaluation_path: Path
    evaluation: dict


def split(
    features: np.ndarray,
    label: np.ndarray,
    seed: int,
    validation: float = 0.15,
    test: float = 0.15,
):
    """Stratified train/validation/test split (70/15/15 by default): the rest is split off
    first, then divided between validation and test."""
    from sklearn.model_selection import train_test_split

    rest = validation + test
    x_train, x_rest, y_train, y_rest = train_test_split(
        features, label, test_size=rest, stratify=label, random_state=seed
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=test / rest, stratify=y_rest, random_state=seed
    )
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def fit(
    train_set: tuple[np.ndarray, np.ndarray],
    validation_set: tuple[np.ndarray, np.ndarray],
    hyperparameters: dict,
    num_round: int = NUM_ROUND,
    early_stopping_rounds: int = EARLY_STOPPING_ROUNDS,
) -> tuple[bytes, int]:
    """Train with early stopping on the validation set; returns the model as SageMaker's
    container loads it (only the trees up to the best iteration) and that iteration."""
    import xgboost as xgb

    # Plain arrays, no feature names: the SageMaker container scores headerless CSV.
    booster = xgb.train(
        hyperparameters,
        xgb.DMatrix(train_set[0], label=train_set[1]),
        num_boost_round=num_round,
        evals=[(xgb.DMatrix(validation_set[0], label=validation_set[1]), "validation")],
        early_stopping_rounds=early_stopping_rounds,
        verbose_eval=False,
    )
    # Keep only the trees up to the best iteration: SageMaker's container scores with all trees.
    best = int(booster.best_iteration)
    return sagemaker_model_json(booster[: best + 1]), best


def sagemaker_model_json(booster: xgb.Booster) -> bytes:
    """The booster as JSON that XGBoost 1.7 (SageMaker's xgboost:1.7-1 image) reads correctly.

    XGBoost >= 3 writes base_score as a vector ("[1.7E-3]"); 1.7 misparses it and silently
    shifts every prediction (by up to 0.92 in probability on this model, measured). A scalar
    base_score is read identically by 1.7 and 3.x (tests/integration/test_model_compat.py).
    """
    model = json.loads(booster.save_raw("json"))
    params = model["learner"]["learner_model_param"]
    base_score = params["base_score"].strip("[]")
    if "," in base_score:
        raise ValueError("multi-target base_score cannot be written for XGBoost 1.7")
    params["base_score"] = base_score
    return json.dumps(model, separators=(",", ":")).encode()


def write_model_tarball(model_bytes: bytes, path: Path) -> None:
    """model.tar.gz holding only `xgboost-model`, with fixed metadata (reproducible bytes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MODEL_FILE)
        info.size = len(model_bytes)
        info.mode = 0o644
        info.mtime = 0
        tar.addfile(info, io.BytesIO(model_bytes))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out, gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())


def load_model_tarball(path: Path) -> xgb.Booster:
    """A booster from a model.tar.gz as SageMaker unpacks it (the `xgboost-model` member)."""
    with tarfile.open(path, "r:gz") as tar:
        member = tar.extractfile(MODEL_FILE)
        if member is None:
            raise ValueError(f"{path} has no {MODEL_FILE} file")
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(member.read()))
    return booster


def binary_classification_metrics(label: np.ndarray, score: np.ndarray) -> dict:
    """Model-quality metrics in SageMaker's layout: {"metric": {"value", "standard_deviation"}}."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    predicted = (score >= THRESHOLD).astype(int)
    matrix = confusion_matrix(label, predicted, labels=[0, 1])

    def metric(value: float) -> dict:
        return {"value": float(value), "standard_deviation": "NaN"}

    return {
        "auc": metric(roc_auc_score(label, score)),
        "precision": metric(precision_score(label, predicted, zero_division=0)),
        "recall": metric(recall_score(label, predicted, zero_division=0)),
        "f1": metric(f1_score(label, predicted, zero_division=0)),
        "accuracy": metric(accuracy_score(label, predicted)),
        "confusion_matrix": {
            str(actual): {str(p): int(matrix[actual, p]) for p in (0, 1)} for actual in (0, 1)
        },
        "threshold": THRESHOLD,
    }


def train(data: Path, out_dir: Path, seed: int = 42, threads: int = 2) -> TrainResult:
    """Train on `data` (CSV with header, schema of sample.generate), write model + evaluation."""
    import xgboost as xgb

    started = time.perf_counter()
    table = read_csv(data)
    features = np.column_stack([table.column(n).to_numpy() for n in FEATURES])
    label = table.column(LABEL).to_numpy()
    if label.sum() < 10:
        raise ValueError(f"{data}: only {int(label.sum())} positive rows; need at least 10")
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = split(features, label, seed)

    params = {**HYPERPARAMETERS, "seed": seed, "nthread": threads}
    model_bytes, best_iteration = fit((x_train, y_train), (x_val, y_val), params)
    scoring = xgb.Booster()
    scoring.load_model(bytearray(model_bytes))
    score = scoring.predict(xgb.DMatrix(x_test))

    evaluation = {
        "binary_classification_metrics": binary_classification_metrics(y_test, score),
        "dataset": {
            "source": data.name,
            "rows": len(label),
            "positives": int(label.sum()),
            "split": {"train": len(y_train), "validation": len(y_val), "test": len(y_test)},
            "test_positives": int(y_test.sum()),
            "seed": seed,
        },
        "model": {
            "framework": f"xgboost {xgb.__version__}",
            "hyperparameters": {**HYPERPARAMETERS, "num_round": NUM_ROUND},
            "best_iteration": best_iteration,
            "features": FEATURES,
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.tar.gz"
    write_model_tarball(model_bytes, model_path)
    holdout = {name: x_test[:, i] for i, name in enumerate(FEATURES)}
    holdout["Time"] = holdout["Time"].astype(np.int64)  # integral, as in the dataset
    write_csv(pa.table({**holdout, LABEL: y_test.astype(np.int64)}), out_dir / "holdout.csv")
    evaluation_path = out_dir / "evaluation.json"
    evaluation_path.write_text(json.dumps(evaluation, indent=2) + "\n")
    evaluation["training_seconds"] = round(time.perf_counter() - started, 2)
    return TrainResult(model_path, evaluation_path, evaluation)

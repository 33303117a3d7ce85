"""Training: the split, the fit and the metrics the pipeline's steps use, and the sample model
(`make model`: python -m operators.pipeline.training --data CSV --out-dir DIR), packaged as the
model artifact contract (serving.artifact) says.

Outputs, in the output directory:
- model.tar.gz: one member, `xgboost-model` (XGBoost JSON). Byte-identical for the same data
  and seed: fixed tar/gzip metadata, so its hash can address it in the registry.
- evaluation.json: metrics on the held-out test split, in SageMaker's model-quality layout
  (`binary_classification_metrics`), plus what was trained on and how.
- holdout.csv: that test split (header, features and Class): the data the model-quality
  baseline scores (`byo monitor baseline --holdout`), since training rows flatter the model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from serving.artifact import sagemaker_model_json, write_tarball

if TYPE_CHECKING:
    pass

# xgboost and scikit-learn are imported where they are used: importing xgboost imports
# scikit-learn, about 2 s, which every `byo` command would otherwise pay.

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
LABEL = "Class"
SEED = 42
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


def train(
    data: Path, out_dir: Path, seed: int = SEED, threads: int = 2, label_column: str = LABEL
) -> TrainResult:
    """Train on `data` (CSV with header: the features in order, and the 0/1 label column),
    write model.tar.gz, evaluation.json and holdout.csv."""
    import xgboost as xgb

    started = time.perf_counter()
    table = pacsv.read_csv(data)
    if label_column not in table.column_names:
        raise ValueError(f"{data}: no {label_column!r} column")
    names = [n for n in table.column_names if n != label_column]
    features = np.column_stack([table.column(n).to_numpy().astype(np.float64) for n in names])
    label = table.column(label_column).to_numpy().astype(np.int64)
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
            "features": names,
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.tar.gz"
    write_tarball(model_bytes, model_path)
    # Integral columns stay integral (Time in the sample data), as in the dataset.
    holdout = {
        name: x_test[:, i].astype(table.schema.field(name).type.to_pandas_dtype())
        if pa.types.is_integer(table.schema.field(name).type)
        else x_test[:, i]
        for i, name in enumerate(names)
    }
    pacsv.write_csv(
        pa.table({**holdout, label_column: y_test}),
        out_dir / "holdout.csv",
        write_options=pacsv.WriteOptions(quoting_style="none"),
    )
    evaluation_path = out_dir / "evaluation.json"
    evaluation_path.write_text(json.dumps(evaluation, indent=2) + "\n")
    evaluation["training_seconds"] = round(time.perf_counter() - started, 2)
    return TrainResult(model_path, evaluation_path, evaluation)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m operators.pipeline.training",
        description="Train the sample model; write model.tar.gz, evaluation.json, holdout.csv.",
    )
    parser.add_argument("--data", type=Path, required=True, help="CSV with header and Class")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    try:
        result = train(args.data, args.out_dir, args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    metrics = result.evaluation["binary_classification_metrics"]
    summary = {k: round(metrics[k]["value"], 4) for k in ("auc", "precision", "recall", "f1")}
    print(f"wrote {result.model_path} and {result.evaluation_path}")
    print(f"test metrics: {json.dumps(summary)}  ({result.evaluation['training_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

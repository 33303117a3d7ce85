"""Model quality in Model Monitor's formats, for its three problem types.

statistics.json holds one of `binary_classification_metrics`, `multiclass_classification_metrics`
or `regression_metrics` (METRICS_KEY), constraints.json the matching `…_constraints`
(CONSTRAINTS_KEY): per metric a threshold and a comparison operator. Files Model Monitor wrote
are read as they are (a standard deviation may be the string "NaN").

- `statistics(label, prediction, evaluation_time, problem_type)`: every scalar metric with a
  bootstrap standard deviation (BOOTSTRAP_SAMPLES resamples of the window).
  - Binary (prediction: the score of class 1): confusion matrix, recall, precision, accuracy,
    f0_5, f1, f2, auc, true/false positive/negative rates, ROC and precision-recall curves, and
    the best-constant-classifier baseline of the metrics Model Monitor gives one.
  - Multiclass (prediction: class probabilities (n, k) or predicted labels): confusion matrix,
    accuracy and the support-weighted recall, precision, f0_5, f1, f2, each with the value of
    the constant classifier that predicts the most frequent class.
  - Regression: mae, mse, rmse, r2.
- `suggest_constraints(stats)`: a threshold sits on the bad side of the baseline value, by
  3 standard deviations or a minimum margin, whichever is wider: an hour of ordinary traffic
  has its own sampling noise (recall over 120 positives has a standard deviation of about 0.04),
  and a threshold at the baseline value itself, as Model Monitor suggests, fires on it. The
  minimum margin is 0.1 for the metrics on a 0..1 scale (and r2), 10% of the baseline value for
  mae and rmse (21% for mse, their square). Metrics that move with the class mix of the traffic
  more than with the model's quality are not constrained by default: for binary precision,
  accuracy and the F-scores; for multiclass weighted recall (it equals accuracy) and f0_5/f2.
- `violations(stats, constraints)`: each constrained metric on the wrong side of its threshold
  by more than the metric's own standard deviation in the window, with any of the four
  operators Model Monitor allows. The baseline's margin covers the baseline's uncertainty; this
  covers the window's (measured: on clean traffic with 60 positives, recall varied from 0.62 to
  0.70 against a threshold of 0.62). A metric whose value is NaN is not compared. A window is
  not evaluated (and reported as such) with fewer than MIN_CLASS_COUNT labelled rows of a class
  it holds (binary: of either class), or, for regression, fewer than MIN_REGRESSION_ROWS rows.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

from operators.monitoring.files import number

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
METRICS_KEY = {
    "BinaryClassification": "binary_classification_metrics",
    "MulticlassClassification": "multiclass_classification_metrics",
    "Regression": "regression_metrics",
}
CONSTRAINTS_KEY = {
    "BinaryClassification": "binary_classification_constraints",
    "MulticlassClassification": "multiclass_classification_constraints",
    "Regression": "regression_constraints",
}
COMPARISON_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
}

THRESHOLD = 0.5
BOOTSTRAP_SAMPLES = 30
CURVE_POINTS = 101
MIN_CLASS_COUNT = 30
MIN_REGRESSION_ROWS = 100
MARGIN_SDS = 3.0
MIN_MARGIN = 0.1
MIN_RELATIVE_MARGIN = 0.1

# Binary classification's metrics (the names monitor.py publishes).
HIGHER_IS_BETTER = (
    "recall",
    "precision",
    "accuracy",
    "f0_5",
    "f1",
    "f2",
    "auc",
    "true_positive_rate",
    "true_negative_rate",
)
LOWER_IS_BETTER = ("false_positive_rate", "false_negative_rate")
DEFAULT_CONSTRAINED = (
    "auc",
    "recall",
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
)
# The binary metrics Model Monitor gives a best-constant-classifier value.
BEST_CONSTANT = ("recall", "precision", "accuracy", "f0_5", "f1", "f2")

MULTICLASS_METRICS = (
    "accuracy",
    "weighted_recall",
    "weighted_precision",
    "weighted_f0_5",
    "weighted_f1",
    "weighted_f2",
)
REGRESSION_METRICS = ("mae", "mse", "rmse", "r2")
DEFAULT_CONSTRAINED_BY_TYPE = {
    "BinaryClassification": DEFAULT_CONSTRAINED,
    "MulticlassClassification": ("accuracy", "weighted_precision", "weighted_f1"),
    "Regression": REGRESSION_METRICS,
}
# Errors in the label's unit: no fixed scale, their margin is relative.
_ERRORS = ("mae", "rmse", "mse")
_LOWER_IS_BETTER = (*LOWER_IS_BETTER, *_ERRORS)


def _text(value: float) -> str:
    """A number as the analyzer (a JVM) prints one: full precision, NaN and Infinity spelled."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def _f_beta(precision: float, recall: float, beta: float) -> float:
    denominator = beta**2 * precision + recall
    return (1 + beta**2) * precision * recall / denominator if denominator else 0.0


def _bootstrap(
    scalars: Callable[[np.ndarray], dict[str, float]], rows: int, seed: int
) -> dict[str, dict[str, float]]:
    """{metric: {"value", "standard_deviation"}}: `scalars(index)` computes the metrics of the
    rows at index; the spread is over BOOTSTRAP_SAMPLES resamples (NaN with one row or none)."""
    values = scalars(np.arange(rows))
    rng = np.random.default_rng(seed)
    samples = [scalars(rng.integers(0, rows, rows)) for _ in range(BOOTSTRAP_SAMPLES)]
    result = {}
    for name, value in values.items():
        spread = [s[name] for s in samples]
        finite = rows > 1 and not np.isnan(spread).all()
        result[name] = {
            "value": float(value),
            "standard_deviation": float(np.nanstd(spread)) if finite else float("nan"),
        }
    return result


# ---- binary classification -------------------------------------------------------------------


def _binary_scalars(
    label: np.ndarray, predicted: np.ndarray, score: np.ndarray
) -> dict[str, float]:
    tp = float(np.count_nonzero((predicted == 1) & (label == 1)))
    fp = float(np.count_nonzero((predicted == 1) & (label == 0)))
    tn = float(np.count_nonzero((predicted == 0) & (label == 0)))
    fn = float(np.count_nonzero((predicted == 0) & (label == 1)))
    positives, negatives = tp + fn, tn + fp
    recall = tp / positives if positives else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    both = positives and negatives
    return {
        "recall": recall,
        "precision": precision,
        "accuracy": (tp + tn) / len(label) if len(label) else 0.0,
        "f0_5": _f_beta(precision, recall, 0.5),
        "f1": _f_beta(precision, recall, 1.0),
        "f2": _f_beta(precision, recall, 2.0),
        "auc": float(roc_auc_score(label, score)) if both else float("nan"),
        "true_positive_rate": recall,
        "true_negative_rate": tn / negatives if negatives else 0.0,
        "false_positive_rate": fp / negatives if negatives else 0.0,
        "false_negative_rate": fn / positives if positives else 0.0,
    }


def _binary_best_constant(prevalence: float) -> dict[str, float]:
    """Each metric's value for the better of the two constant classifiers (all 0, all 1)."""
    p = prevalence
    return {
        "recall": 1.0,  # all 1
        "precision": p,  # all 1 (all 0 has no positive predictions)
        "accuracy": max(p, 1 - p),
        "f0_5": _f_beta(p, 1.0, 0.5),
        "f1": _f_beta(p, 1.0, 1.0),
        "f2": _f_beta(p, 1.0, 2.0),
    }


def _curve(xs: np.ndarray, ys: np.ndarray) -> tuple[list[float], list[float]]:
    if len(xs) > CURVE_POINTS:
        index = np.unique(np.linspace(0, len(xs) - 1, CURVE_POINTS).round().astype(int))
        xs, ys = xs[index], ys[index]
    return [round(float(x), 6) for x in xs], [round(float(y), 6) for y in ys]


def binary_metrics(label: np.ndarray, score: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """`binary_classification_metrics` for labels (0/1) and scores (probability of 1)."""
    label = np.asarray(label, dtype=np.int8)
    score = np.asarray(score, dtype=np.float64)
    predicted = (score >= THRESHOLD).astype(np.int8)
    result: dict[str, Any] = {
        "confusion_matrix": {
            str(actual): {
                str(p): int(np.count_nonzero((label == actual) & (predicted == p))) for p in (0, 1)
            }
            for actual in (0, 1)
        }
    }
    result |= _bootstrap(
        lambda i: _binary_scalars(label[i], predicted[i], score[i]), len(label), seed
    )
    prevalence = float(label.mean()) if len(label) else 0.0
    for name, value in _binary_best_constant(prevalence).items():
        result[f"{name}_best_constant_classifier"] = {"value": value, "standard_deviation": 0.0}
    if 0 < label.sum() < len(label):
        fpr, tpr, _ = roc_curve(label, score)
        fprs, tprs = _curve(fpr, tpr)
        precisions, recalls, _ = precision_recall_curve(label, score)
        pr_precisions, pr_recalls = _curve(precisions[::-1], recalls[::-1])
        result["receiver_operating_characteristic_curve"] = {
            "false_positive_rates": fprs,
            "true_positive_rates": tprs,
        }
        result["precision_recall_curve"] = {"precisions": pr_precisions, "recalls": pr_recalls}
    return result


# ---- multiclass classification ---------------------------------------------------------------


def _class_names(classes: np.ndarray) -> list[str]:
    """Confusion-matrix keys: class numbers without a fractional part print as integers."""
    if classes.dtype.kind in "iuf" and np.all(classes == np.round(classes)):
        return [str(int(c)) for c in classes]
    return [str(c) for c in classes]


def _multiclass_scalars(matrix: np.ndarray) -> dict[str, float]:
    """The metrics of a confusion matrix (rows: labels, columns: predictions)."""
    rows = matrix.sum()
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    hits = np.diag(matrix)
    share = support / rows if rows else np.zeros(len(support))
    recall = np.divide(hits, support, out=np.zeros(len(hits)), where=support > 0)
    precision = np.divide(hits, predicted, out=np.zeros(len(hits)), where=predicted > 0)
    values = {"accuracy": hits.sum() / rows if rows else 0.0}
    values["weighted_recall"] = float(share @ recall)
    values["weighted_precision"] = float(share @ precision)
    for beta, name in ((0.5, "weighted_f0_5"), (1.0, "weighted_f1"), (2.0, "weighted_f2")):
        scores = [_f_beta(p, r, beta) for p, r in zip(precision, recall, strict=True)]
        values[name] = float(share @ np.asarray(scores))
    # Always the most frequent class: its recall is 1, its precision its share, other classes 0.
    top = float(share.max()) if rows else 0.0
    values["accuracy_best_constant_classifier"] = top
    values["weighted_recall_best_constant_classifier"] = top
    values["weighted_precision_best_constant_classifier"] = top * top
    for beta, name in ((0.5, "weighted_f0_5"), (1.0, "weighted_f1"), (2.0, "weighted_f2")):
        values[f"{name}_best_constant_classifier"] = top * _f_beta(top, 1.0, beta)
    return values


def multiclass_metrics(label: np.ndarray, prediction: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """`multiclass_classification_metrics` for class labels and class probabilities (n, k) —
    the predicted class is the most probable one — or predicted labels (n,)."""
    label = np.asarray(label)
    prediction = np.asarray(prediction)
    if prediction.ndim == 2:
        predicted = prediction.argmax(axis=1)
        classes = np.union1d(np.arange(prediction.shape[1]), label)
    else:
        predicted = prediction
        classes = np.union1d(label, predicted)
    actual_index = np.searchsorted(classes, label)
    predicted_index = np.searchsorted(classes, predicted)
    k = len(classes)

    def matrix_of(index: np.ndarray) -> np.ndarray:
        cells = actual_index[index] * k + predicted_index[index]
        return np.bincount(cells, minlength=k * k).reshape(k, k)

    matrix = matrix_of(np.arange(len(label)))
    names = _class_names(classes)
    result: dict[str, Any] = {
        "confusion_matrix": {
            actual: {p: int(matrix[i, j]) for j, p in enumerate(names)}
            for i, actual in enumerate(names)
        }
    }
    return result | _bootstrap(lambda i: _multiclass_scalars(matrix_of(i)), len(label), seed)


# ---- regression ------------------------------------------------------------------------------


def _regression_scalars(label: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    if not len(label):
        return dict.fromkeys(REGRESSION_METRICS, float("nan"))
    error = prediction - label
    mse = float(np.mean(error**2))
    spread = float(np.sum((label - label.mean()) ** 2))
    return {
        "mae": float(np.mean(np.abs(error))),
        "mse": mse,
        "rmse": math.sqrt(mse),
        # r2 is undefined when the labels do not vary.
        "r2": 1 - float(np.sum(error**2)) / spread if spread else float("nan"),
    }


def regression_metrics(label: np.ndarray, prediction: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """`regression_metrics` for labels and predicted values."""
    label = np.asarray(label, dtype=np.float64)
    prediction = np.asarray(prediction, dtype=np.float64)
    return _bootstrap(lambda i: _regression_scalars(label[i], prediction[i]), len(label), seed)


# ---- files -----------------------------------------------------------------------------------


def statistics(
    label: np.ndarray,
    prediction: np.ndarray,
    evaluation_time: str,
    problem_type: str = "BinaryClassification",
    seed: int = 0,
) -> dict[str, Any]:
    """statistics.json of a model-quality job (NaN stays a float NaN: the file writer spells
    it as Model Monitor does)."""
    label = np.asarray(label)
    dataset: dict[str, Any] = {"item_count": len(label)}
    if problem_type == "BinaryClassification":
        dataset["positives"] = int(np.sum(label))
        metrics = binary_metrics(label, prediction, seed)
    elif problem_type == "MulticlassClassification":
        metrics = multiclass_metrics(label, prediction, seed)
    elif problem_type == "Regression":
        metrics = regression_metrics(label, prediction, seed)
    else:
        raise ValueError(
            f"unknown problem type {problem_type!r} (one of {', '.join(PROBLEM_TYPES)})"
        )
    dataset["evaluation_time"] = evaluation_time
    return {"version": 0.0, "dataset": dataset, METRICS_KEY[problem_type]: metrics}


def problem_type_of(document: dict[str, Any]) -> str:
    """The problem type of a model-quality statistics.json or constraints.json, by its key."""
    for problem_type in PROBLEM_TYPES:
        if METRICS_KEY[problem_type] in document or CONSTRAINTS_KEY[problem_type] in document:
            return problem_type
    keys = ", ".join([*METRICS_KEY.values(), *CONSTRAINTS_KEY.values()])
    raise ValueError(f"not a model-quality statistics or constraints file: none of {keys}")


def _metrics(stats: dict[str, Any]) -> dict[str, Any]:
    return stats[METRICS_KEY[problem_type_of(stats)]]


def metric_values(stats: dict[str, Any]) -> dict[str, float]:
    """Every scalar metric's value, for CloudWatch (which refuses NaN and infinities: those are
    left out)."""
    values = {}
    for name, metric in _metrics(stats).items():
        if isinstance(metric, dict) and "value" in metric:
            value = number(metric["value"])
            if math.isfinite(value):
                values[name] = value
    return values


def _threshold(name: str, value: float, spread: float) -> tuple[float, str]:
    spread = spread if math.isfinite(spread) else 0.0
    if name in _ERRORS:
        relative = (1 + MIN_RELATIVE_MARGIN) ** 2 - 1 if name == "mse" else MIN_RELATIVE_MARGIN
        return value + max(MARGIN_SDS * spread, relative * abs(value)), "GreaterThanThreshold"
    margin = max(MARGIN_SDS * spread, MIN_MARGIN)
    if name in LOWER_IS_BETTER:
        return min(1.0, value + margin), "GreaterThanThreshold"
    if name == "r2":  # unbounded below
        return value - margin, "LessThanThreshold"
    return max(0.0, value - margin), "LessThanThreshold"


def suggest_constraints(
    stats: dict[str, Any], constrained: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """constraints.json for the problem type of the statistics; `constrained` chooses the
    metrics (default DEFAULT_CONSTRAINED_BY_TYPE, those the statistics have). A metric whose
    value is NaN gets none."""
    problem_type = problem_type_of(stats)
    metrics = stats[METRICS_KEY[problem_type]]
    constraints = {}
    for name in constrained or DEFAULT_CONSTRAINED_BY_TYPE[problem_type]:
        if constrained is None and name not in metrics:
            continue
        value = number(metrics[name]["value"])
        if not math.isfinite(value):
            continue
        threshold, comparison = _threshold(
            name, value, number(metrics[name].get("standard_deviation", "NaN"))
        )
        constraints[name] = {"threshold": round(threshold, 6), "comparison_operator": comparison}
    return {"version": 0.0, CONSTRAINTS_KEY[problem_type]: constraints}


def _not_evaluated(problem_type: str, stats: dict[str, Any]) -> str | None:
    if problem_type == "Regression":
        rows = stats.get("dataset", {}).get("item_count")
        if rows is not None and rows < MIN_REGRESSION_ROWS:
            return (
                f"not evaluated: {rows} labelled rows (at least {MIN_REGRESSION_ROWS} are needed)"
            )
        return None
    matrix = stats[METRICS_KEY[problem_type]].get("confusion_matrix")
    if matrix is None:
        return None
    counts = {name: sum(row.values()) for name, row in matrix.items()}
    if problem_type == "BinaryClassification":
        positives, negatives = counts.get("1", 0), counts.get("0", 0)
        if min(positives, negatives) < MIN_CLASS_COUNT:
            return (
                f"not evaluated: {positives} labelled positives and {negatives} negatives "
                f"(at least {MIN_CLASS_COUNT} of each are needed)"
            )
        return None
    held = {name: count for name, count in counts.items() if count}
    few = {name: count for name, count in held.items() if count < MIN_CLASS_COUNT}
    if few or len(held) < 2:
        listed = ", ".join(f"{count} of class {name}" for name, count in held.items())
        return (
            f"not evaluated: {listed or 'no'} labelled rows (at least {MIN_CLASS_COUNT} of each "
            "class present, and two classes, are needed)"
        )
    return None


def violations(
    stats: dict[str, Any], constraints: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """(violations as constraint_violations.json lists them, why the window was not evaluated
    or None). ValueError when the files do not go together or a constraint cannot be read."""
    problem_type = problem_type_of(constraints)
    if METRICS_KEY[problem_type] not in stats:
        raise ValueError(
            f"the constraints are {problem_type} ({CONSTRAINTS_KEY[problem_type]}) but the "
            f"statistics have no {METRICS_KEY[problem_type]}"
        )
    reason = _not_evaluated(problem_type, stats)
    if reason:
        return [], reason
    metrics = stats[METRICS_KEY[problem_type]]
    found = []
    for name, constraint in constraints[CONSTRAINTS_KEY[problem_type]].items():
        comparison = constraint.get("comparison_operator")
        if comparison not in COMPARISON_OPERATORS:
            raise ValueError(
                f"constraint {name}: comparison_operator {comparison!r} is not one of "
                f"{', '.join(COMPARISON_OPERATORS)}"
            )
        if name not in metrics:
            raise ValueError(
                f"constraint {name}: the {problem_type} statistics have no metric {name!r}"
            )
        value = number(metrics[name]["value"])
        spread = number(metrics[name].get("standard_deviation", "NaN"))
        threshold = number(constraint["threshold"])
        # Beyond the threshold by more than the window's own noise (value moved toward it).
        shift = spread if math.isfinite(spread) else 0.0
        toward = value + shift if comparison.startswith("Less") else value - shift
        if COMPARISON_OPERATORS[comparison](toward, threshold):  # False for NaN
            found.append(
                {
                    "constraint_check_type": comparison,
                    "description": f"Metric {name} with {_text(value)} +/- {_text(spread)} "
                    f"was {comparison} '{_text(threshold)}'",
                    "metric_name": name,
                }
            )
    return found, None

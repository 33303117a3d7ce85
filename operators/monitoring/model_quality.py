"""Model quality for a binary classifier, in Model Monitor's formats.

- `metrics(label, score)` → the `binary_classification_metrics` of statistics.json: confusion
  matrix, recall, precision, accuracy, f0_5, f1, f2, auc, true/false positive/negative rates,
  ROC and precision-recall curves, and each metric's best-constant-classifier baseline. Every
  scalar metric comes with a bootstrap standard deviation.
- `suggest_constraints(stats)` → `binary_classification_constraints`: a threshold and a
  comparison operator per metric. A threshold sits 3 standard deviations (or 0.1, whichever is
  wider) on the bad side of the baseline value: an hour of ordinary traffic has its own sampling
  noise (recall over 120 positives has a standard deviation of about 0.04), and a threshold at
  the baseline value itself, as Model Monitor suggests, fires on it.
  Only metrics that do not depend on the share of positives are constrained by default (auc,
  recall, the four rates): precision, accuracy and the F-scores move with the prevalence of the
  traffic, not only with the model's quality.
- `violations(stats, constraints)`: each constrained metric on the wrong side of its threshold by
  more than the metric's own bootstrap standard deviation in the window. The baseline's margin
  covers the baseline's uncertainty; this covers the window's (measured: on clean traffic with 60
  positives, recall varied from 0.62 to 0.70 against a threshold of 0.62). A window with fewer
  than MIN_CLASS_COUNT labelled positives or negatives is not evaluated (and reported as such).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

THRESHOLD = 0.5
BOOTSTRAP_SAMPLES = 30
CURVE_POINTS = 101
MIN_CLASS_COUNT = 30
MARGIN_SDS = 3.0
MIN_MARGIN = 0.1
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


def _f_beta(precision: float, recall: float, beta: float) -> float:
    denominator = beta**2 * precision + recall
    return (1 + beta**2) * precision * recall / denominator if denominator else 0.0


def _scalars(label: np.ndarray, predicted: np.ndarray, score: np.ndarray) -> dict[str, float]:
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


def _best_constant(prevalence: float) -> dict[str, float]:
    """Each metric's value for the better of the two constant classifiers (all 0, all 1)."""
    p = prevalence
    return {
        "recall": 1.0,  # all 1
        "precision": p,  # all 1 (all 0 has no positive predictions)
        "accuracy": max(p, 1 - p),
        "f0_5": _f_beta(p, 1.0, 0.5),
        "f1": _f_beta(p, 1.0, 1.0),
        "f2": _f_beta(p, 1.0, 2.0),
        "auc": 0.5,
        "true_positive_rate": 1.0,
        "true_negative_rate": 1.0,  # all 0
        "false_positive_rate": 0.0,  # all 0
        "false_negative_rate": 0.0,  # all 1
    }


def _curve(xs: np.ndarray, ys: np.ndarray) -> tuple[list[float], list[float]]:
    if len(xs) > CURVE_POINTS:
        index = np.unique(np.linspace(0, len(xs) - 1, CURVE_POINTS).round().astype(int))
        xs, ys = xs[index], ys[index]
    return [round(float(x), 6) for x in xs], [round(float(y), 6) for y in ys]


def metrics(label: np.ndarray, score: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """`binary_classification_metrics` for labels (0/1) and scores (probability of 1)."""
    label = np.asarray(label, dtype=np.int8)
    score = np.asarray(score, dtype=np.float64)
    predicted = (score >= THRESHOLD).astype(np.int8)
    values = _scalars(label, predicted, score)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(BOOTSTRAP_SAMPLES):
        index = rng.integers(0, len(label), len(label))
        samples.append(_scalars(label[index], predicted[index], score[index]))
    result: dict[str, Any] = {
        "confusion_matrix": {
            str(actual): {
                str(p): int(np.count_nonzero((label == actual) & (predicted == p))) for p in (0, 1)
            }
            for actual in (0, 1)
        }
    }
    for name, value in values.items():
        spread = np.nanstd([s[name] for s in samples]) if len(label) > 1 else float("nan")
        result[name] = {"value": value, "standard_deviation": float(spread)}
    prevalence = float(label.mean()) if len(label) else 0.0
    for name, value in _best_constant(prevalence).items():
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


def statistics(label: np.ndarray, score: np.ndarray, evaluation_time: str) -> dict[str, Any]:
    return {
        "version": 0.0,
        "dataset": {
            "item_count": len(label),
            "positives": int(np.sum(label)),
            "evaluation_time": evaluation_time,
        },
        "binary_classification_metrics": metrics(label, score),
    }


def suggest_constraints(
    stats: dict[str, Any], constrained: tuple[str, ...] = DEFAULT_CONSTRAINED
) -> dict[str, Any]:
    metrics_ = stats["binary_classification_metrics"]
    constraints = {}
    for name in constrained:
        value = metrics_[name]["value"]
        spread = metrics_[name]["standard_deviation"]
        margin = max(MARGIN_SDS * (spread if np.isfinite(spread) else 0.0), MIN_MARGIN)
        if name in LOWER_IS_BETTER:
            constraints[name] = {
                "threshold": round(min(1.0, value + margin), 6),
                "comparison_operator": "GreaterThanThreshold",
            }
        else:
            constraints[name] = {
                "threshold": round(max(0.0, value - margin), 6),
                "comparison_operator": "LessThanThreshold",
            }
    return {"version": 0.0, "binary_classification_constraints": constraints}


def violations(
    stats: dict[str, Any], constraints: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """(violations, why the window was not evaluated or None)."""
    matrix = stats["binary_classification_metrics"]["confusion_matrix"]
    negatives = sum(matrix["0"].values())
    positives = sum(matrix["1"].values())
    if min(positives, negatives) < MIN_CLASS_COUNT:
        return [], (
            f"not evaluated: {positives} labelled positives and {negatives} negatives "
            f"(at least {MIN_CLASS_COUNT} of each are needed)"
        )
    found = []
    for name, constraint in constraints["binary_classification_constraints"].items():
        value = stats["binary_classification_metrics"][name]["value"]
        spread = stats["binary_classification_metrics"][name]["standard_deviation"]
        spread = spread if np.isfinite(spread) else 0.0
        threshold = constraint["threshold"]
        operator = constraint["comparison_operator"]
        if (operator == "LessThanThreshold" and value + spread < threshold) or (
            operator == "GreaterThanThreshold" and value - spread > threshold
        ):
            found.append(
                {
                    "constraint_check_type": operator,
                    "description": f"Metric {name} with {value:.4f} +/- "
                    f"{stats['binary_classification_metrics'][name]['standard_deviation']:.4f} "
                    f"was {operator} '{threshold}'",
                    "metric_name": name,
                }
            )
    return found, None

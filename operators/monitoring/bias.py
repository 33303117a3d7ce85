"""Bias for one facet with Clarify's metrics, names and analysis.json layout, and bias drift as
Model Monitor's bias drift monitor reports it.

A facet is a column and the group (d) it selects, as in Clarify's analysis config: for a
categorical facet one value or a list of values (d is the rows equal to one of them), for a
numeric facet a threshold (d is the rows above it). The other rows are group a. On the
command line a facet is COLUMN=VALUE (several categorical values comma-separated); the default,
`Amount=200`, asks whether the model treats the largest ~5% of transactions differently (the
credit-card data has no demographic column). The label's positive class is 1.

Metrics, as smclarify defines them (n = rows, q = share of positives, 1/0 = positive/negative,
^ = predicted, x/0 is ±Infinity and 0/0 is 0, as Clarify divides):
- pre-training, from the labels: CI = (n_a - n_d) / n; DPL = q_a - q_d; KL, JS, LP (L2), TVD
  (half L1) and KS (L-infinity) between the label distributions of a and d, over the label
  values both groups have (Clarify's alignment; a value only one group has is left out).
- post-training, from labels and predictions: DPPL = q^_a - q^_d; DI = q^_d / q^_a;
  AD = accuracy_a - accuracy_d; RD = recall_a - recall_d; SD = specificity_d - specificity_a;
  DAR = precision_a - precision_d (TP / n^1); DRR = (TN / n^0)_d - (TN / n^0)_a;
  DCA = (n1 / n^1)_a - (n1 / n^1)_d; DCR = (n0 / n^0)_d - (n0 / n^0)_a;
  TE = (FN / FP)_d - (FN / FP)_a; GE = generalized entropy index (alpha 2) of the benefits
  b = y^ - y + 1 over all rows (not per group, as Clarify).
Left out: CDDL and CDDPL (they need a group variable, e.g. a zip code, the data has none)
and FT, the flip test (it needs the features and a k-NN model, not only labels).

Drift: the bias drift monitor's constraints are the baseline's analysis.json, and a value is a
violation when it is worse than the baseline's: farther from the metric's fair value (1 for
DI, 0 for the others) than the baseline value is (the docs' example: baseline DPPL 0.2, a
current 0.1 passes and -0.3 fails). Clarify also widens the current value into a bootstrap
confidence interval before comparing; this project compares the value itself, so a small
window fires sooner. Without a baseline (or without the metric in it) a value is checked
against a fixed allowed range: DI within [0.8, 1.25] (the four-fifths rule), DPPL within
[-0.1, 0.1] (the docs' example range).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from operators.monitoring import files

DEFAULT_FACET = "Amount=200"
POSITIVE_LABEL = "1"
PRE_TRAINING = "pre_training_bias_metrics"
POST_TRAINING = "post_training_bias_metrics"
DESCRIPTIONS = {
    "CI": "Class Imbalance (CI)",
    "DPL": "Difference in Positive Proportions in Labels (DPL)",
    "KL": "Kullback-Liebler Divergence (KL)",
    "JS": "Jensen-Shannon Divergence (JS)",
    "LP": "L-p Norm (LP)",
    "TVD": "Total Variation Distance (TVD)",
    "KS": "Kolmogorov-Smirnov Distance (KS)",
    "AD": "Accuracy Difference (AD)",
    "DAR": "Difference in Acceptance Rates (DAR)",
    "DCA": "Difference in Conditional Acceptance (DCA)",
    "DCR": "Difference in Conditional Rejection (DCR)",
    "DI": "Disparate Impact (DI)",
    "DPPL": "Difference in Positive Proportions in Predicted Labels (DPPL)",
    "DRR": "Difference in Rejection Rates (DRR)",
    "GE": "Generalized Entropy (GE)",
    "RD": "Recall Difference (RD)",
    "SD": "Specificity Difference (SD)",
    "TE": "Treatment Equality (TE)",
}
FAIR_VALUE = {"DI": 1.0}
DEFAULT_RANGES = {"DI": (0.8, 1.25), "DPPL": (-0.1, 0.1)}


@dataclass(frozen=True)
class Facet:
    """A facet column and the group it selects: a threshold when numeric (d = rows above it),
    else the values d has (one, or a list as in Clarify's config)."""

    column: str
    value: float | str | tuple[str, ...]
    numeric: bool

    def __post_init__(self) -> None:
        if self.numeric:
            object.__setattr__(self, "value", float(self.value))  # type: ignore[arg-type]
        elif isinstance(self.value, (list, tuple)):
            object.__setattr__(self, "value", tuple(str(v) for v in self.value))
        else:
            object.__setattr__(self, "value", (str(self.value),))

    @property
    def value_or_threshold(self) -> str:
        """The facet's value as Clarify's config and violations write it ("200", "F,M")."""
        if self.numeric:
            threshold = float(self.value)  # type: ignore[arg-type]
            return str(int(threshold)) if threshold.is_integer() else repr(threshold)
        return ",".join(self.value)  # type: ignore[arg-type]


def parse_facet(text: str, numeric: bool = True) -> Facet:
    """COLUMN=VALUE: a threshold when numeric, else one value or several comma-separated."""
    column, sep, value = text.partition("=")
    column, value = column.strip(), value.strip()
    if not sep or not column or not value:
        raise ValueError(
            f"{text!r}: expected COLUMN=VALUE, e.g. {DEFAULT_FACET} (a numeric threshold) or "
            "Gender=F (a category)"
        )
    if not numeric:
        return Facet(column, tuple(v.strip() for v in value.split(",")), numeric=False)
    try:
        threshold = float(value)
    except ValueError:
        raise ValueError(
            f"{text!r}: a numeric facet's VALUE is a threshold (a number), e.g. {DEFAULT_FACET}"
        ) from None
    if not np.isfinite(threshold):
        raise ValueError(f"{text!r}: the threshold must be a finite number")
    return Facet(column, threshold, numeric=True)


def in_facet(facet: Facet, values: np.ndarray) -> np.ndarray:
    """The rows of group d."""
    values = np.asarray(values)
    if facet.numeric:
        return values.astype(float) > facet.value
    if np.issubdtype(values.dtype, np.number):
        try:
            wanted = np.array([float(v) for v in facet.value])  # type: ignore[union-attr]
        except ValueError:
            return np.zeros(len(values), dtype=bool)
        return np.isin(values.astype(float), wanted)
    return np.isin(values.astype(str), np.array(facet.value))


def _divide(a: float, b: float) -> float:
    """Clarify's division: 0/0 is 0, x/0 is ±Infinity."""
    if b == 0:
        return 0.0 if a == 0 else float(np.copysign(np.inf, a))
    return a / b


def _difference(x: float, y: float) -> float:
    """x - y, 0 when both are Infinity (both rates undefined alike), as Clarify does."""
    return 0.0 if x == y == np.inf else x - y


def _groups(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(mask, dtype=bool)
    if not d.any():
        raise ValueError("the facet selects no rows: group d is empty")
    if d.all():
        raise ValueError("the facet selects every row: the other group (a) is empty")
    return ~d, d


def _positive(label: np.ndarray) -> np.ndarray:
    return np.asarray(label) == 1


def _aligned_distributions(a: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two groups' label distributions over the values both have (as smclarify aligns
    them: the shares are not renormalized)."""
    values = np.union1d(a, d)
    pa = np.array([np.mean(a == v) for v in values])
    pd = np.array([np.mean(d == v) for v in values])
    both = (pa > 0) & (pd > 0)
    return pa[both], pd[both]


def pre_training(mask: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """Clarify's pre-training metrics of group d (mask) against the rest, from the labels."""
    a, d = _groups(mask)
    positive = _positive(label)
    n_a, n_d = int(a.sum()), int(d.sum())
    pa, pd = _aligned_distributions(positive[a], positive[d])
    middle = (pa + pd) / 2
    return {
        "CI": (n_a - n_d) / (n_a + n_d),
        "DPL": positive[a].mean() - positive[d].mean(),
        "KL": float(np.sum(pa * np.log(pa / pd))),
        "JS": float(0.5 * (np.sum(pa * np.log(pa / middle)) + np.sum(pd * np.log(pd / middle)))),
        "LP": float(np.linalg.norm(pa - pd, 2)),
        "TVD": float(0.5 * np.linalg.norm(pa - pd, 1)),
        "KS": float(np.linalg.norm(pa - pd, np.inf)),
    }


def _generalized_entropy(positive: np.ndarray, predicted: np.ndarray, alpha: float = 2) -> float:
    benefit = predicted.astype(int) - positive.astype(int) + 1
    mean = benefit.mean()
    if mean == 0:  # every prediction a false negative: the index is undefined
        return float("nan")
    return float(((benefit / mean) ** alpha - 1).sum() / (len(benefit) * alpha * (alpha - 1)))


def post_training(mask: np.ndarray, label: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Clarify's post-training metrics of group d (mask) against the rest, from the labels and
    the predicted labels (1 = positive)."""
    a, d = _groups(mask)
    y, p = _positive(label), _positive(predicted)
    rates = {}
    for name, group in (("a", a), ("d", d)):
        yg, pg = y[group], p[group]
        tp, fp = int((yg & pg).sum()), int((~yg & pg).sum())
        fn, tn = int((yg & ~pg).sum()), int((~yg & ~pg).sum())
        rates[name] = {
            "q": pg.mean(),
            "accuracy": _divide(tp + tn, len(yg)),
            "recall": _divide(tp, tp + fn),
            "specificity": _divide(tn, tn + fp),
            "acceptance": _divide(tp, tp + fp),
            "rejection": _divide(tn, tn + fn),
            "conditional_acceptance": _divide(tp + fn, tp + fp),
            "conditional_rejection": _divide(tn + fp, tn + fn),
            "treatment": _divide(fn, fp),
        }
    ra, rd = rates["a"], rates["d"]
    return {
        "AD": _difference(ra["accuracy"], rd["accuracy"]),
        "DAR": _difference(ra["acceptance"], rd["acceptance"]),
        "DCA": _difference(ra["conditional_acceptance"], rd["conditional_acceptance"]),
        "DCR": _difference(rd["conditional_rejection"], ra["conditional_rejection"]),
        "DI": _divide(rd["q"], ra["q"]),
        "DPPL": float(ra["q"] - rd["q"]),
        "DRR": _difference(rd["rejection"], ra["rejection"]),
        "GE": _generalized_entropy(y, p),
        "RD": _difference(ra["recall"], rd["recall"]),
        "SD": _difference(rd["specificity"], ra["specificity"]),
        "TE": _difference(rd["treatment"], ra["treatment"]),
    }


def _section(facet: Facet, values: dict[str, float], label_name: str) -> dict[str, Any]:
    return {
        "label": label_name,
        "label_value_or_threshold": POSITIVE_LABEL,
        "facets": {
            facet.column: [
                {
                    "value_or_threshold": facet.value_or_threshold,
                    "metrics": [
                        {"name": name, "description": DESCRIPTIONS[name], "value": values[name]}
                        for name in sorted(values)
                    ],
                }
            ]
        },
    }


def analysis(
    facet: Facet,
    pre: dict[str, float] | None,
    post: dict[str, float] | None,
    label_name: str,
) -> dict[str, Any]:
    """Clarify's bias analysis.json (a stage without metrics is left out, as Clarify does)."""
    document: dict[str, Any] = {"version": "1.0"}
    if pre:
        document[PRE_TRAINING] = _section(facet, pre, label_name)
    if post:
        document[POST_TRAINING] = _section(facet, post, label_name)
    return document


def metrics_of(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, float]]:
    """(facet column, value_or_threshold) → metric name → value, both stages merged, from a
    bias analysis.json (Clarify's or ours)."""
    found: dict[tuple[str, str], dict[str, float]] = {}
    for stage in (PRE_TRAINING, POST_TRAINING):
        for column, entries in document.get(stage, {}).get("facets", {}).items():
            for entry in entries:
                metrics = found.setdefault((column, str(entry["value_or_threshold"])), {})
                for metric in entry["metrics"]:
                    # A metric Clarify could not compute has an "error" and no value.
                    value = metric.get("value")
                    metrics[metric["name"]] = files.number(value) if value is not None else np.nan
    if not found:
        raise ValueError(f"no facet metrics under {PRE_TRAINING} or {POST_TRAINING}")
    return found


def _same_facet(facet: Facet, column: str, value_or_threshold: str) -> bool:
    """Whether an analysis entry is the facet's: its value, or for a numeric facet Clarify's
    interval "(threshold, max]"."""
    if column != facet.column:
        return False
    if value_or_threshold == facet.value_or_threshold:
        return True
    if facet.numeric and value_or_threshold.startswith("("):
        lower = value_or_threshold[1:].partition(",")[0]
        try:
            return float(lower) == facet.value
        except ValueError:
            return False
    return False


def baseline_metrics(facet: Facet, baseline: dict[str, Any]) -> dict[str, float]:
    """The baseline analysis' metrics for the facet, {} when it has none for it."""
    for (column, value), metrics in metrics_of(baseline).items():
        if _same_facet(facet, column, value):
            return metrics
    return {}


def _worse(name: str, value: float, baseline: float) -> bool:
    fair = FAIR_VALUE.get(name, 0.0)
    return abs(value - fair) > abs(baseline - fair)


def _outside_default_range(name: str, value: float) -> bool:
    low, high = DEFAULT_RANGES[name]
    return not low <= value <= high


def violations(
    facet: Facet, values: dict[str, float], baseline: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """A bias_drift_check violation for every metric worse than the baseline analysis' value
    (without one, outside DEFAULT_RANGES). NaN values are not judged."""
    reference = baseline_metrics(facet, baseline) if baseline is not None else {}
    found = []
    for name in sorted(values):
        value = values[name]
        if np.isnan(value):
            continue
        if name in reference and not np.isnan(reference[name]):
            fires = _worse(name, value, reference[name])
        elif name in DEFAULT_RANGES:
            fires = _outside_default_range(name, value)
        else:
            continue
        if fires:
            found.append(
                {
                    "facet": facet.column,
                    "facet_value": facet.value_or_threshold,
                    "metric_name": name,
                    "constraint_check_type": "bias_drift_check",
                    "description": f"Value {value} does not meet the constraint requirement",
                }
            )
    return found

"""Post-training bias for one facet, with Clarify's metric names and analysis.json layout.

A facet is `COLUMN=VALUE`. For a numeric column VALUE is a threshold and the facet group (d) is
the rows with COLUMN > VALUE, as Clarify treats a continuous facet; the rest are the other
group (a). The default facet, `Amount=200`, asks whether the model treats the largest ~5% of
transactions differently (the credit-card data has no demographic column).

Metrics (q = share of predicted positives, labels from ground truth):
- DPPL  difference in positive proportions in predicted labels: q_a - q_d
- DI    disparate impact: q_d / q_a
- AD    accuracy difference: accuracy_a - accuracy_d
- RD    recall difference: recall_a - recall_d
A violation is DI outside [0.8, 1.25] (the four-fifths rule) or |DPPL| > 0.1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_FACET = "Amount=200"
DI_RANGE = (0.8, 1.25)
DPPL_LIMIT = 0.1
DESCRIPTIONS = {
    "DPPL": "Difference in positive proportions in predicted labels (DPPL)",
    "DI": "Disparate Impact (DI)",
    "AD": "Accuracy Difference (AD)",
    "RD": "Recall Difference (RD)",
}


def parse_facet(text: str) -> tuple[str, float]:
    column, sep, value = text.partition("=")
    try:
        threshold = float(value)
    except ValueError:
        threshold = None
    if not sep or not column or threshold is None:
        raise ValueError(f"{text!r}: expected COLUMN=NUMBER, e.g. {DEFAULT_FACET}")
    return column, threshold


def _rate(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def metrics(
    facet_values: np.ndarray, label: np.ndarray, predicted: np.ndarray, threshold: float
) -> dict[str, Any]:
    in_facet = facet_values > threshold
    groups = {}
    for name, mask in (("a", ~in_facet), ("d", in_facet)):
        y, p = label[mask], predicted[mask]
        groups[name] = {
            "rows": int(mask.sum()),
            "q": _rate(int(p.sum()), int(mask.sum())),
            "accuracy": _rate(int((y == p).sum()), int(mask.sum())),
            "recall": _rate(int(((y == 1) & (p == 1)).sum()), int((y == 1).sum())),
        }
    a, d = groups["a"], groups["d"]
    values = {
        "DPPL": a["q"] - d["q"],
        "DI": d["q"] / a["q"] if a["q"] else float("nan"),
        "AD": a["accuracy"] - d["accuracy"],
        "RD": a["recall"] - d["recall"],
    }
    return {"groups": groups, "values": values}


def analysis(column: str, threshold: float, result: dict[str, Any], label: str) -> dict[str, Any]:
    return {
        "version": "1.0",
        "post_training_bias_metrics": {
            "label": label,
            "label_value_or_threshold": "1",
            "facets": {
                column: [
                    {
                        "value_or_threshold": f"{threshold:g}",
                        "groups": result["groups"],
                        "metrics": [
                            {"name": name, "description": DESCRIPTIONS[name], "value": value}
                            for name, value in result["values"].items()
                        ],
                    }
                ]
            },
        },
    }


def violations(column: str, threshold: float, values: dict[str, float]) -> list[dict[str, Any]]:
    found = []
    di, dppl = values["DI"], values["DPPL"]
    if np.isfinite(di) and not DI_RANGE[0] <= di <= DI_RANGE[1]:
        found.append(
            {
                "facet": column,
                "facet_threshold": threshold,
                "metric_name": "DI",
                "constraint_check_type": "bias_drift_check",
                "description": f"DI {di:.4f} is outside [{DI_RANGE[0]}, {DI_RANGE[1]}]",
            }
        )
    if np.isfinite(dppl) and abs(dppl) > DPPL_LIMIT:
        found.append(
            {
                "facet": column,
                "facet_threshold": threshold,
                "metric_name": "DPPL",
                "constraint_check_type": "bias_drift_check",
                "description": f"|DPPL| {abs(dppl):.4f} exceeds {DPPL_LIMIT}",
            }
        )
    return found

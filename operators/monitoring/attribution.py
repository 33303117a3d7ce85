"""Feature attribution and its drift, in the files Clarify and Model Monitor's explainability
monitor read and write.

What the values are: exact TreeSHAP values from XGBoost's own `pred_contribs`, in the model's
margin (log-odds for binary:logistic); a feature's global attribution is its mean |SHAP| over
the rows (Clarify's default aggregation, mean_abs), and a label's expected_value is TreeSHAP's
bias term, the same for every row. Clarify estimates SHAP values with Kernel SHAP instead.
The analysis.json still files them under "kernel_shap", the key Clarify's readers and the
explainability monitor look for, and says what they are in a top-level "attribution_method":
"tree_shap". A model with one output has one label, "label0"; a multi-class (multi:softprob)
model has one per class, label0..labelK-1, as Clarify names outputs without label_headers.

Reading: any explainer key (kernel_shap, or whichever single one a file has) and every label.

Drift (as the explainability monitor does it): for each label of the baseline, nDCG of the
current ranking of features against the baseline's, with the baseline's attributions as
relevance (scikit-learn's ndcg_score, which the docs name): nDCG = DCG(current order) /
DCG(baseline order), DCG(order) = sum_i |baseline[f_i]| / log2(i + 1). 1.0 is the same order;
a score below the threshold is a violation, worded as the docs' example ("Feature attribution
drift 0.76 exceeds threshold 0.9": the score falls below it). With many features of similar
weight nDCG moves little: even the top three features swapped with the bottom three measured
0.9997 on the 30-feature sample model.

Constraints: Clarify's explainability baseline constraints file is the baseline's analysis.json
itself (the SageMaker SDK's suggested_constraints() returns it), and the monitor's threshold is
fixed at 0.9. `constraints()` writes that analysis with the threshold beside it
("ndcg_threshold", a field Clarify ignores), so one file serves both; `threshold_of()` reads
that field, or the project's older layout (explanations.tree_shap.label0.ndcg_threshold), else
0.9.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.metrics import ndcg_score

MAX_ROWS = 10_000
NDCG_THRESHOLD = 0.9
EXPLAINER = "kernel_shap"
METHOD = "tree_shap"
THRESHOLD_FIELD = "ndcg_threshold"


def _contributions(booster: xgb.Booster, features: np.ndarray) -> np.ndarray:
    """(rows, outputs, features + 1): SHAP values with the bias term last, one output for a
    single-output model."""
    contributions = booster.predict(xgb.DMatrix(features), pred_contribs=True)
    return contributions[:, np.newaxis, :] if contributions.ndim == 2 else contributions


def _label(output: int) -> str:
    return f"label{output}"


def global_attributions(
    booster: xgb.Booster, features: np.ndarray, names: list[str], seed: int = 0
) -> dict[str, dict[str, float]]:
    """label → feature → mean |SHAP| over (a sample of at most MAX_ROWS of) the rows."""
    if len(features) > MAX_ROWS:
        rows = np.random.default_rng(seed).choice(len(features), MAX_ROWS, replace=False)
        features = features[np.sort(rows)]
    mean_abs = np.abs(_contributions(booster, features)[:, :, :-1]).mean(axis=0)
    return {
        _label(output): {name: float(v) for name, v in zip(names, values, strict=True)}
        for output, values in enumerate(mean_abs)
    }


def expected_values(booster: xgb.Booster, features: np.ndarray) -> dict[str, float]:
    """label → TreeSHAP's expected value (its bias term: the same for every row, so one row
    is enough)."""
    bias = _contributions(booster, features[:1])[0, :, -1]
    return {_label(output): float(v) for output, v in enumerate(bias)}


def analysis(
    attributions: dict[str, dict[str, float]],
    rows: int,
    expected_value: dict[str, float],
) -> dict[str, Any]:
    """Clarify's analysis.json for global explanations of every label."""
    return {
        "version": "1.0",
        "attribution_method": METHOD,
        "attribution_rows": rows,
        "explanations": {
            EXPLAINER: {
                label: {
                    "global_shap_values": dict(values),
                    "expected_value": expected_value[label],
                }
                for label, values in attributions.items()
            }
        },
    }


def _explainer(document: dict[str, Any]) -> dict[str, Any]:
    """The label → explanation part of an analysis.json, whatever its explainer's key
    (explanations also holds "pdp", partial dependence plots, which are not an explainer)."""
    explanations = document["explanations"]
    if not isinstance(explanations, dict):
        raise TypeError("'explanations' is not an object")
    if EXPLAINER in explanations:
        return explanations[EXPLAINER]
    explainers = [
        key
        for key, value in explanations.items()
        if isinstance(value, dict)
        and any(isinstance(v, dict) and "global_shap_values" in v for v in value.values())
    ]
    if len(explainers) != 1:
        raise ValueError(
            f"expected one explainer with global_shap_values under 'explanations', found "
            f"{explainers or 'none'} (keys: {sorted(explanations)})"
        )
    return explanations[explainers[0]]


def attributions_of(document: dict[str, Any]) -> dict[str, dict[str, float]]:
    """label → feature → global attribution, from an analysis.json (Clarify's or ours)."""
    labels = {
        label: {name: float(v) for name, v in explanation["global_shap_values"].items()}
        for label, explanation in _explainer(document).items()
        if isinstance(explanation, dict) and "global_shap_values" in explanation
    }
    if not labels:
        raise ValueError("no label with global_shap_values in 'explanations'")
    return labels


def threshold_of(constraints_document: dict[str, Any]) -> float:
    """The nDCG threshold a constraints document sets; Clarify's fixed 0.9 when it sets none."""
    if THRESHOLD_FIELD in constraints_document:
        return float(constraints_document[THRESHOLD_FIELD])
    older = constraints_document.get("explanations", {}).get(METHOD, {}).get("label0", {})
    return float(older.get(THRESHOLD_FIELD, NDCG_THRESHOLD))


def constraints(
    threshold: float = NDCG_THRESHOLD, baseline: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The explainability baseline constraints: the baseline analysis.json (as Clarify's are),
    with the threshold beside it."""
    document = copy.deepcopy(baseline) if baseline is not None else {"version": "1.0"}
    document[THRESHOLD_FIELD] = threshold
    return document


def ndcg(baseline: dict[str, float], current: dict[str, float]) -> float:
    """nDCG of the current ranking over the baseline's features (a feature the current
    attributions lack counts as 0), with |baseline| as relevance."""
    names = sorted(baseline)
    relevance = np.abs(np.array([[baseline[f] for f in names]]))
    if not relevance.any():
        return 1.0
    score = np.abs(np.array([[current.get(f, 0.0) for f in names]]))
    return float(ndcg_score(relevance, score))


def ndcg_by_label(
    baseline: dict[str, dict[str, float]], current: dict[str, dict[str, float]]
) -> dict[str, float]:
    """label → nDCG, for every label of the baseline."""
    missing = sorted(set(baseline) - set(current))
    if missing:
        raise ValueError(
            f"the current attributions have no {', '.join(missing)} (they have "
            f"{', '.join(sorted(current)) or 'none'}): the model's outputs differ from the "
            "baseline's"
        )
    return {label: ndcg(values, current[label]) for label, values in baseline.items()}


def violations(scores: dict[str, float], threshold: float) -> list[dict[str, Any]]:
    """A feature_attribution_drift_check violation for every label scoring below threshold."""
    return [
        {
            "label": label,
            "metric_name": "shap",
            "constraint_check_type": "feature_attribution_drift_check",
            "description": f"Feature attribution drift {score} exceeds threshold {threshold}",
        }
        for label, score in scores.items()
        if score < threshold
    ]

"""Baselines: the documents every check compares with, computed from a training dataset or
brought as Model Monitor and Clarify wrote them.

A baseline is a set of documents by name (BASELINE_FILES), plus an optional manifest (what
the project records about how it computed them) and the model the attributions come from:
- data-quality/{statistics,constraints}.json: Model Monitor's suggest-baseline output, as is
- model-quality/{statistics,constraints}.json: any problem type Model Monitor has
- attribution/{analysis,constraints}.json: Clarify's explainability analysis.json
- bias/analysis.json: Clarify's bias analysis.json (pre- and post-training metrics)
- prediction-drift/statistics.json: data-quality statistics of the model's outputs on the
  baseline data (Model Monitor never had it; the prediction-drift check compares with it)

Nothing but data-quality/statistics.json is required: features, their types, the label and the
problem type are read from the documents themselves when there is no manifest, so a baseline
Model Monitor wrote is usable without a project-only file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import xgboost as xgb

from operators.errors import ConfigError
from operators.monitoring import attribution, bias, data_quality, datasets, model_quality
from serving.artifact import load_booster

DATA_STATISTICS = "data-quality/statistics.json"
DATA_CONSTRAINTS = "data-quality/constraints.json"
MODEL_STATISTICS = "model-quality/statistics.json"
MODEL_CONSTRAINTS = "model-quality/constraints.json"
ATTRIBUTION = "attribution/analysis.json"
ATTRIBUTION_CONSTRAINTS = "attribution/constraints.json"
BIAS = "bias/analysis.json"
PREDICTION_STATISTICS = "prediction-drift/statistics.json"
PREDICTION_CONSTRAINTS = "prediction-drift/constraints.json"
BASELINE_FILES = (
    DATA_STATISTICS,
    DATA_CONSTRAINTS,
    MODEL_STATISTICS,
    MODEL_CONSTRAINTS,
    ATTRIBUTION,
    ATTRIBUTION_CONSTRAINTS,
    BIAS,
    PREDICTION_STATISTICS,
    PREDICTION_CONSTRAINTS,
)
MANIFEST = "manifest.json"

# XGBoost objectives by the problem type Model Monitor names.
_OBJECTIVES = {
    "binary:": "BinaryClassification",
    "multi:": "MulticlassClassification",
    "reg:": "Regression",
    "count:": "Regression",
    "survival:": "Regression",
    "rank:": "Regression",
}


@dataclass
class Baseline:
    documents: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)
    model_bytes: bytes | None = None

    def _doc(self, name: str) -> Any:
        return self.documents.get(name)

    @property
    def data_statistics(self) -> dict[str, Any]:
        return self.documents[DATA_STATISTICS]

    @property
    def data_constraints(self) -> dict[str, Any]:
        """The constraints as given; suggested from the statistics when there are none."""
        found = self._doc(DATA_CONSTRAINTS)
        if found is None:
            found = data_quality.suggest_constraints(self.data_statistics)
            self.documents[DATA_CONSTRAINTS] = found
        return found

    @property
    def model_statistics(self) -> dict[str, Any] | None:
        return self._doc(MODEL_STATISTICS)

    @property
    def model_constraints(self) -> dict[str, Any] | None:
        return self._doc(MODEL_CONSTRAINTS)

    @property
    def attribution(self) -> dict[str, Any] | None:
        return self._doc(ATTRIBUTION)

    @property
    def attribution_constraints(self) -> dict[str, Any] | None:
        return self._doc(ATTRIBUTION_CONSTRAINTS)

    @property
    def bias(self) -> dict[str, Any] | None:
        return self._doc(BIAS)

    @property
    def prediction_statistics(self) -> dict[str, Any] | None:
        return self._doc(PREDICTION_STATISTICS)

    @property
    def prediction_constraints(self) -> dict[str, Any] | None:
        found = self._doc(PREDICTION_CONSTRAINTS)
        if found is None and self.prediction_statistics is not None:
            found = data_quality.suggest_constraints(self.prediction_statistics)
        return found

    @property
    def features(self) -> list[str]:
        return self.manifest.get("features") or data_quality.features_of(self.data_statistics)

    @property
    def types(self) -> dict[str, str]:
        """Feature → inferred_type, as the constraints say (a user may have edited them)."""
        return {
            **data_quality.types_of(self.data_statistics),
            **data_quality.types_of(self.data_constraints),
        }

    @property
    def label_name(self) -> str:
        return self.manifest.get("label", "")

    @property
    def problem_type(self) -> str | None:
        if self.manifest.get("problem_type"):
            return self.manifest["problem_type"]
        for document in (self.model_constraints, self.model_statistics):
            if document is not None:
                return model_quality.problem_type_of(document)
        return None

    def attributions(self) -> dict[str, dict[str, float]] | None:
        """label → feature → global attribution, or None without an attribution baseline."""
        return attribution.attributions_of(self.attribution) if self.attribution else None

    def booster(self) -> xgb.Booster:
        if self.model_bytes is None:
            raise ConfigError(
                "the baseline has no model: run `byo monitor baseline --model ...` or "
                "`byo monitor import-baseline --model ...`"
            )
        return load_booster(self.model_bytes)

    def describe(self) -> str:
        """One line for reports: where the baseline came from."""
        if "rows" in self.manifest:
            return (
                f"{self.manifest['rows']:,} rows of {self.manifest.get('data', 'a dataset')}, "
                f"{len(self.features)} features, created {self.manifest.get('created', '?')}"
            )
        items = self.data_statistics.get("dataset", {}).get("item_count")
        source = self.manifest.get("imported_from", "Model Monitor files")
        return f"{items:,} rows ({source}), {len(self.features)} features"


def problem_type_of_booster(booster: xgb.Booster) -> str:
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    for prefix, problem_type in _OBJECTIVES.items():
        if objective.startswith(prefix):
            return problem_type
    raise ConfigError(f"the model's objective {objective!r} is not one byo monitor knows")


def matrix_of(table: pa.Table) -> np.ndarray:
    """Float features (missing, or a value that is not a number → NaN, which XGBoost treats as
    missing)."""
    columns = [
        np.asarray(
            data_quality.as_numbers(column).cast(pa.float64()).to_numpy(zero_copy_only=False),
            dtype=np.float64,
        )
        for column in table.columns
    ]
    return np.column_stack(columns) if columns else np.zeros((table.num_rows, 0))


def labels_as(label: np.ndarray, problem_type: str, name: str) -> np.ndarray:
    """Labels checked for the problem type: 0/1 for binary, whole class numbers for multiclass."""
    if problem_type == "BinaryClassification":
        if not np.isin(label, (0, 1)).all():
            raise ConfigError(f"label column {name!r} must hold only 0 and 1 for a binary model")
        return label.astype(np.int8)
    if problem_type == "MulticlassClassification":
        if not (np.isfinite(label).all() and (label == np.floor(label)).all() and label.min() >= 0):
            raise ConfigError(
                f"label column {name!r} must hold class numbers 0..K-1 for a multiclass model"
            )
        return label.astype(np.int64)
    return label.astype(np.float64)


def predictions_table(prediction: np.ndarray) -> pa.Table:
    """The model's outputs as a table for prediction drift: one column "prediction" (a score or
    a value), or "prediction_<k>" per class probability."""
    prediction = np.asarray(prediction, dtype=np.float64)
    if prediction.ndim == 1:
        return pa.table({"prediction": prediction})
    return pa.table({f"prediction_{k}": prediction[:, k] for k in range(prediction.shape[1])})


def compute_baseline(
    dataset: datasets.Dataset,
    *,
    model_bytes: bytes | None = None,
    holdout: datasets.Dataset | None = None,
    comparison_threshold: float = 0.1,
    ndcg_threshold: float = attribution.NDCG_THRESHOLD,
    data_name: str = "",
    holdout_name: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baseline documents (BASELINE_FILES, by name) and their manifest, from a training
    dataset and, with the model, its attributions, its output distribution and its quality on
    `holdout` (else on the training data). The problem type is the model's objective's."""
    names = dataset.features.column_names
    stats = data_quality.statistics(dataset.features)
    files: dict[str, Any] = {
        DATA_STATISTICS: stats,
        DATA_CONSTRAINTS: data_quality.suggest_constraints(stats, comparison_threshold),
    }
    manifest: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(),
        "data": data_name,
        "rows": dataset.features.num_rows,
        "features": names,
        "label": dataset.label_name,
    }
    if model_bytes is None:
        return files, manifest
    booster = load_booster(model_bytes)
    if booster.num_features() != len(names):
        raise ConfigError(
            f"the model takes {booster.num_features()} features; {data_name or 'the data'} has "
            f"{len(names)} besides {dataset.label_name!r}"
        )
    problem_type = problem_type_of_booster(booster)
    manifest["model_sha256"] = hashlib.sha256(model_bytes).hexdigest()
    manifest["problem_type"] = problem_type
    matrix = matrix_of(dataset.features)
    by_label = attribution.global_attributions(booster, matrix, names)
    files[ATTRIBUTION] = attribution.analysis(
        by_label, len(matrix), attribution.expected_values(booster, matrix)
    )
    files[ATTRIBUTION_CONSTRAINTS] = attribution.constraints(ndcg_threshold, files[ATTRIBUTION])
    predictions = booster.predict(xgb.DMatrix(matrix))
    files[PREDICTION_STATISTICS] = data_quality.statistics(predictions_table(predictions))
    files[PREDICTION_CONSTRAINTS] = data_quality.suggest_constraints(
        files[PREDICTION_STATISTICS], comparison_threshold
    )
    scored = holdout or dataset
    if scored.label is None:
        raise ConfigError(
            f"{holdout_name or data_name or 'the data'} has no {dataset.label_name!r} column "
            "to score against"
        )
    label = labels_as(scored.label, problem_type, dataset.label_name)
    prediction = booster.predict(xgb.DMatrix(matrix_of(scored.features)))
    quality = model_quality.statistics(
        label, prediction, datetime.now(UTC).isoformat(), problem_type=problem_type
    )
    files[MODEL_STATISTICS] = quality
    files[MODEL_CONSTRAINTS] = model_quality.suggest_constraints(quality)
    manifest["holdout"] = holdout_name or data_name
    return files, manifest


def from_documents(
    documents: dict[str, Any],
    *,
    manifest: dict[str, Any] | None = None,
    model_bytes: bytes | None = None,
    source: str = "",
) -> Baseline:
    """A baseline from documents as they were written (by this project, Model Monitor or
    Clarify), checked enough that a check does not fail later on a missing part."""
    if DATA_STATISTICS not in documents:
        raise ConfigError(f"{source or 'the baseline'}: no data-quality statistics.json")
    stats = documents[DATA_STATISTICS]
    if not isinstance(stats, dict) or not isinstance(stats.get("features"), list):
        raise ConfigError(
            f"{source or 'the baseline'}: data-quality statistics.json has no 'features' list "
            "(is it a Model Monitor statistics.json?)"
        )
    constraints = documents.get(DATA_CONSTRAINTS)
    if constraints is not None and not isinstance(constraints.get("features"), list):
        raise ConfigError(
            f"{source or 'the baseline'}: data-quality constraints.json has no 'features' list"
        )
    for name in (MODEL_STATISTICS, MODEL_CONSTRAINTS):
        if name in documents:
            try:
                model_quality.problem_type_of(documents[name])
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"{source or 'the baseline'}: {name}: {exc}") from None
    if ATTRIBUTION in documents:
        try:
            attribution.attributions_of(documents[ATTRIBUTION])
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{source or 'the baseline'}: {ATTRIBUTION} is not a Clarify explainability "
                f"analysis.json: {exc}"
            ) from None
    if BIAS in documents:
        try:
            bias.metrics_of(documents[BIAS])
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"{source or 'the baseline'}: {BIAS} is not a Clarify bias analysis.json: {exc}"
            ) from None
    return Baseline(dict(documents), dict(manifest or {}), model_bytes)

"""The pipeline's parameters: the same names, types and defaults locally (`byo pipeline run
--param Name=value`) and in the SageMaker Pipelines definition (ParameterString/Float/Integer),
except the build-time ones (Preprocessing), which choose the definition's steps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from operators.errors import ConfigError

APPROVAL_STATUSES = ("Approved", "PendingManualApproval")
# What the optional preprocess step fits in front of XGBoost (a serial inference pipeline's first
# container); "none": no preprocess step, one container.
PREPROCESSING = ("none", "standard-scaler")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: type  # str, float or int: ParameterString, ParameterFloat, ParameterInteger
    default: Any
    help: str
    low: float | None = None  # inclusive bounds, for numbers
    high: float | None = None
    choices: tuple[str, ...] = ()
    # Chooses the pipeline's steps: SageMaker Pipelines fixes the steps when the definition is
    # built, so there it is an option of the definition (`byo pipeline definition
    # --preprocessing`), not an execution parameter.
    build_time: bool = False


PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "InputData",
        str,
        "",
        "The labelled CSV (with a header): a local path or s3:// URI (an object, or a prefix "
        "of CSVs with one header); default: the stack's pipeline input prefix",
    ),
    Parameter("TargetColumn", str, "Class", "The binary (0/1) target column"),
    Parameter(
        "ModelApprovalStatus",
        str,
        "PendingManualApproval",
        "Status of the registered version; only Approved versions are deployed",
        choices=APPROVAL_STATUSES,
    ),
    Parameter("AucThreshold", float, 0.9, "Register only if test AUC >= this", 0.0, 1.0),
    Parameter("TrainFraction", float, 0.70, "Share of rows to train on", 0.0, 1.0),
    Parameter("ValidationFraction", float, 0.15, "Share for early stopping", 0.0, 1.0),
    Parameter("TestFraction", float, 0.15, "Share held out for evaluation", 0.0, 1.0),
    Parameter("Seed", int, 42, "Seed of the split and of training", 0, 2**31 - 1),
    Parameter(
        "Preprocessing",
        str,
        "none",
        "A preprocessor fitted on the train split and served in front of XGBoost (a serial "
        "inference pipeline): standard-scaler (median imputation, then standardization), or none",
        choices=PREPROCESSING,
        build_time=True,
    ),
    Parameter("MaxDepth", int, 5, "xgboost max_depth", 1, 20),
    Parameter("Eta", float, 0.1, "xgboost eta (learning rate)", 0.0, 1.0),
    Parameter("NumRound", int, 300, "xgboost num_round (boosting rounds, at most)", 1, 10_000),
    Parameter(
        "EarlyStoppingRounds", int, 30, "Stop after this many rounds without gain", 1, 10_000
    ),
    Parameter("Subsample", float, 0.8, "xgboost subsample", 0.0, 1.0),
    Parameter("ColsampleByTree", float, 0.8, "xgboost colsample_bytree", 0.0, 1.0),
    Parameter("MinChildWeight", float, 1.0, "xgboost min_child_weight", 0.0, 1e6),
    Parameter("DeployVariant", str, "variant-b", "Variant the approved version is deployed as"),
    Parameter(
        "DeployWeight",
        str,
        "keep",
        "Its traffic weight: a number >= 0, or keep (the variant's weight; 0 for a new one)",
    ),
    Parameter("ProcessingInstanceType", str, "ml.m5.xlarge", "Processing jobs' instance (on AWS)"),
    Parameter("TrainingInstanceType", str, "ml.m5.xlarge", "Training job's instance (on AWS)"),
)
BY_NAME = {p.name: p for p in PARAMETERS}


def defaults() -> dict[str, Any]:
    return {p.name: p.default for p in PARAMETERS}


def _convert(parameter: Parameter, value: Any) -> Any:
    name = parameter.name
    try:
        if parameter.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            converted: Any = int(str(value).strip()) if isinstance(value, str) else int(value)
        elif parameter.kind is float:
            converted = float(value)
            if converted != converted:  # NaN
                raise ValueError
        else:
            converted = str(value)
    except ValueError:
        kind = "an integer" if parameter.kind is int else "a number"
        raise ConfigError(f"parameter {name}: {value!r} is not {kind}") from None
    if parameter.low is not None and converted < parameter.low:
        raise ConfigError(f"parameter {name}: {converted} is below {parameter.low:g}")
    if parameter.high is not None and converted > parameter.high:
        raise ConfigError(f"parameter {name}: {converted} is above {parameter.high:g}")
    if parameter.choices and converted not in parameter.choices:
        raise ConfigError(
            f"parameter {name}: {converted!r} is not one of {', '.join(parameter.choices)}"
        )
    return converted


def deploy_weight(value: str) -> float | None:
    """DeployWeight: None for keep, else a weight >= 0."""
    if value.strip().lower() == "keep":
        return None
    try:
        weight = float(value)
    except ValueError:
        weight = -1.0
    if not weight >= 0:
        raise ConfigError(f"parameter DeployWeight: {value!r} is not keep or a number >= 0")
    return weight


def resolve(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults updated with `overrides`, each checked; names are case-sensitive, as in
    SageMaker."""
    values = defaults()
    for name, raw in (overrides or {}).items():
        parameter = BY_NAME.get(name)
        if parameter is None:
            close = [p.name for p in PARAMETERS if p.name.lower() == name.lower()]
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(
                f"unknown parameter {name!r}{hint}; parameters: "
                + ", ".join(p.name for p in PARAMETERS)
            )
        values[name] = _convert(parameter, raw)
    fractions = [values[k] for k in ("TrainFraction", "ValidationFraction", "TestFraction")]
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ConfigError(
            "parameters TrainFraction, ValidationFraction and TestFraction must each be above 0 "
            f"and add up to 1 (they add up to {sum(fractions):g})"
        )
    if not values["TargetColumn"].strip():
        raise ConfigError("parameter TargetColumn is empty")
    if not values["DeployVariant"].strip():
        raise ConfigError("parameter DeployVariant is empty")
    deploy_weight(values["DeployWeight"])
    return values


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """`Name=value` strings (from --param) as a mapping; a repeated name is an error."""
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--param {item!r}: expected Name=value")
        if name in parsed:
            raise ConfigError(f"--param {name} is given twice")
        parsed[name] = value
    return parsed


def hyperparameters(values: Mapping[str, Any]) -> dict[str, Any]:
    """xgboost's hyperparameters (the names SageMaker's built-in XGBoost takes) from the
    pipeline's parameters; objective and metric are fixed: a binary classifier."""
    return {
        "objective": "binary:logistic",
        "eval_metric": "aucpr",  # early stopping on the precision-recall curve: rare positives
        "tree_method": "hist",
        "max_depth": values["MaxDepth"],
        "eta": values["Eta"],
        "subsample": values["Subsample"],
        "colsample_bytree": values["ColsampleByTree"],
        "min_child_weight": values["MinChildWeight"],
        "num_round": values["NumRound"],
        "early_stopping_rounds": values["EarlyStoppingRounds"],
        "seed": values["Seed"],
    }


HYPERPARAMETER_TYPES = {
    "max_depth": int,
    "eta": float,
    "subsample": float,
    "colsample_bytree": float,
    "min_child_weight": float,
    "num_round": int,
    "early_stopping_rounds": int,
    "seed": int,
}


def hyperparameters_from_json(document: Mapping[str, Any]) -> dict[str, Any]:
    """hyperparameters() as a SageMaker training job hands them over: every value a string
    (in /opt/ml/input/config/hyperparameters.json)."""
    values = dict(document)
    try:
        for name, kind in HYPERPARAMETER_TYPES.items():
            if name in values:
                values[name] = kind(float(values[name])) if kind is int else kind(values[name])
    except ValueError as exc:
        raise ConfigError(f"hyperparameters: {exc}") from None
    missing = sorted(set(HYPERPARAMETER_TYPES) - set(values))
    if missing:
        raise ConfigError(f"hyperparameters lack {', '.join(missing)}")
    return values

"""Data quality, as SageMaker Model Monitor computes it, in its file formats.

- `statistics(table)` → statistics.json: per feature inferred_type, completeness counts, numerical
  statistics and a KLL sketch (Apache DataSketches, k=2048) with a 10-bucket distribution; string
  features get categorical buckets.
- `suggest_constraints(stats)` → constraints.json, with Model Monitor's monitoring_config.
- `violations(baseline_stats, constraints, current)` → constraint_violations.json entries, for
  data_type_check, completeness_check, baseline_drift_check, missing_column_check and
  extra_column_check.

Drift is the L-infinity distance between the baseline's and the current CDF (both read from
their sketches). comparison_method "Simple" compares it with comparison_threshold; "Robust" (the
default, as in Model Monitor) also requires it to exceed the two-sample Kolmogorov-Smirnov
critical value for the two sample sizes at alpha = 0.01, so small windows do not raise false
alarms from sampling noise alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasketches import kll_doubles_sketch

KLL_K = 2048
# DataSketches' KLL shrinks each level's capacity by 2/3 (Model Monitor's Deequ sketch: 0.64).
KLL_C = 2 / 3
BUCKETS = 10
KS_ALPHA = 0.01
KS_C = math.sqrt(-math.log(KS_ALPHA / 2) / 2)  # 1.628
CATEGORICAL_DOMAIN_MAX = 20

DEFAULT_MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def inferred_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return "Integral"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "Fractional"
    if pa.types.is_null(arrow_type):
        return "Unknown"
    return "String"


# ---------------------------------------------------------------------------------------------
# Sketches
# ---------------------------------------------------------------------------------------------
def sketch_of(values: np.ndarray) -> kll_doubles_sketch:
    sketch = kll_doubles_sketch(KLL_K)
    if len(values):
        sketch.update(np.ascontiguousarray(values, dtype=np.float64))
    return sketch


def sketch_levels(sketch: kll_doubles_sketch) -> list[list[float]]:
    """The sketch's retained items by compactor level (an item at level i stands for 2**i)."""
    levels: dict[int, list[float]] = {}
    for item, weight in sketch:
        levels.setdefault(int(weight).bit_length() - 1, []).append(float(item))
    return [sorted(levels.get(i, [])) for i in range(max(levels, default=-1) + 1)]


@dataclass(frozen=True)
class WeightedCdf:
    """A step CDF from weighted points (a sketch's items, or exact values with weight 1)."""

    points: np.ndarray  # sorted
    cumulative: np.ndarray  # cumulative weight share at each point, ending at 1

    @classmethod
    def from_levels(cls, levels: list[list[float]]) -> WeightedCdf:
        items = np.concatenate([np.asarray(v, dtype=np.float64) for v in levels] or [[]])
        weights = np.concatenate(
            [np.full(len(v), 2.0**i) for i, v in enumerate(levels)] or [np.zeros(0)]
        )
        order = np.argsort(items, kind="stable")
        items, weights = items[order], weights[order]
        total = weights.sum()
        return cls(items, np.cumsum(weights) / total if total else weights)

    @property
    def count(self) -> int:
        return len(self.points)

    def at(self, x: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.points, x, side="right")
        padded = np.concatenate([[0.0], self.cumulative])
        return padded[index]


def linf_distance(a: WeightedCdf, b: WeightedCdf) -> float:
    """sup |F_a(x) - F_b(x)|: both step functions only change at their own points."""
    if not a.count or not b.count:
        return 0.0
    points = np.union1d(a.points, b.points)
    return float(np.max(np.abs(a.at(points) - b.at(points))))


def ks_critical(n: int, m: int) -> float:
    return KS_C * math.sqrt((n + m) / (n * m)) if n and m else math.inf


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------
def _numeric_statistics(column: pa.ChunkedArray) -> dict[str, Any]:
    present = pc.drop_null(column)
    values = present.to_numpy().astype(np.float64, copy=False)
    values = values[~np.isnan(values)]
    missing = len(column) - len(values)
    stats: dict[str, Any] = {"common": {"num_present": len(values), "num_missing": missing}}
    if not len(values):
        return stats
    low, high = float(values.min()), float(values.max())
    counts, edges = np.histogram(values, bins=BUCKETS, range=(low, high if high > low else low + 1))
    sketch = sketch_of(values)
    stats.update(
        {
            "mean": float(values.mean()),
            "sum": float(values.sum()),
            "std_dev": float(values.std()),
            "min": low,
            "max": high,
            "distribution": {
                "kll": {
                    "buckets": [
                        {
                            "lower_bound": float(edges[i]),
                            "upper_bound": float(edges[i + 1]),
                            "count": float(counts[i]),
                        }
                        for i in range(BUCKETS)
                    ],
                    "sketch": {
                        "parameters": {"c": KLL_C, "k": float(KLL_K)},
                        "data": sketch_levels(sketch),
                    },
                }
            },
        }
    )
    return stats


def _string_statistics(column: pa.ChunkedArray) -> dict[str, Any]:
    present = pc.drop_null(column.cast(pa.string()))
    counts = pc.value_counts(present).to_pylist()
    counts.sort(key=lambda c: (-c["counts"], c["values"]))
    return {
        "common": {"num_present": len(present), "num_missing": len(column) - len(present)},
        "distinct_count": float(len(counts)),
        "distribution": {
            "categorical": {
                "buckets": [{"value": c["values"], "count": float(c["counts"])} for c in counts]
            }
        },
    }


def statistics(table: pa.Table) -> dict[str, Any]:
    """statistics.json for a table (one column per feature)."""
    features = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = inferred_type(column.type)
        feature: dict[str, Any] = {"name": name, "inferred_type": kind}
        if kind in ("Integral", "Fractional"):
            feature["numerical_statistics"] = _numeric_statistics(column)
        else:
            feature["string_statistics"] = _string_statistics(column)
        features.append(feature)
    return {"version": 0.0, "dataset": {"item_count": table.num_rows}, "features": features}


def _common(feature: dict[str, Any]) -> dict[str, Any]:
    return (feature.get("numerical_statistics") or feature.get("string_statistics"))["common"]


def completeness(feature: dict[str, Any]) -> float:
    common = _common(feature)
    total = common["num_present"] + common["num_missing"]
    return common["num_present"] / total if total else 1.0


def suggest_constraints(stats: dict[str, Any], comparison_threshold: float = 0.1) -> dict[str, Any]:
    """constraints.json suggested from baseline statistics (as Model Monitor's baselining job)."""
    features = []
    for feature in stats["features"]:
        constraint: dict[str, Any] = {
            "name": feature["name"],
            "inferred_type": feature["inferred_type"],
            "completeness": completeness(feature),
        }
        numeric = feature.get("numerical_statistics")
        if numeric is not None:
            constraint["num_constraints"] = {"is_non_negative": numeric.get("min", 0.0) >= 0}
        else:
            buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
            if len(buckets) <= CATEGORICAL_DOMAIN_MAX:
                constraint["string_constraints"] = {"domains": [b["value"] for b in buckets]}
        features.append(constraint)
    config = {
        **DEFAULT_MONITORING_CONFIG,
        "distribution_constraints": {
            **DEFAULT_MONITORING_CONFIG["distribution_constraints"],
            "comparison_threshold": comparison_threshold,
        },
    }
    return {"version": 0.0, "features": features, "monitoring_config": config}


# ---------------------------------------------------------------------------------------------
# Current data and its checks
# ---------------------------------------------------------------------------------------------
@dataclass
class CurrentData:
    """The data under check: a table named by the baseline's features, plus what did not fit.

    Rows with fewer or more columns than the baseline cannot be placed by position; they are
    counted (and their line numbers kept) for missing_column_check / extra_column_check.
    """

    table: pa.Table
    short_rows: list[int] = field(default_factory=list)  # line numbers
    long_rows: list[int] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)  # by name (a file with a header)
    extra_columns: list[str] = field(default_factory=list)


def _first(lines: list[int]) -> str:
    return f" (first at line {lines[0]})" if lines and lines[0] else ""


def _nonconforming(column: pa.ChunkedArray, expected: str) -> int:
    """How many present values do not have the baseline's type."""
    if expected in ("String", "Unknown"):
        return 0
    kind = inferred_type(column.type)
    if kind == "Integral":
        return 0
    present = pc.drop_null(column)
    if kind == "Fractional":
        if expected == "Fractional":
            return 0
        values = present.to_numpy()
        return int(np.count_nonzero(values != np.floor(values)))
    bad = 0
    for text in present.to_pylist():
        try:
            number = float(text)
        except (TypeError, ValueError):
            bad += 1
            continue
        if expected == "Integral" and not number.is_integer():
            bad += 1
    return bad


def as_numbers(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as numbers; a value that is not one becomes missing."""
    if inferred_type(column.type) in ("Integral", "Fractional"):
        return column

    def number(text: str | None) -> float | None:
        try:
            return float(text) if text is not None else None
        except ValueError:
            return None

    return pa.chunked_array([pa.array([number(t) for t in column.to_pylist()], pa.float64())])


def check(
    baseline: dict[str, Any],
    constraints: dict[str, Any],
    current: CurrentData,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, float]]:
    """(current statistics, violations, per-feature drift distances)."""
    config = constraints.get("monitoring_config", DEFAULT_MONITORING_CONFIG)
    distribution = config.get("distribution_constraints", {})
    compare = distribution.get("perform_comparison", "Enabled") == "Enabled"
    threshold = float(distribution.get("comparison_threshold", 0.1))
    categorical_threshold = float(distribution.get("categorical_comparison_threshold", 0.1))
    robust = distribution.get("comparison_method", "Robust") == "Robust"
    type_threshold = float(config.get("datatype_check_threshold", 1.0))
    by_name = {f["name"]: f for f in baseline["features"]}
    violations: list[dict[str, Any]] = []
    drift: dict[str, float] = {}

    if current.short_rows or current.missing_columns:
        names = ", ".join(current.missing_columns)
        violations.append(
            {
                "feature_name": names or "",
                "constraint_check_type": "missing_column_check",
                "description": (
                    f"Columns {names} of the baseline are missing"
                    if names
                    else f"{len(current.short_rows)} rows have fewer than the baseline's "
                    f"{len(by_name)} columns{_first(current.short_rows)}"
                ),
            }
        )
    if current.long_rows or current.extra_columns:
        names = ", ".join(current.extra_columns)
        violations.append(
            {
                "feature_name": names or "",
                "constraint_check_type": "extra_column_check",
                "description": (
                    f"Columns {names} are not in the baseline"
                    if names
                    else f"{len(current.long_rows)} rows have more than the baseline's "
                    f"{len(by_name)} columns{_first(current.long_rows)}"
                ),
            }
        )

    table = current.table
    current_features = []
    for constraint in constraints["features"]:
        name = constraint["name"]
        if name not in table.column_names:
            continue
        column = table.column(name)
        expected = constraint["inferred_type"]
        present = len(column) - column.null_count
        if present:
            bad = _nonconforming(column, expected)
            share = 1 - bad / present
            if share < type_threshold:
                violations.append(
                    {
                        "feature_name": name,
                        "constraint_check_type": "data_type_check",
                        "description": f"Data type match requirement is not met. Expected "
                        f"data type: {expected}, Expected match: {type_threshold:.0%}. "
                        f"Observed: only {share:.2%} of {present} values match ({bad} do not).",
                    }
                )
        numbers = as_numbers(column) if expected in ("Integral", "Fractional") else column
        stats = statistics(pa.table({name: numbers}))["features"][0]
        if expected in ("Integral", "Fractional"):
            stats["inferred_type"] = expected
        current_features.append(stats)
        observed = completeness(stats) if len(column) else 1.0
        if observed < constraint.get("completeness", 0.0):
            violations.append(
                {
                    "feature_name": name,
                    "constraint_check_type": "completeness_check",
                    "description": f"Data completeness requirement is not met. Expected "
                    f"completeness: {constraint['completeness']:.2%}. Observed: "
                    f"{observed:.2%} ({_common(stats)['num_missing']} of {len(column)} missing).",
                }
            )
        if not compare or name not in by_name:
            continue
        base = by_name[name]
        if "numerical_statistics" in stats and "numerical_statistics" in base:
            distance, n, m = _numeric_distance(base, stats)
            if distance is None:
                continue
            drift[name] = distance
            critical = ks_critical(n, m) if robust else 0.0
            if distance > threshold and distance > critical:
                violations.append(
                    {
                        "feature_name": name,
                        "constraint_check_type": "baseline_drift_check",
                        "description": f"Baseline drift distance: {distance:.4f} exceeds "
                        f"threshold: {threshold}"
                        + (f" (and the KS critical value {critical:.4f})" if robust else ""),
                    }
                )
        elif "string_statistics" in stats and "string_statistics" in base:
            distance = _categorical_distance(base, stats)
            drift[name] = distance
            if distance > categorical_threshold:
                violations.append(
                    {
                        "feature_name": name,
                        "constraint_check_type": "baseline_drift_check",
                        "description": f"Baseline drift distance: {distance:.4f} exceeds "
                        f"threshold: {categorical_threshold}",
                    }
                )
    current_stats = {
        "version": 0.0,
        "dataset": {"item_count": table.num_rows},
        "features": current_features,
    }
    return current_stats, violations, drift


def numeric_cdf(feature: dict[str, Any]) -> WeightedCdf | None:
    numeric = feature["numerical_statistics"]
    if "distribution" not in numeric:
        return None
    return WeightedCdf.from_levels(numeric["distribution"]["kll"]["sketch"]["data"])


def _numeric_distance(base: dict[str, Any], current: dict[str, Any]):
    a, b = numeric_cdf(base), numeric_cdf(current)
    if a is None or b is None:
        return None, 0, 0
    n = base["numerical_statistics"]["common"]["num_present"]
    m = current["numerical_statistics"]["common"]["num_present"]
    return linf_distance(a, b), n, m


def _categorical_distance(base: dict[str, Any], current: dict[str, Any]) -> float:
    def shares(feature):
        buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
        total = sum(b["count"] for b in buckets) or 1.0
        return {b["value"]: b["count"] / total for b in buckets}

    a, b = shares(base), shares(current)
    return max((abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in a.keys() | b.keys()), default=0.0)

"""Data quality, as SageMaker Model Monitor's analyzer computes it, in its file formats.

- `statistics(table, types)` → statistics.json: per feature inferred_type, completeness counts;
  Integral/Fractional features get numerical statistics (population std_dev, as the analyzer's)
  with a KLL sketch (Apache DataSketches, k=2048) and a 10-bucket distribution; String features
  get string statistics (distinct_count, categorical buckets).
- `suggest_constraints(stats)` → constraints.json, with Model Monitor's monitoring_config.
- `check(baseline, constraints, current)` → a DataQualityResult: the current statistics, the
  constraint_violations.json entries (data_type_check, completeness_check, baseline_drift_check,
  missing_column_check, extra_column_check, categorical_values_check, described in the
  analyzer's words) and the CloudWatch metrics.

The constraints file is honoured as Model Monitor reads it: monitoring_config's
evaluate_constraints, emit_metrics, datatype_check_threshold, domain_content_threshold and
distribution_constraints (perform_comparison, comparison_threshold, comparison_method,
categorical_comparison_threshold, categorical_drift_method; the older enable_comparisons and
min_domain_mass too), overridden per feature by `monitoring_config_overrides` at the feature
level (where the SageMaker SDK's `Constraints.set_monitoring(..., feature_name)` writes it) or
inside its num_constraints / string_constraints.

Types: a value matches Integral when it is a whole number ("3", 3.0), Fractional when it is any
number, String always. A numeric feature's values that are not numbers count as missing in its
statistics and as not matching in data_type_check.

Drift. Model Monitor's own distance (method "linf") is the L-infinity distance between the
baseline's and the current CDF, both read from their KLL sketches (so a baseline written by AWS
works). comparison_method "Simple" compares it with comparison_threshold; "Robust" (the default)
also requires it to exceed the two-sample Kolmogorov-Smirnov critical value for the two sample
sizes at alpha = 0.01, so small windows do not raise alarms from sampling noise alone. String
features: categorical_drift_method "LInfinity" is the largest difference of a category's share,
compared with categorical_comparison_threshold; "ChiSquared" is Pearson's chi-squared test of
homogeneity of the two count vectors, which fires when its p-value is below
categorical_comparison_threshold (the threshold read as a significance level; the feature's
drift metric stays its L-infinity distance, so max_feature_baseline_drift keeps one meaning).

Beside those, every feature gets the distances of DRIFT_METHODS (`distances`), and `drift_method`
chooses which one fires (against DRIFT_THRESHOLDS; "linf" keeps the constraints' thresholds):
- psi: population stability index over the baseline's deciles (numeric) or the categories,
  shares floored at PSI_EPSILON;
- js: Jensen-Shannon distance (base 2, in [0, 1]) over the same bins;
- wasserstein: the earth mover's distance between the two sketches divided by the baseline's
  std_dev, so one fixed threshold means "moved by a tenth of a standard deviation" whatever the
  feature's unit (undivided when the baseline's std_dev is 0). For String features, which have
  no order, it is the Wasserstein distance under the 0/1 metric: the total variation distance.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasketches import kll_doubles_sketch

from operators.errors import ConfigError
from operators.monitoring.files import number
from operators.monitoring.sketch_worker import KLL_K, sketch_of, sketch_shared

# DataSketches' KLL shrinks each level's capacity by 2/3 (Model Monitor's Deequ sketch: 0.64).
KLL_C = 2 / 3
BUCKETS = 10
KS_ALPHA = 0.01
KS_C = math.sqrt(-math.log(KS_ALPHA / 2) / 2)  # 1.628
CATEGORICAL_DOMAIN_MAX = 20
PSI_EPSILON = 1e-4
DRIFT_METHODS = ("linf", "psi", "js", "wasserstein")
DRIFT_THRESHOLDS = {"psi": 0.2, "js": 0.1, "wasserstein": 0.1}
NUMERIC_TYPES = ("Integral", "Fractional")
# The sketches are built in worker processes too (see _Sketches) once a table has this many
# numeric values: about 0.1 s of sketching, as long as a worker takes to start.
PARALLEL_MIN_VALUES = 2_000_000
# Each worker is an interpreter with numpy and datasketches (about 50 MiB); this process feeds ~7.
SKETCH_WORKERS_MAX = 3
SKETCH_WORKERS_IDLE_S = 60

DEFAULT_MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
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


def features_of(document: dict[str, Any]) -> list[str]:
    """The feature names of a statistics or constraints document, in its order."""
    return [f["name"] for f in document["features"]]


def types_of(document: dict[str, Any]) -> dict[str, str]:
    """Feature name → inferred_type of a statistics or constraints document."""
    return {f["name"]: f["inferred_type"] for f in document["features"]}


# ---------------------------------------------------------------------------------------------
# Sketches and distances
# ---------------------------------------------------------------------------------------------
def _sketch_worker_count() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min((cores or 1) - 1, SKETCH_WORKERS_MAX)


@functools.cache
def _sketch_executor() -> Executor | None:
    """The worker processes, started once and kept until idle for SKETCH_WORKERS_IDLE_S (None on
    one core, or where multiprocessing has no semaphores). loky's (joblib's) rather than
    multiprocessing's: its workers are fresh interpreters that do not run the main script again
    (multiprocessing's spawn does, a script without a __main__ guard included), and none is a
    fork: each seeds datasketches' random generator itself, as a process of its own does, and
    none inherits arrow's threads."""
    workers = _sketch_worker_count()
    if workers < 1:
        return None
    from joblib.externals.loky import ProcessPoolExecutor  # only where sketching in parallel pays

    try:
        return ProcessPoolExecutor(workers, timeout=SKETCH_WORKERS_IDLE_S)
    except OSError:
        return None


class _Sketches:
    """The KLL sketches of one statistics pass. Updating a sketch holds the GIL (about 50 ns a
    value: most of a pass's time), so with more than one core the columns' values go to worker
    processes through a few shared memory slots the pass reuses, and this process sketches a
    column itself whenever every slot is taken: however the cores are shared, neither waits.

    A sketch is randomized (datasketches seeds its generator from std::random_device in every
    process), so a column's sketch is not the same twice either way; it is the same sketch of the
    same values in the same order with the same k, wherever it is built (exact below k values)."""

    def __init__(self, rows: int = 0, numeric_columns: int = 0) -> None:
        self._free: list[SharedMemory] = []
        self._slots: list[SharedMemory] = []
        self._pending: list[tuple[Future, SharedMemory, int, dict[str, Any]]] = []
        self._executor = None
        if rows * numeric_columns < PARALLEL_MIN_VALUES or numeric_columns < 2:
            return
        executor = _sketch_executor()
        slots = 2 * _sketch_worker_count()  # one being sketched, one waiting, per worker
        # A container's /dev/shm can be small (Docker's 64 MiB): a write past it is a SIGBUS.
        if executor is None or _shared_memory_free() < 2 * slots * rows * 8:
            return
        try:
            for _ in range(slots):
                self._slots.append(SharedMemory(create=True, size=rows * 8))
        except OSError:  # no shared memory here after all: sketched serially
            self.release()
            return
        self._executor = executor
        self._free = list(self._slots)

    def add(self, values: np.ndarray, sketch: dict[str, Any]) -> None:
        """Sets sketch["data"] to the values' sketch levels, now or by the end of the pass."""
        self._collect(block=False)
        if not self._free:
            sketch["data"] = sketch_levels(sketch_of(values))
            return
        slot = self._free.pop()
        np.ndarray(values.shape, np.float64, slot.buf)[:] = values
        try:
            future = self._executor.submit(sketch_shared, slot.name, len(values))
        except BrokenExecutor:
            future = Future()
            future.set_exception(BrokenExecutor("the sketch workers stopped"))
        self._pending.append((future, slot, len(values), sketch))

    def _collect(self, block: bool) -> None:
        waiting = []
        for future, slot, length, sketch in self._pending:
            if not (block or future.done()):
                waiting.append((future, slot, length, sketch))
                continue
            try:
                built = kll_doubles_sketch.deserialize(future.result())
            except (BrokenExecutor, OSError):  # a worker died: sketched here instead
                _sketch_executor.cache_clear()
                built = sketch_of(np.ndarray((length,), np.float64, slot.buf))
            sketch["data"] = sketch_levels(built)
            self._free.append(slot)
        self._pending = waiting

    def finish(self) -> None:
        self._collect(block=True)

    def release(self) -> None:
        wait([future for future, *_ in self._pending])
        self._pending = []
        for slot in self._slots:
            slot.close()
            slot.unlink()
        self._slots = self._free = []


def _shared_memory_free() -> int:
    try:
        return shutil.disk_usage("/dev/shm").free
    except OSError:  # not Linux: no way to tell, so no shared memory
        return 0


@contextmanager
def _sketching(rows: int, numeric_columns: int) -> Iterator[_Sketches]:
    sketches = _Sketches(rows, numeric_columns)
    try:
        yield sketches
        sketches.finish()
    finally:
        sketches.release()


def sketch_levels(sketch: kll_doubles_sketch) -> list[list[float]]:
    """The sketch's retained items by compactor level (an item at level i stands for 2**i)."""
    flat = itertools.chain.from_iterable(sketch)  # (item, weight) pairs, without a list of them
    pairs = np.fromiter(flat, np.float64, count=2 * sketch.num_retained).reshape(-1, 2)
    items, level = pairs[:, 0], np.frexp(pairs[:, 1])[1] - 1  # weight 2**i -> i
    return [np.sort(items[level == i]).tolist() for i in range(level.max(initial=-1) + 1)]


def _level_items(items: list[Any]) -> np.ndarray:
    """A sketch level's items as floats: numpy at once when they are all numbers (the usual
    case), one by one when a non-finite one is written as a string."""
    try:
        return np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        return np.asarray([number(x) for x in items], dtype=np.float64)


@dataclass(frozen=True)
class WeightedCdf:
    """A step CDF from weighted points (a sketch's items, or exact values with weight 1)."""

    points: np.ndarray  # sorted
    cumulative: np.ndarray  # cumulative weight share at each point, ending at 1
    weights: np.ndarray

    @classmethod
    def from_levels(cls, levels: list[list[Any]]) -> WeightedCdf:
        items = np.concatenate([_level_items(v) for v in levels] or [np.zeros(0)])
        weights = np.concatenate(
            [np.full(len(v), 2.0**i) for i, v in enumerate(levels)] or [np.zeros(0)]
        )
        order = np.argsort(items, kind="stable")
        items, weights = items[order], weights[order]
        total = weights.sum()
        return cls(items, np.cumsum(weights) / total if total else weights, weights)

    @property
    def count(self) -> int:
        return len(self.points)

    def at(self, x: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.points, x, side="right")
        padded = np.concatenate([[0.0], self.cumulative])
        return padded[index]

    def quantiles(self, levels: np.ndarray) -> np.ndarray:
        """The smallest points whose CDF reaches each level (a rounding's slack allowed)."""
        index = np.searchsorted(self.cumulative, levels - 1e-12, side="left")
        return self.points[np.minimum(index, self.count - 1)]


def linf_distance(a: WeightedCdf, b: WeightedCdf) -> float:
    """sup |F_a(x) - F_b(x)|: both step functions only change at their own points."""
    if not a.count or not b.count:
        return 0.0
    points = np.union1d(a.points, b.points)
    return float(np.max(np.abs(a.at(points) - b.at(points))))


def ks_critical(n: int, m: int) -> float:
    return KS_C * math.sqrt((n + m) / (n * m)) if n and m else math.inf


def decile_shares(base: WeightedCdf, current: WeightedCdf) -> tuple[np.ndarray, np.ndarray]:
    """Both distributions' shares in bins cut at the baseline's deciles (ties merged)."""
    edges = np.unique(base.quantiles(np.linspace(0.1, 0.9, 9)))
    shares = []
    for cdf in (base, current):
        shares.append(np.diff(np.concatenate([[0.0], cdf.at(edges), [1.0]])))
    return shares[0], shares[1]


def psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


# The distances are computed here rather than with scipy.spatial / scipy.stats, whose imports take
# longer than a million-row check (about a second); scipy stays for the chi-squared test.
def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance, base 2 (scipy.spatial.distance.jensenshannon's)."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left, right = (np.where(x == 0, 0.0, x * np.log(x / m)).sum() for x in (p, q))
        return float(np.sqrt((left + right) / np.log(2) / 2))


def wasserstein(a: WeightedCdf, b: WeightedCdf) -> float:
    """The earth mover's distance between two CDFs: the area between them."""
    points = np.union1d(a.points, b.points)
    return float(np.sum(np.abs(a.at(points[:-1]) - b.at(points[:-1])) * np.diff(points)))


def numeric_distances(base: WeightedCdf, current: WeightedCdf, std_dev: float) -> dict[str, float]:
    p, q = decile_shares(base, current)
    moved = wasserstein(base, current)
    return {
        "linf": linf_distance(base, current),
        "psi": psi(p, q),
        "js": js_distance(p, q),
        "wasserstein": float(moved / std_dev if std_dev > 0 else moved),
    }


def category_counts(feature: dict[str, Any]) -> dict[str, float]:
    buckets = feature["string_statistics"].get("distribution", {}).get("categorical", {})
    return {str(b["value"]): number(b["count"]) for b in buckets.get("buckets", [])}


def categorical_distances(base: dict[str, float], current: dict[str, float]) -> dict[str, float]:
    categories = sorted(base.keys() | current.keys())
    p = np.array([base.get(c, 0.0) for c in categories])
    q = np.array([current.get(c, 0.0) for c in categories])
    p, q = p / (p.sum() or 1.0), q / (q.sum() or 1.0)
    gap = np.abs(p - q)
    return {
        "linf": float(gap.max(initial=0.0)),
        "psi": psi(p, q),
        "js": js_distance(p, q) if len(categories) else 0.0,
        "wasserstein": float(gap.sum() / 2),
    }


def chi_squared_p_value(base: dict[str, float], current: dict[str, float]) -> float:
    """Pearson's chi-squared test that both count vectors come from one distribution."""
    categories = sorted(c for c in base.keys() | current.keys() if base.get(c) or current.get(c))
    if len(categories) < 2:
        return 1.0
    table = np.array(
        [[base.get(c, 0.0) for c in categories], [current.get(c, 0.0) for c in categories]]
    )
    if not table[0].sum() or not table[1].sum():
        return 1.0
    from scipy.stats import chi2_contingency  # only when ChiSquared is configured (see above)

    return float(chi2_contingency(table, correction=False).pvalue)


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------
def as_numbers(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as numbers; a value that is not one becomes missing."""
    if pa.types.is_boolean(column.type):
        return column.cast(pa.int64())
    if inferred_type(column.type) in NUMERIC_TYPES or pa.types.is_null(column.type):
        return column

    def parse(text: str | None) -> float | None:
        try:
            return float(text) if text is not None else None
        except ValueError:
            return None

    return pa.chunked_array([pa.array([parse(t) for t in column.to_pylist()], pa.float64())])


def _histogram(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """np.histogram(values, BUCKETS, (low, high)) for values within [low, high]: bins [e_i,
    e_i+1), the last closed, counted with one comparison per edge rather than numpy's per-value
    bin index and its corrections (a third of the time)."""
    edges = np.linspace(low, high, BUCKETS + 1)
    if not np.isfinite(high - low):  # numpy's error for an infinite range, or its arithmetic
        return np.histogram(values, bins=BUCKETS, range=(low, high))
    below = [np.count_nonzero(values < edge) for edge in edges[1:-1]]
    return np.diff([0, *below, len(values)]), edges


def _present_numbers(column: pa.ChunkedArray) -> np.ndarray:
    """The column's values that are numbers (NaN included), as one float64 array."""
    numbers = as_numbers(column)
    kind = numbers.type
    if numbers.num_chunks and not numbers.null_count and kind in (pa.float64(), pa.int64()):
        # The CSV reader's case: the chunks' buffers joined and cast in one copy (pyarrow's
        # drop_null and to_numpy take twice as long).
        return np.concatenate([c.to_numpy() for c in numbers.chunks], dtype=np.float64)
    return np.asarray(pc.drop_null(numbers).to_numpy(zero_copy_only=False), dtype=np.float64)


def _numeric_statistics(column: pa.ChunkedArray, sketches: _Sketches) -> dict[str, Any]:
    values = _present_numbers(column)
    nan = np.isnan(values)
    if nan.any():
        values = values[~nan]
    missing = len(column) - len(values)
    stats: dict[str, Any] = {"common": {"num_present": len(values), "num_missing": missing}}
    if not len(values):
        return stats
    low, high = float(values.min()), float(values.max())
    counts, edges = _histogram(values, low, high if high > low else low + 1)
    total = float(values.sum())
    sketch: dict[str, Any] = {"parameters": {"c": KLL_C, "k": float(KLL_K)}, "data": None}
    sketches.add(values, sketch)
    stats.update(
        {
            "mean": total / len(values),  # as numpy's mean: the same sum, divided
            "sum": total,
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
                    "sketch": sketch,
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


def feature_statistics(
    name: str, column: pa.ChunkedArray, kind: str | None = None, sketches: _Sketches | None = None
) -> dict:
    kind = kind or inferred_type(column.type)
    feature: dict[str, Any] = {"name": name, "inferred_type": kind}
    if kind in NUMERIC_TYPES:
        feature["numerical_statistics"] = _numeric_statistics(column, sketches or _Sketches())
    else:
        feature["string_statistics"] = _string_statistics(column)
    return feature


def _features_statistics(
    columns: list[tuple[str, pa.ChunkedArray, str | None]], rows: int
) -> list[dict[str, Any] | Exception]:
    """feature_statistics of each (name, column, kind) in order, the sketches built in parallel
    where it pays; the first that raises ends the list with its exception, for the caller to
    raise where the serial loop did."""
    numeric = sum((kind or inferred_type(c.type)) in NUMERIC_TYPES for _, c, kind in columns)
    features: list[dict[str, Any] | Exception] = []
    with _sketching(rows, numeric) as sketches:
        for name, column, kind in columns:
            try:
                features.append(feature_statistics(name, column, kind, sketches))
            except Exception as error:  # the caller raises it, in its turn
                features.append(error)
                break
    return features


def statistics(table: pa.Table, types: dict[str, str] | None = None) -> dict[str, Any]:
    """statistics.json for a table (one column per feature). `types` (name → inferred_type, the
    baseline's) forces a feature's type; its values that are not of that type count as missing."""
    types = types or {}
    columns = [
        (name, column, types.get(name))
        for name, column in zip(table.column_names, table.columns, strict=True)
    ]
    features = _features_statistics(columns, table.num_rows)
    if features and isinstance(features[-1], Exception):
        raise features[-1]
    return {"version": 0.0, "dataset": {"item_count": table.num_rows}, "features": features}


def _common(feature: dict[str, Any]) -> dict[str, Any]:
    return (feature.get("numerical_statistics") or feature.get("string_statistics"))["common"]


def completeness(feature: dict[str, Any]) -> float:
    common = _common(feature)
    total = number(common["num_present"]) + number(common["num_missing"])
    return number(common["num_present"]) / total if total else 1.0


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
            constraint["num_constraints"] = {"is_non_negative": number(numeric.get("min", 0)) >= 0}
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
# The constraints' monitoring_config, per feature
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureConfig:
    evaluate: bool
    emit: bool
    datatype_threshold: float
    domain_threshold: float
    compare: bool
    threshold: float
    robust: bool
    categorical_threshold: float
    categorical_method: str  # "LInfinity" | "ChiSquared"


def _enabled(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("Enabled", "Disabled"):
        return value == "Enabled"
    raise ConfigError(f"constraints: {key} must be Enabled or Disabled, not {value!r}")


def _merged(config: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    if not override:
        return config
    merged = {**config, **override}
    for key in ("distribution_constraints", "distributionConstraints"):
        if isinstance(override.get(key), dict):
            merged["distribution_constraints"] = {
                **config.get("distribution_constraints", {}),
                **override[key],
            }
    return merged


def feature_config(constraints: dict[str, Any], feature: dict[str, Any]) -> FeatureConfig:
    """The monitoring_config that applies to one feature: the file's, then the feature's
    overrides (feature level, as the SageMaker SDK writes them, then inside its constraints)."""
    config = constraints.get("monitoring_config") or DEFAULT_MONITORING_CONFIG
    for holder in (feature, feature.get("num_constraints"), feature.get("string_constraints")):
        if isinstance(holder, dict):
            for key in ("monitoring_config_overrides", "monitoringConfigOverrides"):
                config = _merged(config, holder.get(key))
    distribution = config.get("distribution_constraints") or {}
    if "perform_comparison" in distribution:
        compare = _enabled(distribution["perform_comparison"], "perform_comparison")
    else:
        compare = _enabled(distribution.get("enable_comparisons", True), "enable_comparisons")
    threshold = number(distribution.get("comparison_threshold", 0.1))
    method = distribution.get("comparison_method", "Robust")
    categorical_method = distribution.get("categorical_drift_method", "LInfinity")
    if method not in ("Simple", "Robust"):
        raise ConfigError(
            f"constraints: comparison_method must be Simple or Robust, not {method!r}"
        )
    if categorical_method not in ("LInfinity", "ChiSquared"):
        raise ConfigError(
            "constraints: categorical_drift_method must be LInfinity or ChiSquared, not "
            f"{categorical_method!r}"
        )
    domain = config.get("domain_content_threshold", distribution.get("min_domain_mass", 1.0))
    return FeatureConfig(
        evaluate=_enabled(config.get("evaluate_constraints", "Enabled"), "evaluate_constraints"),
        emit=_enabled(config.get("emit_metrics", "Enabled"), "emit_metrics"),
        datatype_threshold=number(config.get("datatype_check_threshold", 1.0)),
        domain_threshold=number(domain),
        compare=compare,
        threshold=threshold,
        robust=method == "Robust",
        categorical_threshold=number(
            distribution.get("categorical_comparison_threshold", threshold)
        ),
        categorical_method=categorical_method,
    )


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


@dataclass(frozen=True)
class DataQualityResult:
    statistics: dict[str, Any]  # the current data's statistics.json
    violations: list[dict[str, Any]]  # constraint_violations.json's entries
    drift: dict[str, float]  # feature → distance of the method that fires
    distances: dict[str, dict[str, float]]  # feature → {method: distance}, every method
    metrics: dict[str, float]  # CloudWatch metric name → value (what emit_metrics allows)
    evaluated: bool  # False when monitoring_config.evaluate_constraints is Disabled


def type_matches(column: pa.ChunkedArray, expected: str) -> tuple[int, int]:
    """(present values, values that have the expected type)."""
    if expected in NUMERIC_TYPES and (
        pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)
    ):
        present = len(column) - column.null_count
        return present, present
    if expected in NUMERIC_TYPES and pa.types.is_floating(column.type):
        # In arrow, without a float64 copy of the column: numbers, and for Integral whole ones.
        ok = pc.invert(pc.is_nan(column))
        if expected == "Integral":
            ok = pc.and_(pc.is_finite(column), pc.equal(column, pc.floor(column)))
        return len(column) - column.null_count, pc.sum(ok).as_py() or 0
    present = pc.drop_null(column)
    if expected not in NUMERIC_TYPES:
        return len(present), len(present)
    values = np.asarray(as_numbers(present).to_numpy(zero_copy_only=False), dtype=np.float64)
    ok = ~np.isnan(values)
    if expected == "Integral":
        ok &= np.isfinite(values) & (values == np.floor(values))
    return len(present), int(np.count_nonzero(ok))


def _violation(name: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


def _unmet(value: float) -> str:
    """The analyzer's (Deequ's) wording, trailing space included."""
    return f"Value: {float(value)!r} does not meet the constraint requirement! "


def _first(lines: list[int]) -> str:
    return f"; first at line {lines[0]}" if lines and lines[0] else ""


def _column_violations(current: CurrentData, expected: int) -> list[dict[str, str]]:
    violations = []
    for kind, names, rows, sign in (
        ("missing", current.missing_columns, current.short_rows, -1),
        ("extra", current.extra_columns, current.long_rows, 1),
    ):
        if not names and not rows:
            continue
        observed = expected + sign * len(names) if names else expected + sign
        detail = f" ({', '.join(names)})" if names else f" ({len(rows)} rows{_first(rows)})"
        violations.append(
            _violation(
                ", ".join(names),
                f"{kind}_column_check",
                f"There are {kind} columns in current dataset. Number of columns in current "
                f"dataset: {observed}, Number of columns in baseline constraints: {expected}"
                + detail,
            )
        )
    return violations


def _drift_fires(
    method: str, numeric: bool, distances: dict[str, float], config: FeatureConfig, ks: float
) -> tuple[bool, str]:
    if method != "linf":
        limit = DRIFT_THRESHOLDS[method]
        value = distances[method]
        return value > limit, f"Baseline drift distance: {value!r} exceeds threshold: {limit!r}"
    value = distances["linf"]
    if numeric:
        fires = value > config.threshold and (not config.robust or value > ks)
        return fires, f"Baseline drift distance: {value!r} exceeds threshold: {config.threshold!r}"
    limit = config.categorical_threshold
    return value > limit, f"Baseline drift distance: {value!r} exceeds threshold: {limit!r}"


def check(
    baseline: dict[str, Any],
    constraints: dict[str, Any],
    current: CurrentData,
    drift_method: str = "linf",
) -> DataQualityResult:
    """The current data checked against a baseline's statistics and constraints."""
    if drift_method not in DRIFT_METHODS:
        raise ConfigError(f"drift method {drift_method!r}: one of {', '.join(DRIFT_METHODS)}")
    top = feature_config(constraints, {})
    base_by_name = {f["name"]: f for f in baseline["features"]}
    table = current.table
    violations = _column_violations(current, len(constraints["features"]))
    drift: dict[str, float] = {}
    distances: dict[str, dict[str, float]] = {}
    metrics: dict[str, float] = {}
    current_features = []
    computed = iter(_features_statistics(_checked_columns(constraints, table), table.num_rows))

    for constraint in constraints["features"]:
        name = constraint["name"]
        if name not in table.column_names:
            continue
        config = feature_config(constraints, constraint)
        column = table.column(name)
        expected = constraint["inferred_type"]
        stats = next(computed)
        if isinstance(stats, Exception):
            raise stats
        current_features.append(stats)
        found = []

        present, matching = type_matches(column, expected)
        if present and matching / present < config.datatype_threshold:
            found.append(_violation(name, "data_type_check", _unmet(matching / present)))
        observed = completeness(stats) if len(column) else 1.0
        if observed < number(constraint.get("completeness", 0.0)):
            found.append(_violation(name, "completeness_check", _unmet(observed)))
        domain = (constraint.get("string_constraints") or {}).get("domains")
        counts = category_counts(stats) if "string_statistics" in stats else {}
        if domain is not None and counts:
            inside = sum(v for k, v in counts.items() if k in set(map(str, domain)))
            share = inside / sum(counts.values())
            if share < config.domain_threshold:
                found.append(_violation(name, "categorical_values_check", _unmet(share)))

        base = base_by_name.get(name)
        fires, description, value = _drift(base, stats, config, drift_method, distances)
        if value is not None and config.compare:
            drift[name] = value
            if config.emit:
                metrics[f"feature_baseline_drift_{name}"] = value
            if fires:
                found.append(_violation(name, "baseline_drift_check", description))
        if config.evaluate:
            violations += found

    evaluated = top.evaluate
    if not evaluated:
        violations = []
    if top.emit:
        metrics["max_feature_baseline_drift"] = max(drift.values(), default=0.0)
        if evaluated:
            metrics["data_quality_violations"] = float(len(violations))
    else:
        metrics = {}
    current_stats = {
        "version": 0.0,
        "dataset": {"item_count": table.num_rows},
        "features": current_features,
    }
    return DataQualityResult(current_stats, violations, drift, distances, metrics, evaluated)


def _checked_columns(
    constraints: dict[str, Any], table: pa.Table
) -> list[tuple[str, pa.ChunkedArray, str | None]]:
    """(name, column, expected type) of each feature check() computes the statistics of, in its
    order, so they are computed at once. It stops at a feature that check() fails on before
    computing its statistics (a constraint without a name, a type): check() raises there."""
    columns = []
    for constraint in constraints["features"]:
        try:
            name = constraint["name"]
            if name not in table.column_names:
                continue
            columns.append((name, table.column(name), constraint["inferred_type"]))
        except Exception:  # check() meets it too, before it asks for these statistics
            break
    return columns


def _drift(
    base: dict[str, Any] | None,
    stats: dict[str, Any],
    config: FeatureConfig,
    method: str,
    distances: dict[str, dict[str, float]],
) -> tuple[bool, str, float | None]:
    """(fires, description, the firing method's distance) for one feature; its distances by
    every method go into `distances`."""
    if base is None:
        return False, "", None
    name = stats["name"]
    if "numerical_statistics" in base and "numerical_statistics" in stats:
        a, b = numeric_cdf(base), numeric_cdf(stats)
        if a is None or b is None or not a.count or not b.count:
            return False, "", None
        std_dev = number(base["numerical_statistics"].get("std_dev", 0.0))
        distances[name] = numeric_distances(a, b, std_dev if math.isfinite(std_dev) else 0.0)
        n = int(number(base["numerical_statistics"]["common"]["num_present"]))
        m = int(number(stats["numerical_statistics"]["common"]["num_present"]))
        fires, description = _drift_fires(method, True, distances[name], config, ks_critical(n, m))
        return fires, description, distances[name][method]
    if "string_statistics" in base and "string_statistics" in stats:
        p, q = category_counts(base), category_counts(stats)
        if not p or not q:
            return False, "", None
        distances[name] = categorical_distances(p, q)
        if method == "linf" and config.categorical_method == "ChiSquared":
            p_value = chi_squared_p_value(p, q)
            limit = config.categorical_threshold
            return (
                p_value < limit,
                f"Baseline drift chi-squared p-value: {p_value!r} is below threshold: {limit!r}",
                distances[name]["linf"],
            )
        fires, description = _drift_fires(method, False, distances[name], config, 0.0)
        return fires, description, distances[name][method]
    return False, "", None


def numeric_cdf(feature: dict[str, Any]) -> WeightedCdf | None:
    numeric = feature["numerical_statistics"]
    if "distribution" not in numeric:
        return None
    return WeightedCdf.from_levels(numeric["distribution"]["kll"]["sketch"]["data"])

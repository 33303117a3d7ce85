"""Drift scenarios: altered traffic through the endpoint, every check on each, one report.

Traffic is fresh labelled rows with the baseline's features (by default new rows from the sample
generator, a seed the model never saw; `--data` for any other model). For a binary model the
positives are enriched to POSITIVE_SHARE so model quality has enough of them per scenario; that
share moves any feature's CDF by at most POSITIVE_SHARE, well under the drift threshold. Each
scenario's requests carry InferenceIds with its own prefix, and its ground truth is written for
exactly those ids, so its checks see only its own traffic.

Each scenario picks its features from the baseline (`Profile`): their types, value ranges,
completeness and domains, and their rank. Features are ranked by the baseline's global
attribution (the mean over the labels) or, without attributions, numeric features by spread
(std_dev / (max - min), largest first) and the others after them in the baseline's order. The
scenarios take different ranks, so on a baseline with enough features each alters features the
others leave alone; with fewer, a scenario takes the first it can use. A scenario the baseline
gives nothing to work on is skipped with the reason (NotApplicable), which is not a failure.

Scenario: the features it picks → its change → the check that must fire.
- clean: none → unchanged → nothing
- mean_shift: numeric ranks 1-2 → +1.5 baseline sd → baseline_drift_check
- scale_change: numeric ranks 3-7 (else the first five) → spread doubled around the baseline
  mean → baseline_drift_check
- missing_values: complete (completeness 1.0) ranks 9-10 (else the first two) → 10% of values
  left empty → completeness_check
- out_of_range: numeric (min < max) rank 8 (else the first) → 20% of rows 0.5-2 spans above
  the baseline's maximum → baseline_drift_check
- type_change: the first Integral feature → +0.5, fractions → data_type_check; none: skipped
- categorical_values: the first String feature with string_constraints.domains → 20% of values
  outside the domain → categorical_values_check; none: skipped
- stuck_features: the numeric ones of the features of attribution ranks 11-20 (>= 20
  features, else the middle third) → stuck at their baseline minimum, a sentinel value a
  broken pipeline fills in → feature_attribution_drift_check; no attributions: skipped
- label_flips: the label → binary: 30% flipped; multiclass: 30% moved to another class;
  regression: noise of 2 label sd added → any model-quality violation; no model-quality
  constraints: skipped
- missing_column / extra_column: the last feature dropped / a new column added →
  missing_column_check / extra_column_check

Ranks count among the features a scenario can use, except stuck_features' (among all
features); a scenario's description names the features chosen and their rank among all.
Integral features keep whole values (shifts and spreads are rounded), so only type_change fires
data_type_check. Rows of the wrong width are rejected by the endpoint (400) and never reach the
capture: missing_column and extra_column count the rejections and check the same rows as a
batch input file (`data-quality --data`). Prediction drift is run on every scenario when the
baseline has prediction statistics; it is reported, not asserted.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from botocore.exceptions import ClientError

from operators.errors import ByoError
from operators.ground_truth import label_record, write_labels
from operators.monitoring import datasets
from operators.monitoring.captures import Window
from operators.monitoring.files import number

if TYPE_CHECKING:  # the monitor imports xgboost and scikit-learn: only when scenarios run
    from operators.monitoring.baselines import Baseline
    from operators.monitoring.monitor import CheckResult, Monitor

POSITIVE_SHARE = 0.03
ROWS_PER_REQUEST = 50
CONCURRENCY = 4
POOL_ROWS = 300_000
CAPTURE_TIMEOUT_S = 900.0
NUMERIC = ("Integral", "Fractional")
# Checks whose violations are shown but judge no scenario (a label-independent input shift
# need not move the model's outputs).
REPORTED_ONLY = ("prediction-drift",)


class NotApplicable(ByoError):
    """The baseline has nothing this scenario can alter; the reason says what is missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------------------------
# What the planner reads of a baseline
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    features: list[str]  # the baseline's order
    types: dict[str, str]  # name → inferred_type
    numeric: dict[str, dict[str, float]]  # usable numeric features → mean, std_dev, min, max
    completeness: dict[str, float]
    domains: dict[str, list[str]]  # String features with string_constraints.domains
    ranking: list[str]  # every feature, most important first
    ranked_by: str  # "attribution" | "spread"
    problem_type: str | None  # None: no model-quality constraints

    @classmethod
    def of(cls, baseline: Baseline) -> Profile:
        features = list(baseline.features)
        types = baseline.types
        statistics = {f["name"]: f for f in baseline.data_statistics["features"]}
        constraints = {f["name"]: f for f in baseline.data_constraints.get("features", [])}
        numeric, completeness, domains = {}, {}, {}
        for name in features:
            stats = statistics.get(name, {})
            common = (
                stats.get("numerical_statistics") or stats.get("string_statistics") or {}
            ).get("common", {})
            present, missing = (number(common.get(k, 0)) for k in ("num_present", "num_missing"))
            default = present / (present + missing) if present + missing else 1.0
            completeness[name] = number(constraints.get(name, {}).get("completeness", default))
            values = stats.get("numerical_statistics", {})
            summary = {k: number(values.get(k, "NaN")) for k in ("mean", "std_dev", "min", "max")}
            if (
                types.get(name) in NUMERIC
                and all(np.isfinite(v) for v in summary.values())
                and summary["max"] > summary["min"]
                and summary["std_dev"] > 0
            ):
                numeric[name] = summary
            domain = constraints.get(name, {}).get("string_constraints", {}).get("domains")
            if types.get(name) == "String" and domain:
                domains[name] = [str(v) for v in domain]
        by_label = baseline.attributions()
        if by_label:
            mean = {
                name: float(np.mean([values.get(name, 0.0) for values in by_label.values()]))
                for name in features
            }
            ranking = sorted(features, key=lambda n: -mean[n])
            ranked_by = "attribution"
        else:

            def spread(name: str) -> float:
                s = numeric[name]
                return s["std_dev"] / (s["max"] - s["min"])

            ranking = sorted(numeric, key=lambda n: -spread(n))
            ranking += [n for n in features if n not in numeric]
            ranked_by = "spread"
        problem_type = baseline.problem_type if baseline.model_constraints is not None else None
        return cls(
            features,
            types,
            numeric,
            completeness,
            domains,
            ranking,
            ranked_by,
            problem_type,
        )

    @property
    def has_attributions(self) -> bool:
        return self.ranked_by == "attribution"

    def ranked(self, keep: Callable[[str], bool]) -> list[str]:
        return [n for n in self.ranking if keep(n)]

    def named(self, names: list[str]) -> str:
        """'V14, V4 (attribution ranks 1, 2)' for descriptions."""
        ranks = ", ".join(str(self.ranking.index(n) + 1) for n in names)
        plural = "s" if len(names) > 1 else ""
        return f"{', '.join(names)} ({self.ranked_by} rank{plural} {ranks})"


def _take(candidates: list[str], start: int, count: int) -> list[str]:
    """candidates[start:start + count], or the first `count` when there are too few: scenarios
    alter different features when the baseline has enough of them."""
    if len(candidates) >= start + count:
        return candidates[start : start + count]
    return candidates[:count]


# ---------------------------------------------------------------------------------------------
# Traffic and its alterations
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Traffic:
    # The baseline's features in order: float64 (NaN = missing), or object for String features
    # (None = missing).
    columns: dict[str, np.ndarray]
    labels: np.ndarray | None  # float64; None when the data has no label (no model quality)
    rng: np.random.Generator

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @property
    def size(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


@dataclass(frozen=True)
class Altered:
    """What a scenario sends: text rows (headerless CSV lines) and the labels it reports."""

    rows: list[str]
    labels: np.ndarray | None
    changed: list[str]  # the features it altered (plotted in the report)
    header: list[str] | None = None  # a batch-file scenario's header (None: sent as captured)


@dataclass(frozen=True)
class Planned:
    """A scenario as it applies to one baseline."""

    description: str  # names the features chosen
    changed: list[str]
    alter: Callable[[Traffic], Altered]


@dataclass(frozen=True)
class Scenario:
    name: str
    expected: tuple[str, ...]  # check types that must fire, or a check's name: any violation
    plan: Callable[[Profile], Planned]  # raises NotApplicable
    batch_file: bool = False  # checked as a batch input file, not through the capture


def _cells(values: np.ndarray) -> list[str]:
    if values.dtype == object:
        out = []
        for v in values:
            text = "" if v is None else str(v)
            if any(c in text for c in ',"\n\r'):
                text = '"' + text.replace('"', '""') + '"'
            out.append(text)
        return out
    # integers without a decimal point (they stay Integral), NaN as an empty field
    return ["" if np.isnan(v) else f"{v:.10g}" for v in values]


def format_rows(columns: list[np.ndarray]) -> list[str]:
    """Headerless CSV lines from columns of equal length."""
    return [",".join(row) for row in zip(*(_cells(c) for c in columns), strict=True)]


def _with(traffic: Traffic, changes: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [changes.get(name, values) for name, values in traffic.columns.items()]


def _whole(profile: Profile, name: str, values: np.ndarray, rounding=np.round) -> np.ndarray:
    """Integral features keep whole values (so only type_change changes a type)."""
    return rounding(values) if profile.types.get(name) == "Integral" else values


def _unchanged(traffic: Traffic) -> Altered:
    return Altered(format_rows(list(traffic.columns.values())), traffic.labels, [])


def _clean(profile: Profile) -> Planned:
    return Planned("unchanged traffic", [], _unchanged)


def _mean_shift(profile: Profile) -> Planned:
    names = _take(profile.ranked(lambda n: n in profile.numeric), 0, 2)
    if not names:
        raise NotApplicable("the baseline has no numeric feature with a spread")
    sds = 1.5

    def alter(traffic: Traffic) -> Altered:
        changes = {}
        for name in names:
            step = sds * profile.numeric[name]["std_dev"]
            if profile.types[name] == "Integral":
                step = max(1.0, round(step))
            changes[name] = traffic.columns[name] + step
        return Altered(format_rows(_with(traffic, changes)), traffic.labels, names)

    return Planned(
        f"{profile.named(names)} moved by +{sds} baseline standard deviations", names, alter
    )


def _scale_change(profile: Profile) -> Planned:
    names = _take(profile.ranked(lambda n: n in profile.numeric), 2, 5)
    if not names:
        raise NotApplicable("the baseline has no numeric feature with a spread")
    factor = 2.0

    def alter(traffic: Traffic) -> Altered:
        changes = {}
        for name in names:
            mean = profile.numeric[name]["mean"]
            spread = mean + (traffic.columns[name] - mean) * factor
            changes[name] = _whole(profile, name, spread)
        return Altered(format_rows(_with(traffic, changes)), traffic.labels, names)

    return Planned(f"{profile.named(names)}: spread doubled around the baseline mean", names, alter)


def _out_of_range(profile: Profile) -> Planned:
    names = _take(profile.ranked(lambda n: n in profile.numeric), 7, 1)
    if not names:
        raise NotApplicable("the baseline has no numeric feature with min < max")
    (name,) = names
    share = 0.20

    def alter(traffic: Traffic) -> Altered:
        stats = profile.numeric[name]
        values = traffic.columns[name].copy()
        rows = traffic.rng.random(len(values)) < share
        span = stats["max"] - stats["min"]
        beyond = stats["max"] + traffic.rng.uniform(0.5 * span, 2 * span, rows.sum())
        values[rows] = _whole(profile, name, beyond, np.ceil)
        return Altered(format_rows(_with(traffic, {name: values})), traffic.labels, names)

    return Planned(
        f"{share:.0%} of rows with {profile.named(names)} 0.5-2 spans above the baseline's maximum",
        names,
        alter,
    )


def _missing_values(profile: Profile) -> Planned:
    names = _take(profile.ranked(lambda n: profile.completeness.get(n, 0.0) >= 1.0), 8, 2)
    if not names:
        raise NotApplicable("no feature of the baseline is complete (completeness 1.0)")
    share = 0.10

    def alter(traffic: Traffic) -> Altered:
        changes = {}
        for name in names:
            values = traffic.columns[name].copy()
            values[traffic.rng.random(len(values)) < share] = (
                None if values.dtype == object else np.nan
            )
            changes[name] = values
        return Altered(format_rows(_with(traffic, changes)), traffic.labels, names)

    return Planned(f"{share:.0%} of {profile.named(names)} left empty", names, alter)


def _type_change(profile: Profile) -> Planned:
    names = _take(profile.ranked(lambda n: profile.types.get(n) == "Integral"), 0, 1)
    if not names:
        raise NotApplicable("the baseline has no Integral feature to send with fractions")

    def alter(traffic: Traffic) -> Altered:
        changes = {names[0]: traffic.columns[names[0]] + 0.5}
        return Altered(format_rows(_with(traffic, changes)), traffic.labels, names)

    return Planned(
        f"an Integral feature, {profile.named(names)}, sent with fractions (+0.5)", names, alter
    )


def _categorical_values(profile: Profile) -> Planned:
    names = _take(profile.ranked(lambda n: n in profile.domains), 0, 1)
    if not names:
        raise NotApplicable(
            "the baseline has no String feature with a domain (string_constraints.domains)"
        )
    (name,) = names
    domain = set(profile.domains[name])
    unseen = [v for v in (f"unseen-{k}" for k in range(len(domain) + 3)) if v not in domain][:3]
    share = 0.20

    def alter(traffic: Traffic) -> Altered:
        values = traffic.columns[name].copy()
        rows = np.flatnonzero(traffic.rng.random(len(values)) < share)
        values[rows] = np.asarray(unseen, dtype=object)[traffic.rng.integers(0, 3, len(rows))]
        return Altered(format_rows(_with(traffic, {name: values})), traffic.labels, names)

    return Planned(
        f"{share:.0%} of {profile.named(names)} sent with values outside its domain "
        f"({', '.join(unseen)})",
        names,
        alter,
    )


def _stuck_features(profile: Profile) -> Planned:
    """The features of middle attribution rank stuck at their baseline minimum: the model now
    leans on them (the ranks 11-20 of the sample's fraud models measured nDCG 0.85-0.87).
    Milder breakage hardly moves such a ranking: the top three stuck at their median, or
    swapped with the bottom three, measured nDCG >= 0.99."""
    if not profile.has_attributions:
        raise NotApplicable(
            "the baseline has no feature attributions (attribution/analysis.json) to rank by"
        )
    count = len(profile.ranking)
    middle = profile.ranking[10:20] if count >= 20 else profile.ranking[count // 3 : 2 * count // 3]
    names = [n for n in middle if n in profile.numeric]
    if not names:
        raise NotApplicable("the baseline has no numeric feature of middle attribution rank")

    def alter(traffic: Traffic) -> Altered:
        changes = {
            name: np.full(traffic.size, profile.numeric[name]["min"], dtype=np.float64)
            for name in names
        }
        return Altered(format_rows(_with(traffic, changes)), traffic.labels, names)

    return Planned(
        f"{len(names)} features, {profile.named(names)}, stuck at their baseline minimum, a "
        "sentinel value a broken pipeline fills in",
        names,
        alter,
    )


def _label_flips(profile: Profile) -> Planned:
    problem_type = profile.problem_type
    if problem_type is None:
        raise NotApplicable("the baseline has no model-quality constraints to break")
    share = 0.30

    def alter(traffic: Traffic) -> Altered:
        if traffic.labels is None:
            raise NotApplicable("the traffic data has no labels")
        labels = traffic.labels.astype(np.float64, copy=True)
        moved = traffic.rng.random(len(labels)) < share
        if problem_type == "BinaryClassification":
            labels[moved] = 1 - labels[moved]
        elif problem_type == "MulticlassClassification":
            classes = np.unique(labels)
            if len(classes) < 2:
                raise NotApplicable("the traffic holds one class only: no other to move to")
            index = np.searchsorted(classes, labels[moved])
            offset = traffic.rng.integers(1, len(classes), moved.sum())
            labels[moved] = classes[(index + offset) % len(classes)]
        else:
            labels += traffic.rng.normal(0.0, 2 * labels.std(), len(labels))
        return Altered(format_rows(list(traffic.columns.values())), labels, [])

    how = {
        "BinaryClassification": f"{share:.0%} of the ground-truth labels flipped",
        "MulticlassClassification": f"{share:.0%} of the ground-truth labels moved to another "
        "class",
    }.get(problem_type, "noise of 2 label standard deviations added to the ground truth")
    return Planned(f"{how} (concept drift): inputs unchanged", [], alter)


def _missing_column(profile: Profile) -> Planned:
    name = profile.features[-1]

    def alter(traffic: Traffic) -> Altered:
        keep = [n for n in traffic.names if n != name]
        return Altered(
            format_rows([traffic.columns[n] for n in keep]), traffic.labels, [name], header=keep
        )

    return Planned(f"rows one column short (the last, {name}): a batch input file", [name], alter)


def _extra_column(profile: Profile) -> Planned:
    name = "Extra"
    while name in profile.features:
        name += "_"

    def alter(traffic: Traffic) -> Altered:
        extra = traffic.rng.normal(size=traffic.size)
        return Altered(
            format_rows([*traffic.columns.values(), extra]),
            traffic.labels,
            [name],
            header=[*traffic.names, name],
        )

    return Planned(f"rows with one more column ({name}): a batch input file", [name], alter)


SCENARIOS = (
    Scenario("clean", (), _clean),
    Scenario("mean_shift", ("baseline_drift_check",), _mean_shift),
    Scenario("scale_change", ("baseline_drift_check",), _scale_change),
    Scenario("missing_values", ("completeness_check",), _missing_values),
    Scenario("out_of_range", ("baseline_drift_check",), _out_of_range),
    Scenario("type_change", ("data_type_check",), _type_change),
    Scenario("categorical_values", ("categorical_values_check",), _categorical_values),
    Scenario("stuck_features", ("feature_attribution_drift_check",), _stuck_features),
    Scenario("label_flips", ("model-quality",), _label_flips),
    Scenario("missing_column", ("missing_column_check",), _missing_column, batch_file=True),
    Scenario("extra_column", ("extra_column_check",), _extra_column, batch_file=True),
)


def plan(profile: Profile, scenario: Scenario) -> Planned | NotApplicable:
    """The scenario on this baseline, or why it does not apply."""
    try:
        return scenario.plan(profile)
    except NotApplicable as exc:
        return exc


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass
class ScenarioResult:
    name: str
    description: str
    expected: list[str]
    changed: list[str]
    status: str = "ran"  # "ran" | "skipped"
    reason: str = ""  # why it was skipped
    sent: int = 0
    rejected: Counter = field(default_factory=Counter)  # error code -> requests
    variants: Counter = field(default_factory=Counter)
    results: list[CheckResult] = field(default_factory=list)

    @property
    def fired(self) -> list[str]:
        """Constraint check types that fired, in the checks that judge the scenario."""
        return sorted(
            {
                v["constraint_check_type"]
                for r in self.results
                if r.check not in REPORTED_ONLY
                for v in r.violations
            }
        )

    def _met(self, expected: str) -> bool:
        checks = {r.check: r for r in self.results}
        if expected in checks:
            return bool(checks[expected].violations)
        return expected in self.fired

    @property
    def as_expected(self) -> bool:
        if self.status == "skipped":
            return True
        if not self.expected:
            return not self.fired
        return all(self._met(e) for e in self.expected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "description": self.description,
            "expected": self.expected,
            "fired": self.fired,
            "as_expected": self.as_expected,
            "changed": self.changed,
            "sent_rows": self.sent,
            "rejected_requests": dict(self.rejected),
            "variants": dict(self.variants),
            "checks": [r.as_dict() for r in self.results],
        }


@dataclass
class Outcome:
    run_id: str
    scenarios: list[ScenarioResult]
    report: str  # local path of report.html
    report_uri: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "report": self.report,
            "report_uri": self.report_uri,
            "scenarios": [s.as_dict() for s in self.scenarios],
        }


# ---------------------------------------------------------------------------------------------
# Drawing, sending, waiting
# ---------------------------------------------------------------------------------------------
def _column(table: pa.Table, name: str, kind: str) -> np.ndarray:
    column = table.column(name)
    if kind == "String":
        return np.asarray(column.cast(pa.string()).to_pylist(), dtype=object)
    try:
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise ByoError(
            f"the traffic data's column {name!r} does not hold numbers (the baseline's type "
            f"is {kind})"
        ) from None


def draw_traffic(
    monitor: Monitor, data_file: Path | None, rows: int, seed: int
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """`rows` rows in the baseline's feature order, and their labels (None when the data has
    none and the baseline has no model quality to check). A binary model's positives are
    enriched to POSITIVE_SHARE."""
    baseline = monitor.baseline()
    label = baseline.label_name or "Class"
    needs_labels = baseline.model_constraints is not None
    if data_file is not None:
        dataset = datasets.read_dataset(data_file, label, types=baseline.types)
        table, labels = dataset.features, dataset.label
        if labels is None and needs_labels:
            raise ByoError(f"{data_file} has no {label!r} column: model quality needs labels")
    else:
        from sample.generate import generate

        table = generate(rows=POOL_ROWS, seed=10_000 + seed)
        labels = None
        if label in table.column_names:
            labels = table.column(label).to_numpy().astype(np.float64)
            table = table.drop_columns([label])
    missing = [n for n in baseline.features if n not in table.column_names]
    if missing:
        raise ByoError(
            f"the traffic data lacks the baseline's features {', '.join(missing)}"
            + ("" if data_file else ": pass --data with labelled rows of the model's features")
        )
    types = baseline.types
    columns = {n: _column(table, n, types.get(n, "Fractional")) for n in baseline.features}
    rng = np.random.default_rng(seed)
    if labels is not None and baseline.problem_type == "BinaryClassification" and needs_labels:
        positives = np.flatnonzero(labels == 1)
        negatives = np.flatnonzero(labels == 0)
        want_pos = max(1, round(rows * POSITIVE_SHARE))
        if len(positives) < want_pos or len(negatives) < rows - want_pos:
            raise ByoError(
                f"the traffic data has {len(positives)} positives and {len(negatives)} "
                f"negatives; {rows} rows at {POSITIVE_SHARE:.0%} positives need {want_pos} and "
                f"{rows - want_pos}"
            )
        chosen = np.concatenate(
            [
                rng.choice(positives, want_pos, replace=False),
                rng.choice(negatives, rows - want_pos, replace=False),
            ]
        )
        rng.shuffle(chosen)
    else:
        if table.num_rows < rows:
            raise ByoError(f"the traffic data has {table.num_rows} rows; --rows asks for {rows}")
        chosen = rng.choice(table.num_rows, rows, replace=False)
    return (
        {name: values[chosen] for name, values in columns.items()},
        labels[chosen] if labels is not None else None,
    )


def send(
    monitor: Monitor, rows: list[str], prefix: str, result: ScenarioResult
) -> dict[str, list[int]]:
    """Send rows in requests of ROWS_PER_REQUEST; return InferenceId → row indexes accepted."""
    runtime = monitor.clients.client("sagemaker-runtime")
    batches = [
        (
            f"{prefix}{start // ROWS_PER_REQUEST:05d}",
            list(range(start, min(start + ROWS_PER_REQUEST, len(rows)))),
        )
        for start in range(0, len(rows), ROWS_PER_REQUEST)
    ]

    def one(batch):
        inference_id, indexes = batch
        body = "\n".join(rows[i] for i in indexes) + "\n"
        try:
            answer = runtime.invoke_endpoint(
                EndpointName=monitor.endpoint,
                Body=body.encode(),
                ContentType="text/csv",
                Accept="text/csv",
                InferenceId=inference_id,
            )
            answer["Body"].read()
            return inference_id, indexes, answer.get("InvokedProductionVariant", "?"), None
        except ClientError as exc:
            return inference_id, indexes, None, exc.response["Error"].get("Code", "error")

    accepted = {}
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for inference_id, indexes, variant, error in pool.map(one, batches):
            result.sent += len(indexes)
            if error:
                result.rejected[error] += 1
            else:
                result.variants[variant] += 1
                accepted[inference_id] = indexes
    return accepted


def wait_for_captures(
    monitor: Monitor,
    window: Window,
    expected: int,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> list:
    """The window's captures, once all `expected` requests have landed. Polled with a growing
    pause (0.5 s doubling to 10 s): the embedded AWS writes captures every second, AWS within
    minutes."""
    deadline = time.monotonic() + timeout_s
    pause = 0.5
    while True:
        captures = monitor.captures(window)
        if len(captures) >= expected:
            return captures
        if time.monotonic() > deadline:
            raise ByoError(
                f"only {len(captures)} of {expected} captured requests arrived within "
                f"{timeout_s:.0f} s: is data capture on at 100%?"
            )
        sleep(pause)
        pause = min(pause * 2, 10.0)


def _ground_truth(labels: np.ndarray, indexes: list[int], problem_type: str | None) -> list:
    """A request's labels as ground truth: class numbers whole, regression values as they are."""
    if problem_type == "Regression":
        return [float(labels[i]) for i in indexes]
    return [int(labels[i]) for i in indexes]


def run(
    monitor: Monitor,
    *,
    data_file: Path | None = None,
    rows: int = 4000,
    seed: int = 0,
    only: tuple[str, ...] = (),
    report_dir: Path = Path("build/monitoring/report"),
    progress: Callable[[str], None] = lambda line: None,
    capture_timeout_s: float = CAPTURE_TIMEOUT_S,
    drift_method: str = "linf",
) -> Outcome:
    from operators.monitoring import report  # matplotlib: only when the report is drawn

    # Scenario traffic is a test: its metrics must not reach the alarms.
    monitor.publish_metrics = False
    baseline = monitor.baseline()
    profile = Profile.of(baseline)
    columns, labels = draw_traffic(monitor, data_file, rows, seed)
    checks_model = baseline.model_constraints is not None and labels is not None
    checks_attribution = baseline.attribution is not None and baseline.model_bytes is not None
    checks_prediction = baseline.prediction_statistics is not None
    run_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    chosen = [s for s in SCENARIOS if not only or s.name in only or s.name == "clean"]
    results = []
    for index, scenario in enumerate(chosen):
        planned = plan(profile, scenario)
        altered = None
        if isinstance(planned, Planned):
            traffic = Traffic(columns, labels, np.random.default_rng([seed, index]))
            try:
                altered = planned.alter(traffic)
            except NotApplicable as exc:
                planned = exc
        if altered is None:
            progress(f"{scenario.name}: skipped ({planned.reason})")
            results.append(
                ScenarioResult(
                    scenario.name,
                    planned.reason,
                    list(scenario.expected),
                    [],
                    status="skipped",
                    reason=planned.reason,
                )
            )
            continue
        result = ScenarioResult(
            scenario.name, planned.description, list(scenario.expected), altered.changed
        )
        prefix = f"scenario-{run_id}-{scenario.name}-"
        result_prefix = f"scenarios/{run_id}/{scenario.name}"
        started = datetime.now(UTC) - timedelta(seconds=1)
        accepted = send(monitor, altered.rows, prefix, result)
        progress(
            f"{scenario.name}: sent {result.sent} rows in "
            f"{sum(result.variants.values()) + sum(result.rejected.values())} requests"
            + (f", rejected {dict(result.rejected)}" if result.rejected else "")
        )
        if scenario.batch_file:
            path = report_dir / "inputs" / f"{scenario.name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(altered.header)
            buffer.write("\n".join(altered.rows) + "\n")
            path.write_text(buffer.getvalue())
            window = Window(started, None, prefix)
            result.results.append(
                monitor.data_quality(
                    window, data_file=path, result_prefix=result_prefix, drift_method=drift_method
                )
            )
        else:
            window = Window(started, datetime.now(UTC) + timedelta(minutes=1), prefix)
            if checks_model:
                hour = datetime.now(UTC).strftime("%Y/%m/%d/%H")
                records = [
                    label_record(
                        inference_id,
                        _ground_truth(altered.labels, indexes, profile.problem_type),
                    )
                    for inference_id, indexes in accepted.items()
                ]
                write_labels(
                    monitor.clients,
                    monitor.bucket,
                    monitor.ground_truth_prefix,
                    {hour: records},
                    f"scenario-{run_id}-{scenario.name}",
                )
            captures = wait_for_captures(monitor, window, len(accepted), capture_timeout_s)
            common = {"captures": captures, "result_prefix": result_prefix}
            result.results.append(monitor.data_quality(window, **common, drift_method=drift_method))
            if checks_model:
                result.results.append(monitor.model_quality(window, **common))
            if checks_attribution:
                result.results.append(monitor.attribution_drift(window, **common))
            if checks_prediction:
                result.results.append(
                    monitor.prediction_drift(window, **common, drift_method=drift_method)
                )
        progress(
            f"{scenario.name}: fired {', '.join(result.fired) or 'nothing'}"
            + ("" if result.as_expected else f" (expected {', '.join(result.expected)})")
        )
        results.append(result)
    html = report.write(report_dir, run_id, results, baseline)
    uri = report.upload(monitor, report_dir, f"scenarios/{run_id}/report/")
    return Outcome(run_id, results, str(html), uri)

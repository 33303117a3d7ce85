"""The scenarios' report: report.html with PNG plots (matplotlib, no display needed), for any
baseline's features and problem type.

- metrics.png: per scenario that ran, the largest feature drift (by the method that fires), each
  model-quality metric the baseline constrains (its problem type's constraints), the lowest
  attribution nDCG and the largest prediction drift, each against its threshold;
- roc.png: each scenario's ROC curve (binary models, when the statistics hold one);
- drift-<scenario>-<feature>.png: baseline vs current distribution of each altered (or most
  drifted) feature: a numeric feature's CDF (from the statistics' KLL sketch, else their
  histogram buckets) with the largest gap marked, a String feature's category shares as bars;
- attribution-<scenario>.png: baseline vs current global attribution of the top features.

Each scenario's section tables its checks' violations and its features' drift distances by
every method (linf, psi, js, wasserstein), the method that fires highlighted and each distance
above its threshold marked. A skipped scenario shows why.
"""

from __future__ import annotations

import html
import math
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from operators.monitoring import attribution, data_quality, model_quality
from operators.monitoring.files import number

if TYPE_CHECKING:
    from operators.monitoring.baselines import Baseline
    from operators.monitoring.monitor import CheckResult, Monitor
    from operators.monitoring.scenarios import ScenarioResult

BASELINE_COLOR = "#4c72b0"
CURRENT_COLOR = "#dd8452"
FIRED_COLOR = "#c44e52"
MAX_DRIFT_PLOTS = 3
MAX_METRIC_PANELS = 8
MAX_CATEGORIES = 12
PANEL_COLUMNS = 3
# comparison_operator → does a value fire against the threshold
FIRES = {
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
}


def _result(scenario: ScenarioResult, check: str) -> CheckResult | None:
    return next((r for r in scenario.results if r.check == check), None)


def _save(figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path.name


def _drift_method(scenarios: list[ScenarioResult]) -> str:
    """The method that fires, as the data-quality checks ran."""
    for scenario in scenarios:
        result = _result(scenario, "data-quality")
        if result is not None and "drift_method" in result.summary:
            return result.summary["drift_method"]
    return "linf"


def _thresholds(baseline: Baseline, constraints: dict[str, Any] | None = None):
    """feature → method → the threshold its distance is compared with: linf the constraints'
    comparison_threshold (categorical_comparison_threshold for String features), the others
    data_quality.DRIFT_THRESHOLDS."""
    constraints = constraints or baseline.data_constraints
    by_name = {f["name"]: f for f in constraints.get("features", [])}

    def of(name: str) -> dict[str, float]:
        config = data_quality.feature_config(constraints, by_name.get(name, {}))
        categorical = by_name.get(name, {}).get("inferred_type") == "String"
        linf = config.categorical_threshold if categorical else config.threshold
        return {"linf": linf, **data_quality.DRIFT_THRESHOLDS}

    return of


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------
def _panels(scenarios: list[ScenarioResult], baseline: Baseline, method: str) -> list[tuple]:
    """(title, value per scenario, threshold, comparison operator) for every panel with data."""

    def values(check: str, read) -> list[float]:
        found = []
        for scenario in scenarios:
            result = _result(scenario, check)
            value = read(result) if result is not None else None
            found.append(np.nan if value is None else float(value))
        return found

    def largest_drift(result: CheckResult) -> float | None:
        drift = result.details.get("drift") or {}
        return max(drift.values()) if drift else None

    drift_threshold = data_quality.DRIFT_THRESHOLDS.get(method)
    if drift_threshold is None:
        drift_threshold = data_quality.feature_config(baseline.data_constraints, {}).threshold
    panels = [
        (
            f"largest feature drift ({method})",
            values("data-quality", largest_drift),
            drift_threshold,
            "GreaterThanThreshold",
        )
    ]
    problem_type = baseline.problem_type
    if baseline.model_constraints is not None and problem_type in model_quality.CONSTRAINTS_KEY:
        constrained = baseline.model_constraints.get(model_quality.CONSTRAINTS_KEY[problem_type])
        metrics_key = model_quality.METRICS_KEY[problem_type]
        for metric, constraint in list((constrained or {}).items())[:MAX_METRIC_PANELS]:

            def read(result: CheckResult, metric=metric) -> float | None:
                metrics = result.details.get("statistics", {}).get(metrics_key, {})
                value = metrics.get(metric, {}).get("value")
                return number(value) if value is not None else None

            panels.append(
                (
                    metric,
                    values("model-quality", read),
                    number(constraint["threshold"]),
                    constraint.get("comparison_operator", "LessThanThreshold"),
                )
            )
    if baseline.attribution_constraints is not None or baseline.attribution is not None:
        threshold = (
            attribution.threshold_of(baseline.attribution_constraints)
            if baseline.attribution_constraints
            else attribution.NDCG_THRESHOLD
        )
        panels.append(
            (
                "attribution nDCG (lowest label)",
                values(
                    "attribution-drift",
                    lambda r: min(r.details["ndcg"].values()) if r.details.get("ndcg") else None,
                ),
                threshold,
                "LessThanThreshold",
            )
        )
    if baseline.prediction_statistics is not None:
        panels.append(
            (
                f"largest prediction drift ({method})",
                values("prediction-drift", largest_drift),
                drift_threshold,
                "GreaterThanThreshold",
            )
        )
    return [p for p in panels if not all(np.isnan(p[1]))]


def _metrics_png(
    out: Path, scenarios: list[ScenarioResult], baseline: Baseline, method: str
) -> str | None:
    panels = _panels(scenarios, baseline, method)
    if not panels:
        return None
    names = [s.name for s in scenarios]
    rows = math.ceil(len(panels) / PANEL_COLUMNS)
    columns = min(len(panels), PANEL_COLUMNS)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.flat[len(panels) :]:
        axis.set_visible(False)
    for axis, (title, data, threshold, operator) in zip(axes.flat, panels, strict=False):
        fires = FIRES.get(operator, FIRES["LessThanThreshold"])
        colors = [
            FIRED_COLOR if np.isfinite(v) and fires(v, threshold) else BASELINE_COLOR for v in data
        ]
        axis.bar(range(len(names)), np.nan_to_num(data), color=colors)
        axis.axhline(
            threshold,
            color="black",
            linestyle="--",
            linewidth=1,
            label=f"threshold {threshold:.3g}",
        )
        axis.legend(loc="best", fontsize=8)
        axis.set_title(title)
        axis.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
    return _save(figure, out / "metrics.png")


def _roc_png(out: Path, scenarios: list[ScenarioResult]) -> str | None:
    figure, axis = plt.subplots(figsize=(6, 5))
    drawn = False
    key = model_quality.METRICS_KEY["BinaryClassification"]
    for scenario in scenarios:
        result = _result(scenario, "model-quality")
        metrics = result.details.get("statistics", {}).get(key) if result else None
        curve = (metrics or {}).get("receiver_operating_characteristic_curve")
        if curve:
            auc = number(metrics.get("auc", {}).get("value", "NaN"))
            axis.plot(
                curve["false_positive_rates"],
                curve["true_positive_rates"],
                label=f"{scenario.name} (AUC {auc:.3f})",
            )
            drawn = True
    if not drawn:
        plt.close(figure)
        return None
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    axis.set_xlabel("false positive rate")
    axis.set_ylabel("true positive rate")
    axis.set_title("ROC per scenario")
    axis.legend(fontsize=7, loc="lower right")
    return _save(figure, out / "roc.png")


def numeric_cdf(feature: dict[str, Any]) -> data_quality.WeightedCdf | None:
    """A numeric feature's CDF from its KLL sketch, else from its histogram buckets (a
    statistics file may carry only those)."""
    kll = feature["numerical_statistics"].get("distribution", {}).get("kll", {})
    if kll.get("sketch", {}).get("data"):
        return data_quality.numeric_cdf(feature)
    buckets = kll.get("buckets")
    if not buckets:
        return None
    counts = np.array([number(b["count"]) for b in buckets])
    if not counts.sum():
        return None
    points = np.array([number(b["upper_bound"]) for b in buckets])
    return data_quality.WeightedCdf(points, np.cumsum(counts) / counts.sum(), counts)


def _numeric_plot(axis, name: str, base: dict, current: dict, label: str) -> bool:
    a, b = numeric_cdf(base), numeric_cdf(current)
    if a is None or b is None or not a.count or not b.count:
        return False
    points = np.union1d(a.points, b.points)
    low, high = np.percentile(points, [0.5, 99.5])
    gaps = np.abs(a.at(points) - b.at(points))
    worst = points[int(np.argmax(gaps))]
    axis.step(a.points, a.cumulative, where="post", color=BASELINE_COLOR, label="baseline")
    axis.step(b.points, b.cumulative, where="post", color=CURRENT_COLOR, label=label)
    axis.vlines(
        worst,
        a.at(np.array([worst]))[0],
        b.at(np.array([worst]))[0],
        color="black",
        linewidth=2,
        label=f"largest gap (linf) {gaps.max():.3f}",
    )
    axis.set_xlim(min(low, worst), max(high, worst))
    axis.set_ylabel("CDF")
    axis.legend(fontsize=8, loc="lower right")
    return True


def _categorical_plot(axis, name: str, base: dict, current: dict, label: str) -> bool:
    p, q = data_quality.category_counts(base), data_quality.category_counts(current)
    if not p or not q:
        return False
    p_total, q_total = sum(p.values()) or 1.0, sum(q.values()) or 1.0
    # the baseline's commonest categories, then those the current data brought
    shown = sorted(p, key=lambda c: -p[c])[: MAX_CATEGORIES // 2]
    shown += [c for c in sorted(q, key=lambda c: -q[c]) if c not in shown]
    shown = shown[:MAX_CATEGORIES]
    x = np.arange(len(shown))
    axis.bar(x - 0.2, [p.get(c, 0) / p_total for c in shown], 0.4, color=BASELINE_COLOR)
    axis.bar(x + 0.2, [q.get(c, 0) / q_total for c in shown], 0.4, color=CURRENT_COLOR)
    axis.legend(["baseline", label], fontsize=8)
    axis.set_xticks(x, shown, rotation=35, ha="right", fontsize=8)
    axis.set_ylabel("share of values")
    return True


def _plotted_features(scenario: ScenarioResult, result: CheckResult) -> list[str]:
    drift = result.details.get("drift") or {}
    distances = result.details.get("distances") or {}
    features = [f for f in scenario.changed if f in drift or f in distances]
    if not features:
        features = sorted(drift, key=lambda f: -drift[f])[:1]
    return features[:MAX_DRIFT_PLOTS]


def _drift_pngs(out: Path, scenario: ScenarioResult, baseline: Baseline) -> list[tuple[str, str]]:
    result = _result(scenario, "data-quality")
    if result is None or "statistics" not in result.details:
        return []
    base_by_name = {f["name"]: f for f in baseline.data_statistics["features"]}
    current_by_name = {f["name"]: f for f in result.details["statistics"]["features"]}
    made = []
    for name in _plotted_features(scenario, result):
        base, current = base_by_name.get(name), current_by_name.get(name)
        if base is None or current is None:
            continue
        figure, axis = plt.subplots(figsize=(6, 3.6))
        if "numerical_statistics" in base and "numerical_statistics" in current:
            drawn = _numeric_plot(axis, name, base, current, scenario.name)
        elif "string_statistics" in base and "string_statistics" in current:
            drawn = _categorical_plot(axis, name, base, current, scenario.name)
        else:
            drawn = False
        if not drawn:
            plt.close(figure)
            continue
        axis.set_title(f"{name}: baseline vs {scenario.name}")
        made.append((name, _save(figure, out / f"drift-{scenario.name}-{name}.png")))
    return made


def _attribution_png(out: Path, scenario: ScenarioResult) -> str | None:
    result = _result(scenario, "attribution-drift")
    if result is None or "baseline" not in result.details:
        return None
    scores = result.details.get("ndcg") or {}
    # the label whose ranking moved most
    label = min(scores, key=scores.get) if scores else next(iter(result.details["baseline"]))
    base = result.details["baseline"].get(label, {})
    current = result.details["current"].get(label, {})
    # the baseline's top features, then any that climbed into the current top ten
    top = sorted(base, key=lambda f: -base[f])[:8]
    top += [f for f in sorted(current, key=lambda f: -current[f])[:10] if f not in top]
    figure, axis = plt.subplots(figsize=(7, 3.6))
    x = np.arange(len(top))
    axis.bar(x - 0.2, [base[f] for f in top], width=0.4, color=BASELINE_COLOR, label="baseline")
    axis.bar(
        x + 0.2,
        [current.get(f, 0.0) for f in top],
        width=0.4,
        color=CURRENT_COLOR,
        label=scenario.name,
    )
    axis.set_xticks(x, top, rotation=35, ha="right", fontsize=8)
    axis.set_ylabel("global attribution")
    score = scores.get(label, float("nan"))
    axis.set_title(f"feature attribution, {label} (nDCG {score:.3f})")
    axis.legend(fontsize=8)
    return _save(figure, out / f"attribution-{scenario.name}.png")


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }
th { background: #f3f3f3; }
th.fires, td.fires { background: #fff4e0; }
.bad { color: #b00; font-weight: bold; } .ok { color: #070; } .skip { color: #777; }
img { max-width: 100%; border: 1px solid #eee; margin: 4px 0; }
code { background: #f6f6f6; padding: 1px 3px; }
"""
esc = html.escape


def _distance_table(
    result: CheckResult, features: list[str], method: str, thresholds, caption: str
) -> str:
    """Features' distances by every method: the firing method's column highlighted, each
    distance above its threshold marked."""
    distances = result.details.get("distances") or {}
    fired = {
        v.get("feature_name")
        for v in result.violations
        if v["constraint_check_type"] == "baseline_drift_check"
    }
    head = "".join(
        f"<th class='fires'>{esc(m)} (fires)</th>" if m == method else f"<th>{esc(m)}</th>"
        for m in data_quality.DRIFT_METHODS
    )
    rows = [
        f"<table><caption>{esc(caption)}</caption><tr><th>feature</th>{head}<th>drift</th></tr>"
    ]
    for name in features:
        limits = thresholds(name)
        cells = []
        for m in data_quality.DRIFT_METHODS:
            value = distances.get(name, {}).get(m)
            classes = " ".join(
                c
                for c in (
                    "fires" if m == method else "",
                    "bad" if value is not None and value > limits[m] else "",
                )
                if c
            )
            text = "-" if value is None else f"{value:.4f}"
            cells.append(f"<td class='{classes}' title='threshold {limits[m]:.3g}'>{text}</td>")
        verdict = "<span class='bad'>fires</span>" if name in fired else "-"
        rows.append(f"<tr><td>{esc(name)}</td>{''.join(cells)}<td>{verdict}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _distances_html(scenario: ScenarioResult, baseline: Baseline, method: str) -> list[str]:
    parts = []
    result = _result(scenario, "data-quality")
    if result is not None and result.details.get("distances"):
        distances = result.details["distances"]
        fired = [
            v.get("feature_name")
            for v in result.violations
            if v["constraint_check_type"] == "baseline_drift_check"
        ]
        drift = result.details.get("drift") or {}
        ordered = sorted(distances, key=lambda f: -drift.get(f, 0.0))
        shown = [f for f in scenario.changed if f in distances]
        shown += [f for f in ordered if f in fired and f not in shown]
        thresholds = _thresholds(baseline)
        if shown:
            parts.append(
                _distance_table(
                    result, shown, method, thresholds, "drift distances: the changed features"
                )
            )
        parts.append(
            f"<details><summary>drift distances of all {len(ordered)} features</summary>"
            + _distance_table(result, ordered, method, thresholds, "largest first")
            + "</details>"
        )
    predictions = _result(scenario, "prediction-drift")
    if predictions is not None and predictions.details.get("distances"):
        thresholds = _thresholds(baseline, baseline.prediction_constraints)
        parts.append(
            _distance_table(
                predictions,
                list(predictions.details["distances"]),
                method,
                thresholds,
                "prediction drift: the model's outputs (reported, not asserted)",
            )
        )
    return parts


def _expected(scenario: ScenarioResult) -> str:
    return ", ".join(e if e.endswith("_check") else f"any {e} violation" for e in scenario.expected)


def write(out: Path, run_id: str, scenarios: list[ScenarioResult], baseline: Baseline) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.png"):
        stale.unlink()
    ran = [s for s in scenarios if s.status != "skipped"]
    method = _drift_method(ran)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Monitoring scenarios "
        f"{esc(run_id)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Monitoring scenarios <code>{esc(run_id)}</code></h1>",
        f"<p>Baseline: {esc(baseline.describe())}"
        + (f"; {esc(baseline.problem_type)} model" if baseline.problem_type else "")
        + f". Drift fires by <code>{esc(method)}</code>. Each scenario sends its own traffic "
        "through the endpoint and is checked on its own captures.</p>",
        "<table><tr><th>scenario</th><th>what changed</th><th>rows sent</th>"
        "<th>rejected requests</th><th>must fire</th><th>fired</th><th>as expected</th></tr>",
    ]
    for s in scenarios:
        if s.status == "skipped":
            verdict = "<span class='skip'>skipped</span>"
        elif s.as_expected:
            verdict = "<span class='ok'>yes</span>"
        else:
            verdict = "<span class='bad'>no</span>"
        parts.append(
            f"<tr><td><a href='#{esc(s.name)}'>{esc(s.name)}</a></td><td>{esc(s.description)}"
            f"</td><td>{s.sent:,}</td><td>{esc(str(dict(s.rejected)) if s.rejected else '-')}"
            f"</td><td>{esc(_expected(s) or 'nothing')}</td>"
            f"<td>{esc(', '.join(s.fired) or ('-' if s.status == 'skipped' else 'nothing'))}"
            f"</td><td>{verdict}</td></tr>"
        )
    parts.append("</table>")
    metrics = _metrics_png(out, ran, baseline, method) if ran else None
    if metrics:
        parts.append(
            f"<h2>Metrics per scenario</h2><img src='{metrics}' alt='metrics per scenario'>"
        )
    roc = _roc_png(out, ran)
    if roc:
        parts.append(f"<img src='{roc}' alt='ROC per scenario'>")
    for s in scenarios:
        parts.append(f"<h2 id='{esc(s.name)}'>{esc(s.name)}</h2>")
        if s.status == "skipped":
            parts.append(f"<p class='skip'>skipped: {esc(s.reason)}</p>")
            continue
        parts.append(f"<p>{esc(s.description)}</p>")
        parts.append("<table><tr><th>check</th><th>status</th><th>violation</th></tr>")
        for result in s.results:
            for violation in result.violations or [None]:
                text = (
                    f"{violation['constraint_check_type']} "
                    f"{violation.get('feature_name') or violation.get('metric_name') or ''}: "
                    f"{violation['description']}"
                    if violation
                    else str(result.summary.get("reason", ""))
                )
                cls = "bad" if violation else "ok"
                parts.append(
                    f"<tr><td>{esc(result.check)}</td><td class='{cls}'>{esc(result.status)}"
                    f"</td><td>{esc(text)}</td></tr>"
                )
        parts.append("</table>")
        parts.extend(_distances_html(s, baseline, method))
        for name, png in _drift_pngs(out, s, baseline):
            parts.append(f"<img src='{png}' alt='{esc(name)} baseline vs {esc(s.name)}'>")
        attribution_drift = _result(s, "attribution-drift")
        if attribution_drift is not None and (
            "feature_attribution_drift_check" in s.expected or attribution_drift.violations
        ):
            png = _attribution_png(out, s)
            if png:
                parts.append(f"<img src='{png}' alt='attributions {esc(s.name)}'>")
        files = [(r.check, n, u) for r in s.results for n, u in r.files.items()]
        if files:
            parts.append("<details><summary>result files</summary><ul>")
            parts.extend(f"<li>{esc(c)} {esc(n)}: <code>{esc(u)}</code></li>" for c, n, u in files)
            parts.append("</ul></details>")
    parts.append("</body></html>")
    path = out / "report.html"
    path.write_text("\n".join(parts))
    return path


def upload(monitor: Monitor, out: Path, prefix: str) -> str:
    """The report and its PNGs to s3://BUCKET/monitoring/<prefix>; the report's URI."""
    key_prefix = f"{monitor.monitoring_prefix}{prefix}"
    for path in sorted(out.iterdir()):
        if path.is_file():
            monitor.clients.s3.put_object(
                Bucket=monitor.bucket,
                Key=key_prefix + path.name,
                Body=path.read_bytes(),
                ContentType=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            )
    return f"s3://{monitor.bucket}/{key_prefix}report.html"

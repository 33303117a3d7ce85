"""The scenarios' report: report.html with PNG plots (matplotlib, no display needed).

- metrics.png: per scenario, the largest feature drift, AUC, recall and attribution NDCG, each
  against its threshold;
- roc.png: each scenario's ROC curve;
- drift-<scenario>-<feature>.png: baseline vs current CDF of each altered (or most drifted)
  feature, with the largest gap marked (the distance baseline_drift_check measures);
- attribution-<scenario>.png: baseline vs current mean |SHAP| of the top features.
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from operators.monitoring.data_quality import numeric_cdf

if TYPE_CHECKING:
    from operators.monitoring.monitor import Baseline, Monitor
    from operators.monitoring.scenarios import ScenarioResult

BASELINE_COLOR = "#4c72b0"
CURRENT_COLOR = "#dd8452"
MAX_DRIFT_PLOTS = 3


def _result(scenario: ScenarioResult, check: str):
    return next((r for r in scenario.results if r.check == check), None)


def _save(figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path.name


def _metrics_png(out: Path, scenarios: list[ScenarioResult], baseline: Baseline) -> str:
    names = [s.name for s in scenarios]
    constraints = (baseline.model_constraints or {}).get("binary_classification_constraints", {})
    drift_threshold = baseline.data_constraints["monitoring_config"]["distribution_constraints"][
        "comparison_threshold"
    ]
    ndcg_threshold = (baseline.attribution_constraints or {}).get("explanations", {})
    ndcg_threshold = ndcg_threshold.get("tree_shap", {}).get("label0", {}).get("ndcg_threshold")

    def values(check: str, metric: str) -> list[float]:
        found = []
        for scenario in scenarios:
            result = _result(scenario, check)
            found.append(result.metrics.get(metric, np.nan) if result else np.nan)
        return found

    panels = [
        (
            "largest feature drift (L-inf)",
            values("data-quality", "max_feature_baseline_drift"),
            drift_threshold,
            "above",
        ),
        (
            "AUC",
            values("model-quality", "auc"),
            constraints.get("auc", {}).get("threshold"),
            "below",
        ),
        (
            "recall",
            values("model-quality", "recall"),
            constraints.get("recall", {}).get("threshold"),
            "below",
        ),
        (
            "attribution NDCG",
            values("attribution-drift", "feature_attribution_ndcg"),
            ndcg_threshold,
            "below",
        ),
    ]
    figure, axes = plt.subplots(2, 2, figsize=(12, 7))
    for axis, (title, data, threshold, bad) in zip(axes.flat, panels, strict=True):
        fired = [
            threshold is not None
            and np.isfinite(v)
            and (v > threshold if bad == "above" else v < threshold)
            for v in data
        ]
        colors = ["#c44e52" if f else BASELINE_COLOR for f in fired]
        axis.bar(range(len(names)), np.nan_to_num(data), color=colors)
        if threshold is not None:
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
    for scenario in scenarios:
        result = _result(scenario, "model-quality")
        if not result or "statistics" not in result.details:
            continue
        curve = result.details["statistics"]["binary_classification_metrics"].get(
            "receiver_operating_characteristic_curve"
        )
        if curve:
            auc = result.metrics.get("auc", np.nan)
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


def _drift_png(out: Path, scenario: ScenarioResult, baseline: Baseline) -> list[tuple[str, str]]:
    result = _result(scenario, "data-quality")
    if not result or "statistics" not in result.details:
        return []
    drift = result.details["drift"]
    features = [f for f in scenario.changed if f in drift]
    if not features:
        features = sorted(drift, key=lambda f: -drift[f])[:1]
    base_by_name = {f["name"]: f for f in baseline.data_statistics["features"]}
    current_by_name = {f["name"]: f for f in result.details["statistics"]["features"]}
    made = []
    for name in features[:MAX_DRIFT_PLOTS]:
        base, current = base_by_name.get(name), current_by_name.get(name)
        if not base or not current or "numerical_statistics" not in current:
            continue
        a, b = numeric_cdf(base), numeric_cdf(current)
        if a is None or b is None:
            continue
        points = np.union1d(a.points, b.points)
        low, high = np.percentile(points, [0.5, 99.5])
        gaps = np.abs(a.at(points) - b.at(points))
        worst = points[int(np.argmax(gaps))]
        figure, axis = plt.subplots(figsize=(6, 3.6))
        axis.step(a.points, a.cumulative, where="post", color=BASELINE_COLOR, label="baseline")
        axis.step(b.points, b.cumulative, where="post", color=CURRENT_COLOR, label=scenario.name)
        axis.vlines(
            worst,
            a.at(np.array([worst]))[0],
            b.at(np.array([worst]))[0],
            color="black",
            linewidth=2,
            label=f"L-inf distance {drift[name]:.3f}",
        )
        axis.set_xlim(min(low, worst), max(high, worst))
        axis.set_title(f"{name}: baseline vs {scenario.name}")
        axis.set_ylabel("CDF")
        axis.legend(fontsize=8, loc="lower right")
        made.append((name, _save(figure, out / f"drift-{scenario.name}-{name}.png")))
    return made


def _attribution_png(out: Path, scenario: ScenarioResult) -> str | None:
    result = _result(scenario, "attribution-drift")
    if not result or "baseline" not in result.details:
        return None
    base, current = result.details["baseline"], result.details["current"]
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
    axis.set_ylabel("mean |SHAP|")
    axis.set_title(f"feature attribution (NDCG {result.metrics['feature_attribution_ndcg']:.3f})")
    axis.legend(fontsize=8)
    return _save(figure, out / f"attribution-{scenario.name}.png")


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }
th { background: #f3f3f3; }
.bad { color: #b00; font-weight: bold; } .ok { color: #070; }
img { max-width: 100%; border: 1px solid #eee; margin: 4px 0; }
code { background: #f6f6f6; padding: 1px 3px; }
"""


def write(out: Path, run_id: str, scenarios: list[ScenarioResult], baseline: Baseline) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.png"):
        stale.unlink()
    esc = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Monitoring scenarios "
        f"{esc(run_id)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Monitoring scenarios <code>{esc(run_id)}</code></h1>",
        f"<p>Baseline: {baseline.manifest['rows']:,} rows of <code>"
        f"{esc(str(baseline.manifest['data']))}</code>, {len(baseline.features)} features, "
        f"created {esc(baseline.manifest['created'])}. Each scenario sends its own traffic "
        "through the endpoint and is checked on its own captures.</p>",
        "<table><tr><th>scenario</th><th>what changed</th><th>rows sent</th>"
        "<th>rejected requests</th><th>must fire</th><th>fired</th><th>as expected</th></tr>",
    ]
    for s in scenarios:
        verdict = "<span class='ok'>yes</span>" if s.as_expected else "<span class='bad'>no</span>"
        parts.append(
            f"<tr><td><a href='#{esc(s.name)}'>{esc(s.name)}</a></td><td>{esc(s.description)}"
            f"</td><td>{s.sent:,}</td><td>{esc(str(dict(s.rejected)) if s.rejected else '-')}"
            f"</td><td>{esc(', '.join(s.expected) or 'nothing')}</td>"
            f"<td>{esc(', '.join(s.fired) or 'nothing')}</td><td>{verdict}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        f"<h2>Metrics per scenario</h2><img src='{_metrics_png(out, scenarios, baseline)}'"
        " alt='metrics per scenario'>"
    )
    roc = _roc_png(out, scenarios)
    if roc:
        parts.append(f"<img src='{roc}' alt='ROC per scenario'>")
    for s in scenarios:
        parts.append(f"<h2 id='{esc(s.name)}'>{esc(s.name)}</h2><p>{esc(s.description)}</p>")
        parts.append("<table><tr><th>check</th><th>status</th><th>violation</th></tr>")
        for result in s.results:
            rows = result.violations or [None]
            for violation in rows:
                text = (
                    f"{violation['constraint_check_type']} "
                    f"{violation.get('feature_name') or violation.get('metric_name') or ''}: "
                    f"{violation['description']}"
                    if violation
                    else esc(str(result.summary.get("reason", "")))
                )
                cls = "bad" if violation else "ok"
                parts.append(
                    f"<tr><td>{esc(result.check)}</td><td class='{cls}'>{esc(result.status)}"
                    f"</td><td>{esc(text)}</td></tr>"
                )
        parts.append("</table>")
        for name, png in _drift_png(out, s, baseline):
            parts.append(f"<img src='{png}' alt='{esc(name)} baseline vs {esc(s.name)}'>")
        if s.name == "stuck_features" or any(
            v["constraint_check_type"] == "feature_attribution_drift_check"
            for r in s.results
            for v in r.violations
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

"""The monitoring service: baselines, captures, ground truth, results and metrics in the data
bucket and CloudWatch; the checks themselves are data_quality, model_quality, attribution, bias.

Where things live in the data bucket:
- monitoring/baseline/: manifest.json, model.tar.gz (the model the attributions come from),
  data-quality/{statistics,constraints}.json, model-quality/{statistics,constraints}.json,
  attribution/{analysis,constraints}.json
- monitoring/<check>/<endpoint>/yyyy/mm/dd/hh/ (the hour the window ends): the check's
  statistics.json / analysis.json and constraint_violations.json, as Model Monitor's jobs write
  them; model quality also writes unjoined.jsonl, every capture that had no usable label, why.
CloudWatch: namespace BYO/ModelMonitor, dimension Endpoint (see METRIC_NAMESPACE).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import xgboost as xgb

from operators import registry
from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.layout import Layout
from operators.monitoring import attribution, bias, data_quality, datasets, model_quality
from operators.monitoring.captures import Capture, Window, decode, read_captures
from operators.s3 import get_bytes, get_bytes_or_none, join_uri, split_uri
from serving.artifact import load_booster

METRIC_NAMESPACE = "BYO/ModelMonitor"
BASELINE_PREFIX = "baseline/"
CHECKS = ("data-quality", "model-quality", "attribution-drift", "bias")
BASELINE_FILES = (
    "data-quality/statistics.json",
    "data-quality/constraints.json",
    "model-quality/statistics.json",
    "model-quality/constraints.json",
    "attribution/analysis.json",
    "attribution/constraints.json",
)


@dataclass
class CheckResult:
    check: str
    status: str  # "ok", "violations", "not evaluated"
    violations: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # name -> s3:// URI
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # for reports, not printed

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "violations": self.violations,
            "summary": self.summary,
            "files": self.files,
            "metrics": self.metrics,
        }


@dataclass
class Baseline:
    manifest: dict[str, Any]
    data_statistics: dict[str, Any]
    data_constraints: dict[str, Any]
    model_statistics: dict[str, Any] | None
    model_constraints: dict[str, Any] | None
    attribution: dict[str, Any] | None
    attribution_constraints: dict[str, Any] | None
    model_bytes: bytes | None

    @property
    def features(self) -> list[str]:
        return self.manifest["features"]

    def booster(self) -> xgb.Booster:
        if self.model_bytes is None:
            raise ConfigError("the baseline has no model: run `byo monitor baseline --model ...`")
        return load_booster(self.model_bytes)


def dump(document: Any) -> bytes:
    return (json.dumps(document, indent=2, allow_nan=True) + "\n").encode()


class Monitor:
    """The checks for one endpoint's captured traffic, with baselines and results in S3."""

    def __init__(
        self,
        clients: Clients,
        *,
        layout: Layout,
        endpoint: str,
        capture_uri: str,
        out_dir: Path | None = None,
        publish_metrics: bool = True,
    ) -> None:
        self.clients = clients
        self.layout = layout
        self.endpoint = endpoint
        self.capture_uri = capture_uri
        self.out_dir = out_dir
        self.publish_metrics = publish_metrics
        self._baseline: Baseline | None = None

    @property
    def bucket(self) -> str:
        return self.layout.bucket

    @property
    def monitoring_prefix(self) -> str:
        return self.layout.monitoring

    @property
    def ground_truth_prefix(self) -> str:
        return self.layout.ground_truth

    # -- storage ---------------------------------------------------------------------------
    def _put(self, key: str, body: bytes, content_type: str = "application/json") -> str:
        self.clients.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        if self.out_dir is not None:
            local = self.out_dir / key.removeprefix(self.monitoring_prefix)
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(body)
        return join_uri(self.bucket, key)

    def _get(self, key: str) -> bytes | None:
        return get_bytes_or_none(self.clients.s3, self.bucket, key)

    def _result_prefix(self, check: str, window: Window, prefix: str | None) -> str:
        if prefix is not None:
            return f"{self.monitoring_prefix}{prefix.strip('/')}/{check}/"
        end = window.until or datetime.now(UTC)
        return f"{self.monitoring_prefix}{check}/{self.endpoint}/{end:%Y/%m/%d/%H}/"

    def _publish(self, metrics: dict[str, float]) -> None:
        if not self.publish_metrics or not metrics:
            return
        data = [
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Endpoint", "Value": self.endpoint}],
                "Value": float(value),
                "Unit": "Count" if name.endswith("violations") else "None",
            }
            for name, value in metrics.items()
            if np.isfinite(value)
        ]
        for start in range(0, len(data), 20):
            self.clients.client("cloudwatch").put_metric_data(
                Namespace=METRIC_NAMESPACE, MetricData=data[start : start + 20]
            )

    # -- baseline --------------------------------------------------------------------------
    def create_baseline(
        self,
        data: Path,
        *,
        label: str = "Class",
        model: Path | None = None,
        holdout: Path | None = None,
        comparison_threshold: float = 0.1,
        ndcg_threshold: float = attribution.NDCG_THRESHOLD,
    ) -> dict[str, Any]:
        """Baselines from a training dataset (and the model, scored on a held-out set)."""
        dataset = datasets.read_dataset(data, label)
        scored = datasets.read_dataset(holdout, label) if holdout else None
        if scored is not None and scored.features.column_names != dataset.features.column_names:
            raise ConfigError(f"{holdout} does not have the columns of {data}")
        model_bytes = model.read_bytes() if model is not None else None
        files, manifest = compute_baseline(
            dataset,
            model_bytes=model_bytes,
            holdout=scored,
            comparison_threshold=comparison_threshold,
            ndcg_threshold=ndcg_threshold,
            data_name=str(data),
            holdout_name=str(holdout or data),
        )
        return self.install_baseline(files, manifest, model_bytes)

    def install_baseline(
        self, files: dict[str, Any], manifest: dict[str, Any], model_bytes: bytes | None
    ) -> dict[str, Any]:
        """Write baseline documents (as compute_baseline makes them) as this endpoint's
        baseline: monitoring/baseline/."""
        prefix = f"{self.monitoring_prefix}{BASELINE_PREFIX}"
        if model_bytes is not None:
            self._put(f"{prefix}model.tar.gz", model_bytes, "application/gzip")
        uris = {name: self._put(prefix + name, dump(doc)) for name, doc in files.items()}
        uris["manifest.json"] = self._put(prefix + "manifest.json", dump(manifest))
        self._baseline = None
        return {"manifest": manifest, "files": uris}

    def install_baseline_from(self, source_uri: str, model_uri: str) -> dict[str, Any]:
        """Make the baselines under `source_uri` (a prefix in compute_baseline's layout, such as
        a registered model version's drift-check baselines) this endpoint's baseline."""
        bucket, key = split_uri(source_uri)
        key = key.rstrip("/") + "/"
        files: dict[str, Any] = {}
        manifest: dict[str, Any] | None = None
        for name in (*BASELINE_FILES, "manifest.json"):
            body = get_bytes_or_none(self.clients.s3, bucket, key + name)
            if body is None:
                continue
            if name == "manifest.json":
                manifest = json.loads(body)
            else:
                files[name] = json.loads(body)
        if manifest is None or "data-quality/statistics.json" not in files:
            raise ConfigError(f"{source_uri} holds no baseline (no manifest.json or statistics)")
        model_bucket, model_key = split_uri(model_uri)
        model_bytes = get_bytes(self.clients.s3, model_bucket, model_key)
        manifest = {**manifest, "installed_from": source_uri}
        return self.install_baseline(files, manifest, model_bytes)

    def baseline(self) -> Baseline:
        if self._baseline is None:
            prefix = f"{self.monitoring_prefix}{BASELINE_PREFIX}"
            manifest = self._get(prefix + "manifest.json")
            if manifest is None:
                raise ConfigError(
                    f"no baseline in s3://{self.bucket}/{prefix}: run `byo monitor baseline "
                    "--data <training CSV>` first"
                )

            def load(name: str) -> dict[str, Any] | None:
                body = self._get(prefix + name)
                return json.loads(body) if body is not None else None

            self._baseline = Baseline(
                manifest=json.loads(manifest),
                data_statistics=load("data-quality/statistics.json"),
                data_constraints=load("data-quality/constraints.json"),
                model_statistics=load("model-quality/statistics.json"),
                model_constraints=load("model-quality/constraints.json"),
                attribution=load("attribution/analysis.json"),
                attribution_constraints=load("attribution/constraints.json"),
                model_bytes=self._get(prefix + "model.tar.gz"),
            )
        return self._baseline

    # -- captures and ground truth ---------------------------------------------------------
    def captures(self, window: Window) -> list[Capture]:
        return read_captures(self.clients.s3, self.capture_uri, self.endpoint, window)

    def ground_truth(self, window: Window) -> dict[str, list[int]]:
        """eventId → labels (one per row of the request), from the window's hours."""
        labels: dict[str, list[int]] = {}
        paginator = self.clients.s3.get_paginator("list_objects_v2")
        keys = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.ground_truth_prefix):
            for obj in page.get("Contents", []):
                parts = obj["Key"][len(self.ground_truth_prefix) :].split("/")
                try:
                    hour = datetime(*map(int, parts[0:4]), tzinfo=UTC)
                except (TypeError, ValueError):
                    continue
                if window.hour_may_overlap(hour):
                    keys.append(obj["Key"])
        for key in sorted(keys):
            body = get_bytes(self.clients.s3, self.bucket, key)
            for line in body.decode().splitlines():
                if not line.strip():
                    continue
                record = json.loads(line)
                text = decode(record["groundTruthData"])
                labels[record["eventMetadata"]["eventId"]] = [
                    int(float(v)) for v in text.replace(",", "\n").split()
                ]
        return labels

    # -- checks ----------------------------------------------------------------------------
    def data_quality(
        self,
        window: Window,
        *,
        data_file: Path | None = None,
        captures: list[Capture] | None = None,
        result_prefix: str | None = None,
    ) -> CheckResult:
        baseline = self.baseline()
        names = baseline.features
        if data_file is not None:
            current = datasets.current_from_file(data_file, names, baseline.manifest["label"])
            source = str(data_file)
        else:
            captures = self.captures(window) if captures is None else captures
            lines = [row for capture in captures for row in capture.rows]
            current = datasets.current_from_rows(
                ("\n".join(lines) + "\n").encode() if lines else b"", names
            )
            source = f"{len(captures)} captured requests"
        rows = current.table.num_rows + len(current.short_rows) + len(current.long_rows)
        if rows == 0 and not current.missing_columns:
            return CheckResult(
                "data-quality", "not evaluated", summary={"rows": 0, "source": source}
            )
        stats, violations, drift = data_quality.check(
            baseline.data_statistics, baseline.data_constraints, current
        )
        prefix = self._result_prefix("data-quality", window, result_prefix)
        files = {
            "statistics.json": self._put(prefix + "statistics.json", dump(stats)),
            "constraint_violations.json": self._put(
                prefix + "constraint_violations.json", dump({"violations": violations})
            ),
        }
        metrics = {f"feature_baseline_drift_{name}": value for name, value in drift.items()}
        metrics["max_feature_baseline_drift"] = max(drift.values(), default=0.0)
        metrics["data_quality_violations"] = len(violations)
        self._publish(metrics)
        return CheckResult(
            "data-quality",
            "violations" if violations else "ok",
            violations,
            summary={
                "rows": rows,
                "source": source,
                "max_drift": round(metrics["max_feature_baseline_drift"], 4),
                "short_rows": len(current.short_rows),
                "long_rows": len(current.long_rows),
            },
            files=files,
            metrics=metrics,
            details={"statistics": stats, "drift": drift},
        )

    def join(
        self, captures: list[Capture], labels: dict[str, list[int]]
    ) -> tuple[list[tuple[Capture, list[int]]], list[dict[str, str]]]:
        """Captures paired with their labels (by inferenceId, else eventId), and every capture
        that could not be paired, with the reason."""
        joined, unjoined = [], []
        for capture in captures:
            found = labels.get(capture.join_key)
            if capture.scores is None:
                reason = "capture holds no output (capture mode Input only)"
            elif found is None:
                reason = "no ground truth for this id"
            elif len(found) != len(capture.scores):
                reason = f"{len(found)} labels for {len(capture.scores)} predictions"
            else:
                joined.append((capture, found))
                continue
            unjoined.append(
                {"id": capture.join_key, "time": capture.time.isoformat(), "reason": reason}
            )
        return joined, unjoined

    def model_quality(
        self,
        window: Window,
        *,
        captures: list[Capture] | None = None,
        result_prefix: str | None = None,
    ) -> CheckResult:
        baseline = self.baseline()
        if baseline.model_constraints is None:
            raise ConfigError("the baseline has no model-quality constraints: pass --model")
        captures = self.captures(window) if captures is None else captures
        labels = self.ground_truth(window)
        joined, unjoined = self.join(captures, labels)
        label = np.array([v for _, found in joined for v in found], dtype=np.int8)
        score = np.array([s for capture, _ in joined for s in capture.scores], dtype=np.float64)
        summary = {
            "captures": len(captures),
            "joined_captures": len(joined),
            "unjoined_captures": len(unjoined),
            "rows": len(label),
            "positives": int(label.sum()),
            "ground_truth_records": len(labels),
        }
        prefix = self._result_prefix("model-quality", window, result_prefix)
        files = {}
        if unjoined:
            files["unjoined.jsonl"] = self._put(
                prefix + "unjoined.jsonl",
                ("\n".join(json.dumps(u) for u in unjoined) + "\n").encode(),
                "application/jsonlines",
            )
        if not len(label):
            return CheckResult(
                "model-quality",
                "not evaluated",
                summary={**summary, "reason": "no captured prediction has ground truth"},
                files=files,
            )
        stats = model_quality.statistics(label, score, datetime.now(UTC).isoformat())
        stats["dataset"]["join"] = summary
        violations, not_evaluated = model_quality.violations(stats, baseline.model_constraints)
        files["statistics.json"] = self._put(prefix + "statistics.json", dump(stats))
        files["constraint_violations.json"] = self._put(
            prefix + "constraint_violations.json", dump({"violations": violations})
        )
        values = stats["binary_classification_metrics"]
        metrics = {
            name: values[name]["value"]
            for name in (*model_quality.HIGHER_IS_BETTER, *model_quality.LOWER_IS_BETTER)
        }
        metrics["model_quality_violations"] = len(violations)
        self._publish(metrics)
        status = "not evaluated" if not_evaluated else ("violations" if violations else "ok")
        if not_evaluated:
            summary["reason"] = not_evaluated
        return CheckResult(
            "model-quality",
            status,
            violations,
            summary=summary,
            files=files,
            metrics=metrics,
            details={"statistics": stats},
        )

    def attribution_drift(
        self,
        window: Window,
        *,
        captures: list[Capture] | None = None,
        result_prefix: str | None = None,
    ) -> CheckResult:
        baseline = self.baseline()
        if baseline.attribution is None:
            raise ConfigError("the baseline has no attributions: pass --model")
        captures = self.captures(window) if captures is None else captures
        lines = [row for capture in captures for row in capture.rows]
        current = datasets.current_from_rows(
            ("\n".join(lines) + "\n").encode() if lines else b"", baseline.features
        )
        if current.table.num_rows == 0:
            return CheckResult("attribution-drift", "not evaluated", summary={"rows": 0})
        names = baseline.features
        matrix = _matrix(current.table)
        current_attributions = attribution.global_attributions(baseline.booster(), matrix, names)
        base = attribution.attributions_of(baseline.attribution)
        threshold = baseline.attribution_constraints["explanations"][attribution.METHOD]["label0"][
            "ndcg_threshold"
        ]
        score = attribution.ndcg(base, current_attributions)
        violations = attribution.violations(score, threshold)
        prefix = self._result_prefix("attribution-drift", window, result_prefix)
        document = attribution.analysis(current_attributions, len(matrix))
        document["explanations"][attribution.METHOD]["label0"]["ndcg"] = score
        files = {
            "analysis.json": self._put(prefix + "analysis.json", dump(document)),
            "constraint_violations.json": self._put(
                prefix + "constraint_violations.json",
                dump({"version": "1.0", "violations": violations}),
            ),
        }
        metrics = {
            "feature_attribution_ndcg": score,
            "attribution_drift_violations": len(violations),
        }
        self._publish(metrics)
        top = sorted(current_attributions, key=lambda f: -current_attributions[f])[:5]
        return CheckResult(
            "attribution-drift",
            "violations" if violations else "ok",
            violations,
            summary={"rows": len(matrix), "ndcg": round(score, 4), "top_features": top},
            files=files,
            metrics=metrics,
            details={"baseline": base, "current": current_attributions},
        )

    def bias(
        self,
        window: Window,
        facet: str = bias.DEFAULT_FACET,
        *,
        captures: list[Capture] | None = None,
        result_prefix: str | None = None,
    ) -> CheckResult:
        baseline = self.baseline()
        try:
            column, threshold = bias.parse_facet(facet)
        except ValueError as exc:
            raise ConfigError(f"--facet {exc}") from None
        if column not in baseline.features:
            raise ConfigError(
                f"--facet {facet}: {column!r} is not a feature (features: "
                f"{', '.join(baseline.features[:5])}, …)"
            )
        captures = self.captures(window) if captures is None else captures
        joined, unjoined = self.join(captures, self.ground_truth(window))
        rows = [row for capture, _ in joined for row in capture.rows]
        summary = {"joined_captures": len(joined), "unjoined_captures": len(unjoined)}
        if not rows:
            return CheckResult(
                "bias", "not evaluated", summary={**summary, "reason": "no labelled captures"}
            )
        current = datasets.current_from_rows(("\n".join(rows) + "\n").encode(), baseline.features)
        if current.short_rows or current.long_rows:
            raise ByoError("captured rows do not have the baseline's columns: see data-quality")
        facet_values = _matrix(current.table.select([column]))[:, 0]
        label = np.array([v for _, found in joined for v in found], dtype=np.int8)
        score = np.array([s for capture, _ in joined for s in capture.scores])
        predicted = (score >= model_quality.THRESHOLD).astype(np.int8)
        result = bias.metrics(facet_values, label, predicted, threshold)
        violations = bias.violations(column, threshold, result["values"])
        prefix = self._result_prefix("bias", window, result_prefix)
        label_name = baseline.manifest["label"]
        files = {
            "analysis.json": self._put(
                prefix + "analysis.json", dump(bias.analysis(column, threshold, result, label_name))
            ),
            "constraint_violations.json": self._put(
                prefix + "constraint_violations.json", dump({"violations": violations})
            ),
        }
        return CheckResult(
            "bias",
            "violations" if violations else "ok",
            violations,
            summary={
                **summary,
                "facet": f"{column} > {threshold:g}",
                "rows_in_facet": result["groups"]["d"]["rows"],
                **{k: round(v, 4) for k, v in result["values"].items()},
            },
            files=files,
        )

    def run(self, window: Window, result_prefix: str | None = None) -> list[CheckResult]:
        """Every check the baseline supports, over one read of the window's captures; model
        quality only when some ground truth exists for the window."""
        baseline = self.baseline()
        captures = self.captures(window)
        results = [self.data_quality(window, captures=captures, result_prefix=result_prefix)]
        if baseline.model_constraints is not None:
            results.append(
                self.model_quality(window, captures=captures, result_prefix=result_prefix)
            )
        if baseline.attribution is not None:
            results.append(
                self.attribution_drift(window, captures=captures, result_prefix=result_prefix)
            )
        return results


def _matrix(table: pa.Table) -> np.ndarray:
    """Float features (missing → NaN, which XGBoost treats as missing)."""
    columns = [
        np.asarray(
            data_quality.as_numbers(column).cast(pa.float64()).to_numpy(zero_copy_only=False),
            dtype=np.float64,
        )
        for column in table.columns
    ]
    return np.column_stack(columns) if columns else np.zeros((table.num_rows, 0))


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
    dataset and, with the model, its attributions and its quality on `holdout` (else on the
    training data)."""
    names = dataset.features.column_names
    stats = data_quality.statistics(dataset.features)
    files: dict[str, Any] = {
        "data-quality/statistics.json": stats,
        "data-quality/constraints.json": data_quality.suggest_constraints(
            stats, comparison_threshold
        ),
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
    manifest["model_sha256"] = hashlib.sha256(model_bytes).hexdigest()
    matrix = _matrix(dataset.features)
    files["attribution/analysis.json"] = attribution.analysis(
        attribution.global_attributions(booster, matrix, names), len(matrix)
    )
    files["attribution/constraints.json"] = attribution.constraints(ndcg_threshold)
    scored = holdout or dataset
    if scored.label is None:
        raise ConfigError(
            f"{holdout_name or data_name or 'the data'} has no {dataset.label_name!r} column "
            "to score against"
        )
    score = booster.predict(xgb.DMatrix(_matrix(scored.features)))
    quality = model_quality.statistics(scored.label, score, datetime.now(UTC).isoformat())
    files["model-quality/statistics.json"] = quality
    files["model-quality/constraints.json"] = model_quality.suggest_constraints(quality)
    manifest["holdout"] = holdout_name or data_name
    return files, manifest


def summarize(results: Iterable[CheckResult]) -> dict[str, Any]:
    return {result.check: result.as_dict() for result in results}


def install_registered_baseline(monitor: Monitor, group: str, version: int) -> dict[str, Any]:
    """The drift-check baselines a model version was registered with, as the monitor's."""
    package = registry.find(monitor.clients, group, version)
    statistics = package["drift_check_baselines"].get("ModelDataQuality", {}).get("Statistics", {})
    uri = statistics.get("S3Uri", "")
    if not uri.endswith("data-quality/statistics.json"):
        raise ConfigError(
            f"version {version} was registered without drift-check baselines (byo pipeline run "
            "registers them): use byo monitor baseline --data <training CSV> instead"
        )
    containers = package.get("containers") or [{}]
    if len(containers) > 1:
        # The checks re-score captured rows with one booster (attributions, bias); a serial
        # version's first container is its preprocessor, not that booster.
        raise ConfigError(
            f"version {version} is a serial inference pipeline ({len(containers)} containers): "
            "byo monitor re-scores captured rows with one XGBoost model, so it monitors "
            "single-container versions only; monitor the version without preprocessing"
        )
    return monitor.install_baseline_from(
        uri.removesuffix("data-quality/statistics.json"), package["model_data_url"]
    )

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from operators import registry
from operators.aws import Clients
from operators.errors import ByoError, ConfigError
from operators.layout import Layout
from operators.monitoring import (
    attribution,
    baselines,
    batch_inputs,
    bias,
    data_quality,
    datasets,
    files,
    model_quality,
)
from operators.monitoring.baselines import BASELINE_FILES, MANIFEST, Baseline, compute_baseline
from operators.monitoring.captures import Capture, Window, decode, read_captures
from operators.s3 import get_bytes, get_bytes_or_none, join_uri, split_uri

__all__ = ["BASELINE_FILES", "Baseline", "CheckResult", "Monitor", "compute_baseline", "dump"]

METRIC_NAMESPACE = "BYO/ModelMonitor"
BASELINE_PREFIX = "baseline/"
CHECKS = ("data-quality", "prediction-drift", "model-quality", "attribution-drift", "bias")
dump = files.dumps


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


class Monitor:
    """The checks for one endpoint's captured traffic (or a batch job's inputs and outputs),
    with baselines and results in S3."""

    def __init__(
        self,
        clients: Clients,
        *,
        layout: Layout,
        endpoint: str,
        capture_uri: str,
        out_dir: Path | None = None,
        publish_metrics: bool = True,
        job_table: str | Callable[[], str | None] | None = None,
    ) -> None:
        self.clients = clients
        self.layout = layout
        self.endpoint = endpoint
        self.capture_uri = capture_uri
        self.out_dir = out_dir
        self.publish_metrics = publish_metrics
        self.job_table = job_table
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

    def _write_result(
        self, prefix: str, name: str, document: Any, violations: list[dict[str, Any]], **extra
    ) -> dict[str, str]:
        return {
            name: self._put(prefix + name, dump(document)),
            "constraint_violations.json": self._put(
                prefix + "constraint_violations.json", dump({**extra, "violations": violations})
            ),
        }

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
        documents, manifest = compute_baseline(
            dataset,
            model_bytes=model_bytes,
            holdout=scored,
            comparison_threshold=comparison_threshold,
            ndcg_threshold=ndcg_threshold,
            data_name=str(data),
            holdout_name=str(holdout or data),
        )
        return self.install_baseline(documents, manifest, model_bytes)

    def install_baseline(
        self, documents: dict[str, Any], manifest: dict[str, Any], model_bytes: bytes | None
    ) -> dict[str, Any]:
        """Write baseline documents (BASELINE_FILES by name) as this endpoint's baseline,
        monitoring/baseline/, replacing what was there."""
        prefix = f"{self.monitoring_prefix}{BASELINE_PREFIX}"
        # What an earlier baseline left and this one does not have (a model, a check's files)
        # must not be read with it.
        stale = [{"Key": prefix + name} for name in BASELINE_FILES if name not in documents]
        if model_bytes is not None:
            self._put(f"{prefix}model.tar.gz", model_bytes, "application/gzip")
        else:
            stale.append({"Key": f"{prefix}model.tar.gz"})
        uris = {name: self._put(prefix + name, dump(doc)) for name, doc in documents.items()}
        uris[MANIFEST] = self._put(prefix + MANIFEST, dump(manifest))
        self.clients.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": stale})
        self._baseline = None
        return {"manifest": manifest, "files": uris}

    def _read(self, uri_or_path: str, what: str) -> bytes:
        if uri_or_path.startswith("s3://"):
            bucket, key = split_uri(uri_or_path)
            body = get_bytes_or_none(self.clients.s3, bucket, key)
            if body is None:
                raise ConfigError(f"{what} {uri_or_path}: no such object")
            return body
        path = Path(uri_or_path)
        if not path.is_file():
            raise ConfigError(f"{what} {uri_or_path}: no such file")
        return path.read_bytes()

    def import_baseline(
        self,
        sources: dict[str, str],
        *,
        model: str | None = None,
        label: str = "",
        options: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Baseline files as Model Monitor's and Clarify's jobs wrote them (local paths or
        s3:// URIs, by BASELINE_FILES name), used as they are: this endpoint's baseline."""
        documents = {}
        for name, where in sources.items():
            option = (options or {}).get(name, name)
            try:
                documents[name] = files.loads(self._read(where, option))
            except ValueError as exc:
                raise ConfigError(f"{option} {where}: not JSON: {exc}") from None
        model_bytes = self._read(model, "--model") if model else None
        baseline = baselines.from_documents(
            documents, model_bytes=model_bytes, source=", ".join(sources.values())
        )
        manifest = {
            "imported": datetime.now(UTC).isoformat(),
            "imported_from": sources,
            "features": baseline.features,
            "label": label,
        }
        if baseline.problem_type:
            manifest["problem_type"] = baseline.problem_type
        if model_bytes is not None:
            manifest["model_sha256"] = hashlib.sha256(model_bytes).hexdigest()
            if baseline.problem_type is None:
                manifest["problem_type"] = baselines.problem_type_of_booster(baseline.booster())
        return self.install_baseline(documents, manifest, model_bytes)

    def install_baseline_from(self, source_uri: str, model_uri: str) -> dict[str, Any]:
        """Make the baselines under `source_uri` (a prefix in BASELINE_FILES' layout, such as
        a registered model version's drift-check baselines) this endpoint's baseline."""
        bucket, key = split_uri(source_uri)
        key = key.rstrip("/") + "/"
        documents: dict[str, Any] = {}
        for name in BASELINE_FILES:
            body = get_bytes_or_none(self.clients.s3, bucket, key + name)
            if body is not None:
                documents[name] = files.loads(body)
        body = get_bytes_or_none(self.clients.s3, bucket, key + MANIFEST)
        manifest = files.loads(body) if body is not None else {}
        baselines.from_documents(documents, source=source_uri)
        model_bucket, model_key = split_uri(model_uri)
        model_bytes = get_bytes(self.clients.s3, model_bucket, model_key)
        manifest = {**manifest, "installed_from": source_uri}
        return self.install_baseline(documents, manifest, model_bytes)

    def baseline(self) -> Baseline:
        """The endpoint's baseline: whichever BASELINE_FILES are under monitoring/baseline/
        (a manifest is optional: Model Monitor's files copied there work as they are)."""
        if self._baseline is None:
            prefix = f"{self.monitoring_prefix}{BASELINE_PREFIX}"
            documents = {}
            for name in BASELINE_FILES:
                body = self._get(prefix + name)
                if body is not None:
                    documents[name] = files.loads(body)
            if baselines.DATA_STATISTICS not in documents:
                raise ConfigError(
                    f"no baseline in s3://{self.bucket}/{prefix}: run `byo monitor baseline "
                    "--data <training CSV>` or `byo monitor import-baseline --statistics "
                    "statistics.json` first"
                )
            manifest = self._get(prefix + MANIFEST)
            self._baseline = baselines.from_documents(
                documents,
                manifest=files.loads(manifest) if manifest is not None else {},
                model_bytes=self._get(prefix + "model.tar.gz"),
                source=f"s3://{self.bucket}/{prefix}",
            )
        return self._baseline

    # -- what is checked: captures, batch jobs, ground truth -------------------------------
    def captures(self, window: Window) -> list[Capture]:
        return read_captures(self.clients.s3, self.capture_uri, self.endpoint, window)

    def batch_run(self, job: str) -> batch_inputs.BatchRun:
        """A batch job's inputs and outputs. The job table is looked up only now (a callable):
        the hourly job has no job table setting and must not need one."""
        table = self.job_table() if callable(self.job_table) else self.job_table
        return batch_inputs.batch_run(self.clients, job, table)

    def ground_truth(self, window: Window) -> dict[str, list[float]]:
        """eventId → labels (one per row of the request), from the window's hours."""
        labels: dict[str, list[float]] = {}
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
                record = files.loads(line)
                text = decode(record["groundTruthData"])
                labels[record["eventMetadata"]["eventId"]] = [
                    float(v) for v in text.replace(",", "\n").split()
                ]
        return labels

    def _inputs(
        self, baseline: Baseline, window: Window, captures: list[Capture] | None, batch_job
    ) -> tuple[data_quality.CurrentData, str, list[Capture] | batch_inputs.BatchRun]:
        if batch_job is not None:
            run = self.batch_run(batch_job)
            current = datasets.current_from_rows(run.body, baseline.features, baseline.types)
            return current, run.source, run
        captures = self.captures(window) if captures is None else captures
        lines = [row for capture in captures for row in capture.rows]
        body = ("\n".join(lines) + "\n").encode() if lines else b""
        current = datasets.current_from_rows(body, baseline.features, baseline.types)
        return current, f"{len(captures)} captured requests", captures

    # -- checks ----------------------------------------------------------------------------
    def data_quality(
        self,
        window: Window,
        *,
        data_file: Path | None = None,
        captures: list[Capture] | None = None,
        batch_job: str | None = None,
        result_prefix: str | None = None,
        drift_method: str = "linf",
    ) -> CheckResult:
        """The inputs (captured, a CSV file, or a batch job's) against the data-quality
        baseline, as Model Monitor's data-quality job."""
        baseline = self.baseline()
        if data_file is not None:
            current = datasets.current_from_file(
                data_file, baseline.features, baseline.label_name or None, baseline.types
            )
            source = str(data_file)
        else:
            current, source, _ = self._inputs(baseline, window, captures, batch_job)
        rows = current.table.num_rows + len(current.short_rows) + len(current.long_rows)
        if rows == 0 and not current.missing_columns:
            return CheckResult(
                "data-quality", "not evaluated", summary={"rows": 0, "source": source}
            )
        result = data_quality.check(
            baseline.data_statistics, baseline.data_constraints, current, drift_method=drift_method
        )
        return self._distribution_result(
            "data-quality", result, window, result_prefix, source, rows, current, drift_method
        )

    def _distribution_result(
        self,
        check: str,
        result: data_quality.DataQualityResult,
        window: Window,
        result_prefix: str | None,
        source: str,
        rows: int,
        current: data_quality.CurrentData,
        drift_method: str,
    ) -> CheckResult:
        prefix = self._result_prefix(check, window, result_prefix)
        written = self._write_result(
            prefix, "statistics.json", result.statistics, result.violations
        )
        metrics = dict(result.metrics)
        if check == "prediction-drift":  # its own names: the outputs are not features
            metrics = {_prediction_metric(name): value for name, value in metrics.items()}
        self._publish(metrics)
        status = "violations" if result.violations else "ok"
        if not result.evaluated:
            status = "not evaluated"
        return CheckResult(
            check,
            status,
            result.violations,
            summary={
                "rows": rows,
                "source": source,
                "drift_method": drift_method,
                "max_drift": round(max(result.drift.values(), default=0.0), 4),
                "short_rows": len(current.short_rows),
                "long_rows": len(current.long_rows),
                **({} if result.evaluated else {"reason": "evaluate_constraints is Disabled"}),
            },
            files=written,
            metrics=metrics,
            details={
                "statistics": result.statistics,
                "drift": result.drift,
                "distances": result.distances,
            },
        )

    def prediction_drift(
        self,
        window: Window,
        *,
        captures: list[Capture] | None = None,
        batch_job: str | None = None,
        result_prefix: str | None = None,
        drift_method: str = "linf",
    ) -> CheckResult:
        """The distribution of the model's outputs (captured, or a batch job's) against their
        distribution on the baseline data: drift of the scores a data-quality check of the
        inputs can miss (Model Monitor has no such check)."""
        baseline = self.baseline()
        if baseline.prediction_statistics is None:
            raise ConfigError(
                "the baseline has no prediction statistics: `byo monitor baseline --model …` "
                "computes them (an imported Model Monitor baseline has none)"
            )
        if batch_job is not None:
            run = self.batch_run(batch_job)
            outputs, source = run.outputs, run.source
        else:
            captures = self.captures(window) if captures is None else captures
            outputs = [o for c in captures if c.outputs is not None for o in c.outputs]
            source = f"{len(captures)} captured requests"
        if not outputs:
            return CheckResult(
                "prediction-drift", "not evaluated", summary={"rows": 0, "source": source}
            )
        names = data_quality.features_of(baseline.prediction_statistics)
        matrix = np.array([o if isinstance(o, list) else [o] for o in outputs], dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise ByoError(
                f"the model's outputs have {matrix.shape[-1]} values per row; its baseline "
                f"has {len(names)} ({', '.join(names)})"
            )
        current = data_quality.CurrentData(
            pa.table({name: matrix[:, i] for i, name in enumerate(names)})
        )
        result = data_quality.check(
            baseline.prediction_statistics,
            baseline.prediction_constraints,
            current,
            drift_method=drift_method,
        )
        return self._distribution_result(
            "prediction-drift",
            result,
            window,
            result_prefix,
            source,
            len(matrix),
            current,
            drift_method,
        )

    def join(
        self, captures: list[Capture], labels: dict[str, list[float]]
    ) -> tuple[list[tuple[Capture, list[float]]], list[dict[str, str]]]:
        """Captures paired with their labels (by inferenceId, else eventId), and every capture
        that could not be paired, with the reason."""
        joined, unjoined = [], []
        for capture in captures:
            found = labels.get(capture.join_key)
            if capture.outputs is None:
                reason = "capture holds no output (capture mode Input only)"
            elif found is None:
                reason = "no ground truth for this id"
            elif len(found) != len(capture.outputs):
                reason = f"{len(found)} labels for {len(capture.outputs)} predictions"
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
        """Captured predictions joined with ground truth, against the model-quality baseline's
        constraints, for the baseline's problem type."""
        baseline = self.baseline()
        if baseline.model_constraints is None:
            raise ConfigError("the baseline has no model-quality constraints: pass --model")
        problem_type = baseline.problem_type or "BinaryClassification"
        captures = self.captures(window) if captures is None else captures
        labels = self.ground_truth(window)
        joined, unjoined = self.join(captures, labels)
        label = np.array([v for _, found in joined for v in found], dtype=np.float64)
        summary = {
            "problem_type": problem_type,
            "captures": len(captures),
            "joined_captures": len(joined),
            "unjoined_captures": len(unjoined),
            "rows": len(label),
            "ground_truth_records": len(labels),
        }
        prefix = self._result_prefix("model-quality", window, result_prefix)
        written = {}
        if unjoined:
            written["unjoined.jsonl"] = self._put(
                prefix + "unjoined.jsonl",
                "".join(json.dumps(u) + "\n" for u in unjoined).encode(),
                "application/jsonlines",
            )
        if not len(label):
            return CheckResult(
                "model-quality",
                "not evaluated",
                summary={**summary, "reason": "no captured prediction has ground truth"},
                files=written,
            )
        try:
            label = baselines.labels_as(label, problem_type, "ground truth")
        except ConfigError as exc:
            raise ByoError(f"the window's {exc}") from None
        prediction = _predictions(joined, problem_type)
        if problem_type == "BinaryClassification":
            summary["positives"] = int(label.sum())
        stats = model_quality.statistics(
            label, prediction, datetime.now(UTC).isoformat(), problem_type=problem_type
        )
        stats["dataset"]["join"] = summary
        violations, not_evaluated = model_quality.violations(stats, baseline.model_constraints)
        written.update(self._write_result(prefix, "statistics.json", stats, violations))
        metrics = dict(model_quality.metric_values(stats))
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
            files=written,
            metrics=metrics,
            details={"statistics": stats},
        )

    def attribution_drift(
        self,
        window: Window,
        *,
        captures: list[Capture] | None = None,
        batch_job: str | None = None,
        result_prefix: str | None = None,
    ) -> CheckResult:
        """nDCG of the current inputs' feature-attribution ranking against the baseline's,
        per label, as Clarify's explainability monitor."""
        baseline = self.baseline()
        base = baseline.attributions()
        if base is None:
            raise ConfigError("the baseline has no attributions: pass --model")
        current, source, _ = self._inputs(baseline, window, captures, batch_job)
        if current.table.num_rows == 0:
            return CheckResult("attribution-drift", "not evaluated", summary={"rows": 0})
        names = baseline.features
        matrix = baselines.matrix_of(current.table.select(names))
        booster = baseline.booster()
        current_attributions = attribution.global_attributions(booster, matrix, names)
        threshold = (
            attribution.threshold_of(baseline.attribution_constraints)
            if baseline.attribution_constraints
            else attribution.NDCG_THRESHOLD
        )
        scores = {
            label: attribution.ndcg(values, current_attributions.get(label, {}))
            for label, values in base.items()
            if label in current_attributions
        }
        if not scores:
            raise ConfigError(
                f"the baseline's attribution labels ({', '.join(base)}) are not the model's "
                f"outputs ({', '.join(current_attributions)})"
            )
        violations = attribution.violations(scores, threshold)
        prefix = self._result_prefix("attribution-drift", window, result_prefix)
        document = attribution.analysis(
            current_attributions, len(matrix), attribution.expected_values(booster, matrix)
        )
        written = self._write_result(prefix, "analysis.json", document, violations, version="1.0")
        score = min(scores.values())
        metrics = {"feature_attribution_ndcg": score}
        if len(scores) > 1:
            metrics.update({f"feature_attribution_ndcg_{k}": v for k, v in scores.items()})
        metrics["attribution_drift_violations"] = len(violations)
        self._publish(metrics)
        first = next(iter(current_attributions.values()))
        top = sorted(first, key=lambda f: -first[f])[:5]
        return CheckResult(
            "attribution-drift",
            "violations" if violations else "ok",
            violations,
            summary={
                "rows": len(matrix),
                "source": source,
                "ndcg": round(score, 4),
                "top_features": top,
            },
            files=written,
            metrics=metrics,
            details={"baseline": base, "current": current_attributions, "ndcg": scores},
        )

    def bias(
        self,
        window: Window,
        facet: str = bias.DEFAULT_FACET,
        *,
        captures: list[Capture] | None = None,
        result_prefix: str | None = None,
    ) -> CheckResult:
        """Clarify's pre- and post-training bias metrics for one facet, over labelled
        captures; violations against the bias baseline (Clarify's analysis.json) when there
        is one, else Clarify's default ranges."""
        baseline = self.baseline()
        chosen = _facet(baseline, facet)
        problem_type = baseline.problem_type or "BinaryClassification"
        if problem_type != "BinaryClassification":
            raise ConfigError(
                f"bias needs a binary classifier's predicted labels; the baseline's model is "
                f"{problem_type}"
            )
        captures = self.captures(window) if captures is None else captures
        joined, unjoined = self.join(captures, self.ground_truth(window))
        rows = [row for capture, _ in joined for row in capture.rows]
        summary = {"joined_captures": len(joined), "unjoined_captures": len(unjoined)}
        if not rows:
            return CheckResult(
                "bias", "not evaluated", summary={**summary, "reason": "no labelled captures"}
            )
        current = datasets.current_from_rows(
            ("\n".join(rows) + "\n").encode(), baseline.features, baseline.types
        )
        if current.short_rows or current.long_rows:
            raise ByoError("captured rows do not have the baseline's columns: see data-quality")
        column = current.table.column(chosen.column)
        values = (
            baselines.matrix_of(pa.table({"f": column}))[:, 0]
            if chosen.numeric
            else np.array(column.cast(pa.string()).to_pylist(), dtype=object)
        )
        mask = bias.in_facet(chosen, values)
        label = baselines.labels_as(
            np.array([v for _, found in joined for v in found], dtype=np.float64),
            problem_type,
            "ground truth",
        )
        score = np.array([s for capture, _ in joined for s in capture.scores], dtype=np.float64)
        predicted = (score >= model_quality.THRESHOLD).astype(np.int8)
        try:
            pre = bias.pre_training(mask, label)
            post = bias.post_training(mask, label, predicted)
        except ValueError as exc:  # the facet selects no row, or every row, of the window
            return CheckResult(
                "bias",
                "not evaluated",
                summary={**summary, "facet": facet, "reason": f"--facet {facet}: {exc}"},
            )
        document = bias.analysis(chosen, pre, post, baseline.label_name or "label")
        violations = bias.violations(chosen, {**pre, **post}, baseline.bias)
        prefix = self._result_prefix("bias", window, result_prefix)
        written = self._write_result(prefix, "analysis.json", document, violations, version="1.0")
        metrics = {f"bias_{name}": value for name, value in {**pre, **post}.items()}
        metrics["bias_drift_violations"] = len(violations)
        self._publish(metrics)
        return CheckResult(
            "bias",
            "violations" if violations else "ok",
            violations,
            summary={
                **summary,
                "facet": facet,
                "rows_in_facet": int(mask.sum()),
                **{k: round(v, 4) for k, v in post.items() if k in ("DPPL", "DI", "AD", "RD")},
            },
            files=written,
            metrics=metrics,
            details={"pre_training": pre, "post_training": post},
        )

    def run(
        self, window: Window, result_prefix: str | None = None, drift_method: str = "linf"
    ) -> list[CheckResult]:
        """Every check the baseline supports, over one read of the window's captures; model
        quality only when the baseline has its constraints."""
        baseline = self.baseline()
        captures = self.captures(window)
        common = {"captures": captures, "result_prefix": result_prefix}
        results = [self.data_quality(window, drift_method=drift_method, **common)]
        if baseline.prediction_statistics is not None:
            results.append(self.prediction_drift(window, drift_method=drift_method, **common))
        if baseline.model_constraints is not None:
            results.append(self.model_quality(window, **common))
        if baseline.attribution is not None and baseline.model_bytes is not None:
            results.append(self.attribution_drift(window, **common))
        return results


def _predictions(joined: list[tuple[Capture, list[float]]], problem_type: str) -> np.ndarray:
    """The joined captures' outputs as model_quality takes them: binary scores, regression
    values, multiclass probabilities (n, k) or predicted labels."""
    if problem_type != "MulticlassClassification":
        return np.array([s for capture, _ in joined for s in capture.scores], dtype=np.float64)
    outputs = [o for capture, _ in joined for o in capture.outputs]
    if all(isinstance(o, list) for o in outputs):
        return np.array(outputs, dtype=np.float64)
    return np.array([o if isinstance(o, float) else float(np.argmax(o)) for o in outputs])


def _prediction_metric(name: str) -> str:
    """data quality's metric names, for the model's outputs: feature_baseline_drift_X →
    prediction_drift_X, max_feature_baseline_drift → max_prediction_drift,
    data_quality_violations → prediction_drift_violations."""
    for old, new in (
        ("feature_baseline_drift_", "prediction_drift_"),
        ("max_feature_baseline_drift", "max_prediction_drift"),
        ("data_quality_violations", "prediction_drift_violations"),
        ("feature_", "prediction_"),
    ):
        if name.startswith(old):
            return new + name[len(old) :]
    return f"prediction_{name}"


def _facet(baseline: Baseline, text: str) -> bias.Facet:
    """--facet COLUMN=VALUE for the baseline's features: a numeric feature's VALUE is a
    threshold, a String feature's a category."""
    column = text.partition("=")[0]
    if column not in baseline.features:
        raise ConfigError(
            f"--facet {text}: {column!r} is not a feature (features: "
            f"{', '.join(baseline.features[:5])}{', …' if len(baseline.features) > 5 else ''})"
        )
    numeric = baseline.types.get(column) in ("Integral", "Fractional")
    try:
        return bias.parse_facet(text, numeric)
    except ValueError as exc:
        raise ConfigError(f"--facet {exc}") from None


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

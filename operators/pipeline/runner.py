"""`byo pipeline run`: process → [preprocess] → train → evaluate → condition → register → deploy,
locally, with the parameters the SageMaker pipeline takes, a step cache in the bucket and one run
record. preprocess runs only with Preprocessing other than none: it fits a preprocessor on the
train split, train and evaluate use its transformed splits, and register registers a serial
inference pipeline of two containers (the preprocessor, then XGBoost).

In the data bucket, under pipelines/<pipeline name>/:
- input/: the default InputData (CSV files with one header)
- cache/<step>/<cache key>/: a step's outputs and, written last, _manifest.json (each file's
  sha256 and size). The key hashes everything the step's outputs depend on: its inputs' content,
  the parameters it reads and the step's version. A run finding a complete entry skips the step.
- runs/<run id>.json: the run record (also written locally): parameters, and for every step its
  status, inputs, outputs, cache key and timing.

register and deploy are not cached but idempotent: a model already registered (same sha256) is
not registered again, and a variant already serving it is left alone.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from operators import deploy, registry, rollout, status
from operators.aws import Clients
from operators.errors import ByoError, CheckFailed, ConfigError
from operators.layout import Layout
from operators.pipeline import params
from operators.s3 import get_bytes_or_none, put_json, sha256_of, split_uri

# Bump a step's version when its outputs change for the same inputs: old cache entries then miss.
STEP_VERSIONS = {"process": 1, "preprocess": 1, "train": 1, "evaluate": 1}
STEPS = ("process", "preprocess", "train", "evaluate", "condition", "register", "deploy")
MANIFEST = "_manifest.json"
SPLITS = ("train", "validation", "test")
PREPROCESSOR = "preprocessor/preprocess.tar.gz"  # steps.PREPROCESSOR (steps imports xgboost)
# The preprocessor's container answers CSV rows (what XGBoost's container reads) whatever the
# client's Accept: SageMaker passes the client's Accept to the last container only.
PREPROCESSOR_ENV = {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}


def steps_of(values: dict[str, Any]) -> list[str]:
    """The run's steps: preprocess only with a Preprocessing other than none."""
    return [n for n in STEPS if n != "preprocess" or values["Preprocessing"] != "none"]


@dataclass
class StepRecord:
    name: str
    status: str = "NotStarted"  # Succeeded | Cached | Skipped | Failed
    started: str | None = None
    seconds: float | None = None
    cache_key: str | None = None
    cached_from: str | None = None  # the run that made the cached outputs
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


def pipeline_name(settings: Any, name: str | None = None) -> str:
    """--name, else BYO_PIPELINE_NAME, else <stack name>-pipeline."""
    return name or settings.get("pipeline_name") or f"{settings.get('name') or 'byo'}-pipeline"


def cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


class Runner:
    """One pipeline's runs against the platform (its bucket, registry and endpoint)."""

    def __init__(
        self,
        clients: Clients,
        *,
        name: str,
        layout: Layout,
        group: str,
        image: str,
        endpoint: str | None,
        role_arn: str | None,
        work_dir: Path,
        use_cache: bool = True,
        progress: Callable[[str], None] = lambda _: None,
        threads: int = 0,
        job_table: str | None = None,
    ) -> None:
        self.clients = clients
        self.name = name
        self.layout = layout
        self.group = group
        self.image = image
        self.endpoint = endpoint
        self.role_arn = role_arn
        self.work_dir = work_dir
        self.use_cache = use_cache
        self.progress = progress
        self.threads = threads
        self.job_table = job_table  # the endpoint's rollout lock, taken by the deploy step
        self.prefix = f"{layout.pipelines}{name}/"
        self._manifests: dict[str, dict[str, Any]] = {}  # this run's cached-step manifests
        self._verified: set[Path] = set()  # local copies known to match their manifest
        self.record: dict[str, Any] | None = None  # the last run's record

    @property
    def bucket(self) -> str:
        return self.layout.bucket

    @classmethod
    def from_settings(
        cls,
        clients: Clients,
        settings: Any,
        *,
        name: str | None = None,
        work_dir: Path = Path("build/pipeline"),
        **options: Any,
    ) -> Runner:
        """The stack's pipeline (its bucket and prefix, registry, serving image, endpoint and
        role, from the settings); work_dir/<pipeline name> holds local copies and records."""
        pipeline = pipeline_name(settings, name)
        return cls(
            clients,
            name=pipeline,
            layout=Layout.from_settings(settings),
            group=settings.require("model_package_group"),
            image=settings.require("serving_image"),
            endpoint=settings.get("endpoint_name"),
            role_arn=settings.get("sagemaker_execution_role_arn"),
            job_table=settings.get("job_table"),
            work_dir=work_dir / pipeline,
            **options,
        )

    # -- S3 -------------------------------------------------------------------------------
    def _get_json(self, key: str) -> dict[str, Any] | None:
        body = get_bytes_or_none(self.clients.s3, self.bucket, key)
        return None if body is None else json.loads(body)

    def _put_json(self, key: str, document: Any) -> str:
        return put_json(self.clients.s3, self.bucket, key, document)

    def _cache_prefix(self, step: str, key: str) -> str:
        return f"{self.prefix}cache/{step}/{key}/"

    def _cached(self, step: str, key: str) -> dict[str, Any] | None:
        """The complete cache entry (manifest written and every file there), or None."""
        manifest = self._get_json(self._cache_prefix(step, key) + MANIFEST)
        if manifest is None:
            return None
        for entry in manifest["files"].values():
            bucket, object_key = split_uri(entry["uri"])
            try:
                head = self.clients.s3.head_object(Bucket=bucket, Key=object_key)
            except ClientError:
                return None
            if head["ContentLength"] != entry["bytes"]:
                return None
        return manifest

    def _store(self, step: str, key: str, local_dir: Path, run_id: str) -> dict[str, Any]:
        """Upload a step's outputs; the manifest last, so that an entry is complete or absent."""
        prefix = self._cache_prefix(step, key)
        files = {}
        for path in sorted(p for p in local_dir.rglob("*") if p.is_file()):
            relative = path.relative_to(local_dir).as_posix()
            self.clients.s3.upload_file(str(path), self.bucket, prefix + relative)
            files[relative] = {
                "uri": f"s3://{self.bucket}/{prefix}{relative}",
                "sha256": sha256_of(path),
                "bytes": path.stat().st_size,
            }
            self._verified.add(path)
        manifest = {
            "step": step,
            "cache_key": key,
            "run_id": run_id,
            "created": datetime.now(UTC).isoformat(),
            "files": files,
        }
        self._put_json(prefix + MANIFEST, manifest)
        return manifest

    def _local(self, step: str, key: str) -> Path:
        return self.work_dir / "cache" / step / key

    def _fetch(self, manifest: dict[str, Any], relative: str) -> Path:
        """A cached output as a local file, downloaded unless an identical copy is here (checked
        once per run)."""
        entry = manifest["files"][relative]
        path = self._local(manifest["step"], manifest["cache_key"]) / relative
        if path in self._verified:
            return path
        if not (
            path.is_file()
            and path.stat().st_size == entry["bytes"]
            and sha256_of(path) == entry["sha256"]
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            bucket, key = split_uri(entry["uri"])
            self.clients.s3.download_file(bucket, key, str(path))
        self._verified.add(path)
        return path

    # -- input ----------------------------------------------------------------------------
    def _input(self, value: str) -> tuple[list[dict[str, Any]], Callable[[], list[Path]]]:
        """InputData's identity (what the cache key hashes) and a way to get it as local
        files (only called when the process step runs)."""
        uri = value or f"s3://{self.bucket}/{self.prefix}input/"
        if not uri.startswith("s3://"):
            path = Path(uri)
            files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
            if not files or not all(f.is_file() for f in files):
                raise ConfigError(f"InputData {uri}: no such file (or no *.csv in the directory)")
            return [{"file": str(f), "sha256": sha256_of(f)} for f in files], lambda: files
        bucket, key = split_uri(uri)
        objects = []
        paginator = self.clients.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", []):
                exact = item["Key"] == key
                if exact or item["Key"].endswith(".csv"):
                    objects.append(item)
        exact = [o for o in objects if o["Key"] == key]
        objects = exact or objects
        if not objects:
            raise ConfigError(
                f"InputData {uri}: no CSV there; pass --data FILE (or --param InputData=…) or "
                f"upload the data to s3://{self.bucket}/{self.prefix}input/"
            )
        identity = [
            {"uri": f"s3://{bucket}/{o['Key']}", "etag": o["ETag"], "bytes": o["Size"]}
            for o in objects
        ]

        def download() -> list[Path]:
            local_dir = self.work_dir / "input" / cache_key(identity)
            paths = []
            for number, item in enumerate(objects):
                path = local_dir / f"{number:04d}.csv"
                if not (path.is_file() and path.stat().st_size == item["Size"]):
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self.clients.s3.download_file(bucket, item["Key"], str(path))
                paths.append(path)
            return paths

        return identity, download

    # -- the run --------------------------------------------------------------------------
    def _cached_step(
        self,
        record: StepRecord,
        run_id: str,
        work: Callable[[Path], dict[str, Any]],
    ) -> dict[str, Any]:
        """Run `work(out_dir)` unless the cache has this key; returns the manifest."""
        key = record.cache_key or ""
        if self.use_cache:
            manifest = self._cached(record.name, key)
            if manifest is not None:
                record.status = "Cached"
                record.cached_from = manifest["run_id"]
                record.outputs = {k: v["uri"] for k, v in manifest["files"].items()}
                return manifest
        out_dir = self._local(record.name, key)
        if out_dir.exists():
            for stale in sorted(out_dir.rglob("*"), reverse=True):
                stale.unlink() if stale.is_file() else stale.rmdir()
        out_dir.mkdir(parents=True, exist_ok=True)
        record.outputs["result"] = work(out_dir)
        manifest = self._store(record.name, key, out_dir, run_id)
        record.outputs.update({k: v["uri"] for k, v in manifest["files"].items()})
        record.status = "Succeeded"
        return manifest

    def run(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        values = params.resolve(overrides)
        self._manifests = {}
        self._verified = set()
        started = datetime.now(UTC)
        # sorts by start time, to the millisecond
        run_id = f"{started:%Y%m%dT%H%M%S}.{started:%f}"[:19] + f"Z-{uuid.uuid4().hex[:6]}"
        names = steps_of(values)
        records = {name: StepRecord(name) for name in names}
        record: dict[str, Any] = {
            "pipeline": self.name,
            "run_id": run_id,
            "status": "Executing",
            "started": started.isoformat(),
            "parameters": values,
            "cache": self.use_cache,
            "steps": records,
        }
        clock = time.perf_counter()
        current: StepRecord | None = None
        try:
            work = {
                "process": self._process,
                "preprocess": self._preprocess,
                "train": self._train,
                "evaluate": self._evaluate,
                "condition": self._condition,
                "register": self._register,
                "deploy": self._deploy,
            }
            for name in names:
                step = work[name]
                current = records[name]
                current.started = datetime.now(UTC).isoformat()
                step_clock = time.perf_counter()
                step(current, records, values, run_id)
                current.seconds = round(time.perf_counter() - step_clock, 3)
                self.progress(_describe(current))
                if current.status == "Failed":  # the condition's else branch: stop here
                    break
            failed = next((r for r in records.values() if r.status == "Failed"), None)
            record["status"] = "Failed" if failed else "Succeeded"
            if failed:
                record["reason"] = failed.reason
                for later in names[names.index(failed.name) + 1 :]:
                    records[later].status = "Skipped"
                    records[later].reason = f"{failed.name} failed"
        except ByoError as exc:
            if current is not None:
                current.status = "Failed"
                current.reason = str(exc)
                current.seconds = round(time.perf_counter() - step_clock, 3)
            record["status"] = "Failed"
            record["reason"] = f"{current.name if current else 'pipeline'}: {exc}"
            raise
        finally:
            record["finished"] = datetime.now(UTC).isoformat()
            record["seconds"] = round(time.perf_counter() - clock, 3)
            record["steps"] = [asdict(r) for r in records.values()]
            self._save(record)
        if record["status"] == "Failed":
            raise CheckFailed(f"pipeline {self.name} run {run_id} stopped: {record['reason']}")
        return record

    def _save(self, record: dict[str, Any]) -> None:
        record["record"] = {
            "local": str(self.work_dir / "runs" / f"{record['run_id']}.json"),
            "s3": f"s3://{self.bucket}/{self.prefix}runs/{record['run_id']}.json",
        }
        local = Path(record["record"]["local"])
        local.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(record, indent=2, default=str) + "\n"
        local.write_text(text)
        (self.work_dir / "last-run.json").write_text(text)
        self.record = record
        try:
            self._put_json(f"{self.prefix}runs/{record['run_id']}.json", record)
        except ClientError as exc:  # the local record stands; say why S3 has none
            record["record"]["s3"] = f"not written: {exc.response['Error'].get('Message')}"

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest run records in the bucket, newest first (run ids sort by start time)."""
        keys: list[str] = []
        paginator = self.clients.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}runs/"):
            keys += [item["Key"] for item in page.get("Contents", [])]
        newest = sorted(keys, reverse=True)[:limit]
        return [record for key in newest if (record := self._get_json(key)) is not None]

    # -- steps ----------------------------------------------------------------------------
    def _process(self, step: StepRecord, records, values, run_id: str) -> None:
        identity, download = self._input(values["InputData"])
        fractions = [values[k] for k in ("TrainFraction", "ValidationFraction", "TestFraction")]
        step.inputs = {
            "data": identity,
            "TargetColumn": values["TargetColumn"],
            "fractions": fractions,
            "Seed": values["Seed"],
        }
        step.cache_key = cache_key("process", STEP_VERSIONS["process"], step.inputs)

        def work(out_dir: Path) -> dict[str, Any]:
            from operators.pipeline import steps  # xgboost, scikit-learn

            return steps.process(
                download(),
                out_dir,
                target=values["TargetColumn"],
                train_fraction=fractions[0],
                validation_fraction=fractions[1],
                test_fraction=fractions[2],
                seed=values["Seed"],
            )

        manifest = self._manifests[step.name] = self._cached_step(step, run_id, work)
        schema = json.loads(self._fetch(manifest, "schema/schema.json").read_text())
        step.outputs["schema"] = schema
        if schema["rejected_rows"]:
            self.progress(
                f"  {schema['rejected_rows']} rows without a usable {schema['target']} set "
                f"aside in {step.outputs.get('rejected/rejected.csv')}"
            )

    def _preprocess(self, step: StepRecord, records, values, run_id: str) -> None:
        process = self._manifests["process"]
        method = values["Preprocessing"]
        files = {n: process["files"][f"{n}/{n}.csv"]["sha256"] for n in SPLITS}
        files["schema"] = process["files"]["schema/schema.json"]["sha256"]
        step.inputs = {"data": files, "Preprocessing": method}
        step.cache_key = cache_key("preprocess", STEP_VERSIONS["preprocess"], step.inputs)

        def work(out_dir: Path) -> dict[str, Any]:
            from operators.pipeline import steps  # scikit-learn

            return steps.preprocess(
                *(self._fetch(process, f"{n}/{n}.csv") for n in SPLITS),
                self._fetch(process, "schema/schema.json"),
                out_dir,
                method=method,
            )

        self._manifests[step.name] = self._cached_step(step, run_id, work)

    def _train(self, step: StepRecord, records, values, run_id: str) -> None:
        process = self._manifests["process"]
        # The preprocess step's transformed splits when it ran, else process's.
        splits = self._manifests.get("preprocess", process)
        hyper = params.hyperparameters(values)
        files = {n: splits["files"][f"{n}/{n}.csv"]["sha256"] for n in ("train", "validation")}
        files["schema"] = process["files"]["schema/schema.json"]["sha256"]
        step.inputs = {
            "data": files,
            "hyperparameters": hyper,
            "Preprocessing": values["Preprocessing"],
        }
        step.cache_key = cache_key("train", STEP_VERSIONS["train"], step.inputs)

        def work(out_dir: Path) -> dict[str, Any]:
            from operators.pipeline import steps  # xgboost, scikit-learn

            return steps.train(
                self._fetch(splits, "train/train.csv"),
                self._fetch(splits, "validation/validation.csv"),
                self._fetch(process, "schema/schema.json"),
                out_dir,
                hyperparameters=hyper,
                threads=self.threads,
            )

        self._manifests[step.name] = self._cached_step(step, run_id, work)

    def _evaluate(self, step: StepRecord, records, values, run_id: str) -> None:
        process = self._manifests["process"]
        model = self._manifests["train"]
        preprocess = self._manifests.get("preprocess")
        # The raw splits: with a preprocessor, they go through both stages, as served.
        step.inputs = {
            "model": model["files"]["model.tar.gz"]["sha256"],
            "test": process["files"]["test/test.csv"]["sha256"],
            "train": process["files"]["train/train.csv"]["sha256"],
            "schema": process["files"]["schema/schema.json"]["sha256"],
            "Preprocessing": values["Preprocessing"],
        }
        if preprocess is not None:
            step.inputs["preprocessor"] = preprocess["files"][PREPROCESSOR]["sha256"]
        step.cache_key = cache_key("evaluate", STEP_VERSIONS["evaluate"], step.inputs)

        def work(out_dir: Path) -> dict[str, Any]:
            from operators.pipeline import steps  # xgboost, scikit-learn

            evaluation = steps.evaluate(
                self._fetch(model, "model.tar.gz"),
                self._fetch(process, "test/test.csv"),
                self._fetch(process, "train/train.csv"),
                self._fetch(process, "schema/schema.json"),
                out_dir,
                None if preprocess is None else self._fetch(preprocess, PREPROCESSOR),
            )
            return {"auc": evaluation["binary_classification_metrics"]["auc"]["value"]}

        manifest = self._manifests[step.name] = self._cached_step(step, run_id, work)
        evaluation = json.loads(self._fetch(manifest, "evaluation.json").read_text())
        step.outputs["binary_classification_metrics"] = {
            k: v["value"]
            for k, v in evaluation["binary_classification_metrics"].items()
            if isinstance(v, dict) and "value" in v
        }

    def _condition(self, step: StepRecord, records, values, run_id: str) -> None:
        auc = records["evaluate"].outputs["binary_classification_metrics"]["auc"]
        threshold = values["AucThreshold"]
        step.inputs = {"auc": auc, "AucThreshold": threshold}
        passed = auc >= threshold
        step.outputs = {"outcome": passed}
        if passed:
            step.status = "Succeeded"
        else:
            step.status = "Failed"
            step.reason = (
                f"test AUC {auc:.4f} is below AucThreshold {threshold:g}: nothing registered"
            )

    def _register(self, step: StepRecord, records, values, run_id: str) -> None:
        model = self._manifests["train"]
        evaluation = self._manifests["evaluate"]
        preprocess = self._manifests.get("preprocess")
        digest = model["files"]["model.tar.gz"]["sha256"]
        wanted = values["ModelApprovalStatus"]
        step.inputs = {"model_sha256": digest, "ModelApprovalStatus": wanted, "group": self.group}
        containers = None
        if preprocess is not None:
            # A serial inference pipeline: the preprocessor answers CSV rows, XGBoost scores them.
            containers = [
                registry.Container(
                    self._fetch(preprocess, PREPROCESSOR), self.image, dict(PREPROCESSOR_ENV)
                ),
                registry.Container(self._fetch(model, "model.tar.gz"), self.image),
            ]
            step.inputs["preprocessor_sha256"] = preprocess["files"][PREPROCESSOR]["sha256"]
            digest = step.inputs["version_sha256"] = registry.version_digest(containers)
        existing = registry.find_by_sha256(self.clients, self.group, digest)
        if existing is not None:
            if existing["status"] == "PendingManualApproval" and wanted == "Approved":
                existing = registry.set_status(
                    self.clients, self.group, existing["version"], "Approved"
                )
            step.status = "Skipped"
            step.reason = (
                f"already registered as version {existing['version']} ({existing['status']})"
            )
            step.outputs = {k: existing[k] for k in ("version", "arn", "status")}
            return
        uris = {k: v["uri"] for k, v in evaluation["files"].items()}

        def doc(name: str) -> dict[str, str]:
            return {"ContentType": "application/json", "S3Uri": uris[f"baselines/{name}"]}

        single = {"artifact": self._fetch(model, "model.tar.gz"), "image": self.image}
        package = registry.register(
            self.clients,
            **({"containers": containers} if containers else single),
            metrics=self._fetch(evaluation, "evaluation.json"),
            layout=self.layout,
            group=self.group,
            approve=wanted == "Approved",
            model_metrics={
                "ModelQuality": {
                    "Constraints": doc("model-quality/constraints.json"),
                },
                "ModelDataQuality": {
                    "Statistics": doc("data-quality/statistics.json"),
                    "Constraints": doc("data-quality/constraints.json"),
                },
                "Explainability": {"Report": doc("attribution/analysis.json")},
            },
            drift_check_baselines={
                "ModelQuality": {
                    "Statistics": doc("model-quality/statistics.json"),
                    "Constraints": doc("model-quality/constraints.json"),
                },
                "ModelDataQuality": {
                    "Statistics": doc("data-quality/statistics.json"),
                    "Constraints": doc("data-quality/constraints.json"),
                },
                "Explainability": {"Constraints": doc("attribution/constraints.json")},
            },
            metadata={"pipeline": self.name, "pipeline-run": run_id},
        )
        step.status = "Succeeded"
        step.outputs = {k: package[k] for k in ("version", "arn", "status", "model_data_url")}
        if containers:
            step.outputs["containers"] = [c["model_data_url"] for c in package["containers"]]

    def _deploy(self, step: StepRecord, records, values, run_id: str) -> None:
        package = records["register"].outputs
        variant = values["DeployVariant"]
        weight = params.deploy_weight(values["DeployWeight"])
        step.inputs = {"version": package["version"], "variant": variant, "weight": weight}
        if not self.endpoint or not self.role_arn:
            raise ConfigError("deploy needs the endpoint and its execution role: apply the stack")
        step.status, step.reason, step.outputs = deploy_version(
            self.clients,
            endpoint=self.endpoint,
            group=self.group,
            role_arn=self.role_arn,
            version=package["version"],
            variant=variant,
            weight=weight,
            lock=None
            if not self.job_table
            else rollout.lock(
                self.clients,
                self.job_table,
                self.endpoint,
                f"byo pipeline run {self.name} (deploy step, {variant})",
            ),
        )


def deploy_version(
    clients: Clients,
    *,
    endpoint: str,
    group: str,
    role_arn: str,
    version: int,
    variant: str,
    weight: float | None,
    lock: rollout.Lock | None = None,
) -> tuple[str, str | None, dict[str, Any]]:
    """The deploy step: serve an Approved version as `variant` unless it already does; a new
    variant starts at weight 0 unless a weight is given. Returns (status, reason, outputs)."""
    package = registry.find(clients, group, version)
    if package["status"] != "Approved":
        return (
            "Skipped",
            f"version {version} is {package['status']}: approve it (byo model approve "
            f"{version}) and run again, or deploy it (byo deploy {version} --variant {variant})",
            {},
        )
    live = status.endpoint_status(clients, endpoint)["variants"]
    serving = next((v for v in live if v["variant"] == variant), None)
    if serving and _serves(clients, serving["model"], package):
        return (
            "Skipped",
            f"{variant} already serves version {version} (its weight is {serving['weight']:g}; "
            "byo traffic set/shift changes it)",
            {"endpoint": endpoint, "variant": variant},
        )
    result = deploy.deploy(
        clients,
        endpoint=endpoint,
        group=group,
        version=version,
        variant=variant,
        role_arn=role_arn,
        weight=0.0 if serving is None and weight is None else weight,
        lock=lock,
    )
    return "Succeeded", None, result


def _serves(clients: Clients, model: str | None, package: dict[str, Any]) -> bool:
    """Whether the SageMaker model runs the version's artifacts, every container in order (a
    serial pipeline whose preprocessor is unchanged is not the same version)."""
    if not model:
        return False
    described = clients.client("sagemaker").describe_model(ModelName=model)
    chain = described.get("Containers") or [described.get("PrimaryContainer") or {}]
    wanted = [c["model_data_url"] for c in package["containers"]]
    return [c.get("ModelDataUrl") for c in chain] == wanted


def _describe(step: StepRecord) -> str:
    took = f" in {step.seconds:.1f} s" if step.seconds is not None else ""
    text = f"{step.name}: {step.status}{took}"
    if step.status == "Cached":
        text += f" (outputs of run {step.cached_from})"
    if step.reason:
        text += f": {step.reason}"
    return text

"""The demo: the platform's story end to end, as `make demo` runs it.

    python -m operators.demo --model-dir build/model --outputs build/outputs-local.json

Puts the trained model into S3 and scores sample.csv with the copy read back; with the stack's
outputs, sends each sample row to the endpoint, runs the batch flow (it uploads input/sample.csv
and waits: S3, the trigger Lambda and the Batch job do the rest), rolls out model v2 through the
pipeline with a gated traffic shift, runs the monitoring scenarios, fires the hourly monitoring
rule now and shows the job it ran, deploys a second model kind (a scikit-learn preprocessor
in front of XGBoost, one two-container version) as a variant next to the XGBoost one, and — with
the stack's loops — shows the drift alarm retraining the model and the approval deploying it.
A leaf: it imports what it shows, nothing imports it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from botocore.exceptions import ClientError

from operators import (
    audit,
    batch,
    events,
    ground_truth,
    invoke,
    loops,
    registry,
    rollout,
    status,
    traffic,
)
from operators.aws import Clients
from operators.cli.options import console, guarded, table, variants_table
from operators.config import Settings
from operators.errors import ByoError, ConfigError
from operators.layout import Layout
from operators.monitoring import scenarios
from operators.monitoring.captures import Window
from operators.monitoring.monitor import Monitor, install_registered_baseline
from operators.pipeline.runner import Runner
from operators.s3 import Uploaded, get_bytes, split_uri, upload_content_addressed
from operators.stack import StackOutputs
from serving.artifact import load_booster

DEMO_BUCKET = "byo-demo-artifacts"
BATCH_TIMEOUT_S = 600.0


def ensure_bucket(clients: Clients, bucket: str) -> None:
    s3 = clients.s3
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise ByoError(f"cannot use bucket {bucket}: {exc}") from exc
    kwargs = {}
    if clients.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": clients.region}
    s3.create_bucket(Bucket=bucket, **kwargs)


def upload_model(clients: Clients, model_dir: Path, layout: Layout) -> list[Uploaded]:
    """Upload model.tar.gz and evaluation.json under models/<sha256 of the model>/."""
    missing = [n for n in ("model.tar.gz", "evaluation.json") if not (model_dir / n).is_file()]
    if missing:
        raise ConfigError(f"missing {', '.join(missing)} in {model_dir}: run `make model` first")
    ensure_bucket(clients, layout.bucket)
    return upload_content_addressed(
        clients.s3,
        layout.bucket,
        layout.models,
        {name: model_dir / name for name in ("model.tar.gz", "evaluation.json")},
    )


def score_from_s3(clients: Clients, bucket: str, key: str, rows_csv: Path) -> np.ndarray:
    """Download the model tarball and score a headerless feature CSV with it."""
    features = np.loadtxt(rows_csv, delimiter=",", ndmin=2)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "model.tar.gz"
        clients.s3.download_file(bucket, key, str(local))
        booster = load_booster(local)
    return booster.predict(xgb.DMatrix(features))


@dataclass(frozen=True)
class Scored:
    line: int
    amount: float
    probability: float
    variant: str


def invoke_rows(clients: Clients, endpoint: str, rows_csv: Path) -> list[Scored]:
    """Send each row as its own InvokeEndpoint request, so the variant routing shows per row."""
    runtime = clients.client("sagemaker-runtime")
    scored = []
    for number, line in enumerate(rows_csv.read_text().splitlines(), start=1):
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=line.encode()
        )
        scored.append(
            Scored(
                line=number,
                amount=float(line.rsplit(",", 1)[-1]),
                probability=float(response["Body"].read()),
                variant=response["InvokedProductionVariant"],
            )
        )
    return scored


def batch_flow(
    clients: Clients, outputs: StackOutputs, layout: Layout, rows_csv: Path
) -> dict[str, Any]:
    """The ml-byo flow on the stack, with nothing but the upload: put input/<name>.csv and wait
    (a progress line) while S3 notifies the trigger Lambda, the trigger submits the Batch job and
    the job scores every row into output/ and its record."""
    uploaded = batch.upload_input(clients, layout, rows_csv)
    console.print(f"uploaded {rows_csv} to {uploaded.uri}; the S3 trigger takes it from here")
    with console.status("waiting for the batch job") as line:
        record = batch.wait_for_job(
            clients,
            outputs.job_table,
            uploaded.record_key,
            timeout_s=BATCH_TIMEOUT_S,
            on_progress=lambda progress: line.update(progress.describe()),
        )
    job = record.pop("Job")
    output = get_bytes(clients.s3, *split_uri(record["OutputUri"])).decode()
    return {
        "job_id": job["jobId"],
        "job": job,
        "output": record["OutputUri"],
        "output_text": output,
        "record": dict(sorted(record.items())),
    }


def read_auc(model_dir: Path) -> float:
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    return evaluation["binary_classification_metrics"]["auc"]["value"]


# The gate reads CloudWatch right after each step's traffic: give the metrics a moment to be
# published (the embedded AWS publishes every second; on AWS, wait out --interval instead).
METRICS_DELAY_S = 2.0


def run_pipeline(
    clients: Clients,
    settings: Settings,
    data_csv: Path,
    work_dir: Path,
    variant: str,
    **parameters: str,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """`byo pipeline run` with the demo's seed, approved and deployed as `variant` at weight 0;
    returns the run record and its steps by name."""
    pipeline = Runner.from_settings(
        clients,
        settings,
        work_dir=work_dir / "pipeline",
        progress=lambda line: console.print(f"  pipeline {line}"),
    )
    run = pipeline.run(
        {
            "InputData": str(data_csv),
            "Seed": 7,
            "ModelApprovalStatus": "Approved",
            "DeployVariant": variant,
            "DeployWeight": "0",
            **parameters,
        }
    )
    return run, {step["name"]: step for step in run["steps"]}


def rollout_story(
    clients: Clients,
    settings: Settings,
    monitor: Monitor,
    data_csv: Path,
    sample_csv: Path,
    work_dir: Path,
) -> dict[str, Any]:
    """Model v2 end to end through the pipeline (byo pipeline run: process, train, evaluate,
    AUC condition, register approved, deploy as variant-b at weight 0), then shift 10→50→100
    with traffic during every step, send traffic, generate ground truth."""
    endpoint = monitor.endpoint
    # The endpoint's rollout lock, as byo traffic takes it (the pipeline's deploy step takes it
    # for its own part).
    lock = rollout.from_settings(settings, clients, endpoint, "byo demo (the rollout story)")
    if "variant-b" in {v.name for v in traffic.live_variants(clients, endpoint)}:
        traffic.set_weights(clients, endpoint, {"variant-a": 1, "variant-b": 0}, lock=lock)
    run, steps = run_pipeline(clients, settings, data_csv, work_dir, "variant-b")
    auc = steps["evaluate"]["outputs"]["binary_classification_metrics"]["auc"]
    version = steps["register"]["outputs"]["version"]
    console.print(
        f"pipeline run {run['run_id']}: v2 AUC {auc:.4f} ≥ AucThreshold "
        f"{run['parameters']['AucThreshold']:g}, registered as version {version} (Approved), "
        f"variant-b at weight 0; record {run['record']['local']}"
    )
    rows = [line for line in sample_csv.read_text().splitlines() if line.strip()]

    def traffic_then_wait(seconds: float) -> None:
        if seconds < 30:  # InService polls
            return
        invoke.send_rows(clients, endpoint, rows * 5)
        time.sleep(METRICS_DELAY_S)

    history = traffic.shift(
        clients,
        endpoint,
        "variant-b",
        [10, 50, 100],
        60,
        0.01,
        sleep=traffic_then_wait,
        report=console.print,
        lock=lock,
    )
    started = datetime.now(UTC)
    sent = invoke.send_rows(clients, endpoint, rows, inference_id_prefix="demo-")
    console.print(f"sent {sent.sent} requests: {dict(sent.per_variant)}")
    window = Window(since=started - timedelta(seconds=1), inference_id_prefix="demo-")
    scenarios.wait_for_captures(monitor, window, sent.sent, timeout_s=120)
    truth = ground_truth.generate(
        clients,
        capture_uri=monitor.capture_uri,
        endpoint=endpoint,
        layout=monitor.layout,
        labels_file=data_csv,
        accuracy=0.9,
        seed=1,
    )
    console.print(
        f"ground truth: {truth['labels']} labels ({truth['unmatched']} unmatched) in "
        f"{', '.join(truth['objects'])}"
    )
    return {"version": version, "pipeline_run": run, "shift": history, "ground_truth": truth}


def monitoring_story(
    monitor: Monitor, group: str, version: int, report_dir: Path
) -> scenarios.Outcome:
    """Make the baselines registered with the served model (v2, by the pipeline) the monitor's,
    then run the drift scenarios through the endpoint and write their report."""
    created = install_registered_baseline(monitor, group, version)
    console.print(
        f"monitoring baseline: version {version}'s, registered by the pipeline "
        f"({created['manifest']['rows']:,} training rows), {len(created['files'])} files under "
        f"{monitor.layout.uri(monitor.layout.monitoring)}baseline/"
    )
    return scenarios.run(monitor, report_dir=report_dir, progress=console.print)


# ---------------------------------------------------------------------------------------------
# What the demo shows
# ---------------------------------------------------------------------------------------------
def show_model(clients: Clients, layout: Layout, model_dir: Path, sample_csv: Path) -> None:
    uploaded = upload_model(clients, model_dir, layout)
    console.print(
        table(
            f"s3://{layout.bucket}",
            ["key", "bytes", "sha256"],
            [(a.key, f"{a.size:,}", a.sha256[:16] + "…") for a in uploaded],
            right=["bytes"],
        )
    )
    console.print(f"held-out AUC: {read_auc(model_dir):.4f}")
    scores = score_from_s3(clients, layout.bucket, uploaded[0].key, sample_csv)
    console.print(
        f"scored {len(scores)} rows of {sample_csv} with the model read back from S3: "
        + ", ".join(f"{s:.4f}" for s in scores)
    )


def show_endpoint(clients: Clients, endpoint: str, sample_csv: Path) -> None:
    served = invoke_rows(clients, endpoint, sample_csv)
    console.print(
        table(
            f"endpoint {endpoint}: one request per row of {sample_csv}",
            ["row", "amount", "fraud probability", "variant"],
            [(str(r.line), f"{r.amount:,.2f}", f"{r.probability:.4f}", r.variant) for r in served],
            right=["row", "amount", "fraud probability"],
            styles=["bold red" if r.probability >= 0.5 else None for r in served],
        )
    )


def show_batch_flow(
    clients: Clients, stack: StackOutputs, layout: Layout, sample_csv: Path
) -> None:
    flow = batch_flow(clients, stack, layout, sample_csv)
    job = flow["job"]
    ran = (job["stoppedAt"] - job["startedAt"]) / 1000 if job.get("startedAt") else 0.0
    console.print(
        f"batch job {job['jobName']} ({flow['job_id']}) {job['status']} after {ran:.1f} s "
        f"running, {len(job.get('attempts', []))} attempt(s); it wrote {flow['output']}:"
    )
    console.print(flow["output_text"].rstrip(), markup=False, highlight=False)
    console.print(
        table(
            "job record",
            ["field", "value"],
            [(k, str(v)) for k, v in flow["record"].items()],
            show_header=False,
        )
    )


def show_rollout_and_monitoring(
    clients: Clients,
    settings: Settings,
    layout: Layout,
    data_csv: Path,
    sample_csv: Path,
    work_dir: Path,
) -> None:
    # One monitor for both stories: the rollout waits for its captures, then monitoring checks.
    monitor = Monitor(
        clients,
        layout=layout,
        endpoint=settings.require("endpoint_name"),
        capture_uri=settings.require("data_capture_s3_uri"),
    )
    rollout = rollout_story(clients, settings, monitor, data_csv, sample_csv, work_dir)
    report = status.endpoint_status(clients, monitor.endpoint)
    console.print(variants_table(f"byo status: endpoint {monitor.endpoint}", report["variants"]))
    outcome = monitoring_story(
        monitor,
        settings.require("model_package_group"),
        rollout["version"],
        work_dir / "monitoring" / "report",
    )
    console.print(
        table(
            "drift scenarios (byo monitor scenarios)",
            ["scenario", "what changed", "fired"],
            [
                (
                    i.name,
                    i.description,
                    f"skipped: {i.reason}"
                    if i.status == "skipped"
                    else ", ".join(i.fired) or "nothing",
                )
                for i in outcome.scenarios
            ],
            styles=[None if i.as_expected else "bold red" for i in outcome.scenarios],
        )
    )
    console.print(
        f"monitoring report: {outcome.report} (also {outcome.report_uri})", highlight=False
    )


def scheduled_monitor_story(clients: Clients, settings: Settings) -> dict[str, Any]:
    """The hourly monitoring rule fired now (`byo events fire`): EventBridge submits
    `byo monitor run --window 1h` to the Batch queue, which runs it from the operators image."""
    rule = settings.require("monitoring_rule")
    fired = events.fire_rule(clients, rule)
    jobs = [t["result"] for t in fired["targets"] if "jobId" in t.get("result", {})]
    if not jobs:
        raise ByoError(f"rule {rule} submitted no Batch job: {fired['targets']}")
    with console.status(f"rule {rule} fired") as line:
        job = batch.wait_for_batch_job(
            clients, jobs[0]["jobId"], timeout_s=BATCH_TIMEOUT_S, on_progress=line.update
        )
    return {"rule": rule, "job": job, "log": batch.job_log(clients, job)}


def show_scheduled_monitor(clients: Clients, settings: Settings) -> None:
    run = scheduled_monitor_story(clients, settings)
    job = run["job"]
    ran = (job["stoppedAt"] - job["startedAt"]) / 1000 if job.get("startedAt") else 0.0
    console.print(
        f"scheduled monitoring (byo events fire {run['rule']}): Batch job {job['jobName']} "
        f"{job['status']} after {ran:.1f} s; the end of its log:"
    )
    console.print("\n".join(run["log"][-20:]), markup=False, highlight=False)
    if job["status"] != "SUCCEEDED":
        raise ByoError(f"the monitoring job FAILED: {job.get('statusReason')}")


PIPELINE_VARIANT = "variant-pipeline"


def second_model_story(
    clients: Clients, settings: Settings, data_csv: Path, sample_csv: Path, work_dir: Path
) -> dict[str, Any]:
    """A second model kind next to XGBoost: the same pipeline with Preprocessing=standard-scaler
    registers a scikit-learn preprocessor and XGBoost as one serial-pipeline version (two
    containers), deployed as variant-pipeline at weight 0; sample rows go to both variants
    (TargetVariant), raw rows in, scores out."""
    endpoint = settings.require("endpoint_name")
    run, steps = run_pipeline(
        clients, settings, data_csv, work_dir, PIPELINE_VARIANT, Preprocessing="standard-scaler"
    )
    version = steps["register"]["outputs"]["version"]
    auc = steps["evaluate"]["outputs"]["binary_classification_metrics"]["auc"]
    console.print(
        f"pipeline run {run['run_id']} (Preprocessing=standard-scaler): AUC {auc:.4f}, version "
        f"{version} = scikit-learn preprocessor → XGBoost, {PIPELINE_VARIANT} at weight 0"
    )
    rows = [line for line in sample_csv.read_text().splitlines() if line.strip()]
    runtime = clients.client("sagemaker-runtime")
    served = []
    for line in rows:
        scores = []
        for variant in ("variant-b", PIPELINE_VARIANT):
            response = runtime.invoke_endpoint(
                EndpointName=endpoint,
                ContentType="text/csv",
                Accept="text/csv",
                TargetVariant=variant,
                Body=line.encode(),
            )
            scores.append(float(response["Body"].read()))
        served.append((float(line.rsplit(",", 1)[-1]), *scores))
    return {"version": version, "pipeline_run": run, "served": served}


def show_second_model(
    clients: Clients, settings: Settings, data_csv: Path, sample_csv: Path, work_dir: Path
) -> None:
    story = second_model_story(clients, settings, data_csv, sample_csv, work_dir)
    endpoint = settings.require("endpoint_name")
    report = status.endpoint_status(clients, endpoint)
    console.print(
        table(
            f"two model kinds on endpoint {endpoint}",
            ["variant", "weight", "containers", "version"],
            [
                (
                    v["variant"],
                    f"{v['weight']:g}",
                    str(v["containers"]),
                    str(v.get("model_version") or "-"),
                )
                for v in report["variants"]
            ],
            right=["weight", "containers", "version"],
        )
    )
    console.print(
        table(
            "sample rows sent to both (TargetVariant)",
            ["row", "Amount", "variant-b (XGBoost)", f"{PIPELINE_VARIANT} (scaler → XGBoost)"],
            [
                (str(i), f"{amount:.2f}", f"{xgb_score:.6g}", f"{pipe_score:.6g}")
                for i, (amount, xgb_score, pipe_score) in enumerate(story["served"], start=1)
            ],
            right=[
                "row",
                "Amount",
                "variant-b (XGBoost)",
                f"{PIPELINE_VARIANT} (scaler → XGBoost)",
            ],
        )
    )


# ---------------------------------------------------------------------------------------------
# The loops: the drift alarm retrains, an approval deploys
# ---------------------------------------------------------------------------------------------
LOOP_ROWS = 30_000  # the labelled data the retraining trains on: small, so it takes seconds
LOOP_TIMEOUT_S = 300.0


def prepare_loops(
    clients: Clients, loop_state: dict[str, Any], layout: Layout, data_csv: Path
) -> None:
    """Before the manual rollouts: the approval trigger paused (the operators roll out by hand
    first: byo loops pause approval), and recent labelled data under datasets/ for the
    retraining machine (the demo's stack has no new-data trigger)."""
    if "approval" in (loop_state.get("rule_names") or {}):
        loops.set_trigger(clients, loop_state, "approval", on=False)
    with data_csv.open() as lines:
        head = [next(lines) for _ in range(LOOP_ROWS + 1)]
    key = f"{layout.datasets}recent.csv"
    clients.s3.put_object(Bucket=layout.bucket, Key=key, Body="".join(head).encode())
    console.print(
        f"loops: the approval trigger paused while the operators roll out by hand (byo loops "
        f"pause approval); {LOOP_ROWS:,} recent labelled rows at s3://{layout.bucket}/{key} for "
        "the retraining machine"
    )


def _execution(
    clients: Clients,
    loop_state: dict[str, Any],
    loop: str,
    since: datetime,
    done: bool,
    timeout_s: float = LOOP_TIMEOUT_S,
    status_line: Any = None,
) -> dict[str, Any] | None:
    """The newest execution of `loop` started after `since` that did the loop's work (not one
    that found the loop held and was skipped) — once it has a final outcome, with `done` — or
    None when there is none by the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        runs = [
            r
            for r in loops.executions(clients, loop_state, limit=10)
            if r["loop"] == loop
            and r["outcome"] != "skipped"
            and r["started"]
            and datetime.fromisoformat(r["started"]) >= since
        ]
        final = [r for r in runs if r["outcome"] not in (None, "running")]
        if runs and (not done or final):
            return (final or runs)[0]
        if time.monotonic() > deadline:
            return None
        if status_line is not None and runs:
            status_line.update(f"{loop} {runs[0]['execution']}: {runs[0]['outcome'] or 'running'}")
        time.sleep(1.0)


def loops_story(
    clients: Clients,
    settings: Settings,
    loop_state: dict[str, Any],
    data_csv: Path,
    since: datetime,
) -> dict[str, Any]:
    """The drift the monitoring found (step 8) sent the drift alarm to ALARM, which started the
    retraining machine; its version is approved; the deploy machine rolls it out."""
    alarm = (settings.get("alarm_names") or {}).get("monitoring/drift")
    with console.status("waiting for the retraining the drift alarm started") as line:
        retraining = _execution(clients, loop_state, "retraining", since, done=False, timeout_s=30)
        if retraining is None:
            # The alarm was already in ALARM (a re-run within its hour): no state change, no
            # event. Started by hand instead, as an operator would.
            state = "unknown"
            if alarm:
                described = clients.client("cloudwatch").describe_alarms(AlarmNames=[alarm])
                state = described["MetricAlarms"][0]["StateValue"]
            console.print(
                f"no retraining started since the demo began (drift alarm {alarm}: {state}, no "
                "new state change): byo loops trigger retraining"
            )
            loops.trigger(clients, loop_state, "retraining")
        retraining = _execution(
            clients, loop_state, "retraining", since, done=True, status_line=line
        )
    if retraining is None or retraining["outcome"] not in ("registered", "approved", "unchanged"):
        raise ByoError(f"the retraining did not register a version: {retraining}")
    trigger = retraining["reason"]
    if trigger == "alarm":
        trigger = f"alarm {retraining['alarm']} went to ALARM"
    console.print(f"retraining ({trigger}): {retraining['message']}")
    version = int(retraining["version"])
    loops.set_trigger(clients, loop_state, "approval", on=True)
    started = datetime.now(UTC) - timedelta(seconds=1)
    if retraining["outcome"] != "approved":
        group = settings.require("model_package_group")
        registry.set_status(clients, group, version, "Approved", "approved in the demo")
        console.print(f"byo model approve {version}: the approval trigger is on again")
    with console.status("the deploy machine rolls it out") as line:
        deployed = _execution(clients, loop_state, "deploy", started, done=True, status_line=line)
    if deployed is None:
        raise ByoError(f"no deploy of version {version} ran within {LOOP_TIMEOUT_S:.0f} s")
    console.print(f"deploy ({deployed['outcome']}): {deployed['message']}")
    return {"retraining": retraining, "deploy": deployed}


def show_loops(
    clients: Clients,
    settings: Settings,
    loop_state: dict[str, Any],
    data_csv: Path,
    since: datetime,
) -> None:
    loops_story(clients, settings, loop_state, data_csv, since)
    chain = [
        r
        for r in loops.executions(clients, loop_state, limit=10)
        if r["started"] and datetime.fromisoformat(r["started"]) >= since
    ]
    console.print(
        table(
            "byo loops: this run's executions (newest first)",
            ["started", "loop", "reason", "outcome", "version"],
            [
                (
                    r["started"][11:19],
                    r["loop"],
                    f"alarm {r['alarm']}" if r["reason"] == "alarm" else r["reason"] or "-",
                    r["outcome"] or r["status"].lower(),
                    r["version"] or "-",
                )
                for r in chain
            ],
        )
    )


def show_audit(clients: Clients, settings: Settings, since: datetime) -> None:
    """What the audit trail recorded of the demo's changes (`byo audit`): CloudTrail delivers to
    its log group within seconds offline (about 5 minutes on AWS), so wait a little for it."""
    trail = settings.get("audit") or {}
    if not trail.get("log_group"):
        return
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        now = audit.changes(
            clients, trail["log_group"], since, trusted=trail.get("trusted_role_arns") or []
        )
        if found and len(now) == len(found):
            break
        found = now
        time.sleep(6)
    if not found:
        console.print(
            "byo audit: no changes delivered yet (CloudTrail takes minutes on AWS; run "
            "`byo audit --since 1h` later)"
        )
        return
    # One row per caller (its role, not each session), the changes it made of each kind.
    rows: dict[tuple[str, bool], dict[str, int]] = {}
    for c in found:
        who = re.sub(r" \(session [^)]*\)", "", c["caller"])
        counts = rows.setdefault((who, c["trusted"]), dict.fromkeys(audit.CHANGE_KINDS, 0))
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
    console.print(
        table(
            f"byo audit: {len(found)} changes of what serves since the demo began "
            "(`byo audit --since 1h` lists each)",
            ["caller", "trusted", *audit.CHANGE_KINDS],
            [
                (who, "yes" if trusted else "no", *(str(n[k]) for k in audit.CHANGE_KINDS))
                for (who, trusted), n in sorted(rows.items())
            ],
            right=audit.CHANGE_KINDS,
            styles=[None if trusted else "yellow" for (_, trusted) in sorted(rows)],
        )
    )


def run(
    model_dir: Path,
    sample_csv: Path,
    bucket: str,
    endpoint: str | None,
    outputs: Path | None,
    data_csv: Path,
) -> None:
    clients = Clients()
    settings = Settings(outputs_file=outputs) if outputs else None
    stack = StackOutputs.from_settings(settings) if settings else None
    layout = Layout.from_settings(settings) if settings else Layout(bucket)
    show_model(clients, layout, model_dir, sample_csv)
    endpoint = stack.endpoint_name if stack else endpoint
    if endpoint:
        show_endpoint(clients, endpoint, sample_csv)
    if settings is None or stack is None:
        return
    show_batch_flow(clients, stack, layout, sample_csv)
    loop_state = settings.get("loops")
    since = datetime.now(UTC)
    if loop_state and data_csv.is_file():
        prepare_loops(clients, loop_state, layout, data_csv)
    if data_csv.is_file():
        show_rollout_and_monitoring(
            clients, settings, layout, data_csv, sample_csv, model_dir.parent
        )
        if settings.get("monitoring_rule"):
            show_scheduled_monitor(clients, settings)
        show_second_model(clients, settings, data_csv, sample_csv, model_dir.parent)
        if loop_state:
            show_loops(clients, settings, loop_state, data_csv, since)
    show_audit(clients, settings, since)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m operators.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=Path("build/model"),
        help="model.tar.gz and evaluation.json (from `make model`)",
    )
    parser.add_argument(
        "--sample",
        dest="sample_csv",
        type=Path,
        default=Path("sample/sample.csv"),
        help="headerless feature rows to score",
    )
    parser.add_argument("--bucket", default=DEMO_BUCKET, help="S3 bucket to use without --outputs")
    parser.add_argument("--endpoint", help="endpoint to send the sample rows to")
    parser.add_argument(
        "--outputs",
        type=Path,
        help="the platform stack's `terraform output -json`: use its bucket and "
        "endpoint, run the batch flow, the rollout and the monitoring",
    )
    parser.add_argument(
        "--data",
        dest="data_csv",
        type=Path,
        default=Path("build/data/creditcard.csv"),
        help="labelled dataset: trains model v2 and labels the ground truth",
    )
    args = parser.parse_args(argv)
    for name in ("sample_csv", "outputs"):
        path = getattr(args, name)
        if path is not None and not path.is_file():
            parser.error(f"--{name.removesuffix('_csv').replace('_', '-')} {path}: no such file")
    return guarded(run, **vars(args))


if __name__ == "__main__":
    sys.exit(main())

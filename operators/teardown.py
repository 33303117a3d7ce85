"""`byo teardown`: remove what the operators created, then the Terraform stack.

Order: model versions in the registry (the group can only go once empty) → SageMaker pipelines
`byo pipeline upsert` made (tagged byo:pipeline, named after the stack) → endpoint configs and
models the operators created (tagged by `byo deploy`) → the data bucket's objects, all versions
(unless --keep-data) → the audit trail stopped and its bucket's log files, all versions (unless
--keep-data) → the Batch job queue disabled and deleted, polled every 2 s (Terraform's own
delete of a queue sleeps a fixed 30 s twice before it looks: a minute of every destroy, in every
region) → `terraform destroy` (with --keep-data, every module but storage, and of the audit
trail only the trail, its alarms and filters: the log files and the log group are data too).
A second run finds nothing and exits 0. Log files under S3 Object Lock cannot be deleted before
their retention ends: the teardown then fails naming the bucket (keep them with --keep-data).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.config import DEFAULT_STACK_DIR, Settings, terraform_env
from operators.errors import ByoError, ConfigError

# What `make` passes the stack (its initial_model_path and trigger_package_path).
STACK_FILES = {
    "initial_model_path": Path("build/model/model.tar.gz"),
    "trigger_package_path": Path("build/lambda/trigger.zip"),
}
MODULES_BUT_STORAGE = (
    "module.network",
    "module.ecr",
    "module.endpoint",
    "module.autoscaling",
    "module.batch",
    "module.trigger",
    "module.registry",
    "module.monitoring",
    "module.observability",
    "module.build",
    "aws_s3_object.initial_model",
    # the audit trail but its log files and log group
    "module.audit.aws_cloudtrail.this",
    "module.audit.aws_cloudwatch_metric_alarm.this",
    "module.audit.aws_cloudwatch_log_metric_filter.this",
    "module.audit.aws_iam_role.logs",
)


@dataclass
class Plan:
    model_packages: list[str] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    endpoint_configs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    bucket: str | None = None
    objects: int = 0
    trail: str | None = None  # the audit trail, stopped before its bucket is emptied
    audit_bucket: str | None = None
    audit_objects: int = 0
    job_queue: str | None = None  # the Batch job queue, deleted before terraform destroy
    stack: bool = False

    def empty(self) -> bool:
        return not (
            self.model_packages
            or self.pipelines
            or self.endpoint_configs
            or self.models
            or self.objects
            or self.audit_objects
            or self.job_queue
            or self.stack
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_packages": self.model_packages,
            "pipelines": self.pipelines,
            "endpoint_configs": self.endpoint_configs,
            "models": self.models,
            "bucket": self.bucket,
            "objects": self.objects,
            "audit_bucket": self.audit_bucket,
            "audit_objects": self.audit_objects,
            "job_queue": self.job_queue,
            "stack": self.stack,
        }


def _tagged(sagemaker: Any, arn: str, key: str) -> bool:
    tags = sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
    return any(t["Key"] == key for t in tags)


def plan(clients: Clients, settings: Settings, keep_data: bool) -> Plan:
    try:
        outputs = settings.outputs
    except ConfigError:
        return Plan()  # no stack (or never applied): nothing to tear down
    result = Plan(stack=bool(outputs))
    sagemaker = clients.client("sagemaker")
    group = outputs.get("model_package_group")
    if group:
        try:
            packages = sagemaker.list_model_packages(ModelPackageGroupName=group)
            result.model_packages = [
                p["ModelPackageArn"] for p in packages["ModelPackageSummaryList"]
            ]
        except ClientError:
            pass  # the group is already gone
    name = outputs.get("name")
    if name:  # SageMaker pipelines `byo pipeline upsert` made (tagged) for this stack
        for page in sagemaker.get_paginator("list_pipelines").paginate(PipelineNamePrefix=name):
            for summary in page["PipelineSummaries"]:
                if _tagged(sagemaker, summary["PipelineArn"], "byo:pipeline"):
                    result.pipelines.append(summary["PipelineName"])
    endpoint = outputs.get("endpoint_name")
    if endpoint:  # without it (already destroyed) nothing of the operators' can be found by name
        for config in sagemaker.list_endpoint_configs(NameContains=endpoint)["EndpointConfigs"]:
            if _tagged(sagemaker, config["EndpointConfigArn"], "byo:deployed"):
                result.endpoint_configs.append(config["EndpointConfigName"])
        for model in sagemaker.list_models(NameContains=endpoint)["Models"]:
            if _tagged(sagemaker, model["ModelArn"], "byo:model-version"):
                result.models.append(model["ModelName"])
    result.job_queue = _live_job_queue(clients, outputs.get("job_queue"))
    audit = outputs.get("audit") or {}
    if not keep_data:
        result.bucket, result.objects = _to_empty(clients, outputs.get("data_bucket"))
        result.audit_bucket, result.audit_objects = _to_empty(clients, audit.get("bucket"))
        if audit.get("bucket"):
            result.trail = audit.get("trail")
    return result


def execute(
    clients: Clients,
    settings: Settings,
    todo: Plan,
    keep_data: bool,
    report=lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    sagemaker = clients.client("sagemaker")
    for arn in todo.model_packages:
        sagemaker.delete_model_package(ModelPackageName=arn)
        report(f"deleted model package {arn}")
    for name in todo.pipelines:
        sagemaker.delete_pipeline(PipelineName=name)
        report(f"deleted pipeline {name}")
    for name in todo.endpoint_configs:
        sagemaker.delete_endpoint_config(EndpointConfigName=name)
        report(f"deleted endpoint config {name}")
    for name in todo.models:
        sagemaker.delete_model(ModelName=name)
        report(f"deleted model {name}")
    if todo.bucket and todo.objects:
        _empty(clients, todo.bucket)
        report(f"emptied s3://{todo.bucket} ({todo.objects} object versions)")
    if todo.trail:
        try:  # no new log files while the bucket is emptied
            clients.client("cloudtrail").stop_logging(Name=todo.trail)
            report(f"stopped the audit trail {todo.trail}")
        except ClientError:
            pass  # already gone
    if todo.audit_bucket and todo.audit_objects:
        _empty(clients, todo.audit_bucket)
        report(f"emptied s3://{todo.audit_bucket} ({todo.audit_objects} log file versions)")
    if todo.job_queue:
        delete_job_queue(clients, todo.job_queue, sleep)
        report(f"deleted the Batch job queue {todo.job_queue}")
    if todo.stack:
        destroy_stack(settings, keep_data)
        report("terraform destroy: done" + (" (storage kept)" if keep_data else ""))


JOB_QUEUE_TIMEOUT_S = 600


def _job_queue(clients: Clients, queue: str) -> dict[str, Any] | None:
    """The queue's description; None once it is gone (AWS lists a deleted queue as DELETED for
    a while)."""
    found = clients.client("batch").describe_job_queues(jobQueues=[queue])["jobQueues"]
    return found[0] if found and found[0].get("status") != "DELETED" else None


def _live_job_queue(clients: Clients, queue: str | None) -> str | None:
    if not queue:
        return None
    try:
        return queue if _job_queue(clients, queue) else None
    except ClientError:
        return None


def delete_job_queue(
    clients: Clients, queue: str, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Disable the queue (jobs still in it are cancelled by AWS), wait until it is VALID and
    DISABLED, delete it and wait until it is gone, polling every 2 s. Terraform then finds it
    gone and drops it from the state. A queue that does not settle within 10 minutes fails the
    teardown naming its status."""
    batch = clients.client("batch")

    def wait(done: Callable[[dict[str, Any] | None], bool], what: str) -> dict[str, Any] | None:
        """The queue once `done` says so (None: gone)."""
        deadline = time.monotonic() + JOB_QUEUE_TIMEOUT_S
        while not done(found := _job_queue(clients, queue)):
            if time.monotonic() > deadline:
                status = "gone" if found is None else f"{found['state']}, {found['status']}"
                raise ByoError(
                    f"Batch job queue {queue} did not {what} within "
                    f"{JOB_QUEUE_TIMEOUT_S // 60} minutes (it is {status}); run byo teardown "
                    "again once it has"
                )
            sleep(2)
        return found

    found = _job_queue(clients, queue)
    if found is None:
        return
    if found["state"] != "DISABLED":
        batch.update_job_queue(jobQueue=queue, state="DISABLED")
    disabled = wait(
        lambda q: q is None or (q["state"] == "DISABLED" and q["status"] == "VALID"), "disable"
    )
    if disabled is not None:
        batch.delete_job_queue(jobQueue=queue)
    wait(lambda q: q is None, "delete")


def _to_empty(clients: Clients, bucket: str | None) -> tuple[str | None, int]:
    """`bucket` and how many object versions and delete markers it holds; (None, 0) when there
    is no such bucket (or none is named)."""
    if not bucket:
        return None, 0
    try:
        pages = clients.s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        return bucket, sum(
            len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in pages
        )
    except ClientError:
        return None, 0


def _empty(clients: Clients, bucket: str) -> None:
    """Delete every object version and delete marker of `bucket`; a version S3 refuses to
    delete (Object Lock) fails the teardown naming it."""
    pages = clients.s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(doomed), 1000):
            answer = clients.s3.delete_objects(
                Bucket=bucket, Delete={"Objects": doomed[start : start + 1000]}
            )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise ByoError(
                    f"cannot empty s3://{bucket}: {len(errors)} version(s) not deleted, e.g. "
                    f"{first.get('Key')} ({first.get('Code')}: {first.get('Message')}); "
                    "log files under Object Lock stay until their retention ends "
                    "(byo teardown --keep-data keeps them)"
                )


def destroy_stack(settings: Settings, keep_data: bool) -> None:
    stack_dir = Path(settings.get("stack_dir") or DEFAULT_STACK_DIR)
    target = settings.get("target") or "local"
    args = [
        "terraform",
        f"-chdir={stack_dir}",
        "destroy",
        "-input=false",
        "-auto-approve",
        "-var",
        f"emulator={'true' if target == 'local' else 'false'}",
    ]
    # The stack takes its file paths as variables; destroy needs neither file to exist.
    env = terraform_env(stack_dir, target)
    root = stack_dir.resolve().parents[2]
    for name, default in STACK_FILES.items():
        if f"TF_VAR_{name}" not in env:
            args += ["-var", f"{name}={root / default}"]
    if keep_data:
        args += [f"-target={t}" for t in MODULES_BUT_STORAGE]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise ByoError(f"terraform destroy failed: {result.stderr.strip()[-1500:]}")

"""What a stack left in the embedded AWS: its resources listed by name, service by service."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import boto3

from batch_processor.package import build_trigger_zip
from operators.terraform import write_cli_config


class TerraformCli:
    """`terraform` in one directory with its own CLI config (the provider mirror) and data dir
    under `tmp`; `run(*args)` asserts the exit code."""

    def __init__(self, directory: Path, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(write_cli_config(tmp / "terraform.rc")),
            "TF_DATA_DIR": str(tmp / "tf"),
            "TF_IN_AUTOMATION": "1",
            **(env or {}),
        }

    def __call__(
        self, *args: str, ok_codes: tuple[int, ...] = (0,), stdin: str | None = None
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["terraform", f"-chdir={self.directory}", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode in ok_codes, result.stdout[-5000:] + result.stderr[-5000:]
        return result


class Terraform(TerraformCli):
    """`terraform` in one stack's directory against the emulator, with its own state and data
    dir under `tmp`. The stack's name comes in as TF_VAR_name.
    """

    def __init__(self, stack: Path, emulator, tmp: Path, model_path: Path, name: str) -> None:
        super().__init__(
            stack,
            tmp,
            {
                "AWS_ENDPOINT_URL": emulator.url,
                "TF_VAR_name": name,
                "TF_VAR_emulator": "true",
                "TF_VAR_initial_model_path": str(model_path),
                "TF_VAR_trigger_package_path": str(build_trigger_zip(tmp / "trigger.zip")),
            },
        )
        self.stack = stack
        self.name = name
        self.state_path = tmp / "state" / "terraform.tfstate"
        self.lock = (stack / ".terraform.lock.hcl").read_bytes()
        self(
            "init",
            "-input=false",
            "-lockfile=readonly",
            f"-backend-config=path={self.state_path}",
        )

    def check_lock_kept(self) -> None:
        assert (self.stack / ".terraform.lock.hcl").read_bytes() == self.lock, (
            "init must not rewrite the lock"
        )


def stack_resources(emulator, name: str, region: str = "us-east-1") -> dict[str, list[str]]:
    """Everything in the emulator's `region` whose name carries the stack's prefix, per service
    (IAM and S3 are global: every region lists the same roles and buckets)."""

    def c(service: str):
        return boto3.client(service, endpoint_url=emulator.url, region_name=region)

    found: dict[str, list[str]] = {}

    def add(kind: str, names) -> None:
        hits = sorted(n for n in names if name in n)
        if hits:
            found[kind] = hits

    add("s3", [b["Name"] for b in c("s3").list_buckets()["Buckets"]])
    add("dynamodb", c("dynamodb").list_tables()["TableNames"])
    sm = c("sagemaker")
    add("endpoints", [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]])
    add(
        "endpoint-configs",
        [e["EndpointConfigName"] for e in sm.list_endpoint_configs()["EndpointConfigs"]],
    )
    add("models", [m["ModelName"] for m in sm.list_models()["Models"]])
    add("pipelines", [x["PipelineName"] for x in sm.list_pipelines()["PipelineSummaries"]])
    add(
        "model-package-groups",
        [
            g["ModelPackageGroupName"]
            for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
        ],
    )
    batch = c("batch")
    add("batch-queues", [q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]])
    add(
        "batch-compute",
        [
            e["computeEnvironmentName"]
            for e in batch.describe_compute_environments()["computeEnvironments"]
        ],
    )
    add(
        "batch-job-definitions",
        [
            d["jobDefinitionName"]
            for d in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]
        ],
    )
    add("lambda", [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]])
    add("sqs", c("sqs").list_queues().get("QueueUrls", []))
    add("sns", [t["TopicArn"] for t in c("sns").list_topics()["Topics"]])
    cw = c("cloudwatch")
    add("alarms", [a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]])
    add("dashboards", [d["DashboardName"] for d in cw.list_dashboards()["DashboardEntries"]])
    add("event-rules", [r["Name"] for r in c("events").list_rules()["Rules"]])
    add(
        "state-machines",
        [m["name"] for m in c("stepfunctions").list_state_machines()["stateMachines"]],
    )
    add("ecr", [r["repositoryName"] for r in c("ecr").describe_repositories()["repositories"]])
    add("iam-roles", [r["RoleName"] for r in c("iam").list_roles()["Roles"]])
    add("log-groups", [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]])
    add("trails", [t["Name"] for t in c("cloudtrail").describe_trails()["trailList"]])
    add("codebuild", c("codebuild").list_projects()["projects"])
    aas = c("application-autoscaling")
    add(
        "scalable-targets",
        [
            t["ResourceId"]
            for t in aas.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
        ],
    )
    ec2 = c("ec2")
    add(
        "vpcs",
        [
            t["Value"]
            for v in ec2.describe_vpcs()["Vpcs"]
            for t in v.get("Tags", [])
            if t["Key"] == "Name"
        ],
    )
    kms = c("kms")
    add("kms-aliases", [a["AliasName"] for a in kms.list_aliases()["Aliases"]])
    enabled_keys = [
        k["KeyId"]
        for k in kms.list_keys()["Keys"]
        if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    ]
    add(
        "kms-keys",
        [
            f"{key}:{tag['TagValue']}"
            for key in enabled_keys
            for tag in kms.list_resource_tags(KeyId=key).get("Tags", [])
            if tag["TagKey"] == "Name"
        ],
    )
    return found

"""The platform's batch flow built on the emulator through the AWS APIs, as the trigger and batch
modules configure it (no Terraform, so a test gets its own flow in a second): a versioned bucket
whose input/*.csv notifies the trigger Lambda (the project's zip, its DLQ), a job table, the
scoring job definition on the batch-processor image with the stack's command, and an endpoint."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from batch_processor.package import build_trigger_zip
from tests.helpers.aws import fargate_job_queue, make_endpoint
from tests.helpers.emulator import Emulator

ACCOUNT = "123456789012"
SCORING_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/batch-processor:test"
# terraform/stacks/platform/operations.tf: the image's ENTRYPOINT is `python -m batch_processor.job`
SCORING_COMMAND = [
    "--bucket",
    "Ref::bucket",
    "--key",
    "Ref::key",
    "--etag",
    "Ref::etag",
    "--version-id",
    "Ref::version",
    "--shards",
    "Ref::shards",
]


@dataclass(frozen=True)
class Flow:
    bucket: str
    table: str
    queue: str
    definition: str
    function: str
    dlq_url: str
    endpoint: str

    def record(self, emulator: Emulator, record_key: str) -> dict:
        item = (
            emulator.client("dynamodb")
            .get_item(
                TableName=self.table, Key={"FileName": {"S": record_key}}, ConsistentRead=True
            )
            .get("Item")
        )
        return {k: next(iter(v.values())) for k, v in (item or {}).items()}


def wait_for(what: str, check, timeout_s: float = 120.0, poll_s: float = 0.25):
    """Poll `check()` until it returns something truthy; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)


def build_flow(
    emulator: Emulator, model_path: Path, tmp_path: Path, array_threshold_bytes: int = 2**28
) -> Flow:
    suffix = uuid.uuid4().hex[:8]
    bucket = f"byo-flow-{suffix}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.upload_file(str(model_path), bucket, "models/m/model.tar.gz")
    endpoint = make_endpoint(emulator, f"s3://{bucket}/models/m/model.tar.gz", {"variant-a": 1})
    table = f"byo-flow-jobs-{suffix}"
    emulator.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "FileName", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "FileName", "KeyType": "HASH"}],
    )
    queue, _ = fargate_job_queue(emulator, ["true"])
    batch = emulator.client("batch")
    definition = batch.register_job_definition(
        jobDefinitionName=f"scoring-{suffix}",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": SCORING_IMAGE,
            "command": SCORING_COMMAND,
            "environment": [
                {"name": "BYO_DATA_BUCKET", "value": bucket},
                {"name": "BYO_JOB_TABLE", "value": table},
                {"name": "BYO_ENDPOINT_NAME", "value": endpoint},
            ],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
            "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/batch-execution",
        },
        retryStrategy={
            "attempts": 2,
            "evaluateOnExit": [
                {"onExitCode": "*", "action": "RETRY"},
                {"onReason": "*", "action": "EXIT"},
            ],
        },
        timeout={"attemptDurationSeconds": 300},
    )["jobDefinitionArn"]

    sqs = emulator.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"trigger-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    role = emulator.client("iam").create_role(
        RoleName=f"trigger-{suffix}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    function = f"trigger-{suffix}"
    package = build_trigger_zip(tmp_path / f"trigger-{suffix}.zip")
    lambdas = emulator.client("lambda")
    function_arn = lambdas.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role,
        Handler="batch_processor.trigger.handler",
        Code={"ZipFile": package.read_bytes()},
        Timeout=30,
        MemorySize=256,
        DeadLetterConfig={"TargetArn": dlq_arn},
        Environment={
            "Variables": {
                "JOB_QUEUE": queue,
                "JOB_DEFINITION": definition,
                "JOB_TABLE": table,
                "INPUT_PREFIX": "input/",
                "ARRAY_THRESHOLD_BYTES": str(array_threshold_bytes),
            }
        },
    )["FunctionArn"]
    lambdas.add_permission(
        FunctionName=function,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "input/"},
                                {"Name": "suffix", "Value": ".csv"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    return Flow(bucket, table, queue, definition, function, dlq_url, endpoint)

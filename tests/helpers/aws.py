"""AWS resources the integration tests build on the emulator by hand (no stack)."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

from botocore.exceptions import ClientError

from tests.helpers.emulator import Emulator

SAGEMAKER_ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def fargate_network(emulator: Emulator) -> dict[str, str]:
    """What a Fargate compute environment needs: a subnet, a security group, a service role."""
    suffix = uuid.uuid4().hex[:8]
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"sg-{suffix}", Description="batch", VpcId=vpc)
    role = emulator.client("iam").create_role(
        RoleName=f"batch-{suffix}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    return {"subnet": subnet, "group": group["GroupId"], "role": role}


def fargate_queue(
    emulator: Emulator, network: dict[str, str], max_vcpus: int = 4, state: str = "ENABLED"
) -> tuple[str, str]:
    """A Fargate compute environment of `max_vcpus` and a queue on it: (queue ARN, its name)."""
    suffix = uuid.uuid4().hex[:8]
    batch = emulator.client("batch")
    compute = batch.create_compute_environment(
        computeEnvironmentName=f"ce-{suffix}",
        type="MANAGED",
        state="ENABLED",
        computeResources={
            "type": "FARGATE",
            "maxvCpus": max_vcpus,
            "subnets": [network["subnet"]],
            "securityGroupIds": [network["group"]],
        },
        serviceRole=network["role"],
    )["computeEnvironmentArn"]
    name = f"q-{suffix}"
    queue = batch.create_job_queue(
        jobQueueName=name,
        state=state,
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": compute}],
    )["jobQueueArn"]
    return queue, name


def fargate_job_queue(emulator: Emulator, command: list[str]) -> tuple[str, str]:
    """A Fargate compute environment, job queue and job definition; returns (queue, definition)."""
    network = fargate_network(emulator)
    queue, _ = fargate_queue(emulator, network)
    definition = emulator.client("batch").register_job_definition(
        jobDefinitionName=f"jd-{uuid.uuid4().hex[:8]}",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": "scorer:1",
            "command": command,
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "2048"},
            ],
            "executionRoleArn": network["role"],
        },
    )["jobDefinitionArn"]
    return queue, definition


def unique(prefix: str) -> str:
    """A name no other test uses: prefix-<8 hex>."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def job_table(emulator) -> str:
    """A job table as the storage module makes it (hash key FileName, the StartTime index):
    the job records' and the rollout locks' table."""
    name = unique("jobs")
    emulator.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "FileName", "AttributeType": "S"},
            {"AttributeName": "StartTime", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "FileName", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "StartTimeIndex",
                "KeySchema": [{"AttributeName": "StartTime", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return name


def make_endpoint(
    emulator,
    model_url: str,
    weights: dict[str, int],
    capture_bucket=None,
    sampling: int = 100,
    modes=("Input", "Output"),
) -> str:
    sm = emulator.client("sagemaker")
    variants = []
    for name, weight in weights.items():
        model = unique(f"model-{name}")
        sm.create_model(
            ModelName=model,
            ExecutionRoleArn=SAGEMAKER_ROLE,
            PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": model_url},
        )
        variants.append(
            {
                "VariantName": name,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
        )
    config = unique("config")
    extra = {}
    if capture_bucket:
        extra["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": sampling,
            "DestinationS3Uri": f"s3://{capture_bucket}/captures",
            "CaptureOptions": [{"CaptureMode": m} for m in modes],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variants, **extra)
    endpoint = unique("endpoint")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint


def minimal_stack(emulator, tmp_path) -> dict:
    """A bucket, a model package group, an endpoint (one variant, variant-a) and a job table
    (deploy's rollout lock), written as the stack outputs `byo --outputs` reads: what register,
    deploy and invoke need."""
    bucket = unique("stack")
    emulator.client("s3").create_bucket(Bucket=bucket)
    group = unique("models")
    emulator.client("sagemaker").create_model_package_group(ModelPackageGroupName=group)
    endpoint = make_endpoint(emulator, f"s3://{bucket}/initial/model.tar.gz", {"variant-a": 1})
    outputs = write_outputs(
        tmp_path / "outputs.json",
        data_bucket=bucket,
        model_package_group=group,
        serving_image="byo-serving:1",
        endpoint_name=endpoint,
        sagemaker_execution_role_arn=SAGEMAKER_ROLE,
        job_table=job_table(emulator),
    )
    return {"bucket": bucket, "group": group, "endpoint": endpoint, "outputs": outputs}


def write_outputs(path, **values: str):
    """A stack outputs file as `terraform output -json` writes it (what `byo --outputs` reads)."""
    path.write_text(json.dumps({name: {"value": value} for name, value in values.items()}))
    return path


def s3_object(s3, uri: str, timeout_s: float = 10.0) -> bytes:
    """The body of s3://BUCKET/KEY once it exists (an asynchronous inference's output, ...);
    S3's error once `timeout_s` have passed without it."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def send_rows(
    emulator, endpoint: str, rows: list[str], prefix: str, per_request: int = 1
) -> list[str]:
    """CSV rows through the endpoint, `per_request` a request, each with InferenceId
    <prefix><first row's index>; the captures are flushed to S3 before it returns."""
    runtime = emulator.client("sagemaker-runtime")
    ids = []
    for start in range(0, len(rows), per_request):
        inference_id = f"{prefix}{start}"
        runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="text/csv",
            Body=("\n".join(rows[start : start + per_request]) + "\n").encode(),
            InferenceId=inference_id,
        )
        ids.append(inference_id)
    flush_captures(emulator)
    return ids


def flush_captures(emulator) -> None:
    """The local hosting's buffered data capture written out now."""
    urllib.request.urlopen(
        urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    ).close()

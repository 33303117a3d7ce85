"""The embedded AWS in two regions: each request served by its region's hosting, and S3
replication copying new objects from a bucket in one region to a bucket in another."""

from __future__ import annotations

import uuid

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.helpers.flow import wait_for
from tests.helpers.models import write_tarball, xgboost_model

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client(emulator, service: str, region: str):
    url = emulator.runtime_url if service == "sagemaker-runtime" else emulator.url
    return boto3.client(service, endpoint_url=url, region_name=region)


def bucket_in(emulator, region: str, versioned: bool = True) -> str:
    name = unique(f"b-{region}")
    s3 = client(emulator, "s3", region)
    extra = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=name, **extra)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def endpoint_in(emulator, region: str, name: str, model_url: str) -> None:
    sm = client(emulator, "sagemaker", region)
    model = unique("model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": model_url},
    )
    config = unique("config")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "only",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)


def test_one_endpoint_name_in_two_regions_is_two_endpoints(emulator, tmp_path):
    name = unique("endpoint")
    built = {}
    for seed, region in enumerate(("us-east-1", "us-west-2")):
        model = xgboost_model(tmp_path / region, seed=seed)
        bucket = bucket_in(emulator, region, versioned=False)
        tarball = write_tarball(model.model_dir, tmp_path / f"{region}.tar.gz")
        client(emulator, "s3", region).upload_file(str(tarball), bucket, "m/model.tar.gz")
        endpoint_in(emulator, region, name, f"s3://{bucket}/m/model.tar.gz")
        built[region] = model
    for region, model in built.items():
        body = "\n".join(",".join(str(v) for v in row) for row in model.X[:5]) + "\n"
        answer = client(emulator, "sagemaker-runtime", region).invoke_endpoint(
            EndpointName=name, ContentType="text/csv", Body=body
        )
        served = np.array([float(x) for x in answer["Body"].read().decode().split()])
        np.testing.assert_allclose(served, model.expected[:5], rtol=1e-5)
    assert not np.allclose(built["us-east-1"].expected[:5], built["us-west-2"].expected[:5])
    # Each region's hosting measures in its own region.
    for region in built:
        wait_for(
            f"Invocations of {name} in {region}",
            lambda region=region: client(emulator, "cloudwatch", region).list_metrics(
                Namespace="AWS/SageMaker",
                MetricName="Invocations",
                Dimensions=[{"Name": "EndpointName", "Value": name}],
            )["Metrics"],
            timeout_s=30,
        )
    # A name that exists only elsewhere is SageMaker's "not found" in this region.
    other = unique("endpoint")
    endpoint_in(emulator, "us-west-2", other, f"s3://{bucket}/m/model.tar.gz")
    with pytest.raises(ClientError) as err:
        client(emulator, "sagemaker-runtime", "us-east-1").invoke_endpoint(
            EndpointName=other, ContentType="text/csv", Body="1\n"
        )
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "not found" in err.value.response["Error"]["Message"]


@pytest.fixture
def replicated(emulator):
    """A bucket in us-east-1 replicating models/ (SSE-KMS objects too) to one in us-west-2."""
    source, destination = bucket_in(emulator, "us-east-1"), bucket_in(emulator, "us-west-2")
    source_key = client(emulator, "kms", "us-east-1").create_key()["KeyMetadata"]["Arn"]
    replica_key = client(emulator, "kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    rule = {
        "ID": "models",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": "models/"},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": f"arn:aws:s3:::{destination}",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key},
        },
    }
    client(emulator, "s3", "us-east-1").put_bucket_replication(
        Bucket=source,
        ReplicationConfiguration={"Role": "arn:aws:iam::123456789012:role/r", "Rules": [rule]},
    )
    return source, destination, source_key, replica_key, rule


def head(emulator, region: str, bucket: str, key: str) -> dict:
    return client(emulator, "s3", region).head_object(Bucket=bucket, Key=key)


def test_a_new_object_under_the_rules_prefix_replicates_with_the_replica_key(emulator, replicated):
    source, destination, source_key, replica_key, rule = replicated
    s3 = client(emulator, "s3", "us-east-1")
    got = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
    assert got == [rule], "the rules read back as they were put"
    s3.put_object(
        Bucket=source,
        Key="models/a/model.tar.gz",
        Body=b"weights",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=source_key,
        Metadata={"digest": "abc"},
        Tagging="stage=prod",
    )
    s3.put_object(Bucket=source, Key="other/b.csv", Body=b"x")
    wait_for(
        "the source to say COMPLETED",
        lambda: (
            head(emulator, "us-east-1", source, "models/a/model.tar.gz").get("ReplicationStatus")
            == "COMPLETED"
        ),
        timeout_s=10,
    )
    replica = head(emulator, "us-west-2", destination, "models/a/model.tar.gz")
    assert replica["ReplicationStatus"] == "REPLICA"
    assert replica["SSEKMSKeyId"] == replica_key
    assert replica["Metadata"] == {"digest": "abc"}
    west = client(emulator, "s3", "us-west-2")
    assert west.get_object(Bucket=destination, Key="models/a/model.tar.gz")["Body"].read() == (
        b"weights"
    )
    assert west.get_object_tagging(Bucket=destination, Key="models/a/model.tar.gz")["TagSet"] == [
        {"Key": "stage", "Value": "prod"}
    ]
    # Outside the prefix: no rule, no status, no replica.
    assert "ReplicationStatus" not in head(emulator, "us-east-1", source, "other/b.csv")
    with pytest.raises(ClientError):
        head(emulator, "us-west-2", destination, "other/b.csv")
    # Deleting (a delete marker) does not replicate under DeleteMarkerReplication Disabled.
    s3.delete_object(Bucket=source, Key="models/a/model.tar.gz")
    s3.put_object(Bucket=source, Key="models/c", Body=b"later")  # replicated after the delete
    wait_for(
        "the later object's replica",
        lambda: (
            head(emulator, "us-east-1", source, "models/c").get("ReplicationStatus") == "COMPLETED"
        ),
        timeout_s=10,
    )
    assert head(emulator, "us-west-2", destination, "models/a/model.tar.gz")["ContentLength"] == 7


def test_replication_into_a_missing_bucket_fails_and_says_so(emulator):
    source = bucket_in(emulator, "us-east-1")
    s3 = client(emulator, "s3", "us-east-1")
    s3.put_bucket_replication(
        Bucket=source,
        ReplicationConfiguration={
            "Role": "arn:aws:iam::123456789012:role/r",
            "Rules": [
                {
                    "ID": "all",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::no-such-bucket-anywhere"},
                }
            ],
        },
    )
    s3.put_object(Bucket=source, Key="x", Body=b"1")
    wait_for(
        "the FAILED status",
        lambda: head(emulator, "us-east-1", source, "x").get("ReplicationStatus") == "FAILED",
        timeout_s=10,
    )

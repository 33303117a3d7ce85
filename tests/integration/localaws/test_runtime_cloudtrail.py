"""The runtime's CloudTrail and CloudWatch Logs metric filters, through the AWS APIs only: a
logging trail gets the management calls of SageMaker, Batch, S3 (bucket level) and Application
Auto Scaling as CloudTrail records — gzip JSON under AWSLogs/<account>/CloudTrail/<region>/
yyyy/mm/dd/ in its bucket and events in its log group — with the caller each access key is;
events ingested into a group with metric filters become CloudWatch data points.

An own emulator: only the services under test run.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from localaws.runtime import ON_BEHALF, RUNTIME_ACCESS_KEY
from tests.helpers.aws import unique
from tests.helpers.emulator import Emulator, own_emulator
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
ONLY = {
    "LOCALAWS_RUNTIME_OFF": (
        "events,lambda,batch,alarms,scaling,deployments,transform,stepfunctions,replication"
    )
}
KEY = re.compile(
    rf"^(?:audit/)?AWSLogs/{ACCOUNT}/CloudTrail/(?P<region>[a-z0-9-]+)/\d{{4}}/\d{{2}}/\d{{2}}/"
    rf"{ACCOUNT}_CloudTrail_(?P=region)_\d{{8}}T\d{{4}}Z_[A-Za-z0-9_-]{{16}}\.json\.gz$"
)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with own_emulator(tmp_path_factory.mktemp("cloudtrail"), env=ONLY) as emulator:
        yield emulator


def signed_as(
    emu: Emulator,
    service: str,
    key: str,
    secret: str = "x",
    token: str | None = None,
    region: str = "us-east-1",
):
    return boto3.client(
        service,
        endpoint_url=emu.url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def trail(emu: Emulator, multi_region: bool = True, logs: bool = True) -> dict:
    """A logging trail into a bucket of its own (a prefix, KMS) and, with `logs`, a log group."""
    name = unique("trail")
    s3, kms, logs_client = emu.client("s3"), emu.client("kms"), emu.client("logs")
    bucket = unique("trail-bucket")
    s3.create_bucket(Bucket=bucket)
    key_id = kms.create_key()["KeyMetadata"]["Arn"]
    extra = {}
    if logs:
        group = f"/aws/cloudtrail/{name}"
        logs_client.create_log_group(logGroupName=group)
        extra = {
            "CloudWatchLogsLogGroupArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*",
            "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/trail-logs",
        }
    cloudtrail = emu.client("cloudtrail")
    cloudtrail.create_trail(
        Name=name,
        S3BucketName=bucket,
        S3KeyPrefix="audit",
        IsMultiRegionTrail=multi_region,
        EnableLogFileValidation=True,
        KmsKeyId=key_id,
        **extra,
    )
    cloudtrail.start_logging(Name=name)
    return {"name": name, "bucket": bucket, "key": key_id, "group": extra and group}


def delivered(emu: Emulator, found: dict) -> list[dict]:
    """Flush the recorder; every record in the trail's bucket, each key checked."""
    emu.localaws("POST", "/localaws/cloudtrail/flush")
    s3 = emu.client("s3")
    records = []
    for item in s3.list_objects_v2(Bucket=found["bucket"]).get("Contents", []):
        assert KEY.match(item["Key"]), item["Key"]
        head = s3.head_object(Bucket=found["bucket"], Key=item["Key"])
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == found["key"]
        body = s3.get_object(Bucket=found["bucket"], Key=item["Key"])["Body"].read()
        document = json.loads(gzip.decompress(body))
        assert set(document) == {"Records"}
        region = KEY.match(item["Key"])["region"]
        assert {r["awsRegion"] for r in document["Records"]} == {region}
        records.extend(document["Records"])
    return records


def named(records: list[dict], event: str, **parameters: str) -> list[dict]:
    return [
        r
        for r in records
        if r["eventName"] == event
        and all((r["requestParameters"] or {}).get(k) == v for k, v in parameters.items())
    ]


def test_management_calls_become_records_with_who_made_them(emu):
    found = trail(emu)
    group_name = unique("registry")
    # the account's root (the test keys), an IAM user, a role's STS session
    emu.client("sagemaker").create_model_package_group(ModelPackageGroupName=group_name)
    iam = emu.client("iam")
    user = unique("alice")
    iam.create_user(UserName=user)
    user_key = iam.create_access_key(UserName=user)["AccessKey"]
    signed_as(
        emu, "sagemaker", user_key["AccessKeyId"], user_key["SecretAccessKey"]
    ).describe_model_package_group(ModelPackageGroupName=group_name)
    session = emu.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/byo-operator", RoleSessionName="deployer"
    )["Credentials"]
    as_role = signed_as(
        emu,
        "sagemaker",
        session["AccessKeyId"],
        session["SecretAccessKey"],
        session["SessionToken"],
    )
    with pytest.raises(as_role.exceptions.ClientError):
        as_role.delete_endpoint(EndpointName=unique("missing"))
    # S3: bucket-level calls are management events, object calls data events (not recorded)
    bucket = unique("data")
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="x.csv", Body=b"1\n")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    records = wait_for("the records", lambda: delivered(emu, found), timeout_s=20)

    created = named(records, "CreateModelPackageGroup", modelPackageGroupName=group_name)
    assert len(created) == 1
    root = created[0]
    assert root["eventSource"] == "sagemaker.amazonaws.com"
    assert root["userIdentity"]["type"] == "Root"
    assert root["userIdentity"]["arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert root["readOnly"] is False and root["managementEvent"] is True
    assert root["eventType"] == "AwsApiCall" and root["recipientAccountId"] == ACCOUNT
    assert root["sourceIPAddress"] == "127.0.0.1" and "Boto3" in root["userAgent"]
    assert root["responseElements"]["modelPackageGroupArn"].endswith(group_name)
    assert datetime.now(UTC) - datetime.fromisoformat(root["eventTime"]) < timedelta(minutes=1)

    described = named(records, "DescribeModelPackageGroup", modelPackageGroupName=group_name)
    assert [r["userIdentity"]["type"] for r in described] == ["IAMUser"]
    assert described[0]["userIdentity"]["userName"] == user
    assert described[0]["userIdentity"]["accessKeyId"] == user_key["AccessKeyId"]
    assert described[0]["readOnly"] is True and described[0]["responseElements"] is None

    deleted = named(records, "DeleteEndpoint")
    assert len(deleted) == 1
    who = deleted[0]["userIdentity"]
    assert who["type"] == "AssumedRole"
    assert who["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/byo-operator/deployer"
    assert (
        who["sessionContext"]["sessionIssuer"]["arn"] == f"arn:aws:iam::{ACCOUNT}:role/byo-operator"
    )
    assert who["accessKeyId"] == session["AccessKeyId"]
    assert deleted[0]["errorCode"] == "ValidationException" and deleted[0]["errorMessage"]

    assert [r["requestParameters"]["bucketName"] for r in named(records, "CreateBucket")].count(
        bucket
    ) == 1
    assert named(records, "PutBucketVersioning", bucketName=bucket)
    assert not named(records, "PutObject") and not named(records, "GetObject")

    # the same records, one event each, in the trail's log group
    events = emu.client("logs").filter_log_events(logGroupName=found["group"])["events"]
    messages = [json.loads(e["message"]) for e in events]
    assert {m["eventID"] for m in messages} >= {root["eventID"], deleted[0]["eventID"]}
    assert {e["logStreamName"] for e in events} == {f"{ACCOUNT}_CloudTrail_us-east-1"}


def test_a_multi_region_trail_gets_every_region_and_a_single_region_trail_its_own(emu):
    everywhere, home = (
        trail(emu, multi_region=True, logs=False),
        trail(emu, multi_region=False, logs=False),
    )
    west = unique("west")
    signed_as(emu, "sagemaker", "test", region="us-west-2").create_model_package_group(
        ModelPackageGroupName=west
    )
    wait_for(
        "the west record",
        lambda: named(
            delivered(emu, everywhere), "CreateModelPackageGroup", modelPackageGroupName=west
        ),
        timeout_s=20,
    )
    records = named(
        delivered(emu, everywhere), "CreateModelPackageGroup", modelPackageGroupName=west
    )
    assert records[0]["awsRegion"] == "us-west-2"
    assert not named(delivered(emu, home), "CreateModelPackageGroup", modelPackageGroupName=west)


def test_the_runtimes_own_calls_are_not_recorded_and_its_calls_on_your_behalf_are(emu):
    found = trail(emu, logs=False)
    internal, on_behalf = unique("internal"), unique("behalf")
    signed_as(emu, "sagemaker", RUNTIME_ACCESS_KEY).create_model_package_group(
        ModelPackageGroupName=internal
    )
    (key,) = ON_BEHALF
    signed_as(emu, "sagemaker", key).create_model_package_group(ModelPackageGroupName=on_behalf)
    records = wait_for(
        "the on-behalf record",
        lambda: named(
            delivered(emu, found), "CreateModelPackageGroup", modelPackageGroupName=on_behalf
        ),
        timeout_s=20,
    )
    who = records[0]["userIdentity"]
    assert (
        who["type"] == "AssumedRole" and who["invokedBy"] == "application-autoscaling.amazonaws.com"
    )
    assert who["sessionContext"]["sessionIssuer"]["arn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling"
        ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
    )
    assert not named(
        delivered(emu, found), "CreateModelPackageGroup", modelPackageGroupName=internal
    )


def test_a_stopped_trail_gets_nothing(emu):
    found = trail(emu, logs=False)
    emu.client("cloudtrail").stop_logging(Name=found["name"])
    emu.client("sagemaker").create_model_package_group(ModelPackageGroupName=unique("quiet"))
    assert delivered(emu, found) == []
    status = emu.client("cloudtrail").get_trail_status(Name=found["name"])
    assert status["IsLogging"] is False


def datapoints(emu: Emulator, namespace: str, metric: str, **dimensions: str) -> float:
    stats = emu.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return sum(p["Sum"] for p in stats)


def put(emu: Emulator, group: str, *messages: dict | str) -> None:
    logs = emu.client("logs")
    stream = unique("s")
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[
            {"timestamp": now, "message": m if isinstance(m, str) else json.dumps(m)}
            for m in messages
        ],
    )


def test_metric_filters_count_the_events_their_pattern_matches(emu):
    logs = emu.client("logs")
    group, namespace = unique("/audit/group"), unique("Audit")
    logs.create_log_group(logGroupName=group)
    # a field an event does not have matches neither = nor != (AWS): NOT EXISTS says it
    issuer = "$.userIdentity.sessionContext.sessionIssuer.arn"
    pattern = (
        '{ ($.eventSource = "sagemaker.amazonaws.com") && ($.eventName = "UpdateEndpoint") && '
        f'(({issuer} NOT EXISTS) || ({issuer} != "arn:aws:iam::123456789012:role/ops")) }}'
    )
    transformation = {
        "metricName": "ServingChanges",
        "metricNamespace": namespace,
        "metricValue": "1",
    }
    logs.put_metric_filter(
        logGroupName=group,
        filterName="changes",
        filterPattern="{ $.x = 1 }",
        metricTransformations=[transformation],
    )
    # the same name again replaces the filter (it is not a second one)
    logs.put_metric_filter(
        logGroupName=group,
        filterName="changes",
        filterPattern=pattern,
        metricTransformations=[transformation],
    )
    ops = {"sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::123456789012:role/ops"}}}
    put(
        emu,
        group,
        {
            "eventSource": "sagemaker.amazonaws.com",
            "eventName": "UpdateEndpoint",
            "userIdentity": {"type": "Root"},
            "x": 1,
        },
        {
            "eventSource": "sagemaker.amazonaws.com",
            "eventName": "UpdateEndpoint",
            "userIdentity": ops,
        },
        {
            "eventSource": "sagemaker.amazonaws.com",
            "eventName": "DescribeEndpoint",
            "userIdentity": {},
        },
        "not json at all",
    )
    assert (
        wait_for(
            "the data point", lambda: datapoints(emu, namespace, "ServingChanges"), timeout_s=20
        )
        == 1.0
    )


def test_metric_values_dimensions_and_default_values(emu):
    logs = emu.client("logs")
    group, namespace = unique("/app/latency"), unique("App")
    logs.create_log_group(logGroupName=group)
    logs.put_metric_filter(
        logGroupName=group,
        filterName="latency",
        filterPattern="{ $.latency > 0 }",
        metricTransformations=[
            {
                "metricName": "Latency",
                "metricNamespace": namespace,
                "metricValue": "$.latency",
                "dimensions": {"Variant": "$.variant"},
                "unit": "Milliseconds",
            }
        ],
    )
    logs.put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[
            {
                "metricName": "Errors",
                "metricNamespace": namespace,
                "metricValue": "1",
                "defaultValue": 0,
            }
        ],
    )
    put(
        emu,
        group,
        {"latency": 12, "variant": "blue"},
        {"latency": 30, "variant": "blue"},
        {"latency": 5},
        {"latency": 7, "variant": "green"},
    )
    assert (
        wait_for(
            "blue", lambda: datapoints(emu, namespace, "Latency", Variant="blue"), timeout_s=20
        )
        == 42.0
    )
    assert datapoints(emu, namespace, "Latency", Variant="green") == 7.0
    # a call with no ERROR put the default value: a data point of 0, counted
    stats = emu.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName="Errors",
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=3600,
        Statistics=["SampleCount", "Sum"],
    )["Datapoints"]
    assert [(p["SampleCount"], p["Sum"]) for p in stats] == [(1.0, 0.0)]
    put(emu, group, "ERROR boom", "ERROR again")
    assert (
        wait_for("errors", lambda: datapoints(emu, namespace, "Errors") or None, timeout_s=20)
        == 2.0
    )


def test_filter_log_events_reads_json_patterns_as_aws_does(emu):
    logs = emu.client("logs")
    group = unique("/audit/read")
    logs.create_log_group(logGroupName=group)
    put(
        emu,
        group,
        {"readOnly": False, "eventName": "UpdateEndpoint"},
        {"readOnly": True, "eventName": "DescribeEndpoint"},
        "plain text",
    )
    found = logs.filter_log_events(logGroupName=group, filterPattern="{ $.readOnly IS FALSE }")
    assert [json.loads(e["message"])["eventName"] for e in found["events"]] == ["UpdateEndpoint"]
    assert len(logs.filter_log_events(logGroupName=group, filterPattern="plain")["events"]) == 1

"""Each compatibility shim, exercised through plain boto3 against the running emulator."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.helpers.aws import fargate_job_queue

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def sagemaker(emulator):
    return emulator.client("sagemaker")


def make_endpoint(sm, variants: dict[str, int], capture: bool = False) -> tuple[str, str]:
    """An endpoint whose config has one variant per (name, weight); returns (endpoint, config)."""
    model = unique("model")
    sm.create_model(
        ModelName=model,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": "s3://b/model.tar.gz"},
    )
    config = unique("config")
    kwargs = {}
    if capture:
        kwargs["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://b/captures",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": name,
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for name, weight in variants.items()
        ],
        **kwargs,
    )
    endpoint = unique("endpoint")
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    return endpoint, config


def live_variants(sm, endpoint: str) -> dict[str, dict]:
    described = sm.describe_endpoint(EndpointName=endpoint)
    return {v["VariantName"]: v for v in described["ProductionVariants"]}


def test_scalable_target_tags_round_trip(emulator, sagemaker):
    endpoint, _ = make_endpoint(sagemaker, {"A": 1})
    aas = emulator.client("application-autoscaling")
    resource = f"endpoint/{endpoint}/variant/A"
    arn = aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=4,
        Tags={"team": "ml"},
    )["ScalableTargetARN"]

    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "ml"}
    aas.tag_resource(ResourceARN=arn, Tags={"env": "dev"})
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "ml", "env": "dev"}
    aas.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "dev"}

    aas.deregister_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
    )
    with pytest.raises(ClientError) as err:
        aas.list_tags_for_resource(ResourceARN=arn)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_model_package_and_group_deletes(sagemaker):
    group = unique("group")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    package_arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgb:1", "ModelDataUrl": "s3://b/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]

    with pytest.raises(ClientError) as err:
        sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    assert err.value.response["Error"]["Code"] == "ConflictException"

    sagemaker.delete_model_package(ModelPackageName=package_arn)
    assert (
        sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"] == []
    )
    sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert group not in {g["ModelPackageGroupName"] for g in groups}

    with pytest.raises(ClientError) as err:
        sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_update_endpoint_switches_config(sagemaker):
    endpoint, _ = make_endpoint(sagemaker, {"A": 1})
    _, new_config = make_endpoint(sagemaker, {"A": 9, "B": 1}, capture=True)

    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=new_config)

    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointConfigName"] == new_config
    assert described["EndpointStatus"] == "InService"
    assert described["DataCaptureConfig"]["EnableCapture"] is True
    weights = {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}
    assert weights == {"A": 9.0, "B": 1.0}


def test_update_endpoint_retains_live_variant_properties(sagemaker):
    endpoint, _ = make_endpoint(sagemaker, {"A": 1})
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "A", "DesiredWeight": 5, "DesiredInstanceCount": 3}
        ],
    )
    _, new_config = make_endpoint(sagemaker, {"A": 1, "B": 1})

    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=new_config, RetainAllVariantProperties=True
    )

    variants = live_variants(sagemaker, endpoint)
    assert variants["A"]["CurrentWeight"] == 5.0
    assert variants["A"]["CurrentInstanceCount"] == 3
    assert variants["B"]["CurrentWeight"] == 1.0


def test_update_endpoint_unknown_names_are_validation_errors(sagemaker):
    endpoint, config = make_endpoint(sagemaker, {"A": 1})
    with pytest.raises(ClientError) as err:
        sagemaker.update_endpoint(EndpointName=unique("missing"), EndpointConfigName=config)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as err:
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=unique("missing"))
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_weights_update_keeps_omitted_instance_count(sagemaker):
    endpoint, _ = make_endpoint(sagemaker, {"A": 1, "B": 1})
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": "B", "DesiredWeight": 3}],
    )
    variants = live_variants(sagemaker, endpoint)
    assert variants["B"]["CurrentWeight"] == 3.0
    assert variants["B"]["CurrentInstanceCount"] == 1
    assert variants["A"]["CurrentWeight"] == 1.0


def test_monitoring_schedule_lifecycle(sagemaker):
    name = unique("schedule")
    arn = sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": "dq-job",
            "MonitoringType": "DataQuality",
        },
        Tags=[{"Key": "team", "Value": "ml"}],
    )["MonitoringScheduleArn"]

    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert described["MonitoringScheduleArn"] == arn
    assert described["MonitoringScheduleStatus"] == "Scheduled"
    assert described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == "dq-job"
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    listed = sagemaker.list_monitoring_schedules()["MonitoringScheduleSummaries"]
    assert name in {s["MonitoringScheduleName"] for s in listed}

    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
    with pytest.raises(ClientError) as err:
        sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def tls_only_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def test_tls_only_bucket_policy_allows_tls_requests(emulator):
    s3 = emulator.client("s3")
    bucket = unique("tls-only")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=tls_only_policy(bucket))

    s3.put_object(Bucket=bucket, Key="input/a.csv", Body=b"1,2,3\n")
    assert s3.get_object(Bucket=bucket, Key="input/a.csv")["Body"].read() == b"1,2,3\n"
    s3.delete_object(Bucket=bucket, Key="input/a.csv")


def test_unconditional_deny_still_denies(emulator):
    """The shim drops only statements that cannot apply over TLS; a plain Deny still bites."""
    s3 = emulator.client("s3")
    bucket = unique("deny-put")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="x", Body=b"x")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_localstack_client_and_env_endpoint_reach_the_emulator(emulator, monkeypatch):
    import localstack_client.session

    bucket = unique("edge")
    session = localstack_client.session.Session(localstack_host=f"{emulator.host}:{emulator.port}")
    session.client("s3").create_bucket(Bucket=bucket)

    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)
    names = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert bucket in names


def test_container_execution_is_disabled(emulator):
    """moto starts no Docker container for a Batch job: the runtime runs it, and an image that
    no Dockerfile of the repository maps (scorer:1) fails as an image AWS cannot pull."""
    queue, definition = fargate_job_queue(emulator, ["true"])
    batch = emulator.client("batch")
    job = batch.submit_job(jobName="j", jobQueue=queue, jobDefinition=definition)["jobId"]

    for _ in range(100):
        described = batch.describe_jobs(jobs=[job])["jobs"][0]
        if described["status"] in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(0.1)
    assert described["status"] == "FAILED"
    assert described["statusReason"].startswith("CannotPullContainerError: image scorer:1")


def test_security_group_rule_descriptions_survive_for_prefix_lists_and_groups(emulator):
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName=unique("sg"), Description="t", VpcId=vpc)["GroupId"]
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName=unique("pl"), MaxEntries=1, AddressFamily="IPv4"
    )["PrefixList"]["PrefixListId"]
    ec2.authorize_security_group_egress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": prefix_list, "Description": "to S3"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": group, "Description": "to itself"}],
            },
        ],
    )

    def descriptions() -> dict[str, str]:
        rules = ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group]}]
        )["SecurityGroupRules"]
        return {
            r.get("PrefixListId") or r["ReferencedGroupInfo"]["GroupId"]: (
                r["SecurityGroupRuleId"],
                r.get("Description"),
            )
            for r in rules
            if r["IsEgress"] and (r.get("PrefixListId") or r.get("ReferencedGroupInfo"))
        }

    found = descriptions()
    assert found[prefix_list][1] == "to S3"
    assert found[group][1] == "to itself"

    rule_id = found[prefix_list][0]
    ec2.modify_security_group_rules(
        GroupId=group,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": rule_id,
                "SecurityGroupRule": {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "PrefixListId": prefix_list,
                    "Description": "to S3 gateway",
                },
            }
        ],
    )
    assert descriptions()[prefix_list][1] == "to S3 gateway"


def test_describe_model_matches_what_was_created(sagemaker):
    plain = unique("plain")
    sagemaker.create_model(
        ModelName=plain,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": "s3://b/model.tar.gz"},
    )
    described = sagemaker.describe_model(ModelName=plain)
    assert "VpcConfig" not in described
    assert described["EnableNetworkIsolation"] is False

    isolated = unique("isolated")
    sagemaker.create_model(
        ModelName=isolated,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": "s3://b/model.tar.gz"},
        EnableNetworkIsolation=True,
        VpcConfig={"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
    )
    described = sagemaker.describe_model(ModelName=isolated)
    assert described["EnableNetworkIsolation"] is True
    assert described["VpcConfig"]["Subnets"] == ["subnet-1"]


def test_lambda_dead_letter_config_is_kept(emulator):
    import io
    import zipfile

    iam = emulator.client("iam")
    role = iam.create_role(
        RoleName=unique("lambda"),
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:dlq"
    other_arn = "arn:aws:sqs:us-east-1:123456789012:dlq2"
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    lam = emulator.client("lambda")
    name = unique("fn")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
        DeadLetterConfig={"TargetArn": queue_arn},
    )
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": queue_arn
    }
    lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": other_arn})
    assert lam.get_function(FunctionName=name)["Configuration"]["DeadLetterConfig"] == {
        "TargetArn": other_arn
    }


def test_compute_environment_without_service_role_uses_the_service_linked_role(emulator):
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.6.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=unique("sg"), Description="t", VpcId=vpc)
    batch = emulator.client("batch")
    names = [unique("ce"), unique("ce")]
    for name in names:  # the second one reuses the role the first created
        batch.create_compute_environment(
            computeEnvironmentName=name,
            type="MANAGED",
            computeResources={
                "type": "FARGATE",
                "maxvCpus": 4,
                "subnets": [subnet],
                "securityGroupIds": [group["GroupId"]],
            },
        )
    described = batch.describe_compute_environments(computeEnvironments=names)
    (role,) = {env["serviceRole"] for env in described["computeEnvironments"]}
    assert role.startswith("arn:aws:iam::123456789012:role/aws-service-role/batch.amazonaws.com/")


def test_aws_managed_policies_can_be_attached(emulator):
    iam = emulator.client("iam")
    role = unique("ec2-instance")
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]


def test_shadow_production_variants_are_kept_validated_and_described(sagemaker):
    model = unique("model")
    sagemaker.create_model(
        ModelName=model,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "xgb:1", "ModelDataUrl": "s3://b/model.tar.gz"},
    )

    def variant(name: str, weight: float = 1.0, **fields) -> dict:
        base = {"VariantName": name, "ModelName": model, "InitialVariantWeight": weight}
        return {**base, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large", **fields}

    def rejected(production: list[dict], shadows: list[dict]) -> str:
        name = unique("config")
        with pytest.raises(ClientError) as err:
            sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=production,
                ShadowProductionVariants=shadows,
            )
        assert err.value.response["Error"]["Code"] == "ValidationException"
        with pytest.raises(ClientError):  # nothing was stored
            sagemaker.describe_endpoint_config(EndpointConfigName=name)
        return err.value.response["Error"]["Message"]

    assert "exactly one" in rejected([variant("A")], [variant("S1"), variant("S2")])
    assert "exactly one" in rejected([variant("A"), variant("B")], [variant("S")])
    assert "A is used more than once" in rejected([variant("A")], [variant("A")])
    no_instances = {"VariantName": "S", "ModelName": model}
    assert "InstanceType" in rejected([variant("A")], [no_instances])
    assert "Could not find model" in rejected([variant("A")], [variant("S", ModelName="nope")])

    with_shadow = unique("config")
    sagemaker.create_endpoint_config(
        EndpointConfigName=with_shadow,
        ProductionVariants=[variant("A")],
        ShadowProductionVariants=[variant("S", 0.5, InitialInstanceCount=2)],
    )
    described = sagemaker.describe_endpoint_config(EndpointConfigName=with_shadow)
    assert described["ShadowProductionVariants"] == [variant("S", 0.5, InitialInstanceCount=2)]

    endpoint = unique("endpoint")
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=with_shadow)
    (shadow,) = sagemaker.describe_endpoint(EndpointName=endpoint)["ShadowProductionVariants"]
    assert shadow["VariantName"] == "S"
    assert (shadow["CurrentWeight"], shadow["DesiredWeight"]) == (0.5, 0.5)
    assert (shadow["CurrentInstanceCount"], shadow["DesiredInstanceCount"]) == (2, 2)

    without_shadow = unique("config")
    sagemaker.create_endpoint_config(
        EndpointConfigName=without_shadow, ProductionVariants=[variant("A")]
    )
    assert "ShadowProductionVariants" not in sagemaker.describe_endpoint_config(
        EndpointConfigName=without_shadow
    )
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=without_shadow)
    assert "ShadowProductionVariants" not in sagemaker.describe_endpoint(EndpointName=endpoint)
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=with_shadow)
    (shadow,) = sagemaker.describe_endpoint(EndpointName=endpoint)["ShadowProductionVariants"]
    assert (shadow["VariantName"], shadow["CurrentWeight"]) == ("S", 0.5)


def test_endpoint_config_without_data_capture_describes_none(sagemaker):
    """A config created without DataCaptureConfig is described without it (moto returned {});
    one created with it keeps it, and an endpoint can still be made from either."""
    endpoint, config = make_endpoint(sagemaker, {"A": 1})
    assert "DataCaptureConfig" not in sagemaker.describe_endpoint_config(EndpointConfigName=config)
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    _, captured = make_endpoint(sagemaker, {"A": 1}, capture=True)
    capture = sagemaker.describe_endpoint_config(EndpointConfigName=captured)["DataCaptureConfig"]
    assert capture["EnableCapture"] and capture["DestinationS3Uri"] == "s3://b/captures"


def test_list_state_machine_versions_answers_the_published_ones(emulator):
    sfn = emulator.client("stepfunctions")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    created = sfn.create_state_machine(
        name=unique("machine"), definition=definition, roleArn=ROLE, publish=True
    )
    versions = sfn.list_state_machine_versions(stateMachineArn=created["stateMachineArn"])
    assert [v["stateMachineVersionArn"] for v in versions["stateMachineVersions"]] == [
        created["stateMachineVersionArn"]
    ]
    plain = sfn.create_state_machine(name=unique("machine"), definition=definition, roleArn=ROLE)
    listed = sfn.list_state_machine_versions(stateMachineArn=plain["stateMachineArn"])
    assert listed["stateMachineVersions"] == []


def test_an_execution_started_without_a_name_gets_a_uuid(emulator):
    sfn = emulator.client("stepfunctions")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    arn = sfn.create_state_machine(name=unique("machine"), definition=definition, roleArn=ROLE)[
        "stateMachineArn"
    ]
    first, second = (sfn.start_execution(stateMachineArn=arn) for _ in range(2))
    names = [e["executionArn"].rsplit(":", 1)[1] for e in (first, second)]
    assert names[0] != names[1] and all(uuid.UUID(n) for n in names), names


def test_bucket_notification_answers_its_eventbridge_configuration(emulator):
    import urllib.request

    s3 = emulator.client("s3")
    bucket = unique("events")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    # boto3 drops an empty structure when it parses; Terraform's SDK reads the element itself
    with urllib.request.urlopen(f"{emulator.url}/{bucket}?notification") as answer:
        assert b"<EventBridgeConfiguration></EventBridgeConfiguration>" in answer.read()


def test_approving_a_version_keeps_its_metadata_and_merges_new_keys(sagemaker):
    group = unique("keep-meta")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification={
            "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"sha256": "abc", "metric": "auc"},
    )["ModelPackageArn"]
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="good"
    )
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={"mirrored": "yes"},
        CustomerMetadataPropertiesToRemove=["metric"],
    )
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "good"
    assert described["CustomerMetadataProperties"] == {"sha256": "abc", "mirrored": "yes"}


def test_concurrent_conditional_writes_of_one_item_let_exactly_one_win(emulator):
    from concurrent.futures import ThreadPoolExecutor

    table = unique("lock")
    ddb = emulator.client("dynamodb")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def take(holder: int) -> bool:
        try:
            emulator.client("dynamodb").put_item(
                TableName=table,
                Item={"k": {"S": "lock"}, "Holder": {"N": str(holder)}},
                ConditionExpression="attribute_not_exists(Holder)",
            )
            return True
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False

    for _ in range(5):
        ddb.delete_item(TableName=table, Key={"k": {"S": "lock"}})
        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(take, range(8))) == 1


BUILD_ROLE = "arn:aws:iam::123456789012:role/build"
DEFAULT_BUILD_KEY = "arn:aws:kms:us-east-1:123456789012:alias/aws/s3"


def create_build_project(codebuild, name: str, **kwargs) -> dict:
    """A project like the build module's: an S3 ZIP source with an inline buildspec."""
    return codebuild.create_project(
        name=name,
        source={"type": "S3", "location": "bundles/bundle.zip", "buildspec": "version: 0.2\n"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "computeType": "BUILD_GENERAL1_SMALL",
            "image": "aws/codebuild/standard:7.0",
            "privilegedMode": True,
            "environmentVariables": [{"name": "IMAGE", "value": "serving", "type": "PLAINTEXT"}],
        },
        serviceRole=BUILD_ROLE,
        **kwargs,
    )["project"]


def get_build_project(codebuild, name: str) -> dict:
    (project,) = codebuild.batch_get_projects(names=[name])["projects"]
    return project


def test_codebuild_project_keeps_its_encryption_key_and_concurrent_build_limit(emulator):
    codebuild = emulator.client("codebuild")
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    name = unique("keyed")
    created = create_build_project(
        codebuild, name, encryptionKey=key, concurrentBuildLimit=1, badgeEnabled=True
    )
    assert created["encryptionKey"] == key and created["concurrentBuildLimit"] == 1
    project = get_build_project(codebuild, name)
    assert project["encryptionKey"] == key
    assert project["concurrentBuildLimit"] == 1
    assert project["badge"]["badgeEnabled"] is True
    assert project["lastModified"] == project["created"]

    plain = unique("plain")
    create_build_project(codebuild, plain)
    project = get_build_project(codebuild, plain)
    assert project["encryptionKey"] == DEFAULT_BUILD_KEY
    assert "concurrentBuildLimit" not in project
    assert (project["timeoutInMinutes"], project["queuedTimeoutInMinutes"]) == (60, 480)


def test_codebuild_update_project_changes_only_what_it_is_given(emulator):
    codebuild = emulator.client("codebuild")
    name = unique("updated")
    create_build_project(
        codebuild,
        name,
        description="before",
        timeoutInMinutes=30,
        concurrentBuildLimit=1,
        logsConfig={
            "cloudWatchLogs": {"status": "ENABLED", "groupName": f"/aws/codebuild/{name}"},
            "s3Logs": {"status": "DISABLED"},
        },
        vpcConfig={"vpcId": "vpc-1", "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]},
        tags=[{"key": "Name", "value": name}],
    )
    before = get_build_project(codebuild, name)
    time.sleep(0.01)

    key = "arn:aws:kms:us-east-1:123456789012:key/other"
    environment = {**before["environment"], "image": "aws/codebuild/standard:8.0"}
    answer = codebuild.update_project(
        name=name,
        source={"type": "S3", "location": "bundles/next.zip", "buildspec": "version: 0.2\n#2\n"},
        environment=environment,
        encryptionKey=key,
        concurrentBuildLimit=2,
        badgeEnabled=True,
        serviceRole="arn:aws:iam::123456789012:role/other",
        tags=[{"key": "Name", "value": name}, {"key": "team", "value": "ml"}],
    )["project"]
    after = get_build_project(codebuild, name)
    assert answer == after
    assert after["source"]["location"] == "bundles/next.zip"
    assert after["environment"]["image"] == "aws/codebuild/standard:8.0"
    assert after["environment"]["environmentVariables"] == environment["environmentVariables"]
    assert after["encryptionKey"] == key and after["concurrentBuildLimit"] == 2
    assert after["badge"]["badgeEnabled"] is True
    assert after["serviceRole"] == "arn:aws:iam::123456789012:role/other"
    assert {t["key"]: t["value"] for t in after["tags"]} == {"Name": name, "team": "ml"}
    assert after["lastModified"] > before["lastModified"]
    assert after["created"] == before["created"]
    for kept in ("description", "timeoutInMinutes", "logsConfig", "vpcConfig", "artifacts"):
        assert after[kept] == before[kept], kept

    # Terraform's clearing values: concurrent_build_limit and vpc_config removed
    codebuild.update_project(name=after["arn"], concurrentBuildLimit=-1, vpcConfig={})
    cleared = get_build_project(codebuild, name)
    assert "concurrentBuildLimit" not in cleared and "vpcConfig" not in cleared
    assert cleared["encryptionKey"] == key

    with pytest.raises(ClientError) as missing:
        codebuild.update_project(name=unique("missing"), description="x")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_codebuild_project_deleted_by_its_arn(emulator):
    codebuild = emulator.client("codebuild")
    name = unique("deleted")
    arn = create_build_project(codebuild, name)["arn"]
    codebuild.delete_project(name=arn)  # Terraform's project id is its ARN
    assert name not in codebuild.list_projects()["projects"]
    assert codebuild.batch_get_projects(names=[name])["projects"] == []


def test_object_lock_is_configured_on_a_versioned_bucket_with_objects(emulator):
    s3 = emulator.client("s3")
    bucket = unique("locked")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="trail/log.json.gz", Body=b"{}")
    retention = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": retention},
    )
    config = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    assert config["Rule"]["DefaultRetention"].items() >= retention["DefaultRetention"].items()

    # terraform destroy of aws_s3_bucket_object_lock_configuration: no rule, objects still there
    s3.put_object_lock_configuration(
        Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
    )
    config = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert config == {"ObjectLockEnabled": "Enabled"}

    unversioned = unique("unversioned")
    s3.create_bucket(Bucket=unversioned)
    with pytest.raises(ClientError) as refused:
        s3.put_object_lock_configuration(
            Bucket=unversioned, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )
    assert refused.value.response["Error"]["Code"] == "InvalidBucketState"


def test_delete_trail_takes_the_trails_arn_as_terraform_passes_it(emulator):
    s3, cloudtrail = emulator.client("s3"), emulator.client("cloudtrail")
    bucket, name = unique("trail-logs"), unique("trail")
    s3.create_bucket(Bucket=bucket)
    arn = cloudtrail.create_trail(Name=name, S3BucketName=bucket)["TrailARN"]
    cloudtrail.delete_trail(Name=arn)
    assert name not in [t["Name"] for t in cloudtrail.describe_trails()["trailList"]]
    with pytest.raises(cloudtrail.exceptions.TrailNotFoundException):
        cloudtrail.delete_trail(Name=arn)


@pytest.mark.parametrize(
    "range_header, status, part",
    [
        ("bytes=0-9", 206, slice(0, 10)),
        ("bytes=100-199", 206, slice(100, 200)),
        ("bytes=-10", 206, slice(-10, None)),
        ("bytes=5-", 206, slice(5, None)),
        ("bytes=4000-999999", 206, slice(4000, None)),
        ("bytes=4095-4095", 206, slice(4095, 4096)),
        ("bytes=0-9,20-29", 200, slice(None)),
        ("bytes=a-b", 200, slice(None)),
        ("bytes=9-3", 200, slice(None)),
        ("bytes=-", 200, slice(None)),
        ("", 200, slice(None)),
    ],
)
def test_ranged_get_answers_the_range_as_s3_does(emulator, range_header, status, part):
    s3 = emulator.client("s3")
    bucket = unique("ranges")
    s3.create_bucket(Bucket=bucket)
    body = bytes(range(256)) * 16  # 4,096 bytes, every offset distinguishable
    s3.put_object(Bucket=bucket, Key="object", Body=body)
    kwargs = {"Range": range_header} if range_header else {}
    got = s3.get_object(Bucket=bucket, Key="object", **kwargs)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == status
    assert got["Body"].read() == body[part]
    assert got["ContentLength"] == len(body[part])
    if status == 206:
        first = part.indices(len(body))[0]
        last = first + len(body[part]) - 1
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(body)}"


def test_ranged_get_past_the_end_is_invalid_range_and_head_answers_416(emulator):
    s3 = emulator.client("s3")
    bucket = unique("ranges")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="object", Body=b"0123456789")
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=bucket, Key="object", Range="bytes=10-20")
    assert refused.value.response["Error"]["Code"] == "InvalidRange"
    with pytest.raises(ClientError) as refused:
        s3.head_object(Bucket=bucket, Key="object", Range="bytes=10-20")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    head = s3.head_object(Bucket=bucket, Key="object", Range="bytes=2-4")
    assert head["ContentLength"] == 3
    assert head["ContentRange"] == "bytes 2-4/10"
    # the object is unchanged and whole after ranged reads
    assert s3.get_object(Bucket=bucket, Key="object")["Body"].read() == b"0123456789"
    empty = unique("empty")
    s3.put_object(Bucket=bucket, Key=empty, Body=b"")
    assert s3.get_object(Bucket=bucket, Key=empty, Range="bytes=-")["Body"].read() == b""


def test_ranged_get_of_a_part_number_answers_the_whole_single_part_object(emulator):
    s3 = emulator.client("s3")
    bucket = unique("ranges")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="object", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="object", PartNumber=1)
    assert got["Body"].read() == b"0123456789"

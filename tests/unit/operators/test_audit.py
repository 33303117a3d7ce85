"""operators.audit's reading of CloudTrail records: callers, targets, kinds, trust."""

from __future__ import annotations

from operators import audit

ACCOUNT = "123456789012"
OPERATOR = f"arn:aws:iam::{ACCOUNT}:role/byo-operator"
SCALING = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling"
    ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def role(arn: str, session: str, invoked_by: str | None = None) -> dict:
    name = arn.rpartition("/")[2]
    identity = {
        "type": "AssumedRole",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}",
        "accessKeyId": "ASIAEXAMPLE",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": arn, "userName": name}},
    }
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def record(name: str, identity: dict, **parameters) -> dict:
    return {
        "eventTime": "2026-12-03T07:00:00Z",
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "10.0.0.7",
        "userAgent": "byo/0.1",
        "userIdentity": identity,
        "requestParameters": parameters,
        "readOnly": False,
        "eventID": "e-1",
    }


def test_callers_read_as_people_say_them():
    assert audit.caller(role(OPERATOR, "alice")) == "role/byo-operator (session alice)"
    assert audit.caller({"type": "IAMUser", "userName": "bob"}) == "user/bob"
    assert audit.caller({"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"}) == "root"
    assert audit.caller(
        role(SCALING, "application-autoscaling", "application-autoscaling.amazonaws.com")
    ) == (
        "role/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint (session "
        "application-autoscaling) via application-autoscaling.amazonaws.com"
    )


def test_a_change_names_its_kind_target_detail_and_whether_its_caller_is_trusted():
    shift = record(
        "UpdateEndpointWeightsAndCapacities",
        role(OPERATOR, "alice"),
        endpointName="byo-endpoint",
        desiredWeightsAndCapacities=[
            {"variantName": "blue", "desiredWeight": 0.9},
            {"variantName": "green", "desiredWeight": 0.1, "desiredInstanceCount": 2},
        ],
    )
    found = audit.change(shift, trusted=[OPERATOR])
    assert found["kind"] == "traffic" and found["target"] == "byo-endpoint"
    assert found["detail"] == "blue: weight=0.9; green: weight=0.1, instances=2"
    assert found["trusted"] is True and found["outcome"] == "ok"
    assert audit.change(shift, trusted=[])["trusted"] is False

    approval = record(
        "UpdateModelPackage",
        {"type": "Root"},
        modelPackageArn="arn:aws:sagemaker:us-east-1:1:model-package/g/3",
        modelApprovalStatus="Approved",
    )
    found = audit.change(approval, trusted=[OPERATOR])
    assert found["kind"] == "registry" and found["caller"] == "root"
    assert found["detail"] == "approval → Approved" and found["trusted"] is False

    failed = {
        **record(
            "DeleteEndpoint", {"type": "IAMUser", "userName": "eve"}, endpointName="byo-endpoint"
        ),
        "errorCode": "AccessDenied",
        "errorMessage": "no",
    }
    found = audit.change(failed)
    assert found["kind"] == "endpoint" and found["outcome"] == "AccessDenied"


def test_writes_of_no_serving_kind_are_other():
    assert audit.change(record("CreateTrainingJob", {"type": "Root"}))["kind"] == "other"

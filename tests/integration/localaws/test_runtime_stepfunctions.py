"""Step Functions executions run by moto's engine on the embedded AWS, calling the runtime's
Lambda and SNS (the Batch `.sync` integration is in test_runtime_flow.py)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest

from tests.helpers.flow import ACCOUNT, wait_for

pytestmark = pytest.mark.integration

HANDLER = """
def handler(event, context):
    return {"doubled": event["n"] * 2, "function": context.function_name}
"""


def lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("double.py", HANDLER)
    return buffer.getvalue()


def create_function(emulator, name: str) -> str:
    role = emulator.client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    return emulator.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="double.handler",
        Code={"ZipFile": lambda_zip()},
    )["FunctionArn"]


def run(emulator, definition: dict, payload: dict) -> dict:
    sfn = emulator.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"m-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))[
        "executionArn"
    ]

    def done():
        described = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    return wait_for("the execution", done, timeout_s=60)


def test_an_execution_invokes_the_lambda_then_publishes_its_answer_to_sns(emulator):
    suffix = uuid.uuid4().hex[:8]
    function = create_function(emulator, f"double-{suffix}")
    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    topic = sns.create_topic(Name=f"answers-{suffix}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"answers-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload.$": "$"},
                "ResultSelector": {"answer.$": "$.Payload"},
                "Next": "Tell",
            },
            "Tell": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic, "Message.$": "$.answer"},
                "End": True,
            },
        },
    }
    described = run(emulator, definition, {"n": 21})
    assert described["status"] == "SUCCEEDED", described
    assert "MessageId" in json.loads(described["output"])
    (message,) = wait_for(
        "the published answer",
        lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages"),
    )
    assert json.loads(message["Body"]) == {"doubled": 42, "function": f"double-{suffix}"}


def test_a_failing_lambda_fails_the_execution_with_its_error(emulator):
    suffix = uuid.uuid4().hex[:8]
    function = create_function(emulator, f"double-{suffix}")
    definition = {
        "StartAt": "Double",
        "States": {"Double": {"Type": "Task", "Resource": function, "End": True}},
    }
    described = run(emulator, definition, {"no": "n"})  # the handler's event["n"] raises
    assert described["status"] == "FAILED", described
    assert described["error"] == "KeyError", described

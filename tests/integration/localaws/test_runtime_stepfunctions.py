"""Step Functions executions run by moto's engine on the embedded AWS, through boto3 only: the
runtime's Lambda, SNS, DynamoDB, Batch `.sync` and EventBridge, Wait states and Retry intervals on
the runtime's clock, the context object, and ValidateStateMachineDefinition (the Batch scoring
flow's `.sync` task is in test_runtime_flow.py).

An own emulator, because the tests move its clock; its Batch maps the probe image (…/byo/sfn-probe)
to a Dockerfile written here, whose program exits with the code its arguments say.
"""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.aws import fargate_network, fargate_queue, unique
from tests.helpers.emulator import Emulator, own_emulator
from tests.helpers.flow import ACCOUNT, wait_for

pytestmark = pytest.mark.integration

ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn"
PROBE_IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/sfn-probe:1"
HOUR = 3600

HANDLER = """
def handler(event, context):
    return {"doubled": event["n"] * 2, "function": context.function_name}
"""

PROBE = """
import sys
args = sys.argv[1:]
print("argv", args, flush=True)
sys.exit(int(args[1]) if args[:1] == ["exit"] else 0)
"""
DOCKERFILE = textwrap.dedent(
    """
    FROM python:3.12-slim
    COPY probe.py /opt/probe/probe.py
    ENTRYPOINT ["python", "/opt/probe/probe.py"]
    """
)


@pytest.fixture(scope="module")
def emu(tmp_path_factory) -> Iterator[Emulator]:
    image = tmp_path_factory.mktemp("sfn-probe")
    (image / "probe.py").write_text(PROBE)
    (image / "Dockerfile").write_text(DOCKERFILE)
    with own_emulator(
        tmp_path_factory.mktemp("sfn-emulator"),
        env={
            "LOCALAWS_RUNTIME_OFF": "alarms,scaling,deployments,transform",
            "LOCALAWS_IMAGES": f"sfn-probe={Path(image) / 'Dockerfile'}",
        },
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def job_queue(emu) -> str:
    return fargate_queue(emu, fargate_network(emu))[0]


def lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("double.py", HANDLER)
    return buffer.getvalue()


def create_function(emu, name: str) -> str:
    role = emu.client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    return emu.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="double.handler",
        Code={"ZipFile": lambda_zip()},
    )["FunctionArn"]


def create_machine(emu, definition: dict) -> str:
    return emu.client("stepfunctions").create_state_machine(
        name=unique("m"), definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]


def start(emu, definition: dict, payload: dict | None = None, name: str | None = None) -> str:
    extra = {"name": name} if name else {}
    return emu.client("stepfunctions").start_execution(
        stateMachineArn=create_machine(emu, definition), input=json.dumps(payload or {}), **extra
    )["executionArn"]


def finished(emu, execution: str, timeout_s: float = 60) -> dict:
    sfn = emu.client("stepfunctions")

    def done():
        described = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    return wait_for(f"execution {execution}", done, timeout_s=timeout_s)


def run(emu, definition: dict, payload: dict | None = None, name: str | None = None) -> dict:
    return finished(emu, start(emu, definition, payload, name))


def history(emu, execution: str) -> list[dict]:
    return emu.client("stepfunctions").get_execution_history(executionArn=execution)["events"]


def entered(emu, execution: str, state: str) -> None:
    """Wait until the execution has entered `state`."""
    wait_for(
        f"{execution} to enter {state}",
        lambda: any(
            e.get("stateEnteredEventDetails", {}).get("name") == state
            for e in history(emu, execution)
        ),
        timeout_s=30,
    )


def clock_now(emu) -> datetime:
    return datetime.fromisoformat(emu.localaws("GET", "/localaws/runtime")["clock"]["now"])


def subscribed_queue(emu, topic: str) -> str:
    sqs = emu.client("sqs")
    url = sqs.create_queue(QueueName=unique("inbox"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    emu.client("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return url


def one_message(emu, url: str) -> str:
    (message,) = wait_for(
        f"a message on {url}",
        lambda: emu.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
    )
    return message["Body"]


# ---------------------------------------------------------------------------------------------
# Lambda and SNS
# ---------------------------------------------------------------------------------------------


def test_an_execution_invokes_the_lambda_then_publishes_its_answer_to_sns(emu):
    function = create_function(emu, unique("double"))
    topic = emu.client("sns").create_topic(Name=unique("answers"))["TopicArn"]
    inbox = subscribed_queue(emu, topic)
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
    described = run(emu, definition, {"n": 21})
    assert described["status"] == "SUCCEEDED", described
    assert "MessageId" in json.loads(described["output"])
    name = function.rsplit(":", 1)[-1]
    assert json.loads(one_message(emu, inbox)) == {"doubled": 42, "function": name}


def test_a_failing_lambda_fails_the_execution_with_its_error(emu):
    function = create_function(emu, unique("double"))
    definition = {
        "StartAt": "Double",
        "States": {"Double": {"Type": "Task", "Resource": function, "End": True}},
    }
    described = run(emu, definition, {"no": "n"})  # the handler's event["n"] raises
    assert described["status"] == "FAILED", described
    assert described["error"] == "KeyError", described


def test_sns_publish_sends_a_message_built_with_states_format(emu):
    topic = emu.client("sns").create_topic(Name=unique("retraining"))["TopicArn"]
    inbox = subscribed_queue(emu, topic)
    definition = {
        "StartAt": "Tell",
        "States": {
            "Tell": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {
                    "TopicArn": topic,
                    "Subject": "retraining",
                    "Message.$": "States.Format('v{} registered by {}: auc {}', "
                    "$.version, $$.Execution.Name, $.auc)",
                },
                "End": True,
            }
        },
    }
    name = unique("run")
    described = run(emu, definition, {"version": 3, "auc": 0.91}, name=name)
    assert described["status"] == "SUCCEEDED", described
    assert set(json.loads(described["output"])) == {"MessageId"}
    assert one_message(emu, inbox) == f"v3 registered by {name}: auc 0.91"


# ---------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------


def test_dynamodb_tasks_condition_failures_are_caught_by_their_aws_error_name(emu):
    table = unique("locks")
    dynamodb = emu.client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    key = {"pk": {"S": "endpoint-a"}}
    taken = ["DynamoDB.ConditionalCheckFailedException"]

    def task(action: str, parameters: dict, nxt: str, **extra) -> dict:
        return {
            "Type": "Task",
            "Resource": f"arn:aws:states:::dynamodb:{action}",
            "Parameters": {"TableName": table, **parameters},
            "Next": nxt,
            **extra,
        }

    take = {
        "Item": {**key, "holder": {"S.$": "$$.Execution.Name"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    definition = {
        "StartAt": "Take",
        "States": {
            "Take": task("putItem", take, "TakeAgain", ResultPath=None),
            "TakeAgain": task(
                "putItem",
                take,
                "Get",
                ResultPath=None,
                Catch=[{"ErrorEquals": taken, "ResultPath": "$.put_refused", "Next": "Renew"}],
            ),
            "Renew": task(
                "updateItem",
                {
                    "Key": key,
                    "UpdateExpression": "SET holder = :me",
                    "ConditionExpression": "holder = :other",
                    "ExpressionAttributeValues": {":me": {"S": "me"}, ":other": {"S": "other"}},
                },
                "Get",
                ResultPath=None,
                Catch=[{"ErrorEquals": taken, "ResultPath": "$.update_refused", "Next": "Get"}],
            ),
            "Get": task(
                "getItem",
                {"Key": key},
                "GetMissing",
                ResultSelector={"holder.$": "$.Item.holder.S"},
                ResultPath="$.got",
            ),
            "GetMissing": task(
                "getItem", {"Key": {"pk": {"S": "none"}}}, "Drop", ResultPath="$.missing"
            ),
            "Drop": task("deleteItem", {"Key": key}, "Done", ResultPath="$.deleted"),
            "Done": {"Type": "Succeed"},
        },
    }
    name = unique("rollout")
    described = run(emu, definition, name=name)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    for refused in ("put_refused", "update_refused"):
        assert output[refused]["Error"] == "DynamoDB.ConditionalCheckFailedException", output
        assert "The conditional request failed" in output[refused]["Cause"]
    assert output["got"] == {"holder": name}
    assert output["missing"] == {}
    assert output["deleted"] == {}
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key)

    # Uncaught, the same error fails the execution.
    described = run(
        emu,
        {
            "StartAt": "Take",
            "States": {
                "Take": task("putItem", take, "TakeAgain"),
                "TakeAgain": task("putItem", take, "Done"),
                "Done": {"Type": "Succeed"},
            },
        },
    )
    assert described["status"] == "FAILED", described
    assert described["error"] == "DynamoDB.ConditionalCheckFailedException", described["cause"]


# ---------------------------------------------------------------------------------------------
# Batch .sync
# ---------------------------------------------------------------------------------------------


def probe_definition(emu) -> str:
    return emu.client("batch").register_job_definition(
        jobDefinitionName=unique("probe"),
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": PROBE_IMAGE,
            "command": ["Ref::action", "Ref::code"],
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
        },
        parameters={"action": "exit", "code": "0"},
    )["jobDefinitionArn"]


def batch_task(queue: str, definition: str, code: str, **extra) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": {
            "JobName": "train",
            "JobQueue": queue,
            "JobDefinition": definition,
            "Parameters": {"action": "exit", "code": code},
        },
        **extra,
    }


def test_a_batch_sync_task_gets_the_job_description_with_its_parameters(emu, job_queue):
    definition = {
        "StartAt": "Train",
        "States": {"Train": batch_task(job_queue, probe_definition(emu), "0", End=True)},
    }
    described = run(emu, definition)
    assert described["status"] == "SUCCEEDED", described
    job = json.loads(described["output"])
    assert job["Status"] == "SUCCEEDED" and job["JobId"]
    assert job["Parameters"] == {"action": "exit", "code": "0"}
    assert job["Container"]["Command"] == ["exit", "0"]
    assert job["Container"]["ExitCode"] == 0


def test_a_failed_batch_job_is_retried_on_the_clock_then_caught_as_states_task_failed(
    emu, job_queue
):
    definition = {
        "StartAt": "Train",
        "States": {
            "Train": batch_task(
                job_queue,
                probe_definition(emu),
                "3",
                Retry=[
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "IntervalSeconds": 600,
                        "BackoffRate": 2,
                        "MaxAttempts": 2,
                    }
                ],
                Catch=[
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.failure",
                        "Next": "Tell",
                    }
                ],
                End=True,
            ),
            "Tell": {"Type": "Pass", "End": True},
        },
    }
    execution = start(emu, definition)

    def failures(count: int):
        return lambda: (
            len([e for e in history(emu, execution) if e["type"] == "TaskFailed"]) >= count
        )

    # Each failure waits its retry interval (600 s, then 600 x 2) on the runtime's clock.
    wait_for("the first attempt to fail", failures(1), timeout_s=30)
    emu.advance_clock(600)
    wait_for("the second attempt to fail", failures(2), timeout_s=30)
    emu.advance_clock(1200)
    described = finished(emu, execution, timeout_s=30)
    assert described["status"] == "SUCCEEDED", described
    failure = json.loads(described["output"])["failure"]
    assert failure["Error"] == "States.TaskFailed"
    job = json.loads(failure["Cause"])  # the job's description, as AWS gives it
    assert job["Status"] == "FAILED"
    assert job["Container"]["Command"] == ["exit", "3"]
    assert job["Container"]["ExitCode"] == 3
    attempts = [e for e in history(emu, execution) if e["type"] == "TaskSubmitted"]
    assert len(attempts) == 3


# ---------------------------------------------------------------------------------------------
# Time: Wait, StopExecution, the context object
# ---------------------------------------------------------------------------------------------


def test_waits_of_an_hour_end_when_the_clock_is_advanced(emu):
    until = (clock_now(emu) + timedelta(seconds=2 * HOUR)).strftime("%Y-%m-%dT%H:%M:%SZ")
    definition = {
        "StartAt": "Hour",
        "States": {
            "Hour": {"Type": "Wait", "Seconds": HOUR, "Next": "Until"},
            "Until": {"Type": "Wait", "TimestampPath": "$.until", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    execution = start(emu, definition, {"until": until})
    entered(emu, execution, "Hour")
    emu.advance_clock(HOUR)
    entered(emu, execution, "Until")  # an hour of the two left
    sfn = emu.client("stepfunctions")
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    emu.advance_clock(HOUR)
    assert finished(emu, execution, timeout_s=30)["status"] == "SUCCEEDED"


def test_stop_execution_ends_a_wait_at_once(emu):
    definition = {
        "StartAt": "Day",
        "States": {"Day": {"Type": "Wait", "Seconds": 24 * HOUR, "End": True}},
    }
    execution = start(emu, definition)
    entered(emu, execution, "Day")
    emu.client("stepfunctions").stop_execution(executionArn=execution)
    # The execution's worker ends: moto reflects ABORTED only once its program has stopped.
    assert finished(emu, execution, timeout_s=10)["status"] == "ABORTED"


def test_the_context_object_has_the_execution_name_and_start_time_on_the_clock(emu):
    definition = {
        "StartAt": "Note",
        "States": {
            "Note": {
                "Type": "Pass",
                "Parameters": {
                    "name.$": "$$.Execution.Name",
                    "started.$": "$$.Execution.StartTime",
                },
                "End": True,
            }
        },
    }
    emu.advance_clock(HOUR)  # the runtime's time differs from the wall's from here on
    before = clock_now(emu)
    name = unique("run")
    described = run(emu, definition, name=name)
    after = clock_now(emu)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["name"] == name
    started = output["started"]
    assert started.endswith("Z") and len(started) == len("2026-12-02T18:49:00.106Z"), started
    started_at = datetime.fromisoformat(started)
    assert before - timedelta(milliseconds=1) <= started_at <= after
    assert abs(described["startDate"] - started_at) < timedelta(milliseconds=1)
    assert described["startDate"] <= described["stopDate"] <= after
    assert datetime.now(UTC) + timedelta(minutes=30) < started_at  # the clock's, not the wall's


# ---------------------------------------------------------------------------------------------
# EventBridge
# ---------------------------------------------------------------------------------------------


def test_an_eventbridge_rule_starts_executions_with_the_event_or_its_transformed_input(emu):
    machine = create_machine(emu, {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    events = emu.client("events")
    rule = unique("approved")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]}
        ),
    )
    events.put_targets(
        Rule=rule,
        Targets=[
            {"Id": "whole", "Arn": machine, "RoleArn": ROLE},
            {
                "Id": "transformed",
                "Arn": machine,
                "RoleArn": ROLE,
                "InputTransformer": {
                    "InputPathsMap": {"group": "$.detail.ModelPackageGroupName"},
                    "InputTemplate": '{"reason": "approved", "group": <group>}',
                },
            },
        ],
    )
    detail = {"ModelPackageGroupName": "models", "ModelApprovalStatus": "Approved"}
    events.put_events(
        Entries=[
            {
                "Source": "aws.sagemaker",
                "DetailType": "SageMaker Model Package State Change",
                "Detail": json.dumps(detail),
            }
        ]
    )
    sfn = emu.client("stepfunctions")
    listed = wait_for(
        "two executions",
        lambda: len(e := sfn.list_executions(stateMachineArn=machine)["executions"]) == 2 and e,
        timeout_s=30,
    )
    inputs = [
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in listed
    ]
    whole = next(i for i in inputs if "detail" in i)
    assert whole["detail"] == detail and whole["source"] == "aws.sagemaker"
    assert {"reason": "approved", "group": "models"} in inputs


# ---------------------------------------------------------------------------------------------
# ValidateStateMachineDefinition
# ---------------------------------------------------------------------------------------------

PASS = {"Type": "Pass", "End": True}


def machine_with(**states) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


CHOICE_TO_NOWHERE = {
    "Type": "Choice",
    "Choices": [{"Variable": "$.x", "StringEquals": "y", "Next": "Q"}],
    "Default": "B",
}
CATCH_TO_NOWHERE = {
    "Type": "Task",
    "Resource": "arn:aws:states:::sns:publish",
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}],
    "End": True,
}
BRANCH_OUT = {  # a branch's states reach only their own branch
    "Type": "Parallel",
    "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "A"}}}],
    "End": True,
}
SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"


@pytest.mark.parametrize(
    ("definition", "code", "location"),
    [
        pytest.param('{"StartAt": "A", "States": {', "INVALID_JSON_DESCRIPTION", None, id="json"),
        pytest.param("   ", "MISSING_DESCRIPTION", None, id="empty"),
        pytest.param(
            machine_with(A={"Type": "Bogus", "End": True}),
            SCHEMA,
            "/States/A/Type",
            id="unknown-type",
        ),
        pytest.param(
            machine_with(A={**PASS, "Colour": 1}), SCHEMA, "/States/A/Colour", id="unknown-field"
        ),
        pytest.param(json.dumps({"States": {"A": PASS}}), SCHEMA, None, id="no-start-at"),
        pytest.param(machine_with(A={"Type": "Task", "End": True}), SCHEMA, None, id="no-resource"),
        pytest.param(machine_with(A={"Type": "Pass"}), SCHEMA, "/States/A", id="no-next-or-end"),
        pytest.param(
            machine_with(A={"Type": "Pass", "Next": "B"}), TARGET, "/States/A/Next", id="next"
        ),
        pytest.param(
            json.dumps({"StartAt": "Z", "States": {"A": PASS}}), TARGET, "/StartAt", id="start-at"
        ),
        pytest.param(
            machine_with(A=CHOICE_TO_NOWHERE, B=PASS),
            TARGET,
            "/States/A/Choices/0/Next",
            id="choice",
        ),
        pytest.param(
            machine_with(A=CATCH_TO_NOWHERE), TARGET, "/States/A/Catch/0/Next", id="catch"
        ),
        pytest.param(
            machine_with(P=BRANCH_OUT, A=PASS),
            TARGET,
            "/States/P/Branches/0/States/X/Next",
            id="branch",
        ),
        pytest.param(
            machine_with(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"}),
            "MISSING_END_STATE",
            "/States",
            id="no-terminal-state",
        ),
        pytest.param(
            '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Fail"}}}',
            "DUPLICATE_STATE_NAME",
            "/States/A",
            id="duplicate",
        ),
    ],
)
def test_validate_state_machine_definition_fails_what_aws_refuses(emu, definition, code, location):
    answer = emu.client("stepfunctions").validate_state_machine_definition(definition=definition)
    assert answer["result"] == "FAIL", answer
    assert answer["truncated"] is False
    diagnostics = answer["diagnostics"]
    assert {d["severity"] for d in diagnostics} == {"ERROR"}
    matching = [d for d in diagnostics if d["code"] == code]
    assert matching, diagnostics
    assert all(d["message"] for d in diagnostics)
    assert matching[0].get("location") == location, diagnostics


def test_validate_state_machine_definition_passes_a_valid_machine_and_truncates(emu):
    valid = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.auc", "NumericGreaterThan": 0.8, "Next": "Both"}],
                "Default": "Failed",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Tell", "States": {"Tell": PASS}},
                    {
                        "StartAt": "Each",
                        "States": {
                            "Each": {
                                "Type": "Map",
                                "ItemProcessor": {"StartAt": "One", "States": {"One": PASS}},
                                "End": True,
                            }
                        },
                    },
                ],
                "Next": "Done",
            },
            "Done": {"Type": "Wait", "Seconds": 5, "End": True},
            "Failed": {"Type": "Fail", "Error": "Low", "Cause": "auc"},
        },
    }
    sfn = emu.client("stepfunctions")
    answer = sfn.validate_state_machine_definition(definition=json.dumps(valid))
    assert (answer["result"], answer["diagnostics"], answer["truncated"]) == ("OK", [], False)

    broken = machine_with(A={"Type": "Pass", "Next": "B"}, C={"Type": "Pass", "Next": "D"})
    answer = sfn.validate_state_machine_definition(definition=broken, maxResults=2)
    assert answer["result"] == "FAIL" and answer["truncated"] is True
    assert len(answer["diagnostics"]) == 2

"""Step Functions executions, run by moto's own state-machine engine.

moto ships an ASL interpreter (moto/stepfunctions/parser/, ported from LocalStack) that runs an
execution's states and calls the Batch, Lambda, SNS, SQS, DynamoDB and EventBridge integrations
against the same backends; it only needs its `stepfunctions.execute_state_machine` setting. With
the runtime's Batch and Lambda services on, a `.sync` Batch task waits for a job that really runs.

One gap of the port is filled here: its service tasks' `_normalise_parameters` and
`_normalise_response` are empty, so a task's parameters reach boto3 as the state machine spells
them (`JobName`) and answers come back as the API spells them (`jobId`). AWS (and LocalStack,
where the engine comes from) map both through the API's botocore model: a state machine writes
`"JobName"`, SubmitJob gets `jobName`, the task's result holds `JobId` and `Status`. Services
whose API is PascalCase already (SNS, SQS, DynamoDB) are unchanged by the mapping.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel
from moto.core.config import default_user_config
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)

from localaws.runtime import Context
from localaws.runtime.hooks import Hooks


@functools.cache
def _operation(service: str, action: str) -> OperationModel | None:
    """The botocore model of `service`'s operation whose snake_case name is `action`."""
    try:
        model = botocore.session.get_session().get_service_model(service)
    except Exception:  # an unknown service: leave its task as the engine has it
        return None
    for name in model.operation_names:
        if xform_name(name) == action:
            return model.operation_model(name)
    return None


def _task_operation(
    task: StateTaskService, boto_service_name: str | None, service_action_name: str | None
) -> OperationModel | None:
    return _operation(
        task._get_boto_service_name(boto_service_name),
        task._get_boto_service_action(service_action_name),
    )


def _normalise_parameters(
    self: StateTaskService,
    parameters: dict,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    operation = _task_operation(self, boto_service_name, service_action_name)
    if operation is not None and operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(
    self: StateTaskService,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    operation = _task_operation(self, boto_service_name, service_action_name)
    if operation is not None and operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)


class StepFunctionsRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.hooks = Hooks()

    def start(self) -> None:
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        self.hooks.install(StateTaskService, "_normalise_parameters", _normalise_parameters)
        self.hooks.install(StateTaskService, "_normalise_response", _normalise_response)

    def stop(self) -> None:
        self.hooks.restore()
        default_user_config["stepfunctions"] = {"execute_state_machine": False}

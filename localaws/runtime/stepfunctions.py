"""Step Functions executions, run by moto's own state-machine engine.

moto ships an ASL interpreter (moto/stepfunctions/parser/, ported from LocalStack) that runs an
execution's states and calls the Batch, Lambda, SNS, SQS, DynamoDB and EventBridge integrations
against the same backends; it only needs its `stepfunctions.execute_state_machine` setting. With
the runtime's Batch and Lambda services on, a `.sync` Batch task waits for a job that really runs.

Hooks on the engine (installed in start, taken back in stop) fill the port's gaps. Its service
tasks' `_normalise_parameters` and `_normalise_response` are empty, so a task's parameters
reach boto3 as the state machine spells them (`JobName`) and answers come back as the API
spells them (`jobId`). AWS (and LocalStack, where the engine comes from) map both through the
API's botocore model: a state machine writes `"JobName"`, SubmitJob gets `jobName`, the task's
result holds `JobId` and `Status`. Services whose API is PascalCase already (SNS, SQS,
DynamoDB) are unchanged by the mapping.

Time is the runtime's clock (localaws.runtime.clock), so `POST /localaws/clock` moves executions
forward as it moves everything else:

- a Wait state (`WaitFunction._wait_interval`: Seconds, SecondsPath, Timestamp, TimestampPath)
  and a Retry's interval (`RetrierDecl._eval_body`, IntervalSeconds times BackoffRate^n, capped by
  MaxDelaySeconds, with its jitter) wait with `Clock.sleep` instead of an Event.wait/time.sleep
  of real seconds: a Wait of 3600 s ends when the clock is advanced by 3600 s. Both count from
  the clock time of the history event they follow (WaitStateEntered, TaskFailed), so advancing
  the clock right after seeing that event is never lost. Both end at once (within 0.2 s) when
  the execution is no longer running (StopExecution) or the emulator stops;
- a Timestamp wait ends when the clock reaches the timestamp, in UTC (moto compared the UTC
  timestamp with the local naive `datetime.now()`: off by the machine's UTC offset);
- an execution's startDate and stopDate (DescribeExecution, ListExecutions), its history events'
  timestamps, and `$$.Execution.StartTime` are the clock's time. `$$.Execution.StartTime` is ISO
  text with milliseconds and Z, as AWS gives it ("2026-12-02T18:49:00.106Z"); moto put the
  datetime itself there, which failed any state that used it ("Object of type datetime is not
  JSON serializable"). `$$.State.EnteredTime` stays moto's (the wall clock).

A `.sync` task (Batch submitJob.sync, …) no longer listens for a task token: moto's
`_eval_sync` waited on the state's one callback endpoint, which the first attempt's end
interrupts for good, so a Retry's second attempt ended at once with States.Timeout. AWS gives
`.sync` tasks no task token (only `.waitForTaskToken` has one), so nothing is lost.

What the engine gives the loops' machines (checked in the tests): a DynamoDB ConditionExpression
that fails raises `DynamoDB.ConditionalCheckFailedException`; getItem answers `{"Item": {attr:
{"S": …}}}` (`{}` when there is no such item), deleteItem `{}`; a Batch `.sync` job that fails
raises `States.TaskFailed` with the job's DescribeJobs entry (PascalCase JSON) as Cause.

ValidateStateMachineDefinition is answered by a shim (localaws/shims.py,
`_patch_validate_state_machine_definition`, on whether or not this service runs) with moto's ASL
parser and a check of the state graph. It catches: a definition that is empty
(MISSING_DESCRIPTION) or not JSON (INVALID_JSON_DESCRIPTION); what the parser refuses
(SCHEMA_VALIDATION_FAILED: unknown state types and fields, a missing StartAt or States, a Task
without Resource, malformed paths, intrinsic functions and timestamps, values out of range);
StartAt, Next, Default, a Choice rule's or a Catch's Next naming no state of its scope
(MISSING_TRANSITION_TARGET); a state other than Choice, Succeed and Fail with neither Next nor
End, a Choice without Choices (SCHEMA_VALIDATION_FAILED); a scope with no terminal state
(MISSING_END_STATE); a state name used twice (DUPLICATE_STATE_NAME) or longer than 80
characters (INVALID_STATE_NAME). It does not check what AWS's validator checks beyond a parser:
unreachable states, whether a Task's Resource names a real integration (INVALID_RESOURCE) and the
parameters it accepts, label names, nesting depth, JSONata beyond its syntax; and it gives no
WARNING diagnostics (NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC), so `severity` changes nothing.
"""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel
from moto.core.config import default_user_config
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import (
    MaxAttemptsOutcome,
)
from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
    WaitFunction,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import ExecutionDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend.execution import (
    BaseExecutionWorkerCommunication,
    Execution,
)

from localaws.runtime import Context
from localaws.runtime.hooks import Hooks


def aws_time(moment: datetime) -> str:
    """A timestamp as Step Functions writes one in the context object: UTC, ms, Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


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


class _Interrupted:
    """What ends a wait early: the execution is no longer running (stopped, failed, timed out)
    or the emulator is stopping. Clock.sleep asks it `is_set()` every 0.2 s at most."""

    def __init__(self, env: Environment, stopping: threading.Event) -> None:
        self.env = env
        self.stopping = stopping

    def is_set(self) -> bool:
        return self.stopping.is_set() or not self.env.is_running()


def _engine_hooks(ctx: Context) -> dict[tuple[type, str], Any]:
    """The engine's waits and times on the runtime's clock, and `.sync` tasks without a
    task-token listener (see the module docstring)."""

    def last_event_time(env: Environment) -> float:
        """When the last history event of `env` happened (on the clock): the WaitStateEntered
        a Wait follows, the TaskFailed a retry interval follows. Waits count from it, so a clock
        advanced by someone who saw that event is never missed."""
        wanted = env.event_history_context.source_event_id
        for event in reversed(env.event_manager.get_event_history()):
            if event["id"] == wanted:
                return datetime.fromisoformat(event["timestamp"]).timestamp()
        return ctx.clock.time()

    def sleep_until(env: Environment, deadline: float) -> None:
        interrupted = _Interrupted(env, ctx.stopping)
        while not interrupted.is_set() and (left := deadline - ctx.clock.time()) > 0:
            ctx.clock.sleep(min(left, 1.0), stop=interrupted)

    def wait_interval(self: WaitFunction, env: Environment, wait_seconds: float) -> None:
        sleep_until(env, last_event_time(env) + wait_seconds)

    def timestamp_wait_seconds(self: Timestamp, env: Environment) -> float:
        self.string.eval(env=env)
        text = env.stack.pop()
        timestamp = self._from_timestamp_string(timestamp=text)
        if timestamp is None:
            raise FailureEventException(self._create_failure_event(env, text))
        return timestamp.replace(tzinfo=UTC).timestamp() - last_event_time(env)

    def retrier_eval_body(self: RetrierDecl, env: Environment) -> None:
        # moto's RetrierDecl._eval_body, its time.sleep(interval) on the clock.
        self.error_equals.eval(env)
        if not env.stack.pop():
            env.stack.append(RetrierOutcome.Skipped)
            return
        self.max_attempts.eval(env=env)
        if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
            env.stack.append(RetrierOutcome.Failed)
            return
        self.interval_seconds.eval(env=env)
        self.backoff_rate.eval(env=env)
        self.max_delay_seconds.eval(env=env)
        self.jitter_strategy.eval(env=env)
        interval: float = env.stack.pop()
        sleep_until(env, last_event_time(env) + interval)
        env.stack.append(RetrierOutcome.Executed)

    original_execution_init = Execution.__init__

    def execution_init(self: Execution, *args: Any, **kwargs: Any) -> None:
        original_execution_init(self, *args, **{**kwargs, "start_date": ctx.clock.now()})

    original_start_details = Execution.get_start_execution_details

    def start_execution_details(self: Execution) -> ExecutionDetails:
        details = original_start_details(self)
        details.start_time = aws_time(self.start_date)
        return details

    original_reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect_execution_status(self: BaseExecutionWorkerCommunication) -> None:
        original_reflect(self)
        self.execution.stop_date = ctx.clock.now()

    original_eval_sync = StateTaskServiceCallback._eval_sync

    def eval_sync(self: StateTaskServiceCallback, **kwargs: Any) -> Any:
        return original_eval_sync(self, **{**kwargs, "callback_endpoint": None})

    return {
        (StateTaskServiceCallback, "_eval_sync"): eval_sync,
        (WaitFunction, "_wait_interval"): wait_interval,
        (Timestamp, "_get_wait_seconds"): timestamp_wait_seconds,
        (RetrierDecl, "_eval_body"): retrier_eval_body,
        (Execution, "__init__"): execution_init,
        (Execution, "get_start_execution_details"): start_execution_details,
        (BaseExecutionWorkerCommunication, "_reflect_execution_status"): reflect_execution_status,
        (EventManager, "_get_current_timestamp"): staticmethod(ctx.clock.now),
    }


class StepFunctionsRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.hooks = Hooks()

    def start(self) -> None:
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        self.hooks.install(StateTaskService, "_normalise_parameters", _normalise_parameters)
        self.hooks.install(StateTaskService, "_normalise_response", _normalise_response)
        for (owner, name), replacement in _engine_hooks(self.ctx).items():
            self.hooks.install(owner, name, replacement)

    def stop(self) -> None:
        self.hooks.restore()
        default_user_config["stepfunctions"] = {"execute_state_machine": False}

"""Step Functions executions, run by moto's own state-machine engine.

moto ships an ASL interpreter (moto/stepfunctions/parser/, ported from LocalStack) that runs an
execution's states and calls the Batch, Lambda, SNS, SQS, DynamoDB and EventBridge integrations
against the same backends; it only needs its `stepfunctions.execute_state_machine` setting. With
the runtime's Batch and Lambda services on, a `.sync` Batch task waits for a job that really runs.
"""

from __future__ import annotations

from moto.core.config import default_user_config

from localaws.runtime import Context


class StepFunctionsRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def start(self) -> None:
        default_user_config["stepfunctions"] = {"execute_state_machine": True}

    def stop(self) -> None:
        default_user_config["stepfunctions"] = {"execute_state_machine": False}

"""SageMaker deployment guardrails: blue/green endpoint updates with auto-rollback on alarms.

On AWS, UpdateEndpoint with a DeploymentConfig starts a deployment that SageMaker runs by itself:
the endpoint is `Updating`, traffic moves from the old (blue) fleet to the new (green) one as the
BlueGreenUpdatePolicy's TrafficRoutingConfiguration says, and the AutoRollbackConfiguration's
CloudWatch alarms are watched the whole time; if one is in ALARM, SageMaker rolls the endpoint
back to the blue fleet (`RollingBack`, then `InService` on the old config, with a FailureReason).
moto has no UpdateEndpoint (localaws.shims adds one that applies the new config at once). This
service wraps that shim and runs the deployment on the runtime's clock:

- ALL_AT_ONCE: all traffic at once, then one bake of WaitIntervalInSeconds;
- CANARY: CanarySize, baked for WaitIntervalInSeconds; then the rest;
- LINEAR: steps of LinearStepSize, each baked for WaitIntervalInSeconds;
- then the final baking period, TerminationWaitInSeconds (default 0), before the blue fleet goes.

A DeploymentConfig with an AutoRollbackConfiguration but no update policy is AWS's default, a
blue/green deployment all at once (no wait). MaximumExecutionTimeoutInSeconds must exceed the
waits, as AWS requires; since the waits are exact here, a deployment always ends within it.

The local hosting serves one endpoint config per endpoint, so the green config serves all the
traffic from the start of the deployment (DescribeEndpoint's EndpointConfigName is the green one
while it runs, where AWS still names the blue one): the phases are the windows in which the
alarms are watched (every ALARM_POLL_S seconds of the runtime's clock, through DescribeAlarms),
and their metrics are the green model's. DescribeEndpoint shows the running phase in
PendingDeploymentSummary (VariantStatus `Baking` with AWS's kind of StatusMessage), and every
status change is a "SageMaker Endpoint Deployment State Change" event.

While a deployment runs, UpdateEndpoint and UpdateEndpointWeightsAndCapacities answer AWS's
ValidationException "Cannot update in-progress endpoint". An UpdateEndpoint without guardrails
(no DeploymentConfig) is left to the shim: the new config at once.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from localaws.runtime import Context
from localaws.runtime.hooks import Hooks

log = logging.getLogger("localaws.runtime.deployments")

ALARM_POLL_S = 2.0  # how often (runtime clock) the rollback alarms are read during a deployment
IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
ROUTING_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
CAPACITY_TYPES = ("INSTANCE_COUNT", "CAPACITY_PERCENT")
STATE_CHANGE = "SageMaker Endpoint Deployment State Change"
# EndpointStatus as the deployment state change event spells it (AWS's example: "UPDATING").
EVENT_STATUS = {"Updating": "UPDATING", "RollingBack": "ROLLING_BACK", "InService": "IN_SERVICE"}


class DeploymentConfigError(ValueError):
    """A DeploymentConfig that AWS would refuse (the message names the field)."""


# ---------------------------------------------------------------------------------------------
# The plan: pure functions of the DeploymentConfig and the green fleet's size
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phase:
    seconds: float
    message: str  # VariantStatus StatusMessage, in AWS's words
    what: str  # the phase, for a FailureReason ("the canary's bake")


@dataclass(frozen=True)
class Plan:
    routing: str
    phases: tuple[Phase, ...]
    alarms: tuple[str, ...]


def guarded(config: dict[str, Any] | None) -> bool:
    """Whether SageMaker runs this UpdateEndpoint as a watched blue/green deployment."""
    config = config or {}
    return bool(config.get("BlueGreenUpdatePolicy") or config.get("AutoRollbackConfiguration"))


def _seconds(policy: dict[str, Any], key: str, where: str, low: int, high: int) -> int | None:
    value = policy.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DeploymentConfigError(f"{where}.{key}: {value!r} is not between {low} and {high}")
    return value


def _capacity(size: dict[str, Any] | None, where: str, instances: int) -> tuple[int, float]:
    """(instances, percent of the green fleet) of a CapacitySize."""
    if not size:
        raise DeploymentConfigError(f"{where} is required for this traffic routing Type")
    kind, value = size.get("Type"), size.get("Value")
    if kind not in CAPACITY_TYPES:
        raise DeploymentConfigError(f"{where}.Type: {kind!r} is not one of {CAPACITY_TYPES}")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 1:
        raise DeploymentConfigError(f"{where}.Value: {value!r} must be a number of at least 1")
    if kind == "INSTANCE_COUNT":
        return int(value), 100.0 * value / instances
    return max(1, math.ceil(instances * value / 100)), float(value)


def plan(config: dict[str, Any], instances: int) -> Plan:
    """The phases of a deployment of `config` to a green fleet of `instances` instances."""
    instances = max(1, instances)
    policy = config.get("BlueGreenUpdatePolicy") or {}
    where = "DeploymentConfig.BlueGreenUpdatePolicy"
    routing = policy.get("TrafficRoutingConfiguration") or {}
    if policy and not routing:
        raise DeploymentConfigError(f"{where}.TrafficRoutingConfiguration is required")
    route_where = f"{where}.TrafficRoutingConfiguration"
    kind = routing.get("Type", "ALL_AT_ONCE")
    if kind not in ROUTING_TYPES:
        raise DeploymentConfigError(f"{route_where}.Type: {kind!r} is not one of {ROUTING_TYPES}")
    wait = _seconds(routing, "WaitIntervalInSeconds", route_where, 0, 3600)
    if policy and wait is None:
        raise DeploymentConfigError(f"{route_where}.WaitIntervalInSeconds is required")
    wait = wait or 0
    termination = _seconds(policy, "TerminationWaitInSeconds", where, 0, 3600) or 0
    timeout = _seconds(policy, "MaximumExecutionTimeoutInSeconds", where, 600, 28800)

    full = f"full capacity of {instances} instance(s)"
    phases: list[Phase] = []
    if kind == "ALL_AT_ONCE":
        phases.append(
            Phase(
                wait,
                f"Baking for {wait} seconds (WaitIntervalInSeconds) with traffic enabled "
                f"on {full}.",
                "the all-at-once bake",
            )
        )
    elif kind == "CANARY":
        count, percent = _capacity(
            routing.get("CanarySize"), f"{route_where}.CanarySize", instances
        )
        if percent > 50:
            raise DeploymentConfigError(
                f"{route_where}.CanarySize: {percent:g}% of {instances} instance(s); it must be "
                "at most 50% of the new fleet's capacity"
            )
        phases.append(
            Phase(
                wait,
                f"Baking for {wait} seconds (WaitIntervalInSeconds) with traffic enabled on "
                f"canary capacity of {count} instance(s).",
                "the canary's bake",
            )
        )
    else:
        size_where = f"{route_where}.LinearStepSize"
        count, percent = _capacity(routing.get("LinearStepSize"), size_where, instances)
        if not 10 <= percent <= 50:
            raise DeploymentConfigError(
                f"{size_where}: {percent:g}% of {instances} instance(s); each step must be "
                "10-50% of the new fleet's capacity"
            )
        steps = math.ceil(instances / count) if count < instances else math.ceil(100 / percent)
        for step in range(1, steps + 1):
            active = min(instances, math.ceil(instances * step / steps))
            phases.append(
                Phase(
                    wait,
                    f"Baking for {wait} seconds (WaitIntervalInSeconds) with traffic enabled on "
                    f"linear step {step} of {steps}, {active} of {instances} instance(s).",
                    f"the bake of linear step {step} of {steps}",
                )
            )
    phases.append(
        Phase(
            termination,
            f"Baking for {termination} seconds (TerminationWaitInSeconds) with traffic enabled "
            f"on {full}.",
            "the final baking period (TerminationWaitInSeconds)",
        )
    )
    total = sum(p.seconds for p in phases)
    if timeout is not None and timeout <= total:
        raise DeploymentConfigError(
            f"{where}.MaximumExecutionTimeoutInSeconds: {timeout} must be larger than the "
            f"deployment's waits ({total:g} s of WaitIntervalInSeconds and "
            "TerminationWaitInSeconds)"
        )
    alarms = tuple(
        a.get("AlarmName", "")
        for a in (config.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    )
    if any(not name for name in alarms):
        raise DeploymentConfigError(
            "DeploymentConfig.AutoRollbackConfiguration.Alarms: every alarm needs an AlarmName"
        )
    if len(alarms) > 10:
        raise DeploymentConfigError(
            f"DeploymentConfig.AutoRollbackConfiguration.Alarms: {len(alarms)} alarms; at most 10"
        )
    return Plan(kind, tuple(phases), alarms)


def failure_reason(tripped: list[str], phase: Phase, blue_config: str) -> str:
    """The endpoint's FailureReason after an auto-rollback (names the alarms and the phase)."""
    return (
        f"Deployment rolled back automatically: the auto-rollback alarm(s) {', '.join(tripped)} "
        f"went into ALARM during {phase.what}; the endpoint serves endpoint configuration "
        f"{blue_config} again."
    )


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
@dataclass
class Deployment:
    backend: SageMakerModelBackend
    endpoint: FakeEndpoint
    plan: Plan
    blue_config: str
    blue_variants: list[dict[str, Any]]
    blue_capture: dict[str, Any] | None
    blue_shadows: list[dict[str, Any]] | None  # ShadowProductionVariants (the shadow shim)
    green_config: str
    started: datetime


def _millis(moment: datetime) -> int:
    """Epoch milliseconds of one of moto's times (naive UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class DeploymentsRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._hooks = Hooks()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        original_update = SageMakerResponse.update_endpoint
        original_weights = SageMakerModelBackend.update_endpoint_weights_and_capacities
        runtime = self

        def update_endpoint(response: SageMakerResponse) -> Any:
            return runtime._update_endpoint(response, original_update)

        def update_endpoint_weights_and_capacities(
            backend: SageMakerModelBackend, endpoint_name: str, *args: Any, **kwargs: Any
        ) -> Any:
            runtime._refuse_in_progress(backend.endpoints.get(endpoint_name))
            return original_weights(backend, endpoint_name, *args, **kwargs)

        self._hooks.install(SageMakerResponse, "update_endpoint", update_endpoint)
        self._hooks.install(
            SageMakerModelBackend,
            "update_endpoint_weights_and_capacities",
            update_endpoint_weights_and_capacities,
        )

    def stop(self) -> None:
        """Runtime.stop has set ctx.stopping: deployment threads end at their next wait."""
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._hooks.restore()

    # -- the API hooks ------------------------------------------------------------------------
    @staticmethod
    def _refuse_in_progress(endpoint: FakeEndpoint | None) -> None:
        if endpoint is not None and endpoint.endpoint_status in IN_PROGRESS:
            raise ValidationError(f'Cannot update in-progress endpoint "{endpoint.arn}".')

    def _update_endpoint(self, response: SageMakerResponse, original: Any) -> Any:
        backend = response.sagemaker_backend
        config = response._get_param("DeploymentConfig")
        with self._lock:
            endpoint = backend.endpoints.get(response._get_param("EndpointName"))
            self._refuse_in_progress(endpoint)
            if endpoint is None or not guarded(config):
                return original(response)
            blue = (
                endpoint.endpoint_config_name,
                copy.deepcopy(endpoint.production_variants),
                copy.deepcopy(endpoint.data_capture_config),
                copy.deepcopy(getattr(endpoint, "shadow_production_variants", None)),
            )
            green = backend.endpoint_configs.get(response._get_param("EndpointConfigName"))
            instances = sum(
                int(v.get("InitialInstanceCount") or 1)
                for v in (green.production_variants if green else [])
            )
            try:
                deployment_plan = plan(config, instances)
            except DeploymentConfigError as exc:
                raise ValidationError(str(exc)) from None
            result = original(response)  # the shim: green config, variants and data capture
            deployment = Deployment(
                backend=backend,
                endpoint=endpoint,
                plan=deployment_plan,
                blue_config=blue[0],
                blue_variants=blue[1],
                blue_capture=blue[2],
                blue_shadows=blue[3],
                green_config=endpoint.endpoint_config_name,
                started=utcnow(),
            )
            endpoint.endpoint_status = "Updating"
            endpoint.failure_reason = None
            self._show_phase(deployment, deployment_plan.phases[0])
            thread = threading.Thread(
                target=self._run,
                args=(deployment,),
                name=f"deployment-{endpoint.endpoint_name}",
                daemon=True,
            )
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()
        log.info(
            "deployments: %s → %s (%s, alarms %s)",
            deployment.blue_config,
            deployment.green_config,
            deployment_plan.routing,
            ", ".join(deployment_plan.alarms) or "none",
        )
        return result

    # -- running a deployment -----------------------------------------------------------------
    def _run(self, deployment: Deployment) -> None:
        try:
            for index, phase in enumerate(deployment.plan.phases):
                if index:  # the first phase was shown when UpdateEndpoint started it
                    with self._lock:
                        if not self._current(deployment):
                            return
                        self._show_phase(deployment, phase)
                end = self.ctx.clock.time() + phase.seconds
                while True:
                    tripped = self._tripped(deployment.plan.alarms)
                    if tripped:
                        self._roll_back(deployment, phase, tripped)
                        return
                    left = end - self.ctx.clock.time()
                    if left <= 0:
                        break
                    if self.ctx.clock.sleep(min(ALARM_POLL_S, left), self.ctx.stopping):
                        return
                    if not self._current(deployment):
                        return
            self._finish(deployment)
        except Exception:
            log.exception("deployments: the deployment of %s failed", deployment.green_config)

    def _current(self, deployment: Deployment) -> bool:
        """The endpoint still exists and this deployment still runs on it."""
        endpoint = deployment.endpoint
        return (
            deployment.backend.endpoints.get(endpoint.endpoint_name) is endpoint
            and endpoint.endpoint_status == "Updating"
        )

    def _tripped(self, alarms: tuple[str, ...]) -> list[str]:
        """The rollback alarms in ALARM now (read as SageMaker reads them: DescribeAlarms)."""
        if not alarms:
            return []
        try:
            found = self.ctx.client("cloudwatch").describe_alarms(AlarmNames=list(alarms))
        except (BotoCoreError, ClientError):
            log.exception("deployments: DescribeAlarms failed; alarms not read this time")
            return []
        return [a["AlarmName"] for a in found["MetricAlarms"] if a["StateValue"] == "ALARM"]

    def _show_phase(self, deployment: Deployment, phase: Phase) -> None:
        """DescribeEndpoint's PendingDeploymentSummary for the phase that runs, and its event."""
        now = utcnow()
        variants = [
            {
                **copy.deepcopy(v),
                "VariantStatus": [
                    {"Status": "Baking", "StatusMessage": phase.message, "StartTime": now}
                ],
            }
            for v in deployment.endpoint.production_variants
        ]
        deployment.endpoint.pending_deployment_summary = {
            "EndpointConfigName": deployment.green_config,
            "ProductionVariants": variants,
            "StartTime": deployment.started,
        }
        deployment.endpoint.last_modified_time = now
        self._publish(deployment)

    def _roll_back(self, deployment: Deployment, phase: Phase, tripped: list[str]) -> None:
        with self._lock:
            if not self._current(deployment):
                return
            endpoint = deployment.endpoint
            endpoint.failure_reason = failure_reason(tripped, phase, deployment.blue_config)
            endpoint.endpoint_status = "RollingBack"
            endpoint.last_modified_time = utcnow()
            self._publish(deployment)
            endpoint.endpoint_config_name = deployment.blue_config
            endpoint.production_variants = copy.deepcopy(deployment.blue_variants)
            endpoint.data_capture_config = copy.deepcopy(deployment.blue_capture)
            endpoint.shadow_production_variants = copy.deepcopy(deployment.blue_shadows)
            endpoint.pending_deployment_summary = None
            endpoint.endpoint_status = "InService"
            endpoint.last_modified_time = utcnow()
            self._publish(deployment)
        log.warning(
            "deployments: %s rolled back to %s (alarms in ALARM: %s)",
            endpoint.endpoint_name,
            deployment.blue_config,
            ", ".join(tripped),
        )

    def _finish(self, deployment: Deployment) -> None:
        with self._lock:
            if not self._current(deployment):
                return
            endpoint = deployment.endpoint
            endpoint.pending_deployment_summary = None
            endpoint.endpoint_status = "InService"
            endpoint.last_modified_time = utcnow()
            self._publish(deployment)
        log.info("deployments: %s serves %s", endpoint.endpoint_name, deployment.green_config)

    def _publish(self, deployment: Deployment) -> None:
        """The deployment state change event, shaped as AWS's example of it."""
        endpoint = deployment.endpoint
        detail: dict[str, Any] = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "ProductionVariants": copy.deepcopy(endpoint.production_variants),
            "EndpointStatus": EVENT_STATUS.get(endpoint.endpoint_status, endpoint.endpoint_status),
            "CreationTime": _millis(endpoint.creation_time),
            "LastModifiedTime": _millis(endpoint.last_modified_time),
            "Tags": {t["Key"]: t["Value"] for t in endpoint.tags or []},
        }
        pending = getattr(endpoint, "pending_deployment_summary", None)
        if pending:
            detail["PendingDeploymentSummary"] = {
                **pending,
                "StartTime": _millis(pending["StartTime"]),
                "ProductionVariants": [
                    {
                        **v,
                        "VariantStatus": [
                            {**s, "StartTime": _millis(s["StartTime"])} for s in v["VariantStatus"]
                        ],
                    }
                    for v in pending["ProductionVariants"]
                ],
            }
        if endpoint.failure_reason:
            detail["FailureReason"] = endpoint.failure_reason
        self.ctx.publish_event("aws.sagemaker", STATE_CHANGE, detail, [endpoint.arn])

"""The SageMaker Pipelines definition of `byo pipeline run`'s pipeline, and its upsert.

The same steps and parameters as the local runner: process → [preprocess] → train → evaluate →
condition (test AUC >= AucThreshold) → register → approved (ModelApprovalStatus == Approved) →
deploy, else fail. Preprocessing is chosen when the definition is built (Target.preprocessing):
SageMaker fixes a pipeline's steps in its definition, so it is no execution parameter there. With
a preprocessor, register records a serial inference pipeline: the preprocessor's container, then
XGBoost's, both artifacts under the models prefix.
Processing steps run the operators image (ENTRYPOINT byo) as `byo pipeline step <name> …`; no
code is uploaded, the image holds it. The training job runs it too (`byo pipeline step train`,
the local runner's code). Every output goes to s3://<bucket>/pipelines/<name>/sagemaker/…,
never to the SDK's default bucket.

Building the definition makes no AWS call and needs no credentials (tested with every socket
blocked): the session has the bucket (so the SDK never looks up or creates its default bucket)
and placeholder credentials, every output location is explicit, Estimator.fit is called without
the SDK's telemetry decorator (which calls STS and GETs an S3 URL), and the instance metadata
service is off while the SDK's own sessions look for credentials. The `sagemaker` package is
imported only here and only when called: it takes seconds to import.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from operators import registry
from operators.config import Settings
from operators.errors import ByoError, ConfigError
from operators.layout import Layout
from operators.pipeline import params
from operators.pipeline.runner import PREPROCESSOR_ENV, pipeline_name

if TYPE_CHECKING:
    from sagemaker.workflow.pipeline import Pipeline

    from operators.aws import Clients

CSV = "text/csv"
INFERENCE_INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge"]
AUC_PATH = "binary_classification_metrics.auc.value"
PROCESSING = "/opt/ml/processing"
PROCESS_OUTPUTS = ("train", "validation", "test", "schema", "rejected")
SPLITS = ("train", "validation", "test")
PREPROCESSOR_FILE = "preprocess.tar.gz"
TAG_KEY = "byo:pipeline"
IMDS_DISABLED = "AWS_EC2_METADATA_DISABLED"
# Expected SDK messages: config lookups, v2 deprecation, "Popping out 'ProcessingJobName' …".
QUIET_LOGGERS = (
    "sagemaker.config",
    "sagemaker.deprecations",
    "sagemaker.workflow.utilities",
    "sagemaker.workflow._utils",
)


@dataclass(frozen=True)
class Target:
    """Where the pipeline runs; from the stack's outputs."""

    name: str  # pipeline name
    region: str
    bucket: str
    group: str  # model package group
    role_arn: str  # role the pipeline and its jobs run as
    serving_image: str  # inference image registered with the model
    operator_image: str  # the operators image (ENTRYPOINT byo)
    endpoint: str
    kms_key_arn: str | None = None
    subnets: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    models_prefix: str = "models/"  # the endpoint's role reads models only from here
    pipelines_prefix: str = "pipelines/"
    endpoint_role_arn: str | None = None  # the models the deploy step creates run as this
    preprocessing: str = "none"  # params.PREPROCESSING: "none", or a preprocess step

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        name: str | None,
        role_arn: str | None,
        default_region: str,
        preprocessing: str = "none",
    ) -> Target:
        """The stack's pipeline: its bucket layout, registry, images, endpoint, key and network;
        the role is --role-arn, else the stack's pipeline role, else the endpoint's."""
        operator_image = settings.get("operator_image")
        if not operator_image:
            raise ConfigError(
                "no operator image: set BYO_OPERATOR_IMAGE or apply the stack (output "
                "operator_image)"
            )
        settings = settings.with_options(pipeline_role_arn=role_arn)
        layout = Layout.from_settings(settings)
        group = settings.get("compute_security_group_id")
        return cls(
            name=pipeline_name(settings, name),
            region=settings.get("region") or default_region,
            bucket=layout.bucket,
            group=settings.require("model_package_group"),
            role_arn=settings.get("pipeline_role_arn")
            or settings.require("sagemaker_execution_role_arn", "--role-arn"),
            serving_image=settings.require("serving_image"),
            operator_image=operator_image,
            endpoint=settings.require("endpoint_name"),
            kms_key_arn=settings.get("kms_key_arn"),
            subnets=tuple(settings.get("private_subnet_ids") or ()),
            security_group_ids=(group,) if group else (),
            models_prefix=layout.models,
            pipelines_prefix=layout.pipelines,
            endpoint_role_arn=settings.get("sagemaker_execution_role_arn"),
            preprocessing=preprocessing,
        )

    @property
    def prefix(self) -> str:
        return f"s3://{self.bucket}/{self.pipelines_prefix}{self.name}"

    @property
    def input_data(self) -> str:
        """InputData's default, as the local runner resolves an empty InputData."""
        return f"{self.prefix}/input/"


@contextmanager
def _quiet_offline_sdk() -> Iterator[None]:
    """Use the SDK without its side effects. At import it logs its config lookup at INFO to
    stdout (`byo pipeline definition` prints only JSON) and sets the root logger to INFO
    (botocore's INFO messages would follow); it warns about v3 on every class; and it creates
    sessions of its own (at import, in Estimator) whose credential lookup, where there are no
    credentials, asks the EC2 instance metadata service: off while building."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    sdk = logging.getLogger("sagemaker")
    if not sdk.handlers:  # else the SDK adds its stdout handler; warnings still reach stderr
        sdk.addHandler(logging.NullHandler())
    sdk.setLevel(logging.WARNING)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    metadata = os.environ.get(IMDS_DISABLED)
    os.environ[IMDS_DISABLED] = "true"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # SageMakerV2DeprecationWarning
            warnings.filterwarnings("ignore", "Running within a PipelineSession", UserWarning)
            try:
                import sagemaker.workflow.pipeline  # noqa: F401
            except ImportError:
                raise ConfigError(
                    "the SageMaker Python SDK is not installed: pip install "
                    "'byo-platform[pipelines]' (make installs it)"
                ) from None

            root.handlers[:] = handlers
            root.setLevel(level)
            yield
    finally:
        if metadata is None:
            os.environ.pop(IMDS_DISABLED, None)
        else:
            os.environ[IMDS_DISABLED] = metadata
        root.handlers[:] = handlers
        root.setLevel(level)


@cache
def _offline_boto_session(region: str):
    """Placeholder credentials: building makes no call, and without any the SDK's clients would
    look for some. One per region: a new session reloads botocore's data files (~1 s)."""
    import boto3

    return boto3.Session(
        region_name=region, aws_access_key_id="offline", aws_secret_access_key="offline"
    )


def _session(target: Target, boto_session=None):
    from sagemaker.workflow.pipeline_context import PipelineSession

    # No sagemaker_config: a non-empty one is validated against the SDK's JSON schema on every
    # lookup (~0.5 s each, ~70 lookups); without one the SDK reads its config files if the user
    # has any (none by default).
    return PipelineSession(
        boto_session=boto_session or _offline_boto_session(target.region),
        default_bucket=target.bucket,
    )


def _options(options: dict[str, Any]) -> list[Any]:
    """`--name value` container arguments."""
    return [item for pair in options.items() for item in pair]


def _parameters() -> dict[str, Any]:
    from sagemaker.workflow.parameters import (
        ParameterFloat,
        ParameterInteger,
        ParameterString,
    )

    kinds = {str: ParameterString, float: ParameterFloat, int: ParameterInteger}
    return {
        p.name: kinds[p.kind](name=p.name, default_value=p.default)
        for p in params.PARAMETERS
        if not p.build_time
    }


def build(target: Target, boto_session=None) -> Pipeline:
    """The pipeline, built offline (no AWS call)."""
    if target.preprocessing not in params.PREPROCESSING:
        raise ConfigError(
            f"preprocessing {target.preprocessing!r} is not one of "
            + ", ".join(params.PREPROCESSING)
        )
    with _quiet_offline_sdk():
        return _build(target, _session(target, boto_session))


def _build(target: Target, session) -> Pipeline:
    from sagemaker.drift_check_baselines import DriftCheckBaselines
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.model import Model
    from sagemaker.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.network import NetworkConfig
    from sagemaker.pipeline import PipelineModel
    from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.conditions import ConditionEquals, ConditionGreaterThanOrEqualTo
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join, JsonGet
    from sagemaker.workflow.model_step import ModelStep
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.properties import PropertyFile
    from sagemaker.workflow.steps import ProcessingStep, TrainingStep

    # No step caching: SageMaker keys it on the input's S3 URI, not its content, so new data
    # under the same InputData prefix would get the old splits.
    p = _parameters()
    p["InputData"].default_value = target.input_data
    kms = target.kms_key_arn or None
    subnets = list(target.subnets) or None
    security_groups = list(target.security_group_ids) or None

    def location(step: str, *names: str) -> Join:
        """s3://<bucket>/pipelines/<name>/sagemaker/<execution id>/<step>/<names…>"""
        return Join(
            on="/",
            values=[
                f"{target.prefix}/sagemaker",
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                step,
                *names,
            ],
        )

    def processor(step: str, isolated: bool, env: dict[str, str] | None = None) -> Processor:
        # process and evaluate need no network (SageMaker moves their S3 data); deploy calls
        # the SageMaker API.
        return Processor(
            role=target.role_arn,
            image_uri=target.operator_image,
            entrypoint=["byo", "pipeline", "step", step],
            instance_count=1,
            instance_type=p["ProcessingInstanceType"],
            volume_kms_key=kms,
            output_kms_key=kms,
            env=env,
            network_config=NetworkConfig(
                enable_network_isolation=isolated,
                subnets=subnets,
                security_group_ids=security_groups,
                encrypt_inter_container_traffic=True,
            ),
            sagemaker_session=session,
        )

    # -- process ----------------------------------------------------------------------------
    process = ProcessingStep(
        name="process",
        description="Check the labelled CSV and split it into train/validation/test",
        step_args=processor("process", isolated=True).run(
            inputs=[
                ProcessingInput(
                    input_name="input",
                    source=p["InputData"],
                    destination=f"{PROCESSING}/input",
                )
            ],
            outputs=[
                ProcessingOutput(
                    output_name=name,
                    source=f"{PROCESSING}/output/{name}",
                    destination=location("process", name),
                )
                for name in PROCESS_OUTPUTS
            ],
            arguments=_options(
                {
                    "--input": f"{PROCESSING}/input",
                    "--output": f"{PROCESSING}/output",
                    "--target": p["TargetColumn"],
                    "--train-fraction": p["TrainFraction"].to_string(),
                    "--validation-fraction": p["ValidationFraction"].to_string(),
                    "--test-fraction": p["TestFraction"].to_string(),
                    "--seed": p["Seed"].to_string(),
                }
            ),
        ),
    )
    outputs = process.properties.ProcessingOutputConfig.Outputs
    splits = outputs  # what train trains on: process's splits, or preprocess's
    steps: list[Any] = [process]
    # Under the models prefix: the endpoint's execution role reads model artifacts only there.
    models = f"s3://{target.bucket}/{target.models_prefix}pipelines/{target.name}"

    # -- preprocess (optional) --------------------------------------------------------------
    preprocess = None
    if target.preprocessing != "none":
        preprocess = ProcessingStep(
            name="preprocess",
            description=f"Fit the preprocessor ({target.preprocessing}) on the train split and "
            "transform the splits",
            step_args=processor("preprocess", isolated=True).run(
                inputs=[
                    ProcessingInput(
                        input_name=name,
                        source=outputs[name].S3Output.S3Uri,
                        destination=f"{PROCESSING}/{name}",
                    )
                    for name in (*SPLITS, "schema")
                ],
                outputs=[
                    *(
                        ProcessingOutput(
                            output_name=name,
                            source=f"{PROCESSING}/output/{name}",
                            destination=location("preprocess", name),
                        )
                        for name in SPLITS
                    ),
                    ProcessingOutput(
                        output_name="preprocessor",
                        source=f"{PROCESSING}/output/preprocessor",
                        destination=Join(
                            on="/",
                            values=[
                                models,
                                ExecutionVariables.PIPELINE_EXECUTION_ID,
                                "preprocessor",
                            ],
                        ),
                    ),
                ],
                arguments=_options(
                    {
                        **{f"--{name}": f"{PROCESSING}/{name}" for name in (*SPLITS, "schema")},
                        "--output": f"{PROCESSING}/output",
                        "--preprocessing": target.preprocessing,
                    }
                ),
            ),
        )
        splits = preprocess.properties.ProcessingOutputConfig.Outputs
        steps.append(preprocess)

    # -- train ------------------------------------------------------------------------------
    # The operators image, running the local runner's own training code: SageMaker's built-in
    # XGBoost 1.7-1 writes the legacy binary model format, which XGBoost 3 (the evaluate step,
    # the serving image) cannot load (measured: "Failed to load model"); ours writes JSON that
    # both read.
    data = "/opt/ml/input/data"
    estimator = Estimator(
        image_uri=target.operator_image,
        container_entry_point=["byo", "pipeline", "step", "train"],
        container_arguments=_options(
            {
                "--train": f"{data}/train",
                "--validation": f"{data}/validation",
                "--schema": f"{data}/schema",
                "--hyperparameters": "/opt/ml/input/config/hyperparameters.json",
                "--model-dir": "/opt/ml/model",
            }
        ),
        role=target.role_arn,
        instance_count=1,
        instance_type=p["TrainingInstanceType"],
        output_path=models,
        output_kms_key=kms,
        volume_kms_key=kms,
        subnets=subnets,
        security_group_ids=security_groups,
        enable_network_isolation=True,  # training needs no network: SageMaker moves the data
        encrypt_inter_container_traffic=True,
        disable_profiler=True,  # the profiler and debugger hook would write outside our prefix
        debugger_hook_config=False,
        hyperparameters=params.hyperparameters(p),
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="train",
        description="XGBoost with early stopping on validation (byo pipeline step train)",
        # fit without its telemetry decorator, which would call STS and GET an S3 URL (with no
        # timeout) unless a sagemaker_config opts out, and such a config is slow (see _session).
        step_args=Estimator.fit.__wrapped__(
            estimator,
            inputs={
                "train": TrainingInput(s3_data=splits["train"].S3Output.S3Uri, content_type=CSV),
                "validation": TrainingInput(
                    s3_data=splits["validation"].S3Output.S3Uri, content_type=CSV
                ),
                "schema": TrainingInput(
                    s3_data=outputs["schema"].S3Output.S3Uri, content_type="application/json"
                ),
            },
        ),
    )
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts
    steps.append(train)

    # -- evaluate ---------------------------------------------------------------------------
    # The raw test and train splits; with a preprocessor, scored through it, as served.
    evaluate_inputs = [
        ProcessingInput(input_name="model", source=model_data, destination=f"{PROCESSING}/model"),
        *(
            ProcessingInput(
                input_name=name,
                source=outputs[name].S3Output.S3Uri,
                destination=f"{PROCESSING}/{name}",
            )
            for name in ("test", "train", "schema")
        ),
    ]
    evaluate_arguments = {
        "--model": f"{PROCESSING}/model",
        "--test": f"{PROCESSING}/test",
        "--train": f"{PROCESSING}/train",
        "--schema": f"{PROCESSING}/schema",
        "--output": f"{PROCESSING}/evaluation",
    }
    if preprocess is not None:
        preprocessor = splits["preprocessor"].S3Output.S3Uri
        evaluate_inputs.append(
            ProcessingInput(
                input_name="preprocessor",
                source=preprocessor,
                destination=f"{PROCESSING}/preprocessor",
            )
        )
        evaluate_arguments["--preprocessor"] = f"{PROCESSING}/preprocessor"
    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        name="evaluate",
        description="Test metrics and the drift-check baselines",
        step_args=processor("evaluate", isolated=True).run(
            inputs=evaluate_inputs,
            outputs=[
                ProcessingOutput(
                    output_name="evaluation",
                    source=f"{PROCESSING}/evaluation",
                    destination=location("evaluate", "evaluation"),
                )
            ],
            arguments=_options(evaluate_arguments),
        ),
        property_files=[evaluation],
    )
    steps.append(evaluate)
    evaluated = evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
    auc = JsonGet(step_name=evaluate.name, property_file=evaluation, json_path=AUC_PATH)

    def report(relative: str) -> MetricsSource:
        """A JSON file the evaluate step wrote, by its path under the step's output."""
        return MetricsSource(
            s3_uri=Join(on="/", values=[evaluated, relative]), content_type="application/json"
        )

    # -- register ---------------------------------------------------------------------------
    model: Model | PipelineModel = Model(
        image_uri=target.serving_image,
        model_data=model_data,
        role=target.role_arn,
        sagemaker_session=session,
    )
    if preprocess is not None:
        # A serial inference pipeline: the serving image serves the preprocessor too.
        first = Model(
            image_uri=target.serving_image,
            model_data=Join(on="/", values=[preprocessor, PREPROCESSOR_FILE]),
            env=dict(PREPROCESSOR_ENV),
            role=target.role_arn,
            sagemaker_session=session,
        )
        model = PipelineModel(
            models=[first, model], role=target.role_arn, sagemaker_session=session
        )
    register = ModelStep(
        name="register",
        description="A new version in the model package group, with its metrics and baselines",
        step_args=model.register(
            content_types=registry.CONTENT_TYPES,
            response_types=registry.RESPONSE_TYPES,
            inference_instances=INFERENCE_INSTANCE_TYPES,
            transform_instances=INFERENCE_INSTANCE_TYPES,
            model_package_group_name=target.group,
            approval_status=p["ModelApprovalStatus"],
            model_metrics=ModelMetrics(
                model_statistics=report("evaluation.json"),
                model_constraints=report("baselines/model-quality/constraints.json"),
                model_data_statistics=report("baselines/data-quality/statistics.json"),
                model_data_constraints=report("baselines/data-quality/constraints.json"),
                explainability=report("baselines/attribution/analysis.json"),
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_statistics=report("baselines/model-quality/statistics.json"),
                model_constraints=report("baselines/model-quality/constraints.json"),
                model_data_statistics=report("baselines/data-quality/statistics.json"),
                model_data_constraints=report("baselines/data-quality/constraints.json"),
                explainability_constraints=report("baselines/attribution/constraints.json"),
            ),
            customer_metadata_properties={
                "pipeline": target.name,
                "pipeline_execution": ExecutionVariables.PIPELINE_EXECUTION_ARN,
                "auc": auc.to_string(),
            },
            description=f"Trained by the {target.name} pipeline",
        ),
    )

    # -- deploy -----------------------------------------------------------------------------
    deploy = ProcessingStep(
        name="deploy",
        description="Serve the approved version as DeployVariant with DeployWeight",
        step_args=processor(
            "deploy",
            isolated=False,
            env={
                "BYO_MODEL_PACKAGE_GROUP": target.group,
                "BYO_DATA_BUCKET": target.bucket,
                "BYO_SAGEMAKER_EXECUTION_ROLE_ARN": target.endpoint_role_arn or target.role_arn,
                "BYO_ENDPOINT_NAME": target.endpoint,
                "AWS_DEFAULT_REGION": target.region,
            },
        ).run(
            arguments=_options(
                {
                    "--model-package-arn": register.properties.ModelPackageArn,
                    "--variant": p["DeployVariant"],
                    "--weight": p["DeployWeight"],
                    "--endpoint": target.endpoint,
                }
            )
        ),
    )
    approved = ConditionStep(
        name="approved",
        description="Deploy only an Approved version",
        conditions=[ConditionEquals(left=p["ModelApprovalStatus"], right="Approved")],
        if_steps=[deploy],
        else_steps=[],
        depends_on=[register],
    )

    # -- condition / fail -------------------------------------------------------------------
    fail = FailStep(
        name="fail",
        error_message=Join(
            on=" ",
            values=[
                "Test AUC",
                auc,
                "is below AucThreshold",
                p["AucThreshold"],
                "- nothing is registered.",
            ],
        ),
    )
    condition = ConditionStep(
        name="condition",
        description="Register only if the test AUC >= AucThreshold",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=p["AucThreshold"])],
        if_steps=[register, approved],
        else_steps=[fail],
    )

    return Pipeline(
        name=target.name,
        parameters=list(p.values()),
        steps=[*steps, condition],
        # No SageMaker Experiments trial per execution: the run's record is the pipeline's own.
        pipeline_experiment_config=None,
        sagemaker_session=session,
    )


def definition(target: Target, boto_session=None) -> dict[str, Any]:
    """The pipeline definition as SageMaker takes it (built offline)."""
    return json.loads(build(target, boto_session).definition())


def step_names(document: dict[str, Any]) -> list[str]:
    """Every step's name, those inside conditions too, in definition order."""
    names = []

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            names.append(step["Name"])
            if step["Type"] == "Condition":
                walk(step["Arguments"].get("IfSteps", []))
                walk(step["Arguments"].get("ElseSteps", []))

    walk(document["Steps"])
    return names


def _error(exc: ClientError, action: str) -> ByoError:
    error = exc.response.get("Error", {})
    return ByoError(f"{action}: {error.get('Code')}: {error.get('Message')}")


def _exists(sagemaker, name: str) -> bool:
    try:
        sagemaker.describe_pipeline(PipelineName=name)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        # AWS says ResourceNotFound; moto a ValidationException "Could not find pipeline …".
        if (
            error.get("Code") == "ResourceNotFound"
            or "could not find" in str(error.get("Message", "")).lower()
        ):
            return False
        raise _error(exc, f"describe pipeline {name}") from None
    return True


def upsert(clients: Clients, target: Target, description: str | None = None) -> dict[str, Any]:
    """Create the pipeline in SageMaker, or update it to this definition; tagged
    byo:pipeline=<name>."""
    body = build(target).definition()
    document = json.loads(body)
    sagemaker = clients.client("sagemaker")
    request = {
        "PipelineName": target.name,
        "PipelineDefinition": body,
        "PipelineDescription": description
        or f"BYO pipeline {target.name}: process, "
        + ("" if target.preprocessing == "none" else "preprocess, ")
        + "train, evaluate, register, deploy",
        "RoleArn": target.role_arn,
    }
    tag = {"Key": TAG_KEY, "Value": target.name}
    created = not _exists(sagemaker, target.name)
    action = f"{'create' if created else 'update'} pipeline {target.name}"
    try:
        if created:
            arn = sagemaker.create_pipeline(**request, Tags=[tag])["PipelineArn"]
        else:
            arn = sagemaker.update_pipeline(**request)["PipelineArn"]
            # Only when missing: AddTags replaces a tag on AWS but appends a copy on moto.
            if tag not in sagemaker.list_tags(ResourceArn=arn).get("Tags", []):
                sagemaker.add_tags(ResourceArn=arn, Tags=[tag])
    except ClientError as exc:
        raise _error(exc, action) from None
    return {
        "arn": arn,
        "created": created,
        "steps": step_names(document),
        "parameters": [p["Name"] for p in document["Parameters"]],
    }

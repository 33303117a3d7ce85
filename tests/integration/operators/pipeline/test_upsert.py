"""`upsert` against the embedded emulator: the pipeline is created, then updated in place.

What moto 5.2.5 does with SageMaker pipelines: it stores them (create, describe, update, tags)
but does not execute them. StartPipelineExecution records an execution whose status is already
Succeeded, with the parameters it was given, and runs no step: no processing or training job, no
model package. ListPipelineExecutionSteps is not implemented (HTTP 500). The definition is stored
as given, unchecked, and UpdatePipeline leaves LastModifiedTime as it was. So the emulator proves
the calls and the stored definition, never that SageMaker would accept or run it; `byo pipeline
run` is what runs the pipeline locally.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from operators.aws import Clients
from operators.pipeline import params
from operators.pipeline.definition import TAG_KEY, Target, definition, upsert

pytestmark = pytest.mark.integration


@pytest.fixture
def target(emulator) -> Target:
    suffix = uuid.uuid4().hex[:8]
    return Target(
        name=f"byo-train-{suffix}",
        region="us-east-1",
        bucket=f"byo-data-{suffix}",
        group=f"byo-models-{suffix}",
        role_arn="arn:aws:iam::123456789012:role/byo-sagemaker",
        serving_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-serving:1",
        operator_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-operators:1",
        endpoint=f"byo-endpoint-{suffix}",
    )


def test_upsert_creates_then_updates_the_pipeline(emulator, target):
    sagemaker = emulator.client("sagemaker")
    names = [p.name for p in params.PARAMETERS if not p.build_time]

    created = upsert(Clients(), target, description="first")
    assert created["created"] is True
    assert created["arn"].endswith(f":pipeline/{target.name}")
    assert created["parameters"] == names
    assert created["steps"][:4] == ["process", "train", "evaluate", "condition"]
    stored = sagemaker.describe_pipeline(PipelineName=target.name)
    assert stored["PipelineArn"] == created["arn"]
    assert stored["RoleArn"] == target.role_arn
    assert stored["PipelineDescription"] == "first"
    document = json.loads(stored["PipelineDefinition"])
    assert document == definition(target)
    assert [p["Name"] for p in document["Parameters"]] == names

    moved = replace(target, endpoint="another-endpoint")
    updated = upsert(Clients(), moved)
    assert updated["created"] is False
    assert updated["arn"] == created["arn"]
    stored = sagemaker.describe_pipeline(PipelineName=target.name)
    document = json.loads(stored["PipelineDefinition"])
    assert document == definition(moved)
    assert "another-endpoint" in stored["PipelineDefinition"]
    assert stored["PipelineDescription"].startswith(f"BYO pipeline {target.name}")
    # Tagged once, not once per upsert.
    tags = sagemaker.list_tags(ResourceArn=created["arn"])["Tags"]
    assert tags == [{"Key": TAG_KEY, "Value": target.name}]

    # With a preprocessor: the same pipeline, updated to the definition with its step.
    preprocessed = replace(target, preprocessing="standard-scaler")
    updated = upsert(Clients(), preprocessed)
    assert updated["steps"][:5] == ["process", "preprocess", "train", "evaluate", "condition"]
    assert updated["parameters"] == names
    stored = sagemaker.describe_pipeline(PipelineName=target.name)
    assert json.loads(stored["PipelineDefinition"]) == definition(preprocessed)
    assert stored["PipelineDescription"] == (
        f"BYO pipeline {target.name}: process, preprocess, train, evaluate, register, deploy"
    )


def test_the_emulator_records_an_execution_but_runs_no_step(emulator, target):
    upsert(Clients(), target)
    sagemaker = emulator.client("sagemaker")
    jobs_before = (
        len(sagemaker.list_processing_jobs()["ProcessingJobSummaries"]),
        len(sagemaker.list_training_jobs()["TrainingJobSummaries"]),
    )
    arn = sagemaker.start_pipeline_execution(
        PipelineName=target.name,
        PipelineParameters=[{"Name": "AucThreshold", "Value": "0.5"}],
    )["PipelineExecutionArn"]

    execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert execution["PipelineExecutionStatus"] == "Succeeded"  # at once, having run nothing
    assert sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
        "PipelineParameters"
    ] == [{"Name": "AucThreshold", "Value": "0.5"}]
    jobs_after = (
        len(sagemaker.list_processing_jobs()["ProcessingJobSummaries"]),
        len(sagemaker.list_training_jobs()["TrainingJobSummaries"]),
    )
    assert jobs_after == jobs_before
    packages = sagemaker.list_model_packages(ModelPackageGroupName=target.group)
    assert packages["ModelPackageSummaryList"] == []

    once = emulator.client("sagemaker", config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as raised:
        once.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_teardown_deletes_the_stacks_pipelines_and_only_those(emulator, target, tmp_path):
    from operators import teardown
    from operators.config import Settings

    stack = target.name.removeprefix("byo-train-")
    ours = replace(target, name=f"{stack}-pipeline")
    upsert(Clients(), ours)
    upsert(Clients(), replace(target, name=f"{stack}-other"))  # ours too: tagged, same prefix
    sagemaker = emulator.client("sagemaker")
    sagemaker.create_pipeline(  # not made by byo: no tag
        PipelineName=f"{stack}-theirs",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=target.role_arn,
    )
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"name": {"value": stack}}))
    todo = teardown.plan(Clients(), Settings(outputs_file=outputs, dotenv=None), False)
    assert sorted(todo.pipelines) == [f"{stack}-other", f"{stack}-pipeline"]
    todo.stack = False  # not terraform destroy here
    teardown.execute(Clients(), Settings(outputs_file=outputs, dotenv=None), todo, False)
    left = sagemaker.list_pipelines(PipelineNamePrefix=stack)["PipelineSummaries"]
    assert [p["PipelineName"] for p in left] == [f"{stack}-theirs"]

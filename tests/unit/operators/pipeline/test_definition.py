"""The SageMaker Pipelines definition, read as SageMaker reads it (the JSON), built offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, replace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from operators import registry
from operators.errors import ByoError, ConfigError
from operators.pipeline import definition as pipeline_definition
from operators.pipeline import params
from operators.pipeline.definition import AUC_PATH, Target, step_names, upsert
from tests.helpers.paths import REPO
from tests.helpers.processes import free_port

TARGET = Target(
    name="byo-train",
    region="us-east-1",
    bucket="byo-data",
    group="byo-models",
    role_arn="arn:aws:iam::123456789012:role/byo-sagemaker",
    serving_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-serving:1",
    operator_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-operators:1",
    endpoint="byo-endpoint",
)
SECURED = replace(
    TARGET,
    kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k-1",
    subnets=("subnet-a", "subnet-b"),
    security_group_ids=("sg-jobs",),
)
PREPROCESSED = replace(TARGET, preprocessing="standard-scaler")
PREFIX = "s3://byo-data/pipelines/byo-train/sagemaker"
EVALUATION_URI = "{Steps.evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri}"


# Blocks every connection and name lookup, builds the definitions as `byo pipeline definition`
# would, prints them as JSON, and exits 3 if anything tried the network.
OFFLINE_SCRIPT = """
import json, logging, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network is blocked in this test")
socket.socket.connect = refuse
socket.getaddrinfo = refuse
from operators.pipeline.definition import Target, definition
assert "sagemaker" not in sys.modules, "importing the module must not import the SDK"
print(json.dumps([definition(Target(**fields)) for fields in json.loads(sys.argv[1])]))
root = logging.getLogger()
assert root.handlers == [] and root.level == logging.WARNING, (root.handlers, root.level)
if attempts:
    sys.stderr.write("network attempts: " + ", ".join(attempts))
    sys.exit(3)
"""


@pytest.fixture(scope="module")
def offline() -> subprocess.CompletedProcess:
    """TARGET's, SECURED's and PREPROCESSED's definitions, built once in a fresh interpreter
    (only there does importing the SDK show its side effects) with no credentials,
    AWS_ENDPOINT_URL at a closed port and every socket blocked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            OFFLINE_SCRIPT,
            json.dumps([asdict(TARGET), asdict(SECURED), asdict(PREPROCESSED)]),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def document(offline) -> dict[str, Any]:
    assert offline.returncode == 0, offline.stderr
    return json.loads(offline.stdout)[0]


@pytest.fixture(scope="module")
def secured(offline) -> dict[str, Any]:
    assert offline.returncode == 0, offline.stderr
    return json.loads(offline.stdout)[1]


@pytest.fixture(scope="module")
def preprocessed(offline) -> dict[str, Any]:
    assert offline.returncode == 0, offline.stderr
    return json.loads(offline.stdout)[2]


def test_definition_needs_no_network_nor_credentials_and_prints_only_json(offline):
    assert offline.returncode == 0, offline.stderr
    assert offline.stderr == ""  # nor any warning
    assert [d["Version"] for d in json.loads(offline.stdout)] == ["2020-12-01"] * 3


def steps_by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}

    def walk(steps):
        for step in steps:
            found[step["Name"]] = step
            walk(step["Arguments"].get("IfSteps", []))
            walk(step["Arguments"].get("ElseSteps", []))

    walk(document["Steps"])
    return found


def render(value: Any) -> Any:
    """Pipeline expressions as text: {"Get": "X"} → "{X}", Std:Join → the joined text."""
    if isinstance(value, dict) and set(value) == {"Get"}:
        return "{" + value["Get"] + "}"
    if isinstance(value, dict) and set(value) == {"Std:Join"}:
        join = value["Std:Join"]
        return join["On"].join(str(render(v)) for v in join["Values"])
    if isinstance(value, dict) and set(value) == {"Std:JsonGet"}:
        get = value["Std:JsonGet"]
        return "{" + render(get["PropertyFile"]).strip("{}") + ":" + get["Path"] + "}"
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v) for v in value]
    return value


def test_steps_have_the_local_pipelines_names_and_sagemaker_types(document):
    steps = steps_by_name(document)
    assert step_names(document) == [
        "process",
        "train",
        "evaluate",
        "condition",
        "register-RegisterModel",
        "approved",
        "deploy",
        "fail",
    ]
    assert {name: step["Type"] for name, step in steps.items()} == {
        "process": "Processing",
        "train": "Training",
        "evaluate": "Processing",
        "condition": "Condition",
        "register-RegisterModel": "RegisterModel",
        "approved": "Condition",
        "deploy": "Processing",
        "fail": "Fail",
    }
    assert [s["Name"] for s in document["Steps"]] == ["process", "train", "evaluate", "condition"]
    condition = steps["condition"]["Arguments"]
    assert [s["Name"] for s in condition["IfSteps"]] == ["register-RegisterModel", "approved"]
    assert [s["Name"] for s in condition["ElseSteps"]] == ["fail"]
    assert [s["Name"] for s in steps["approved"]["Arguments"]["IfSteps"]] == ["deploy"]
    assert steps["approved"]["Arguments"]["ElseSteps"] == []
    assert steps["approved"]["DependsOn"] == ["register-RegisterModel"]


def test_parameters_are_the_local_ones_with_their_types_and_defaults(document, preprocessed):
    """Except Preprocessing: it chooses the steps, which SageMaker fixes in the definition."""
    kinds = {str: "String", float: "Float", int: "Integer"}
    expected = [
        {
            "Name": p.name,
            "Type": kinds[p.kind],
            # InputData's empty default means the stack's input prefix, locally too.
            "DefaultValue": TARGET.input_data if p.name == "InputData" else p.default,
        }
        for p in params.PARAMETERS
        if p.name != "Preprocessing"
    ]
    assert document["Parameters"] == expected
    assert preprocessed["Parameters"] == expected
    assert [p.name for p in params.PARAMETERS if p.build_time] == ["Preprocessing"]
    assert TARGET.input_data == "s3://byo-data/pipelines/byo-train/input/"


def test_condition_compares_the_test_auc_with_the_threshold(document):
    steps = steps_by_name(document)
    assert steps["evaluate"]["PropertyFiles"] == [
        {
            "PropertyFileName": "Evaluation",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]
    [condition] = steps["condition"]["Arguments"]["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert condition["LeftValue"] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.Evaluation"},
            "Path": AUC_PATH,
        }
    }
    assert AUC_PATH == "binary_classification_metrics.auc.value"
    assert condition["RightValue"] == {"Get": "Parameters.AucThreshold"}
    [approval] = steps["approved"]["Arguments"]["Conditions"]
    assert approval == {
        "Type": "Equals",
        "LeftValue": {"Get": "Parameters.ModelApprovalStatus"},
        "RightValue": "Approved",
    }
    message = render(steps["fail"]["Arguments"]["ErrorMessage"])
    assert message == (
        f"Test AUC {{Steps.evaluate.PropertyFiles.Evaluation:{AUC_PATH}}} is below AucThreshold "
        "{Parameters.AucThreshold} - nothing is registered."
    )


def test_training_runs_the_local_training_code_with_the_pipelines_hyperparameters(document):
    """The operators image, `byo pipeline step train` (SageMaker's built-in XGBoost 1.7-1
    writes a model format XGBoost 3 cannot load)."""
    train = steps_by_name(document)["train"]["Arguments"]
    algorithm = train["AlgorithmSpecification"]
    assert algorithm["TrainingImage"] == TARGET.operator_image
    assert algorithm["ContainerEntrypoint"] == ["byo", "pipeline", "step", "train"]
    assert algorithm["ContainerArguments"] == [
        "--train",
        "/opt/ml/input/data/train",
        "--validation",
        "/opt/ml/input/data/validation",
        "--schema",
        "/opt/ml/input/data/schema",
        "--hyperparameters",
        "/opt/ml/input/config/hyperparameters.json",
        "--model-dir",
        "/opt/ml/model",
    ]
    channels = {c["ChannelName"]: c for c in train["InputDataConfig"]}
    assert set(channels) == {"train", "validation", "schema"}
    for name, channel in channels.items():
        assert channel["ContentType"] == ("application/json" if name == "schema" else "text/csv")
        assert render(channel["DataSource"]["S3DataSource"]["S3Uri"]) == (
            f"{{Steps.process.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri}}"
        )
    # Each hyperparameter names the pipeline parameter it comes from, or is fixed.
    sources = params.hyperparameters({p.name: p.name for p in params.PARAMETERS})
    expected = {
        key: f"{{Parameters.{source}}}" if source in params.BY_NAME else source
        for key, source in sources.items()
    }
    assert render(train["HyperParameters"]) == expected
    assert {"num_round", "early_stopping_rounds", "seed"} <= set(expected)
    assert render(train["ResourceConfig"]["InstanceType"]) == "{Parameters.TrainingInstanceType}"
    assert train["ResourceConfig"]["InstanceCount"] == 1
    # the endpoint's role reads models only under models/
    assert train["OutputDataConfig"]["S3OutputPath"] == "s3://byo-data/models/pipelines/byo-train"
    assert train["EnableNetworkIsolation"] is True
    assert train["EnableInterContainerTrafficEncryption"] is True
    assert train["ProfilerConfig"] == {"DisableProfiler": True}
    assert "DebugHookConfig" not in train


def test_processing_steps_run_the_operator_image_as_byo_pipeline_step(document):
    steps = steps_by_name(document)
    expected_arguments = {
        "process": [
            "--input", "/opt/ml/processing/input",
            "--output", "/opt/ml/processing/output",
            "--target", "{Parameters.TargetColumn}",
            "--train-fraction", "{Parameters.TrainFraction}",
            "--validation-fraction", "{Parameters.ValidationFraction}",
            "--test-fraction", "{Parameters.TestFraction}",
            "--seed", "{Parameters.Seed}",
        ],
        "evaluate": [
            "--model", "/opt/ml/processing/model",
            "--test", "/opt/ml/processing/test",
            "--train", "/opt/ml/processing/train",
            "--schema", "/opt/ml/processing/schema",
            "--output", "/opt/ml/processing/evaluation",
        ],
        "deploy": [
            "--model-package-arn", "{Steps.register-RegisterModel.ModelPackageArn}",
            "--variant", "{Parameters.DeployVariant}",
            "--weight", "{Parameters.DeployWeight}",
            "--endpoint", "byo-endpoint",
        ],
    }  # fmt: skip
    for name, arguments in expected_arguments.items():
        job = steps[name]["Arguments"]
        app = job["AppSpecification"]
        assert app["ImageUri"] == TARGET.operator_image
        assert app["ContainerEntrypoint"] == ["byo", "pipeline", "step", name]
        assert render(app["ContainerArguments"]) == arguments
        cluster = job["ProcessingResources"]["ClusterConfig"]
        assert render(cluster["InstanceType"]) == "{Parameters.ProcessingInstanceType}"
        assert cluster["InstanceCount"] == 1
        assert job["RoleArn"] == TARGET.role_arn

    process = steps["process"]["Arguments"]
    [data] = process["ProcessingInputs"]
    assert render(data["S3Input"]["S3Uri"]) == "{Parameters.InputData}"
    assert data["S3Input"]["LocalPath"] == "/opt/ml/processing/input"
    outputs = {
        o["OutputName"]: (o["S3Output"]["LocalPath"], render(o["S3Output"]["S3Uri"]))
        for o in process["ProcessingOutputConfig"]["Outputs"]
    }
    assert outputs == {
        name: (
            f"/opt/ml/processing/output/{name}",
            f"{PREFIX}/{{Execution.PipelineExecutionId}}/process/{name}",
        )
        for name in ("train", "validation", "test", "schema", "rejected")
    }

    evaluate = steps["evaluate"]["Arguments"]
    inputs = {
        i["InputName"]: (i["S3Input"]["LocalPath"], render(i["S3Input"]["S3Uri"]))
        for i in evaluate["ProcessingInputs"]
    }
    split = "{{Steps.process.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri}}"
    assert inputs == {
        "model": ("/opt/ml/processing/model", "{Steps.train.ModelArtifacts.S3ModelArtifacts}"),
        "test": ("/opt/ml/processing/test", split.format("test")),
        "train": ("/opt/ml/processing/train", split.format("train")),
        "schema": ("/opt/ml/processing/schema", split.format("schema")),
    }
    [evaluation] = evaluate["ProcessingOutputConfig"]["Outputs"]
    assert evaluation["OutputName"] == "evaluation"
    assert evaluation["S3Output"]["LocalPath"] == "/opt/ml/processing/evaluation"
    assert render(evaluation["S3Output"]["S3Uri"]) == (
        f"{PREFIX}/{{Execution.PipelineExecutionId}}/evaluate/evaluation"
    )

    deploy = steps["deploy"]["Arguments"]
    assert deploy["Environment"] == {
        "BYO_MODEL_PACKAGE_GROUP": "byo-models",
        "BYO_DATA_BUCKET": "byo-data",
        "BYO_SAGEMAKER_EXECUTION_ROLE_ARN": TARGET.role_arn,
        "BYO_ENDPOINT_NAME": "byo-endpoint",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert "ProcessingInputs" not in deploy
    assert "ProcessingOutputConfig" not in deploy
    # Jobs that only read and write S3 through SageMaker are cut off the network.
    for name, isolated in (("process", True), ("evaluate", True), ("deploy", False)):
        assert steps[name]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is isolated
    # SageMaker's step cache keys on the InputData URI, not on the data under it.
    assert not [name for name, step in steps.items() if "CacheConfig" in step]


def test_register_records_the_model_with_the_evaluate_steps_metrics_and_baselines(document):
    register = steps_by_name(document)["register-RegisterModel"]["Arguments"]
    assert register["ModelPackageGroupName"] == "byo-models"
    assert render(register["ModelApprovalStatus"]) == "{Parameters.ModelApprovalStatus}"
    spec = register["InferenceSpecification"]
    [container] = spec["Containers"]
    assert container["Image"] == TARGET.serving_image
    assert render(container["ModelDataUrl"]) == "{Steps.train.ModelArtifacts.S3ModelArtifacts}"
    assert spec["SupportedContentTypes"] == registry.CONTENT_TYPES
    assert spec["SupportedResponseMIMETypes"] == registry.RESPONSE_TYPES
    assert spec["SupportedRealtimeInferenceInstanceTypes"] == ["ml.m5.large", "ml.m5.xlarge"]

    def uris(section: dict[str, Any]) -> dict[str, str]:
        return {
            f"{group}.{kind}": render(source["S3Uri"])
            for group, files in section.items()
            for kind, source in files.items()
        }

    assert uris(register["ModelMetrics"]) == {
        "ModelQuality.Statistics": f"{EVALUATION_URI}/evaluation.json",
        "ModelQuality.Constraints": f"{EVALUATION_URI}/baselines/model-quality/constraints.json",
        "ModelDataQuality.Statistics": f"{EVALUATION_URI}/baselines/data-quality/statistics.json",
        "ModelDataQuality.Constraints": f"{EVALUATION_URI}/baselines/data-quality/constraints.json",
        "Explainability.Report": f"{EVALUATION_URI}/baselines/attribution/analysis.json",
    }
    assert uris(register["DriftCheckBaselines"]) == {
        "ModelQuality.Statistics": f"{EVALUATION_URI}/baselines/model-quality/statistics.json",
        "ModelQuality.Constraints": f"{EVALUATION_URI}/baselines/model-quality/constraints.json",
        "ModelDataQuality.Statistics": f"{EVALUATION_URI}/baselines/data-quality/statistics.json",
        "ModelDataQuality.Constraints": f"{EVALUATION_URI}/baselines/data-quality/constraints.json",
        "Explainability.Constraints": f"{EVALUATION_URI}/baselines/attribution/constraints.json",
    }
    assert render(register["CustomerMetadataProperties"]) == {
        "pipeline": "byo-train",
        "pipeline_execution": "{Execution.PipelineExecutionArn}",
        "auc": f"{{Steps.evaluate.PropertyFiles.Evaluation:{AUC_PATH}}}",
    }


def test_no_vpc_and_no_kms_key_unless_given(document):
    steps = steps_by_name(document)
    for name in ("process", "evaluate", "deploy"):
        job = steps[name]["Arguments"]
        assert "VpcConfig" not in job["NetworkConfig"]
        assert job["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
        assert "VolumeKmsKeyId" not in job["ProcessingResources"]["ClusterConfig"]
        assert "KmsKeyId" not in job.get("ProcessingOutputConfig", {})
    train = steps["train"]["Arguments"]
    assert "VpcConfig" not in train
    assert "KmsKeyId" not in train["OutputDataConfig"]
    assert "VolumeKmsKeyId" not in train["ResourceConfig"]


def test_subnets_security_groups_and_kms_key_apply_to_every_job(secured):
    steps = steps_by_name(secured)
    kms = SECURED.kms_key_arn
    vpc = {"Subnets": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-jobs"]}
    for name in ("process", "evaluate", "deploy"):
        job = steps[name]["Arguments"]
        assert job["NetworkConfig"]["VpcConfig"] == vpc
        assert job["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
        assert job["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == kms
    for name in ("process", "evaluate"):
        assert steps[name]["Arguments"]["ProcessingOutputConfig"]["KmsKeyId"] == kms
    train = steps["train"]["Arguments"]
    assert train["VpcConfig"] == vpc
    assert train["OutputDataConfig"]["KmsKeyId"] == kms
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == kms
    assert train["EnableNetworkIsolation"] is True


def test_with_preprocessing_a_preprocess_job_feeds_training_and_evaluation(preprocessed):
    steps = steps_by_name(preprocessed)
    assert step_names(preprocessed) == [
        "process",
        "preprocess",
        "train",
        "evaluate",
        "condition",
        "register-RegisterModel",
        "approved",
        "deploy",
        "fail",
    ]
    assert [s["Name"] for s in preprocessed["Steps"]] == [
        "process",
        "preprocess",
        "train",
        "evaluate",
        "condition",
    ]
    split = "{{Steps.{}.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri}}"
    job = steps["preprocess"]["Arguments"]
    app = job["AppSpecification"]
    assert app["ImageUri"] == TARGET.operator_image
    assert app["ContainerEntrypoint"] == ["byo", "pipeline", "step", "preprocess"]
    assert render(app["ContainerArguments"]) == [
        "--train", "/opt/ml/processing/train",
        "--validation", "/opt/ml/processing/validation",
        "--test", "/opt/ml/processing/test",
        "--schema", "/opt/ml/processing/schema",
        "--output", "/opt/ml/processing/output",
        "--preprocessing", "standard-scaler",
    ]  # fmt: skip
    assert {
        i["InputName"]: (i["S3Input"]["LocalPath"], render(i["S3Input"]["S3Uri"]))
        for i in job["ProcessingInputs"]
    } == {
        name: (f"/opt/ml/processing/{name}", split.format("process", name))
        for name in ("train", "validation", "test", "schema")
    }
    execution = "{Execution.PipelineExecutionId}"
    assert {
        o["OutputName"]: (o["S3Output"]["LocalPath"], render(o["S3Output"]["S3Uri"]))
        for o in job["ProcessingOutputConfig"]["Outputs"]
    } == {
        **{
            name: (f"/opt/ml/processing/output/{name}", f"{PREFIX}/{execution}/preprocess/{name}")
            for name in ("train", "validation", "test")
        },
        # a model artifact: under the models prefix, which the endpoint's role reads
        "preprocessor": (
            "/opt/ml/processing/output/preprocessor",
            f"s3://byo-data/models/pipelines/byo-train/{execution}/preprocessor",
        ),
    }
    assert job["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert render(job["ProcessingResources"]["ClusterConfig"]["InstanceType"]) == (
        "{Parameters.ProcessingInstanceType}"
    )

    # train trains on the transformed splits; evaluate scores the raw ones through both stages.
    channels = {
        c["ChannelName"]: render(c["DataSource"]["S3DataSource"]["S3Uri"])
        for c in steps["train"]["Arguments"]["InputDataConfig"]
    }
    assert channels == {
        "train": split.format("preprocess", "train"),
        "validation": split.format("preprocess", "validation"),
        "schema": split.format("process", "schema"),
    }
    evaluate = steps["evaluate"]["Arguments"]
    assert {
        i["InputName"]: (i["S3Input"]["LocalPath"], render(i["S3Input"]["S3Uri"]))
        for i in evaluate["ProcessingInputs"]
    } == {
        "model": ("/opt/ml/processing/model", "{Steps.train.ModelArtifacts.S3ModelArtifacts}"),
        "test": ("/opt/ml/processing/test", split.format("process", "test")),
        "train": ("/opt/ml/processing/train", split.format("process", "train")),
        "schema": ("/opt/ml/processing/schema", split.format("process", "schema")),
        "preprocessor": (
            "/opt/ml/processing/preprocessor",
            split.format("preprocess", "preprocessor"),
        ),
    }
    arguments = render(evaluate["AppSpecification"]["ContainerArguments"])
    assert arguments[-2:] == ["--preprocessor", "/opt/ml/processing/preprocessor"]


def test_with_preprocessing_register_records_a_serial_pipeline_of_two_containers(
    preprocessed, document
):
    steps = steps_by_name(preprocessed)
    register = steps["register-RegisterModel"]["Arguments"]
    first, second = register["InferenceSpecification"]["Containers"]
    assert first["Image"] == second["Image"] == TARGET.serving_image
    split = "{{Steps.preprocess.ProcessingOutputConfig.Outputs['{}'].S3Output.S3Uri}}"
    assert render(first["ModelDataUrl"]) == split.format("preprocessor") + "/preprocess.tar.gz"
    assert first["Environment"] == {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}
    assert render(second["ModelDataUrl"]) == "{Steps.train.ModelArtifacts.S3ModelArtifacts}"
    assert not second.get("Environment")
    # Everything else as without preprocessing: metrics, baselines, approval, the deploy step.
    single = steps_by_name(document)
    alone = single["register-RegisterModel"]["Arguments"]

    def besides_containers(arguments: dict[str, Any]) -> dict[str, Any]:
        specification = {**arguments["InferenceSpecification"], "Containers": None}
        return {**arguments, "InferenceSpecification": specification}

    assert besides_containers(register) == besides_containers(alone)
    for name in ("approved", "deploy", "fail"):
        assert steps[name] == single[name], name
    conditions = [d["condition"]["Arguments"]["Conditions"] for d in (steps, single)]
    assert conditions[0] == conditions[1]


def test_an_unknown_preprocessing_is_refused_before_the_sdk_is_loaded():
    with pytest.raises(ConfigError, match="preprocessing 'minmax' is not one of none, standard"):
        pipeline_definition.build(replace(TARGET, preprocessing="minmax"))


class FailingSageMaker:
    def describe_pipeline(self, PipelineName):
        raise ClientError(
            {"Error": {"Code": "ResourceNotFound", "Message": "no such pipeline"}},
            "DescribePipeline",
        )

    def create_pipeline(self, **request):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
            "CreatePipeline",
        )


class FakeClients:
    def client(self, service):
        assert service == "sagemaker"
        return FailingSageMaker()


def test_upsert_reports_aws_errors_as_byo_errors_with_code_and_message(document, monkeypatch):
    class Built:  # the SDK's Pipeline, as far as upsert uses it
        def definition(self) -> str:
            return json.dumps(document)

    monkeypatch.setattr(pipeline_definition, "build", lambda target: Built())
    with pytest.raises(ByoError, match="create pipeline byo-train: AccessDeniedException: not"):
        upsert(FakeClients(), TARGET)

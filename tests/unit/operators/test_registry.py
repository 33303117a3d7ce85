"""The registry's checks without AWS: artifacts of any framework, serial pipelines that chain,
evaluation files of every Model Monitor problem type, the CLI's --artifact/--image/--env; and
the containers deploy gives a SageMaker model."""

from __future__ import annotations

import json
import pickle
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from operators import registry
from operators.cli import cli
from operators.deploy import model_containers
from operators.errors import ConfigError
from operators.s3 import sha256_of
from serving.artifact import sagemaker_model_json, write_tarball
from serving.codecs import CONTENT_TYPES
from serving.inference import ACCEPTS

FEATURES = 30


def rows(features: int = FEATURES) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(80, features))
    return x, (x[:, 0] > 0).astype(int)


def xgboost_artifact(path: Path, features: int = FEATURES) -> Path:
    import xgboost as xgb

    x, y = rows(features)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(x, label=y), 3
    )
    write_tarball(sagemaker_model_json(booster), path)
    return path


def pickled_artifact(path: Path, estimator: object) -> Path:
    model = path.with_suffix(".pkl")
    model.write_bytes(pickle.dumps(estimator))
    with tarfile.open(path, "w:gz") as tar:
        tar.add(model, arcname="model.pkl")
    return path


def scaler_artifact(path: Path, features: int = FEATURES) -> Path:
    return pickled_artifact(path, StandardScaler().fit(rows(features)[0]))


def refuse_every_row(features: np.ndarray) -> np.ndarray:
    raise ValueError("this transformer answers nothing")


def evaluation(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


# ---------------------------------------------------------------------------------------------
# Artifacts and pipelines
# ---------------------------------------------------------------------------------------------
def test_artifacts_of_any_framework_are_checked_and_described_by_their_signature(tmp_path):
    booster = registry.check_artifact(xgboost_artifact(tmp_path / "xgb.tar.gz"))
    assert (booster.framework, booster.objective, booster.num_features) == (
        "xgboost",
        "binary:logistic",
        FEATURES,
    )
    x, y = rows(4)
    classifier = registry.check_artifact(
        pickled_artifact(tmp_path / "lr.tar.gz", LogisticRegression().fit(x, y))
    )
    assert (classifier.framework, classifier.num_features) == ("sklearn", 4)


def test_a_model_that_does_not_say_its_width_is_loaded_but_not_asked(tmp_path):
    # Unfitted on any width, the transformer has no feature count: a row of zeros of some width
    # would be a guess, so only loading is checked (this one refuses every row).
    transformer = FunctionTransformer(refuse_every_row).fit(None)
    signature = registry.check_artifact(pickled_artifact(tmp_path / "f.tar.gz", transformer))
    assert signature.num_features is None


def test_an_artifact_that_does_not_load_or_answer_is_refused(tmp_path):
    broken = tmp_path / "broken.tar.gz"
    (tmp_path / "xgboost-model").write_text("not a model")
    with tarfile.open(broken, "w:gz") as tar:
        tar.add(tmp_path / "xgboost-model", arcname="xgboost-model")
    with pytest.raises(ConfigError, match=re.escape("broken.tar.gz is not a usable model.tar.gz")):
        registry.check_artifact(broken)

    refusing = FunctionTransformer(refuse_every_row, validate=True).fit(np.zeros((2, 3)))
    with pytest.raises(
        ConfigError, match=re.escape("refusing.tar.gz is not a usable model.tar.gz")
    ):
        registry.check_artifact(pickled_artifact(tmp_path / "refusing.tar.gz", refusing))

    not_gzip = tmp_path / "plain.tar.gz"
    not_gzip.write_text("plain text")
    with pytest.raises(ConfigError, match=re.escape("plain.tar.gz is not a usable model.tar.gz")):
        registry.check_artifact(not_gzip)


def test_a_pipeline_whose_containers_chain_is_accepted(tmp_path):
    signatures = registry.check_pipeline(
        [scaler_artifact(tmp_path / "scaler.tar.gz"), xgboost_artifact(tmp_path / "xgb.tar.gz")]
    )
    assert [(s.framework, s.objective) for s in signatures] == [
        ("sklearn", "transform"),
        ("xgboost", "binary:logistic"),
    ]


def test_a_pipeline_whose_containers_do_not_chain_is_refused(tmp_path):
    narrow = scaler_artifact(tmp_path / "scaler.tar.gz", features=5)
    with pytest.raises(ConfigError) as caught:
        registry.check_pipeline([narrow, xgboost_artifact(tmp_path / "xgb.tar.gz")])
    assert str(caught.value) == (
        f"container 1 ({narrow}) answers 5 column(s) per row, but container 2 "
        f"({tmp_path / 'xgb.tar.gz'}) takes {FEATURES} features: the containers do not chain"
    )
    # A classifier answers one score per row: a one-feature model may follow it.
    x, y = rows(3)
    first = pickled_artifact(tmp_path / "lr.tar.gz", LogisticRegression().fit(x, y))
    then = scaler_artifact(tmp_path / "one.tar.gz", features=1)
    assert len(registry.check_pipeline([first, then])) == 2


def test_register_takes_one_to_fifteen_containers_and_one_shape(tmp_path):
    artifact = xgboost_artifact(tmp_path / "xgb.tar.gz")
    common = {
        "metrics": tmp_path / "evaluation.json",
        "layout": None,
        "group": "models",
        "approve": False,
    }
    too_many = [registry.Container(artifact, "serving:1")] * 16
    with pytest.raises(ConfigError, match=r"1 to 15 containers .* not 16"):
        registry.register(None, containers=too_many, **common)
    with pytest.raises(ConfigError, match="not 0"):
        registry.register(None, containers=[], **common)
    with pytest.raises(ConfigError, match="either an artifact"):
        registry.register(None, artifact=artifact, image="serving:1", containers=[], **common)
    with pytest.raises(ConfigError, match="no image to serve it"):
        registry.register(None, artifact=artifact, **common)


def test_a_versions_sha256_is_its_artifacts_or_its_whole_pipelines(tmp_path):
    first = scaler_artifact(tmp_path / "scaler.tar.gz")
    then = xgboost_artifact(tmp_path / "xgb.tar.gz")
    assert registry.version_digest([registry.Container(then, "xgb:1")]) == sha256_of(then)
    pipeline = [registry.Container(first, "sk:1", {"A": "1"}), registry.Container(then, "xgb:1")]
    digest = registry.version_digest(pipeline)
    assert digest == registry.version_digest(list(pipeline)), "the same pipeline, the same sha256"
    changed = [
        [registry.Container(first, "sk:1", {"A": "2"}), pipeline[1]],
        [registry.Container(first, "sk:2", {"A": "1"}), pipeline[1]],
        [pipeline[1], pipeline[0]],
        [pipeline[0], registry.Container(first, "xgb:1")],
    ]
    assert len({digest, *(registry.version_digest(c) for c in changed)}) == 5, (
        "any container's environment, image, artifact or place makes another version"
    )


# ---------------------------------------------------------------------------------------------
# Evaluation files
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("document", "problem_type", "metric", "value"),
    [
        (
            {"binary_classification_metrics": {"auc": {"value": 0.93}, "f1": {"value": 0.5}}},
            "binary_classification_metrics",
            "auc",
            0.93,
        ),
        (
            {"multiclass_classification_metrics": {"accuracy": {"value": 0.81}}},
            "multiclass_classification_metrics",
            "accuracy",
            0.81,
        ),
        (
            {"regression_metrics": {"mse": {"value": 4.0}, "rmse": {"value": 2.0}}},
            "regression_metrics",
            "mse",
            4.0,
        ),
        ({"regression_metrics": {"rmse": {"value": 2.0}}}, "regression_metrics", "rmse", 2.0),
        ({"regression_metrics": {"r2": {"value": 0.7}}}, "regression_metrics", "r2", 0.7),
    ],
)
def test_every_model_monitor_problem_type_has_a_headline_metric(
    tmp_path, document, problem_type, metric, value
):
    checked = registry.check_metrics(evaluation(tmp_path / "evaluation.json", document))
    assert (checked["problem_type"], checked["metric"], checked["value"]) == (
        problem_type,
        metric,
        value,
    )
    assert checked["evaluation"] == document


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"regression_metrics": {"mae": {"value": 1.0}}},
        {"binary_classification_metrics": {"auc": {"value": "high"}}},
        {"binary_classification_metrics": {"auc": 0.9}},
        [1, 2],
    ],
)
def test_an_evaluation_without_a_headline_metric_is_refused(tmp_path, document):
    path = evaluation(tmp_path / "evaluation.json", document)
    with pytest.raises(ConfigError) as caught:
        registry.check_metrics(path)
    message = str(caught.value)
    assert message.startswith(f"{path} holds none of binary_classification_metrics.auc.value, ")
    assert "multiclass_classification_metrics.accuracy.value" in message
    assert "regression_metrics.mse.value, regression_metrics.rmse.value" in message


def test_an_unreadable_evaluation_is_refused(tmp_path):
    path = tmp_path / "evaluation.json"
    path.write_text("{not json")
    with pytest.raises(
        ConfigError, match=re.escape("evaluation.json is not a readable JSON evaluation")
    ):
        registry.check_metrics(path)


# ---------------------------------------------------------------------------------------------
# Images and environments of the containers
# ---------------------------------------------------------------------------------------------
def test_images_are_one_per_container_one_for_all_or_the_default():
    assert registry.images_for(2, [], "serving:1") == ["serving:1", "serving:1"]
    assert registry.images_for(3, ["sk:1"], "serving:1") == ["sk:1"] * 3
    assert registry.images_for(2, ["sk:1", "xgb:1"], None) == ["sk:1", "xgb:1"]
    with pytest.raises(ConfigError, match=r"^3 images for 2 artifacts: give one image per"):
        registry.images_for(2, ["a", "b", "c"], "serving:1")
    with pytest.raises(ConfigError, match="no image given"):
        registry.images_for(1, [], None)


def test_environment_entries_name_their_container():
    assert registry.parse_environment(
        ["1:SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT=text/csv", "2:A=x=y", "2:EMPTY="], 2
    ) == [{"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}, {"A": "x=y", "EMPTY": ""}]
    assert registry.parse_environment([], 3) == [{}, {}, {}]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("KEY=VALUE", "'KEY=VALUE': INDEX:KEY=VALUE, e.g. 1:SAGEMAKER_DEFAULT"),
        ("1:KEY", "'1:KEY': INDEX:KEY=VALUE"),
        ("0:KEY=v", "'0:KEY=v': container 0 does not exist (1 to 2, in --artifact order)"),
        ("3:KEY=v", "'3:KEY=v': container 3 does not exist (1 to 2"),
        ("1:9LIVES=v", "'1:9LIVES=v': '9LIVES' is not an environment variable name"),
        ("1:MY-KEY=v", "'1:MY-KEY=v': 'MY-KEY' is not an environment variable name"),
    ],
)
def test_bad_environment_entries_say_what_is_wrong(entry, message):
    with pytest.raises(ConfigError) as caught:
        registry.parse_environment([entry], 2)
    assert str(caught.value).startswith(message)


# ---------------------------------------------------------------------------------------------
# byo model register: option errors (usage errors, exit 2, before anything is uploaded)
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def register(tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "data_bucket": {"value": "not-used"},
                "model_package_group": {"value": "models"},
                "serving_image": {"value": "serving:1"},
            }
        )
    )
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"never read: the options are refused first")
    metrics = evaluation(tmp_path / "evaluation.json", {})

    def run(*args: str):
        return CliRunner().invoke(
            cli, ["--outputs", str(outputs), "model", "register", "--metrics", str(metrics), *args]
        )

    return run, str(artifact)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--image", "a:1", "--image", "b:1", "--image", "c:1"],
            "Invalid value for --image: 3 images for 2 artifacts: give one image per artifact",
        ),
        (["--env", "3:KEY=v"], "Invalid value for --env: '3:KEY=v': container 3 does not exist"),
        (["--env", "KEY=v"], "Invalid value for --env: 'KEY=v': INDEX:KEY=VALUE"),
    ],
)
def test_register_option_errors_are_usage_errors(register, options, message):
    run, artifact = register
    result = run("--artifact", artifact, "--artifact", artifact, *options)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_register_refuses_more_containers_than_sagemaker_runs(register):
    run, artifact = register
    result = run(*[arg for _ in range(16) for arg in ("--artifact", artifact)])
    assert result.exit_code == 2, result.output
    assert (
        "Invalid value for --artifact: 16 artifacts: a serial inference pipeline has at most 15"
        in (" ".join(result.output.split()))
    )


def test_register_needs_an_artifact(register):
    run, _ = register
    result = run()
    assert result.exit_code == 2
    assert "Missing option '--artifact'" in result.output


# ---------------------------------------------------------------------------------------------
# deploy: the SageMaker model's containers
# ---------------------------------------------------------------------------------------------
def test_one_container_is_the_primary_container():
    assert model_containers(
        [{"image": "xgb:1", "model_data_url": "s3://b/m/model.tar.gz", "environment": {}}]
    ) == {"PrimaryContainer": {"Image": "xgb:1", "ModelDataUrl": "s3://b/m/model.tar.gz"}}


def test_several_containers_run_as_a_serial_pipeline_in_order():
    containers = [
        {"image": "sk:1", "model_data_url": "s3://b/1/model.tar.gz", "environment": {"A": "1"}},
        {"image": "xgb:1", "model_data_url": "s3://b/2/model.tar.gz", "environment": {}},
    ]
    assert model_containers(containers) == {
        "Containers": [
            {"Image": "sk:1", "ModelDataUrl": "s3://b/1/model.tar.gz", "Environment": {"A": "1"}},
            {"Image": "xgb:1", "ModelDataUrl": "s3://b/2/model.tar.gz"},
        ],
        "InferenceExecutionConfig": {"Mode": "Serial"},
    }


def test_the_registered_content_types_are_what_the_serving_core_takes_and_answers():
    assert sorted(registry.CONTENT_TYPES) == sorted(CONTENT_TYPES)
    assert sorted(registry.RESPONSE_TYPES) == sorted(ACCEPTS)

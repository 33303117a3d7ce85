"""The pipeline's parameters and its steps on local files: any CSV with a named binary target."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from operators.errors import ConfigError
from operators.pipeline import params, steps
from tests.helpers.data import churn_csv


def test_defaults_resolve_and_overrides_are_typed():
    values = params.resolve()
    assert (
        values["AucThreshold"] == 0.9 and values["ModelApprovalStatus"] == "PendingManualApproval"
    )
    values = params.resolve({"MaxDepth": "7", "Eta": "0.3", "DeployWeight": "0.5"})
    assert values["MaxDepth"] == 7 and values["Eta"] == 0.3
    assert params.deploy_weight(values["DeployWeight"]) == 0.5
    assert params.deploy_weight("keep") is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"maxdepth": "3"}, "unknown parameter 'maxdepth' (did you mean MaxDepth?)"),
        ({"MaxDepth": "3.5"}, "parameter MaxDepth: '3.5' is not an integer"),
        ({"Eta": "fast"}, "parameter Eta: 'fast' is not a number"),
        ({"AucThreshold": "1.5"}, "parameter AucThreshold: 1.5 is above 1"),
        ({"ModelApprovalStatus": "Yes"}, "is not one of Approved, PendingManualApproval"),
        ({"TestFraction": "0.3"}, "add up to 1 (they add up to 1.15)"),
        ({"DeployWeight": "-1"}, "DeployWeight: '-1' is not keep or a number >= 0"),
        ({"TargetColumn": " "}, "TargetColumn is empty"),
    ],
)
def test_bad_parameters_name_the_parameter_and_the_problem(overrides, message):
    with pytest.raises(ConfigError, match=None) as caught:
        params.resolve(overrides)
    assert message in str(caught.value)


def test_param_assignments():
    assert params.parse_assignments(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(ConfigError, match="expected Name=value"):
        params.parse_assignments(["MaxDepth"])
    with pytest.raises(ConfigError, match="given twice"):
        params.parse_assignments(["A=1", "A=2"])


def test_any_csv_with_a_named_binary_target_trains_and_evaluates(tmp_path):
    data = churn_csv(tmp_path / "churn.csv")
    out = tmp_path / "process"
    schema = steps.process(
        [data],
        out,
        target="churned",
        train_fraction=0.6,
        validation_fraction=0.2,
        test_fraction=0.2,
        seed=1,
    )
    assert schema["rejected_rows"] == 2
    assert schema["features"] == [*(f"f{i}" for i in range(6)), "tenure_months"]
    assert {k: v["rows"] for k, v in schema["splits"].items()} == {
        "train": 1798,
        "validation": 600,
        "test": 600,
    }
    rejected = pacsv.read_csv(out / "rejected" / "rejected.csv").to_pylist()
    assert [r["reason"] for r in rejected] == [
        "churned is 'maybe', not 0 or 1",
        "churned is missing",
    ]
    first = (out / "train" / "train.csv").read_text().splitlines()[0].split(",")
    assert first[0] in ("0", "1") and len(first) == 8  # label first, no header

    hyper = params.hyperparameters(params.resolve({"NumRound": "50"}))
    trained = steps.train(
        out / "train",
        out / "validation",
        out / "schema" / "schema.json",
        tmp_path / "train",
        hyperparameters=hyper,
    )
    assert 0 <= trained["best_iteration"] < 50
    evaluation = steps.evaluate(
        tmp_path / "train" / "model.tar.gz",
        out / "test",
        out / "train",
        out / "schema" / "schema.json",
        tmp_path / "evaluate",
    )
    metrics = evaluation["binary_classification_metrics"]
    assert metrics["auc"]["value"] > 0.9
    assert sum(sum(row.values()) for row in metrics["confusion_matrix"].values()) == 600
    baselines = tmp_path / "evaluate" / "baselines"
    statistics = json.loads((baselines / "data-quality" / "statistics.json").read_text())
    assert [f["name"] for f in statistics["features"]] == schema["features"]
    assert statistics["dataset"]["item_count"] == 1798
    manifest = json.loads((baselines / "manifest.json").read_text())
    assert manifest["label"] == "churned" and manifest["rows"] == 1798
    for name in (
        "data-quality/constraints.json",
        "model-quality/statistics.json",
        "model-quality/constraints.json",
        "attribution/analysis.json",
        "attribution/constraints.json",
    ):
        assert json.loads((baselines / name).read_text())


def test_process_rejects_what_it_cannot_train_on_with_the_reason(tmp_path):
    data = churn_csv(tmp_path / "churn.csv")
    kwargs = {"train_fraction": 0.7, "validation_fraction": 0.15, "test_fraction": 0.15, "seed": 1}
    with pytest.raises(ConfigError, match="TargetColumn 'Class' is not a column of the input"):
        steps.process([data], tmp_path / "a", target="Class", **kwargs)

    text = pa.table({"plan": ["a", "b"] * 100, "y": [0, 1] * 100})
    pacsv.write_csv(text, tmp_path / "text.csv")
    with pytest.raises(ConfigError, match="feature columns plan are not numeric"):
        steps.process([tmp_path / "text.csv"], tmp_path / "b", target="y", **kwargs)

    rare = pa.table({"x": np.arange(500.0), "y": [1] * 5 + [0] * 495})
    pacsv.write_csv(rare, tmp_path / "rare.csv")
    with pytest.raises(ConfigError, match="has 5 rows of 1 and 495 of 0"):
        steps.process([tmp_path / "rare.csv"], tmp_path / "c", target="y", **kwargs)

    pacsv.write_csv(pa.table({"x": [1.0], "z": [0]}), tmp_path / "other.csv")
    with pytest.raises(ConfigError, match="its header differs"):
        steps.process([data, tmp_path / "other.csv"], tmp_path / "d", target="churned", **kwargs)


def test_the_container_steps_chain_as_sagemaker_runs_them(tmp_path):
    """`byo pipeline step process|train|evaluate` with SageMaker's directories: hyperparameters
    as strings in hyperparameters.json, the model directory packed by SageMaker (here: by us,
    as it does), the same model as the local runner's train step makes."""
    from click.testing import CliRunner

    from operators.cli import cli
    from serving.artifact import MODEL_FILE, write_tarball

    def step(*args: str) -> str:
        result = CliRunner().invoke(cli, ["pipeline", "step", *map(str, args)])
        assert result.exit_code == 0, result.output
        return result.output

    source = tmp_path / "input"
    source.mkdir()
    churn_csv(source / "part-1.csv")
    out = tmp_path / "output"
    step("process", "--input", source, "--output", out, "--target", "churned", "--seed", 4)
    hyper = params.hyperparameters(params.resolve({"NumRound": "30", "Seed": "4"}))
    config = tmp_path / "hyperparameters.json"
    config.write_text(json.dumps({k: str(v) for k, v in hyper.items()}))
    model_dir = tmp_path / "model"
    step(
        "train",
        "--train", out / "train",
        "--validation", out / "validation",
        "--schema", out / "schema",
        "--hyperparameters", config,
        "--model-dir", model_dir,
    )  # fmt: skip
    local = tmp_path / "local"
    steps.train(
        out / "train", out / "validation", out / "schema" / "schema.json", local,
        hyperparameters=hyper,
    )  # fmt: skip
    packed = tmp_path / "artifacts" / "model.tar.gz"
    write_tarball((model_dir / MODEL_FILE).read_bytes(), packed)
    assert packed.read_bytes() == (local / "model.tar.gz").read_bytes()
    printed = step(
        "evaluate",
        "--model", packed.parent,
        "--test", out / "test",
        "--train", out / "train",
        "--schema", out / "schema",
        "--output", tmp_path / "evaluation",
    )  # fmt: skip
    assert json.loads(printed)["auc"]["value"] > 0.9
    assert (tmp_path / "evaluation" / "baselines" / "manifest.json").is_file()

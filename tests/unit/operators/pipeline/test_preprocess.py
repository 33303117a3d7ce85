"""The optional preprocess step: a scikit-learn preprocessor fitted on the train split, the splits
transformed for training, and evaluation through both stages of the serial pipeline it makes."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
import xgboost as xgb
from click.testing import CliRunner

from operators.errors import ConfigError
from operators.monitoring import attribution
from operators.pipeline import params, runner, steps
from operators.pipeline.training import binary_classification_metrics
from serving.artifact import load_booster, write_members
from tests.helpers.data import churn_csv

MISSING_F0 = range(0, 3000, 7)  # rows whose f0 is empty in the input


@pytest.fixture(scope="module")
def split(tmp_path_factory) -> Path:
    """The churn data with f0 missing in every 7th row, through the process step."""
    root = tmp_path_factory.mktemp("preprocess")
    data = churn_csv(root / "churn.csv")
    table = pacsv.read_csv(data)
    f0 = table.column("f0").to_pylist()
    for row in MISSING_F0:
        f0[row] = None
    table = table.set_column(0, "f0", pa.array(f0, pa.float64()))
    pacsv.write_csv(table, data)
    steps.process(
        [data],
        root / "process",
        target="churned",
        train_fraction=0.6,
        validation_fraction=0.2,
        test_fraction=0.2,
        seed=1,
    )
    return root / "process"


def preprocess(split: Path, out: Path, method: str = "standard-scaler") -> dict:
    return steps.preprocess(
        split / "train",
        split / "validation",
        split / "test",
        split / "schema" / "schema.json",
        out,
        method=method,
    )


def members(tarball: Path) -> dict[str, bytes]:
    with tarfile.open(tarball, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_the_preprocessor_is_fitted_on_the_train_split_and_packed_reproducibly(split, tmp_path):
    result = preprocess(split, tmp_path / "a")
    assert result["steps"] == ["SimpleImputer", "StandardScaler"]
    schema = json.loads((split / "schema" / "schema.json").read_text())
    features = schema["features"]
    tarball = tmp_path / "a" / steps.PREPROCESSOR
    packed = members(tarball)
    assert list(packed) == ["model.joblib", "inference.json"]
    assert json.loads(packed["inference.json"]) == {"features": features, "output_names": features}
    fitted = joblib.load(io.BytesIO(packed["model.joblib"]))
    assert [type(s).__name__ for _, s in fitted.steps] == ["SimpleImputer", "StandardScaler"]
    assert fitted.named_steps["impute"].strategy == "median"

    # Fitted on the train split only: its median imputes, its moments standardize.
    raw_train, _ = steps.read_split(split / "train", schema)
    f0 = raw_train.column("f0")
    assert f0.null_count > 0
    median = float(np.nanmedian(f0.to_numpy(zero_copy_only=False)))
    assert fitted.named_steps["impute"].statistics_[0] == pytest.approx(median)
    train, label = steps.read_split(tmp_path / "a" / "train", schema)
    matrix = np.column_stack([train.column(n).to_numpy() for n in features])
    assert not np.isnan(matrix).any()
    assert np.allclose(matrix.mean(axis=0), 0, atol=1e-9)
    assert np.allclose(matrix.std(axis=0), 1, atol=1e-9)
    assert label.tolist() == steps.read_split(split / "train", schema)[1].tolist()
    test, _ = steps.read_split(tmp_path / "a" / "test", schema)
    assert abs(float(pc.mean(test.column("tenure_months")).as_py())) > 1e-6  # not its own fit

    # The same inputs give the same bytes: the cache and the registry address them by sha256.
    preprocess(split, tmp_path / "b")
    for name in (steps.PREPROCESSOR, "train/train.csv", "validation/validation.csv"):
        first, second = (tmp_path / d / name for d in ("a", "b"))
        assert (
            hashlib.sha256(first.read_bytes()).digest()
            == hashlib.sha256(second.read_bytes()).digest()
        ), name
    assert runner.PREPROCESSOR == steps.PREPROCESSOR


def test_evaluate_scores_the_raw_test_split_through_both_stages(split, tmp_path):
    preprocess(split, tmp_path / "pre")
    schema_file = split / "schema" / "schema.json"
    schema = json.loads(schema_file.read_text())
    hyper = params.hyperparameters(params.resolve({"NumRound": "40"}))
    steps.train(
        tmp_path / "pre" / "train",
        tmp_path / "pre" / "validation",
        schema_file,
        tmp_path / "train",
        hyperparameters=hyper,
    )
    tarball = tmp_path / "pre" / steps.PREPROCESSOR
    model = tmp_path / "train" / "model.tar.gz"
    evaluation = steps.evaluate(
        model, split / "test", split / "train", schema_file, tmp_path / "evaluate", tarball
    )

    # The served transform of the raw rows is the preprocess step's transformed split, exactly,
    # so the booster's scores on those rows are the evaluate step's.
    raw_test, y_test = steps.read_split(split / "test", schema)
    [served] = steps.transformed(tarball, [raw_test])
    written, _ = steps.read_split(tmp_path / "pre" / "test", schema)
    assert served.equals(written)
    booster = load_booster(model)
    score = booster.predict(xgb.DMatrix(steps._float_matrix(written)))
    metrics = evaluation["binary_classification_metrics"]
    assert binary_classification_metrics(y_test, score) == metrics
    assert metrics["auc"]["value"] > 0.9
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert evaluation["model"]["preprocessor_sha256"] == digest

    # Data quality describes what the endpoint receives (raw rows, f0 sometimes missing);
    # attributions are per feature, under the schema's names.
    baselines = tmp_path / "evaluate" / "baselines"
    statistics = json.loads((baselines / "data-quality" / "statistics.json").read_text())
    by_name = {f["name"]: f for f in statistics["features"]}
    assert list(by_name) == schema["features"]
    assert by_name["f0"]["numerical_statistics"]["common"]["num_missing"] > 0
    tenure = by_name["tenure_months"]["numerical_statistics"]
    assert tenure["mean"] > 10  # raw months, not standardized
    analysis = json.loads((baselines / "attribution" / "analysis.json").read_text())
    shap = attribution.attributions_of(analysis)["label0"]
    assert list(shap) == schema["features"] and any(v > 0 for v in shap.values())
    manifest = json.loads((baselines / "manifest.json").read_text())
    assert manifest["data"] == "train split" and manifest["preprocessor_sha256"] == digest
    assert manifest["holdout"] == "test split, preprocessed"


def test_without_a_preprocessor_evaluate_is_unchanged(split, tmp_path):
    schema_file = split / "schema" / "schema.json"
    hyper = params.hyperparameters(params.resolve({"NumRound": "20"}))
    steps.train(
        split / "train", split / "validation", schema_file, tmp_path / "t", hyperparameters=hyper
    )
    evaluation = steps.evaluate(
        tmp_path / "t" / "model.tar.gz",
        split / "test",
        split / "train",
        schema_file,
        tmp_path / "e",
    )
    assert evaluation["model"] == {"features": json.loads(schema_file.read_text())["features"]}
    manifest = json.loads((tmp_path / "e" / "baselines" / "manifest.json").read_text())
    assert manifest["data"] == "train split" and "preprocessor_sha256" not in manifest


def test_preprocessing_is_a_checked_parameter_that_chooses_the_steps():
    assert params.resolve()["Preprocessing"] == "none"
    assert params.BY_NAME["Preprocessing"].build_time
    with pytest.raises(ConfigError, match="'minmax' is not one of none, standard-scaler"):
        params.resolve({"Preprocessing": "minmax"})
    assert "preprocess" not in runner.steps_of(params.resolve())
    assert runner.steps_of(params.resolve({"Preprocessing": "standard-scaler"})) == [
        "process",
        "preprocess",
        "train",
        "evaluate",
        "condition",
        "register",
        "deploy",
    ]


def test_a_preprocessor_that_is_not_a_transformer_is_refused_by_name(split, tmp_path):
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ConfigError, match="'none' fits nothing; choose standard-scaler"):
        preprocess(split, tmp_path / "none", method="none")
    schema = json.loads((split / "schema" / "schema.json").read_text())
    x, y = steps.read_split(split / "train", schema)
    classifier = LogisticRegression().fit(np.nan_to_num(steps._float_matrix(x)), y)
    body = io.BytesIO()
    joblib.dump(classifier, body)
    tarball = tmp_path / "classifier.tar.gz"
    write_members({"model.joblib": body.getvalue()}, tarball)
    with pytest.raises(ConfigError, match=r"classifier\.tar\.gz holds a binary:logistic model"):
        steps.transformed(tarball, [x])
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tarball")
    with pytest.raises(ConfigError, match=r"broken\.tar\.gz: not a preprocessor the serving image"):
        steps.transformed(broken, [x])


def test_the_container_steps_preprocess_then_evaluate_through_the_preprocessor(split, tmp_path):
    """`byo pipeline step preprocess` and `evaluate --preprocessor`, on SageMaker's input
    directories, as the definition's jobs run them."""
    from operators.cli import cli

    def step(*args) -> str:
        result = CliRunner().invoke(cli, ["pipeline", "step", *map(str, args)])
        assert result.exit_code == 0, result.output
        return result.output

    out = tmp_path / "output"
    printed = step(
        "preprocess",
        "--train", split / "train",
        "--validation", split / "validation",
        "--test", split / "test",
        "--schema", split / "schema",
        "--output", out,
        "--preprocessing", "standard-scaler",
    )  # fmt: skip
    assert json.loads(printed)["preprocessing"] == "standard-scaler"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "preprocessor/preprocess.tar.gz",
        "test/test.csv",
        "train/train.csv",
        "validation/validation.csv",
    ]
    hyper = params.hyperparameters(params.resolve({"NumRound": "20"}))
    steps.train(
        out / "train",
        out / "validation",
        split / "schema" / "schema.json",
        tmp_path / "model",
        hyperparameters=hyper,
    )
    printed = step(
        "evaluate",
        "--model", tmp_path / "model",
        "--test", split / "test",
        "--train", split / "train",
        "--schema", split / "schema",
        "--output", tmp_path / "evaluation",
        "--preprocessor", out / "preprocessor",
    )  # fmt: skip
    assert json.loads(printed)["auc"]["value"] > 0.9
    evaluation = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert "preprocessor_sha256" in evaluation["model"]

    bad = CliRunner().invoke(
        cli,
        ["pipeline", "step", "preprocess", "--train", str(split / "train"), "--validation",
         str(split / "validation"), "--test", str(split / "test"), "--schema",
         str(split / "schema"), "--output", str(tmp_path / "x"), "--preprocessing", "none"],
    )  # fmt: skip
    assert bad.exit_code == 2 and "'none' is not 'standard-scaler'" in bad.output

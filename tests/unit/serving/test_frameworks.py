"""serving.frameworks: every kind of model artifact answers what its own framework answers."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import warnings

import lightgbm
import numpy as np
import onnxruntime
import pytest
import scipy.sparse as sp
import sklearn
import xgboost as xgb

from serving import frameworks
from serving.artifact import unpack
from serving.predictor import ArtifactError, PredictionError
from tests.helpers import models
from tests.helpers.paths import REPO

XGBOOST_OBJECTIVES = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "multi:softprob",
    "multi:softmax",
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:quantileerror",
    "reg:gamma",
    "reg:tweedie",
    "count:poisson",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
    "survival:cox",
    "survival:aft",
)


def absent_where_missing(X: np.ndarray) -> sp.csr_matrix:
    """X as CSR whose NaN cells are absent entries (libsvm / sparse recordio-protobuf rows)."""
    present = ~np.isnan(X)
    rows, cols = np.nonzero(present)
    return sp.csr_matrix((X[present], (rows, cols)), shape=X.shape)


def assert_model_error(model_dir, message, **options):
    with pytest.raises(ArtifactError) as caught:
        frameworks.load(model_dir, **options)
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------------
# XGBoost
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("objective", XGBOOST_OBJECTIVES)
def test_xgboost_every_objective_answers_what_booster_predict_on_a_dmatrix_answers(
    tmp_path, objective
):
    built = models.xgboost_model(tmp_path, objective)
    predictor = frameworks.load(built.model_dir)

    signature = predictor.signature
    assert (signature.framework, signature.objective) == ("xgboost", objective)
    assert signature.num_features == models.FEATURES
    assert signature.source == "xgboost-model"
    assert signature.framework_version == xgb.__version__
    expected_classes = {"binary": 2, "multi": 3}.get(objective.split(":")[0])
    assert signature.num_class == expected_classes
    assert signature.classes is None  # a Booster has no labels: 0..k-1

    dense = predictor.predict(built.X)  # inplace_predict
    assert dense.shape == built.expected.shape
    assert np.array_equal(dense, built.expected)
    sparse = predictor.predict(absent_where_missing(built.X))  # in place: absent = missing
    assert np.array_equal(sparse, built.expected)
    # A CSR matrix narrower than the model (libsvm rows without the last features): its absent
    # trailing columns are missing values, as in booster.predict(DMatrix(rows)).
    narrow = absent_where_missing(built.X[:, :-2])
    booster = xgb.Booster(model_file=str(built.model_dir / "xgboost-model"))
    reference = booster.predict(xgb.DMatrix(narrow), validate_features=False)
    assert np.array_equal(predictor.predict(narrow), reference)


@pytest.mark.parametrize("objective", ["binary:logistic", "multi:softprob", "reg:squarederror"])
def test_xgboost_dense_rows_answer_inplace_predict_bit_for_bit(tmp_path, objective, monkeypatch):
    """The C call the predictor makes for dense float rows is inplace_predict's own: the same
    scores, dtype and shape for float64, float32, one row, a strided view and none."""
    built = models.xgboost_model(tmp_path, objective)
    predictor = frameworks.load(built.model_dir)
    booster = xgb.Booster()
    booster.load_model(str(next(built.model_dir.iterdir())))
    X = built.X
    for rows in (X, X.astype(np.float32), X[:1], X[::2], X[:, :][::-1], X[:0]):
        expected = booster.inplace_predict(rows, validate_features=False)
        got = predictor.predict(rows)
        assert (got.dtype, got.shape) == (expected.dtype, expected.shape)
        assert np.array_equal(got, expected)
    # and it is that call, not the wrapper, that answers them
    monkeypatch.setattr(xgb.Booster, "inplace_predict", lambda *a, **k: pytest.fail("wrapper"))
    assert np.array_equal(predictor.predict(X), built.expected)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("json", "model.json"),
        ("ubj", "model.ubj"),
        ("ubj", "xgboost-model"),
        ("json", "anything.bst"),
        ("ubj", "trained.model"),
        ("pickle", "xgboost-model"),  # SageMaker's XGBoost 1.0-1.2 images pickled the Booster
        ("sklearn", "model.joblib"),
    ],
)
def test_xgboost_files_are_told_apart_by_their_contents_not_their_names(tmp_path, fmt, name):
    built = models.xgboost_model(tmp_path, "multi:softprob", fmt=fmt, name=name)
    predictor = frameworks.load(built.model_dir)
    assert (predictor.signature.objective, predictor.signature.num_class) == ("multi:softprob", 3)
    assert predictor.signature.source == name
    assert np.array_equal(predictor.predict(built.X), built.expected)


def test_xgboost_sklearn_api_models_keep_their_classes(tmp_path):
    classifier = models.xgboost_model(tmp_path, "binary:logistic", fmt="sklearn")
    signature = frameworks.load(classifier.model_dir).signature
    assert (signature.objective, signature.classes) == ("binary:logistic", (0, 1))
    assert all(type(label) is int for label in signature.classes)

    regressor = models.xgboost_model(tmp_path, "reg:squarederror", fmt="sklearn")
    predictor = frameworks.load(regressor.model_dir)
    assert predictor.signature.classes is None
    assert np.array_equal(predictor.predict(regressor.X), regressor.expected)


@pytest.mark.parametrize("objective", ["binary:logistic", "multi:softprob", "multi:softmax"])
def test_xgboost_files_in_one_artifact_are_an_ensemble_answering_their_mean(tmp_path, objective):
    built = models.xgboost_ensemble(tmp_path, objective, formats=("json", "ubj", "pickle"))
    predictor = frameworks.load(built.model_dir)
    assert predictor.signature.source == "model-0.json, model-1.ubj, model-2.pickle"
    assert predictor.signature.objective == objective
    dense = predictor.predict(built.X)
    assert np.array_equal(dense, built.expected)
    single = xgb.Booster()
    single.load_model(str(built.model_dir / "model-0.json"))
    assert not np.array_equal(dense, single.predict(xgb.DMatrix(built.X)))  # really a mean
    assert np.array_equal(predictor.predict(absent_where_missing(built.X)), built.expected)


def test_an_ensemble_of_different_models_is_refused(tmp_path):
    built = models.xgboost_model(tmp_path, "binary:logistic", name="a.json")
    other = models.xgboost_model(tmp_path, "reg:squarederror", name="b.json")
    shutil.copy(other.model_dir / "b.json", built.model_dir)
    assert_model_error(
        built.model_dir,
        "the ensemble's models differ: a.json is binary:logistic over 6 features, 2 classes, "
        "b.json is reg:squarederror over 6 features",
    )


@pytest.mark.skipif(not models.COMPAT_PYTHON.is_file(), reason="needs `make compat-venv`")
def test_a_legacy_binary_model_is_refused_with_how_to_convert_it(tmp_path):
    built = models.xgboost_model(tmp_path, fmt="legacy")
    assert (built.model_dir / "xgboost-model").read_bytes()[:4] == b"binf"
    with pytest.raises(xgb.core.XGBoostError):  # the reason: XGBoost 3.2 cannot read it
        xgb.Booster().load_model(bytearray((built.model_dir / "xgboost-model").read_bytes()))
    assert_model_error(
        built.model_dir,
        "xgboost-model: an XGBoost legacy binary model (the format XGBoost < 2 saved by default), "
        f"which XGBoost {xgb.__version__} no longer reads: load it with the XGBoost that saved it "
        "and save it again with save_model('xgboost-model.json') (or .ubj)",
    )


def test_threads_set_the_boosters_nthread(tmp_path):
    built = models.xgboost_model(tmp_path)
    predictor = frameworks.load(built.model_dir, threads=2)
    (booster,) = predictor._boosters
    assert json.loads(booster.save_config())["learner"]["generic_param"]["nthread"] == "2"
    assert np.array_equal(predictor.predict(built.X), built.expected)


def test_rows_of_the_wrong_width_are_a_prediction_error(tmp_path):
    predictor = frameworks.load(models.xgboost_model(tmp_path).model_dir)
    with pytest.raises(PredictionError, match="rows have 5 values; xgboost-model takes 6 features"):
        predictor.predict(np.zeros((2, 5)))
    with pytest.raises(PredictionError, match="rows have 7 columns; xgboost-model takes 6"):
        predictor.predict(sp.csr_matrix(np.ones((2, 7))))
    with pytest.raises(PredictionError, match=r"a 2-D array\), got 1-D"):
        predictor.predict(np.zeros(6))
    # A CSR row may end early: its absent trailing columns are missing values.
    narrow = predictor.predict(sp.csr_matrix(np.ones((1, 2))))
    wide = np.full((1, 6), np.nan)
    wide[0, :2] = 1
    assert np.array_equal(narrow, predictor.predict(wide))


# ---------------------------------------------------------------------------------------------
# scikit-learn
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", models.SKLEARN_KINDS)
def test_sklearn_estimators_answer_their_own_predict_or_predict_proba(tmp_path, kind):
    built = models.sklearn_model(tmp_path, kind)
    predictor = frameworks.load(built.model_dir)

    signature = predictor.signature
    assert (signature.framework, signature.objective) == ("sklearn", built.objective)
    assert signature.num_features == built.num_features
    assert signature.framework_version == sklearn.__version__
    assert signature.classes == built.classes
    if built.classes is not None:
        assert signature.num_class == len(built.classes)
        assert all(type(c) in (int, str) for c in signature.classes)  # no numpy scalars
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        answered = predictor.predict(built.X)
        sparse = predictor.predict(sp.csr_matrix(built.X))
    assert answered.shape == built.expected.shape
    assert np.array_equal(answered, built.expected)
    assert np.array_equal(sparse, built.expected)


def test_sklearn_signatures_name_classes_features_and_outputs(tmp_path):
    iris = frameworks.load(models.sklearn_model(tmp_path, "multiclass").model_dir).signature
    assert (iris.objective, iris.num_class, iris.classes) == ("multi:softprob", 3, (0, 1, 2))

    hinge = models.sklearn_model(tmp_path, "hinge")
    predictor = frameworks.load(hinge.model_dir)
    assert predictor.signature.classes == ("no", "yes")
    answered = predictor.predict(hinge.X)
    assert set(answered.tolist()) == {0.0, 1.0}
    assert [("no", "yes")[int(i)] for i in answered] == hinge.predict.tolist()

    pipeline = frameworks.load(models.sklearn_model(tmp_path, "pipeline").model_dir).signature
    assert pipeline.classes == ("fraud", "legit")
    assert pipeline.feature_names == tuple(f"f{i}" for i in range(6))

    transformer = frameworks.load(models.sklearn_model(tmp_path, "transformer").model_dir)
    assert transformer.signature.output_names == ("pca0", "pca1")
    assert transformer.signature.num_class is None


@pytest.mark.parametrize(
    ("writer", "compress", "name"),
    [
        ("joblib", 3, "model.joblib"),  # zlib
        ("joblib", ("gzip", 3), "model.joblib"),
        ("joblib", ("xz", 3), "model"),
        ("joblib", ("bz2", 3), "model.bin"),
        ("pickle", 0, "model.pkl"),
        ("pickle", 0, "estimator"),  # no suffix: a pickle stream all the same
    ],
)
def test_sklearn_pickles_and_joblib_streams_are_read_whatever_their_name(
    tmp_path, writer, compress, name
):
    built = models.sklearn_model(
        tmp_path, "multiclass", name=name, writer=writer, compress=compress
    )
    predictor = frameworks.load(built.model_dir)
    assert (predictor.signature.framework, predictor.signature.source) == ("sklearn", name)
    assert np.array_equal(predictor.predict(built.X), built.expected)


def test_a_model_saved_by_another_sklearn_is_refused_with_both_versions(tmp_path):
    built = models.sklearn_model(tmp_path, "pipeline", saved_version="1.5.0")
    current = sklearn.__version__
    assert_model_error(
        built.model_dir,
        f"model.joblib was saved with scikit-learn 1.5.0; this server has {current}: re-save it "
        f"with {current} or serve it with an image that pins 1.5.0",
    )
    same = models.sklearn_model(tmp_path, "pipeline", saved_version=current)
    assert frameworks.load(same.model_dir).signature.objective == "binary:logistic"


def test_a_pickle_that_is_not_a_model_is_refused(tmp_path):
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    assert_model_error(
        tmp_path,
        "model.pkl: a pickle of builtins.dict, not a model (an XGBoost Booster or model, or a "
        "scikit-learn estimator or pipeline)",
    )


def test_an_unfitted_estimator_is_refused(tmp_path):
    from sklearn.linear_model import LogisticRegression

    (tmp_path / "model.pkl").write_bytes(pickle.dumps(LogisticRegression()))
    assert_model_error(tmp_path, "model.pkl: the estimator is not fitted (fit it, then save it)")


def test_a_pickle_that_cannot_be_unpickled_names_why(tmp_path):
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04\x95\x10\x00cmissing_module\nThing\n.")
    with pytest.raises(ArtifactError, match=r"^model\.pkl: a pickle that cannot be loaded here"):
        frameworks.load(tmp_path)


@pytest.mark.parametrize("build", ["sklearn", "xgboost-pickle"])
def test_pickles_are_refused_when_pickles_are_not_allowed(tmp_path, build):
    if build == "sklearn":
        built = models.sklearn_model(tmp_path, name="model.joblib", compress=3)
    else:
        built = models.xgboost_model(tmp_path, fmt="pickle")
    assert_model_error(
        built.model_dir,
        f"{built.model_file} is a pickle; unpickling runs only for artifacts from the configured "
        "model location",
        allow_pickle=False,
    )
    json_model = models.xgboost_model(tmp_path)  # not a pickle: served as ever
    assert (
        frameworks.load(json_model.model_dir, allow_pickle=False).signature.framework == "xgboost"
    )


# ---------------------------------------------------------------------------------------------
# LightGBM
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("objective", list(models.LIGHTGBM_OBJECTIVES))
def test_lightgbm_text_models_answer_booster_predict(tmp_path, objective):
    built = models.lightgbm_model(tmp_path, objective)
    predictor = frameworks.load(built.model_dir, threads=1)

    signature = predictor.signature
    assert (signature.framework, signature.objective) == ("lightgbm", built.objective)
    assert signature.num_features == models.FEATURES
    assert signature.framework_version == lightgbm.__version__
    assert signature.num_class == {"binary": 2, "multi": 3}.get(built.objective.split(":")[0])
    assert signature.feature_names is None  # LightGBM's Column_0.. defaults are no names
    assert np.array_equal(predictor.predict(built.X), built.expected)
    # CSR rows: absent entries are missing (NaN), as for XGBoost.
    assert np.array_equal(predictor.predict(absent_where_missing(built.X)), built.expected)


def test_lightgbm_objective_without_a_mapping_needs_inference_json(tmp_path):
    built = models.lightgbm_model(tmp_path, "regression", name="model.txt")
    path = built.model_dir / "model.txt"
    path.write_text(path.read_text().replace("objective=regression", "objective=custom", 1))
    assert_model_error(
        built.model_dir,
        "model.txt: LightGBM objective 'custom' has no mapping here; name the objective in "
        "inference.json (e.g. reg:squarederror for raw scores)",
    )
    models.inference_json(built.model_dir, objective="reg:squarederror")
    assert frameworks.load(built.model_dir).signature.objective == "reg:squarederror"


# ---------------------------------------------------------------------------------------------
# ONNX
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("zipmap", [True, False], ids=["zipmap", "tensor"])
@pytest.mark.parametrize("kind", models.ONNX_KINDS)
def test_onnx_models_answer_sklearn_to_float32_rounding(tmp_path, kind, zipmap):
    built = models.onnx_model(tmp_path, kind, zipmap=zipmap)
    predictor = frameworks.load(built.model_dir, threads=1)

    signature = predictor.signature
    assert (signature.framework, signature.objective) == ("onnx", built.objective)
    assert signature.num_features == built.num_features
    assert signature.framework_version == onnxruntime.__version__
    assert signature.classes == built.classes  # a ZipMap's keys; a tensor has none
    if built.objective != "reg:squarederror":
        assert signature.num_class == built.predict_proba.shape[1]
    answered = predictor.predict(built.X)
    assert answered.shape == built.expected.shape
    np.testing.assert_allclose(answered, built.expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        predictor.predict(sp.csr_matrix(built.X)), built.expected, rtol=1e-5, atol=1e-6
    )


def test_onnx_rows_are_fed_as_float32_and_nan_stays_nan(tmp_path):
    built = models.onnx_model(tmp_path, "regressor")
    predictor = frameworks.load(built.model_dir)
    rows = built.X[:3].copy()
    rows[1, 2] = np.nan
    answered = predictor.predict(rows)
    assert np.isnan(answered[1]) and not np.isnan(answered[[0, 2]]).any()
    assert answered.dtype == np.float32


def test_onnx_zipmap_classes_can_be_relabelled_in_inference_json(tmp_path):
    built = models.onnx_model(tmp_path, "multiclass")
    models.inference_json(built.model_dir, classes=["setosa", "versicolor", "virginica"])
    predictor = frameworks.load(built.model_dir)
    assert predictor.signature.classes == ("setosa", "versicolor", "virginica")
    np.testing.assert_allclose(predictor.predict(built.X), built.expected, rtol=1e-5, atol=1e-6)


def test_an_onnx_single_output_can_be_declared_a_probability(tmp_path):
    built = models.onnx_model(tmp_path, "regressor")
    models.inference_json(built.model_dir, objective="binary:logistic", classes=["no", "yes"])
    signature = frameworks.load(built.model_dir).signature
    assert (signature.objective, signature.num_class, signature.classes) == (
        "binary:logistic",
        2,
        ("no", "yes"),
    )


def test_onnx_classifier_objective_must_agree_with_inference_json(tmp_path):
    built = models.onnx_model(tmp_path, "multiclass")
    models.inference_json(built.model_dir, objective="binary:logistic")
    assert_model_error(
        built.model_dir,
        "inference.json says objective binary:logistic; model.onnx is a classifier with 3 classes "
        "(multi:softprob)",
    )


# ---------------------------------------------------------------------------------------------
# inference.json
# ---------------------------------------------------------------------------------------------
def test_inference_json_names_features_and_classes(tmp_path):
    built = models.xgboost_model(tmp_path)
    names = [f"v{i}" for i in range(6)]
    models.inference_json(
        built.model_dir, features=names, classes=["legit", "fraud"], objective="binary:logistic"
    )
    signature = frameworks.load(built.model_dir).signature
    assert signature.feature_names == tuple(names)
    assert (signature.classes, signature.num_class) == (("legit", "fraud"), 2)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"features": 7}, "inference.json lists 7 features; xgboost-model takes 6"),
        ({"features": ["a"] * 5}, "inference.json lists 5 features; xgboost-model takes 6"),
        ({"classes": ["a", "b", "c"]}, "inference.json lists 3 classes; xgboost-model has 2"),
        (
            {"objective": "reg:squarederror"},
            "inference.json says objective reg:squarederror; xgboost-model is binary:logistic",
        ),
        (
            {"labels": ["a"], "featurs": 3},
            "inference.json has unknown keys featurs, labels; the allowed keys are features, "
            "classes, output_names, objective, model_file",
        ),
        (
            {"features": "six"},
            "inference.json: features must be a feature count or a list of names; got 'six'",
        ),
        (
            {"classes": ["a", "a"]},
            "inference.json: classes must be a list of two or more distinct labels; got ['a', 'a']",
        ),
        (
            {"objective": "magic"},
            "inference.json: objective 'magic' is not one this server serves (binary:*, multi:*, "
            "reg:*, count:*, survival:*, rank:* or transform)",
        ),
        (
            {"model_file": "model.bin"},
            "inference.json names model_file 'model.bin', which the artifact does not hold (it "
            "holds xgboost-model)",
        ),
    ],
)
def test_inference_json_is_checked_against_the_model(tmp_path, metadata, message):
    built = models.xgboost_model(tmp_path)
    models.inference_json(built.model_dir, **metadata)
    assert_model_error(built.model_dir, message)


def test_inference_json_classes_on_a_regressor_and_mismatched_names_are_refused(tmp_path):
    regressor = models.sklearn_model(tmp_path, "regressor")
    models.inference_json(regressor.model_dir, classes=[0, 1])
    assert_model_error(
        regressor.model_dir,
        "inference.json lists classes, but model.joblib is not a classifier "
        "(objective reg:squarederror)",
    )
    pipeline = models.sklearn_model(tmp_path, "pipeline")
    models.inference_json(pipeline.model_dir, features=["f0", "f1", "x", "f3", "f4", "f5"])
    assert_model_error(
        pipeline.model_dir,
        "inference.json's features differ from model.joblib's feature names: feature 3 is 'x' "
        "there, 'f2' in the model",
    )
    transformer = models.sklearn_model(tmp_path, "transformer")
    models.inference_json(transformer.model_dir, output_names=["a", "b", "c"])
    assert_model_error(
        transformer.model_dir, "inference.json lists 3 output names; model.joblib has 2 outputs"
    )


def test_inference_json_model_file_picks_the_model_among_other_files(tmp_path):
    built = models.sklearn_model(tmp_path, "multiclass")
    (built.model_dir / "README.txt").write_text("trained on iris\n")
    shutil.copy(models.onnx_model(tmp_path).model_dir / "model.onnx", built.model_dir)
    models.inference_json(built.model_dir, model_file="model.joblib", output_names=["a", "b", "c"])
    predictor = frameworks.load(built.model_dir)
    assert (predictor.signature.source, predictor.signature.output_names) == (
        "model.joblib",
        ("a", "b", "c"),
    )
    assert np.array_equal(predictor.predict(built.X), built.expected)


# ---------------------------------------------------------------------------------------------
# What the artifact holds
# ---------------------------------------------------------------------------------------------
def test_an_empty_artifact_is_refused(tmp_path):
    assert_model_error(tmp_path, f"{tmp_path}: the artifact holds no files")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text("def model_fn(d): ...\n")
    models.inference_json(tmp_path, features=3)
    assert_model_error(tmp_path, f"{tmp_path}: the artifact holds no files")
    assert_model_error(
        tmp_path / "absent",
        f"{tmp_path / 'absent'}: not a directory (the extracted model artifact)",
    )


def test_unknown_files_are_named(tmp_path):
    (tmp_path / "a.txt").write_text("hello\n")
    assert_model_error(
        tmp_path, "a.txt: not an XGBoost, scikit-learn (joblib/pickle), LightGBM or ONNX model"
    )
    built = models.xgboost_model(tmp_path / "with-model")
    (built.model_dir / "notes.json").write_text('{"author": "me"}')
    assert_model_error(
        built.model_dir,
        "notes.json: not an XGBoost, scikit-learn (joblib/pickle), LightGBM or ONNX model (name "
        "the model in inference.json's model_file to ignore the rest)",
    )


def test_models_of_two_frameworks_are_refused(tmp_path):
    built = models.xgboost_model(tmp_path, name="model.json")
    shutil.copy(models.onnx_model(tmp_path).model_dir / "model.onnx", built.model_dir)
    assert_model_error(
        built.model_dir,
        "the artifact holds models of different frameworks: model.json (XGBoost), model.onnx "
        "(ONNX); serve one model per artifact, or name it in inference.json's model_file",
    )


def test_two_sklearn_models_are_refused(tmp_path):
    built = models.sklearn_model(tmp_path, name="a.joblib")
    shutil.copy(built.model_dir / "a.joblib", built.model_dir / "b.joblib")
    assert_model_error(
        built.model_dir,
        "the artifact holds 2 scikit-learn models (a.joblib, b.joblib); only XGBoost models form "
        "an ensemble: keep one, or name it in inference.json's model_file",
    )


def test_code_directories_and_hidden_files_are_not_models(tmp_path):
    built = models.lightgbm_model(tmp_path)
    (built.model_dir / "code").mkdir()
    (built.model_dir / "code" / "inference.py").write_text("def model_fn(model_dir): ...\n")
    (built.model_dir / "code" / "requirements.txt").write_text("lightgbm\n")
    (built.model_dir / "._model.txt").write_bytes(b"\x00\x05\x16\x07")  # macOS AppleDouble
    predictor = frameworks.load(built.model_dir)
    assert predictor.signature.source == "model.txt"
    assert np.array_equal(predictor.predict(built.X), built.expected)


def test_models_in_subdirectories_and_from_a_tarball(tmp_path):
    built = models.xgboost_model(tmp_path)
    tarball = built.tarball(tmp_path / "out" / "model.tar.gz")
    assert tarball.read_bytes() == built.tarball(tmp_path / "again.tar.gz").read_bytes()
    extracted = tmp_path / "extracted"
    unpack(tarball, extracted)
    assert np.array_equal(frameworks.load(extracted).predict(built.X), built.expected)

    copied = tmp_path / "copied"  # the tarball itself in the model directory
    copied.mkdir()
    shutil.copy(tarball, copied)
    assert np.array_equal(frameworks.load(copied).predict(built.X), built.expected)

    nested = tmp_path / "nested"
    shutil.copytree(built.model_dir, nested / "model")
    predictor = frameworks.load(nested)
    assert predictor.signature.source == "model/xgboost-model"


def test_importing_the_module_imports_no_framework(tmp_path):
    """The server and the CLI import serving.frameworks at start: the frameworks load only when
    a model of theirs is found."""
    built = models.xgboost_model(tmp_path)
    script = (
        "import sys\n"
        "from serving import frameworks\n"
        "heavy = ('lightgbm', 'onnxruntime', 'xgboost', 'sklearn')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        f"frameworks.load(frameworks.Path({str(built.model_dir)!r}))\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    at_import, after_xgboost = result.stdout.splitlines()
    assert at_import == "[]"
    assert "lightgbm" not in after_xgboost and "onnxruntime" not in after_xgboost

"""Small real models of every framework the serving core loads, written as model directories.

Each builder trains a tiny deterministic model (at most 200 rows, milliseconds), writes it into
a fresh directory under `tmp` the way a user would ship it (the file name and format they would
use), and returns a BuiltModel: the directory, the rows, and what the framework itself answers
for them (`predict`, `predict_proba`), plus `expected`: what serving's Predictor must answer
(serving.predictor's table: P(positive class) for a binary classifier, class indices for a
classifier without probabilities, …). `tarball(path)` packs the directory as a reproducible
model.tar.gz.

lightgbm and skl2onnx are imported by their builders only.
"""

from __future__ import annotations

import io
import itertools
import json
import pickle
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import xgboost as xgb
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from serving.artifact import MODEL_FILE, write_members
from tests.helpers.paths import REPO

# The XGBoost 1.7 interpreter (`make compat-venv`): the only one that still writes legacy binary.
COMPAT_PYTHON = REPO / "build" / "compat" / "xgboost17" / "bin" / "python"

ROWS = 120
FEATURES = 6

_directories = itertools.count()


@dataclass(frozen=True)
class BuiltModel:
    model_dir: Path
    X: np.ndarray  # float64 rows (NaN = missing where the framework reads missing values)
    predict: np.ndarray  # the framework's own predict for X
    predict_proba: np.ndarray | None  # its predict_proba for X (scikit-learn classifiers)
    expected: np.ndarray  # what serving's Predictor answers for X
    objective: str
    num_features: int
    classes: tuple[Any, ...] | None = None
    model_file: str = MODEL_FILE

    def tarball(self, path: Path) -> Path:
        """The directory as model.tar.gz with fixed metadata: the same model, the same bytes."""
        return write_tarball(self.model_dir, path)


def write_tarball(model_dir: Path, path: Path) -> Path:
    """The directory's files (sorted, relative paths) as a reproducible model.tar.gz."""
    files = sorted(p for p in model_dir.rglob("*") if p.is_file())
    write_members({f.relative_to(model_dir).as_posix(): f.read_bytes() for f in files}, path)
    return path


def new_model_dir(tmp: Path, stem: str) -> Path:
    path = tmp / f"{stem}-{next(_directories)}"
    path.mkdir(parents=True)
    return path


def rows(
    seed: int = 0, n: int = ROWS, features: int = FEATURES, missing: bool = True
) -> np.ndarray:
    """Standard-normal rows (no exact zeros); with `missing`, a few NaN cells."""
    X = np.random.default_rng(seed).normal(size=(n, features))
    if missing:
        X[3, 1] = X[17, 4] = X[40, 0] = np.nan
    return X


def labels(objective: str, X: np.ndarray) -> np.ndarray:
    """A target that an objective can learn from X."""
    signal = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1])
    if objective.startswith(("binary:", "rank:", "reg:logistic")):
        return (signal > 0).astype(float)
    if objective.startswith("multi:"):
        return np.digitize(signal, [-0.5, 0.5]).astype(float)
    if objective in ("count:poisson", "reg:gamma", "reg:tweedie", "survival:aft"):
        return np.round(np.exp(signal / 2), 1) + 0.1
    if objective == "reg:squaredlogerror":
        return np.abs(signal) + 0.1
    return 3 * signal + 1


def xgboost_params(objective: str, seed: int = 0) -> dict[str, Any]:
    params: dict[str, Any] = {"objective": objective, "max_depth": 2, "seed": seed, "nthread": 1}
    if objective.startswith("multi:"):
        params["num_class"] = 3
    if objective == "reg:quantileerror":
        params["quantile_alpha"] = [0.1, 0.9]  # two targets: (n, 2) answers
    if seed:
        params["subsample"] = 0.8
    return params


def train_booster(objective: str, X: np.ndarray, seed: int = 0, rounds: int = 5) -> xgb.Booster:
    y = labels(objective, X)
    if objective == "survival:aft":
        train = xgb.DMatrix(X)
        train.set_float_info("label_lower_bound", y)
        train.set_float_info("label_upper_bound", y)
    else:
        train = xgb.DMatrix(X, label=y)
    if objective.startswith("rank:"):
        train.set_group([len(X) // 2, len(X) - len(X) // 2])
    return xgb.train(xgboost_params(objective, seed), train, rounds)


def xgboost_model(
    tmp: Path,
    objective: str = "binary:logistic",
    fmt: str = "json",
    name: str = MODEL_FILE,
    seed: int = 0,
) -> BuiltModel:
    """An XGBoost model file: fmt "json" | "ubj" (save_raw), "pickle" (a pickled Booster, as
    SageMaker's older XGBoost images wrote xgboost-model), "sklearn" (a joblib'd XGBClassifier
    or XGBRegressor), or "legacy" (binary, written by XGBoost 1.7: see COMPAT_PYTHON)."""
    model_dir = new_model_dir(tmp, "xgboost")
    X = rows(seed)
    if fmt == "legacy":
        return _legacy_xgboost_model(model_dir, objective, name, X)
    classes = (0, 1) if objective.startswith("binary:") else None
    if objective.startswith("multi:"):
        classes = (0, 1, 2)
    if fmt == "sklearn":
        kind = xgb.XGBClassifier if classes else xgb.XGBRegressor
        params = xgboost_params(objective, seed)
        params.pop("num_class", None)
        params["random_state"] = params.pop("seed")
        params["n_jobs"] = params.pop("nthread")
        model = kind(n_estimators=5, **params).fit(X, labels(objective, X))
        joblib.dump(model, model_dir / name)
        booster = model.get_booster()
    else:
        booster = train_booster(objective, X, seed)
        if fmt == "pickle":
            (model_dir / name).write_bytes(pickle.dumps(booster))
        elif fmt in ("json", "ubj"):
            (model_dir / name).write_bytes(bytes(booster.save_raw(fmt)))
        else:
            raise ValueError(f"fmt {fmt!r}: use json, ubj, pickle, sklearn or legacy")
    predicted = booster.predict(xgb.DMatrix(X))
    return BuiltModel(
        model_dir=model_dir,
        X=X,
        predict=predicted,
        predict_proba=None,
        expected=predicted,
        objective=objective,
        num_features=FEATURES,
        classes=classes if fmt == "sklearn" else None,
        model_file=name,
    )


_LEGACY_SCRIPT = """
import sys
import numpy as np
import xgboost as xgb
directory, objective, name = sys.argv[1:4]
X = np.load(directory + "/rows.npy")
y = np.load(directory + "/labels.npy")
booster = xgb.train({"objective": objective, "max_depth": 2, "seed": 0, "nthread": 1},
                    xgb.DMatrix(X, label=y), 5)
open(directory + "/" + name, "wb").write(booster.save_raw("deprecated"))
np.save(directory + "/predicted.npy", booster.predict(xgb.DMatrix(X)))
"""


def _legacy_xgboost_model(model_dir: Path, objective: str, name: str, X: np.ndarray) -> BuiltModel:
    if not COMPAT_PYTHON.is_file():
        raise FileNotFoundError(f"{COMPAT_PYTHON} is missing: run `make compat-venv`")
    work = model_dir.parent / f"{model_dir.name}-work"
    work.mkdir()
    np.save(work / "rows.npy", X)
    np.save(work / "labels.npy", labels(objective, X))
    subprocess.run(
        [str(COMPAT_PYTHON), "-c", _LEGACY_SCRIPT, str(work), objective, name],
        check=True,
        capture_output=True,
    )
    (work / name).rename(model_dir / name)
    predicted = np.load(work / "predicted.npy")
    return BuiltModel(
        model_dir, X, predicted, None, predicted, objective, FEATURES, model_file=name
    )


def xgboost_ensemble(
    tmp: Path, objective: str = "binary:logistic", formats: tuple[str, ...] = ("json", "ubj")
) -> BuiltModel:
    """Several XGBoost files in one artifact (different seeds, one per format): SageMaker's
    XGBoost container answers the mean of their predictions."""
    model_dir = new_model_dir(tmp, "xgboost-ensemble")
    X = rows()
    predictions = []
    for seed, fmt in enumerate(formats):
        booster = train_booster(objective, X, seed)
        name = f"model-{seed}.{fmt}"
        if fmt == "pickle":
            (model_dir / name).write_bytes(pickle.dumps(booster))
        else:
            (model_dir / name).write_bytes(bytes(booster.save_raw(fmt)))
        predictions.append(booster.predict(xgb.DMatrix(X)))
    mean = np.mean(predictions, axis=0)
    return BuiltModel(
        model_dir, X, mean, None, mean, objective, FEATURES, model_file=f"model-0.{formats[0]}"
    )


# ---------------------------------------------------------------------------------------------
# scikit-learn
# ---------------------------------------------------------------------------------------------
SKLEARN_KINDS = (
    "classifier",  # LogisticRegression, 2 classes → binary:logistic
    "multiclass",  # DecisionTreeClassifier on iris (the seeds' scikit BYO) → multi:softprob
    "hinge",  # LinearSVC, 2 text classes, no predict_proba → binary:hinge
    "softmax",  # LinearSVC on iris → multi:softmax
    "regressor",  # Ridge → reg:squarederror
    "transformer",  # StandardScaler + PCA (transform only) → transform
    "pipeline",  # StandardScaler + LogisticRegression, fitted on a DataFrame, text classes
)


def sklearn_model(
    tmp: Path,
    kind: str = "classifier",
    name: str = "model.joblib",
    writer: str = "joblib",
    compress: int = 0,
    saved_version: str | None = None,
) -> BuiltModel:
    """A fitted estimator (see SKLEARN_KINDS) written with joblib (optionally compressed) or
    pickle. saved_version writes it as if that scikit-learn version had pickled it: the
    `_sklearn_version` in every estimator's state, which is what scikit-learn checks on load."""
    model_dir = new_model_dir(tmp, f"sklearn-{kind}")
    estimator, X = _fit_sklearn(kind)
    if saved_version is not None:
        (model_dir / name).write_bytes(_pickle_as_version(estimator, saved_version))
    elif writer == "joblib":
        joblib.dump(estimator, model_dir / name, compress=compress)
    elif writer == "pickle":
        (model_dir / name).write_bytes(pickle.dumps(estimator))
    else:
        raise ValueError(f"writer {writer!r}: use joblib or pickle")

    proba = None
    classes = None
    if kind == "transformer":
        predicted = estimator.transform(X)
        expected, objective = predicted, "transform"
    else:
        with warnings.catch_warnings():
            # Fitted on a DataFrame, asked about the same columns as an array: as served.
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            predicted = estimator.predict(X)
            proba = estimator.predict_proba(X) if hasattr(estimator, "predict_proba") else None
        expected, objective = predicted, "reg:squarederror"
    if kind in ("classifier", "multiclass", "pipeline"):
        binary = proba.shape[1] == 2
        expected = proba[:, 1] if binary else proba
        objective = "binary:logistic" if binary else "multi:softprob"
    if kind in ("hinge", "softmax"):
        index = {label: i for i, label in enumerate(estimator.classes_)}
        expected = np.array([index[label] for label in predicted], dtype=float)
        objective = "binary:hinge" if kind == "hinge" else "multi:softmax"
    if hasattr(estimator, "classes_"):
        classes = tuple(c.item() if isinstance(c, np.generic) else c for c in estimator.classes_)
    return BuiltModel(
        model_dir=model_dir,
        X=X,
        predict=predicted,
        predict_proba=proba,
        expected=expected,
        objective=objective,
        num_features=X.shape[1],
        classes=classes,
        model_file=name,
    )


def iris() -> tuple[np.ndarray, np.ndarray]:
    data = load_iris()
    return data.data.astype(np.float64), data.target


def _fit_sklearn(kind: str) -> tuple[Any, np.ndarray]:
    if kind != "pipeline":
        return _fit_sklearn_on_rows(kind)
    import pandas as pd  # only to fit with column names (feature_names_in_)

    X = rows(missing=False)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    target = np.where(labels("binary:logistic", X) > 0, "fraud", "legit")
    steps = [("scale", StandardScaler()), ("model", LogisticRegression())]
    return Pipeline(steps).fit(frame, target), X


def _fit_sklearn_on_rows(kind: str) -> tuple[Any, np.ndarray]:
    X = rows(missing=False)
    binary = labels("binary:logistic", X)
    if kind == "classifier":
        return LogisticRegression().fit(X, binary.astype(int)), X
    if kind == "multiclass":
        X, y = iris()
        return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), X
    if kind == "hinge":
        text = np.where(binary > 0, "yes", "no")
        return LinearSVC(random_state=0).fit(X, text), X
    if kind == "softmax":
        X, y = iris()
        return LinearSVC(random_state=0, max_iter=5000).fit(X, y), X
    if kind == "regressor":
        return Ridge().fit(X, labels("reg:squarederror", X)), X
    if kind == "transformer":
        return Pipeline([("scale", StandardScaler()), ("pca", PCA(2, random_state=0))]).fit(X), X
    raise ValueError(f"kind {kind!r}: use one of {', '.join(SKLEARN_KINDS)}")


def _pickle_as_version(estimator: Any, version: str) -> bytes:
    """The estimator pickled with `version` as every scikit-learn estimator's saving version."""

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if not type(obj).__module__.startswith("sklearn.") or isinstance(obj, type):
                return NotImplemented
            reduced = obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
            if len(reduced) < 3 or not isinstance(reduced[2], dict):
                return NotImplemented
            state = dict(reduced[2], _sklearn_version=version)
            return (reduced[0], reduced[1], state, *reduced[3:])

    out = io.BytesIO()
    Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(estimator)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# LightGBM
# ---------------------------------------------------------------------------------------------
LIGHTGBM_OBJECTIVES = {
    # LightGBM objective → what serving maps it to
    "binary": "binary:logistic",
    "multiclass": "multi:softprob",
    "multiclassova": "multi:softprob",
    "regression": "reg:squarederror",
    "huber": "reg:pseudohubererror",
    "quantile": "reg:quantileerror",
    "poisson": "count:poisson",
    "lambdarank": "rank:pairwise",
    "cross_entropy": "binary:logistic",
}


def lightgbm_model(tmp: Path, objective: str = "binary", name: str = "model.txt") -> BuiltModel:
    """A LightGBM text model file (Booster.save_model) for one of LIGHTGBM_OBJECTIVES."""
    import lightgbm

    model_dir = new_model_dir(tmp, f"lightgbm-{objective}")
    X = rows()
    served = LIGHTGBM_OBJECTIVES[objective]
    params: dict[str, Any] = {
        "objective": objective,
        "num_leaves": 4,
        "min_data_in_leaf": 5,
        "num_threads": 1,
        "seed": 0,
        "deterministic": True,
        "verbose": -1,
    }
    if served.startswith("multi:"):
        params["num_class"] = 3
    y = labels(served, X)
    if objective == "lambdarank":
        y = y.astype(int)
    train = lightgbm.Dataset(X, label=y)
    if objective == "lambdarank":
        train.set_group([ROWS // 2, ROWS - ROWS // 2])
    lightgbm.train(params, train, num_boost_round=5).save_model(str(model_dir / name))
    predicted = lightgbm.Booster(model_file=str(model_dir / name)).predict(X)
    return BuiltModel(model_dir, X, predicted, None, predicted, served, FEATURES, model_file=name)


# ---------------------------------------------------------------------------------------------
# ONNX (skl2onnx)
# ---------------------------------------------------------------------------------------------
ONNX_KINDS = ("classifier", "multiclass", "regressor")


def onnx_model(
    tmp: Path, kind: str = "classifier", zipmap: bool = True, name: str = "model.onnx"
) -> BuiltModel:
    """A scikit-learn model converted by skl2onnx: "classifier" (LogisticRegression, 2 classes),
    "multiclass" (DecisionTreeClassifier on iris), "regressor" (LinearRegression). zipmap=False
    writes probabilities as a tensor instead of one {class: probability} map per row.
    predict/predict_proba/expected are scikit-learn's (float64): ONNX answers them to float32
    rounding."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    model_dir = new_model_dir(tmp, f"onnx-{kind}")
    X = rows(missing=False)
    if kind == "classifier":
        estimator: Any = LogisticRegression().fit(X, labels("binary:logistic", X).astype(int))
    elif kind == "multiclass":
        X, y = iris()
        estimator = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    elif kind == "regressor":
        estimator = LinearRegression().fit(X, labels("reg:squarederror", X))
    else:
        raise ValueError(f"kind {kind!r}: use one of {', '.join(ONNX_KINDS)}")
    options = None if zipmap or kind == "regressor" else {id(estimator): {"zipmap": False}}
    onnx = convert_sklearn(
        estimator,
        initial_types=[("input", FloatTensorType([None, X.shape[1]]))],
        options=options,
        target_opset=17,
    )
    (model_dir / name).write_bytes(onnx.SerializeToString())
    predicted = estimator.predict(X)
    proba = estimator.predict_proba(X) if kind != "regressor" else None
    classes = None
    objective, expected = "reg:squarederror", predicted
    if proba is not None:
        binary = proba.shape[1] == 2
        objective = "binary:logistic" if binary else "multi:softprob"
        expected = proba[:, 1] if binary else proba
        if zipmap:
            classes = tuple(int(c) for c in estimator.classes_)
    return BuiltModel(
        model_dir=model_dir,
        X=X,
        predict=predicted,
        predict_proba=proba,
        expected=expected,
        objective=objective,
        num_features=X.shape[1],
        classes=classes,
        model_file=name,
    )


def inference_json(model_dir: Path, **metadata: Any) -> Path:
    """Write inference.json beside the model."""
    path = model_dir / "inference.json"
    path.write_text(json.dumps(metadata))
    return path

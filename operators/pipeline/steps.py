"""The pipeline's work, one function per step, on local directories: what `byo pipeline run` does
locally and what the operators image does as a SageMaker processing job (`byo pipeline step …`).

Files between steps are SageMaker's: train/validation/test as headerless CSV with the label
first (what the built-in XGBoost algorithm trains on), the feature names beside them in
schema.json, the model as model.tar.gz holding `xgboost-model`. The optional preprocess step
writes the splits transformed, in the same format, and the fitted preprocessor as
preprocess.tar.gz (model.joblib and inference.json): the first container of a serial inference
pipeline whose second is XGBoost.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import xgboost as xgb

from operators.errors import ConfigError
from operators.monitoring import datasets, monitor
from operators.pipeline.params import PREPROCESSING, hyperparameters_from_json, resolve
from operators.pipeline.training import binary_classification_metrics, fit, split
from operators.s3 import sha256_of
from serving.artifact import MODEL_FILE, load_booster, unpack, write_members, write_tarball

MIN_CLASS_ROWS = 10  # of each class, so that every split gets both
NUMERIC = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)
SPLITS = ("train", "validation", "test")
SPLIT_CSV = pacsv.WriteOptions(include_header=False, quoting_style="none")
PREPROCESSOR = "preprocessor/preprocess.tar.gz"  # in the preprocess step's output
PREPROCESSOR_MODEL = "model.joblib"
PREPROCESSOR_SIGNATURE = "inference.json"


def _is_numeric(kind: pa.DataType) -> bool:
    return any(check(kind) for check in NUMERIC) or pa.types.is_null(kind)


def read_input(paths: list[Path]) -> pa.Table:
    """One table from CSVs with the same header (pyarrow's multi-threaded reader)."""
    if not paths:
        raise ConfigError("InputData holds no CSV file")
    tables = []
    for path in paths:
        try:
            tables.append(pacsv.read_csv(path))
        except FileNotFoundError:
            raise ConfigError(f"InputData {path}: no such file") from None
        except pa.ArrowInvalid as exc:
            raise ConfigError(f"InputData {path}: not a CSV with a header: {exc}") from None
    first = tables[0].column_names
    for path, table in zip(paths[1:], tables[1:], strict=True):
        if table.column_names != first:
            raise ConfigError(f"InputData {path}: its header differs from {paths[0]}'s")
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except pa.ArrowInvalid as exc:
        raise ConfigError(f"InputData: the files' columns have different types: {exc}") from None


def _labels(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The target as 0/1 and which rows hold a usable one (0, 1, 0.0, 1.0, true, false)."""
    if pa.types.is_boolean(column.type):
        column = pc.cast(column, pa.int8())
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
    else:
        words = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "false": 0.0, "true": 1.0}
        text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
        values = np.array([words.get(t, np.nan) for t in text.to_pylist()], dtype=np.float64)
    valid = np.isin(values, (0.0, 1.0))
    return np.where(valid, values, 0).astype(np.int8), valid


def process(
    inputs: list[Path],
    out_dir: Path,
    *,
    target: str,
    train_fraction: float,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
) -> dict[str, Any]:
    """Check the data, set aside rows without a usable label (rejected/rejected.csv, with the
    reason), and split the rest, stratified, into train/validation/test."""
    table = read_input(inputs)
    if target not in table.column_names:
        raise ConfigError(
            f"TargetColumn {target!r} is not a column of the input; its columns: "
            + ", ".join(table.column_names)
        )
    features = [name for name in table.column_names if name != target]
    text = [name for name in features if not _is_numeric(table.column(name).type)]
    if text:
        raise ConfigError(
            f"feature columns {', '.join(text)} are not numeric: xgboost trains on numbers; "
            "encode or drop them"
        )
    if not features:
        raise ConfigError(f"the input has no feature columns besides {target!r}")
    label, valid = _labels(table.column(target))
    rejected = int((~valid).sum())
    if rejected:
        bad = table.filter(pa.array(~valid))
        reasons = pa.array(
            [
                f"{target} is missing"
                if value is None or str(value).strip() == ""
                else f"{target} is {value!r}, not 0 or 1"
                for value in bad.column(target).to_pylist()
            ]
        )
        out = out_dir / "rejected" / "rejected.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(bad.append_column("reason", reasons), out)
    kept = table.filter(pa.array(valid)) if rejected else table
    label = label[valid]
    positives = int(label.sum())
    negatives = len(label) - positives
    smallest = min(train_fraction, validation_fraction, test_fraction)
    if min(positives, negatives) < max(MIN_CLASS_ROWS, int(np.ceil(2 / smallest))):
        raise ConfigError(
            f"TargetColumn {target!r} has {positives} rows of 1 and {negatives} of 0 (after "
            f"{rejected} rejected): each class needs at least "
            f"{max(MIN_CLASS_ROWS, int(np.ceil(2 / smallest)))} rows to reach every split"
        )
    (train_idx, _), (val_idx, _), (test_idx, _) = split(
        np.arange(len(label)), label, seed, validation_fraction, test_fraction
    )
    ordered = kept.select(features).append_column(target, pa.array(label))
    rows = {}
    for name, indices in (("train", train_idx), ("validation", val_idx), ("test", test_idx)):
        part = ordered.take(pa.array(indices))
        # SageMaker's XGBoost: headerless CSV, the label in the first column.
        _write_split(part.select([target, *features]), out_dir / name / f"{name}.csv")
        rows[name] = {"rows": part.num_rows, "positives": int(label[indices].sum())}
    schema = {
        "target": target,
        "features": features,
        "input_rows": table.num_rows,
        "rejected_rows": rejected,
        "splits": rows,
        "seed": seed,
        "fractions": {
            "train": train_fraction,
            "validation": validation_fraction,
            "test": test_fraction,
        },
    }
    (out_dir / "schema").mkdir(parents=True, exist_ok=True)
    (out_dir / "schema" / "schema.json").write_text(json.dumps(schema, indent=2) + "\n")
    return schema


def _write_split(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, write_options=SPLIT_CSV)


def read_split(path: Path, schema: dict[str, Any]) -> tuple[pa.Table, np.ndarray]:
    """A headerless, label-first split written by `process`: (features, label)."""
    names = [schema["target"], *schema["features"]]
    csv_file = path / f"{path.name}.csv" if path.is_dir() else path
    try:
        table = pacsv.read_csv(csv_file, read_options=pacsv.ReadOptions(column_names=names))
    except (FileNotFoundError, pa.ArrowInvalid) as exc:
        raise ConfigError(f"{csv_file}: not a split written by the process step: {exc}") from None
    label = table.column(schema["target"]).to_numpy(zero_copy_only=False).astype(np.int8)
    return table.drop_columns([schema["target"]]), label


def _float_matrix(table: pa.Table) -> np.ndarray:
    return np.column_stack(
        [
            table.column(n).cast(pa.float64()).to_numpy(zero_copy_only=False)
            for n in table.column_names
        ]
    )


def _preprocessor(method: str) -> Any:
    """The unfitted scikit-learn Pipeline `method` names (params.PREPROCESSING)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if method == "standard-scaler":
        # keep_empty_features: a column without a value in the train split stays (as 0), so the
        # transformed rows keep the schema's width and names.
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
    choices = ", ".join(m for m in PREPROCESSING if m != "none")
    raise ConfigError(f"parameter Preprocessing: {method!r} fits nothing; choose {choices}")


def preprocess(
    train_dir: Path,
    validation_dir: Path,
    test_dir: Path,
    schema_file: Path,
    out_dir: Path,
    *,
    method: str,
) -> dict[str, Any]:
    """Fit the preprocessor (standard-scaler: SimpleImputer(median) → StandardScaler) on the
    train split's features; write it as preprocessor/preprocess.tar.gz (model.joblib, and
    inference.json naming its input and output columns: the schema's features) and the three
    splits, transformed, in process's format under train/ validation/ test/."""
    import joblib
    import sklearn

    schema = json.loads(schema_file.read_text())
    pipeline = _preprocessor(method)
    sources = {"train": train_dir, "validation": validation_dir, "test": test_dir}
    x_train, _ = read_split(train_dir, schema)
    pipeline.fit(_float_matrix(x_train))  # an array, not a table: served rows have no header
    features = schema["features"]
    for name, source in sources.items():
        x, label = read_split(source, schema)
        transformed = pipeline.transform(_float_matrix(x))
        columns = {schema["target"]: pa.array(label)}
        columns.update({f: pa.array(transformed[:, i]) for i, f in enumerate(features)})
        _write_split(pa.table(columns), out_dir / name / f"{name}.csv")
    model = io.BytesIO()
    joblib.dump(pipeline, model)
    signature = {"features": features, "output_names": features}
    tarball = out_dir / PREPROCESSOR
    write_members(
        {
            PREPROCESSOR_MODEL: model.getvalue(),
            PREPROCESSOR_SIGNATURE: (json.dumps(signature, indent=2) + "\n").encode(),
        },
        tarball,
    )
    return {
        "preprocessing": method,
        "steps": [type(step).__name__ for _, step in pipeline.steps],
        "features": len(features),
        "framework": f"scikit-learn {sklearn.__version__}",
    }


def transformed(tarball: Path, tables: list[pa.Table]) -> list[pa.Table]:
    """`tables` as the serial pipeline's first container answers them: the preprocessor in
    preprocess.tar.gz, loaded and applied by the serving core (serving.frameworks), so that
    what is evaluated is what is served; columns keep their names."""
    from serving.frameworks import load
    from serving.predictor import TRANSFORM, ArtifactError, PredictionError

    results = []
    with tempfile.TemporaryDirectory(prefix="byo-preprocessor-") as directory:
        try:
            unpack(tarball, Path(directory))
            predictor = load(Path(directory), allow_pickle=True)
        except (OSError, tarfile.TarError, ArtifactError) as exc:
            raise ConfigError(
                f"{tarball}: not a preprocessor the serving image loads: {exc}"
            ) from None
        if predictor.signature.objective != TRANSFORM:
            raise ConfigError(
                f"{tarball} holds a {predictor.signature.objective} model, not a transformer"
            )
        for table in tables:
            try:
                rows = np.asarray(predictor.predict(_float_matrix(table)), dtype=np.float64)
            except PredictionError as exc:
                raise ConfigError(f"{tarball}: the preprocessor refused the rows: {exc}") from None
            if rows.shape != (table.num_rows, table.num_columns):
                raise ConfigError(
                    f"{tarball}: the preprocessor answered {rows.shape} for "
                    f"{table.num_rows} rows of {table.num_columns} features"
                )
            results.append(pa.table({n: rows[:, i] for i, n in enumerate(table.column_names)}))
    return results


def train(
    train_dir: Path,
    validation_dir: Path,
    schema_file: Path,
    out_dir: Path,
    *,
    hyperparameters: dict[str, Any],
    threads: int = 0,
    package: bool = True,
) -> dict[str, Any]:
    """xgboost with early stopping on the validation split: model.tar.gz as SageMaker's
    container loads it, or (package=False, in a SageMaker training job, which packs the model
    directory itself) the bare `xgboost-model` file."""
    started = time.perf_counter()
    schema = json.loads(schema_file.read_text())
    x_train, y_train = read_split(train_dir, schema)
    x_val, y_val = read_split(validation_dir, schema)
    params = {
        k: v for k, v in hyperparameters.items() if k not in ("num_round", "early_stopping_rounds")
    }
    if threads:
        params["nthread"] = threads
    model_bytes, best = fit(
        (_float_matrix(x_train), y_train),
        (_float_matrix(x_val), y_val),
        params,
        num_round=int(hyperparameters["num_round"]),
        early_stopping_rounds=int(hyperparameters["early_stopping_rounds"]),
    )
    if package:
        write_tarball(model_bytes, out_dir / "model.tar.gz")
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / MODEL_FILE).write_bytes(model_bytes)
    return {
        "best_iteration": best,
        "framework": f"xgboost {xgb.__version__}",
        "seconds": round(time.perf_counter() - started, 3),
    }


def evaluate(
    model_file: Path,
    test_dir: Path,
    train_dir: Path,
    schema_file: Path,
    out_dir: Path,
    preprocessor: Path | None = None,
) -> dict[str, Any]:
    """evaluation.json (binary_classification_metrics on the test split) and, in baselines/,
    the drift-check baselines `byo monitor` reads: data quality of the training split, model
    quality on the test split, feature attributions.

    With a preprocessor (preprocess.tar.gz), the model is the serial pipeline it makes with
    the booster: the raw splits go through both stages, as served. Data quality stays on the
    raw training split (what the endpoint receives and captures); attributions are the
    booster's, on the transformed rows (one column per feature, under its name)."""
    schema = json.loads(schema_file.read_text())
    booster = load_booster(model_file)
    x_test, y_test = read_split(test_dir, schema)
    x_train, y_train = read_split(train_dir, schema)
    model_test, model_train = x_test, x_train
    if preprocessor is not None:
        model_test, model_train = transformed(preprocessor, [x_test, x_train])
    if booster.num_features() != model_test.num_columns:
        raise ConfigError(
            f"{model_file} takes {booster.num_features()} features; the test split has "
            f"{model_test.num_columns}"
        )
    score = booster.predict(xgb.DMatrix(_float_matrix(model_test)))
    evaluation = {
        "binary_classification_metrics": binary_classification_metrics(y_test, score),
        "dataset": {
            "target": schema["target"],
            "test_rows": len(y_test),
            "test_positives": int(y_test.sum()),
            "splits": schema["splits"],
        },
        "model": {"features": schema["features"]},
    }
    if preprocessor is not None:
        evaluation["model"]["preprocessor_sha256"] = sha256_of(preprocessor)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
    suffix = "" if preprocessor is None else ", preprocessed"
    files, manifest = monitor.compute_baseline(
        datasets.Dataset(model_train, y_train, schema["target"]),
        model_bytes=model_file.read_bytes(),
        holdout=datasets.Dataset(model_test, y_test, schema["target"]),
        data_name="train split" + suffix,
        holdout_name="test split" + suffix,
    )
    if preprocessor is not None:
        raw, _ = monitor.compute_baseline(
            datasets.Dataset(x_train, y_train, schema["target"]), data_name="train split"
        )
        files.update(raw)  # the data-quality documents
        manifest["data"] = "train split"
        manifest["preprocessor_sha256"] = evaluation["model"]["preprocessor_sha256"]
    for name, document in {**files, "manifest.json": manifest}.items():
        path = out_dir / "baselines" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(monitor.dump(document))
    return evaluation


# -- the steps as the SageMaker pipeline's jobs run them (`byo pipeline step …` in the operators
# image): each input arrives as the directory SageMaker downloaded it to.
def input_file(path: Path, pattern: str) -> Path:
    """The one file a job's input directory holds (or the path itself)."""
    if path.is_file():
        return path
    found = sorted(path.rglob(pattern))
    if len(found) != 1:
        raise ConfigError(f"{path}: expected one {pattern}, found {len(found)}")
    return found[0]


def process_job(
    input_path: Path,
    out_dir: Path,
    *,
    target: str,
    train_fraction: float,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
) -> dict[str, Any]:
    """`process` over every CSV under input_path, its parameters checked as the pipeline's."""
    values = resolve(
        {
            "TargetColumn": target,
            "TrainFraction": train_fraction,
            "ValidationFraction": validation_fraction,
            "TestFraction": test_fraction,
            "Seed": seed,
        }
    )
    files = sorted(input_path.rglob("*.csv")) if input_path.is_dir() else [input_path]
    schema = process(
        files,
        out_dir,
        target=values["TargetColumn"],
        train_fraction=values["TrainFraction"],
        validation_fraction=values["ValidationFraction"],
        test_fraction=values["TestFraction"],
        seed=values["Seed"],
    )
    (out_dir / "rejected").mkdir(parents=True, exist_ok=True)  # an output SageMaker uploads
    return schema


def train_job(
    train_input: Path,
    validation_input: Path,
    schema_input: Path,
    hyperparameters_file: Path,
    model_dir: Path,
) -> dict[str, Any]:
    """`train` as a SageMaker training job: the bare `xgboost-model` into model_dir
    (/opt/ml/model), which SageMaker packs into model.tar.gz; hyperparameters as the job's
    JSON hands them over."""
    return train(
        input_file(train_input, "*.csv"),
        input_file(validation_input, "*.csv"),
        input_file(schema_input, "schema.json"),
        model_dir,
        hyperparameters=hyperparameters_from_json(json.loads(hyperparameters_file.read_text())),
        package=False,
    )


def preprocess_job(
    train_input: Path,
    validation_input: Path,
    test_input: Path,
    schema_input: Path,
    out_dir: Path,
    *,
    method: str,
) -> dict[str, Any]:
    """`preprocess` over the files the job's input directories hold."""
    resolve({"Preprocessing": method})
    return preprocess(
        input_file(train_input, "*.csv"),
        input_file(validation_input, "*.csv"),
        input_file(test_input, "*.csv"),
        input_file(schema_input, "schema.json"),
        out_dir,
        method=method,
    )


def evaluate_job(
    model_input: Path,
    test_input: Path,
    train_input: Path,
    schema_input: Path,
    out_dir: Path,
    preprocessor_input: Path | None = None,
) -> dict[str, Any]:
    """`evaluate` over the files the job's input directories hold."""
    return evaluate(
        input_file(model_input, "model.tar.gz"),
        input_file(test_input, "*.csv"),
        input_file(train_input, "*.csv"),
        input_file(schema_input, "schema.json"),
        out_dir,
        None if preprocessor_input is None else input_file(preprocessor_input, "preprocess.tar.gz"),
    )

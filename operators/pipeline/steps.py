"""The pipeline's work, one function per step, on local directories: what `byo pipeline run` does
locally and what the operators image does as a SageMaker processing job (`byo pipeline step …`).

Files between steps are SageMaker's: train/validation/test as headerless CSV with the label
first (what the built-in XGBoost algorithm trains on), the feature names beside them in
schema.json, the model as model.tar.gz holding `xgboost-model`.
"""

from __future__ import annotations

import json
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
from operators.pipeline.params import hyperparameters_from_json, resolve
from operators.pipeline.training import binary_classification_metrics, fit, split
from serving.artifact import MODEL_FILE, load_booster, write_tarball

MIN_CLASS_ROWS = 10  # of each class, so that every split gets both
NUMERIC = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean)


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
        part = part.select([target, *features])
        path = out_dir / name / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        pacsv.write_csv(part, path, write_options=options)
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
) -> dict[str, Any]:
    """evaluation.json (binary_classification_metrics on the test split) and, in baselines/,
    the drift-check baselines `byo monitor` reads: data quality of the training split, model
    quality on the test split, feature attributions."""
    schema = json.loads(schema_file.read_text())
    booster = load_booster(model_file)
    x_test, y_test = read_split(test_dir, schema)
    if booster.num_features() != x_test.num_columns:
        raise ConfigError(
            f"{model_file} takes {booster.num_features()} features; the test split has "
            f"{x_test.num_columns}"
        )
    score = booster.predict(xgb.DMatrix(_float_matrix(x_test)))
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
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
    x_train, y_train = read_split(train_dir, schema)
    files, manifest = monitor.compute_baseline(
        datasets.Dataset(x_train, y_train, schema["target"]),
        model_bytes=model_file.read_bytes(),
        holdout=datasets.Dataset(x_test, y_test, schema["target"]),
        data_name="train split",
        holdout_name="test split",
    )
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


def evaluate_job(
    model_input: Path, test_input: Path, train_input: Path, schema_input: Path, out_dir: Path
) -> dict[str, Any]:
    """`evaluate` over the files the job's input directories hold."""
    return evaluate(
        input_file(model_input, "model.tar.gz"),
        input_file(test_input, "*.csv"),
        input_file(train_input, "*.csv"),
        input_file(schema_input, "schema.json"),
        out_dir,
    )

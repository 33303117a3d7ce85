"""Reading what the checks look at: a labelled dataset (CSV with a header), a headerless CSV
(the endpoint's inputs, as captured), with pyarrow's multi-threaded CSV reader.

`types` (feature name → inferred_type, the baseline's) makes String features read as strings,
so a categorical feature whose values look like numbers keeps its categories."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from operators.errors import ConfigError
from operators.monitoring.data_quality import CurrentData


@dataclass(frozen=True)
class Dataset:
    features: pa.Table
    label: np.ndarray | None  # float64 (0/1, class labels, or a regression target)
    label_name: str


def _convert_options(types: dict[str, str] | None) -> pacsv.ConvertOptions:
    strings = {name: pa.string() for name, kind in (types or {}).items() if kind == "String"}
    # An empty field is missing for strings too (as for numbers), not the category "".
    return pacsv.ConvertOptions(column_types=strings, strings_can_be_null=True)


def read_dataset(
    path: Path, label: str | None = "Class", types: dict[str, str] | None = None
) -> Dataset:
    """A CSV with a header; the label column (if present) is split off the features."""
    try:
        table = pacsv.read_csv(path, convert_options=_convert_options(types))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except pa.ArrowInvalid as exc:
        raise ConfigError(f"{path}: not a CSV with a header: {exc}") from None
    if table.num_rows == 0:
        raise ConfigError(f"{path}: has a header but no rows")
    values = None
    if label and label in table.column_names:
        column = table.column(label)
        if column.null_count:
            raise ConfigError(
                f"{path}: label column {label!r} has {column.null_count} missing values"
            )
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            sample = pc.unique(column).to_pylist()[:3]
            raise ConfigError(
                f"{path}: label column {label!r} must hold numbers (found e.g. {sample})"
            )
        values = np.asarray(column.to_numpy(), dtype=np.float64)
        table = table.drop_columns([label])
    return Dataset(table, values, label or "")


def current_from_rows(
    body: bytes, names: list[str], types: dict[str, str] | None = None
) -> CurrentData:
    """Headerless CSV rows (captured request bodies, joined) placed by position under the
    baseline's feature names. Rows with another column count are set aside with their line
    numbers (1-based; 0 when the multi-threaded reader of a large body cannot tell)."""
    short: list[int] = []
    long: list[int] = []

    def set_aside(row) -> str:
        (short if row.actual_columns < row.expected_columns else long).append(row.number or 0)
        return "skip"

    if not body.strip():
        kinds = types or {}
        return CurrentData(
            pa.table(
                {
                    n: pa.array([], pa.string() if kinds.get(n) == "String" else pa.float64())
                    for n in names
                }
            )
        )
    table = pacsv.read_csv(
        io.BytesIO(body),
        # One thread keeps the line numbers of set-aside rows (a window's captures are small).
        read_options=pacsv.ReadOptions(column_names=names, use_threads=len(body) > 1 << 24),
        parse_options=pacsv.ParseOptions(invalid_row_handler=set_aside),
        convert_options=_convert_options(types),
    )
    return CurrentData(table, short_rows=short, long_rows=long)


def current_from_file(
    path: Path, names: list[str], label: str | None, types: dict[str, str] | None = None
) -> CurrentData:
    """A CSV with a header (a batch input, a day's extract): columns matched by name."""
    dataset = read_dataset(path, label, types)
    present = dataset.features.column_names
    missing = [n for n in names if n not in present]
    extra = [n for n in present if n not in names]
    table = dataset.features.select([n for n in names if n in present])
    return CurrentData(table, missing_columns=missing, extra_columns=extra)

"""Reading what the checks look at: a labelled dataset (CSV with a header), a headerless CSV
(the endpoint's inputs, as captured), with pyarrow's multi-threaded CSV reader.

`types` (feature name → inferred_type, the baseline's) makes String features read as strings,
so a categorical feature whose values look like numbers keeps its categories."""

from __future__ import annotations

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


def _convert_options(
    types: dict[str, str] | None, column_types: dict[str, pa.DataType] | None = None
) -> pacsv.ConvertOptions:
    strings = {name: pa.string() for name, kind in (types or {}).items() if kind == "String"}
    # An empty field is missing for strings too (as for numbers), not the category "".
    return pacsv.ConvertOptions(
        column_types={**(column_types or {}), **strings}, strings_can_be_null=True
    )


def _read_csv(
    source: Path | bytes,
    types: dict[str, str] | None,
    read_options: pacsv.ReadOptions | None = None,
    set_aside: bool = False,
) -> tuple[pa.Table, list[int], list[int]]:
    """pyarrow's multi-threaded reader, with every column's type given: the types read_csv infers
    from the first block. Inferring, read_csv keeps every parsed block until the end in case a
    later one widens a type (2.5x the table's size at the peak, a third more CPU); a file whose
    later rows do not fit the first block's types is read again with that inference. The
    table's buffers come from the system allocator: with arrow's default (mimalloc) the two reads
    of a 1M-row baseline and check took ~0.6 s more CPU on a 2-core machine.

    With `set_aside`, rows with another column count are skipped and their line numbers returned
    (short rows, long rows); without, they are an error."""

    def opened():
        return pa.BufferReader(source) if isinstance(source, bytes) else source

    def attempt(convert: pacsv.ConvertOptions) -> tuple[pa.Table, list[int], list[int]]:
        short: list[int] = []
        long: list[int] = []

        def skip(row) -> str:
            (short if row.actual_columns < row.expected_columns else long).append(row.number or 0)
            return "skip"

        parse = pacsv.ParseOptions(invalid_row_handler=skip) if set_aside else None
        table = pacsv.read_csv(
            opened(),
            read_options=read_options,
            parse_options=parse,
            convert_options=convert,
            memory_pool=pa.system_memory_pool(),
        )
        return table, short, long

    try:
        schema = pacsv.open_csv(
            opened(),
            read_options=read_options,
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda _: "skip")
            if set_aside
            else None,
            convert_options=_convert_options(types),
        ).schema
    except pa.ArrowInvalid:  # an empty or malformed start: read_csv says what is wrong
        schema = None
    if schema is not None and len(set(schema.names)) == len(schema.names):
        try:
            return attempt(_convert_options(types, {f.name: f.type for f in schema}))
        except pa.ArrowInvalid:
            pass
    return attempt(_convert_options(types))


def read_dataset(
    path: Path, label: str | None = "Class", types: dict[str, str] | None = None
) -> Dataset:
    """A CSV with a header; the label column (if present) is split off the features."""
    try:
        table, _, _ = _read_csv(path, types)
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
    table, short, long = _read_csv(
        body,
        types,
        # One thread keeps the line numbers of set-aside rows (a window's captures are small).
        pacsv.ReadOptions(column_names=names, use_threads=len(body) > 1 << 24),
        set_aside=True,
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

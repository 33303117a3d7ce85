"""Synthetic credit-card-fraud data with the public dataset's schema.

Columns: Time (seconds from the first transaction, two days), V1..V28 (PCA-like components, mean
0, variance falling with the index, heavy tails), Amount (log-normal, cents), Class (1 = fraud,
about 0.17%). Fraud rows are shifted along the components the real data finds informative
(V14, V12, V10, V17, V4, V11, V3 ...) by a per-row severity, so most frauds are learnable, some
hide among normal traffic, and a good model lands near AUC 0.95 rather than 1.0.

Deterministic: the same (rows, seed) gives byte-identical CSV on any machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

FEATURES = ["Time", *[f"V{i}" for i in range(1, 29)], "Amount"]
COLUMNS = [*FEATURES, "Class"]
LABEL = "Class"
FRAUD_RATE = 0.00172  # 492 / 284,807 in the public dataset
DEFAULT_ROWS = 284_807
DEFAULT_SEED = 42
SECONDS = 172_800  # two days

# Component scales, falling with the index like a PCA spectrum (real: V1 ~1.96 ... V28 ~0.33).
_SCALES = np.linspace(1.95, 0.33, 28)
# Mean shift of a fully "severe" fraud, in units of each component's scale.
_FRAUD_SHIFT = {
    14: -3.9, 12: -3.3, 10: -3.0, 17: -3.6, 4: 2.7, 11: 2.4, 3: -2.4, 16: -2.1,
    7: -1.95, 2: 1.65, 9: -1.5, 18: -1.35, 1: -1.2, 5: -0.9, 6: -0.75,
}  # fmt: skip
# Share of frauds that look like ordinary traffic in every column: what keeps AUC below 1.
_CAMOUFLAGED = 0.12


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pa.Table:
    """The dataset as an Arrow table with COLUMNS, sorted by Time like the public one."""
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    rng = np.random.default_rng(seed)

    n_fraud = round(rows * FRAUD_RATE)
    label = np.zeros(rows, dtype=np.int64)
    label[rng.choice(rows, size=n_fraud, replace=False)] = 1
    fraud = label == 1

    # Camouflaged frauds look like ordinary traffic in every column: no model can find them.
    camouflaged = rng.random(n_fraud) < _CAMOUFLAGED
    loud = np.flatnonzero(fraud)[~camouflaged]

    # Time: two days with a day/night cycle; frauds spread evenly over day and night.
    hour_weight = np.tile(0.25 + np.sin(np.linspace(0, np.pi, 24)) ** 2, 2)
    hours = rng.choice(48, size=rows, p=hour_weight / hour_weight.sum())
    hours[loud] = rng.integers(0, 48, size=loud.size)
    time_s = np.minimum(hours * 3600 + rng.uniform(0, 3600, size=rows), SECONDS - 1).round()

    # Components: Student-t (df 5) scaled to unit variance, then to each component's scale.
    components = rng.standard_t(5, size=(rows, 28)) * np.sqrt(3 / 5) * _SCALES
    shift = np.zeros(28)
    for index, value in _FRAUD_SHIFT.items():
        shift[index - 1] = value * _SCALES[index - 1]
    severity = rng.beta(4.0, 1.2, size=loud.size)
    # Frauds also vary more along the informative components than normal rows do.
    noise = rng.normal(0, 0.6, size=(loud.size, 28)) * np.abs(shift)
    components[loud] += severity[:, None] * shift + noise

    # Amount: log-normal around $20; frauds are either tiny card tests or large purchases.
    amount = rng.lognormal(mean=3.0, sigma=1.4, size=rows)
    card_test = rng.random(loud.size) < 0.45
    amount[loud] = np.where(
        card_test, rng.uniform(0.5, 2.0, loud.size), rng.lognormal(4.5, 1.2, loud.size)
    )
    amount = np.minimum(amount, 25_000.0).round(2)

    order = np.argsort(time_s, kind="stable")
    columns = {"Time": time_s[order]}
    for i in range(28):
        columns[f"V{i + 1}"] = components[order, i].round(6)
    columns["Amount"] = amount[order]
    columns["Class"] = label[order]
    return pa.table(columns)


def write_csv(table: pa.Table, path: Path, header: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    options = pacsv.WriteOptions(include_header=header, quoting_style="none")
    pacsv.write_csv(table, path, write_options=options)


def read_csv(path: Path) -> pa.Table:
    """A dataset written by write_csv (with header), every feature as float64."""
    types = {name: pa.float64() for name in FEATURES} | {LABEL: pa.int64()}
    options = pacsv.ConvertOptions(column_types=types, include_columns=COLUMNS)
    return pacsv.read_csv(path, convert_options=options)


def sample_rows(table: pa.Table, normal: int = 8, fraud: int = 2) -> pa.Table:
    """The first `normal` normal and `fraud` fraud rows, in Time order, features only."""
    label = table.column(LABEL).to_numpy()
    picks = np.sort(
        np.concatenate([np.flatnonzero(label == 0)[:normal], np.flatnonzero(label == 1)[:fraud]])
    )
    return table.select(FEATURES).take(picks)

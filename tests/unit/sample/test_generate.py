from __future__ import annotations

import hashlib

import numpy as np
import pytest

from sample.generate import COLUMNS, FEATURES, generate, read_csv, sample_rows, write_csv
from tests.helpers.paths import REPO


def csv_bytes(tmp_path, rows: int, seed: int) -> bytes:
    path = tmp_path / f"{rows}-{seed}.csv"
    write_csv(generate(rows, seed), path)
    return path.read_bytes()


def test_same_seed_gives_byte_identical_csv(tmp_path):
    first = csv_bytes(tmp_path / "a", 20_000, 7)
    second = csv_bytes(tmp_path / "b", 20_000, 7)
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert csv_bytes(tmp_path / "c", 20_000, 8) != first


def test_schema_and_fraud_rate(dataset):
    table = read_csv(dataset)
    assert table.column_names == COLUMNS
    assert table.num_rows == 284_807
    label = table.column("Class").to_numpy()
    assert set(np.unique(label)) == {0, 1}
    assert label.mean() == pytest.approx(0.00172, abs=0.0001)
    time_s = table.column("Time").to_numpy()
    assert np.all(np.diff(time_s) >= 0), "rows are in Time order, like the public dataset"
    assert time_s.min() >= 0 and time_s.max() < 172_800
    assert table.column("Amount").to_numpy().min() >= 0


def test_components_look_like_pca_outputs(dataset):
    table = read_csv(dataset)
    normal = table.column("Class").to_numpy() == 0
    scales = [table.column(f"V{i}").to_numpy()[normal].std() for i in range(1, 29)]
    assert scales == sorted(scales, reverse=True) or np.corrcoef(scales, range(28))[0, 1] < -0.95
    means = [table.column(f"V{i}").to_numpy()[normal].mean() for i in range(1, 29)]
    assert max(abs(m) for m in means) < 0.05


def test_fraud_is_shifted_on_informative_components(dataset):
    table = read_csv(dataset)
    fraud = table.column("Class").to_numpy() == 1
    v14 = table.column("V14").to_numpy()
    assert v14[fraud].mean() < v14[~fraud].mean() - 2 * v14[~fraud].std()


def test_rows_must_be_positive():
    with pytest.raises(ValueError, match="rows must be >= 1"):
        generate(0)


def test_committed_sample_csv_is_the_generators(tmp_path):
    path = tmp_path / "sample.csv"
    write_csv(sample_rows(generate()), path, header=False)
    committed = (REPO / "sample" / "sample.csv").read_bytes()
    assert path.read_bytes() == committed
    rows = np.loadtxt(REPO / "sample" / "sample.csv", delimiter=",", ndmin=2)
    assert rows.shape == (10, len(FEATURES))

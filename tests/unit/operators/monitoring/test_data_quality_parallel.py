"""Data quality with the sketches built in a worker process: the same documents as serially.

Below k values a KLL sketch is exact (every value kept), so a statistics document, a check's
result, are the same whole wherever the sketches are built; above k a sketch is randomized, so
the parallel documents are compared whole except for which values each sketch level keeps."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pytest

from operators.errors import ConfigError
from operators.monitoring import data_quality, datasets


class CountingExecutor:
    def __init__(self, executor) -> None:
        self.executor = executor
        self.submitted = 0

    def submit(self, *args):
        self.submitted += 1
        return self.executor.submit(*args)


def in_a_worker(monkeypatch) -> CountingExecutor:
    """From now on every pass sketches in a worker too, whatever its size and the cores."""
    monkeypatch.setattr(data_quality, "PARALLEL_MIN_VALUES", 0)
    monkeypatch.setattr(data_quality, "_sketch_worker_count", lambda: 1)
    executor = data_quality._sketch_executor()
    assert executor is not None
    counting = CountingExecutor(executor)
    monkeypatch.setattr(data_quality, "_sketch_executor", lambda: counting)
    return counting


@pytest.fixture
def parallel(monkeypatch) -> CountingExecutor:
    return in_a_worker(monkeypatch)


def table(rows: int, seed: int = 5) -> pa.Table:
    rng = np.random.default_rng(seed)
    with_nan = rng.normal(size=rows)
    with_nan[::7] = np.nan
    return pa.table(
        {
            "count": pa.array(np.where(np.arange(rows) % 11 == 0, None, np.arange(rows) % 50)),
            "x": pa.array(rng.standard_t(4, size=rows)),
            "with_nan": pa.array(with_nan),
            "flag": pa.array(rng.integers(0, 2, size=rows).astype(bool)),
            "nothing": pa.array([None] * rows, pa.float64()),
            "constant": pa.array(np.full(rows, 2.5)),
            "colour": pa.array(rng.choice(["red", "green", "blue"], size=rows)),
            "price_text": pa.array(
                [f"{v:.2f}" if v > -1 else "n/a" for v in rng.normal(size=rows)]
            ),
        }
    )


def dumped(document) -> str:
    return json.dumps(document)  # NaN != NaN: documents are compared as text


def test_statistics_in_parallel_are_the_serial_document_below_k(monkeypatch):
    data = table(2000)
    types = {"price_text": "Fractional"}
    serial = data_quality.statistics(data, types)
    workers = in_a_worker(monkeypatch)
    assert dumped(data_quality.statistics(data, types)) == dumped(serial)
    assert workers.submitted >= 1


def test_statistics_in_parallel_above_k_differ_only_in_the_values_each_level_keeps(monkeypatch):
    data = table(30_000)
    serial = data_quality.statistics(data)
    workers = in_a_worker(monkeypatch)
    with_sketches = data_quality.statistics(data)
    assert workers.submitted >= 1

    def sketches(document) -> dict[str, list[list[float]]]:
        """Each feature's sketch levels, replaced in the document by their sizes."""
        found = {}
        for feature in document["features"]:
            kll = feature.get("numerical_statistics", {}).get("distribution", {}).get("kll")
            if kll:
                found[feature["name"]] = kll["sketch"]["data"]
                kll["sketch"]["data"] = [len(items) for items in kll["sketch"]["data"]]
        return found

    levels = sketches(with_sketches)
    sketches(serial)
    assert dumped(with_sketches) == dumped(serial)
    assert sorted(levels) == ["constant", "count", "flag", "with_nan", "x"]
    for name, data_levels in levels.items():
        values = data.column(name).cast(pa.float64()).drop_null().to_numpy()
        values = np.sort(values[~np.isnan(values)])
        items = np.concatenate([np.asarray(v, dtype=np.float64) for v in data_levels])
        assert np.isin(items, values).all(), name
        cdf = data_quality.WeightedCdf.from_levels(data_levels)
        probes = np.quantile(values, np.linspace(0.05, 0.95, 19))
        exact = np.searchsorted(values, probes, side="right") / len(values)
        assert np.max(np.abs(cdf.at(probes) - exact)) < 0.01, name


def check_of(current: pa.Table, document: dict | None = None) -> data_quality.DataQualityResult:
    baseline = data_quality.statistics(table(2000, seed=6).drop_columns(["price_text"]))
    document = document or data_quality.suggest_constraints(baseline)
    return data_quality.check(baseline, document, data_quality.CurrentData(current))


def result_document(result: data_quality.DataQualityResult) -> str:
    return dumped(
        [result.statistics, result.violations, result.drift, result.distances, result.metrics]
    )


def test_check_in_parallel_is_the_serial_result_below_k(monkeypatch):
    current = table(1500, seed=7).drop_columns(["price_text"])
    shifted = current.set_column(1, "x", pa.array(current.column("x").to_numpy() + 1.0))
    serial = [result_document(check_of(t)) for t in (current, shifted)]
    workers = in_a_worker(monkeypatch)
    assert [result_document(check_of(t)) for t in (current, shifted)] == serial
    assert workers.submitted >= 1
    assert "baseline_drift_check" in serial[1]


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract")  # numpy's, serially too
def test_a_value_statistics_cannot_bin_is_raised_as_serially_and_leaves_no_shared_memory(
    parallel, monkeypatch
):
    created = []

    class Recorded(data_quality.SharedMemory):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            created.append(self.name)

    monkeypatch.setattr(data_quality, "SharedMemory", Recorded)
    data = table(2000).set_column(5, "constant", pa.array(np.full(2000, np.inf)))
    with pytest.raises(ValueError, match="finite"):
        data_quality.statistics(data)
    assert created
    assert parallel.submitted >= 1
    assert not [name for name in created if os.path.exists(f"/dev/shm/{name.lstrip('/')}")]


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract")
def test_check_raises_what_it_meets_first_in_the_features_order(parallel):
    baseline = data_quality.statistics(table(2000, seed=6).drop_columns(["price_text"]))
    document = data_quality.suggest_constraints(baseline)
    x = next(f for f in document["features"] if f["name"] == "x")
    x["monitoring_config_overrides"] = {"distribution_constraints": {"comparison_method": "Exact"}}
    # A later feature that statistics cannot bin: check() never reaches it.
    current = table(1500, seed=7).set_column(5, "constant", pa.array(np.full(1500, np.inf)))
    with pytest.raises(ConfigError, match="comparison_method"):
        data_quality.check(baseline, document, data_quality.CurrentData(current))
    del document["features"][2]["inferred_type"]  # with_nan, before constant
    x.pop("monitoring_config_overrides")
    with pytest.raises(KeyError, match="inferred_type"):
        data_quality.check(baseline, document, data_quality.CurrentData(current))


def test_a_dataset_read_from_csv_gets_the_same_statistics_in_parallel(tmp_path, monkeypatch):
    path = tmp_path / "train.csv"
    rng = np.random.default_rng(8)
    lines = ["a,b,c,Class"] + [
        f"{a:.4f},{b:.4f},{c},{c % 2}"
        for a, b, c in zip(rng.normal(size=1800), rng.normal(size=1800), range(1800), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    features = datasets.read_dataset(path).features
    serial = data_quality.statistics(features)
    in_a_worker(monkeypatch)
    assert dumped(data_quality.statistics(features)) == dumped(serial)

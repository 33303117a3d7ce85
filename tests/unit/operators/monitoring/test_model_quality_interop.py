"""Model quality against the files Model Monitor's analyzer and AWS's docs wrote (read in place
from MODEL_MONITOR_REFERENCE), and the project's files read by the sagemaker SDK."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest

from operators.monitoring import files, model_quality
from tests.helpers.paths import MODEL_MONITOR_REFERENCE
from tests.helpers.sagemaker_sdk import (
    sdk_constraints,
    sdk_constraints_saved,
    sdk_statistics,
    sdk_violations,
)
from tests.helpers.structure import structural_diff

BINARY, MULTICLASS, REGRESSION = model_quality.PROBLEM_TYPES
# What the project's binary statistics add to the real binary metrics (a model card's copy of
# the metrics alone): the file's version and dataset sections.
BINARY_OURS_ONLY = {
    "+ version",
    "+ dataset",
    "+ dataset.item_count",
    "+ dataset.positives",
    "+ dataset.evaluation_time",
}


def _reference(name: str) -> dict:
    return files.loads((MODEL_MONITOR_REFERENCE / name).read_bytes())


def _strict(body: bytes) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"bare {constant} in the file")

    return json.loads(body, parse_constant=refuse)


@functools.cache
def _binary_statistics(rows: int = 600) -> dict:
    rng = np.random.default_rng(21)
    label = (rng.random(rows) < 0.2).astype(np.int8)
    score = np.where(label == 1, rng.uniform(0.4, 1, rows), rng.uniform(0, 0.6, rows))
    return model_quality.statistics(label, score, "2024-01-01T00:00:00+00:00")


def _regression_statistics(rows: int = 500, error: float = 0.5, seed: int = 22) -> dict:
    """Labels near the real file's scale, predictions off by `error` on average."""
    rng = np.random.default_rng(seed)
    label = rng.normal(0, 0.3, rows)
    prediction = label + rng.choice([-1, 1], rows) * rng.uniform(0, 2 * error, rows)
    return model_quality.statistics(label, prediction, "t", problem_type=REGRESSION)


def test_real_regression_files_load_and_name_their_problem_type():
    stats = _reference("mq_regression_statistics.json")
    constraints = _reference("mq_regression_constraints.json")
    assert model_quality.problem_type_of(stats) == REGRESSION
    assert model_quality.problem_type_of(constraints) == REGRESSION
    values = model_quality.metric_values(stats)  # standard deviations are "NaN" strings
    assert set(values) == {"mae", "mse", "rmse", "r2"}
    assert values["rmse"] == pytest.approx(math.sqrt(values["mse"]))


def test_real_regression_statistics_meet_their_own_constraints():
    # The analyzer suggested thresholds at the baseline's values: equal is not beyond.
    stats = _reference("mq_regression_statistics.json")
    constraints = _reference("mq_regression_constraints.json")
    assert model_quality.violations(stats, constraints) == ([], None)


def test_or_equal_operators_fire_at_the_real_thresholds():
    stats = _reference("mq_regression_statistics.json")
    constraints = _reference("mq_regression_constraints.json")
    for constraint in constraints["regression_constraints"].values():
        constraint["comparison_operator"] = constraint["comparison_operator"].replace(
            "Than", "ThanOrEqualTo"
        )
    found, reason = model_quality.violations(stats, constraints)
    assert reason is None
    assert {v["metric_name"]: v["constraint_check_type"] for v in found} == {
        "mae": "GreaterThanOrEqualToThreshold",
        "mse": "GreaterThanOrEqualToThreshold",
        "rmse": "GreaterThanOrEqualToThreshold",
        "r2": "LessThanOrEqualToThreshold",
    }
    mae = next(v for v in found if v["metric_name"] == "mae")
    assert mae["description"] == (
        "Metric mae with 0.5040653554420981 +/- NaN was GreaterThanOrEqualToThreshold "
        "'0.5040653554420981'"
    )


def test_a_degraded_window_fires_against_the_real_constraints():
    constraints = _reference("mq_regression_constraints.json")
    good = _regression_statistics(error=0.2)
    assert model_quality.violations(good, constraints) == ([], None)
    worse = _regression_statistics(error=1.0)
    found, reason = model_quality.violations(worse, constraints)
    assert reason is None
    by_metric = {v["metric_name"]: v for v in found}
    assert by_metric["mae"]["constraint_check_type"] == "GreaterThanThreshold"
    assert by_metric["mae"]["description"].endswith("was GreaterThanThreshold '0.5040653554420981'")
    assert {"mse", "rmse"} <= by_metric.keys()


@pytest.mark.parametrize(
    "name, auc_threshold",
    [
        # auc 1.0 +/- 0.1: the margin is 3 standard deviations.
        ("mq_binary_classification_metrics.json", 0.7),
        # auc 1.0 +/- "NaN": the minimum margin.
        ("docs_binary_classification_metrics_example.json", 0.9),
    ],
)
def test_real_binary_metrics_are_read_and_too_small_to_evaluate(name, auc_threshold):
    stats = _reference(name)
    assert model_quality.problem_type_of(stats) == BINARY
    values = model_quality.metric_values(stats)
    assert values["auc"] == 1.0 and values["precision"] == pytest.approx(1 / 3)
    constraints = model_quality.suggest_constraints(stats)
    auc = constraints["binary_classification_constraints"]["auc"]
    assert auc == {"threshold": auc_threshold, "comparison_operator": "LessThanThreshold"}
    # Its confusion matrix holds 4 rows: too few to check.
    found, reason = model_quality.violations(stats, constraints)
    assert found == [] and reason.startswith("not evaluated: 1 labelled positives and 3")


@pytest.mark.parametrize(
    "name",
    ["mq_binary_classification_metrics.json", "docs_binary_classification_metrics_example.json"],
)
def test_binary_statistics_have_model_monitors_structure(name):
    theirs = _reference(name)
    assert structural_diff(_binary_statistics(), theirs, only_in_ours=False) == []
    assert set(structural_diff(_binary_statistics(), theirs)) == BINARY_OURS_ONLY


def test_regression_files_have_model_monitors_structure():
    ours = _regression_statistics()
    assert structural_diff(ours, _reference("mq_regression_statistics.json")) == [
        "+ dataset.evaluation_time"
    ]
    suggested = model_quality.suggest_constraints(ours)
    assert structural_diff(suggested, _reference("mq_regression_constraints.json")) == []


def _write(path, document: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(files.dumps(document))
    return path


def _multiclass_statistics() -> dict:
    label = np.arange(300) % 3
    predicted = np.where(np.arange(300) % 7 == 0, (label + 1) % 3, label)
    return model_quality.statistics(label, predicted, "t", problem_type=MULTICLASS)


@pytest.mark.parametrize(
    "problem_type, stats",
    [
        (BINARY, _binary_statistics()),
        (MULTICLASS, _multiclass_statistics()),
        (REGRESSION, _regression_statistics()),
    ],
)
def test_our_statistics_and_constraints_parse_with_the_sagemaker_sdk(tmp_path, problem_type, stats):
    stats_path = _write(tmp_path / "statistics.json", stats)
    read = sdk_statistics(stats_path).body_dict
    assert read == _strict(stats_path.read_bytes())
    assert model_quality.problem_type_of(read) == problem_type
    constraints = model_quality.suggest_constraints(stats)
    read = sdk_constraints(_write(tmp_path / "constraints.json", constraints)).body_dict
    assert read == constraints
    assert model_quality.problem_type_of(read) == problem_type


def test_our_violations_parse_with_the_sagemaker_sdk(tmp_path):
    worse = _regression_statistics(error=1.0)
    found, _ = model_quality.violations(worse, _reference("mq_regression_constraints.json"))
    assert found
    path = _write(tmp_path / "constraint_violations.json", {"violations": found})
    assert sdk_violations(path).body_dict == {"violations": found}


def test_nan_is_written_as_model_monitor_writes_it(tmp_path):
    stats = model_quality.statistics(np.ones(1), np.ones(1), "t", problem_type=REGRESSION)
    body = files.dumps(stats)
    document = _strict(body)
    assert document["regression_metrics"]["r2"] == {"value": "NaN", "standard_deviation": "NaN"}
    # …and read back, it drives the checks as the real files do.
    assert model_quality.metric_values(document) == {"mae": 0.0, "mse": 0.0, "rmse": 0.0}


def test_a_threshold_edited_through_the_sdk_changes_what_fires(tmp_path):
    path = tmp_path / "constraints.json"
    path.write_bytes((MODEL_MONITOR_REFERENCE / "mq_regression_constraints.json").read_bytes())
    current = _regression_statistics(error=0.4)
    assert model_quality.violations(current, files.loads(path.read_bytes())) == ([], None)

    def tighten(constraints) -> None:
        constraints.body_dict["regression_constraints"]["mae"]["threshold"] = 0.2

    saved = sdk_constraints_saved(path, tighten)
    found, _ = model_quality.violations(current, saved)
    assert [v["metric_name"] for v in found] == ["mae"]

"""Data quality against the files AWS's own Model Monitor analyzer wrote (read in place from
MODEL_MONITOR_REFERENCE): our statistics agree with the analyzer's on its own baseline dataset,
our files have their key structure and parse with the sagemaker SDK's classes, the real
baselines drive check(), and what a user edits through the SDK changes what fires."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from operators.monitoring import data_quality, datasets, files
from tests.helpers.paths import MODEL_MONITOR_REFERENCE as REFERENCE
from tests.helpers.sagemaker_sdk import (
    sdk_constraints,
    sdk_constraints_saved,
    sdk_statistics,
    sdk_violations,
)
from tests.helpers.structure import structural_diff

NAMES = [f"_c{i}" for i in range(6)]


def real(name: str) -> dict:
    return files.loads((REFERENCE / name).read_bytes())


def baseline_rows() -> bytes:
    return (REFERENCE / "dq_baseline_dataset.csv").read_bytes()


def baseline_table() -> pa.Table:
    return datasets.current_from_rows(baseline_rows(), NAMES).table


@pytest.fixture(scope="module")
def ours() -> dict:
    return data_quality.statistics(baseline_table())


def by_name(document: dict) -> dict[str, dict]:
    return {f["name"]: f for f in document["features"]}


def test_statistics_of_the_analyzers_dataset_agree_with_its_statistics(ours):
    theirs = real("dq_statistics.json")
    assert ours["dataset"] == theirs["dataset"]
    mine, aws = by_name(ours), by_name(theirs)
    assert list(mine) == list(aws)
    for name in NAMES:
        a, b = mine[name], aws[name]
        assert a["inferred_type"] == b["inferred_type"]
        x, y = a["numerical_statistics"], b["numerical_statistics"]
        assert x["common"] == y["common"]
        for key in ("mean", "sum", "min", "max", "std_dev"):  # std_dev: the population's
            assert x[key] == pytest.approx(y[key], rel=1e-9, abs=1e-12), (name, key)
        ours_kll, aws_kll = x["distribution"]["kll"], y["distribution"]["kll"]
        for mine_bucket, aws_bucket in zip(ours_kll["buckets"], aws_kll["buckets"], strict=True):
            assert mine_bucket["count"] == aws_bucket["count"]
            for bound in ("lower_bound", "upper_bound"):
                assert mine_bucket[bound] == pytest.approx(aws_bucket[bound], rel=1e-9, abs=1e-12)
        assert ours_kll["sketch"]["parameters"]["k"] == aws_kll["sketch"]["parameters"]["k"]
        assert 0.5 < ours_kll["sketch"]["parameters"]["c"] < 1
        # 100 values below k: one level holding every value, as the analyzer's
        assert len(ours_kll["sketch"]["data"]) == len(aws_kll["sketch"]["data"]) == 1
        assert sorted(ours_kll["sketch"]["data"][0]) == sorted(aws_kll["sketch"]["data"][0])


def test_our_statistics_and_constraints_have_the_analyzers_structure(ours):
    assert structural_diff(ours, real("dq_statistics.json")) == []
    constraints = data_quality.suggest_constraints(ours)
    assert structural_diff(constraints, real("dq_constraints.json")) == []
    assert constraints == real("dq_constraints.json")


def test_a_string_feature_has_the_structure_of_the_analyzers():
    table = pa.table({"message": ["preproc-not-YET-supported-for-csv-json"] * 418})
    stats = data_quality.statistics(table)
    theirs = real("monitor_statistics_string.json")
    assert structural_diff(stats, theirs) == []
    assert stats == theirs
    constraint = data_quality.suggest_constraints(stats)["features"][0]
    their_constraint = real("monitor_constraints_string.json")["features"][1]
    assert structural_diff(constraint, their_constraint) == []
    assert constraint == {**their_constraint, "name": "message"}


def drifted_rows() -> bytes:
    """The baseline's rows with _c0 all 3.0 (drift), a fraction in _c1's first row is still a
    number, _c2's first value missing (completeness)."""
    lines = baseline_rows().decode().split()
    out = []
    for i, line in enumerate(lines):
        values = line.split(",")
        values[0] = "3.0"
        if i == 0:
            values[2] = ""
        out.append(",".join(values))
    return ("\n".join(out) + "\n").encode()


def real_check(body: bytes, constraints: dict | None = None, **kwargs):
    stats = real("dq_statistics.json")
    constraints = constraints or real("dq_constraints.json")
    current = datasets.current_from_rows(
        body, data_quality.features_of(constraints), data_quality.types_of(constraints)
    )
    return data_quality.check(stats, constraints, current, **kwargs)


def fired(result) -> set[tuple[str, str]]:
    return {(v["constraint_check_type"], v["feature_name"]) for v in result.violations}


def test_the_real_baseline_drives_check():
    assert fired(real_check(baseline_rows())) == set()
    result = real_check(drifted_rows())
    assert fired(result) == {("baseline_drift_check", "_c0"), ("completeness_check", "_c2")}
    assert result.drift["_c0"] == pytest.approx(0.45)  # 45% of the baseline is below 3.0
    garbage = baseline_rows().replace(b"\n", b"\nabc,0,0,0,0,0\n", 1)
    assert ("data_type_check", "_c0") in fired(real_check(garbage))


def test_the_bad_cases_constraints_read_c5_as_a_string_feature():
    result = real_check(baseline_rows(), real("dq_constraints_bad_cases.json"))
    assert fired(result) == set()
    assert by_name(result.statistics)["_c5"]["inferred_type"] == "String"


def test_the_older_string_constraints_drive_categorical_values_check():
    stats, constraints = (
        real("monitor_statistics_string.json"),
        real("monitor_constraints_string.json"),
    )
    names = data_quality.features_of(constraints)
    types = data_quality.types_of(constraints)
    domain = "preproc-not-YET-supported-for-csv-json"
    clean = datasets.current_from_rows(f"{domain},{domain}\n".encode() * 20, names, types)
    assert data_quality.check(stats, constraints, clean).violations == []
    body = (f"{domain},{domain}\n" * 19 + f"other,{domain}\n").encode()
    result = data_quality.check(stats, constraints, datasets.current_from_rows(body, names, types))
    assert result.violations == [
        {
            "feature_name": "message",
            "constraint_check_type": "categorical_values_check",
            "description": "Value: 0.95 does not meet the constraint requirement! ",
        }
    ]  # comparison_threshold 1.0: an L-infinity distance never exceeds it


def test_our_violations_have_the_analyzers_structure_and_wording():
    document = {"violations": real_check(drifted_rows()).violations}
    theirs = real("monitor_constraint_violations.json")
    assert structural_diff(document, theirs) == []
    completeness = [
        v for v in document["violations"] if v["constraint_check_type"] == "completeness_check"
    ]
    assert (
        completeness[0]["description"] == "Value: 0.99 does not meet the constraint requirement! "
    )
    wording = {v["description"].split(":")[0] for v in theirs["violations"]}
    assert wording == {"Value"}


def write(tmp_path, name: str, document) -> object:
    path = tmp_path / name
    path.write_bytes(files.dumps(document))
    json.loads(path.read_bytes(), parse_constant=lambda c: pytest.fail(f"bare {c}"))
    return path


def test_our_files_parse_with_the_sdks_classes(tmp_path, ours):
    constraints = data_quality.suggest_constraints(ours)
    violations = {"violations": real_check(drifted_rows()).violations}
    assert sdk_statistics(write(tmp_path, "statistics.json", ours)).body_dict == ours
    sdk = sdk_constraints(write(tmp_path, "constraints.json", constraints))
    assert sdk.body_dict == constraints
    assert (
        sdk_violations(write(tmp_path, "constraint_violations.json", violations)).body_dict
        == violations
    )


def test_a_feature_the_sdk_switched_off_no_longer_fires(tmp_path):
    path = REFERENCE / "dq_constraints.json"
    assert ("baseline_drift_check", "_c0") in fired(real_check(drifted_rows()))
    edited = sdk_constraints_saved(path, lambda c: c.set_monitoring(False, "_c0"))
    assert by_name(edited)["_c0"]["monitoring_config_overrides"] == {
        "evaluate_constraints": "Disabled"
    }
    result = real_check(drifted_rows(), edited)
    assert fired(result) == {("completeness_check", "_c2")}
    everything_off = sdk_constraints_saved(path, lambda c: c.set_monitoring(False))
    result = real_check(drifted_rows(), everything_off)
    assert result.violations == [] and not result.evaluated


def test_a_comparison_threshold_edited_in_the_sdk_changes_drift_firing():
    def loosen(constraints):
        constraints.body_dict["monitoring_config"]["distribution_constraints"][
            "comparison_threshold"
        ] = 0.5

    edited = sdk_constraints_saved(REFERENCE / "dq_constraints.json", loosen)
    assert ("baseline_drift_check", "_c0") not in fired(real_check(drifted_rows(), edited))


@pytest.mark.parametrize("method", data_quality.DRIFT_METHODS)
def test_every_drift_method_reads_the_aws_sketch(method):
    result = real_check(drifted_rows(), drift_method=method)
    assert set(result.distances) == set(NAMES)
    assert result.distances["_c0"][method] > 0
    assert all(
        d[method] == pytest.approx(0, abs=1e-9)
        for n, d in result.distances.items()
        if n not in ("_c0", "_c2")
    )
    assert np.isfinite(result.drift["_c0"])

"""Data quality: statistics, the constraints' every knob and override, categorical checks and the
drift methods, against independent references (scipy)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pyarrow as pa
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from operators.errors import ConfigError
from operators.monitoring import data_quality, datasets


def stats_of(**columns) -> dict:
    return data_quality.statistics(pa.table(columns))


@pytest.mark.parametrize("shift", [0.0, 0.2, 1.0])
def test_linf_distance_equals_the_ks_statistic_when_the_sketch_is_exact(shift):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=1500), rng.normal(shift, 1, size=1200)  # below k: exact sketches
    base = stats_of(x=a)["features"][0]
    current = stats_of(x=b)["features"][0]
    distance = data_quality.linf_distance(
        data_quality.numeric_cdf(base), data_quality.numeric_cdf(current)
    )
    assert distance == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)


def test_sketch_of_a_million_values_keeps_the_cdf_within_its_rank_error():
    rng = np.random.default_rng(2)
    values = rng.standard_t(5, size=1_000_000)
    feature = stats_of(x=values)["features"][0]
    levels = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    assert sum(len(items) * 2**i for i, items in enumerate(levels)) == pytest.approx(1e6, rel=1e-3)
    cdf = data_quality.numeric_cdf(feature)
    exact = np.sort(values)
    probes = np.quantile(values, np.linspace(0.01, 0.99, 50))
    true = np.searchsorted(exact, probes, side="right") / len(values)
    assert np.max(np.abs(cdf.at(probes) - true)) < 0.005
    buckets = feature["numerical_statistics"]["distribution"]["kll"]["buckets"]
    assert [b["count"] for b in buckets] == list(
        np.histogram(values, bins=10, range=(values.min(), values.max()))[0].astype(float)
    )


def test_statistics_and_constraints_layout_and_types():
    stats = stats_of(
        count=pa.array([1, 2, None, 4], pa.int64()),
        price=pa.array([1.5, -2.0, 3.0, 4.0]),
        colour=pa.array(["red", "blue", "red", None]),
    )
    by_name = {f["name"]: f for f in stats["features"]}
    assert stats["dataset"] == {"item_count": 4}
    assert by_name["count"]["inferred_type"] == "Integral"
    assert by_name["count"]["numerical_statistics"]["common"] == {
        "num_present": 3,
        "num_missing": 1,
    }
    assert by_name["price"]["numerical_statistics"]["std_dev"] == pytest.approx(
        np.std([1.5, -2.0, 3.0, 4.0])
    )
    colour = by_name["colour"]
    assert colour["inferred_type"] == "String"
    assert colour["string_statistics"]["common"] == {"num_present": 3, "num_missing": 1}
    assert colour["string_statistics"]["distinct_count"] == 2.0
    assert colour["string_statistics"]["distribution"]["categorical"]["buckets"] == [
        {"value": "red", "count": 2.0},
        {"value": "blue", "count": 1.0},
    ]
    constraints = data_quality.suggest_constraints(stats)
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["count"]["completeness"] == 0.75
    assert by_name["price"]["num_constraints"] == {"is_non_negative": False}
    assert by_name["colour"]["string_constraints"] == {"domains": ["red", "blue"]}
    assert data_quality.features_of(constraints) == ["count", "price", "colour"]
    assert data_quality.types_of(stats) == {
        "count": "Integral",
        "price": "Fractional",
        "colour": "String",
    }
    json.dumps(stats, allow_nan=False)


def test_types_force_the_baselines_type_and_non_numbers_count_as_missing():
    table = pa.table({"n": pa.array(["1", "x", "3", None]), "c": pa.array([1, 2, 2, 3])})
    stats = data_quality.statistics(table, {"n": "Integral", "c": "String"})
    n, c = stats["features"]
    assert n["inferred_type"] == "Integral"
    assert n["numerical_statistics"]["common"] == {"num_present": 2, "num_missing": 2}
    assert n["numerical_statistics"]["sum"] == 4.0
    assert c["inferred_type"] == "String"
    buckets = c["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert buckets[0] == {"value": "2", "count": 2.0}


# ---------------------------------------------------------------------------------------------
# check(): a baseline and rows
# ---------------------------------------------------------------------------------------------
def rows(*columns) -> bytes:
    return ("\n".join(",".join(v) for v in zip(*columns, strict=True)) + "\n").encode()


RNG = np.random.default_rng(3)
BASE = {
    "n": pa.array(np.arange(2000) % 50, pa.int64()),
    "x": pa.array(RNG.normal(size=2000)),
    "colour": pa.array(RNG.choice(["red", "green", "blue"], size=2000, p=[0.5, 0.3, 0.2])),
}
BASE_STATS = stats_of(**BASE)


def constraints(**config) -> dict:
    document = data_quality.suggest_constraints(BASE_STATS)
    document["monitoring_config"]["distribution_constraints"].update(config)
    return document


def run(body: bytes, document: dict | None = None, **kwargs) -> data_quality.DataQualityResult:
    document = document or constraints()
    types = data_quality.types_of(document)
    current = datasets.current_from_rows(body, data_quality.features_of(document), types)
    return data_quality.check(BASE_STATS, document, current, **kwargs)


def found(result) -> dict[tuple[str, str], str]:
    return {
        (v["constraint_check_type"], v["feature_name"]): v["description"] for v in result.violations
    }


def clean_body(size=500, seed=4, colours=(0.5, 0.3, 0.2), shift=0.0) -> bytes:
    rng = np.random.default_rng(seed)
    return rows(
        [str(v) for v in rng.integers(0, 50, size)],
        [f"{v:.6f}" for v in rng.normal(shift, 1, size=size)],
        list(rng.choice(["red", "green", "blue"], size=size, p=list(colours))),
    )


def test_clean_rows_fire_nothing_and_metrics_carry_the_names_alarms_use():
    result = run(clean_body())
    assert result.violations == []
    assert result.evaluated
    assert result.drift["x"] < 0.1
    assert set(result.distances["colour"]) == set(data_quality.DRIFT_METHODS)
    assert result.metrics["data_quality_violations"] == 0
    assert result.metrics["max_feature_baseline_drift"] == max(result.drift.values())
    assert result.metrics["feature_baseline_drift_x"] == result.drift["x"]


def test_data_type_check_fires_on_fractions_in_an_integral_feature_in_the_analyzers_words():
    result = run(rows(["1.5", "2", "3", "4"], ["0.1", "0.2", "0.3", "0.4"], ["red"] * 4))
    assert found(result)[("data_type_check", "n")] == (
        "Value: 0.75 does not meet the constraint requirement! "
    )


def test_data_type_check_counts_non_numbers_and_datatype_check_threshold_tunes_it():
    body = rows(["1", "2", "3", "4"], ["0.1", "abc", "0.3", "0.4"], ["red"] * 4)
    assert ("data_type_check", "x") in found(run(body))
    document = constraints()
    document["monitoring_config"]["datatype_check_threshold"] = 0.7
    assert ("data_type_check", "x") not in found(run(body, document))


def test_completeness_check_fires_on_a_missing_value():
    result = run(rows(["1", "", "3", "4"], ["0.1", "0.2", "0.3", "0.4"], ["red"] * 4))
    assert found(result)[("completeness_check", "n")] == (
        "Value: 0.75 does not meet the constraint requirement! "
    )


def test_short_and_long_rows_fire_missing_and_extra_column_checks_with_line_numbers():
    body = b"1,0.1,red\n2,0.2\n3,0.3,red,9\n4,0.4,red\n"
    result = found(run(body))
    missing = result[("missing_column_check", "")]
    assert missing.startswith("There are missing columns in current dataset.")
    assert "current dataset: 2, Number of columns in baseline constraints: 3" in missing
    assert "line 2" in missing
    assert "line 3" in result[("extra_column_check", "")]


def test_categorical_values_check_fires_below_domain_content_threshold():
    body = rows(["1"] * 10, ["0.1"] * 10, ["red"] * 8 + ["purple"] * 2)
    assert found(run(body))[("categorical_values_check", "colour")] == (
        "Value: 0.8 does not meet the constraint requirement! "
    )
    document = constraints()
    document["monitoring_config"]["domain_content_threshold"] = 0.75
    assert ("categorical_values_check", "colour") not in found(run(body, document))


def test_older_keys_min_domain_mass_and_enable_comparisons_are_honoured():
    body = clean_body(colours=(0.1, 0.1, 0.8), shift=1.0)
    document = constraints()
    config = document["monitoring_config"]
    del config["domain_content_threshold"]
    config["distribution_constraints"] = {"enable_comparisons": False, "min_domain_mass": 1.0}
    assert not any(c == "baseline_drift_check" for c, _ in found(run(body, document)))
    config["distribution_constraints"] = {"enable_comparisons": True, "comparison_threshold": 0.1}
    assert {("baseline_drift_check", "x"), ("baseline_drift_check", "colour")} <= set(
        found(run(body, document))
    )
    rare = rows(["1"] * 10, ["0.1"] * 10, ["red"] * 9 + ["purple"])
    config["distribution_constraints"] = {"min_domain_mass": 0.8}
    assert ("categorical_values_check", "colour") not in found(run(rare, document))
    config["distribution_constraints"] = {"min_domain_mass": 0.95}
    assert ("categorical_values_check", "colour") in found(run(rare, document))


def test_a_mean_shift_fires_baseline_drift_with_the_parseable_description():
    result = run(clean_body(shift=1.0))
    description = found(result)[("baseline_drift_check", "x")]
    assert description == (f"Baseline drift distance: {result.drift['x']!r} exceeds threshold: 0.1")
    assert result.drift["x"] > 0.3


def test_perform_comparison_disabled_and_comparison_threshold():
    body = clean_body(shift=0.4)
    assert ("baseline_drift_check", "x") in found(run(body))
    off = run(body, constraints(perform_comparison="Disabled"))
    assert not any(c == "baseline_drift_check" for c, _ in found(off))
    assert off.drift == {} and "x" in off.distances
    assert ("baseline_drift_check", "x") not in found(
        run(body, constraints(comparison_threshold=0.9))
    )


def test_robust_comparison_needs_more_than_noise_on_a_small_window():
    """A 20-row window of the baseline's own distribution can sit past 0.1 by chance; Robust
    asks for the KS critical value too, Simple does not."""
    rng = np.random.default_rng(5)
    for _ in range(50):
        body = rows(
            [str(v) for v in rng.integers(0, 50, 20)],
            [f"{v:.6f}" for v in rng.normal(size=20)],
            ["red"] * 10 + ["green"] * 6 + ["blue"] * 4,
        )
        robust = run(body)
        if robust.drift["x"] > 0.1:
            break
    else:
        pytest.fail("no noisy window found")
    assert ("baseline_drift_check", "x") not in found(robust)
    assert ("baseline_drift_check", "x") in found(
        run(body, constraints(comparison_method="Simple"))
    )


def test_categorical_linf_drift_and_its_own_threshold():
    body = clean_body(colours=(0.3, 0.3, 0.4))
    result = run(body)
    assert result.distances["colour"]["linf"] == pytest.approx(0.2, abs=0.05)
    assert ("baseline_drift_check", "colour") in found(result)
    calm = run(body, constraints(categorical_comparison_threshold=0.5))
    assert ("baseline_drift_check", "colour") not in found(calm)


def test_chi_squared_fires_on_the_p_value_of_scipys_test():
    body = clean_body(size=300, colours=(0.44, 0.33, 0.23))
    document = constraints(
        categorical_drift_method="ChiSquared", categorical_comparison_threshold=0.05
    )
    base = {"red": 0, "green": 0, "blue": 0}
    for value in BASE["colour"].to_pylist():
        base[value] += 1
    current = dict.fromkeys(base, 0)
    for line in body.decode().split():
        current[line.split(",")[2]] += 1
    table = np.array([[base[c] for c in sorted(base)], [current[c] for c in sorted(base)]])
    p_value = chi2_contingency(table, correction=False).pvalue
    assert data_quality.chi_squared_p_value(base, current) == pytest.approx(p_value)
    assert (("baseline_drift_check", "colour") in found(run(body, document))) == (p_value < 0.05)
    shifted = run(clean_body(size=300, colours=(0.3, 0.3, 0.4)), document)
    assert found(shifted)[("baseline_drift_check", "colour")].startswith(
        "Baseline drift chi-squared p-value: "
    )
    with pytest.raises(ConfigError, match="categorical_drift_method"):
        run(body, constraints(categorical_drift_method="Hellinger"))


def test_evaluate_constraints_disabled_writes_statistics_but_no_violations():
    document = constraints()
    document["monitoring_config"]["evaluate_constraints"] = "Disabled"
    result = run(clean_body(shift=1.0), document)
    assert not result.evaluated
    assert result.violations == []
    assert [f["name"] for f in result.statistics["features"]] == ["n", "x", "colour"]
    assert "data_quality_violations" not in result.metrics


def test_emit_metrics_disabled_emits_nothing_and_per_feature_overrides_drop_one_feature():
    document = constraints()
    document["monitoring_config"]["emit_metrics"] = "Disabled"
    assert run(clean_body(), document).metrics == {}
    document = constraints()
    document["features"][1]["monitoring_config_overrides"] = {"emit_metrics": "Disabled"}
    metrics = run(clean_body(), document).metrics
    assert "feature_baseline_drift_x" not in metrics
    assert "feature_baseline_drift_colour" in metrics


@pytest.mark.parametrize("holder", ["feature", "num_constraints"])
def test_a_features_evaluate_constraints_override_silences_only_that_feature(holder):
    document = constraints()
    feature = document["features"][1]
    target = feature if holder == "feature" else feature["num_constraints"]
    target["monitoring_config_overrides"] = {"evaluate_constraints": "Disabled"}
    body = rows(["1.5", "2", "3"], ["0.1", "abc", "0.3"], ["red"] * 3)
    result = found(run(body, document))
    assert ("data_type_check", "n") in result
    assert not any(name == "x" for _, name in result)


def test_overrides_can_set_thresholds_and_distribution_constraints_per_feature():
    body = clean_body(shift=0.4, colours=(0.3, 0.3, 0.4))
    document = constraints()
    document["features"][1]["monitoring_config_overrides"] = {
        "distribution_constraints": {"comparison_threshold": 0.9}
    }
    document["features"][2]["string_constraints"]["monitoring_config_overrides"] = {
        "distribution_constraints": {"categorical_comparison_threshold": 0.9}
    }
    result = found(run(body, document))
    assert not any(c == "baseline_drift_check" for c, _ in result)
    document = constraints()
    document["features"][2]["monitoringConfigOverrides"] = {"domain_content_threshold": 0.5}
    rare = rows(["1"] * 10, ["0.1"] * 10, ["red"] * 6 + ["purple"] * 4)
    assert ("categorical_values_check", "colour") not in found(run(rare, document))
    assert ("categorical_values_check", "colour") in found(run(rare, constraints()))


# ---------------------------------------------------------------------------------------------
# The extra drift methods, against scipy on exact (small) sketches
# ---------------------------------------------------------------------------------------------
def test_numeric_distances_agree_with_scipy():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=1500), rng.normal(0.5, 1.3, size=900)
    base, current = stats_of(x=a)["features"][0], stats_of(x=b)["features"][0]
    distances = data_quality.numeric_distances(
        data_quality.numeric_cdf(base), data_quality.numeric_cdf(current), float(np.std(a))
    )
    assert distances["wasserstein"] == pytest.approx(wasserstein_distance(a, b) / np.std(a))
    edges = np.sort(a)[np.arange(1, 10) * len(a) // 10 - 1]  # the baseline's deciles

    def shares(values):  # bins (e_i, e_i+1], open at both ends
        below = np.searchsorted(np.sort(values), edges, side="right")
        return np.diff(np.concatenate([[0], below, [len(values)]])) / len(values)

    p, q = shares(a), shares(b)
    assert distances["js"] == pytest.approx(jensenshannon(p, q, base=2))
    assert distances["psi"] == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert distances["linf"] == pytest.approx(ks_2samp(a, b).statistic)


def test_categorical_distances_agree_with_scipy():
    base, current = {"a": 50.0, "b": 30.0, "c": 20.0}, {"a": 20.0, "b": 30.0, "d": 50.0}
    distances = data_quality.categorical_distances(base, current)
    p, q = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.2, 0.3, 0.0, 0.5])
    assert distances["linf"] == pytest.approx(0.5)
    assert distances["js"] == pytest.approx(jensenshannon(p, q, base=2))
    assert distances["wasserstein"] == pytest.approx(0.5 * np.abs(p - q).sum())
    pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert distances["psi"] == pytest.approx(np.sum((qf - pf) * np.log(qf / pf)))


@pytest.mark.parametrize("method", ["psi", "js", "wasserstein"])
def test_drift_method_chooses_what_fires_against_its_threshold(method):
    result = run(clean_body(shift=0.7), drift_method=method)
    limit = data_quality.DRIFT_THRESHOLDS[method]
    assert result.drift["x"] == result.distances["x"][method]
    fired = {name for check, name in found(result) if check == "baseline_drift_check"}
    assert fired == {n for n, d in result.distances.items() if d[method] > limit}
    assert "x" in fired
    assert found(result)[("baseline_drift_check", "x")] == (
        f"Baseline drift distance: {result.drift['x']!r} exceeds threshold: {limit!r}"
    )


def test_an_unknown_drift_method_or_comparison_method_is_a_config_error():
    with pytest.raises(ConfigError, match="drift method 'kl'"):
        run(clean_body(), drift_method="kl")
    with pytest.raises(ConfigError, match="comparison_method"):
        run(clean_body(), constraints(comparison_method="Exact"))


def test_check_does_not_change_its_inputs():
    document = constraints()
    before = copy.deepcopy(document)
    run(clean_body(), document)
    assert document == before


# ---------------------------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------------------------
def test_read_dataset_accepts_any_numeric_label_and_refuses_text_or_gaps(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("a,price\n1,10.5\n2,3\n")
    dataset = datasets.read_dataset(path, label="price")
    assert dataset.label.dtype == np.float64 and list(dataset.label) == [10.5, 3.0]
    path.write_text("a,price\n1,10.5\n2,\n")
    with pytest.raises(ConfigError, match=r"train.csv.*'price'.*missing"):
        datasets.read_dataset(path, label="price")
    path.write_text("a,price\n1,cheap\n2,3\n")
    with pytest.raises(ConfigError, match=r"train.csv.*'price'.*numbers"):
        datasets.read_dataset(path, label="price")


def test_a_type_widened_after_the_first_block_is_read_as_read_csv_infers_it(tmp_path):
    # The reader takes its types from the first block (1 MiB); a later value that does not fit
    # them (a fraction in a column of whole numbers, text in a numeric one) reads the file again.
    rows = [f"{i},{i % 7},red" for i in range(200_000)]
    path = tmp_path / "day.csv"
    path.write_text("n,k,colour\n" + "\n".join([*rows, "1.5,x,blue"]) + "\n")
    table = datasets.read_dataset(path, label=None).features
    assert table.schema.types == [pa.float64(), pa.string(), pa.string()]
    assert table.column("n")[-1].as_py() == 1.5 and table.num_rows == 200_001
    body = ("\n".join([*rows, "1.5,x,blue", "1,2", "1,2,red,4"]) + "\n").encode()
    current = datasets.current_from_rows(body, ["n", "k", "colour"])
    assert current.table.schema.types == [pa.float64(), pa.string(), pa.string()]
    assert (current.short_rows, current.long_rows) == ([200_002], [200_003])


def test_types_read_string_features_as_strings(tmp_path):
    current = datasets.current_from_rows(b"1,007\n2,\n", ["n", "code"], {"code": "String"})
    assert current.table.column("code").to_pylist() == ["007", None]
    path = tmp_path / "day.csv"
    path.write_text("code,n\n007,1\n")
    from_file = datasets.current_from_file(path, ["n", "code"], None, {"code": "String"})
    assert from_file.table.column("code").to_pylist() == ["007"]
    empty = datasets.current_from_rows(b"", ["n", "code"], {"code": "String"})
    assert empty.table.schema.field("code").type == pa.string()


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(3).normal(size=100_001),
        np.random.default_rng(4).integers(0, 13, size=50_000).astype(float),  # ties on edges
        np.linspace(-1.0, 1.0, 101),  # values exactly on the edges
        np.full(7, 2.5),  # one value: numpy's range (low, low + 1)
    ],
)
def test_buckets_are_numpys_histogram(values):
    buckets = stats_of(x=values)["features"][0]["numerical_statistics"]["distribution"]["kll"]
    low, high = values.min(), values.max()
    counts, edges = np.histogram(values, bins=10, range=(low, high if high > low else low + 1))
    assert [b["count"] for b in buckets["buckets"]] == list(counts.astype(float))
    assert [b["lower_bound"] for b in buckets["buckets"]] == list(edges[:-1])
    assert [b["upper_bound"] for b in buckets["buckets"]] == list(edges[1:])


def test_type_matches_of_a_float_column_counts_numbers_and_whole_numbers():
    column = pa.chunked_array([[1.0, 2.5, None, np.nan], [np.inf, -3.0, None]])
    assert data_quality.type_matches(column, "Fractional") == (5, 4)
    assert data_quality.type_matches(column, "Integral") == (5, 2)
    assert data_quality.type_matches(column, "String") == (5, 5)
    integers = pa.chunked_array([[1, None, 3]])
    assert data_quality.type_matches(integers, "Integral") == (2, 2)
    assert data_quality.type_matches(pa.chunked_array([["1", "x", None, "2.5"]]), "Integral") == (
        3,
        1,
    )

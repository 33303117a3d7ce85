"""Attribution and bias against the real files Clarify wrote and the examples of AWS's schema
pages (../shared/reference/model-monitor/, read in place): each is read, a real analysis
drives the drift checks as a baseline, and what the project writes has their key structure
and is strict JSON."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import numpy as np
import pytest

from operators.monitoring import attribution, bias, files
from tests.helpers.paths import MODEL_MONITOR_REFERENCE
from tests.helpers.sagemaker_sdk import sdk_constraints, sdk_violations
from tests.helpers.structure import structural_diff

EXPLAINABILITY = "clarify_explainability_analysis.json"
BIAS = "clarify_bias_analysis.json"
PRE_TRAINING_BIAS = "clarify_pretraining_bias_analysis.json"
ATTRIBUTION_VIOLATIONS = "docs_attribution_violations_example.json"
BIAS_VIOLATIONS = "docs_bias_violations_example.json"

# Below these paths the keys are data: labels, feature names, facet columns.
ATTRIBUTION_FREE = ("explanations.kernel_shap", "explanations.kernel_shap.*.global_shap_values")
BIAS_FREE = ("pre_training_bias_metrics.facets", "post_training_bias_metrics.facets")
# What Clarify writes and the project does not compute: explanations of text features and
# partial dependence plots.
NOT_COMPUTED = ("explanations.kernel_shap.*.global_top_shap_text", "explanations.pdp")
# The docs' wording, which scripts parse.
ATTRIBUTION_DESCRIPTION = re.compile(r"Feature attribution drift (\S+) exceeds threshold (\S+)")
BIAS_DESCRIPTION = re.compile(r"Value (\S+) does not meet the constraint requirement")


def _reference(name: str) -> Any:
    return json.loads((MODEL_MONITOR_REFERENCE / name).read_text())


def _strict(document: Any) -> Any:
    """The document as written, read back by a parser that refuses NaN and Infinity."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(files.dumps(document), parse_constant=refuse)


# --- attribution ---------------------------------------------------------------------------


def test_attributions_of_reads_every_label_of_clarifys_analysis():
    real = _reference(EXPLAINABILITY)
    found = attribution.attributions_of(real)
    explanations = real["explanations"]["kernel_shap"]
    assert set(found) == {"label0", "label1"}
    for label in found:
        assert found[label] == explanations[label]["global_shap_values"]
    assert len(found["label0"]) == 8 and len(found["label1"]) == 5  # different features


def test_clarifys_analysis_is_a_constraints_file_with_its_fixed_threshold():
    real = _reference(EXPLAINABILITY)
    assert attribution.threshold_of(real) == 0.9
    ours = attribution.constraints(0.85, real)
    assert attribution.threshold_of(ours) == 0.85
    assert attribution.attributions_of(ours) == attribution.attributions_of(real)
    assert structural_diff(ours, real) == ["+ ndcg_threshold"]


def test_clarifys_analysis_as_baseline_fires_for_the_label_whose_order_changed():
    real = _reference(EXPLAINABILITY)
    baseline = attribution.attributions_of(real)
    current = copy.deepcopy(baseline)
    ascending = sorted(current["label1"], key=current["label1"].get)
    descending = sorted(current["label1"].values(), reverse=True)
    current["label1"] = dict(zip(ascending, descending, strict=True))  # the ranking reversed
    scores = attribution.ndcg_by_label(baseline, current)
    assert scores["label0"] == pytest.approx(1.0)
    threshold = attribution.threshold_of(real)
    found = attribution.violations(scores, threshold)
    assert [v["label"] for v in found] == ["label1"]
    score, limit = ATTRIBUTION_DESCRIPTION.fullmatch(found[0]["description"]).groups()
    assert float(score) == scores["label1"] < 0.9 and float(limit) == threshold
    assert attribution.violations(attribution.ndcg_by_label(baseline, baseline), threshold) == []


def test_our_analysis_has_clarifys_structure():
    attributions = {"label0": {"Age": 0.3, "Income": 0.1}, "label1": {"Age": 0.2}}
    ours = _strict(attribution.analysis(attributions, 50, {"label0": 0.1, "label1": -0.1}))
    diff = structural_diff(ours, _reference(EXPLAINABILITY), free=ATTRIBUTION_FREE)
    assert [line for line in diff if not line[2:].startswith(NOT_COMPUTED)] == [
        "+ attribution_method",
        "+ attribution_rows",
    ]


def test_our_attribution_violations_have_the_docs_structure_and_wording():
    example = _reference(ATTRIBUTION_VIOLATIONS)
    ours = _strict(files.clarify_violations(attribution.violations({"label0": 0.5}, 0.9)))
    assert structural_diff(ours, example) == []
    for violation in example["violations"] + ours["violations"]:
        assert ATTRIBUTION_DESCRIPTION.fullmatch(violation["description"])


# --- bias ----------------------------------------------------------------------------------


def test_metrics_of_reads_clarifys_bias_analyses():
    post_and_pre = bias.metrics_of(_reference(BIAS))
    assert post_and_pre == {
        ("Gender", "0"): {"AD": -0.11415724421435, "CDDL": 0.21491590864936},
        ("Gender", "1"): {"AD": -0.1141572442143538},
    }
    pre = bias.metrics_of(_reference(PRE_TRAINING_BIAS))
    [(column, value)] = pre
    assert column == "F1" and value.startswith("(0.5, ")
    assert set(pre[column, value]) == {"CDDL", "CI", "DPL", "JS", "KL", "KS", "LP", "TVD"}


def test_our_metric_names_and_descriptions_are_clarifys():
    written = {}
    for name in (BIAS, PRE_TRAINING_BIAS):
        document = _reference(name)
        for stage in (bias.PRE_TRAINING, bias.POST_TRAINING):
            for entries in document.get(stage, {}).get("facets", {}).values():
                for entry in entries:
                    written.update({m["name"]: m["description"] for m in entry["metrics"]})
    assert {n: d for n, d in written.items() if n != "CDDL"} == {
        n: bias.DESCRIPTIONS[n] for n in written if n != "CDDL"
    }
    assert "CDDL" not in bias.DESCRIPTIONS  # needs a group variable: left out


def test_our_pre_training_metrics_keep_the_relations_clarifys_values_have():
    # With a binary label, TVD = KS = |DPL| and LP = sqrt(2) |DPL|: so in Clarify's file, so ours.
    [real] = bias.metrics_of(_reference(PRE_TRAINING_BIAS)).values()
    rng = np.random.default_rng(1)
    ours = bias.pre_training(rng.random(500) < 0.4, (rng.random(500) < 0.3).astype(int))
    for values in (real, ours):
        assert values["TVD"] == pytest.approx(abs(values["DPL"]))
        assert values["KS"] == pytest.approx(abs(values["DPL"]))
        assert values["LP"] == pytest.approx(np.sqrt(2) * abs(values["DPL"]))


def test_clarifys_numeric_facet_interval_is_the_baseline_of_a_threshold_facet():
    real = _reference(PRE_TRAINING_BIAS)
    facet = bias.Facet("F1", 0.5, numeric=True)
    [reference] = bias.metrics_of(real).values()
    assert bias.baseline_metrics(facet, real) == reference
    better = {name: value / 2 for name, value in reference.items() if name != "CDDL"}
    assert bias.violations(facet, better, real) == []
    worse = {name: -3 * value for name, value in better.items()}  # 1.5 times as far from 0
    found = bias.violations(facet, worse, real)
    assert [v["metric_name"] for v in found] == sorted(better)
    assert {v["facet_value"] for v in found} == {"0.5"}
    for violation in found:
        [value] = BIAS_DESCRIPTION.fullmatch(violation["description"]).groups()
        assert float(value) == worse[violation["metric_name"]]


def test_clarifys_post_training_analysis_as_baseline_of_a_categorical_facet():
    real = _reference(BIAS)
    facet = bias.Facet("Gender", "0", numeric=False)
    assert bias.violations(facet, {"AD": 0.05}, real) == []
    assert [v["metric_name"] for v in bias.violations(facet, {"AD": -0.2}, real)] == ["AD"]


def test_our_bias_analysis_has_clarifys_structure():
    rng = np.random.default_rng(2)
    mask = rng.random(400) < 0.3
    label = (rng.random(400) < 0.4).astype(int)
    predicted = np.where(rng.random(400) < 0.8, label, 1 - label)
    facet = bias.Facet("Gender", "0", numeric=False)
    pre, post = bias.pre_training(mask, label), bias.post_training(mask, label, predicted)
    ours = _strict(bias.analysis(facet, pre, post, "Target"))
    assert structural_diff(ours, _reference(BIAS), free=BIAS_FREE) == []
    pre_only = _strict(bias.analysis(facet, pre, None, "Label"))
    assert structural_diff(pre_only, _reference(PRE_TRAINING_BIAS), free=BIAS_FREE) == []


def test_non_finite_bias_values_are_written_as_strings_clarify_reads_back():
    facet = bias.Facet("Gender", "F", numeric=False)
    mask = np.array([0, 0, 1, 1], dtype=bool)
    post = bias.post_training(mask, np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]))
    assert post["DCA"] == -np.inf
    written = _strict(bias.analysis(facet, None, post, "y"))
    assert bias.metrics_of(written)["Gender", "F"]["DCA"] == -np.inf


def test_our_bias_violations_have_the_docs_structure_and_wording():
    example = _reference(BIAS_VIOLATIONS)
    facet = bias.Facet("Age", 40, numeric=True)
    ours = _strict(files.clarify_violations(bias.violations(facet, {"DPPL": -0.3})))
    assert structural_diff(ours, example) == []
    assert ours["violations"][0]["facet_value"] == example["violations"][0]["facet_value"]
    for violation in example["violations"] + ours["violations"]:
        assert BIAS_DESCRIPTION.fullmatch(violation["description"])


def test_our_files_load_with_the_sagemaker_sdk(tmp_path):
    analysis = attribution.analysis({"label0": {"Age": 0.3}}, 10, {"label0": 0.0})
    documents = {
        "attribution_constraints.json": (sdk_constraints, attribution.constraints(0.9, analysis)),
        "attribution_violations.json": (
            sdk_violations,
            files.clarify_violations(attribution.violations({"label0": 0.5}, 0.9)),
        ),
        "bias_violations.json": (
            sdk_violations,
            files.clarify_violations(
                bias.violations(bias.Facet("Age", 40, numeric=True), {"DI": 0.5})
            ),
        ),
    }
    for name, (load, document) in documents.items():
        path = tmp_path / name
        path.write_bytes(files.dumps(document))
        assert load(path).body_dict == document

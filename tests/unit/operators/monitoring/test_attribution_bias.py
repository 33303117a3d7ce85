"""Attribution and bias arithmetic, against hand computations and independent references
(scipy, scikit-learn, a tiny XGBoost model trained here)."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

from operators.monitoring import attribution, bias, files

NAMES = ["strong", "weak", "noise", "constant"]


def _features(rows: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, 4))
    x[:, 3] = 1.0  # a constant feature the trees can never split on
    return x, x[:, 0] + 0.3 * x[:, 1]


def _train(objective: str, label: np.ndarray, x: np.ndarray, **params) -> xgb.Booster:
    params = {"objective": objective, "max_depth": 3, "seed": 0, **params}
    return xgb.train(params, xgb.DMatrix(x, label=label), num_boost_round=15)


# --- attribution ---------------------------------------------------------------------------


def test_global_attributions_rank_the_features_the_model_uses():
    x, signal = _features()
    booster = _train("binary:logistic", (signal > 0).astype(int), x)
    found = attribution.global_attributions(booster, x, NAMES)
    assert list(found) == ["label0"]
    values = found["label0"]
    assert values["strong"] > values["weak"] > values["noise"] >= 0
    assert values["constant"] == 0.0
    # mean |SHAP| of XGBoost's own contributions; a sample of rows when there are many
    contributions = booster.predict(xgb.DMatrix(x), pred_contribs=True)
    assert values["strong"] == pytest.approx(np.abs(contributions[:, 0]).mean(), rel=1e-6)
    sampled = attribution.global_attributions(booster, np.tile(x, (40, 1)), NAMES)
    assert sampled["label0"]["strong"] == pytest.approx(values["strong"], rel=0.05)


def test_expected_value_is_the_mean_margin_of_the_training_rows():
    # For squared error every row weighs the same in the trees' covers, so TreeSHAP's bias term
    # is exactly the mean of the model's output over the training data.
    x, signal = _features()
    booster = _train("reg:squarederror", signal, x)
    expected = attribution.expected_values(booster, x)
    assert list(expected) == ["label0"]
    assert expected["label0"] == pytest.approx(booster.predict(xgb.DMatrix(x)).mean(), abs=1e-4)


def test_a_multiclass_model_has_one_label_per_class():
    x, signal = _features()
    classes = np.digitize(signal, [-0.5, 0.5])
    booster = _train("multi:softprob", classes, x, num_class=3)
    found = attribution.global_attributions(booster, x, NAMES)
    expected = attribution.expected_values(booster, x)
    assert list(found) == list(expected) == ["label0", "label1", "label2"]
    for values in found.values():
        assert max(values, key=values.get) == "strong"
        assert values["constant"] == 0.0
    # per class, the bias plus the contributions add up to that class's margin
    margin = booster.predict(xgb.DMatrix(x[:5]), output_margin=True)
    contributions = booster.predict(xgb.DMatrix(x[:5]), pred_contribs=True)
    for k in range(3):
        row_sums = contributions[:, k, :-1].sum(axis=1) + expected[f"label{k}"]
        assert row_sums == pytest.approx(margin[:, k], abs=1e-4)


def test_analysis_is_clarifys_layout_under_kernel_shap_and_says_tree_shap():
    attributions = {"label0": {"a": 0.5, "b": 0.1}, "label1": {"a": 0.2, "b": 0.3}}
    document = attribution.analysis(attributions, 120, {"label0": -1.5, "label1": 0.25})
    assert document["attribution_method"] == "tree_shap"
    assert document["attribution_rows"] == 120
    label1 = document["explanations"]["kernel_shap"]["label1"]
    assert label1 == {"global_shap_values": {"a": 0.2, "b": 0.3}, "expected_value": 0.25}
    assert attribution.attributions_of(document) == attributions


def test_attributions_of_reads_any_single_explainer_and_ignores_pdp():
    other = {
        "explanations": {
            "pdp": [{"feature_name": "a"}],
            "tree_shap": {"label0": {"global_shap_values": {"a": 1}}},
        }
    }
    assert attribution.attributions_of(other) == {"label0": {"a": 1.0}}
    with pytest.raises(ValueError, match="one explainer"):
        attribution.attributions_of({"explanations": {"pdp": []}})
    with pytest.raises(KeyError):
        attribution.attributions_of({"version": "1.0"})


def test_threshold_of_reads_ours_the_older_layout_and_defaults_to_clarifys():
    baseline = attribution.analysis({"label0": {"a": 1.0}}, 1, {"label0": 0.0})
    written = attribution.constraints(0.8, baseline)
    assert attribution.threshold_of(written) == 0.8
    assert attribution.attributions_of(written) == {"label0": {"a": 1.0}}
    assert "ndcg_threshold" not in baseline  # the baseline itself is not changed
    older = {"version": "1.0", "explanations": {"tree_shap": {"label0": {"ndcg_threshold": 0.7}}}}
    assert attribution.threshold_of(older) == 0.7
    assert attribution.threshold_of(baseline) == 0.9
    assert attribution.threshold_of(attribution.constraints()) == 0.9


def test_ndcg_is_one_for_the_same_order_and_drops_when_the_top_features_fall():
    base = {"a": 0.5, "b": 0.3, "c": 0.1, "d": 0.05}
    assert attribution.ndcg(base, {"a": 5, "b": 3, "c": 1, "d": 0}) == pytest.approx(1.0)
    reversed_ = attribution.ndcg(base, {"a": 0, "b": 1, "c": 3, "d": 5})
    ideal = 0.5 + 0.3 / np.log2(3) + 0.1 / 2 + 0.05 / np.log2(5)
    observed = 0.05 + 0.1 / np.log2(3) + 0.3 / 2 + 0.5 / np.log2(5)
    assert reversed_ == pytest.approx(observed / ideal)
    bottom_swap = attribution.ndcg(base, {"a": 0.5, "b": 0.3, "c": 0.04, "d": 0.1})
    assert reversed_ < bottom_swap < 1.0  # the lower the features that move, the less it drops
    assert attribution.ndcg(base, {"b": 1.0}) < 1.0  # a missing feature counts as 0


def test_drift_is_per_label_and_worded_as_the_docs():
    base = {"label0": {"a": 0.5, "b": 0.3, "c": 0.1}, "label1": {"a": 0.1, "b": 0.2, "c": 0.6}}
    current = {"label0": {"a": 0.5, "b": 0.3, "c": 0.1}, "label1": {"a": 0.6, "b": 0.2, "c": 0.1}}
    scores = attribution.ndcg_by_label(base, current)
    assert scores["label0"] == pytest.approx(1.0)
    assert scores["label1"] < 0.9
    found = attribution.violations(scores, 0.9)
    assert found == [
        {
            "label": "label1",
            "metric_name": "shap",
            "constraint_check_type": "feature_attribution_drift_check",
            "description": f"Feature attribution drift {scores['label1']} exceeds threshold 0.9",
        }
    ]
    assert attribution.violations(scores, 0.1) == []
    assert files.clarify_violations(found) == {"version": "1.0", "violations": found}
    with pytest.raises(ValueError, match="no label1"):
        attribution.ndcg_by_label(base, {"label0": current["label0"]})


# --- bias ----------------------------------------------------------------------------------


def test_parse_facet_numeric_and_categorical():
    assert bias.parse_facet("Amount=200", numeric=True) == bias.Facet("Amount", 200.0, True)
    gender = bias.parse_facet("Gender=F,X", numeric=False)
    assert gender == bias.Facet("Gender", ["F", "X"], False)
    assert gender.value == ("F", "X") and gender.value_or_threshold == "F,X"
    assert bias.Facet("Amount", 200, True).value_or_threshold == "200"
    assert bias.Facet("F1", 0.5, True).value_or_threshold == "0.5"
    for bad in ("Amount", "=3", "Amount=", "Amount=lots", "Amount=nan"):
        with pytest.raises(ValueError, match=repr(bad)):
            bias.parse_facet(bad, numeric=True)


def test_in_facet_threshold_values_and_numeric_categories():
    amount = np.array([10, 200, 300])
    assert bias.in_facet(bias.Facet("Amount", 200, True), amount).tolist() == [False, False, True]
    gender = np.array(["F", "M", "X", "F"])
    selected = bias.in_facet(bias.Facet("Gender", ["F", "X"], False), gender)
    assert selected.tolist() == [True, False, True, True]
    coded = np.array([0.0, 1.0, 1.0])  # a categorical facet in a numeric column: "1" is 1.0
    assert bias.in_facet(bias.Facet("Gender", "1", False), coded).tolist() == [False, True, True]


# a: 6 rows, 3 positive labels; d: 4 rows, 1 positive label
MASK = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1], dtype=bool)
LABEL = np.array([1, 1, 1, 0, 0, 0, 1, 0, 0, 0])
PREDICTED = np.array([1, 1, 0, 1, 0, 0, 1, 1, 0, 0])


def test_pre_training_metrics_match_hand_computation_and_scipy():
    values = bias.pre_training(MASK, LABEL)
    assert set(values) == {"CI", "DPL", "KL", "JS", "LP", "TVD", "KS"}
    assert values["CI"] == pytest.approx((6 - 4) / 10)
    assert values["DPL"] == pytest.approx(3 / 6 - 1 / 4)
    pa, pd = np.array([0.5, 0.5]), np.array([0.75, 0.25])  # P(label = 0), P(label = 1)
    assert values["KL"] == pytest.approx(entropy(pa, pd))
    assert values["JS"] == pytest.approx(jensenshannon(pa, pd) ** 2)
    assert values["LP"] == pytest.approx(np.sqrt(2) * 0.25)
    assert values["TVD"] == pytest.approx(0.25)
    assert values["KS"] == pytest.approx(0.25)


def test_pre_training_divergences_use_the_label_values_both_groups_have():
    # d has no positive label: Clarify keeps only label 0, P_a(0) = 0.5, P_d(0) = 1.
    label = np.array([1, 0, 0, 0])
    values = bias.pre_training(np.array([0, 0, 1, 1], dtype=bool), label)
    assert values["KL"] == pytest.approx(0.5 * np.log(0.5))
    assert values["KS"] == pytest.approx(0.5)


def test_post_training_metrics_match_scikit_learn_per_group():
    values = bias.post_training(MASK, LABEL, PREDICTED)
    a, d = ~MASK, MASK

    def per_group(metric, **kwargs):
        return metric(LABEL[a], PREDICTED[a], **kwargs), metric(LABEL[d], PREDICTED[d], **kwargs)

    def false_negatives_and_positives(group):
        _, fp, fn, _ = confusion_matrix(LABEL[group], PREDICTED[group], labels=[0, 1]).ravel()
        return fn, fp

    acc_a, acc_d = per_group(accuracy_score)
    rec_a, rec_d = per_group(recall_score)
    spec_a, spec_d = per_group(recall_score, pos_label=0)
    prec_a, prec_d = per_group(precision_score)
    npv_a, npv_d = per_group(precision_score, pos_label=0)
    (fn_a, fp_a), (fn_d, fp_d) = false_negatives_and_positives(a), false_negatives_and_positives(d)
    assert values["DPPL"] == pytest.approx(PREDICTED[a].mean() - PREDICTED[d].mean())
    assert values["DI"] == pytest.approx(PREDICTED[d].mean() / PREDICTED[a].mean())
    assert values["AD"] == pytest.approx(acc_a - acc_d)
    assert values["RD"] == pytest.approx(rec_a - rec_d)
    assert values["SD"] == pytest.approx(spec_d - spec_a)
    assert values["DAR"] == pytest.approx(prec_a - prec_d)
    assert values["DRR"] == pytest.approx(npv_d - npv_a)
    ca = LABEL[a].sum() / PREDICTED[a].sum()
    cd = LABEL[d].sum() / PREDICTED[d].sum()
    assert values["DCA"] == pytest.approx(ca - cd)
    ra = (1 - LABEL[a]).sum() / (1 - PREDICTED[a]).sum()
    rd = (1 - LABEL[d]).sum() / (1 - PREDICTED[d]).sum()
    assert values["DCR"] == pytest.approx(rd - ra)
    assert values["TE"] == pytest.approx(fn_d / fp_d - fn_a / fp_a)
    # GE with alpha 2 is half the squared coefficient of variation of the benefits
    benefit = PREDICTED - LABEL + 1
    assert values["GE"] == pytest.approx(np.var(benefit) / benefit.mean() ** 2 / 2)
    assert set(values) == set(bias.DESCRIPTIONS) - set(bias.pre_training(MASK, LABEL))


def test_post_training_divides_as_clarify():
    mask = np.array([0, 0, 1, 1], dtype=bool)
    label = np.array([1, 0, 1, 0])
    predicted = np.array([1, 0, 0, 0])  # d: no predicted positive
    values = bias.post_training(mask, label, predicted)
    assert values["DI"] == 0.0  # q_d = 0
    assert values["DAR"] == pytest.approx(1.0)  # precision_d = 0/0 = 0
    assert values["DCA"] == -np.inf  # d's n1 / n^1 = 1/0
    assert values["TE"] == np.inf  # d: FN / FP = 1/0
    both = bias.post_training(mask, np.array([1, 0, 1, 0]), np.array([0, 0, 0, 0]))
    assert both["DCA"] == 0.0  # Infinity on both sides


def test_an_empty_group_is_a_clear_error():
    with pytest.raises(ValueError, match="selects no rows"):
        bias.pre_training(np.zeros(3, dtype=bool), np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="every row"):
        bias.post_training(np.ones(3, dtype=bool), np.array([1, 0, 1]), np.array([1, 0, 1]))


def test_analysis_layout_and_metrics_of_round_trip():
    facet = bias.Facet("Amount", 200, True)
    pre, post = bias.pre_training(MASK, LABEL), bias.post_training(MASK, LABEL, PREDICTED)
    document = bias.analysis(facet, pre, post, "Class")
    section = document["post_training_bias_metrics"]
    assert section["label"] == "Class" and section["label_value_or_threshold"] == "1"
    entry = section["facets"]["Amount"][0]
    assert entry["value_or_threshold"] == "200"
    names = [m["name"] for m in entry["metrics"]]
    assert names == sorted(names)
    assert {m["description"] for m in entry["metrics"]} >= {"Disparate Impact (DI)"}
    assert bias.metrics_of(document) == {("Amount", "200"): {**pre, **post}}
    assert "pre_training_bias_metrics" not in bias.analysis(facet, None, post, "Class")


def test_bias_violations_against_fixed_ranges_without_a_baseline():
    facet = bias.Facet("Amount", 200, True)
    found = bias.violations(facet, {"DI": 3.0, "DPPL": -0.05, "AD": 0.9})
    assert found == [
        {
            "facet": "Amount",
            "facet_value": "200",
            "metric_name": "DI",
            "constraint_check_type": "bias_drift_check",
            "description": "Value 3.0 does not meet the constraint requirement",
        }
    ]
    assert bias.violations(facet, {"DI": 1.1, "DPPL": 0.1}) == []
    assert bias.violations(facet, {"DI": np.nan, "DPPL": -0.2})[0]["metric_name"] == "DPPL"


def test_bias_violations_when_worse_than_the_baseline():
    facet = bias.Facet("Gender", "F", False)
    baseline = bias.analysis(facet, None, {"DPPL": 0.2, "DI": 0.7, "AD": -0.1}, "y")
    current = {"DPPL": 0.1, "DI": 1.2, "AD": 0.05}
    assert bias.violations(facet, current, baseline) == []  # all closer to fair
    worse = bias.violations(facet, {"DPPL": -0.3, "DI": 1.4, "AD": -0.1}, baseline)
    assert [v["metric_name"] for v in worse] == ["DI", "DPPL"]
    assert worse[1]["description"] == "Value -0.3 does not meet the constraint requirement"
    # a facet the baseline does not have falls back to the fixed ranges
    other = bias.Facet("Gender", "M", False)
    assert [v["metric_name"] for v in bias.violations(other, {"DPPL": -0.3}, baseline)] == ["DPPL"]

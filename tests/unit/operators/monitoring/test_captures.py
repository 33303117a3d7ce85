"""Captured traffic: windows, and each row's output in every format the container answers."""

from __future__ import annotations

import pytest

from operators.monitoring.captures import parse_outputs, parse_scores, parse_window, per_row


def test_window_parsing():
    assert parse_window("90m").total_seconds() == 5400
    assert parse_window("2d").days == 2
    with pytest.raises(ValueError, match="30m"):
        parse_window("soon")


@pytest.mark.parametrize(
    ("payload", "outputs"),
    [
        ({"data": "0.1\n0.9\n", "encoding": "CSV"}, [0.1, 0.9]),
        ({"data": "0.1,0.2,0.7\n0.5,0.25,0.25\n"}, [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]),
        ({"data": "[0.1, 0.9]\n[0.8, 0.2]\n"}, [[0.1, 0.9], [0.8, 0.2]]),  # SAGEMAKER_BATCH
        (
            {
                "data": '{"predictions": [{"score": 0.2}, {"score": [0.3, 0.7]}]}',
                "observedContentType": "application/json",
            },
            [0.2, [0.3, 0.7]],
        ),
        (
            {
                "data": '{"score": 1.5}\n{"predicted_label": 2}\n',
                "observedContentType": "application/jsonlines",
            },
            [1.5, 2.0],
        ),
        ({"data": "[[0.4], [0.6]]", "observedContentType": "application/json"}, [0.4, 0.6]),
    ],
)
def test_each_rows_output_is_read_from_every_answer_format(payload, outputs):
    assert parse_outputs(payload) == outputs


def test_scores_are_one_number_per_row():
    assert parse_scores({"data": "0.1\n0.9\n"}) == [0.1, 0.9]
    # two class probabilities: the probability of class 1
    assert parse_scores({"data": "[0.1, 0.9]\n"}) == [0.9]


def test_one_line_of_n_scores_for_n_rows_is_a_score_per_row():
    """SageMaker's XGBoost answers a CSV batch with one line of comma-separated scores."""
    assert per_row([[0.1, 0.2, 0.3]], ["a", "b", "c"]) == [0.1, 0.2, 0.3]
    assert per_row([[0.1, 0.2, 0.7]], ["a"]) == [[0.1, 0.2, 0.7]]  # one row's probabilities
    assert per_row(None, ["a"]) is None


def test_an_output_record_without_a_score_names_itself():
    with pytest.raises(ValueError, match="without a score"):
        parse_outputs({"data": '[{"label": "x"}]', "observedContentType": "application/json"})

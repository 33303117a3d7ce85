"""The bulk float formatting of answers against what it stands in for, byte for byte, for any
float32 or float64 values: CSV's str() of each value as tolist() gives it (any row width), JSON's
and JSON Lines' json.dumps of the scores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from serving import outputs
from serving.predictor import Signature

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(matrix: np.ndarray) -> bytes:
    """The value-by-value encoder (the container's np.savetxt fmt "%s" as the core wrote it)."""
    matrix = matrix.reshape(len(matrix), -1)
    return "".join(",".join(map(str, row)) + "\n" for row in matrix.tolist()).encode()


# Every layout the two formatters differ on: whole numbers, both exponent thresholds (Python's
# 1e-4 and 1e16, Arrow's 1e-6 and 1e10), signed zeros, subnormals, non-finite values.
EDGES = [
    1.0,
    0.0,
    -0.0,
    100.0,
    -3.0,
    1e15,
    1e16,
    1.5e16,
    9_999_999_999.5,
    1e10,
    10_000_000_001.5,
    1e-4,
    9.99e-5,
    1.5e-6,
    9.9e-7,
    1e-7,
    123456789012345.6,
    5e-324,
    2.2e-308,
    1.7976931348623157e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    0.1,
    0.5,
    2.5,
]

magnitudes = st.sampled_from([1e-9, 1e-6, 1e-4, 1e-2, 1.0, 1e3, 1e9, 1e10, 1e15, 1e17, 1e300])


@st.composite
def predictions(draw: st.DrawFn) -> np.ndarray:
    rows = draw(st.integers(1, 400))
    width = draw(st.sampled_from([1, 1, 1, 2, 3]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    scale = draw(magnitudes)
    values = (
        draw(hnp.arrays(np.float64, rows * width, elements=st.floats(-1.0, 1.0, allow_nan=False)))
        * scale
    )
    edges = draw(st.lists(st.sampled_from(EDGES), max_size=20))
    places = draw(st.permutations(range(len(values))))
    for index, value in zip(places, edges, strict=False):
        values[index] = value
    if draw(st.booleans()):
        with np.errstate(over="ignore", invalid="ignore"):  # rounding 1e300 scales past range
            values = np.round(values, draw(st.integers(0, 3)))
    with np.errstate(over="ignore"):
        return values.astype(dtype).reshape(rows, width) if width > 1 else values.astype(dtype)


@SETTINGS
@given(predictions())
def test_rows_csv_is_str_of_every_value(values):
    assert outputs.rows_csv(values) == reference(values)


def edges_among_ordinary_scores(dtype, seed: int) -> np.ndarray:
    """Each edge once among 1,000 ordinary scores (so that the bulk path runs)."""
    values = np.random.default_rng(seed).uniform(0.001, 0.999, 1000)
    values[:: 1000 // len(EDGES)][: len(EDGES)] = EDGES
    with np.errstate(over="ignore"):
        return values.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_layout_edge_among_ordinary_scores(dtype):
    """The bulk path runs and writes every edge as str() does."""
    values = edges_among_ordinary_scores(dtype, seed=1)
    assert outputs.float_strings(values) == [str(v) for v in values.tolist()]
    assert outputs.rows_csv(values) == reference(values)
    assert outputs.rows_csv(values.reshape(-1, 4)) == reference(values.reshape(-1, 4))


def test_scores_in_arrows_range_are_formatted_in_bulk():
    """The bulk path is taken for typical scores (not every value sent back to str())."""
    scores = np.random.default_rng(0).uniform(0.001, 0.999, 1000).astype(np.float32)
    text = outputs.float_strings(scores)
    assert text == [str(v) for v in scores.tolist()]


def test_mostly_whole_numbers_are_left_to_str():
    labels = np.arange(1000, dtype=np.float64) % 3
    assert outputs.float_strings(labels) is None
    assert outputs.rows_csv(labels) == reference(labels)


def json_reference(values: np.ndarray) -> tuple[bytes, bytes]:
    rows = values.tolist()
    return (
        json.dumps({"predictions": [{"score": v} for v in rows]}).encode(),
        "".join(json.dumps({"score": v}) + "\n" for v in rows).encode(),
    )


@SETTINGS
@given(predictions())
def test_json_answers_are_json_dumps(values):
    signature = Signature("xgboost", "binary:logistic", 30, "xgboost-model")
    document, lines = json_reference(values)
    assert outputs.default_json(signature, values) == document
    assert outputs.default_jsonlines(signature, values) == lines


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_json_answers_with_every_edge_among_ordinary_scores(dtype):
    values = edges_among_ordinary_scores(dtype, seed=2)
    signature = Signature("xgboost", "binary:logistic", 30, "xgboost-model")
    assert outputs._json_numbers(values) is not None
    document, lines = json_reference(values)
    assert outputs.default_json(signature, values) == document
    assert outputs.default_jsonlines(signature, values) == lines


@pytest.mark.parametrize("sign", [1, -1, 0])
def test_scores_of_rare_events_are_rewritten_in_exponent_form(sign):
    """Scores from 1e-6 to 1e-4 (Arrow: "0.0000123", Python: "1.23e-05"), most of a fraud
    model's, signed or of either sign, one significant digit or seventeen: in bulk, as str()."""
    rng = np.random.default_rng(7)
    scores = np.exp(rng.uniform(np.log(1e-6), np.log(1e-4), 2000))
    scores[:10] = [
        1e-6,
        1e-5,
        2e-5,
        9e-6,
        3e-06,
        9.999999999999999e-06,
        1e-4 * (1 - 1e-16),
        5e-05,
        7e-6,
        1.5e-5,
    ]
    scores *= sign or rng.choice([-1, 1], len(scores))
    for values in (scores, scores.astype(np.float32)):
        assert outputs.float_strings(values) == [str(v) for v in values.tolist()]
        assert outputs.rows_csv(values) == reference(values)

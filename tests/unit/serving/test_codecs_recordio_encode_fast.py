"""RecordIO answers and features written from one template record against the record-by-record
serialization they stand in for: the same bytes for any rows, dtype and width, and the same
error for what is not numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from serving import codecs, outputs

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every float a model can answer, where float32 rounding, overflow and NaN differ from float64's.
EDGES = [0.0, -0.0, 1e-45, 1.4e-45, 3.4028235e38, 3.4028236e38, 1e300, -1e300, np.inf, np.nan]


def one_by_one_labels(predictions: np.ndarray) -> bytes:
    return codecs.encode_recordio_labels(outputs.default_records(predictions))


def one_by_one_features(matrix: np.ndarray) -> bytes:
    tensor_name = "float32_tensor" if matrix.dtype == np.float32 else "float64_tensor"
    return codecs._recordio_each(
        codecs._tensor_record("features", "values", tensor_name), np.asarray(matrix)
    )


def matrices():
    dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.bool_])
    shapes = st.tuples(st.integers(0, 12), st.integers(1, 5)).map(
        lambda s: s if s[0] else (codecs.RECORDIO_TEMPLATE_ROWS, s[1])
    )
    elements = {
        np.float64: st.one_of(st.floats(), st.sampled_from(EDGES)),
        np.float32: st.floats(width=32),
        np.int64: st.integers(-(2**63), 2**63 - 1),
        np.int32: st.integers(-(2**31), 2**31 - 1),
        np.bool_: st.booleans(),
    }
    return st.tuples(dtypes, shapes).flatmap(
        lambda d: hnp.arrays(d[0], d[1], elements=elements[d[0]])
    )


@given(matrices(), st.booleans())
@SETTINGS
def test_answers_from_the_template_are_the_records_one_by_one(matrix, flat):
    predictions = matrix[:, 0] if flat else matrix
    template = codecs.encode_recordio_tensors(predictions, "label", outputs.DEFAULT_RECORD_KEY)
    assert template == one_by_one_labels(predictions)


@given(matrices())
@SETTINGS
def test_features_from_the_template_are_the_records_one_by_one(matrix):
    assert codecs.encode_recordio_features(matrix) == one_by_one_features(matrix)


@pytest.mark.parametrize("rows", [1, codecs.RECORDIO_TEMPLATE_ROWS, 1000])
def test_the_template_round_trips_through_the_decoders(rows):
    scores = np.random.default_rng(3).random((rows, 3))
    body = codecs.encode_recordio_tensors(scores, "label", "score")
    decoded = codecs.decode_recordio_labels(body)
    assert [d["score"] for d in decoded] == scores.astype(np.float32).tolist()
    features = codecs.encode_recordio_features(scores)
    assert codecs.decode(features, codecs.RECORDIO, 3).tobytes() == scores.tobytes()


def test_an_integer_is_rounded_through_a_double_as_protobuf_rounds_it():
    # 2**60 + 2**36 + 1 rounds up to float32 directly, but to 2**60 + 2**36 as a double first,
    # which is then a tie that float32 rounds to even: down to 2**60.
    predictions = np.full(codecs.RECORDIO_TEMPLATE_ROWS, 2**60 + 2**36 + 1, dtype=np.int64)
    template = codecs.encode_recordio_tensors(predictions, "label", "score")
    assert template == one_by_one_labels(predictions)
    assert codecs.decode_recordio_labels(template)[0]["score"] == [2.0**60]


def test_what_is_not_numbers_is_left_to_the_records_one_by_one():
    labels = np.array([["a"], ["b"]] * 4, dtype=object)
    assert codecs.encode_recordio_tensors(labels, "label", "score") is None
    with pytest.raises(TypeError):
        one_by_one_labels(labels)


def test_many_rows_take_the_template(monkeypatch):
    predictions = np.linspace(0, 1, 50)
    expected = one_by_one_labels(predictions)
    monkeypatch.setattr(codecs, "_recordio_each", None)  # called, it raises a TypeError
    assert codecs.encode_recordio_tensors(predictions, "label", "score") == expected

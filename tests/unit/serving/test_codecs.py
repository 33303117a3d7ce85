"""serving.codecs: request decoding for every content type SageMaker's XGBoost container takes."""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np
import pytest
import scipy.sparse
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from serving import codecs
from serving.codecs import (
    CSV,
    JSON,
    JSONLINES,
    LIBSVM,
    RECORDIO,
    BadRequest,
    InferenceError,
    UnsupportedMediaType,
)


def bad(body: bytes | str, kind: str, num_features: int | None = None) -> str:
    """The BadRequest message decoding the body gives."""
    if isinstance(body, str):
        body = body.encode()
    with pytest.raises(BadRequest) as caught:
        codecs.decode(body, kind, num_features)
    return str(caught.value)


def dense(body: bytes | str, kind: str, num_features: int | None = None) -> list[list[float]]:
    if isinstance(body, str):
        body = body.encode()
    features = codecs.decode(body, kind, num_features)
    assert isinstance(features, np.ndarray)
    assert features.dtype == np.float64
    return features.tolist()


def sparse(body: bytes | str, kind: str, num_features: int | None = None) -> np.ndarray:
    """A sparse result, checked to be a canonical float64 CSR matrix, as a dense array."""
    if isinstance(body, str):
        body = body.encode()
    features = codecs.decode(body, kind, num_features)
    assert isinstance(features, scipy.sparse.csr_matrix)
    assert features.dtype == np.float64
    assert features.has_sorted_indices
    return features.toarray()


def same(left, right) -> bool:
    """Equal values, NaN equal to NaN."""
    return np.array_equal(np.asarray(left), np.asarray(right), equal_nan=True)


# ---------------------------------------------------------------------------------------------
# Content types, errors, empty bodies
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (None, CSV),
        ("", CSV),
        ("  ", CSV),
        ("text/csv", CSV),
        ("Text/CSV; charset=utf-8", CSV),
        ("text/csv; label_size=1", CSV),
        ("text/libsvm", LIBSVM),
        ("text/x-libsvm", LIBSVM),
        ("application/x-recordio-protobuf", RECORDIO),
        ("application/x-recordio-protobuf; charset=binary", RECORDIO),
        ("application/json", JSON),
        ("application/JSON ; charset=utf-8", JSON),
        ("application/jsonlines", JSONLINES),
        ("application/x-jsonlines", JSONLINES),
    ],
)
def test_request_type_is_the_bare_media_type_with_its_aliases(header, kind):
    assert codecs.request_type(header) == kind


@pytest.mark.parametrize("header", ["application/x-parquet", "image/png", "text/plain; x=1"])
def test_an_unknown_content_type_is_415_naming_it_and_the_supported_ones(header):
    with pytest.raises(UnsupportedMediaType) as caught:
        codecs.request_type(header)
    assert caught.value.status == 415
    message = str(caught.value)
    assert repr(codecs.media_type(header)) in message
    assert all(kind in message for kind in codecs.CONTENT_TYPES)


def test_errors_carry_their_http_status_and_share_one_base():
    assert InferenceError.status == 500
    assert BadRequest("x").status == 400
    assert UnsupportedMediaType("x").status == 415
    assert issubclass(BadRequest, InferenceError)
    assert issubclass(UnsupportedMediaType, InferenceError)


def test_decode_refuses_a_kind_request_type_never_returns():
    with pytest.raises(UnsupportedMediaType, match="'text/plain' is not supported"):
        codecs.decode(b"1,2", "text/plain", 2)


def test_only_a_zero_length_body_is_empty_as_the_container_answers_204():
    assert codecs.is_empty(b"")
    assert not codecs.is_empty(b" ")
    assert not codecs.is_empty(b"\n")


@pytest.mark.parametrize("kind", codecs.CONTENT_TYPES)
def test_decode_refuses_an_empty_body(kind):
    assert bad(b"", kind, 3) == "empty body: send at least one row"


@pytest.mark.parametrize("kind", [CSV, LIBSVM, JSONLINES])
@pytest.mark.parametrize("body", [b" \n\t\n", b"\n\r\n", b"\n"])
def test_a_body_of_whitespace_holds_no_rows(kind, body):
    assert bad(body, kind, 3) == "the body holds no rows, only whitespace"


# ---------------------------------------------------------------------------------------------
# text/csv
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|", " "])
def test_csv_delimiter_is_sniffed_on_the_first_line(delimiter):
    rows = [["-1", "2.5", "3e-2"], ["4", "-5", "+6"]]
    body = "\n".join(delimiter.join(row) for row in rows) + "\n"
    assert dense(body, CSV, 3) == [[-1.0, 2.5, 0.03], [4.0, -5.0, 6.0]]


def test_csv_delimiter_is_never_a_character_of_the_numbers():
    # The container's Sniffer picks '-' here, and then fails every value.
    assert dense("-1|-2\n-3|-4", CSV, 2) == [[-1.0, -2.0], [-3.0, -4.0]]
    assert codecs._csv_delimiter("1, 2, 3") == ","
    assert codecs._csv_delimiter("1.5") == ","


def test_csv_single_column():
    assert dense("1.5\n2.5\n", CSV, 1) == [[1.5], [2.5]]


def test_csv_surrounding_whitespace_and_crlf_are_fine():
    assert dense("\n\n1,2\r\n3,4\r\n\n", CSV, 2) == [[1.0, 2.0], [3.0, 4.0]]
    assert dense(" 1 , 2 \n3,4", CSV, 2) == [[1.0, 2.0], [3.0, 4.0]]


def test_csv_empty_field_and_nan_are_missing():
    assert same(dense("1,,3\nnan,NaN,\n,,", CSV, 3), [[1, np.nan, 3], [np.nan] * 3, [np.nan] * 3])


def test_csv_without_model_width_takes_the_first_row_s_width():
    assert dense("1,2,3\n4,5,6", CSV, None) == [[1, 2, 3], [4, 5, 6]]


def test_csv_row_with_too_few_or_many_values_names_the_line():
    row = ",".join(["1"] * 30)
    body = f"{row}\n{row}\n{','.join(['1'] * 29)}\n"
    assert bad(body, CSV, 30) == "line 3: expected 30 values, got 29"
    assert bad("1,2,3\n1,2,3,4", CSV, 3) == "line 2: expected 3 values, got 4"
    assert bad("1,2,3", CSV, 4) == "line 1: expected 4 values, got 3"


def test_csv_rows_must_agree_when_the_model_does_not_say():
    assert bad("1,2,3\n4,5", CSV, None) == "line 2: expected 3 values (as line 1), got 2"


def test_csv_line_numbers_count_from_the_start_of_the_body():
    assert bad("\n\n1,2\n3", CSV, 2) == "line 4: expected 2 values, got 1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("1_0", "'1_0' is not a number"),  # Python's float() reads 10
        ('"1"', "'\"1\"' is not a number"),
        ("\uff11", "'\uff11' is not a number"),  # a full-width digit: float() reads 1
        ("0x10", "'0x10' is not a number"),
        ("inf", "'inf' is not finite"),
        ("-Infinity", "'-Infinity' is not finite"),
    ],
)
def test_csv_value_that_is_not_a_finite_number_names_line_and_column(value, message):
    assert bad(f"1,2,3\n4,{value},6\n", CSV, 3) == f"line 2, column 2: {message}"


def test_csv_a_long_bad_value_is_shortened_in_the_message():
    message = bad("1," + "x" * 500, CSV, 2)
    assert message.startswith("line 1, column 2: 'xxxx")
    assert message.endswith("... is not a number")
    assert len(message) < 80


def test_csv_a_blank_line_is_a_row_of_missing_values_when_blanks_delimit():
    assert same(dense("\t\t\n1\t2\t3", CSV, 3), [[np.nan] * 3, [1, 2, 3]])
    assert same(dense("1 2 3\n  ", CSV, 3), [[1, 2, 3], [np.nan] * 3])


def test_csv_empty_line_inside_the_body_is_an_error():
    # The container reads it as a row of one missing value when the model has one feature.
    assert bad("1\n\n2", CSV, 1) == "line 2: empty line (every line must be one row)"
    assert bad("1,2\n  \n3,4", CSV, 2) == "line 2: empty line (every line must be one row)"


def test_csv_that_is_not_utf8_names_the_line():
    assert bad(b"1,2\n\xff,3\n", CSV, 2) == "line 2: not UTF-8 text"


def test_csv_common_bodies_never_reach_the_row_by_row_parse(monkeypatch):
    def fail(*args):
        raise AssertionError("slow path")

    monkeypatch.setattr(codecs, "_parse_csv_rows", fail)
    rows = np.random.default_rng(1).normal(size=(50, 7))
    body = "\n".join(",".join(f"{v:.6g}" for v in row) for row in rows).encode() + b"\n"
    assert same(
        codecs.decode(body, CSV, 7), np.array([[float(f"{v:.6g}") for v in r] for r in rows])
    )
    assert same(dense("1,,3\n,5,\n,,", CSV, 3), [[1, np.nan, 3], [np.nan, 5, np.nan], [np.nan] * 3])


csv_cells = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.just(math.nan),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.integers(1, 6).flatmap(
        lambda width: st.lists(st.lists(csv_cells, min_size=width, max_size=width), min_size=1)
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|", " "]),
    style=st.sampled_from(["repr", "exp", "short"]),
    missing=st.sampled_from(["", "nan", "NaN"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
)
def test_csv_fast_path_and_row_by_row_parse_give_the_same_rows(
    rows, delimiter, style, missing, newline, final_newline
):
    if len(rows[0]) == 1:
        missing = missing or "nan"  # an empty field alone is an empty line

    def text(value: float) -> str:
        if math.isnan(value):
            return missing
        return {"repr": repr(value), "exp": f"{value:.8e}", "short": f"{value:.4g}"}[style]

    lines = [delimiter.join(text(v) for v in row) for row in rows]
    body = (newline.join(lines) + (newline if final_newline else "")).encode()
    assume(not body.isspace())  # a body of blanks alone is refused (test_..._only_whitespace)
    expected = [[math.nan if math.isnan(v) else float(text(v)) for v in row] for row in rows]
    slow = codecs._parse_csv_rows(body, codecs._csv_delimiter(lines[0]), None)
    assert same(codecs.decode(body, CSV, len(rows[0])), expected)
    assert same(slow, expected)


# ---------------------------------------------------------------------------------------------
# text/libsvm
# ---------------------------------------------------------------------------------------------
def test_libsvm_indices_are_columns_as_given_and_the_label_is_ignored():
    matrix = sparse("1 0:1.5 3:2\n0 1:-1\n2:4e1\n", LIBSVM, 4)
    assert matrix.tolist() == [[1.5, 0, 0, 2], [0, -1, 0, 0], [0, 0, 40, 0]]


def test_libsvm_any_whitespace_separates_and_indices_may_come_in_any_order():
    assert sparse("1\t3:1   0:2\n", LIBSVM, 4).tolist() == [[2, 0, 0, 1]]


def test_libsvm_without_model_width_takes_the_largest_index():
    assert sparse("0 5:1\n1 0:1", LIBSVM, None).shape == (2, 6)


def test_libsvm_requests_without_index_0_are_one_based_as_the_newest_container_reads_them():
    """serve_utils shifts the indices of a request whose smallest index is >= 1 down by one."""
    assert sparse("1 1:1.5 4:2\n0 2:-1\n", LIBSVM, 4).tolist() == [[1.5, 0, 0, 2], [0, -1, 0, 0]]
    # One 0 anywhere in the request keeps every row 0-based.
    assert sparse("1 1:1.5\n0 0:-1\n", LIBSVM, 2).tolist() == [[0, 1.5], [-1, 0]]
    # Out of range is judged after the shift: index 4 is the fourth of four features.
    assert sparse("1 4:1\n", LIBSVM, 4).tolist() == [[0, 0, 0, 1]]


def test_libsvm_a_line_with_only_a_label_is_a_row_of_missing_values():
    # The container's matrix drops such rows when they come last: one prediction too few.
    matrix = codecs.decode(b"1 0:1\n0\n1", LIBSVM, 3)
    assert matrix.shape == (3, 3)
    assert matrix.getrow(1).nnz == 0 and matrix.getrow(2).nnz == 0


def test_libsvm_nan_value_is_missing():
    assert same(sparse("0 0:0 1:nan", LIBSVM, 2), [[0, np.nan]])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("1 0:1\n1 4:1", "line 2: index 4 is out of range 0..3 (4 features)"),
        ("1 a:1", "line 1: index 'a' is not an integer >= 0 (in 'a:1')"),
        ("1 -1:1", "line 1: index '-1' is not an integer >= 0 (in '-1:1')"),
        ("1 1.5:1", "line 1: index '1.5' is not an integer >= 0 (in '1.5:1')"),
        ("1 2:x", "line 1, index 2: 'x' is not a number"),
        ("1 2:", "line 1, index 2: '' is not a number"),
        ("1 2:inf", "line 1, index 2: 'inf' is not finite"),
        ("1 2:1 0:3 2:4", "line 1: index 2 appears twice"),
        ("1 0:1\n\n1 1:1", "line 2: empty line (every line must be one row)"),
        ("1 0:1 foo", "line 1: 'foo' is not index:value"),
        ("cat 0:1", "line 1: the label 'cat' is not a number"),
        (b"1 0:1\n1 1:\xff", "line 2: not UTF-8 text"),
    ],
)
def test_libsvm_errors_name_the_line(body, message):
    assert bad(body, LIBSVM, 4) == message


def test_libsvm_without_any_feature_and_no_model_width_is_an_error():
    assert "no row holds a feature" in bad("1\n0", LIBSVM, None)


# ---------------------------------------------------------------------------------------------
# application/json and application/jsonlines
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "document",
    [
        {"instances": [{"features": [1, 2.5, None]}, {"features": [4, 5, 6]}]},
        {"instances": [[1, 2.5, None], [4, 5, 6]]},
        [[1, 2.5, None], [4, 5, 6]],
        {
            "instances": [
                {"data": {"features": {"values": [1, 2.5, None]}}},
                {"data": {"features": {"values": [4, 5, 6]}}},
            ]
        },
    ],
)
def test_json_dense_shapes(document):
    assert same(dense(json.dumps(document), JSON, 3), [[1, 2.5, np.nan], [4, 5, 6]])


@pytest.mark.parametrize(
    "document",
    [[1, 2, 3], {"features": [1, 2, 3]}, {"data": {"features": {"values": [1, 2, 3]}}}],
)
def test_json_single_row_shapes(document):
    assert dense(json.dumps(document), JSON, 3) == [[1, 2, 3]]


def test_json_sparse_instances():
    document = {
        "instances": [
            {"data": {"features": {"keys": [26, 1], "shape": [30], "values": [1, 4.5]}}},
            {"data": {"features": {"keys": [], "shape": [30], "values": []}}},
            {"data": {"features": {"keys": [0], "shape": [30], "values": [None]}}},
        ]
    }
    matrix = sparse(json.dumps(document), JSON, 30)
    assert matrix.shape == (3, 30)
    assert matrix[0, 26] == 1 and matrix[0, 1] == 4.5 and np.isnan(matrix[2, 0])
    assert np.count_nonzero(matrix[1]) == 0


def test_json_tensor_without_keys_is_dense_as_record_proto_says():
    tensor = {"keys": [], "shape": [3], "values": [1, None, 3]}
    assert same(
        dense(json.dumps({"instances": [{"data": {"features": tensor}}]}), JSON, 3),
        [[1, np.nan, 3]],
    )
    tensor = {"keys": [], "shape": [], "values": [1, 2, 3]}
    assert dense(json.dumps({"data": {"features": tensor}}), JSON, 3) == [[1, 2, 3]]
    tensor = {"keys": [], "shape": [4], "values": [1, 2, 3]}
    assert bad(json.dumps({"data": {"features": tensor}}), JSON, 3) == (
        "instance 1: shape [4] but 3 values"
    )


def test_json_sparse_without_shape_or_model_width_takes_the_largest_key():
    document = {"instances": [{"data": {"features": {"keys": [4], "values": [1]}}}]}
    assert sparse(json.dumps(document), JSON, None).shape == (1, 5)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([[1, True, 3]], "instance 1, column 2: True is not a number"),
        ([[1, 2, 3], [1, "2", 3]], "instance 2, column 2: '2' is not a number"),
        ([[1, [2], 3]], "instance 1, column 2: [2] is not a number"),
        ([[1, 2, 3], [1, 2]], "instance 2: expected 3 values, got 2"),
        ({"instances": []}, "the body holds no rows"),
        ([], "the body holds no rows"),
        ({"instances": {"features": [1]}}, '"instances" must be a list of rows'),
        ({"rows": [[1, 2, 3]]}, 'JSON body must be {"instances": [row, ...]}'),
        ("1,2,3", 'JSON body must be {"instances": [row, ...]}'),
        ({"instances": [1, 2, 3]}, "instance 1: expected a row: [...], {"),
        ({"instances": [{"data": [1, 2, 3]}]}, "instance 1: expected a row"),
        (
            {"instances": [{"data": {"features": {"values": 3}}}]},
            'instance 1: "values" must be a list of numbers',
        ),
    ],
)
def test_json_errors_name_the_instance_and_column(document, message):
    assert bad(json.dumps(document), JSON, 3).startswith(message)


def test_json_nan_infinity_and_huge_numbers_are_refused():
    nan = "instance 1, column 2: NaN is not a JSON number; send null for a missing value"
    assert bad("[[1, NaN, 3]]", JSON, 3) == nan
    assert bad("[[1, Infinity, 3]]", JSON, 3) == "instance 1, column 2: inf is not finite"
    assert bad("[[1, 1e999, 3]]", JSON, 3) == "instance 1, column 2: inf is not finite"
    huge = bad(f"[[1, {10**400}, 3]]", JSON, 3)
    assert huge.startswith("instance 1, column 2: 1000") and huge.endswith("... is not finite")


def test_json_rows_must_agree_when_the_model_does_not_say():
    assert bad("[[1, 2], [1, 2, 3]]", JSON, None) == (
        "instance 2: expected 2 values (as instance 1), got 3"
    )
    assert bad("[[]]", JSON, None) == "instance 1: no values"


def sparse_row(keys, values, shape=(30,)) -> dict:
    return {"data": {"features": {"keys": keys, "shape": list(shape), "values": values}}}


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([sparse_row([30], [1])], "instance 1: key 30 is out of range 0..29 (30 features)"),
        ([sparse_row([1, 1], [1, 2])], "instance 1: key 1 appears twice"),
        ([sparse_row([1, 2], [1])], "instance 1: 2 keys but 1 values"),
        ([sparse_row([-1], [1])], 'instance 1: "keys" must be a list of integers >= 0'),
        ([sparse_row([True], [1])], 'instance 1: "keys" must be a list of integers >= 0'),
        ([sparse_row([1], [1], shape=(5, 6))], "instance 1: shape [5, 6]: a row's shape is"),
        ([sparse_row([1], [1], shape=(0,))], 'instance 1: "shape" must be [number of features]'),
        ([sparse_row([1], [1], shape=(40,))], "instance 1: shape [40] does not match the model's"),
        ([sparse_row([1], ["x"])], "instance 1, key 1: 'x' is not a number"),
        (
            [[0] * 30, sparse_row([1], [1])],
            "instance 2 is sparse but instance 1 is dense: send one kind of row per request",
        ),
    ],
)
def test_json_sparse_errors(instances, message):
    assert bad(json.dumps({"instances": instances}), JSON, 30).startswith(message)


def test_json_sparse_rows_must_agree_on_the_shape_when_the_model_does_not_say():
    instances = [sparse_row([1], [1], shape=(3,)), sparse_row([1], [1], shape=(4,))]
    assert bad(json.dumps({"instances": instances}), JSON, None) == (
        "instance 2: shape [4] differs from 3 values (as instance 1)"
    )
    late = [{"data": {"features": {"keys": [7], "values": [1]}}}, sparse_row([1], [1], (3,))]
    assert bad(json.dumps({"instances": late}), JSON, None) == (
        "instance 2: shape [3] is too small for key 7 of an earlier row"
    )


def test_json_that_is_not_json():
    assert bad("{not json", JSON, 3).startswith("body is not JSON: ")
    assert bad(b"\xff\xfe[", JSON, 3).startswith("body is not JSON: ")
    deep = "[" * 100_000 + "]" * 100_000
    assert bad(deep, JSON, 3) == "body is not JSON rows: nested too deeply"
    assert bad(deep, JSONLINES, 3) == "line 1: not a JSON row: nested too deeply"


def test_jsonlines_every_row_shape_one_per_line():
    body = (
        '[1, 2, null]\n{"features": [4, 5, 6]}\n{"data": {"features": {"values": [7, 8, 9]}}}\r\n'
    )
    assert same(dense(body, JSONLINES, 3), [[1, 2, np.nan], [4, 5, 6], [7, 8, 9]])


def test_jsonlines_sparse_lines():
    body = "\n".join(json.dumps(sparse_row([k], [k + 0.5], (4,))) for k in range(3))
    assert sparse(body, JSONLINES, 4).tolist() == [[0.5, 0, 0, 0], [0, 1.5, 0, 0], [0, 0, 2.5, 0]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[1, 2, 3]\n[1, 2]", "line 2: expected 3 values, got 2"),
        ("[1, 2, 3]\n\n[1, 2, 3]", "line 2: empty line (every line must be one row)"),
        ("[1, 2, 3]\n[1, 2,", "line 2: not JSON ("),
        ("[true, 2, 3]", "line 1, column 1: True is not a number"),
        ('{"instances": [[1, 2, 3]]}', "line 1: expected a row"),
        (b"[1, 2, 3]\n[\xff]", "line 2: not UTF-8 text"),
    ],
)
def test_jsonlines_errors_name_the_line(body, message):
    assert bad(body, JSONLINES, 3).startswith(message)


# ---------------------------------------------------------------------------------------------
# application/x-recordio-protobuf
# ---------------------------------------------------------------------------------------------
def recordio(*records) -> bytes:
    """RecordIO framing of Record messages (or raw payload bytes)."""
    out = io.BytesIO()
    for record in records:
        payload = record if isinstance(record, bytes) else record.SerializeToString()
        codecs._write_recordio(out, payload)
    return out.getvalue()


def record(tensor: str = "float32_tensor", values=(), keys=(), shape=()):
    message = codecs.Record()
    target = getattr(message.features["values"], tensor)
    target.values.extend(values)
    target.keys.extend(keys)
    target.shape.extend(shape)
    return message


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_recordio_dense_round_trip(dtype):
    rows = np.random.default_rng(2).normal(size=(5, 7)).astype(dtype)
    rows[1, 3] = np.nan
    body = codecs.encode_recordio_features(rows)
    assert same(dense(body, RECORDIO, 7), rows.astype(np.float64))


def test_recordio_sparse_round_trip():
    rows = scipy.sparse.random(6, 9, density=0.3, format="csr", random_state=3, dtype=np.float32)
    body = codecs.encode_recordio_features(rows)
    assert same(sparse(body, RECORDIO, 9), rows.toarray().astype(np.float64))


def test_recordio_int32_and_float64_tensors():
    body = recordio(record("int32_tensor", [1, -2]), record("float64_tensor", [0.1, 2**60]))
    assert dense(body, RECORDIO, 2) == [[1, -2], [0.1, 2.0**60]]


def test_recordio_framing_pads_each_payload_to_four_bytes():
    message = record(values=[1.0, 2.0])
    message.uid = "x"
    payload = message.SerializeToString()
    assert len(payload) % 4  # the test needs a payload that is padded
    body = recordio(payload, payload)
    step = 8 + len(payload) + (-len(payload) % 4)
    assert len(body) == 2 * step
    assert struct.unpack_from("<II", body, step) == (0xCED7230A, len(payload))
    assert dense(body, RECORDIO, 2) == [[1, 2], [1, 2]]


def test_recordio_sparse_without_shape_uses_the_model_width_or_the_largest_key():
    body = recordio(record(values=[5], keys=[2]))
    assert sparse(body, RECORDIO, 4).shape == (1, 4)
    assert sparse(body, RECORDIO, None).shape == (1, 3)


def test_recordio_empty_sparse_row_with_a_shape_is_a_row_of_missing_values():
    body = recordio(record(values=[1], keys=[0], shape=[3]), record(shape=[3]))
    assert sparse(body, RECORDIO, 3).tolist() == [[1, 0, 0], [0, 0, 0]]


def test_recordio_labels_in_requests_are_ignored():
    message = record(values=[1.0, 2.0])
    message.label["values"].float32_tensor.values.append(1.0)
    assert dense(recordio(message), RECORDIO, 2) == [[1, 2]]


def test_recordio_errors():
    good = record(values=[1.0, 2.0])
    framed = recordio(good)
    assert bad(b"\x00" * 12, RECORDIO, 2) == (
        "record 1 (byte 0): not a RecordIO record (magic 0x00000000, expected 0xced7230a)"
    )
    assert bad(framed + framed[:5], RECORDIO, 2) == (
        f"record 2 (byte {len(framed)}): truncated RecordIO header"
    )
    assert bad(framed[:-4], RECORDIO, 2).startswith("record 1 (byte 0): truncated: the header says")
    assert bad(recordio(b"\xff\xff\xff"), RECORDIO, 2) == (
        "record 1: not a SageMaker Record protobuf"
    )
    assert bad(recordio(codecs.Record()), RECORDIO, 2) == 'record 1: no features["values"] tensor'
    raw = codecs.Record()
    raw.features["values"].bytes.value.append(b"1,2")
    assert bad(recordio(raw), RECORDIO, 2).startswith(
        'record 1: features["values"] holds bytes; send a float32'
    )
    assert bad(recordio(good, record(values=[1.0])), RECORDIO, 2) == (
        "record 2: expected 2 values, got 1"
    )
    assert bad(recordio(good, record(values=[1.0], keys=[0], shape=[2])), RECORDIO, 2) == (
        "record 2 is sparse but record 1 is dense: send one kind of row per request"
    )
    assert bad(recordio(record(values=[1.0, math.inf])), RECORDIO, 2) == (
        "record 1, value 2: inf is not finite"
    )
    assert bad(recordio(record(values=[1.0], keys=[5], shape=[2])), RECORDIO, 2) == (
        "record 1: key 5 is out of range 0..1 (2 features)"
    )
    assert bad(recordio(record(values=[1.0], keys=[0], shape=[5])), RECORDIO, 2) == (
        "record 1: shape [5] does not match the model's 2 features"
    )
    assert bad(recordio(record(values=[1.0, 2.0], keys=[1, 1], shape=[2])), RECORDIO, 2) == (
        "record 1: key 1 appears twice"
    )
    assert bad(recordio(record(values=[1.0], keys=[0, 1], shape=[2])), RECORDIO, 2) == (
        "record 1: 2 keys but 1 values"
    )
    assert bad(recordio(record(values=[1.0] * 4, shape=[2, 2])), RECORDIO, 4) == (
        "record 1: shape [2, 2]: a row's shape is [number of features]"
    )
    assert bad(recordio(record(values=[1.0, 2.0], shape=[3])), RECORDIO, 2) == (
        "record 1: shape [3] but 2 values"
    )


def test_encode_recordio_features_needs_rows():
    with pytest.raises(ValueError, match="expected a 2-D matrix of rows, got 1 dimensions"):
        codecs.encode_recordio_features(np.zeros(3))


def test_recordio_labels_round_trip_as_float32():
    outputs = [
        {"predicted_label": 1, "probabilities": [0.4, 0.6]},
        {"predicted_label": [0.0], "probabilities": [0.9, 0.1], "raw_score": math.nan},
    ]
    decoded = codecs.decode_recordio_labels(codecs.encode_recordio_labels(outputs))
    assert decoded[0] == {
        "predicted_label": [1.0],
        "probabilities": [np.float32(0.4), np.float32(0.6)],
    }
    assert decoded[1]["probabilities"] == [np.float32(0.9), np.float32(0.1)]
    assert decoded[1]["predicted_label"] == [0.0]
    assert math.isnan(decoded[1]["raw_score"][0])


def test_decode_recordio_labels_refuses_labels_that_are_not_numbers():
    message = codecs.Record()
    message.label["predicted_label"].bytes.value.append(b"cat")
    with pytest.raises(BadRequest, match="record 1: label\\['predicted_label'\\] holds bytes"):
        codecs.decode_recordio_labels(recordio(message))


# ---------------------------------------------------------------------------------------------
# Interoperability with the SageMaker SDK's RecordIO (sagemaker.amazon.common)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sdk():
    return pytest.importorskip(
        "sagemaker.amazon.common", reason="the SageMaker SDK (the pipelines extra) is not installed"
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32, int])
def test_sdk_dense_records_decode_to_the_same_rows(sdk, dtype):
    rows = (np.random.default_rng(4).normal(size=(4, 5)) * 10).astype(dtype)
    out = io.BytesIO()
    sdk.write_numpy_to_dense_tensor(out, rows, labels=np.arange(4, dtype=np.float64))
    assert same(dense(out.getvalue(), RECORDIO, 5), rows.astype(np.float64))


def test_sdk_sparse_records_decode_to_the_same_rows(sdk):
    rows = scipy.sparse.random(5, 8, density=0.4, format="csr", random_state=5)
    out = io.BytesIO()
    sdk.write_spmatrix_to_sparse_tensor(out, rows)
    assert same(sparse(out.getvalue(), RECORDIO, 8), rows.toarray())


def test_sdk_reads_our_feature_records(sdk):
    rows = np.array([[1.5, 2.5, -3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    read = sdk.read_records(io.BytesIO(codecs.encode_recordio_features(rows)))
    assert [list(r.features["values"].float32_tensor.values) for r in read] == rows.tolist()
    matrix = scipy.sparse.csr_matrix(np.array([[0, 2.0, 0], [1.0, 0, 3.0]]))
    read = sdk.read_records(io.BytesIO(codecs.encode_recordio_features(matrix)))
    tensors = [r.features["values"].float64_tensor for r in read]
    assert [(list(t.keys), list(t.values), list(t.shape)) for t in tensors] == [
        ([1], [2.0], [3]),
        ([0, 2], [1.0, 3.0], [3]),
    ]


def test_sdk_reads_our_label_records_and_we_read_its(sdk):
    outputs = [{"predicted_label": [1.0], "probabilities": [0.25, 0.75]}, {"score": [0.5]}]
    read = sdk.read_records(io.BytesIO(codecs.encode_recordio_labels(outputs)))
    assert [
        {name: list(value.float32_tensor.values) for name, value in r.label.items()} for r in read
    ] == outputs
    out = io.BytesIO()
    sdk.write_numpy_to_dense_tensor(out, np.ones((2, 2)), labels=np.array([0.0, 1.0]))
    assert codecs.decode_recordio_labels(out.getvalue()) == [{"values": [0.0]}, {"values": [1.0]}]

"""The fast decode paths against the row-by-row paths they stand in for: the same arrays and
bytes for any input, the same BadRequest (status and message) for malformed input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving import codecs
from serving.codecs import BadRequest

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def outcome(decode, body: bytes, num_features: int | None) -> tuple:
    try:
        result = decode(body, num_features)
    except BadRequest as exc:
        return ("error", exc.status, str(exc))
    return ("rows", result.dtype, result.shape, result.tobytes())


json_value = st.one_of(
    finite,
    finite,
    st.integers(-(2**70), 2**70),
    st.sampled_from([None, True, False, "1.5", [], {}, float("nan"), float("inf"), 10**400]),
)


@st.composite
def json_rows(draw: st.DrawFn) -> tuple[list, int | None]:
    width = draw(st.integers(0, 5))
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        row_width = width if draw(st.floats(0, 1)) < 0.95 else draw(st.integers(0, 6))
        plain = draw(st.floats(0, 1)) < 0.9
        kind = finite if plain else json_value
        values = draw(st.lists(kind, min_size=row_width, max_size=row_width))
        shape = draw(st.sampled_from(["list", "list", "features", "tensor", "scalar"]))
        if shape == "features":
            rows.append({"features": values})
        elif shape == "tensor":
            rows.append({"data": {"features": {"values": values}}})
        elif shape == "scalar":
            rows.append(values[0] if values else None)
        else:
            rows.append(values)
    return rows, draw(st.sampled_from([None, width, width + 1]))


def row_by_row(decode):
    """decode with the one-matrix fast path off: the reference."""

    def reference(body: bytes, num_features: int | None):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(codecs, "_json_matrix", lambda *args: None)
            return decode(body, num_features)

    return reference


@given(json_rows(), st.sampled_from(["instances", "list"]))
@SETTINGS
def test_json_matrix_is_the_row_by_row_parse(case, document):
    rows, num_features = case
    body = json.dumps({"instances": rows} if document == "instances" else rows).encode()
    fast = outcome(codecs._decode_json, body, num_features)
    assert fast == outcome(row_by_row(codecs._decode_json), body, num_features)


@given(json_rows(), st.sampled_from(["\n", "\r\n"]), st.sampled_from(["", "\n", "\n\n"]))
@SETTINGS
def test_jsonlines_matrix_is_the_row_by_row_parse(case, ending, trailer):
    rows, num_features = case
    body = (ending.join(json.dumps(row) for row in rows) + trailer).encode()
    fast = outcome(codecs._decode_jsonlines, body, num_features)
    assert fast == outcome(row_by_row(codecs._decode_jsonlines), body, num_features)


def with_json_loads_only(decode):
    """decode with every document parsed by json.loads, as before orjson: the reference."""

    def reference(body: bytes, num_features: int | None):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(codecs, "_json_loads", json.loads)
            return decode(body, num_features)

    return reference


# Texts orjson and json.loads read differently, or one of them not at all.
JSON_EDGES = [
    b"[1, NaN]",
    b"[[1, Infinity], [2, -Infinity]]",
    b"[1e400, 2]",
    b"[-1e400]",
    b"[1e-400]",
    b"[123456789012345678901234567890, 1.5]",
    b"[123456789012345678901234567890]",
    b"[" + b"9" * 400 + b"]",
    b"[18446744073709551616]",
    b"[-9223372036854775809, 1]",
    b"[9007199254740993, 1.0]",
    b'{"instances": [[1, 2]], "instances": [[3, 4]]}',
    b"\xef\xbb\xbf[1, 2]",
    "[1, 2]".encode("utf-16"),
    "[[1, 2]]".encode("utf-32-le"),
    b'[1, "\\ud800"]',
    b"[" * 2000 + b"]" * 2000,
    b"[1, 2,]",
    b"[01, 2]",
    b"[1.e5]",
    b"[.5]",
    b"[-0, -0.0]",
    b"[1 2]",
    b" \n[1, 2]\n ",
    b'{"features": [1e308, 1.7976931348623157e308]}',
    b"[2.2250738585072011e-308, 4.9e-324, 2.4703282292062327e-324]",
]


@pytest.mark.parametrize("body", JSON_EDGES)
@pytest.mark.parametrize("kind", ["json", "jsonlines"])
def test_orjson_reads_every_edge_as_json_loads_did(body, kind):
    decode = codecs._decode_json if kind == "json" else codecs._decode_jsonlines
    for num_features in (None, 1, 2):
        assert outcome(decode, body, num_features) == outcome(
            with_json_loads_only(decode), body, num_features
        )


@given(json_rows(), st.sampled_from(["instances", "list", "lines"]))
@SETTINGS
def test_orjson_documents_are_json_loads_documents(case, document):
    rows, num_features = case
    if document == "lines":
        body, decode = "\n".join(json.dumps(row) for row in rows).encode(), codecs._decode_jsonlines
    else:
        body = json.dumps({"instances": rows} if document == "instances" else rows).encode()
        decode = codecs._decode_json
    assert outcome(decode, body, num_features) == outcome(
        with_json_loads_only(decode), body, num_features
    )


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]\n\n[3, 4]", b'{"features": [1,\n2]}', b"[1, true]", b"[1, NaN]", b"[1, 2] [3, 4]"],
)
def test_jsonlines_errors_name_the_line_as_before(body):
    assert outcome(codecs._decode_jsonlines, body, None) == outcome(
        row_by_row(codecs._decode_jsonlines), body, None
    )
    assert outcome(codecs._decode_jsonlines, body, None)[0] == "error"


# text/csv: Arrow's reader (bodies of ARROW_CSV_MIN_BYTES and more) against numpy's loadtxt path
csv_field = st.one_of(
    finite.map(repr),
    finite.map(str),
    finite.map(lambda v: f"{v:.3e}"),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        ["", " 1", "2 ", "\t3", "+4", ".5", "6.", "-0", "nan", "NaN", "-nan", "inf", "-Infinity"]
    ),
    st.sampled_from(["1e400", "1e-400", "0x1", "1_0", "NULL", "N/A", "#N/A", "true", '"7"', "a"]),
)


@st.composite
def csv_bodies(draw: st.DrawFn) -> tuple[bytes, str, int | None]:
    delimiter = draw(st.sampled_from([",", ",", ";", "\t", "|", " "]))
    width = draw(st.integers(1, 6))
    lines = []
    for _ in range(draw(st.integers(1, 20))):
        row_width = width if draw(st.floats(0, 1)) < 0.95 else draw(st.integers(1, 7))
        plain = draw(st.floats(0, 1)) < 0.8
        kind = finite.map(repr) if plain else csv_field
        lines.append(delimiter.join(draw(st.lists(kind, min_size=row_width, max_size=row_width))))
    if draw(st.floats(0, 1)) < 0.1:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", " "])))
    ending = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    body = ending.join(lines) + draw(st.sampled_from(["", ending, ending * 2]))
    return body.encode(), delimiter, draw(st.sampled_from([None, width, width + 1]))


@given(csv_bodies())
@SETTINGS
def test_arrow_csv_is_the_numpy_parse(case):
    body, _, num_features = case

    def with_arrow(threshold: int):
        def decode(body: bytes, num_features: int | None):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(codecs, "ARROW_CSV_MIN_BYTES", threshold)
                return codecs._decode_csv(body, num_features)

        return decode

    arrow = outcome(with_arrow(0), body, num_features)
    assert arrow == outcome(with_arrow(2**62), body, num_features)


def test_arrow_csv_takes_large_plain_bodies():
    rows = [[float(i) + 0.25, -1.5e-7 * i, 3.0] for i in range(5_000)]
    body = "".join(",".join(map(repr, row)) + "\n" for row in rows).encode()
    assert len(body) >= codecs.ARROW_CSV_MIN_BYTES
    data = body.strip(b"\r\n")
    taken = codecs._arrow_csv(data, ",")
    assert taken is not None  # the large body is Arrow's, and reads as loadtxt reads it
    assert taken.tobytes() == codecs._numpy_csv(data, ",").tobytes()

"""The RecordIO strided-view decode against the record-by-record parse it stands in for: the
same matrix (dtype, shape, bytes, NaN positions) for any body, the same BadRequest otherwise."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving import codecs
from serving.codecs import BadRequest, Record

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TENSORS = {"float32_tensor": np.float32, "float64_tensor": np.float64, "int32_tensor": np.int32}


def outcome(decode, body: bytes, num_features: int | None) -> tuple:
    try:
        result = decode(body, num_features)
    except BadRequest as exc:
        return ("error", exc.status, str(exc))
    if scipy.sparse.issparse(result):
        return (
            "csr",
            result.dtype,
            result.shape,
            result.data.tobytes(),
            result.indices.tolist(),
            result.indptr.tolist(),
        )
    return ("rows", type(result), result.dtype, result.shape, result.tobytes())


def frame(payloads: list[bytes]) -> bytes:
    framed = b""
    for payload in payloads:
        framed += struct.pack("<II", 0xCED7230A, len(payload)) + payload
        framed += b"\0" * (-len(payload) % 4)
    return framed


def record(kind: str, values: list, keys: list[int] | None = None, shape=None) -> bytes:
    message = Record()
    tensor = getattr(message.features["values"], kind)
    tensor.values.extend(values)
    tensor.keys.extend(keys or [])
    tensor.shape.extend(shape or [])
    return message.SerializeToString()


def tensor_values(kind: str, width: int):
    if kind == "int32_tensor":
        element = st.integers(-(2**31), 2**31 - 1)
    else:
        bits = 32 if kind == "float32_tensor" else 64
        element = st.one_of(
            st.floats(width=bits, allow_infinity=False),
            st.floats(width=bits),
            st.just(float("nan")),
        )
    return st.lists(element, min_size=width, max_size=width)


@st.composite
def recordio_bodies(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """Mostly records of one kind and width, as clients send them; now and then a record of
    another width or kind, a sparse one, an infinity, a corrupted or truncated byte."""
    kind = draw(st.sampled_from(sorted(TENSORS)))
    width = draw(st.integers(0, 8))
    payloads = []
    for _ in range(draw(st.integers(1, 12))):
        odd = draw(st.floats(0, 1)) < 0.05
        if odd and draw(st.booleans()):
            keys = sorted(draw(st.sets(st.integers(0, width + 1), max_size=3)))
            values = draw(tensor_values(kind, len(keys)))
            payloads.append(record(kind, values, keys, [width or 1]))
        else:
            row_kind = draw(st.sampled_from(sorted(TENSORS))) if odd else kind
            row_width = draw(st.integers(0, 9)) if odd else width
            payloads.append(record(row_kind, draw(tensor_values(row_kind, row_width))))
    body = frame(payloads)
    if body and draw(st.floats(0, 1)) < 0.1:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at + 1 :]
    if body and draw(st.floats(0, 1)) < 0.05:
        body = body[: draw(st.integers(0, len(body) - 1))]
    return body, draw(st.sampled_from([None, width, width + 1]))


@given(recordio_bodies())
@SETTINGS
def test_recordio_view_is_the_record_by_record_parse(case):
    body, num_features = case
    fast = outcome(codecs._decode_recordio, body, num_features)
    assert fast == outcome(codecs._decode_recordio_records, body, num_features)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("records", [codecs.RECORDIO_MIN_RECORDS, 50])
def test_recordio_view_takes_what_clients_send(dtype, records):
    rows = np.random.default_rng(7).normal(size=(records, 13)).astype(dtype)
    rows[1, 2] = np.nan
    body = codecs.encode_recordio_features(rows)
    fast = codecs._recordio_dense(body, None)
    assert fast is not None
    assert fast.tobytes() == codecs._decode_recordio_records(body, 13).tobytes()
    assert fast.tobytes() == rows.astype(np.float64).tobytes()


def dense(kind: str, width: int, records: int = 6) -> list[bytes]:
    return [record(kind, [r + c for c in range(width)]) for r in range(records)]


def slow_only_cases() -> list[tuple[str, bytes, int | None]]:
    base = dense("float32_tensor", 3)
    body = frame(base)
    # only the last values vary: bytes after the values would look like the values' own
    tail_varies = [record("float32_tensor", [1, 2, r]) for r in range(6)]
    infinite = frame([*base[:3], record("float32_tensor", [1.0, float("inf"), 2.0]), *base[3:]])
    return [
        ("inf", infinite, None),
        ("wrong width for the model", body, 4),
        ("truncated", body[:-5], None),
        ("truncated header", body + b"\x0a\x23", None),
        ("wrong magic", body[: -len(frame(base[:1]))] + b"\0" + frame(base[:1])[1:], None),
        ("different width", frame(base + dense("float32_tensor", 4, 1)), None),
        ("mixed dense and sparse", frame([*base, record("float32_tensor", [1.0], [0], [3])]), None),
        ("mixed kinds", frame(base + dense("float64_tensor", 3, 1)), None),
        ("no values", frame(dense("float32_tensor", 0)), None),
        ("int32", frame(dense("int32_tensor", 3)), None),
        ("a label", frame([*base[:5], base[5] + b"\x12\x00"]), None),
        ("a uid after the values", frame([p + b"\x1a\x02id" for p in tail_varies]), None),
        ("not protobuf", frame([b"\xff" * len(p) for p in base]), None),
    ]


@pytest.mark.parametrize(("name", "body", "num_features"), slow_only_cases())
def test_recordio_view_leaves_the_rest_to_the_record_by_record_parse(name, body, num_features):
    assert codecs._recordio_dense(body, num_features) is None
    assert outcome(codecs._decode_recordio, body, num_features) == outcome(
        codecs._decode_recordio_records, body, num_features
    )

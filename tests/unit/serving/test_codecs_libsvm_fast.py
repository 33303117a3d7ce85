"""The libsvm decode over numpy (serving.codecs._libsvm_matrix) against the token-by-token parse
it stands in for: the same CSR matrix (values' bytes, indices, row pointers, shape) for any body
it takes, and None (so that the parse answers, naming the line) for any body the parse refuses.
Its numbers are read by Arrow's CSV reader or by float(): the same values, bit for bit, and the
same refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serving import codecs
from serving.codecs import BadRequest
from tests.unit.serving.test_codecs_sparse_fast import outcome  # the same comparison

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def number_text(value: float, style: int) -> str:
    if style == 0:
        return repr(value)
    if style == 1:
        return f"{value:.3e}"
    return f"{value:+.5f}"


# Tokens the parse refuses or reads unlike a plain number, now and then in place of a pair.
ODD_TOKENS = [
    "1:", ":1", "1::2", "1:2:3", "a:1", "-1:2", "+1:2", "1.0:2", "1e0:2", "1:x", "1:inf",
    "1:nan", "1:1e999", "1:.", "1:-", "1:1e", "foo", "01:2", "0:0", "99999999999:1",
    "3:1_0", "3:\u0661", "1:+.5", "1:1.", "1:-0", "5", "1.5", ": 1", "1 :2",
    "99999999999999999999:1",
]  # fmt: skip


@st.composite
def libsvm_bodies(draw: st.DrawFn) -> tuple[bytes, int | None]:
    """Mostly rows as clients send them (a label, then index:value pairs, 0- or 1-based); now and
    then an odd token, a repeated index, an empty line, other blanks, CRLF, a bare label."""
    width = draw(st.integers(1, 12))
    base = draw(st.sampled_from([0, 1]))
    lines = []
    for _ in range(draw(st.integers(1, 25))):
        odd = draw(st.floats(0, 1)) < 0.1
        if odd and draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", " ", "\t", "1", "0 ", "\r"])))
            continue
        tokens = []
        if draw(st.floats(0, 1)) < 0.9:
            tokens.append(draw(st.sampled_from(["0", "1", "2.5", "-1", "1e3"])))
        keys = draw(st.lists(st.integers(0, width), max_size=width, unique=True))
        for key in keys:
            value = draw(st.floats(allow_nan=False, allow_infinity=False, width=64))
            tokens.append(f"{key + base}:{number_text(value, draw(st.integers(0, 2)))}")
        if odd:
            at = draw(st.integers(0, len(tokens)))
            tokens.insert(at, draw(st.sampled_from([*ODD_TOKENS, tokens[-1] if tokens else "0"])))
        blank = draw(st.sampled_from([" ", " ", "\t", "  "]))
        lines.append(blank.join(tokens))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    body = newline.join(lines) + draw(st.sampled_from(["", newline]))
    return body.encode(), draw(st.sampled_from([None, width + 1, width + base, 3]))


def fast_or_parse(body: bytes, num_features: int | None):
    matrix = codecs._libsvm_matrix(body, num_features)
    if matrix is None:
        return codecs._parse_libsvm_rows(body, num_features)
    return matrix


@pytest.mark.parametrize("arrow_from", [2**62, 0], ids=["float", "arrow"])
@SETTINGS
@given(case=libsvm_bodies())
def test_the_numpy_decode_gives_the_parses_matrix_or_leaves_the_body_to_it(arrow_from, case):
    body, num_features = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codecs, "LIBSVM_ARROW_MIN_BYTES", arrow_from)  # which reads the numbers
        assert outcome(fast_or_parse, body, num_features) == outcome(
            codecs._parse_libsvm_rows, body, num_features
        )


def clean_body(rows: int = 400, width: int = 30) -> bytes:
    rng = np.random.default_rng(3)
    lines = []
    for row in range(rows):
        keys = np.flatnonzero(rng.random(width) < 0.7)
        pairs = " ".join(f"{k}:{rng.normal()!r}" for k in keys)
        lines.append(f"{row % 2} {pairs}")
    return ("\n".join(lines) + "\n").encode()


def test_a_clients_body_takes_the_numpy_path_with_arrow_and_answers_as_the_parse():
    body = clean_body()
    assert len(body) >= codecs.LIBSVM_ARROW_MIN_BYTES
    fast = codecs._libsvm_matrix(body, 30)
    assert fast is not None  # taken, not left to the parse
    assert outcome(lambda b, n: fast, body, 30) == outcome(codecs._parse_libsvm_rows, body, 30)
    served = outcome(lambda b, n: codecs.decode(b, "text/libsvm", n), body, 30)
    assert served == outcome(codecs._parse_libsvm_rows, body, 30)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("4:1", "index 4 is out of range 0..3 (4 features)"),
        ("99999999999999999999:1", "index 99999999999999999999 is out of range 0..3"),
        ("1.5:1", "index '1.5' is not an integer >= 0 (in '1.5:1')"),
        ("+1:1", "index '+1' is not an integer >= 0 (in '+1:1')"),
        ("2:x", "index 2: 'x' is not a number"),
        ("2:1e999", "index 2: '1e999' is not finite"),
        ("2:", "index 2: '' is not a number"),
        ("0:1", "index 0 appears twice"),
        ("foo", "'foo' is not index:value"),
        ("7", "'7' is not index:value"),
        (":3", "index '' is not an integer >= 0 (in ':3')"),
    ],
)
def test_errors_in_a_large_body_still_name_the_line(token, message):
    lines = clean_body(200, 4).decode().split("\n")
    lines[150] = f"1 0:2 {token}" if token == "0:1" else f"1 {token}"  # nothing else to trip on
    body = "\n".join(lines).encode()
    assert len(body) >= codecs.LIBSVM_FAST_MIN_BYTES
    with pytest.raises(BadRequest) as error:
        codecs.decode(body, "text/libsvm", 4)
    assert str(error.value).startswith("line 151") and message in str(error.value)

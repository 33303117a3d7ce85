"""The Batch scorer reads CSV as spreadsheet programs and databases export it.

The job runs on an in-process S3 (moto) against an endpoint that echoes what it was sent: a
row's "score" is the row itself, commas as ';', so the output shows what the endpoint got.
"""

from __future__ import annotations

import csv
import io

import boto3
import pytest
from moto import mock_aws

from batch_processor.job import (
    Chunk,
    Dialect,
    Job,
    Normaliser,
    Piece,
    RangeReader,
    Settings,
    detect_dialect,
    split_lines,
)

ROWS = [["1.5", "-2", "3e-3"], ["0.25", "", "7"], ["10", "11.125", "-0.5"]] * 4
HEADER = ["Betrag (€)", "Zeit", "V1"]


class EchoEndpoint:
    """Scores a row as the row itself (',' → ';'): the output is what the endpoint was sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def invoke_endpoint(self, EndpointName, ContentType, Accept, Body):
        self.bodies.append(Body)
        echo = [line.replace(b",", b";") or b"-" for line in Body.split(b"\n")[:-1]]
        return {"Body": io.BytesIO(b"\n".join(echo)), "InvokedProductionVariant": "main"}


@pytest.fixture
def s3(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="data")
        yield client


def settings_for(key: str, **overrides) -> Settings:
    return Settings(
        bucket="data", key=key, endpoint="echo", num_features=3, **{"batch_rows": 5, **overrides}
    )


def score(s3, body: bytes, shards: int = 1, **overrides) -> tuple[dict, list[str], list[dict]]:
    """Run the job (each array child in turn); the summary, output lines and error rows."""
    key = f"input/{len(body)}-{hash(body) & 0xFFFF}-{shards}.csv"
    s3.put_object(Bucket="data", Key=key, Body=body)
    summary = None
    for shard in range(shards):
        settings = settings_for(key, shards=shards, shard=shard, **overrides)
        summary = Job(settings, s3, EchoEndpoint(), dynamodb=None).run() or summary
    assert summary is not None

    def read(uri: str | None) -> str:
        if uri is None:
            return ""
        return s3.get_object(Bucket="data", Key=uri.split("/", 3)[3])["Body"].read().decode()

    errors = list(csv.DictReader(io.StringIO(read(summary["errors"]))))
    assert summary["rows_in"] == summary["rows_scored"] + summary["rows_rejected"]
    return summary, read(summary["output"]).splitlines(), errors


def sent(rows: list[list[str]]) -> list[str]:
    """The output of rows sent as plain CSV (missing values empty) to the echo endpoint."""
    return [";".join(row) for row in rows]


def write(rows, delimiter=",", encoding="utf-8", header=None, lineterminator="\n", **fmt) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator=lineterminator, **fmt)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def european(rows):
    return [[value.replace(".", ",") for value in row] for row in rows]


# ---------------------------------------------------------------------------------------------
# Dialects: detection and the rows the endpoint gets
# ---------------------------------------------------------------------------------------------
EXPORTS = {
    "plain": (write(ROWS), Dialect()),
    "excel csv utf-8 (BOM, header, CRLF)": (
        b"\xef\xbb\xbf" + write(ROWS, header=HEADER, lineterminator="\r\n"),
        Dialect(header=True, start=3 + len("Betrag (€),Zeit,V1\r\n".encode()), skipped=1),
    ),
    "excel unicode text (UTF-16 LE, tab)": (
        b"\xff\xfe" + write(ROWS, "\t", "utf-16-le", HEADER, "\r\n"),
        Dialect("utf-16-le", "\t", decimal_comma=True, header=True, start=2 + 2 * 20, skipped=1),
    ),
    "UTF-16 BE, tab, decimal comma": (
        b"\xfe\xff" + write(european(ROWS), "\t", "utf-16-be", HEADER),
        Dialect("utf-16-be", "\t", decimal_comma=True, header=True, start=2 + 2 * 19, skipped=1),
    ),
    "excel on windows (cp1252, sep=;, decimal comma)": (
        b"sep=;\r\n" + write(european(ROWS), ";", "cp1252", HEADER, "\r\n"),
        Dialect(
            "cp1252", ";", decimal_comma=True, header=True, start=7 + 20, skipped=2
        ),  # the header's € is one byte
    ),
    "semicolon, decimal comma, quoted": (
        write(european(ROWS), ";", quoting=csv.QUOTE_ALL),
        Dialect(delimiter=";", quoted=True, decimal_comma=True),
    ),
    "pipe": (write(ROWS, "|"), Dialect(delimiter="|")),
    "pandas QUOTE_ALL with its 0..n-1 header": (
        write(ROWS, header=["0", "1", "2"], quoting=csv.QUOTE_ALL),
        Dialect(quoted=True, header=True, start=12, skipped=1),
    ),
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_the_dialect_is_detected_from_the_first_bytes(name):
    body, dialect = EXPORTS[name]
    assert detect_dialect(body[:64], False, settings_for("x")) == dialect


@pytest.mark.parametrize("name", list(EXPORTS))
def test_every_dialect_is_scored_as_the_plain_rows(s3, name):
    body, dialect = EXPORTS[name]
    summary, output, errors = score(s3, body)
    assert output == sent(ROWS)
    assert errors == []
    assert (summary["rows_in"], summary["header"]) == (len(ROWS), dialect.header)


def test_null_markers_are_sent_as_missing_values(s3):
    rows = [["NULL", "1", "null"], ["\\N", "NA", "NaN"], ["nan", "2", "3"]]
    _, output, _ = score(s3, write(rows))
    assert output == [";1;", ";;", "nan;2;3"]  # the endpoint reads "nan" itself
    _, quoted, _ = score(s3, write(rows, ";", quoting=csv.QUOTE_ALL))
    assert quoted == output


def test_quotes_doubled_inside_a_quoted_id_column(s3):
    rows = [['"Smith, J." ; ok', "1,5", "2"], ["plain", "3", ""]]
    body = write([[i, *r, "4"] for i, *r in rows], ";", quoting=csv.QUOTE_ALL)
    _, output, errors = score(s3, body, id_column=0)
    assert errors == []
    assert list(csv.reader(output)) == [['"Smith, J." ; ok', "1.5;2;4"], ["plain", "3;;4"]]


def test_a_plain_file_is_sent_byte_for_byte(s3):
    body = write(ROWS)
    s3.put_object(Bucket="data", Key="input/p.csv", Body=body)
    endpoint = EchoEndpoint()
    Job(settings_for("input/p.csv", batch_rows=1000), s3, endpoint, dynamodb=None).run()
    assert endpoint.bodies == [body]


# ---------------------------------------------------------------------------------------------
# UTF-16: line ends are 2-byte code units, shards split at any byte
# ---------------------------------------------------------------------------------------------
def utf16_rows(count: int) -> list[list[str]]:
    # U+0A41 U+0100 is 41 0A 00 01 in UTF-16 LE: "\n\0" at an odd offset, not a line end
    return [[f"id-{i}-\u0a41\u0100", f"{i}.5", str(-i), ""] for i in range(count)]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_told_by_its_zero_bytes(s3, encoding):
    body = write(ROWS, "\t", encoding, HEADER)
    assert detect_dialect(body[:64], False, settings_for("x")).encoding == encoding
    assert score(s3, body)[1] == sent(ROWS)


def test_a_first_line_longer_than_the_sample_is_not_taken_for_a_header():
    body = b"a,b,c" + b"x" * 70_000 + b"\n1,2,3\n"
    assert detect_dialect(body[: 64 * 2**10], False, settings_for("x")) == Dialect()


def test_a_2_byte_line_end_only_counts_at_an_even_offset():
    line = "a\u0a41\u0100b".encode("utf-16-le")
    assert b"\n\x00" in line
    assert split_lines(line + b"\n\x00" + line, b"\n\x00") == [line, line]


@pytest.mark.parametrize("shards", [2, 3, 7])
def test_utf16_shards_split_at_odd_offsets_keep_every_row_once(s3, shards):
    rows = utf16_rows(40)
    body = b"\xff\xfe" + write(rows, "\t", "utf-16-le", ["id", "a", "b", "c"], "\r\n")
    begin = 2 + len("id\ta\tb\tc\r\n".encode("utf-16-le"))
    assert any((begin + i * (len(body) - begin) // shards) % 2 for i in range(1, shards))
    single = score(s3, body, id_column=0)
    sharded = score(s3, body, shards=shards, id_column=0)
    assert sharded[1] == single[1]
    expected = [[r[0], ";".join(r[1:])] for r in rows]
    assert list(csv.reader(single[1])) == expected
    assert sharded[0]["rows_in"] == 40


def test_every_odd_offset_finds_the_next_utf16_line_start(s3):
    body = b"\xfe\xff" + write(utf16_rows(5), "\t", "utf-16-be")
    s3.put_object(Bucket="data", Key="input/be.csv", Body=body)
    reader = RangeReader(s3, settings_for("input/be.csv"), len(body), "\n".encode("utf-16-be"))
    starts = [2] + [i for i in range(4, len(body) + 1, 2) if body[i - 2 : i] == b"\x00\n"]
    assert len(starts) == 6  # 5 lines, and the end
    for offset in range(2, len(body)):
        assert reader.line_start(offset, 2) == min(s for s in starts if s >= offset)


# ---------------------------------------------------------------------------------------------
# What cannot be read: a reason each, with the file's line number
# ---------------------------------------------------------------------------------------------
def test_unreadable_lines_get_their_reason_and_line_number(s3):
    lines = [
        "a;b;c",  # 1: the header
        "1,5;2;3",
        '"1,5;2;3',  # 3: a quote never closed
        "1;2",  # 4: two values
        "",  # 5
        '"1"x;2;3',  # 6: text after a closing quote
        "4;5;6",
    ]
    body = ("\n".join(lines) + "\n").encode()
    summary, output, errors = score(s3, body)
    assert output == ["1.5;2;3", "4;5;6"]
    assert summary["header"] is True
    assert summary["rows_in"] == 6
    reasons = {int(e["line"]): e["reason"] for e in errors}
    assert sorted(reasons) == [3, 4, 5, 6]
    assert "not CSV" in reasons[3] and "quotes must be paired" in reasons[3]
    assert reasons[4] == "expected 3 values, got 2"
    assert reasons[5] == "empty line"
    assert "not CSV" in reasons[6]
    assert errors[0]["row"] == '"1,5;2;3'


def test_a_comma_in_a_number_of_a_pipe_file_is_named(s3):
    _, output, errors = score(s3, b"1|2|3\n1,5|2|3\n")
    assert output == ["1;2;3"]
    assert [(e["line"], e["reason"]) for e in errors] == [("2", "'1,5' is not a number")]


def test_bytes_that_are_not_utf16_are_named(s3):
    good = "1\t2\t3\n".encode("utf-16-le")
    body = b"\xff\xfe" + good + "\ud800\t2\t3\n".encode("utf-16-le", "surrogatepass") + good
    _, output, errors = score(s3, body)
    assert output == ["1;2;3", "1;2;3"]
    assert [(e["line"], e["reason"][:20]) for e in errors] == [("2", "not utf-16-le text (")]


def test_cp1252_is_read_only_where_text_can_be(s3):
    # No header, no id column: a byte that is not UTF-8 is an error as it always was.
    _, _, errors = score(s3, b"1,2,3\n\xe9,2,3\n")
    assert [(e["line"], e["reason"]) for e in errors] == [("2", "not UTF-8 text (byte 1)")]
    # With an id column it is the id's encoding (Excel's "CSV (Comma delimited)").
    _, output, errors = score(s3, "Müller,1,2,3\n".encode("cp1252"), id_column=0)
    assert (output, errors) == (["Müller,1;2;3"], [])


def test_a_line_with_one_bad_value_makes_no_block_lose_a_row():
    """The block fast path and the line-by-line path agree; a bad line sends its block down
    the line-by-line path, whose rows are the same."""
    settings = settings_for("x")
    normaliser = Normaliser(Dialect(), settings)
    good = [",".join(row).encode() for row in ROWS]
    fast, slow = Chunk(), Chunk()
    normaliser.add(Piece(0, 1, good, 0, 1), fast)
    normaliser.add(Piece(0, 1, [*good, b"1,2"], 0, 1), slow)
    assert fast.rows == slow.rows == good
    assert slow.rejected == [(len(good) + 1, "expected 3 values, got 2", b"1,2")]


def test_over_long_lines_are_rejected_in_every_encoding(s3):
    long = "1\t" * 100 + "1"
    body = b"\xff\xfe" + "\n".join(["1\t2\t3", long, "4\t5\t6", ""]).encode("utf-16-le")
    _, output, errors = score(s3, body, max_line_bytes=64, read_window_bytes=32)
    assert output == ["1;2;3", "4;5;6"]
    assert [(e["line"], e["reason"]) for e in errors] == [("2", "line longer than 64 bytes")]


def test_shard_zero_owns_the_header_whatever_the_array_size(s3):
    body = b"sep=,\n" + write(ROWS, header=["a", "b", "c"])
    for shards in (1, 4, 30):
        summary, output, _ = score(s3, body, shards=shards)
        assert (summary["rows_in"], output) == (len(ROWS), sent(ROWS))


def test_error_line_numbers_count_the_header_lines(s3):
    body = b"sep=;\na;b;c\n1;2;3\n1;2\n"
    _, _, errors = score(s3, body, shards=2)
    assert [e["line"] for e in errors] == ["4"]

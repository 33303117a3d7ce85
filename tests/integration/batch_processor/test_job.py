"""The Batch scoring job against the emulator and the local SageMaker hosting."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import xgboost as xgb

from batch_processor.job import Job, JobFailed, Settings, clients
from serving.artifact import load_booster
from tests.helpers.aws import make_endpoint
from tests.helpers.paths import REPO
from tests.helpers.processes import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(emulator, trained_model, dataset):
    """Data bucket, job table, an endpoint with two variants, and feature rows to score."""
    suffix = uuid.uuid4().hex[:8]
    bucket = f"data-{suffix}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.upload_file(str(trained_model.model_path), bucket, "models/m/model.tar.gz")
    endpoint = make_endpoint(emulator, f"s3://{bucket}/models/m/model.tar.gz", {"a": 1, "b": 1})
    table = f"jobs-{suffix}"
    emulator.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "FileName", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "FileName", "KeyType": "HASH"}],
    )
    features = np.loadtxt(dataset, delimiter=",", skiprows=1, max_rows=6000)[:, :30]
    lines = [",".join(repr(float(v)) for v in row) for row in features]
    booster = load_booster(trained_model.model_path)
    return {
        "bucket": bucket,
        "endpoint": endpoint,
        "table": table,
        "lines": lines,
        "expected": booster.predict(xgb.DMatrix(features)),
    }


def upload(emulator, platform, lines: list[str | bytes] | bytes, name: str | None = None) -> dict:
    """Upload the lines (or a file's bytes) as input/<name>.csv."""
    key = f"input/{name or uuid.uuid4().hex[:8]}.csv"
    body = (
        lines
        if isinstance(lines, bytes)
        else b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
        + b"\n"
    )
    put = emulator.client("s3").put_object(Bucket=platform["bucket"], Key=key, Body=body)
    return {
        "key": key,
        "etag": put["ETag"].strip('"'),
        "version": put.get("VersionId", ""),
        "size": len(body),
    }


def job_settings(platform, obj: dict, **overrides) -> Settings:
    fields = {
        "bucket": platform["bucket"],
        "key": obj["key"],
        "etag": obj["etag"],
        "version_id": obj["version"],
        "endpoint": platform["endpoint"],
        "job_table": platform["table"],
    }
    return Settings(**{**fields, **overrides})


def run_job(settings: Settings) -> dict:
    return Job(settings, *clients(settings)).run()


def read(emulator, uri: str) -> str:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def record(emulator, platform, settings: Settings) -> dict:
    item = emulator.client("dynamodb").get_item(
        TableName=platform["table"],
        Key={"FileName": {"S": settings.record_key}},
        ConsistentRead=True,
    )["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def bad_rows(lines: list[str]) -> tuple[list[str | bytes], dict[int, str]]:
    """Good rows with one bad row of every kind; returns the rows and {line: reason part}."""
    rows: list[str | bytes] = list(lines[:40])
    bad = {
        5: ("", "empty line"),
        9: (lines[9].rsplit(",", 1)[0], "expected 30 values, got 29"),
        14: ("abc" + lines[14][lines[14].index(",") :], "'abc' is not a number"),
        20: (b"\xff\xfe" + lines[20].encode(), "not UTF-8"),
        26: (lines[26] + ",1" * 40000, "longer than"),
        31: ("inf" + lines[31][lines[31].index(",") :], "not finite"),
    }
    for number, (row, _) in bad.items():
        rows[number - 1] = row
    return rows, {number: reason for number, (_, reason) in bad.items()}


def test_bad_rows_of_every_kind_go_to_the_errors_file(emulator, platform):
    rows, bad = bad_rows(platform["lines"])
    obj = upload(emulator, platform, rows)
    settings = job_settings(platform, obj, batch_rows=7)
    summary = run_job(settings)

    assert summary["rows_in"] == 40
    assert summary["rows_rejected"] == len(bad)
    assert summary["rows_scored"] == 40 - len(bad)
    errors = list(csv.DictReader(io.StringIO(read(emulator, summary["errors"]))))
    assert [int(e["line"]) for e in errors] == sorted(bad)
    for error in errors:
        assert bad[int(error["line"])] in error["reason"], error
    good = [i for i in range(40) if i + 1 not in bad]
    scores = [float(x) for x in read(emulator, summary["output"]).splitlines()]
    np.testing.assert_allclose(scores, platform["expected"][good], rtol=1e-6)
    saved = record(emulator, platform, settings)
    assert int(saved["RowsIn"]) == int(saved["RowsScored"]) + int(saved["RowsRejected"])
    assert saved["ErrorsUri"] == summary["errors"]


class FaultyProxy:
    """A real HTTP server in front of the SageMaker runtime: fails the first `failures` calls
    (or all, with failures=None) with the given AWS error, forwards the rest."""

    def __init__(
        self, target: str, failures: int | None, status: int, code: str, delay_s: float = 0.0
    ) -> None:
        self.calls = 0
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    proxy.calls += 1
                    failing = failures is None or proxy.calls <= failures
                if delay_s:
                    time.sleep(delay_s)
                if failing:
                    answer = json.dumps({"__type": code, "message": "injected"}).encode()
                    self.send_response(status)
                    self.send_header("x-amzn-ErrorType", code)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")
                }
                request = urllib.request.Request(target + self.path, data=body, headers=headers)
                try:
                    with urllib.request.urlopen(request) as response:
                        status_code, reply_headers, reply = (
                            response.status,
                            response.headers,
                            response.read(),
                        )
                except urllib.error.HTTPError as exc:
                    status_code, reply_headers, reply = exc.code, exc.headers, exc.read()
                self.send_response(status_code)
                for name in (
                    "Content-Type",
                    "x-Amzn-Invoked-Production-Variant",
                    "x-amzn-ErrorType",
                ):
                    if reply_headers.get(name):
                        self.send_header(name, reply_headers[name])
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalFailure"), (400, "ThrottlingException")]
)
def test_transient_endpoint_failures_are_retried(emulator, platform, monkeypatch, status, code):
    proxy = FaultyProxy(emulator.runtime_url, failures=3, status=status, code=code)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", proxy.url)
    try:
        obj = upload(emulator, platform, platform["lines"][:500])
        summary = run_job(job_settings(platform, obj, batch_rows=100, concurrency=1))
    finally:
        proxy.close()
    assert proxy.calls == 5 + 3  # five batches, three of the calls failed and were retried
    scores = [float(x) for x in read(emulator, summary["output"]).splitlines()]
    np.testing.assert_allclose(scores, platform["expected"][:500], rtol=1e-6)


def test_endpoint_down_for_good_fails_the_job_without_output(emulator, platform, monkeypatch):
    proxy = FaultyProxy(emulator.runtime_url, failures=None, status=500, code="InternalFailure")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", proxy.url)
    obj = upload(emulator, platform, platform["lines"][:300])
    settings = job_settings(platform, obj, max_attempts=2)
    try:
        with pytest.raises(JobFailed, match="InternalFailure"):
            run_job(settings)
    finally:
        proxy.close()
    saved = record(emulator, platform, settings)
    assert saved["Status"] == "FAILED"
    assert "InternalFailure" in saved["Reason"]
    listed = emulator.client("s3").list_objects_v2(Bucket=platform["bucket"], Prefix="output/")
    name = obj["key"][6:-4]
    assert not [o for o in listed.get("Contents", []) if o["Key"].endswith(f"-{name}.csv")]


def test_killed_job_resumes_with_exact_output(emulator, platform):
    lines = platform["lines"][:6000]
    obj = upload(emulator, platform, lines)
    proxy = FaultyProxy(emulator.runtime_url, failures=0, status=500, code="x", delay_s=0.02)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": proxy.url,
        "CHUNK_ROWS": "500",
        "BATCH_ROWS": "50",
        "CONCURRENCY": "2",
    }
    command = [
        sys.executable,
        "-m",
        "batch_processor.job",
        "--bucket",
        platform["bucket"],
        "--key",
        obj["key"],
        "--etag",
        obj["etag"],
        "--version-id",
        obj["version"],
        "--endpoint",
        platform["endpoint"],
        "--job-table",
        platform["table"],
    ]
    settings = job_settings(platform, obj)
    job = Job(settings, *clients(settings))
    try:
        first = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            progress = job.load_progress(0)
            if progress is not None and progress.chunks >= 3:
                break
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = job.load_progress(0)
        assert killed_at is not None and 3 <= killed_at.chunks < 12, "killed mid-file"
        calls_before = proxy.calls

        again = subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120
        )
    finally:
        proxy.close()
    assert again.returncode == 0, again.stderr
    # The re-run sent only what was not committed yet (each chunk is 10 requests of 50 rows).
    assert proxy.calls - calls_before <= (12 - killed_at.chunks) * 10
    saved = record(emulator, platform, settings)
    scores = [float(x) for x in read(emulator, saved["OutputUri"]).splitlines()]
    np.testing.assert_allclose(scores, platform["expected"][:6000], rtol=1e-6)
    assert saved["RowsIn"] == saved["RowsScored"] == "6000"
    leftovers = emulator.client("s3").list_objects_v2(
        Bucket=platform["bucket"], Prefix=settings.checkpoint_root
    )
    assert leftovers.get("KeyCount", 0) == 0


def test_four_array_children_produce_the_single_job_output(emulator, platform):
    rows, bad = bad_rows(platform["lines"])
    rows = rows + platform["lines"][40:3000]
    single = upload(emulator, platform, rows, name="single")
    sharded = upload(emulator, platform, rows, name="sharded")
    one = run_job(job_settings(platform, single, batch_rows=250))

    results = [
        run_job(job_settings(platform, sharded, batch_rows=250, shards=4, shard=i))
        for i in (2, 0, 3, 1)
    ]  # any order; the last to finish assembles
    assert results[:3] == [None, None, None]
    four = results[3]
    assert read(emulator, four["output"]) == read(emulator, one["output"])
    assert read(emulator, four["errors"]) == read(emulator, one["errors"])
    assert (four["rows_in"], four["rows_rejected"]) == (3000, len(bad))


def test_an_object_changed_since_submission_fails_clearly(emulator, platform):
    obj = upload(emulator, platform, platform["lines"][:10])
    settings = job_settings(platform, {**obj, "version": ""}, job_table="")
    emulator.client("s3").put_object(Bucket=platform["bucket"], Key=obj["key"], Body=b"1\n")
    with pytest.raises(JobFailed, match="changed since it was submitted"):
        run_job(settings)


def test_missing_object_fails_the_job_with_the_aws_error(emulator, platform):
    settings = Settings(
        bucket=platform["bucket"],
        key="input/absent.csv",
        etag="x",
        endpoint=platform["endpoint"],
        job_table=platform["table"],
    )
    with pytest.raises(JobFailed, match="AWS call failed"):
        run_job(settings)
    assert record(emulator, platform, settings)["Status"] == "FAILED"


def test_byo_batch_run_runs_the_job_locally(emulator, platform):
    from click.testing import CliRunner

    from operators.cli import cli

    obj = upload(emulator, platform, platform["lines"][:700])
    uri = f"s3://{platform['bucket']}/{obj['key']}"
    result = CliRunner().invoke(
        cli,
        [
            "batch",
            "run",
            uri,
            "--endpoint",
            platform["endpoint"],
            "--job-table",
            platform["table"],
            "--shards",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["rows_in"], summary["rows_scored"]) == (700, 700)
    scores = [float(x) for x in read(emulator, summary["output"]).splitlines()]
    np.testing.assert_allclose(scores, platform["expected"][:700], rtol=1e-6)

    missing = CliRunner().invoke(
        cli,
        [
            "batch",
            "run",
            f"s3://{platform['bucket']}/input/no.csv",
            "--endpoint",
            platform["endpoint"],
        ],
    )
    assert missing.exit_code != 0
    assert "cannot read" in str(missing.exception)


def test_id_column_passes_through_to_the_output(emulator, platform):
    lines = [f"txn-{i}," + line for i, line in enumerate(platform["lines"][:50])]
    lines[7] = "txn-7,not-a-number" + lines[7][lines[7].index(",", 6) :]
    obj = upload(emulator, platform, lines)
    summary = run_job(job_settings(platform, obj, id_column=0, batch_rows=16))
    out = list(csv.reader(io.StringIO(read(emulator, summary["output"]))))
    assert [row[0] for row in out] == [f"txn-{i}" for i in range(50) if i != 7]
    good = [i for i in range(50) if i != 7]
    np.testing.assert_allclose(
        [float(row[1]) for row in out], platform["expected"][good], rtol=1e-6
    )
    (error,) = csv.DictReader(io.StringIO(read(emulator, summary["errors"])))
    assert error["line"] == "8" and "not a number" in error["reason"]


def export(lines: list[str], dialect: str) -> bytes:
    """The rows as a spreadsheet program or a database exports them."""
    rows = [line.split(",") for line in lines]
    header = [f"V{i}" for i in range(1, 29)] + ["Montant (€)", "Temps"]
    text = io.StringIO()
    if dialect == "excel csv utf-8":  # BOM, header, CRLF
        csv.writer(text, lineterminator="\r\n").writerows([header, *rows])
        return b"\xef\xbb\xbf" + text.getvalue().encode()
    if dialect == "excel unicode text":  # UTF-16 LE, tab-separated
        csv.writer(text, delimiter="\t", lineterminator="\r\n").writerows([header, *rows])
        return b"\xff\xfe" + text.getvalue().encode("utf-16-le")
    if dialect == "excel european":  # cp1252, sep=;, decimal comma, quotes where needed
        european = [[v.replace(".", ",") for v in row] for row in rows]
        text.write("sep=;\r\n")
        csv.writer(text, delimiter=";", lineterminator="\r\n").writerows([header, *european])
        return text.getvalue().encode("cp1252")
    assert dialect == "quote all"  # PostgreSQL COPY … CSV FORCE QUOTE *, pandas QUOTE_ALL
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


@pytest.mark.parametrize(
    "dialect", ["excel csv utf-8", "excel unicode text", "excel european", "quote all"]
)
def test_exported_csv_dialects_score_as_the_plain_rows(emulator, platform, dialect):
    lines = platform["lines"][:300]
    obj = upload(emulator, platform, export(lines, dialect))
    settings = job_settings(platform, obj, batch_rows=64, shards=1)
    summary = run_job(settings)
    assert (summary["rows_in"], summary["rows_scored"]) == (300, 300)
    scores = [float(x) for x in read(emulator, summary["output"]).splitlines()]
    np.testing.assert_allclose(scores, platform["expected"][:300], rtol=1e-6)
    header = dialect != "quote all"
    assert summary["header"] is header
    assert record(emulator, platform, settings)["Header"] is header


def test_null_markers_score_as_missing_values_in_every_shard(emulator, platform, trained_model):
    markers = ["NULL", "\\N", "NA", "NaN", "null", ""]
    rows = [line.split(",") for line in platform["lines"][:200]]
    for i, row in enumerate(rows):
        row[i % 30] = markers[i % len(markers)]
    exported = [",".join(f'"{v}"' if i % 2 else v for v in row) for i, row in enumerate(rows)]
    obj = upload(emulator, platform, exported)
    results = [
        run_job(job_settings(platform, obj, batch_rows=32, shards=3, shard=i)) for i in range(3)
    ]
    assert results[2]["rows_scored"] == 200
    features = np.array([[np.nan if v in markers else float(v) for v in row] for row in rows])
    expected = load_booster(trained_model.model_path).predict(xgb.DMatrix(features))
    scores = [float(x) for x in read(emulator, results[2]["output"]).splitlines()]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_an_errors_file_over_a_part_is_uploaded_in_parts(emulator, platform):
    """Under MULTIPART_MIN an output is one PutObject; over it, a multipart upload (S3's parts
    are >= 5 MiB but the last). 12,000 over-wide rows: a 12 MiB errors file, every row in it."""
    wide = "1," * 600 + "1"  # 601 values: rejected by the job itself, 1,000 of its bytes kept
    good = platform["lines"][:10]
    rows = good[:5] + [wide] * 12_000 + good[5:]
    obj = upload(emulator, platform, rows)
    settings = job_settings(platform, obj, job_table="", chunk_rows=3000)  # 3 MiB of errors each
    calls: list[str] = []
    job = Job(settings, *clients(settings))
    job.s3.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    summary = job.run()
    # The errors file in 2 parts; the output's 10 scores in one PutObject, not a multipart upload.
    assert calls.count("UploadPart") == 2 and calls.count("CreateMultipartUpload") == 1
    errors = list(csv.reader(io.StringIO(read(emulator, summary["errors"]))))
    assert errors[0] == ["line", "reason", "row"]
    assert [int(row[0]) for row in errors[1:]] == list(range(6, 12_006))
    assert {row[1] for row in errors[1:]} == {"expected 30 values, got 601"}
    assert all(row[2] == wide[:1000] for row in errors[1:])
    scores = [float(x) for x in read(emulator, summary["output"]).splitlines()]
    np.testing.assert_allclose(scores, platform["expected"][:10], rtol=1e-6)
    assert (summary["rows_in"], summary["rows_rejected"]) == (12_010, 12_000)


def test_an_empty_object_succeeds_with_no_rows(emulator, platform):
    obj = upload(emulator, platform, b"")
    summary = run_job(job_settings(platform, obj))
    assert (summary["rows_in"], summary["rows_scored"], summary["rows_rejected"]) == (0, 0, 0)
    assert read(emulator, summary["output"]) == ""

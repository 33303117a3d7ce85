"""`byo ground-truth generate` from real captures of the local hosting."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from click.testing import CliRunner

from operators.cli import cli
from tests.helpers.aws import make_endpoint

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def captured(emulator, trained_model, dataset, tmp_path_factory):
    """An endpoint with capture on, 60 labelled rows sent with inference ids, flushed."""
    bucket = f"gt-{uuid.uuid4().hex[:8]}"
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "m/model.tar.gz")
    endpoint = make_endpoint(emulator, f"s3://{bucket}/m/model.tar.gz", {"a": 1}, bucket)
    lines = dataset.read_text().splitlines()
    header, rows = lines[0], [lines[i] for i in range(1, 200000, 3300)][:60]
    fraud = [line for line in lines[1:] if line.endswith(",1")][:10]
    rows = rows[:50] + fraud
    labelled = tmp_path_factory.mktemp("gt") / "labelled.csv"
    labelled.write_text("\n".join([header, *rows]) + "\n")
    runtime = emulator.client("sagemaker-runtime")
    for i, row in enumerate(rows):
        features = row.rsplit(",", 1)[0]
        runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="text/csv",
            Body=features.encode(),
            InferenceId=f"req-{i}",
        )
    urllib.request.urlopen(
        urllib.request.Request(f"{emulator.runtime_url}/localaws/flush", method="POST")
    ).close()
    outputs = tmp_path_factory.mktemp("gt") / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "endpoint_name": {"value": endpoint},
                "data_bucket": {"value": bucket},
                "data_capture_s3_uri": {"value": f"s3://{bucket}/captures"},
            }
        )
    )
    return {"bucket": bucket, "outputs": str(outputs), "labelled": labelled, "rows": rows}


def generate(captured, *args: str) -> dict:
    result = CliRunner().invoke(
        cli, ["--outputs", captured["outputs"], "ground-truth", "generate", "--json", *args]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def records(emulator, uri: str) -> list[dict]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines()]


def test_known_labels_in_sagemakers_format(emulator, captured):
    summary = generate(captured, "--labels", str(captured["labelled"]), "--accuracy", "1")
    assert summary["labels"] == 60 and summary["unmatched"] == 0 and summary["flipped"] == 0
    (uri,) = summary["objects"]
    assert "/ground-truth/" in uri and uri.endswith("/byo-seed0.jsonl")
    found = {r["eventMetadata"]["eventId"]: r for r in records(emulator, uri)}
    for i, row in enumerate(captured["rows"]):
        record = found[f"req-{i}"]
        assert record == {
            "groundTruthData": {"data": row[-1], "encoding": "CSV"},
            "eventMetadata": {"eventId": f"req-{i}"},
            "eventVersion": "0",
        }


def test_flips_at_the_given_rate_deterministically_for_a_seed(emulator, captured):
    first = generate(
        captured, "--labels", str(captured["labelled"]), "--accuracy", "0.7", "--seed", "3"
    )
    again = generate(
        captured, "--labels", str(captured["labelled"]), "--accuracy", "0.7", "--seed", "3"
    )
    assert first == again
    assert records(emulator, first["objects"][0]) == records(emulator, again["objects"][0])
    assert 6 <= first["flipped"] <= 30  # Binomial(60, 0.3): mean 18, sd 3.5
    other = generate(
        captured, "--labels", str(captured["labelled"]), "--accuracy", "0.7", "--seed", "4"
    )
    assert records(emulator, other["objects"][0]) != records(emulator, first["objects"][0])


def test_without_labels_the_endpoint_decision_is_the_rule(captured):
    summary = generate(captured, "--accuracy", "1")
    assert summary["rule"] == "endpoint decision"
    assert summary["labels"] == 60
    assert 5 <= summary["positives"] <= 10  # the 10 fraud rows, most of them caught


def test_time_window_filters_requests(captured):
    summary = generate(captured, "--until", "2000-01-01T00:00:00")
    assert summary["labels"] == 0 and summary["objects"] == []


def test_rows_with_missing_or_text_fields_are_unmatched_not_a_crash():
    """Captures of altered traffic (byo monitor scenarios: empty fields) in the window."""
    from operators.ground_truth import row_key

    assert row_key("1.5,,abc,2\n") == (1.5, None, None, 2.0)
    assert row_key("0.1234567,3") == (0.123457, 3.0)

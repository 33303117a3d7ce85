from __future__ import annotations

import pytest

from batch_processor.trigger import (
    MAX_ARRAY_SIZE,
    InputObject,
    MalformedEvent,
    Settings,
    array_size,
    parse_record,
)


def s3_record(key: str = "input/a.csv", **obj) -> dict:
    return {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": "data"},
            "object": {"key": key, "size": 10, "eTag": "abc", **obj},
        },
    }


def test_keys_are_url_decoded():
    assert parse_record(s3_record("input/my+file%281%29.csv")).key == "input/my file(1).csv"


def test_record_key_is_per_version_or_etag():
    versioned = parse_record(s3_record(versionId="v1"))
    assert versioned.record_key == "s3://data/input/a.csv#v1"
    assert parse_record(s3_record()).record_key == "s3://data/input/a.csv#abc"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"eventSource": "aws:sqs"}, "eventSource"),
        ({**s3_record(), "eventName": "ObjectRemoved:Delete"}, "not ObjectCreated"),
        ({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}, "not an S3"),
        ("not a dict", "not an S3"),
    ],
)
def test_malformed_records_say_why(record, reason):
    with pytest.raises(MalformedEvent, match=reason):
        parse_record(record)


def test_job_names_are_valid_for_batch():
    name = InputObject("b", "input/weird name (1)!.csv", 1, "e", None).job_name
    assert name.startswith("score-weird-name--1---")
    assert len(name) <= 128
    assert all(c.isalnum() or c in "-_" for c in name)


def test_array_size():
    assert array_size(100, 100) == 0
    assert array_size(101, 100) == 2
    assert array_size(1000, 100) == 10
    assert array_size(10**12, 1) == MAX_ARRAY_SIZE


def test_settings_name_what_is_missing():
    with pytest.raises(RuntimeError, match="JOB_QUEUE, JOB_TABLE"):
        Settings.from_env({"JOB_DEFINITION": "d"})
    settings = Settings.from_env(
        {"JOB_QUEUE": "q", "JOB_DEFINITION": "d", "JOB_TABLE": "t", "ARRAY_THRESHOLD_BYTES": "5"}
    )
    assert settings.array_threshold_bytes == 5
    assert settings.input_prefix == "input/"

"""The trigger against the emulator: real DynamoDB conditional writes and Batch SubmitJob."""

from __future__ import annotations

import logging
import uuid

import pytest
from botocore.exceptions import ClientError

from batch_processor import trigger
from batch_processor.trigger import Settings, Trigger
from tests.helpers.aws import fargate_job_queue

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def batch_setup(emulator):
    """A job table with the storage module's schema, and a Batch queue + job definition."""
    suffix = uuid.uuid4().hex[:8]
    dynamodb = emulator.client("dynamodb")
    table = f"jobs-{suffix}"
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "FileName", "AttributeType": "S"},
            {"AttributeName": "StartTime", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "FileName", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "StartTimeIndex",
                "KeySchema": [{"AttributeName": "StartTime", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    queue, definition = fargate_job_queue(
        emulator, ["python", "-m", "batch_processor.job", "Ref::bucket", "Ref::key"]
    )
    return Settings(
        job_queue=queue, job_definition=definition, job_table=table, array_threshold_bytes=1000
    )


@pytest.fixture
def make_trigger(emulator, batch_setup):
    def make(**overrides) -> Trigger:
        settings = Settings(**{**batch_setup.__dict__, **overrides})
        return Trigger(
            settings,
            emulator.client("batch"),
            emulator.client("dynamodb"),
            clock=lambda: 1_700_000_000.0,
        )

    return make


def event(key: str, version: str | None = None, size: int = 100, etag: str = "e1") -> dict:
    obj = {"key": key, "size": size, "eTag": etag}
    if version:
        obj["versionId"] = version
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "data"}, "object": obj},
            }
        ]
    }


def record(emulator, settings: Settings, key: str) -> dict:
    item = emulator.client("dynamodb").get_item(
        TableName=settings.job_table, Key={"FileName": {"S": key}}, ConsistentRead=True
    )["Item"]
    return {name: next(iter(value.values())) for name, value in item.items()}


def unique_key() -> str:
    return f"input/{uuid.uuid4().hex[:8]}.csv"


def test_new_object_submits_one_job_with_its_coordinates(emulator, make_trigger, batch_setup):
    key = unique_key()
    result = make_trigger().handle(event(key, version="v1"))["results"][0]
    assert result["status"] == "submitted"

    job = emulator.client("batch").describe_jobs(jobs=[result["jobId"]])["jobs"][0]
    assert job["parameters"] == {
        "bucket": "data",
        "key": key,
        "etag": "e1",
        "version": "v1",
        "shards": "1",
    }
    assert job["jobQueue"] == batch_setup.job_queue
    saved = record(emulator, batch_setup, f"s3://data/{key}#v1")
    assert saved["Status"] == "SUBMITTED"
    assert saved["JobId"] == result["jobId"]
    assert saved["StartTime"] == "2023-11-14T22:13:20.000+00:00"
    assert int(saved["ExpiresAt"]) == 1_700_000_000 + 90 * 86400


def test_redelivered_event_yields_one_job(emulator, make_trigger):
    key = unique_key()
    first = make_trigger().handle(event(key, version="v1"))["results"][0]
    again = make_trigger().handle(event(key, version="v1"))["results"][0]
    assert first["status"] == "submitted"
    assert again == {"status": "duplicate", "record": f"s3://data/{key}#v1"}

    job_name = trigger.parse_record(event(key, version="v1")["Records"][0]).job_name
    batch = emulator.client("batch")
    queue = make_trigger().settings.job_queue
    submitted = [
        job["jobName"]
        for status in (
            "SUBMITTED",
            "PENDING",
            "RUNNABLE",
            "STARTING",
            "RUNNING",
            "SUCCEEDED",
            "FAILED",
        )
        for job in batch.list_jobs(jobQueue=queue, jobStatus=status)["jobSummaryList"]
    ]
    assert submitted.count(job_name) == 1


def test_a_new_version_of_the_same_key_is_a_new_job(make_trigger):
    key = unique_key()
    first = make_trigger().handle(event(key, version="v1"))["results"][0]
    second = make_trigger().handle(event(key, version="v2"))["results"][0]
    assert first["status"] == second["status"] == "submitted"
    assert first["jobId"] != second["jobId"]


@pytest.mark.parametrize("key", ["output/x.csv", "input/x.json", "inputs/x.csv"])
def test_keys_outside_input_csv_are_ignored(emulator, make_trigger, batch_setup, key, caplog):
    caplog.set_level(logging.INFO, logger="batch_processor.trigger")
    assert make_trigger().handle(event(key))["results"][0]["status"] == "ignored"
    assert f"ignored s3://data/{key}" in caplog.text
    with pytest.raises(KeyError):
        record(emulator, batch_setup, f"s3://data/{key}#e1")


def test_malformed_event_logs_it_and_submits_nothing(make_trigger, caplog):
    bad = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}
    results = make_trigger().handle(bad)["results"]
    assert results[0]["status"] == "malformed"
    assert '"eventName": "ObjectCreated:Put"' in caplog.text
    assert make_trigger().handle({"nothing": 1})["results"][0]["status"] == "malformed"
    assert make_trigger().handle({"Event": "s3:TestEvent"}) == {"results": []}


def test_large_object_becomes_an_array_job(emulator, make_trigger):
    result = make_trigger().handle(event(unique_key(), size=3500))["results"][0]
    assert result["arraySize"] == 4
    job = emulator.client("batch").describe_jobs(jobs=[result["jobId"]])["jobs"][0]
    assert job["arrayProperties"]["size"] == 4
    assert job["parameters"]["shards"] == "4"


def test_failed_submission_is_recorded_and_a_retry_resubmits(emulator, make_trigger, batch_setup):
    key = unique_key()
    broken = make_trigger(job_queue="arn:aws:batch:us-east-1:123456789012:job-queue/missing")
    with pytest.raises(ClientError):
        broken.handle(event(key, version="v1"))
    saved = record(emulator, batch_setup, f"s3://data/{key}#v1")
    assert saved["Status"] == "SUBMIT_FAILED"
    assert "missing" in saved["Reason"]

    retried = make_trigger().handle(event(key, version="v1"))["results"][0]
    assert retried["status"] == "submitted"
    assert record(emulator, batch_setup, f"s3://data/{key}#v1")["Status"] == "SUBMITTED"


def test_lambda_entry_point_reads_its_settings_from_the_environment(
    emulator, batch_setup, monkeypatch
):
    monkeypatch.setenv("JOB_QUEUE", batch_setup.job_queue)
    monkeypatch.setenv("JOB_DEFINITION", batch_setup.job_definition)
    monkeypatch.setenv("JOB_TABLE", batch_setup.job_table)
    result = trigger.handler(event(unique_key()), None)["results"][0]
    assert result["status"] == "submitted"

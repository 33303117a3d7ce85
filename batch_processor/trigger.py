"""The S3 trigger (Lambda): input/<name>.csv created → one AWS Batch job per object version.

Idempotent: S3 may deliver an event more than once. A conditional write of the job record
(FileName = s3://bucket/key#version) decides which delivery submits; the others are duplicates.
A record whose submission failed may be claimed again, so a Lambda retry resubmits.

Runs on the Lambda Python runtime with only the standard library and boto3.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)

MAX_ARRAY_SIZE = 10_000  # AWS Batch's limit on array job children
SUBMIT_FAILED = "SUBMIT_FAILED"


class MalformedEvent(ValueError):
    """An event record that is not a usable S3 ObjectCreated notification."""


@dataclass(frozen=True)
class Settings:
    job_queue: str
    job_definition: str
    job_table: str
    input_prefix: str = "input/"
    input_suffix: str = ".csv"
    array_threshold_bytes: int = 256 * 2**20
    record_ttl_days: int = 90

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [n for n in ("JOB_QUEUE", "JOB_DEFINITION", "JOB_TABLE") if not env.get(n)]
        if missing:
            raise RuntimeError(f"trigger misconfigured: set {', '.join(missing)}")
        return cls(
            job_queue=env["JOB_QUEUE"],
            job_definition=env["JOB_DEFINITION"],
            job_table=env["JOB_TABLE"],
            input_prefix=env.get("INPUT_PREFIX", cls.input_prefix),
            input_suffix=env.get("INPUT_SUFFIX", cls.input_suffix),
            array_threshold_bytes=int(env.get("ARRAY_THRESHOLD_BYTES", cls.array_threshold_bytes)),
            record_ttl_days=int(env.get("RECORD_TTL_DAYS", cls.record_ttl_days)),
        )


@dataclass(frozen=True)
class InputObject:
    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None

    @property
    def record_key(self) -> str:
        """The job record's FileName: one record per object version (ETag when unversioned)."""
        return f"s3://{self.bucket}/{self.key}#{self.version_id or self.etag}"

    @property
    def job_name(self) -> str:
        """A Batch job name (letters, digits, - and _; at most 128) unique per object version."""
        stem = re.sub(r"[^A-Za-z0-9_-]", "-", self.key.rsplit("/", 1)[-1].removesuffix(".csv"))
        digest = hashlib.sha256(self.record_key.encode()).hexdigest()[:12]
        return f"score-{stem[:100]}-{digest}"


def parse_record(record: dict[str, Any]) -> InputObject:
    """The object an S3 event record names; MalformedEvent says what is missing."""
    if not isinstance(record, dict):
        raise MalformedEvent(f"not an S3 event record (a {type(record).__name__})")
    try:
        if record.get("eventSource") != "aws:s3":
            raise MalformedEvent(f"eventSource is {record.get('eventSource')!r}, not 'aws:s3'")
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            raise MalformedEvent(f"eventName {record.get('eventName')!r} is not ObjectCreated")
        s3 = record["s3"]
        obj = s3["object"]
        return InputObject(
            bucket=s3["bucket"]["name"],
            key=urllib.parse.unquote_plus(obj["key"]),  # S3 URL-encodes keys in events
            size=int(obj.get("size", 0)),
            etag=obj.get("eTag") or obj["etag"],
            version_id=obj.get("versionId") or None,
        )
    except MalformedEvent:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(f"not an S3 event record ({type(exc).__name__}: {exc})") from None


def array_size(size: int, threshold: int) -> int:
    """Children for an object of `size` bytes: 0 (a plain job) at or under the threshold."""
    if size <= threshold:
        return 0
    return min(MAX_ARRAY_SIZE, math.ceil(size / threshold))


class Trigger:
    def __init__(self, settings: Settings, batch: Any, dynamodb: Any, clock=time.time) -> None:
        self.settings = settings
        self.batch = batch
        self.dynamodb = dynamodb
        self.clock = clock

    def wants(self, obj: InputObject) -> bool:
        return obj.key.startswith(self.settings.input_prefix) and obj.key.endswith(
            self.settings.input_suffix
        )

    def _claim(self, obj: InputObject, now: float) -> bool:
        """Write the job record unless this object version already has one (not failed)."""
        started = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")
        item = {
            "FileName": {"S": obj.record_key},
            "Status": {"S": "SUBMITTING"},
            "Bucket": {"S": obj.bucket},
            "Key": {"S": obj.key},
            "ETag": {"S": obj.etag},
            "Size": {"N": str(obj.size)},
            "StartTime": {"S": started},
            "ExpiresAt": {"N": str(int(now + self.settings.record_ttl_days * 86400))},
        }
        if obj.version_id:
            item["VersionId"] = {"S": obj.version_id}
        try:
            self.dynamodb.put_item(
                TableName=self.settings.job_table,
                Item=item,
                ConditionExpression="attribute_not_exists(FileName) OR #status = :failed",
                ExpressionAttributeNames={"#status": "Status"},
                ExpressionAttributeValues={":failed": {"S": SUBMIT_FAILED}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _set_status(self, obj: InputObject, status: str, **fields: str) -> None:
        names = {"#status": "Status"}
        values = {":status": {"S": status}}
        assignments = ["#status = :status"]
        for index, (name, value) in enumerate(sorted(fields.items())):
            names[f"#f{index}"] = name
            values[f":f{index}"] = {"S": value}
            assignments.append(f"#f{index} = :f{index}")
        self.dynamodb.update_item(
            TableName=self.settings.job_table,
            Key={"FileName": {"S": obj.record_key}},
            UpdateExpression="SET " + ", ".join(assignments),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def submit(self, obj: InputObject) -> dict[str, Any]:
        """Submit the scoring job for one object version, at most once."""
        if not self.wants(obj):
            log.info(
                "ignored s3://%s/%s: not %s*%s",
                obj.bucket,
                obj.key,
                self.settings.input_prefix,
                self.settings.input_suffix,
            )
            return {"status": "ignored", "object": f"s3://{obj.bucket}/{obj.key}"}
        if not self._claim(obj, self.clock()):
            log.info("duplicate event for %s: a job was already submitted", obj.record_key)
            return {"status": "duplicate", "record": obj.record_key}

        request: dict[str, Any] = {
            "jobName": obj.job_name,
            "jobQueue": self.settings.job_queue,
            "jobDefinition": self.settings.job_definition,
            "parameters": {
                "bucket": obj.bucket,
                "key": obj.key,
                "etag": obj.etag,
                "version": obj.version_id or "",
            },
            "propagateTags": True,
        }
        children = array_size(obj.size, self.settings.array_threshold_bytes)
        request["parameters"]["shards"] = str(max(children, 1))
        if children >= 2:
            request["arrayProperties"] = {"size": children}
        try:
            job = self.batch.submit_job(**request)
        except ClientError as exc:
            self._set_status(obj, SUBMIT_FAILED, Reason=str(exc))
            raise
        self._set_status(
            obj, "SUBMITTED", JobId=job["jobId"], JobName=obj.job_name, ArraySize=str(children)
        )
        log.info(
            "submitted %s as job %s (%s)",
            obj.record_key,
            job["jobId"],
            f"array of {children}" if children >= 2 else "single",
        )
        return {
            "status": "submitted",
            "record": obj.record_key,
            "jobId": job["jobId"],
            "arraySize": children,
        }

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list):
            if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
                log.info("S3 test event: nothing to do")
                return {"results": results}
            log.error("malformed event (no Records list): %s", json.dumps(event, default=str))
            return {"results": [{"status": "malformed", "error": "no Records list"}]}
        for record in records:
            try:
                obj = parse_record(record)
            except MalformedEvent as exc:
                log.error("malformed event record: %s: %s", exc, json.dumps(record, default=str))
                results.append({"status": "malformed", "error": str(exc)})
                continue
            results.append(self.submit(obj))
        return {"results": results}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point."""
    trigger = Trigger(Settings.from_env(), boto3.client("batch"), boto3.client("dynamodb"))
    return trigger.handle(event)

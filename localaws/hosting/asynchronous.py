"""Asynchronous inference (EndpointConfig.AsyncInferenceConfig, InvokeEndpointAsync) in the
local hosting.

`POST /endpoints/{EndpointName}/async-invocations`, as sagemaker-runtime's InvokeEndpointAsync
defines it: the input is X-Amzn-SageMaker-InputLocation (an S3 object, read when the request
runs) or an inline Body (<= 128,000 bytes), never both; X-Amzn-SageMaker-Content-Type / -Accept /
-Custom-Attributes / -Inference-Id (a UUID when absent), -RequestTTLSeconds (60..21600, default
21600), -InvocationTimeoutSeconds (1..3600, default 900), -S3OutputPathExtension and -Filename.
It answers 202 at once with InferenceId (JSON body) and X-Amzn-SageMaker-OutputLocation /
-FailureLocation; an endpoint without AsyncInferenceConfig answers ValidationError.

Each endpoint has a queue. It runs MaxConcurrentInvocationsPerInstance (absent: "SageMaker
chooses an optimal value" — here the machine's CPU count, as a model server's default workers)
times the endpoint's current instance count requests at a time, so 0 instances run nothing and the
backlog waits (scale to zero). Each request goes through Hosting.invoke, the real-time path
(weights, data capture, per-variant metrics). The answer is written to
<S3OutputPath>[/<extension>]/<InferenceId>.out (or Filename), SSE-KMS with OutputConfig.KmsKeyId;
a failure (model error, unreadable input, RequestTTLSeconds or InvocationTimeoutSeconds passed)
to <S3FailurePath>[/<extension>]/<InferenceId>-error.out; NotificationConfig's SuccessTopic /
ErrorTopic get SageMaker's InferenceResult notification (with responseBody where
IncludeInferenceResponseIn asks and the answer is <= 128 KB).

Metrics (AWS/SageMaker, dimension EndpointName only), sampled twice per hosting flush for every
endpoint that has had an async request, also when idle: ApproximateBacklogSize (queued +
running), ApproximateBacklogSizePerInstance (backlog / instances, the backlog itself at 0),
ApproximateAgeOfOldestRequest (seconds), HasBacklogWithoutCapacity (1 when there is a backlog
and no instance).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Response
from werkzeug.datastructures import Headers

from localaws.hosting.models import HostingError, validation_error

log = logging.getLogger("localaws.hosting.asynchronous")

DEFAULT_REQUEST_TTL_S = 21_600
DEFAULT_TIMEOUT_S = 900
MAX_INLINE_BODY = 128_000
MAX_NOTIFIED_RESPONSE = 128 * 1024
DEFAULT_MAX_CONCURRENT = os.cpu_count() or 1
IDLE_POLL_S = 0.2  # how often a backlog without capacity re-reads the instance count

INPUT_LOCATION = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")
INFERENCE_ID = re.compile(r"^\S[\x20-\x7e]*$")
EXTENSION = re.compile(r"^(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+$")
FILENAME = re.compile(r"^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9-_\.]*$")


@dataclass
class AsyncRequest:
    endpoint: str
    inference_id: str
    input_location: str | None
    body: bytes | None
    headers: Headers
    output_location: str
    failure_location: str | None
    output: dict[str, Any]  # OutputConfig at request time
    ttl_s: int
    timeout_s: int
    received: datetime = field(default_factory=lambda: datetime.now(UTC))
    received_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    done: bool = False


@dataclass
class EndpointQueue:
    waiting: deque[AsyncRequest] = field(default_factory=deque)
    running: list[AsyncRequest] = field(default_factory=list)
    instances: int = 0
    capacity: int = 0
    checked_at: float = 0.0


class AsyncInvocations:
    def __init__(self, hosting: Any, client: Callable[[str], Any]) -> None:
        self.hosting = hosting
        self.s3 = client("s3")
        self.sns = client("sns")
        self.region = self.s3.meta.region_name
        self._queues: dict[str, EndpointQueue] = {}
        self._changed = threading.Condition()
        self._submitted = 0  # requests ever queued: the dispatcher never sleeps through one
        self._stop = threading.Event()
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="hosting-async", daemon=True
        )
        self._dispatcher.start()
        self._sampler = threading.Thread(
            target=self._sample_loop, name="hosting-async-metrics", daemon=True
        )
        self._sampler.start()

    # -----------------------------------------------------------------------------------------
    # The API
    # -----------------------------------------------------------------------------------------
    @staticmethod
    def accepted(queued: AsyncRequest) -> Response:
        """InvokeEndpointAsync's answer for a queued request: 202, its id and locations."""
        headers = {"X-Amzn-SageMaker-OutputLocation": queued.output_location}
        if queued.failure_location:
            headers["X-Amzn-SageMaker-FailureLocation"] = queued.failure_location
        return Response(
            json.dumps({"InferenceId": queued.inference_id}),
            status=202,
            mimetype="application/json",
            headers=headers,
        )

    def submit(self, endpoint: str, headers: Any, body: bytes) -> AsyncRequest:
        """Validate an InvokeEndpointAsync request and queue it."""
        described = self.hosting.endpoints.describe(endpoint)
        config = self.hosting.endpoints.config(described["EndpointConfigName"])
        if not config.async_config:
            raise validation_error(
                f"Endpoint {endpoint} is not an asynchronous endpoint: its endpoint config "
                f"{described['EndpointConfigName']} has no AsyncInferenceConfig. Use "
                "InvokeEndpoint, or an endpoint config with AsyncInferenceConfig."
            )
        output = config.async_config.get("OutputConfig") or {}
        if not output.get("S3OutputPath"):
            raise validation_error(
                f"Endpoint {endpoint}'s AsyncInferenceConfig.OutputConfig has no S3OutputPath."
            )
        location = headers.get("X-Amzn-SageMaker-InputLocation")
        if location and body:
            raise validation_error("Body and InputLocation are mutually exclusive: give one.")
        if not location and not body:
            raise validation_error("Give InputLocation (an S3 URI) or an inline Body.")
        if location and (len(location) > 1024 or not INPUT_LOCATION.match(location)):
            raise validation_error(
                f"InputLocation {location!r} must be an s3:// or https:// URI of at most "
                "1024 characters."
            )
        if body and len(body) > MAX_INLINE_BODY:
            raise validation_error(
                f"Body is {len(body)} bytes; an inline Body is at most {MAX_INLINE_BODY} bytes "
                "(use InputLocation for larger inputs)."
            )
        inference_id = headers.get("X-Amzn-SageMaker-Inference-Id") or str(uuid.uuid4())
        if len(inference_id) > 64 or not INFERENCE_ID.match(inference_id):
            raise validation_error(
                f"InferenceId {inference_id!r} must be 1-64 printable characters, not starting "
                "with a space."
            )
        attributes = headers.get("X-Amzn-SageMaker-Custom-Attributes")
        if attributes is not None and (len(attributes) > 1024 or not attributes.isascii()):
            raise validation_error("CustomAttributes must be at most 1024 ASCII characters.")
        ttl = _bounded(headers, "RequestTTLSeconds", DEFAULT_REQUEST_TTL_S, 60, 21_600)
        timeout = _bounded(headers, "InvocationTimeoutSeconds", DEFAULT_TIMEOUT_S, 1, 3600)
        extension = headers.get("X-Amzn-SageMaker-S3OutputPathExtension")
        if extension is not None and (len(extension) > 512 or not EXTENSION.match(extension)):
            raise validation_error(
                f"S3OutputPathExtension {extension!r} must be 1-512 characters of "
                "a-z A-Z 0-9 ! _ . * ' ( ) / - and not a URI."
            )
        filename = headers.get("X-Amzn-SageMaker-Filename")
        if filename is not None and (len(filename) > 32 or not FILENAME.match(filename)):
            raise validation_error(
                f"Filename {filename!r} must be 1-32 characters (letters, digits, - _ .), "
                "starting with a letter or digit, with at most one dot."
            )

        def where(path: str, default_name: str) -> str:
            parts = [path.rstrip("/")]
            if extension:
                parts.append(extension.strip("/"))
            parts.append(filename or default_name)
            return "/".join(parts)

        failure_path = output.get("S3FailurePath")
        queued = AsyncRequest(
            endpoint=endpoint,
            inference_id=inference_id,
            input_location=location,
            body=None if location else body,
            headers=Headers(
                {
                    name: value
                    for name, value in (
                        ("Content-Type", headers.get("X-Amzn-SageMaker-Content-Type")),
                        ("Accept", headers.get("X-Amzn-SageMaker-Accept")),
                        ("X-Amzn-SageMaker-Custom-Attributes", attributes),
                        ("X-Amzn-SageMaker-Inference-Id", inference_id),
                    )
                    if value
                }
            ),
            output_location=where(output["S3OutputPath"], f"{inference_id}.out"),
            failure_location=where(failure_path, f"{inference_id}-error.out")
            if failure_path
            else None,
            output=output,
            ttl_s=ttl,
            timeout_s=timeout,
        )
        with self._changed:
            queue = self._queues.setdefault(endpoint, EndpointQueue())
            queue.waiting.append(queued)
            self._submitted += 1
            self._changed.notify_all()
        return queued

    def close(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
            dropped = sum(len(q.waiting) for q in self._queues.values())
        self._dispatcher.join(timeout=5)
        self._sampler.join(timeout=5)
        if dropped:
            log.warning("stopped with %d asynchronous requests still queued", dropped)

    # -----------------------------------------------------------------------------------------
    # The queues
    # -----------------------------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            with self._changed:
                seen = self._submitted
                endpoints = [e for e, q in self._queues.items() if q.waiting or q.running]
            for endpoint in endpoints:
                try:
                    self._dispatch(endpoint)
                except Exception:
                    log.exception("dispatching the async queue of %s failed", endpoint)
            with self._changed:
                busy = any(q.waiting or q.running for q in self._queues.values())
                if self._submitted == seen:  # else a request came in meanwhile: no wait
                    self._changed.wait(timeout=IDLE_POLL_S / 4 if busy else IDLE_POLL_S)

    def _dispatch(self, endpoint: str) -> None:
        with self._changed:
            queue = self._queues[endpoint]
            now = time.monotonic()
            for running in list(queue.running):
                assert running.started_at is not None
                if now - running.started_at > running.timeout_s:
                    queue.running.remove(running)
                    self._expire(running, "timeout")
            for waiting in list(queue.waiting):
                if now - waiting.received_at > waiting.ttl_s:
                    queue.waiting.remove(waiting)
                    self._expire(waiting, "ttl")
            if not queue.waiting:
                return
            stale = now - queue.checked_at >= IDLE_POLL_S
        if stale:
            self._refresh_capacity(endpoint, queue)
        with self._changed:
            while queue.waiting and len(queue.running) < queue.capacity:
                started = queue.waiting.popleft()
                started.started_at = time.monotonic()
                queue.running.append(started)
                threading.Thread(
                    target=self._run, args=(queue, started), name="hosting-async-run", daemon=True
                ).start()

    def _refresh_capacity(self, endpoint: str, queue: EndpointQueue) -> bool:
        """Read the endpoint's instance count; False when the endpoint cannot be read."""
        found = True
        try:
            described = self.hosting.endpoints.describe(endpoint)
            config = self.hosting.endpoints.config(described["EndpointConfigName"])
        except (HostingError, ClientError, BotoCoreError) as exc:
            log.warning("async queue of %s: cannot read the endpoint (%s)", endpoint, exc)
            instances, per_instance, found = 0, 0, False
        else:
            instances = sum(
                int(v.get("CurrentInstanceCount") or 0) for v in described["ProductionVariants"]
            )
            client = (config.async_config or {}).get("ClientConfig") or {}
            per_instance = int(
                client.get("MaxConcurrentInvocationsPerInstance") or DEFAULT_MAX_CONCURRENT
            )
        with self._changed:
            queue.instances = instances
            queue.capacity = instances * per_instance
            queue.checked_at = time.monotonic()
        return found

    def _run(self, queue: EndpointQueue, job: AsyncRequest) -> None:
        try:
            body = job.body if job.body is not None else self._read_input(job)
            answer, headers = self.hosting.invoke(job.endpoint, body, job.headers, queued=True)
        except _InputError as exc:
            self._finish(queue, job, None, None, f"ClientError: {exc}", str(exc).encode())
        except HostingError as exc:
            original = exc.fields.get("OriginalMessage")
            self._finish(
                queue, job, None, None, f"ClientError: {exc}", (original or str(exc)).encode()
            )
        except Exception as exc:
            log.exception("async request %s of %s failed", job.inference_id, job.endpoint)
            self._finish(queue, job, None, None, f"InternalFailure: {exc}", str(exc).encode())
        else:
            self._finish(queue, job, answer, headers.get("Content-Type"), None, b"")

    def _read_input(self, job: AsyncRequest) -> bytes:
        assert job.input_location is not None
        bucket, _, key = job.input_location.split("://", 1)[1].partition("/")
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            code = exc.response["Error"].get("Code", "Error")
            raise _InputError(
                f"Could not read the input {job.input_location}: {code} "
                f"({exc.response['Error'].get('Message', '')})."
            ) from None

    def _finish(
        self,
        queue: EndpointQueue,
        job: AsyncRequest,
        answer: bytes | None,
        content_type: str | None,
        failure: str | None,
        failure_body: bytes,
    ) -> None:
        with self._changed:
            if job.done:  # timed out meanwhile: its answer is dropped, as SageMaker's is
                return
            job.done = True
            if job in queue.running:
                queue.running.remove(job)
            self._changed.notify_all()
        if failure is None:
            assert answer is not None
            self._put(job, job.output_location, answer, content_type)
            self._notify(job, "Completed", None, answer, content_type)
        else:
            log.info("async request %s of %s failed: %s", job.inference_id, job.endpoint, failure)
            if job.failure_location:
                self._put(job, job.failure_location, failure_body, "text/plain")
            self._notify(job, "Failed", failure, failure_body, "text/plain")

    def _expire(self, job: AsyncRequest, why: str) -> None:
        """Fail a request past RequestTTLSeconds (queued) or InvocationTimeoutSeconds (running);
        called with the lock held, the writes happen on their own thread."""
        job.done = True
        age = time.monotonic() - job.received_at
        if why == "ttl":
            reason = (
                f"Request expired: it waited {age:.0f} s in the queue, more than its "
                f"RequestTTLSeconds ({job.ttl_s} s)."
            )
        else:
            reason = (
                f"Request timed out: the model did not answer within its "
                f"InvocationTimeoutSeconds ({job.timeout_s} s)."
            )

        def write() -> None:
            log.info("async request %s of %s: %s", job.inference_id, job.endpoint, reason)
            if job.failure_location:
                self._put(job, job.failure_location, reason.encode(), "text/plain")
            self._notify(job, "Failed", f"ClientError: {reason}", reason.encode(), "text/plain")

        threading.Thread(target=write, name="hosting-async-expire", daemon=True).start()

    def _put(self, job: AsyncRequest, uri: str, body: bytes, content_type: str | None) -> None:
        bucket, _, key = uri.split("://", 1)[1].partition("/")
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        if job.output.get("KmsKeyId"):
            extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=job.output["KmsKeyId"])
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
        except ClientError:
            log.exception("writing %s failed", uri)

    def _notify(
        self,
        job: AsyncRequest,
        status: str,
        failure: str | None,
        body: bytes,
        content_type: str | None,
    ) -> None:
        notification = job.output.get("NotificationConfig") or {}
        topic = notification.get("SuccessTopic" if failure is None else "ErrorTopic")
        if not topic:
            return
        parameters: dict[str, Any] = {"endpointName": job.endpoint}
        for name, header in (("accept", "Accept"), ("contentType", "Content-Type")):
            if job.headers.get(header):
                parameters[name] = job.headers[header]
        if job.input_location:
            parameters["inputLocation"] = job.input_location
        message: dict[str, Any] = {
            "awsRegion": self.region,
            "eventTime": _timestamp(datetime.now(UTC)),
            "receivedTime": _timestamp(job.received),
            "invocationStatus": status,
        }
        if failure is not None:
            message["failureReason"] = failure
        message["requestParameters"] = parameters
        response: dict[str, Any] = {"contentType": content_type or ""}
        if failure is None:
            response["outputLocation"] = job.output_location
        elif job.failure_location:
            response["failureLocation"] = job.failure_location
        message["responseParameters"] = response
        included = notification.get("IncludeInferenceResponseIn") or []
        wanted = "SUCCESS_NOTIFICATION_TOPIC" if failure is None else "ERROR_NOTIFICATION_TOPIC"
        if wanted in included and len(body) <= MAX_NOTIFIED_RESPONSE:
            message["responseBody"] = {
                "content": base64.b64encode(body).decode(),
                "message": failure or "",
                "encoding": "BASE64",
            }
        message.update(
            inferenceId=job.inference_id,
            eventVersion="1.0",
            eventSource="aws:sagemaker",
            eventName="InferenceResult",
        )
        try:
            self.sns.publish(TopicArn=topic, Message=json.dumps(message))
        except ClientError:
            log.exception("notifying %s of async request %s failed", topic, job.inference_id)

    # -----------------------------------------------------------------------------------------
    # Metrics
    # -----------------------------------------------------------------------------------------
    def _sample_loop(self) -> None:
        interval = max(0.05, self.hosting.flush_interval_s / 2)
        while not self._stop.wait(interval):
            with self._changed:
                endpoints = list(self._queues)
            for endpoint in endpoints:
                try:
                    self.sample(endpoint)
                except Exception:
                    log.exception("sampling the async metrics of %s failed", endpoint)

    def sample(self, endpoint: str) -> None:
        """One sample of the endpoint's backlog metrics (published on the hosting's flush)."""
        queue = self._queues[endpoint]
        found = self._refresh_capacity(endpoint, queue)
        with self._changed:
            pending = list(queue.waiting) + list(queue.running)
            instances = queue.instances
            if not found and not pending:  # a deleted endpoint: stop reporting it
                del self._queues[endpoint]
                return
        now = time.monotonic()
        backlog = len(pending)
        oldest = max((now - r.received_at for r in pending), default=0.0)
        observe = self.hosting.metrics.observe
        observe(endpoint, "", "ApproximateBacklogSize", backlog, "Count")
        observe(
            endpoint,
            "",
            "ApproximateBacklogSizePerInstance",
            backlog / instances if instances else backlog,
            "Count",
        )
        observe(endpoint, "", "ApproximateAgeOfOldestRequest", oldest, "Seconds")
        observe(
            endpoint,
            "",
            "HasBacklogWithoutCapacity",
            1 if backlog and not instances else 0,
            "Count",
        )


class _InputError(Exception):
    """The request's input object could not be read."""


def _bounded(headers: Any, name: str, default: int, low: int, high: int) -> int:
    raw = headers.get(f"X-Amzn-SageMaker-{name}")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_error(f"{name} must be an integer, not {raw!r}.") from None
    if not low <= value <= high:
        raise validation_error(f"{name} must be between {low} and {high} seconds, not {value}.")
    return value


def _timestamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

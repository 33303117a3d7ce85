"""Lambda functions run as local processes, driven by the Lambda, S3 and SNS APIs.

moto keeps functions (their zip bytes, configuration, concurrency, event-invoke config and, with
localaws' shim, DeadLetterConfig) but runs none of them without Docker. This service hooks moto
where a function is invoked and runs it:

    LambdaSimpleBackend.invoke       moto's no-Docker stub (echoes the payload) → the function's
                                     own `invoke` again: the Invoke API, Step Functions' Lambda
                                     tasks, EventBridge targets moto delivers
    LambdaFunction.invoke            by X-Amz-Invocation-Type: RequestResponse runs now and
                                     answers the handler's result (an error: AWS's error payload,
                                     X-Amz-Function-Error: Unhandled; LogType=Tail: the last 4 KB
                                     of the log in X-Amz-Log-Result); Event queues it (202);
                                     DryRun runs nothing (204). moto's own callers that name no
                                     type (Kinesis, DynamoDB streams, SQS mappings) run now
    LambdaResponse.invoke_async      the legacy InvokeAsync API: queued, 202
    s3.notifications._invoke_awslambda
                                     S3 bucket notifications (moto matched the prefix/suffix
                                     filters): queued, with the event completed to AWS's format
    sns Subscription.publish         protocol lambda: queued, with AWS's SNS event for Lambda

Python runtimes only (python3.x): every function runs on the emulator's own interpreter,
whatever minor version its Runtime names; any other runtime (or an Image package) fails the
invocation with an error that says so. Each invocation — each retry too — is a fresh process
(`lambda_bootstrap.py`, cwd the function's zip unpacked once per code SHA-256): a cold start
every time, so each gets its own log stream `YYYY/MM/DD/[$LATEST]<32 hex>` in
`/aws/lambda/<name>`, framed with START/END/REPORT (Duration, Billed Duration, Memory Size, Max
Memory Used: the process's peak RSS, Init Duration) as a new execution environment's is. The
function's Timeout kills its process group (`Task timed out after N.00 seconds`); its memory
size is reported, not enforced. Reserved concurrency is: an invocation past it is throttled
(429 TooManyRequestsException, or an asynchronous event waits and tries again).

Asynchronous events wait in a queue served by a few worker threads (LOCALAWS_LAMBDA_WORKERS,
default 4). A failed one (error or timeout) is tried again 1 minute, then 2 minutes later (the
function's event-invoke config MaximumRetryAttempts and MaximumEventAgeInSeconds are honoured),
on the runtime's clock, so a test that advances it sees the retries at once; then it goes to
the DeadLetterConfig target (SQS SendMessage or SNS Publish of the event itself, with the
RequestID, ErrorCode and ErrorMessage attributes AWS adds). AWS/Lambda metrics (Invocations,
Errors, Duration, Throttles, DeadLetterErrors by FunctionName) are put to the emulator's
CloudWatch in batches, at the runtime clock's time.

Not run here: layers (not mounted), destinations (OnSuccess/OnFailure), provisioned concurrency,
container images, and other runtimes than Python.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import heapq
import io
import itertools
import json
import logging
import math
import os
import re
import shutil
import signal
import sys
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote, unquote_plus

import moto.s3.notifications as s3_notifications
from botocore.exceptions import BotoCoreError, ClientError
from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.awslambda.utils import get_backend
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.s3.models import s3_backends
from moto.sns.models import Subscription
from moto.utilities.aws_headers import amz_crc32
from moto.utilities.utils import get_partition

from localaws.runtime import Context, SettingError
from localaws.runtime.hooks import Hooks
from localaws.runtime.processes import base_env

log = logging.getLogger("localaws.runtime.lambda")

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
WORKERS_VAR = "LOCALAWS_LAMBDA_WORKERS"
DEFAULT_WORKERS = 4
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
RETRY_DELAYS_S = (60.0, 120.0)  # AWS: about 1 minute before the 2nd attempt, 2 before the 3rd
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_EVENT_AGE_S = 6 * 3600
THROTTLE_BACKOFF_S = (1.0, 300.0)  # a throttled event waits 1 s, doubling up to 5 minutes
INIT_LIMIT_S = 10.0  # AWS's limit on the init phase; the function's timeout starts after it
TAIL_BYTES = 4096
DLQ_MESSAGE_BYTES = 1024  # AWS truncates the ErrorMessage attribute to 1 KB
METRICS_FLUSH_S = 1.0
PYTHON_RUNTIME = re.compile(r"^python3\.\d+$")
# How AWS names the signal that ended a runtime ("Runtime exited with error: signal: killed")
SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
}


class TooManyRequests(LambdaClientError):
    """A synchronous invocation past the function's reserved concurrency (AWS's 429)."""

    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps(
            {
                "__type": self.error_type,
                "message": self.message,
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            }
        )


class LambdaServiceError(LambdaClientError):
    """The embedded Lambda itself failed (AWS's ServiceException, 500); the cause is logged."""

    code = 500

    def __init__(self) -> None:
        super().__init__("ServiceException", "The Lambda service encountered an internal error.")


def workers_setting(environ: dict[str, str] | None = None) -> int:
    raw = (os.environ if environ is None else environ).get(WORKERS_VAR, "")
    if not raw:
        return DEFAULT_WORKERS
    try:
        workers = int(raw)
    except ValueError:
        workers = 0
    if not 1 <= workers <= 64:
        raise SettingError(f"{WORKERS_VAR}={raw!r}: must be a whole number from 1 to 64")
    return workers


def header(headers: Any, name: str) -> str | None:
    """A request header, whatever its case (moto passes werkzeug headers or plain dicts)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def event_payload(body: Any) -> bytes:
    """The invocation's payload as JSON bytes (`{}` when empty); not JSON → AWS's 400."""
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:  # moto's own callers may hand over a parsed document
        raw = json.dumps(body).encode("utf-8")
    if not raw.strip():
        return b"{}"
    try:
        json.loads(raw)
    except ValueError as exc:
        raise LambdaClientError(
            "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        ) from None
    return raw


def iso_millis(moment: datetime) -> str:
    """AWS's timestamps in events and log lines: 2024-01-31T12:00:00.000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def log_stream_name(now: datetime, version: str) -> str:
    return f"{now:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int | None,
    init_ms: float | None,
    timed_out: bool,
) -> str:
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {math.ceil(duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
    ]
    if max_memory_mb is not None:
        fields.append(f"Max Memory Used: {max_memory_mb} MB")
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if timed_out:
        fields.append("Status: timeout")
    return "\t".join(fields) + "\t"


def log_tail(lines: deque[str]) -> str:
    """The last 4 KB of an invocation's log, base64-encoded (X-Amz-Log-Result)."""
    text = "\n".join(lines) + "\n"
    return base64.b64encode(text.encode("utf-8")[-TAIL_BYTES:]).decode("ascii")


def s3_event_key(key: str) -> str:
    """A key as S3 writes it into an event: URL-encoded with `+` for spaces, `/` kept."""
    return quote_plus(key, safe="/")


def peak_rss_mb(pid: int) -> int | None:
    """A running process's peak resident memory (VmHWM), in MB rounded up."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return math.ceil(int(line.split()[1]) / 1024)
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass
class Outcome:
    """One invocation's answer: the result or AWS's error payload, and its log's tail."""

    payload: bytes
    error: dict[str, Any] | None
    tail: str


@dataclass
class AsyncEvent:
    """An event in the asynchronous queue; its request ID stays the same across retries."""

    account_id: str
    region: str
    function_name: str
    qualifier: str | None
    payload: bytes
    received_at: float  # runtime clock
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0
    throttles: int = 0


class AsyncQueue:
    """Events ready to run (first in, first out) and events waiting for their time on the
    runtime's clock (retries, throttled events)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._ready: deque[AsyncEvent] = deque()
        self._waiting: list[tuple[float, int, AsyncEvent]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()

    def put(self, event: AsyncEvent, delay_s: float = 0.0) -> None:
        with self._changed:
            if delay_s <= 0:
                self._ready.append(event)
            else:
                due = self.ctx.clock.time() + delay_s
                heapq.heappush(self._waiting, (due, next(self._order), event))
            self._changed.notify()

    def take(self, wait_s: float = 0.2) -> AsyncEvent | None:
        """The next event whose time has come, or None after `wait_s`."""
        deadline = time.monotonic() + wait_s
        with self._changed:
            while True:
                if self._waiting and self._waiting[0][0] <= self.ctx.clock.time():
                    return heapq.heappop(self._waiting)[2]
                if self._ready:
                    return self._ready.popleft()
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def __len__(self) -> int:
        with self._changed:
            return len(self._ready) + len(self._waiting)


class LambdaRuntime:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.workers = workers_setting()
        self.code_root = ctx.work_dir / "lambda" / "code"
        self.results_root = ctx.work_dir / "lambda" / "invocations"
        self.queue = AsyncQueue(ctx)
        self._hooks = Hooks()
        self._threads: list[threading.Thread] = []
        self._unpack_lock = threading.Lock()
        self._concurrency: dict[str, int] = {}
        self._concurrency_lock = threading.Lock()
        self._running: set[int] = set()
        self._running_lock = threading.Lock()
        self._metrics: list[dict[str, Any]] = []
        self._metrics_lock = threading.Lock()
        self._sequencer = itertools.count(time.time_ns())

    # ---------------------------------------------------------------------------------------
    # Service
    # ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self.code_root.mkdir(parents=True, exist_ok=True)
        self.results_root.mkdir(parents=True, exist_ok=True)
        runtime = self

        def function_invoke(
            fn: LambdaFunction, body: Any, request_headers: Any, response_headers: Any
        ) -> bytes:
            return runtime.invoke(fn, body, request_headers, response_headers)

        @amz_crc32
        def invoke_async(response: LambdaResponse) -> tuple[int, dict[str, Any], str]:
            index = -3 if response.path.endswith("/") else -2
            name = unquote(response.path.rsplit("/", 3)[index])
            fn = response.backend.get_function(name, None)
            fn.invoke(response.body, {"X-Amz-Invocation-Type": "Event"}, {})
            return 202, {"status": 202, "Content-Length": "0"}, ""

        def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region: str) -> None:
            runtime.s3_notification(account_id, event_body, fn_arn, region)

        def publish(
            subscription: Subscription, message: str, message_id: str, *args: Any, **kwargs: Any
        ) -> None:
            if subscription.protocol != "lambda":
                return original_publish(subscription, message, message_id, *args, **kwargs)
            return runtime.sns_notification(subscription, message, message_id, *args, **kwargs)

        self._hooks.install(LambdaSimpleBackend, "invoke", LambdaBackend.invoke)
        self._hooks.install(LambdaFunction, "invoke", function_invoke)
        self._hooks.install(LambdaResponse, "invoke_async", invoke_async)
        self._hooks.install(s3_notifications, "_invoke_awslambda", invoke_awslambda)
        original_publish = self._hooks.install(Subscription, "publish", publish)

        for index in range(self.workers):
            self._thread(self._work, f"lambda-async-{index}")
        self._thread(self._flush_metrics_loop, "lambda-metrics")

    def stop(self) -> None:
        self.ctx.stopping.set()
        with self._running_lock:
            running = list(self._running)
        for pid in running:
            self.ctx.processes.send_signal(pid, signal.SIGKILL)
        for thread in self._threads:
            thread.join(timeout=10)
        self._hooks.restore()
        self._flush_metrics()

    def _thread(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # ---------------------------------------------------------------------------------------
    # Invocation types
    # ---------------------------------------------------------------------------------------
    def invoke(
        self, fn: LambdaFunction, body: Any, request_headers: Any, response_headers: Any
    ) -> bytes:
        """`LambdaFunction.invoke`: what the invocation type asks for; the answer's body."""
        invocation_type = header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type not in INVOCATION_TYPES:
            raise LambdaClientError(
                "InvalidParameterValueException",
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' "
                f"failed to satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(INVOCATION_TYPES)}]",
            )
        payload = event_payload(body)
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            self.enqueue(fn, payload)
            return b""
        client_context = self._client_context(header(request_headers, "X-Amz-Client-Context"))
        if not self._acquire(fn):
            self._metric(fn, "Throttles", 1, "Count")
            raise TooManyRequests()
        try:
            outcome = self.execute(fn, payload, str(uuid.uuid4()), client_context)
        except Exception:
            log.exception("lambda: invoking %s failed", fn.function_name)
            raise LambdaServiceError() from None
        finally:
            self._release(fn)
        response_headers["x-amz-executed-version"] = str(fn.version)
        response_headers["x-amz-log-result"] = outcome.tail
        if outcome.error is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
        return outcome.payload

    def enqueue(self, fn: LambdaFunction, payload: bytes) -> AsyncEvent:
        version = str(fn.version)
        event = AsyncEvent(
            account_id=fn.account_id,
            region=fn.region,
            function_name=fn.function_name,
            qualifier=None if version == "$LATEST" else version,
            payload=payload,
            received_at=self.ctx.clock.time(),
        )
        self.queue.put(event)
        return event

    @staticmethod
    def _client_context(raw: str | None) -> dict[str, Any] | None:
        if not raw:
            return None
        try:
            context = json.loads(base64.b64decode(raw))
        except (ValueError, binascii.Error):
            raise LambdaClientError(
                "InvalidRequestContentException",
                "Client context must be a base64-encoded JSON object",
            ) from None
        return context if isinstance(context, dict) else None

    # ---------------------------------------------------------------------------------------
    # Event sources: S3 notifications and SNS subscriptions
    # ---------------------------------------------------------------------------------------
    def s3_notification(self, account_id: str, event_body: Any, fn_arn: str, region: str) -> None:
        """moto's S3 → Lambda delivery: asynchronous, with the event as AWS writes it."""
        try:
            fn = get_backend(account_id, region).get_function(fn_arn)
        except Exception as exc:  # on AWS the configuration names an existing function
            log.warning("lambda: S3 notification for %s dropped: %s", fn_arn, exc)
            return
        try:
            event = self.complete_s3_event(account_id, event_body)
            self.enqueue(fn, json.dumps(event).encode("utf-8"))
        except Exception:
            log.exception("lambda: S3 notification for %s failed", fn_arn)

    def complete_s3_event(self, account_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """moto's S3 event with what AWS's has and moto's lacks or gets wrong: the key encoded
        with `/` kept, the event time on the runtime's clock, the requester and request IDs,
        the bucket owner, the object's sequencer and (in a versioned bucket) versionId."""
        for record in event.get("Records", []):
            s3 = record["s3"]
            bucket_name = s3["bucket"]["name"]
            obj = s3["object"]
            key_name = unquote_plus(obj["key"])
            record["eventTime"] = iso_millis(self.ctx.clock.now())
            record["userIdentity"] = {"principalId": f"AWS:{account_id}"}
            record["requestParameters"] = {"sourceIPAddress": "127.0.0.1"}
            record["responseElements"] = {
                "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                "x-amz-id-2": base64.b64encode(os.urandom(48)).decode("ascii"),
            }
            s3["bucket"]["ownerIdentity"] = {"principalId": account_id}
            obj["key"] = s3_event_key(key_name)
            obj["sequencer"] = f"{next(self._sequencer):018X}"
            if str(record.get("eventName", "")).startswith("ObjectRemoved"):
                obj.pop("size", None)
                obj.pop("eTag", None)
            version_id = self._object_version(account_id, record, bucket_name, key_name)
            if version_id:
                obj["versionId"] = version_id
        return event

    @staticmethod
    def _object_version(
        account_id: str, record: dict[str, Any], bucket_name: str, key_name: str
    ) -> str | None:
        backend = s3_backends[account_id][get_partition(record.get("awsRegion") or "us-east-1")]
        bucket = backend.buckets.get(bucket_name)
        if bucket is None or not bucket.is_versioned:
            return None
        versions = bucket.keys.getlist(key_name, [])
        return versions[-1].version_id if versions else None

    def sns_notification(
        self,
        subscription: Subscription,
        message: str,
        message_id: str,
        subject: str | None = None,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        message_structure: str | None = None,
    ) -> None:
        """SNS → Lambda: the subscription's filter policy and message structure applied as
        moto does, then one asynchronous invocation with AWS's SNS event."""
        matcher = subscription._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return
        if message_structure == "json":
            message = subscription._parse_message_structure(message, subscription.protocol)
        try:
            parts = subscription.endpoint.split(":")
            qualifier = parts[7] if len(parts) == 8 else None
            fn = get_backend(subscription.account_id, parts[3]).get_function(parts[6], qualifier)
        except Exception as exc:
            log.warning("lambda: SNS delivery to %s dropped: %s", subscription.endpoint, exc)
            return
        try:
            post = subscription.get_post_data(message, message_id, subject, message_attributes)
            region = subscription.topic.arn.split(":")[3]
            event = {
                "Records": [
                    {
                        "EventVersion": "1.0",
                        "EventSubscriptionArn": subscription.arn,
                        "EventSource": "aws:sns",
                        "Sns": {
                            "Type": "Notification",
                            "MessageId": message_id,
                            "TopicArn": subscription.topic.arn,
                            "Subject": subject or None,
                            "Message": message,
                            "Timestamp": post["Timestamp"],
                            "SignatureVersion": post["SignatureVersion"],
                            "Signature": post["Signature"],
                            "SigningCertUrl": post["SigningCertURL"],
                            "UnsubscribeUrl": (
                                f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                                f"&SubscriptionArn={subscription.arn}"
                            ),
                            "MessageAttributes": message_attributes or {},
                        },
                    }
                ]
            }
            self.enqueue(fn, json.dumps(event).encode("utf-8"))
        except Exception:
            log.exception("lambda: SNS delivery to %s failed", subscription.endpoint)

    # ---------------------------------------------------------------------------------------
    # Asynchronous queue: workers, retries, dead-letter queue
    # ---------------------------------------------------------------------------------------
    def _work(self) -> None:
        while not self.ctx.stopping.is_set():
            event = self.queue.take()
            if event is None or self.ctx.stopping.is_set():
                continue
            try:
                self._run_async(event)
            except Exception:
                log.exception("lambda: asynchronous event %s failed", event.request_id)

    def _run_async(self, event: AsyncEvent) -> None:
        try:
            fn = get_backend(event.account_id, event.region).get_function(
                event.function_name, event.qualifier
            )
        except Exception as exc:
            log.warning(
                "lambda: event %s for %s dropped: %s", event.request_id, event.function_name, exc
            )
            return
        max_retries, max_age_s = self._retry_settings(fn)
        age_s = self.ctx.clock.time() - event.received_at
        if age_s > max_age_s:
            self._dead_letter(fn, event, 200, "Event expired: older than MaximumEventAgeInSeconds")
            return
        if not self._acquire(fn):
            self._metric(fn, "Throttles", 1, "Count")
            delay = min(THROTTLE_BACKOFF_S[0] * 2**event.throttles, THROTTLE_BACKOFF_S[1])
            event.throttles += 1
            if age_s + delay > max_age_s:
                self._dead_letter(fn, event, 429, "Rate Exceeded.")
            else:
                self.queue.put(event, delay)
            return
        try:
            outcome = self.execute(fn, event.payload, event.request_id, None)
        finally:
            self._release(fn)
        if outcome.error is None or self.ctx.stopping.is_set():
            return
        age_s = self.ctx.clock.time() - event.received_at
        event.attempts += 1
        retries_done = event.attempts - 1
        if retries_done < max_retries:
            delay = RETRY_DELAYS_S[min(retries_done, len(RETRY_DELAYS_S) - 1)]
            if age_s + delay <= max_age_s:
                self.queue.put(event, delay)
                return
        self._dead_letter(fn, event, 200, str(outcome.error.get("errorMessage", "")))

    @staticmethod
    def _retry_settings(fn: LambdaFunction) -> tuple[int, float]:
        """MaximumRetryAttempts and MaximumEventAgeInSeconds from PutFunctionEventInvokeConfig."""
        config = fn.event_invoke_config[0].config if fn.event_invoke_config else {}
        retries = config.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES)
        max_age = config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_S)
        return int(retries), float(max_age)

    def _dead_letter(self, fn: LambdaFunction, event: AsyncEvent, code: int, message: str) -> None:
        """The event, unchanged, to the function's DeadLetterConfig target (or discarded)."""
        target = (getattr(fn, "dead_letter_config", None) or {}).get("TargetArn")
        if not target:
            log.info(
                "lambda: event %s for %s discarded after %d attempt(s): %s",
                event.request_id,
                fn.function_name,
                event.attempts,
                message,
            )
            return
        truncated = message.encode("utf-8")[:DLQ_MESSAGE_BYTES].decode("utf-8", errors="ignore")
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": str(code)},
            "ErrorMessage": {"DataType": "String", "StringValue": truncated or " "},
        }
        body = event.payload.decode("utf-8", errors="replace")
        parts = target.split(":")
        try:
            if parts[2] == "sqs":
                sqs = self.ctx.client("sqs")
                url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
                sqs.send_message(
                    QueueUrl=url["QueueUrl"], MessageBody=body, MessageAttributes=attributes
                )
            elif parts[2] == "sns":
                self.ctx.client("sns").publish(
                    TopicArn=target, Message=body, MessageAttributes=attributes
                )
            else:
                raise ValueError(
                    f"DeadLetterConfig.TargetArn {target} is no SQS queue or SNS topic"
                )
        except (ClientError, BotoCoreError, ValueError, IndexError) as exc:
            log.warning("lambda: event %s could not go to %s: %s", event.request_id, target, exc)
            self._metric(fn, "DeadLetterErrors", 1, "Count")
            return
        log.info("lambda: event %s for %s sent to %s", event.request_id, fn.function_name, target)

    # ---------------------------------------------------------------------------------------
    # Concurrency
    # ---------------------------------------------------------------------------------------
    def _acquire(self, fn: LambdaFunction) -> bool:
        """One more running invocation of `fn`, unless its reserved concurrency is reached."""
        reserved = fn.reserved_concurrency
        key = f"{fn.account_id}:{fn.region}:{fn.function_name}"
        with self._concurrency_lock:
            running = self._concurrency.get(key, 0)
            if reserved is not None and running >= int(reserved):
                return False
            self._concurrency[key] = running + 1
            return True

    def _release(self, fn: LambdaFunction) -> None:
        key = f"{fn.account_id}:{fn.region}:{fn.function_name}"
        with self._concurrency_lock:
            self._concurrency[key] = max(0, self._concurrency.get(key, 1) - 1)

    # ---------------------------------------------------------------------------------------
    # Execution: one process per invocation
    # ---------------------------------------------------------------------------------------
    def execute(
        self,
        fn: LambdaFunction,
        payload: bytes,
        request_id: str,
        client_context: dict[str, Any] | None,
    ) -> Outcome:
        """Run `fn` on `payload` once, framed in its own log stream; metrics noted."""
        version = str(fn.version)
        group = f"/aws/lambda/{fn.function_name}"
        stream_name = log_stream_name(self.ctx.clock.now(), version)
        stream = self.ctx.logs.stream(group, stream_name)
        tail: deque[str] = deque()
        tail_bytes = [0]

        def emit(line: str) -> None:
            stream.write(line)
            tail.append(line)
            tail_bytes[0] += len(line) + 1
            while tail_bytes[0] > 2 * TAIL_BYTES and len(tail) > 1:
                tail_bytes[0] -= len(tail.popleft()) + 1

        emit(f"START RequestId: {request_id} Version: {version}")
        run = _Run(request_id=request_id, started=time.monotonic())
        try:
            problem = self._unrunnable(fn)
            if problem is not None:
                run.error = {
                    "errorMessage": problem[1],
                    "errorType": problem[0],
                    "requestId": request_id,
                    "stackTrace": [],
                }
                emit(f"[ERROR] {problem[0]}: {problem[1]}")
            else:
                self._run_process(fn, payload, request_id, client_context, stream_name, run, emit)
        finally:
            emit(f"END RequestId: {request_id}")
            duration_ms = run.duration_ms()
            emit(
                report_line(
                    request_id,
                    duration_ms,
                    int(fn.memory_size),
                    run.max_memory_mb,
                    run.init_ms,
                    run.timed_out,
                )
            )
            stream.close()
        self._metric(fn, "Invocations", 1, "Count")
        self._metric(fn, "Errors", 0 if run.error is None else 1, "Count")
        self._metric(fn, "Duration", duration_ms, "Milliseconds")
        if run.error is not None:
            return Outcome(json.dumps(run.error).encode("utf-8"), run.error, log_tail(tail))
        return Outcome(run.payload, None, log_tail(tail))

    @staticmethod
    def _unrunnable(fn: LambdaFunction) -> tuple[str, str] | None:
        """(errorType, errorMessage) when this function cannot run here at all."""
        if fn.package_type == "Image":
            return (
                "InvalidRuntimeException",
                "Container image functions (PackageType Image) do not run in the embedded "
                "Lambda: only zip packages with a Python runtime (python3.x) run here",
            )
        runtime = fn.run_time or ""
        if not PYTHON_RUNTIME.match(runtime):
            return (
                "InvalidRuntimeException",
                f"Runtime {runtime or '(none)'} does not run in the embedded Lambda: only "
                f"Python runtimes (python3.x) run here, on the emulator's Python "
                f"{sys.version_info.major}.{sys.version_info.minor}",
            )
        if not getattr(fn, "code_bytes", b""):
            return (
                "InvalidZipFileException",
                "The function has no code: its S3Bucket/S3Key package was not in the "
                "emulator's S3 when the function was created or updated; upload it and call "
                "UpdateFunctionCode",
            )
        return None

    def _code_dir(self, fn: LambdaFunction) -> Path:
        """The function's zip, unpacked once per code SHA-256."""
        sha = base64.b64decode(fn.code_sha_256).hex()
        target = self.code_root / sha
        with self._unpack_lock:
            if not target.is_dir():
                partial = self.code_root / f".{sha}.{uuid.uuid4().hex}"
                try:
                    with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
                        archive.extractall(partial)
                    partial.rename(target)
                finally:
                    shutil.rmtree(partial, ignore_errors=True)
        return target

    def _run_process(
        self,
        fn: LambdaFunction,
        payload: bytes,
        request_id: str,
        client_context: dict[str, Any] | None,
        stream_name: str,
        run: _Run,
        emit: Any,
    ) -> None:
        try:
            code_dir = self._code_dir(fn)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            message = f"Lambda could not unzip the deployment package: {exc}"
            run.error = {
                "errorMessage": message,
                "errorType": "InvalidZipFileException",
                "requestId": request_id,
                "stackTrace": [],
            }
            emit(f"[ERROR] InvalidZipFileException: {message}")
            return
        timeout_s = float(fn.timeout)
        marker = f"localaws-lambda-invoke-{uuid.uuid4().hex}"
        result_path = self.results_root / f"{uuid.uuid4().hex}.json"
        invocation = {
            "request_id": request_id,
            "invoked_function_arn": fn.function_arn,
            "timeout_ms": int(timeout_s * 1000),
            "marker": marker,
            "client_context": client_context,
        }
        env = self._environment(fn, code_dir, stream_name)
        invoke_started = threading.Event()
        finished = threading.Event()

        def on_line(line: str) -> None:
            if line == marker:
                run.invoke_started = time.monotonic()
                run.init_ms = (run.invoke_started - run.started) * 1000
                invoke_started.set()
            else:
                emit(line)

        def watchdog(pid: int) -> None:
            invoke_started.wait(INIT_LIMIT_S)
            if finished.is_set():
                return
            began = run.invoke_started or time.monotonic()
            if finished.wait(max(0.0, began + timeout_s - time.monotonic())):
                return
            run.max_memory_mb = peak_rss_mb(pid)
            run.timed_out = True
            self.ctx.processes.send_signal(pid, signal.SIGKILL)

        def on_start(pid: int) -> None:
            with self._running_lock:
                self._running.add(pid)
            run.pid = pid
            threading.Thread(
                target=watchdog, args=(pid,), name="lambda-timeout", daemon=True
            ).start()

        try:
            done = self.ctx.processes.run(
                [sys.executable, str(BOOTSTRAP), str(result_path), json.dumps(invocation)],
                env=env,
                cwd=code_dir,
                stdin=payload,
                on_line=on_line,
                on_start=on_start,
                timeout_s=INIT_LIMIT_S + timeout_s + 5,  # a backstop; the watchdog kills first
            )
        finally:
            finished.set()
            invoke_started.set()
            with self._running_lock:
                self._running.discard(run.pid)
        run.ended = time.monotonic()
        result = self._read_result(result_path)
        if run.timed_out or done.timed_out:
            run.timed_out = True
            message = f"Task timed out after {timeout_s:.2f} seconds"
            emit(f"{iso_millis(self.ctx.clock.now())} {request_id} {message}")
            run.error = {
                "errorMessage": f"RequestId: {request_id} Error: {message}",
                "errorType": "Sandbox.Timedout",
                "requestId": request_id,
                "stackTrace": [],
            }
            return
        if result is None:
            if done.stopped or done.exit_code is None:
                status = "signal: killed"
            elif done.exit_code < 0:
                status = f"signal: {SIGNAL_NAMES.get(-done.exit_code, f'signal {-done.exit_code}')}"
            else:
                status = f"exit status {done.exit_code}"
            message = f"RequestId: {request_id} Error: Runtime exited with error: {status}"
            emit(message)
            emit("Runtime.ExitError")
            run.error = {
                "errorMessage": message,
                "errorType": "Runtime.ExitError",
                "requestId": request_id,
                "stackTrace": [],
            }
            return
        if result.get("max_rss_kb"):
            run.max_memory_mb = math.ceil(int(result["max_rss_kb"]) / 1024)
        if result.get("duration_ms") is not None:
            run.handler_ms = float(result["duration_ms"])
        if "error" in result:
            run.error = result["error"]
        else:
            run.payload = base64.b64decode(result.get("payload_b64", ""))

    @staticmethod
    def _read_result(path: Path) -> dict[str, Any] | None:
        try:
            with path.open(encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None
        finally:
            with contextlib.suppress(OSError):
                path.unlink()

    def _environment(self, fn: LambdaFunction, code_dir: Path, stream_name: str) -> dict[str, str]:
        """The process's environment: the host's basics, the emulator's endpoint and the
        function role's credentials, the function's Environment, then the variables Lambda
        defines (those win, as AWS does not let a function set them)."""
        aws = self.ctx.aws_env(fn.role, fn.function_name)
        runtime_vars = {
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream_name,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "AWS_ACCESS_KEY_ID": aws["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": aws["AWS_SECRET_ACCESS_KEY"],
            **{k: v for k, v in aws.items() if k == "AWS_SESSION_TOKEN"},
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": fn.handler or "",
            "TZ": ":UTC",
        }
        function_vars = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
        return {**base_env(), **aws, **function_vars, **runtime_vars}

    # ---------------------------------------------------------------------------------------
    # Metrics
    # ---------------------------------------------------------------------------------------
    def _metric(self, fn: LambdaFunction, name: str, value: float, unit: str) -> None:
        with self._metrics_lock:
            self._metrics.append(
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": "FunctionName", "Value": fn.function_name}],
                    "Timestamp": self.ctx.clock.now(),
                    "Value": float(value),
                    "Unit": unit,
                }
            )

    def _flush_metrics_loop(self) -> None:
        while not self.ctx.clock.sleep(METRICS_FLUSH_S, self.ctx.stopping):
            self._flush_metrics()

    def _flush_metrics(self) -> None:
        with self._metrics_lock:
            pending, self._metrics = self._metrics, []
        for start in range(0, len(pending), 500):
            try:
                self.ctx.client("cloudwatch").put_metric_data(
                    Namespace="AWS/Lambda", MetricData=pending[start : start + 500]
                )
            except (ClientError, BotoCoreError) as exc:
                log.warning("lambda: cannot put %d metric(s): %s", len(pending), exc)


@dataclass
class _Run:
    """What one invocation's process did, as the runner learns it."""

    request_id: str
    started: float  # monotonic
    pid: int = 0
    invoke_started: float | None = None
    ended: float | None = None
    init_ms: float | None = None
    handler_ms: float | None = None
    max_memory_mb: int | None = None
    timed_out: bool = False
    error: dict[str, Any] | None = None
    payload: bytes = b"null"

    def duration_ms(self) -> float:
        """The handler's time (the invoke phase), as AWS's Duration counts it."""
        if self.handler_ms is not None:
            return self.handler_ms
        end = self.ended or time.monotonic()
        return max(0.0, (end - (self.invoke_started or self.started)) * 1000)

"""CloudTrail: the management calls made to the embedded AWS, recorded and delivered by trails.

moto keeps trails (CreateTrail, StartLogging, GetTrailStatus) and records nothing. This service
wraps the emulator's WSGI app (`middleware`): every SigV4-signed request to SageMaker, Batch, S3
(bucket-level calls only: object reads and writes are data events), Application Auto Scaling and
CloudTrail becomes a record in CloudTrail's format (eventVersion 1.09). The operation comes from
X-Amz-Target (JSON protocols) or from botocore's service model (REST protocols: method, path and
query matched against each operation's http.requestUri) — no table of operations here.

Who called: the SigV4 access key resolved as moto's GetCallerIdentity does it — an STS
AssumeRole session (AssumedRole, with sessionContext.sessionIssuer), an IAM user's key
(IAMUser), anything else the account's root (Root). The runtime signs its own calls with keys of
its own (localaws.runtime.RUNTIME_ACCESS_KEY): what AWS does inside a service (a blue/green
rollback, a replication, a metric) is no API call of the account and is not recorded; a call AWS
makes on the account's behalf through a service-linked role (Application Auto Scaling's
UpdateEndpointWeightsAndCapacities) is, as that role's session with `invokedBy`, as AWS records
it. Processes the runtime starts (Lambda functions, Batch jobs) call with their role's STS
credentials, so their calls are the role's.

requestParameters and responseElements are the request's and the answer's JSON with each key's
first letter lower-cased, as CloudTrail writes them (`EndpointName` → `endpointName`); S3's are
its path and query parameters (`bucketName`, `Host`).

Delivery, every LOCALAWS_TRAIL_DELIVERY_SECONDS (5), at stop and on
`POST /localaws/cloudtrail/flush`: to every logging trail (multi-region: every region's records;
otherwise its home region's), one gzip `{"Records": [...]}` file per region at
`<prefix>/AWSLogs/<account>/CloudTrail/<region>/yyyy/mm/dd/<account>_CloudTrail_<region>_
<yyyymmddThhmmZ>_<16 chars>.json.gz` in the trail's bucket (SSE-KMS with its KmsKeyId), and one
log event per record in its CloudWatchLogsLogGroupArn's group, stream
`<account>_CloudTrail_<region>`. Not here: digest files (log file validation), data events,
event selectors, SNS notifications of deliveries.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote

import botocore.session

from localaws.runtime import ON_BEHALF, RUNTIME_ACCESS_KEY, Context, seconds_setting
from localaws.runtime.logs import Logs

log = logging.getLogger("localaws.runtime.cloudtrail")

DELIVERY_VAR = "LOCALAWS_TRAIL_DELIVERY_SECONDS"
DEFAULT_DELIVERY_S = 5.0
EVENT_VERSION = "1.09"
RESPONSE_ELEMENTS_MAX = 4096  # larger responses are recorded as null, as CloudTrail trims them

# SigV4 signing name -> (botocore service, CloudTrail event source)
SERVICES = {
    "sagemaker": ("sagemaker", "sagemaker.amazonaws.com"),
    "batch": ("batch", "batch.amazonaws.com"),
    "s3": ("s3", "s3.amazonaws.com"),
    "application-autoscaling": ("application-autoscaling", "application-autoscaling.amazonaws.com"),
    "cloudtrail": ("cloudtrail", "cloudtrail.amazonaws.com"),
}
# S3's bucket-level calls that CloudTrail counts as data events, not management events.
S3_DATA_EVENTS = {"ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads"}
READ_ONLY = re.compile(r"^(Describe|List|Get|Head|Search|Lookup)")
SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Call:
    """One AWS request as the recorder saw it."""

    access_key: str
    region: str
    service: str  # SigV4 signing name
    operation: str
    parameters: dict[str, Any] | None
    source_ip: str
    user_agent: str
    status: int
    response: bytes
    request_id: str
    time: datetime


# ---------------------------------------------------------------- operations


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # keys the requestUri fixes (value or any)
    names: tuple[str, ...]  # path parameters, in order
    specificity: tuple[int, int]


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


@cache
def _routes(service: str) -> list[_Route]:
    model = _model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        names: list[str] = []
        regex = ""
        for literal, param in re.findall(r"([^{]*)(?:\{([^}]+)\})?", path):
            regex += re.escape(literal)
            if param:
                greedy = param.endswith("+")
                names.append(param.rstrip("+"))
                regex += "(.+)" if greedy else "([^/]+)"
        fixed = tuple(
            (key, value or None)
            for key, _, value in (item.partition("=") for item in query.split("&") if item)
        )
        literal_chars = len(re.sub(r"\{[^}]+\}", "", path))
        routes.append(
            _Route(
                name,
                http["method"],
                re.compile(regex.rstrip("/") + "/?$" if regex != "/" else "/$"),
                fixed,
                tuple(names),
                (len(fixed), literal_chars),
            )
        )
    return sorted(routes, key=lambda r: r.specificity, reverse=True)


def rest_operation(
    service: str, method: str, path: str, query: dict[str, str]
) -> tuple[str, dict[str, str]] | None:
    """The operation of a REST-protocol request (and its path parameters), from botocore's
    model: the most specific requestUri that method, path and query fit."""
    for route in _routes(service):
        if route.method != method:
            continue
        found = route.path.match(path)
        if found is None:
            continue
        if all(k in query and (v is None or query[k] == v) for k, v in route.query):
            return route.operation, {
                n: unquote(v) for n, v in zip(route.names, found.groups(), strict=True)
            }
    return None


def json_operation(target: str) -> str:
    return target.rpartition(".")[2]


# ---------------------------------------------------------------- identities


def identity(access_key: str, account_id: str) -> dict[str, Any]:
    """userIdentity for an access key, as moto's STS and IAM know it."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if access_key in ON_BEHALF:
        invoked_by, role_arn = ON_BEHALF[access_key]
        role_name = role_arn.rpartition("/")[2]
        return {
            "type": "AssumedRole",
            "principalId": f"AROALOCALAWS{role_name.upper()[:9]}:{invoked_by.partition('.')[0]}",
            "arn": f"arn:aws:sts::{account_id}:assumed-role/{role_name}/"
            f"{invoked_by.partition('.')[0]}",
            "accountId": account_id,
            "accessKeyId": access_key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROALOCALAWS{role_name.upper()[:9]}",
                    "arn": role_arn.format(account=account_id),
                    "accountId": account_id,
                    "userName": role_name,
                },
                "attributes": {"mfaAuthenticated": "false"},
            },
            "invokedBy": invoked_by,
        }
    sts = sts_backends[account_id]["global"]
    role_session = sts.get_assumed_role_from_access_key(access_key)
    if role_session is not None:
        role_name = role_session.role_arn.rpartition("/")[2]
        try:
            role = iam_backends[account_id]["aws"].get_role_by_arn(role_session.role_arn)
            role_id = role.id
        except Exception:  # a role moto does not know: AssumeRole accepts any ARN
            role_id = role_session.user_id.partition(":")[0]
        return {
            "type": "AssumedRole",
            "principalId": role_session.user_id,
            "arn": role_session.arn,
            "accountId": role_session.account_id,
            "accessKeyId": access_key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": role_session.role_arn,
                    "accountId": role_session.account_id,
                    "userName": role_name,
                },
                "attributes": {"mfaAuthenticated": "false"},
            },
        }
    user = iam_backends[account_id]["aws"].get_user_from_access_key_id(access_key)
    if user is not None:
        return {
            "type": "IAMUser",
            "principalId": user.id,
            "arn": user.arn,
            "accountId": user.account_id,
            "accessKeyId": access_key,
            "userName": user.name,
        }
    return {
        "type": "Root",
        "principalId": account_id,
        "arn": f"arn:aws:iam::{account_id}:root",
        "accountId": account_id,
        "accessKeyId": access_key,
    }


# ---------------------------------------------------------------- records


def build_record(call: Call, account_id: str, who: dict[str, Any]) -> dict[str, Any]:
    """A CloudTrail record ("CloudTrail record contents") of one call."""
    failed = call.status >= 400
    error_code, error_message = _error(call.response) if failed else (None, None)
    read_only = bool(READ_ONLY.match(call.operation))
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": who,
        "eventTime": _iso(call.time),
        "eventSource": SERVICES[call.service][1],
        "eventName": call.operation,
        "awsRegion": call.region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
        "requestParameters": call.parameters or None,
        "responseElements": None if failed or read_only else _response_elements(call.response),
        "requestID": call.request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if failed:
        record["errorCode"] = error_code or f"HTTP{call.status}"
        record["errorMessage"] = error_message or ""
    return record


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(body: bytes) -> tuple[str | None, str | None]:
    text = body.decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except ValueError:
        code = re.search(r"<Code>([^<]*)</Code>", text)
        message = re.search(r"<Message>([^<]*)</Message>", text)
        return (code and code.group(1)), (message and message.group(1))
    if not isinstance(document, dict):
        return None, None
    code = document.get("__type") or document.get("code") or document.get("Code")
    message = document.get("message") or document.get("Message")
    return (str(code).rpartition("#")[2] if code else None), message


def _response_elements(body: bytes) -> dict[str, Any] | None:
    if not body or len(body) > RESPONSE_ELEMENTS_MAX:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return camel(document) if isinstance(document, dict) and document else None


def camel(value: Any) -> Any:
    """`value` with every object key's first letter lower-cased, as CloudTrail writes request
    parameters and response elements (`EndpointName` → `endpointName`, `ARN` → `aRN`)."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:]): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def log_file_key(prefix: str | None, account_id: str, region: str, when: datetime) -> str:
    """Where CloudTrail puts a log file in the trail's bucket."""
    stamp = when.astimezone(UTC)
    name = (
        f"{account_id}_CloudTrail_{region}_{stamp:%Y%m%dT%H%MZ}_"
        f"{secrets.token_urlsafe(12)[:16]}.json.gz"
    )
    base = f"AWSLogs/{account_id}/CloudTrail/{region}/{stamp:%Y/%m/%d}/{name}"
    return f"{prefix.strip('/')}/{base}" if prefix else base


# ---------------------------------------------------------------- the service


class CloudTrailRuntime:
    """One recorder for every region the emulator serves."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.interval_s = seconds_setting(DELIVERY_VAR, DEFAULT_DELIVERY_S)
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._deliver_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._deliver_forever, name="cloudtrail", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)
        self.deliver()

    def routes(self, app: Any) -> None:
        from flask import jsonify

        @app.post("/localaws/cloudtrail/flush")
        def flush() -> Any:
            return jsonify({"delivered": self.deliver()})

    # -- recording

    def middleware(self, app: Callable) -> Callable:
        def recorder(environ: dict, start_response: Callable) -> Iterable[bytes]:
            found = self._classify(environ)
            if found is None:
                return app(environ, start_response)
            access_key, region, service, operation, path_params = found
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            status: list[int] = []
            headers: list[tuple[str, str]] = []

            def capture(status_line: str, response_headers: list, exc_info: Any = None) -> Any:
                status.append(int(status_line.split()[0]))
                headers.extend(response_headers)
                return start_response(status_line, response_headers, exc_info)

            result = app(environ, capture)
            try:
                response = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            try:
                self._record(
                    environ,
                    access_key,
                    region,
                    service,
                    operation,
                    path_params,
                    body,
                    status[0] if status else 500,
                    headers,
                    response,
                )
            except Exception:
                log.exception("cloudtrail: recording %s %s failed", service, operation)
            return [response]

        return recorder

    def _classify(self, environ: dict) -> tuple[str, str, str, str, dict[str, str]] | None:
        scope = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return None
        access_key, region, service = scope.groups()
        if service not in SERVICES or access_key == RUNTIME_ACCESS_KEY:
            return None
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return access_key, region, service, json_operation(target), {}
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        path = environ.get("PATH_INFO", "/") or "/"
        found = rest_operation(SERVICES[service][0], environ["REQUEST_METHOD"], path, query)
        if found is None:
            return None
        operation, path_params = found
        if service == "s3" and ("Key" in path_params or operation in S3_DATA_EVENTS):
            return None
        return access_key, region, service, operation, {**path_params, **query}

    def _record(
        self,
        environ: dict,
        access_key: str,
        region: str,
        service: str,
        operation: str,
        path_params: dict[str, str],
        body: bytes,
        status: int,
        headers: list[tuple[str, str]],
        response: bytes,
    ) -> None:
        parameters: dict[str, Any] = dict(path_params)
        if body and service != "s3":
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            if isinstance(document, dict):
                parameters.update(camel(document))
        if service == "s3":
            parameters = {("bucketName" if k == "Bucket" else k): v for k, v in parameters.items()}
            parameters["Host"] = environ.get("HTTP_HOST", "")
        request_id = next(
            (v for k, v in headers if k.lower() in ("x-amzn-requestid", "x-amz-request-id")),
            str(uuid.uuid4()),
        )
        call = Call(
            access_key=access_key,
            region=region,
            service=service,
            operation=operation,
            parameters=parameters,
            source_ip=environ.get("REMOTE_ADDR", ""),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
            status=status,
            response=response,
            request_id=request_id,
            time=datetime.now(UTC),
        )
        record = build_record(call, self.ctx.account_id, identity(access_key, self.ctx.account_id))
        with self._lock:
            self._pending.append(record)

    # -- delivery

    def _deliver_forever(self) -> None:
        while not self.ctx.stopping.wait(self.interval_s):
            try:
                self.deliver()
            except Exception:
                log.exception("cloudtrail: delivery failed")

    def deliver(self) -> int:
        """Deliver the records so far to every logging trail; the number of files written."""
        with self._deliver_lock:
            with self._lock:
                records, self._pending = self._pending, []
            if not records:
                return 0
            written = 0
            for trail in self._logging_trails():
                wanted = [
                    r
                    for r in records
                    if trail.is_multi_region or r["awsRegion"] == trail.region_name
                ]
                by_region: dict[str, list[dict[str, Any]]] = {}
                for record in wanted:
                    by_region.setdefault(record["awsRegion"], []).append(record)
                for region, batch in sorted(by_region.items()):
                    try:
                        self._write_file(trail, region, batch)
                        written += 1
                    except Exception as exc:
                        log.warning(
                            "cloudtrail: %s: cannot write to s3://%s: %s",
                            trail.trail_name,
                            trail.bucket_name,
                            exc,
                        )
                    if trail.cw_log_group_arn:
                        self._write_logs(trail, region, batch)
                trail.status.latest_delivery_time = int(datetime.now(UTC).timestamp())
            return written

    def _logging_trails(self) -> list[Any]:
        from moto.cloudtrail.models import cloudtrail_backends

        trails = []
        for region, backend in list(cloudtrail_backends[self.ctx.account_id].items()):
            for trail in list(backend.trails.values()):
                if trail.status.is_logging and trail.region_name == region:
                    trails.append(trail)
        return trails

    def _write_file(self, trail: Any, region: str, records: list[dict[str, Any]]) -> None:
        key = log_file_key(trail.s3_key_prefix, self.ctx.account_id, region, datetime.now(UTC))
        body = gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)
        extra: dict[str, str] = {}
        if trail.kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": trail.kms_key_id}
        self.ctx.client("s3", region=trail.region_name).put_object(
            Bucket=trail.bucket_name,
            Key=key,
            Body=body,
            ContentType="application/json",
            ContentEncoding="gzip",
            **extra,
        )

    def _write_logs(self, trail: Any, region: str, records: list[dict[str, Any]]) -> None:
        # arn:aws:logs:<region>:<account>:log-group:<name>:*
        parts = trail.cw_log_group_arn.split(":")
        if len(parts) < 7:
            log.warning(
                "cloudtrail: %s: bad CloudWatchLogsLogGroupArn %s",
                trail.trail_name,
                trail.cw_log_group_arn,
            )
            return
        group_region, group = parts[3], parts[6]
        stream = Logs(self.ctx.client("logs", region=group_region)).stream(
            group, f"{self.ctx.account_id}_CloudTrail_{region}", create_group=False
        )
        for record in records:
            stream.write(json.dumps(record))
        stream.flush()

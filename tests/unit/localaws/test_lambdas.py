"""The embedded Lambda's pure parts: payloads, headers, report lines, log tails, S3 event keys,
the asynchronous queue on an advanceable clock, and the bootstrap's handler loading and errors."""

from __future__ import annotations

import base64
import json
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from moto.awslambda.exceptions import LambdaClientError

from localaws.runtime import SettingError, lambda_bootstrap
from localaws.runtime.clock import Clock
from localaws.runtime.lambdas import (
    TAIL_BYTES,
    AsyncEvent,
    AsyncQueue,
    event_payload,
    header,
    log_tail,
    report_line,
    s3_event_key,
    workers_setting,
)


def test_an_empty_payload_is_an_empty_event_and_bad_json_is_awss_400():
    assert event_payload(None) == b"{}"
    assert event_payload("  ") == b"{}"
    assert event_payload('{"a": 1}') == b'{"a": 1}'
    with pytest.raises(LambdaClientError) as raised:
        event_payload(b"{not json")
    assert raised.value.error_type == "InvalidRequestContentException"
    assert "Could not parse request body into json" in raised.value.message


def test_headers_are_found_whatever_their_case():
    assert header({"x-amz-invocation-type": "Event"}, "X-Amz-Invocation-Type") == "Event"
    assert header({}, "X-Amz-Invocation-Type") is None
    assert header(None, "X-Amz-Log-Type") is None


def test_the_report_line_has_awss_fields_tab_separated():
    line = report_line("r-1", 12.341, 256, 40, 201.5, timed_out=False)
    assert line == (
        "REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 40 MB\tInit Duration: 201.50 ms\t"
    )
    assert report_line("r-2", 1000.0, 128, None, None, timed_out=True).endswith(
        "Memory Size: 128 MB\tStatus: timeout\t"
    )


def test_the_log_tail_is_the_last_4_kb_base64_encoded():
    lines = [f"line {i:05d} " + "x" * 90 for i in range(200)]
    tail = base64.b64decode(log_tail(lines))
    assert len(tail) == TAIL_BYTES
    assert tail.endswith(lines[-1].encode() + b"\n")


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("input/sample.csv", "input/sample.csv"),
        ("input/my file (1).csv", "input/my+file+%281%29.csv"),
        ("year=2024/a+b.csv", "year%3D2024/a%2Bb.csv"),
    ],
)
def test_s3_event_keys_are_url_encoded_with_their_slashes_kept(key, encoded):
    assert s3_event_key(key) == encoded


def test_the_workers_setting_is_checked():
    assert workers_setting({}) == 4
    assert workers_setting({"LOCALAWS_LAMBDA_WORKERS": "2"}) == 2
    for bad in ("0", "many", "65"):
        with pytest.raises(SettingError, match="LOCALAWS_LAMBDA_WORKERS"):
            workers_setting({"LOCALAWS_LAMBDA_WORKERS": bad})


def event(name: str) -> AsyncEvent:
    return AsyncEvent("123456789012", "us-east-1", name, None, b"{}", received_at=0.0)


def test_the_queue_holds_a_delayed_event_until_the_clock_reaches_it():
    clock = Clock()
    queue = AsyncQueue(SimpleNamespace(clock=clock, stopping=threading.Event()))
    queue.put(event("later"), delay_s=60)
    queue.put(event("now"))

    assert queue.take(0).function_name == "now"
    assert queue.take(0) is None
    clock.advance(61)
    assert queue.take(0).function_name == "later"
    assert len(queue) == 0


# -------------------------------------------------------------------------------------------------
# The bootstrap
# -------------------------------------------------------------------------------------------------
@pytest.fixture
def task_root(tmp_path: Path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("lambda_unit_")]:
        del sys.modules[name]


def test_the_bootstrap_loads_a_dotted_handler(task_root):
    (task_root / "lambda_unit_pkg").mkdir()
    (task_root / "lambda_unit_pkg" / "__init__.py").write_text("")
    (task_root / "lambda_unit_pkg" / "app.py").write_text("def go(event, context):\n    return 1\n")
    assert lambda_bootstrap.load_handler("lambda_unit_pkg.app.go")({}, None) == 1


@pytest.mark.parametrize(
    ("handler", "source", "error_type", "message"),
    [
        ("nohandler", None, "Runtime.MalformedHandlerName", "Bad handler 'nohandler'"),
        ("lambda_unit_missing.go", None, "Runtime.ImportModuleError", "Unable to import module"),
        ("lambda_unit_a.absent", "x = 1\n", "Runtime.HandlerNotFound", "Handler 'absent' missing"),
        ("lambda_unit_b.go", "def go(:\n", "Runtime.UserCodeSyntaxError", "Syntax error in module"),
        ("sys.go", None, "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys"),
    ],
)
def test_a_handler_that_cannot_load_is_awss_fault(task_root, handler, source, error_type, message):
    if source is not None:
        (task_root / f"{handler.split('.')[0]}.py").write_text(source)
    with pytest.raises(lambda_bootstrap.Fault) as raised:
        lambda_bootstrap.load_handler(handler)
    assert raised.value.error_type == error_type
    assert raised.value.message.startswith(message)


def test_an_exception_is_awss_error_without_the_bootstraps_frames():
    def handler():
        raise KeyError("missing")

    try:
        handler()
    except KeyError as exc:
        error = lambda_bootstrap.error_from_exception(exc, "r-1")
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'missing'"
    assert error["requestId"] == "r-1"
    assert "in handler" in error["stackTrace"][-1]


def test_results_marshal_as_awss_runtime_does():
    from decimal import Decimal

    assert json.loads(lambda_bootstrap.marshal({"n": Decimal("2"), "x": Decimal("1.5")})) == {
        "n": 2,
        "x": 1.5,
    }
    assert lambda_bootstrap.marshal(b"raw") == b"raw"
    with pytest.raises(lambda_bootstrap.Fault) as raised:
        lambda_bootstrap.marshal({"s": {1, 2}})
    assert raised.value.error_type == "Runtime.MarshalError"

"""The Lambda Python runtime for one invocation, as the embedded Lambda runs it (stdlib only).

    python lambda_bootstrap.py RESULT_PATH INVOCATION_JSON    (cwd and LAMBDA_TASK_ROOT: the
                                                               unpacked package; event on stdin)

It does what AWS's Python runtime (awslambdaric) does for one event: puts the task root first
on sys.path, imports the `_HANDLER` ("package.module.function"), prints the invocation's marker
line (init is over: the function's timeout starts now), reads the event from stdin, calls the
handler with a context like AWS's and writes the JSON result — or the error in AWS's format
(`errorMessage`, `errorType`, `requestId`, `stackTrace`) — to RESULT_PATH. Its stdout and
stderr are the function's log: the root logger writes AWS's
`[LEVEL]\\t<time>Z\\t<request id>\\t<message>` lines, and a multi-line record or error is one log
event (its lines joined by `\\r`, as AWS's runtime does).

It is started by path, not with `-m localaws.runtime...`: importing that package would load
boto3 and the emulator's modules into the function's process before its own code, shadowing a
boto3 (or any module) the function's zip brings. For the same reason the project's own packages
(installed editable into the emulator's venv) are hidden: a function sees its zip, the standard
library and the interpreter's site-packages, as on AWS it sees its zip and the runtime's boto3.
"""

from __future__ import annotations

import base64
import decimal
import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback
import types
from typing import Any

ERROR_LINE_JOIN = "\r"  # AWS's runtime keeps a multi-line error one log event this way
ERROR_INDENT = "\u00a0"  # ... and indents its stack lines with no-break spaces

_request_id = ""


class Fault(Exception):
    """A failure of the runtime's own contract (handler name, import, (un)marshalling)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class LambdaContext:
    """The handler's `context`, with the attributes and method AWS's Python runtime gives it."""

    def __init__(self, invocation: dict[str, Any], deadline_ms: int) -> None:
        self.aws_request_id = invocation["request_id"]
        self.invoked_function_arn = invocation["invoked_function_arn"]
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = types.SimpleNamespace(
            cognito_identity_id=None, cognito_identity_pool_id=None
        )
        client_context = invocation.get("client_context")
        self.client_context = (
            None
            if client_context is None
            else types.SimpleNamespace(
                custom=client_context.get("custom"),
                env=client_context.get("env"),
                client=client_context.get("client"),
            )
        )
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


class _OneEventFormatter(logging.Formatter):
    """AWS's text log format; a record's own newlines become `\\r` so it stays one event."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", ERROR_LINE_JOIN)


def _isolate_imports(task_root: str) -> None:
    """Task root first; this file's directory and the project's editable packages gone."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [task_root] + [
        p for p in sys.path if p and os.path.abspath(p) not in (here, task_root)
    ]
    sys.meta_path[:] = [
        finder
        for finder in sys.meta_path
        if not getattr(finder, "__module__", "").startswith("__editable__")
    ]
    sys.path_hooks[:] = [
        hook
        for hook in sys.path_hooks
        if not getattr(hook, "__module__", "").startswith("__editable__")
    ]
    sys.path_importer_cache.clear()


def _setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        _OneEventFormatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def load_handler(name: str) -> Any:
    """The function `name` ("package.module.function") names, or a Fault saying why not."""
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{name}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}'],
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None


def make_error(
    message: str, error_type: str, stack_trace: list[str], request_id: str
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def error_from_exception(exc: BaseException, request_id: str) -> dict[str, Any]:
    """AWS's error for an exception the function raised: its class, message and the frames
    from the function's code on (this bootstrap's own frames left out)."""
    frames = traceback.extract_tb(exc.__traceback__)
    this_file = os.path.abspath(__file__)
    while frames and os.path.abspath(frames[0].filename) == this_file:
        frames.pop(0)
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def log_error(error: dict[str, Any]) -> None:
    """The `[ERROR] Type: message` + traceback event AWS's runtime logs for a failure."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    lines.append("Traceback (most recent call last):")
    for element in error["stackTrace"]:
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append(ERROR_INDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(ERROR_LINE_JOIN.join(lines) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):  # AWS's marshaller writes Decimals as numbers
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(response: Any) -> bytes:
    if isinstance(response, bytes):
        return response
    try:
        return json.dumps(response, default=_json_default).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


def _max_rss_kb() -> int:
    """This process's peak resident memory. VmHWM, not ru_maxrss: the latter keeps the peak of
    the (large) emulator process this one was forked from before it exec'd."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def _write_result(path: str, result: dict[str, Any]) -> None:
    result["max_rss_kb"] = _max_rss_kb()
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(result, out)
    os.replace(tmp, path)


def run(result_path: str, invocation: dict[str, Any]) -> None:
    global _request_id
    _setup_logging()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, "")
        log_error(error)
        _write_result(result_path, {"error": error, "phase": "init"})
        return
    except Exception as exc:  # the module raised while it was imported
        error = error_from_exception(exc, "")
        log_error(error)
        _write_result(result_path, {"error": error, "phase": "init"})
        return

    print(invocation["marker"], flush=True)
    started = time.monotonic()
    deadline_ms = int(time.time() * 1000) + int(invocation["timeout_ms"])
    request_id = invocation["request_id"]
    _request_id = request_id
    try:
        raw = sys.stdin.buffer.read()
        try:
            event = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None
        payload = marshal(handler(event, LambdaContext(invocation, deadline_ms)))
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:
        error = error_from_exception(exc, request_id)
    else:
        error = None
    duration_ms = (time.monotonic() - started) * 1000
    if error is None:
        result = {"payload_b64": base64.b64encode(payload).decode("ascii")}
    else:
        log_error(error)
        result = {"error": error, "phase": "invoke"}
    result["duration_ms"] = duration_ms
    _write_result(result_path, result)


def main() -> None:
    if len(sys.argv) != 3:
        sys.stderr.write("usage: lambda_bootstrap.py RESULT_PATH INVOCATION_JSON\n")
        os._exit(2)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    _isolate_imports(task_root)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    run(sys.argv[1], json.loads(sys.argv[2]))
    sys.stdout.flush()
    sys.stderr.flush()
    # The invocation is over when the handler returns: threads or atexit hooks the function
    # left behind do not keep it running (on AWS the environment is frozen here).
    os._exit(0)


if __name__ == "__main__":
    main()

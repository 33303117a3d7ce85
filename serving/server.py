"""The BYO inference server: SageMaker's container contract on gunicorn.

    serve            # what SageMaker runs: `docker run <image> serve`

- GET /ping → 200 once the model is loaded (it is loaded before workers fork).
- POST /invocations → serving.inference.invoke: any framework's model (serving.frameworks), the
  content types and answers of SageMaker's XGBoost container (serving.codecs, serving.outputs).
- GET /execution-parameters → what Batch Transform asks a container for (MaxConcurrentTransforms
  = workers, BatchStrategy MULTI_RECORD, MaxPayloadInMB).
- The container's knobs: SAGEMAKER_INFERENCE_OUTPUT, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT,
  SAGEMAKER_BATCH, SAGEMAKER_MAX_PAYLOAD_IN_MB / MAX_CONTENT_LENGTH (serving.inference.Options);
  a bad value stops the server at start with a message naming the variable.
- Port: SAGEMAKER_BIND_TO_PORT (default 8080). Address: BYO_BIND_HOST (default 127.0.0.1; the
  container image sets 0.0.0.0, as SageMaker requires).
- Workers: SAGEMAKER_MODEL_SERVER_WORKERS (default one per CPU); request timeout:
  SAGEMAKER_MODEL_SERVER_TIMEOUT seconds (default 60). Model: SM_MODEL_DIR or /opt/ml/model.
- BYO_ACCESS_LOG: a file (or "-" for stdout) to write one line per request to, led by the pid of
  the worker that answered it (default: no access log).

Why gunicorn: a pre-fork server that loads the model once and shares it copy-on-write across
worker processes, so CPU-bound predictions run in parallel without the GIL; gthread workers keep
SageMaker's connections alive, and close a busy connection about once a second so that the
clients' connections spread over the workers (BalancingWorker). The application is a plain WSGI
callable.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from concurrent import futures
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http.body import LengthReader
from gunicorn.workers.gthread import _DEFER, ThreadWorker
from werkzeug.utils import get_content_type

from serving.inference import (
    ConfigurationError,
    InferenceError,
    Options,
    default_threads,
    execution_parameters,
    invoke,
    load_model,
)
from serving.predictor import ArtifactError, Predictor

log = logging.getLogger("serving")


def create_app(model: Predictor, options: Options | None = None, workers: int = 1) -> Any:
    """The WSGI application: three routes, no web framework (Flask's request and response
    machinery took a third of a small request's time). Content types are written as Flask wrote
    them (werkzeug's get_content_type: `; charset=utf-8` on text/*)."""
    options = options or Options()
    parameters = json.dumps(execution_parameters(workers, options)).encode()

    def invocations(environ: dict[str, Any]) -> tuple[str, bytes, str | None]:
        try:
            answer = invoke(
                model,
                request_body(environ["wsgi.input"]),
                environ.get("CONTENT_TYPE"),
                environ.get("HTTP_ACCEPT"),
                options,
            )
        except InferenceError as exc:
            return _status(exc.status), f"{exc}\n".encode(), "text/plain"
        except Exception:  # never a traceback to the client; the log keeps it
            log.exception("invocation failed")
            return _status(500), b"internal error while predicting\n", "text/plain"
        if answer.status == 204:
            return _status(204), b"", None
        return _status(answer.status), answer.body, answer.content_type

    routes = {
        ("GET", "/ping"): lambda environ: ("200 OK", b"", "text/html"),
        ("POST", "/invocations"): invocations,
        ("GET", "/execution-parameters"): lambda environ: (
            "200 OK",
            parameters,
            "application/json",
        ),
    }
    paths = {path for _, path in routes}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        route = routes.get(("GET" if method == "HEAD" else method, path))
        if route is not None:
            status, body, mimetype = route(environ)
        elif path in paths:
            status, body, mimetype = _status(405), b"method not allowed\n", "text/plain"
        else:
            status, body, mimetype = _status(404), b"not found\n", "text/plain"
        headers = [("Content-Length", str(len(body)))]
        if mimetype is not None:
            headers.append(("Content-Type", get_content_type(mimetype, "utf-8")))
        if method == "HEAD":
            body = b""
        start_response(status, headers)
        return [body]

    return app


def request_body(stream: Any) -> bytes:
    """The whole body of a request. gunicorn's wsgi.input reads 1 KiB at a time, copying what it
    holds buffered at each step (0.76 ms for a 1,000-row, 274 KB CSV body); its reader of a
    Content-Length body, asked for the whole length, reads it in socket-sized pieces (0.2 ms).
    Anything else (chunked, partly read) is read by wsgi.input itself."""
    reader = getattr(stream, "reader", None)
    if isinstance(reader, LengthReader) and not stream.buf.tell():
        return reader.read(reader.length)
    return stream.read()


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def exit_worker(server: object, worker: object) -> None:
    """gunicorn's worker_exit hook, in the worker, once it has stopped serving: leave at once.
    A worker forked with an onnxruntime session loaded in the master hangs in the interpreter's
    normal exit (its thread pool's locks were copied mid-use by fork), and would outlive the
    server as an orphan; the worker holds nothing to flush but the log."""
    logging.shutdown()
    os._exit(0)


class BalancingWorker(ThreadWorker):
    """gunicorn's gthread worker, but a busy keep-alive connection does not stay with one worker
    for good: the first answer after it has been open CONNECTION_SECONDS and carried
    CONNECTION_REQUESTS requests says `Connection: close`, and the client reconnects.

    A connection stays with the worker that accepted it, so clients that open their connections
    at once (a pool of 8, say) can leave one of two workers with all of them, and one core idle,
    for as long as they reuse them. A reconnect goes to a worker that is free to accept it, so
    the connections spread within about CONNECTION_SECONDS. The request count keeps a connection
    that carries few requests (where balance does not matter) alive however old it is."""

    # Set by main(): whether requests may run in the worker's main thread (see enqueue_req).
    inline = True

    def enqueue_req(self, conn: Any) -> None:
        """A request is handled here, in the worker's one thread, not handed to a thread pool
        and back: with one thread per worker the pool's handoffs (submit, a wake-up pipe, the
        poller again) were a third of a small request's time (GET /ping at concurrency 1: 0.13
        of 0.35 ms), and a worker that is busy does not accept, so a new connection goes to one
        that is free. A new connection with nothing to read yet waits in the poller, never in
        this thread.

        Not when the model predicts with several threads per worker (fewer workers than CPUs):
        the model was loaded before the fork, with OpenMP's thread team made in the master, and
        libgomp's next parallel region in the forked main thread waits for that team's threads,
        which the fork did not copy (a new thread starts a team of its own). Then gunicorn's
        thread pool runs the requests, as it did before."""
        if not self.inline:
            super().enqueue_req(conn)
            return
        if not conn.initialized and not conn.data_ready and not conn.wait_for_data(0):
            result = _DEFER
        else:
            result = self.handle(conn)
        done: futures.Future = futures.Future()
        done.set_result(result)
        self.finish_request(conn, done)

    def handle_request(self, req: Any, conn: Any) -> bool:
        now = time.monotonic()
        opened = getattr(conn, "opened", None)
        if opened is None:
            conn.opened = now
        elif now - opened >= CONNECTION_SECONDS and req.req_number >= CONNECTION_REQUESTS:
            req.force_close()
        return super().handle_request(req, conn)

    def murder_keepalived(self) -> None:
        """Once the worker is stopping (SIGTERM), its idle keep-alive connections close at once:
        nothing is in flight on them, and gunicorn's graceful stop waited for their clients
        (keepalive, 75 s) until graceful_timeout ran out, so every stop took 30 s. A request in
        flight still finishes within graceful_timeout."""
        if not self.alive:
            for conn in self.keepalived_conns:
                conn.timeout = 0.0  # expired: closed by gunicorn's own sweep below
        super().murder_keepalived()

    def murder_pending(self) -> None:
        """The same for a stopping worker's accepted connections that have sent nothing yet."""
        if not self.alive:
            for conn in self.pending_conns:
                conn.timeout = 0.0
        super().murder_pending()


CONNECTION_SECONDS = 1.0
CONNECTION_REQUESTS = 8


# One access log line per request when BYO_ACCESS_LOG names a file ("-": stdout); the worker's
# pid leads, to see how requests spread over the workers.
ACCESS_LOG_FORMAT = '%(p)s %(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)sus'


def settings(env: dict[str, str] | None = None) -> dict[str, object]:
    env = os.environ if env is None else env
    workers = int(env.get("SAGEMAKER_MODEL_SERVER_WORKERS") or os.cpu_count() or 1)
    return {
        "bind": f"{env.get('BYO_BIND_HOST', '127.0.0.1')}:"
        f"{env.get('SAGEMAKER_BIND_TO_PORT', '8080')}",
        "workers": workers,
        "timeout": int(env.get("SAGEMAKER_MODEL_SERVER_TIMEOUT") or 60),
        "model_dir": Path(env.get("SM_MODEL_DIR", "/opt/ml/model")),
        "access_log": env.get("BYO_ACCESS_LOG") or None,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in ("serve",):
        print(f"usage: serve  (got {' '.join(args)!r}; training is not supported)", file=sys.stderr)
        return 2
    config = settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        options = Options.from_env()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        # SM_MODEL_DIR is the configured model location: what SageMaker extracted from the
        # model's own ModelDataUrl, so its pickles may be unpickled (README, security).
        threads = default_threads(config["workers"])
        model = load_model(config["model_dir"], threads=threads)
    except (ArtifactError, FileNotFoundError, OSError) as exc:
        print(f"error: cannot load the model: {exc}", file=sys.stderr)
        return 1
    signature = model.signature
    log.info(
        "model loaded from %s: %s %s (%s), %s features",
        config["model_dir"],
        signature.framework,
        signature.framework_version,
        signature.objective,
        signature.num_features if signature.num_features is not None else "any number of",
    )
    app = create_app(model, options, workers=config["workers"])
    BalancingWorker.inline = threads == 1

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", config["bind"])
            self.cfg.set("workers", config["workers"])
            self.cfg.set("worker_class", BalancingWorker)
            self.cfg.set("threads", 1)
            self.cfg.set("timeout", config["timeout"])
            self.cfg.set("keepalive", 75)  # longer than SageMaker's idle connection timeout
            self.cfg.set("accesslog", config["access_log"])
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            # No admin socket: several servers may run side by side (tests, benchmarks).
            self.cfg.set("control_socket_disable", True)
            self.cfg.set("worker_exit", exit_worker)

        def load(self) -> Any:
            return app

    Server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

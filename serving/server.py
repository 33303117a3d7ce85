"""The BYO inference server: SageMaker's container contract on gunicorn.

    serve            # what SageMaker runs: `docker run <image> serve`

- GET /ping → 200 once the model is loaded (it is loaded before workers fork).
- POST /invocations → serving.inference.invoke (text/csv, application/json, application/jsonlines).
- Port: SAGEMAKER_BIND_TO_PORT (default 8080). Address: BYO_BIND_HOST (default 127.0.0.1; the
  container image sets 0.0.0.0, as SageMaker requires).
- Workers: SAGEMAKER_MODEL_SERVER_WORKERS (default one per CPU); request timeout:
  SAGEMAKER_MODEL_SERVER_TIMEOUT seconds (default 60). Model: SM_MODEL_DIR or /opt/ml/model.

Why gunicorn: a pre-fork server that loads the model once and shares it copy-on-write across
worker processes, so CPU-bound predictions run in parallel without the GIL; gthread workers keep
SageMaker's connections alive. Flask is the thin routing layer on top.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from flask import Flask, Response, request

from serving.inference import InferenceError, Model, default_threads, invoke, load_model

log = logging.getLogger("serving")


def create_app(model: Model) -> Flask:
    app = Flask("serving")

    @app.get("/ping")
    def ping() -> Response:
        return Response(status=200)

    @app.post("/invocations")
    def invocations() -> Response:
        try:
            answer = invoke(
                model,
                request.get_data(cache=False),
                request.headers.get("Content-Type"),
                request.headers.get("Accept"),
            )
        except InferenceError as exc:
            return Response(f"{exc}\n", status=exc.status, mimetype="text/plain")
        except Exception:  # never a traceback to the client; the log keeps it
            log.exception("invocation failed")
            return Response("internal error while predicting\n", status=500, mimetype="text/plain")
        return Response(answer.body, status=200, mimetype=answer.content_type)

    return app


def settings(env: dict[str, str] | None = None) -> dict[str, object]:
    env = os.environ if env is None else env
    workers = int(env.get("SAGEMAKER_MODEL_SERVER_WORKERS") or os.cpu_count() or 1)
    return {
        "bind": f"{env.get('BYO_BIND_HOST', '127.0.0.1')}:"
        f"{env.get('SAGEMAKER_BIND_TO_PORT', '8080')}",
        "workers": workers,
        "timeout": int(env.get("SAGEMAKER_MODEL_SERVER_TIMEOUT") or 60),
        "model_dir": Path(env.get("SM_MODEL_DIR", "/opt/ml/model")),
    }


def main(argv: list[str] | None = None) -> int:
    from gunicorn.app.base import BaseApplication

    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in ("serve",):
        print(f"usage: serve  (got {' '.join(args)!r}; training is not supported)", file=sys.stderr)
        return 2
    config = settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        model = load_model(config["model_dir"], threads=default_threads(config["workers"]))
    except (FileNotFoundError, ValueError, OSError) as exc:
        print(f"error: cannot load the model: {exc}", file=sys.stderr)
        return 1
    log.info("model loaded from %s (%d features)", config["model_dir"], model.num_features)
    app = create_app(model)

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", config["bind"])
            self.cfg.set("workers", config["workers"])
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 1)
            self.cfg.set("timeout", config["timeout"])
            self.cfg.set("keepalive", 75)  # longer than SageMaker's idle connection timeout
            self.cfg.set("accesslog", None)
            # No admin socket: several servers may run side by side (tests, benchmarks).
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return app

    Server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

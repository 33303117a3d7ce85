"""serve's WSGI application, called as gunicorn calls it: the routes, their statuses and the
content types clients read (written as Flask wrote them, `; charset=utf-8` on text/*)."""

from __future__ import annotations

import io
import json

import pytest

from serving.inference import load_model
from serving.server import create_app
from tests.helpers import models


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    built = models.xgboost_model(tmp_path_factory.mktemp("model"), "binary:logistic")
    return create_app(load_model(built.model_dir, threads=1), workers=2), built


def call(app, method: str, path: str, body: bytes = b"", **headers: str):
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = status, dict(response_headers)

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body)}
    environ.update(headers)
    out = b"".join(app(environ, start_response))
    assert int(seen["headers"]["Content-Length"]) == len(out) or method == "HEAD"
    return seen["status"], seen["headers"].get("Content-Type"), out


def test_routes_answer_as_the_container_contract_says(app):
    wsgi, built = app
    assert call(wsgi, "GET", "/ping")[:1] == ("200 OK",)
    status, kind, body = call(wsgi, "GET", "/execution-parameters")
    assert (status, kind) == ("200 OK", "application/json")
    assert json.loads(body) == {
        "MaxConcurrentTransforms": 2,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }
    rows = "".join(",".join(map(repr, row)) + "\n" for row in built.X[:3].tolist()).encode()
    status, kind, body = call(wsgi, "POST", "/invocations", rows, CONTENT_TYPE="text/csv")
    assert (status, kind) == ("200 OK", "text/csv; charset=utf-8")
    assert [float(v) for v in body.split()] == built.expected[:3].tolist()
    status, kind, body = call(
        wsgi, "POST", "/invocations", rows, CONTENT_TYPE="text/csv", HTTP_ACCEPT="application/json"
    )
    assert (status, kind) == ("200 OK", "application/json")
    assert call(wsgi, "POST", "/invocations", b"", CONTENT_TYPE="text/csv")[:2] == (
        "204 No Content",
        None,
    )


def test_errors_are_plain_text_with_their_status(app):
    wsgi, _ = app
    status, kind, body = call(wsgi, "POST", "/invocations", b"1,2\n", CONTENT_TYPE="image/png")
    assert (status, kind) == ("415 Unsupported Media Type", "text/plain; charset=utf-8")
    assert b"image/png" in body
    assert call(wsgi, "GET", "/invocations")[0] == "405 Method Not Allowed"
    assert call(wsgi, "POST", "/ping")[0] == "405 Method Not Allowed"
    assert call(wsgi, "GET", "/nowhere")[0] == "404 Not Found"
    assert call(wsgi, "HEAD", "/ping") == ("200 OK", "text/html; charset=utf-8", b"")

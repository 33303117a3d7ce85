"""The example's inference app (Flask), as SageMaker calls a container:

- GET /ping → 200 (the app exists only once the model has loaded: `serve` loads it first);
- POST /invocations, text/csv: one row of 4 numbers per line (the features in inference.json's
  order, no header) → text/csv, one species name per line;
  another Content-Type → 415; a row that is not 4 finite numbers → 400 naming its line.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from flask import Flask, Response, request

MODEL_FILE = "decision-tree-model.pkl"
METADATA_FILE = "inference.json"
CSV = "text/csv"


class BadRows(ValueError):
    """A request body that is not rows of numbers: the message names the line."""


@dataclass(frozen=True)
class Model:
    tree: object  # sklearn.tree.DecisionTreeClassifier, predicting class indexes
    features: list[str]
    classes: list[str]

    def predict(self, rows: np.ndarray) -> list[str]:
        return [self.classes[int(i)] for i in self.tree.predict(rows)]


def load(model_dir: Path) -> Model:
    """The pickle and inference.json from model.tar.gz, as SageMaker unpacks it."""
    for name in (MODEL_FILE, METADATA_FILE):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"{model_dir} has no {name} (train.py writes it)")
    metadata = json.loads((model_dir / METADATA_FILE).read_text())
    return Model(joblib.load(model_dir / MODEL_FILE), metadata["features"], metadata["classes"])


def parse_rows(body: bytes, width: int) -> np.ndarray:
    if not body.strip():
        raise BadRows(f"empty body: send one row of {width} numbers per line")
    rows = []
    for number, line in enumerate(body.removesuffix(b"\n").split(b"\n"), start=1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise BadRows(f"line {number}: not UTF-8 text") from None
        if not text:
            raise BadRows(f"line {number}: empty line")
        fields = text.split(",")
        if len(fields) != width:
            raise BadRows(f"line {number}: expected {width} values, got {len(fields)}")
        row = []
        for column, field in enumerate(fields, start=1):
            try:
                value = float(field)
            except ValueError:
                raise BadRows(
                    f"line {number}, column {column}: {field!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise BadRows(f"line {number}, column {column}: {field!r} is not finite")
            row.append(value)
        rows.append(row)
    return np.asarray(rows, dtype=np.float64)


def create_app(model: Model) -> Flask:
    app = Flask("predictor")

    @app.get("/ping")
    def ping() -> Response:
        return Response(status=200)

    @app.post("/invocations")
    def invocations() -> Response:
        kind = (request.content_type or "").split(";")[0].strip().lower()
        if kind != CSV:
            return Response(
                f"this model takes {CSV} (one row of {len(model.features)} numbers per line), "
                f"not {kind or 'a body without Content-Type'}\n",
                status=415,
                mimetype="text/plain",
            )
        try:
            rows = parse_rows(request.get_data(cache=False), len(model.features))
        except BadRows as exc:
            return Response(f"{exc}\n", status=400, mimetype="text/plain")
        answer = "".join(f"{name}\n" for name in model.predict(rows))
        return Response(answer, status=200, mimetype=CSV)

    return app

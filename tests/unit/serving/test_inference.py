"""The inference core's request path and answers (serving.inference, serving.outputs), checked
against aws/sagemaker-xgboost-container's serve.py / serve_utils.py definitions and each
framework's own predictions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from serving import outputs
from serving.codecs import BadRequest, UnsupportedMediaType, decode_recordio_labels
from serving.inference import (
    ConfigurationError,
    NotAcceptable,
    Options,
    PayloadTooLarge,
    execution_parameters,
    invoke,
    load_model,
    response_type,
)
from serving.predictor import Signature
from tests.helpers import models


def csv_body(X: np.ndarray) -> bytes:
    lines = (",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n" for r in X)
    return "".join(lines).encode()


# --- options: the container's environment ---------------------------------------------------
def test_options_default_to_the_containers_defaults():
    options = Options.from_env({})
    assert options == Options(None, "text/csv", False, 6 * 1024 * 1024)


def test_options_read_every_knob_as_the_container_does():
    options = Options.from_env(
        {
            "SAGEMAKER_INFERENCE_OUTPUT": "Predicted_Label, probabilities",
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json; charset=utf-8",
            "SAGEMAKER_BATCH": "false",  # any non-empty value: os.getenv truthiness
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": "50",
        }
    )
    assert options.selected_outputs == ("predicted_label", "probabilities")
    assert options.default_accept == "application/json"
    assert options.batch is True
    assert options.max_payload_bytes == 50 * 1024 * 1024


def test_max_content_length_is_capped_at_20_mib_as_in_the_container():
    assert Options.from_env({"MAX_CONTENT_LENGTH": str(50 * 2**20)}).max_payload_bytes == 20 * 2**20
    assert Options.from_env({"MAX_CONTENT_LENGTH": "1000"}).max_payload_bytes == 1000


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/html"}, "SAGEMAKER_DEFAULT_INVOCATIONS"),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0"}, "SAGEMAKER_MAX_PAYLOAD_IN_MB='0'"),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "101"}, "1 to 100"),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "six"}, "whole number"),
        ({"MAX_CONTENT_LENGTH": "6MB"}, "MAX_CONTENT_LENGTH='6MB'"),
    ],
)
def test_bad_settings_name_the_variable(env, named):
    with pytest.raises(ConfigurationError, match=named):
        Options.from_env(env)


def test_execution_parameters_are_what_batch_transform_asks_for():
    options = Options.from_env({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "19"})
    assert execution_parameters(4, options) == {
        "MaxConcurrentTransforms": 4,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 19,
    }


# --- Accept ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "default", "expected"),
    [
        (None, "text/csv", "text/csv"),
        ("", "application/json", "application/json"),
        ("*/*", "application/jsonlines", "application/jsonlines"),
        ("application/json;verbose=True", "text/csv", "application/json"),
        ("application/x-jsonlines", "text/csv", "application/jsonlines"),
        (
            "image/png, application/x-recordio-protobuf",
            "text/csv",
            "application/x-recordio-protobuf",
        ),
    ],
)
def test_accept_negotiation(accept, default, expected):
    assert response_type(accept, Options(default_accept=default)) == expected


@pytest.mark.parametrize("accept", ["text/libsvm", "application/xml", "text/*"])
def test_unsupported_accepts_are_406(accept):
    with pytest.raises(NotAcceptable, match="not supported"):
        response_type(accept, Options())


# --- the request -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    built = models.xgboost_model(tmp_path_factory.mktemp("m"), objective="binary:logistic")
    return built, load_model(built.model_dir)


def test_an_empty_body_is_204_before_anything_else(binary):
    _, model = binary
    answer = invoke(model, b"", "text/csv", None)
    assert (answer.status, answer.body, answer.rows) == (204, b"", 0)
    # serve.py answers 204 before it looks at the content types: none of theirs is checked.
    assert invoke(model, b"", "image/png", "application/xml").status == 204


def test_payload_limit_is_413_naming_the_limit(binary):
    _, model = binary
    with pytest.raises(PayloadTooLarge, match=r"limit is 1,048,576 \(1 MB\)"):
        invoke(model, b"1" * (2**20 + 1), "text/csv", None, Options(max_payload_bytes=2**20))


def test_unknown_content_type_is_415_and_a_short_row_400_naming_its_line(binary):
    built, model = binary
    with pytest.raises(UnsupportedMediaType):
        invoke(model, b"1,2", "image/png", None)
    body = csv_body(built.X[:3]).split(b"\n")
    body[1] = body[1].rsplit(b",", 1)[0]
    with pytest.raises(BadRequest, match="line 2: expected 6 values, got 5"):
        invoke(model, b"\n".join(body), "text/csv", None)


def test_default_answers_in_every_accept_equal_the_model(binary):
    built, model = binary
    body = csv_body(built.X)
    csv = invoke(model, body, "text/csv", None).body.decode()
    assert csv.endswith("\n")
    np.testing.assert_array_equal(np.array(csv.split(), dtype=float), built.expected)
    # str() of the float32 prediction widened to float64, as the container's tolist() writes it
    assert csv.split()[0] == str(float(np.float32(built.expected[0])))
    document = json.loads(invoke(model, body, "text/csv", "application/json").body)
    assert [p["score"] for p in document["predictions"]] == built.expected.tolist()
    lines = invoke(model, body, "text/csv", "application/jsonlines").body.decode().splitlines()
    assert [json.loads(line)["score"] for line in lines] == built.expected.tolist()
    records = decode_recordio_labels(
        invoke(model, body, "text/csv", "application/x-recordio-protobuf").body
    )
    np.testing.assert_allclose([r["score"][0] for r in records], built.expected, rtol=1e-7)


def test_batch_answers_are_one_row_per_line_and_lists_for_several_values(tmp_path):
    built = models.xgboost_model(tmp_path, objective="multi:softprob")
    model = load_model(built.model_dir)
    body = csv_body(built.X[:2])
    realtime = invoke(model, body, "text/csv", None).body.decode().splitlines()
    assert [[float(v) for v in line.split(",")] for line in realtime] == built.expected[:2].tolist()
    batch = invoke(model, body, "text/csv", None, Options(batch=True)).body.decode()
    assert batch == "".join(f"{row}\n" for row in built.expected[:2].tolist())


# --- selectable outputs: serve_utils' per-objective semantics ---------------------------------
def signature(objective: str, classes=None, num_class=None) -> Signature:
    return Signature("xgboost", objective, 2, "m", num_class=num_class, classes=classes)


KEYS = outputs.SELECTABLE_KEYS


@pytest.mark.parametrize(
    ("objective", "row", "expected"),
    [
        (
            "binary:logistic",
            0.8,
            {
                "predicted_label": 1,
                "labels": [0, 1],
                "probability": 0.8,
                "probabilities": [1 - 0.8, 0.8],
                "raw_score": 0.8,
                "raw_scores": [1 - 0.8, 0.8],
                "predicted_score": math.nan,
            },
        ),
        (
            "binary:logitraw",
            -1.5,
            {
                "predicted_label": 0,
                "labels": [0, 1],
                "probability": math.nan,
                "probabilities": math.nan,
                "raw_score": -1.5,
                "raw_scores": [2.5, -1.5],  # the container's [1 - v, v], whatever v is
                "predicted_score": math.nan,
            },
        ),
        (
            "binary:hinge",
            1.0,
            {
                "predicted_label": 1.0,
                "labels": [0, 1],
                "probability": math.nan,
                "probabilities": math.nan,
                "raw_score": 1.0,
                "raw_scores": [0.0, 1.0],
                "predicted_score": math.nan,
            },
        ),
        (
            "reg:squarederror",
            3.25,
            {
                "predicted_label": math.nan,
                "labels": math.nan,
                "probability": math.nan,
                "probabilities": math.nan,
                "raw_score": math.nan,
                "raw_scores": math.nan,
                "predicted_score": 3.25,
            },
        ),
    ],
)
def test_selected_keys_follow_the_container_for_each_objective(objective, row, expected):
    (selected,) = outputs.select(signature(objective), np.array([row]), KEYS)
    # The container's order: its valid keys in its fixed order, then the invalid ones (NaN).
    valid = outputs.valid_keys(objective)
    assert list(selected) == [k for k in KEYS if k in valid] + [k for k in KEYS if k not in valid]
    for key, value in expected.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(selected[key]), key
        else:
            assert selected[key] == pytest.approx(value), key


def test_multiclass_selected_keys_and_class_names():
    row = np.array([[0.2, 0.7, 0.1]])
    (plain,) = outputs.select(signature("multi:softprob", num_class=3), row, KEYS)
    assert plain["predicted_label"] == 1
    assert plain["labels"] == [0, 1, 2]
    assert plain["probability"] == pytest.approx(0.7)
    assert plain["probabilities"] == pytest.approx([0.2, 0.7, 0.1])
    named = signature("multi:softprob", classes=("setosa", "versicolor", "virginica"))
    (with_names,) = outputs.select(named, row, ("predicted_label", "labels"))
    assert with_names == {"predicted_label": "versicolor", "labels": list(named.classes)}
    (softmax,) = outputs.select(signature("multi:softmax", num_class=3), np.array([2.0]), KEYS)
    assert softmax["predicted_label"] == 2.0 and math.isnan(softmax["probability"])


def test_unknown_keys_are_nan_as_in_the_container(binary):
    built, model = binary
    options = Options(selected_outputs=("probability", "confidence"))
    answer = invoke(model, csv_body(built.X[:1]), "text/csv", None, options).body.decode()
    assert answer == f"{float(np.float32(built.expected[0]))},nan"


def test_selected_csv_quotes_lists_and_ends_with_a_newline_only_in_batch(binary):
    built, model = binary
    keys = ("predicted_label", "probabilities")
    body = csv_body(built.X[:2])
    realtime = invoke(model, body, "text/csv", None, Options(selected_outputs=keys)).body
    batch = invoke(model, body, "text/csv", None, Options(selected_outputs=keys, batch=True)).body
    lines = realtime.decode().split("\n")
    assert len(lines) == 2 and lines[0].startswith(('0,"[', '1,"['))
    assert batch == realtime + b"\n"


def test_a_transformer_answers_its_rows_and_has_nothing_to_select(tmp_path):
    built = models.sklearn_model(tmp_path, kind="transformer")
    model = load_model(built.model_dir)
    body = csv_body(built.X[:3])
    rows = invoke(model, body, "text/csv", None).body.decode().splitlines()
    np.testing.assert_array_equal(
        [[float(v) for v in r.split(",")] for r in rows], built.expected[:3]
    )
    instances = json.loads(invoke(model, body, "text/csv", "application/json").body)["instances"]
    assert [i["features"] for i in instances] == built.expected[:3].tolist()
    with pytest.raises(Exception, match="unset SAGEMAKER_INFERENCE_OUTPUT") as caught:
        invoke(model, body, "text/csv", None, Options(selected_outputs=("predicted_label",)))
    assert caught.value.status == 500


def test_recordio_answers_class_names_as_their_class_index(tmp_path):
    """float32 tensors cannot hold names: predicted_label is the name's index in the classes."""
    built = models.sklearn_model(tmp_path, kind="pipeline")  # classes "fraud", "legit"
    model = load_model(built.model_dir)
    assert all(isinstance(name, str) for name in model.signature.classes)
    keys = ("predicted_label", "labels")
    answer = invoke(
        model,
        csv_body(built.X),
        "text/csv",
        "application/x-recordio-protobuf",
        Options(selected_outputs=keys),
    )
    records = decode_recordio_labels(answer.body)
    winners = built.predict_proba.argmax(axis=1)
    assert {int(i) for i in winners} == {0, 1}
    assert [r["predicted_label"] for r in records] == [[float(i)] for i in winners]
    assert all(r["labels"] == [0.0, 1.0] for r in records)

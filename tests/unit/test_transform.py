"""Batch Transform's pure parts: SageMaker's JSONPath subset, mini-batches under MaxPayloadInMB,
the API's defaults and refusals, joins; and `byo transform`'s CreateTransformJob request."""

from __future__ import annotations

import pytest

from localaws.runtime.transform import (
    MIB,
    JsonPath,
    TransformError,
    answer_records,
    join_record,
    mini_batches,
    resolve,
    split_records,
)
from operators.transform import Options, job_request


def request(**fields):
    return {
        "TransformJobName": "job",
        "ModelName": "model",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
            **fields.pop("TransformInput", {}),
        },
        "TransformOutput": {"S3OutputPath": "s3://b/out", **fields.pop("TransformOutput", {})},
        **fields,
    }


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("$", [1, 2], [1, 2]),
        ("$[1:]", ["id", "a", "b"], ["a", "b"]),
        ("$[1:2]", list("abcde"), ["b", "c"]),  # AWS: the slice's end is inclusive
        ("$[:1]", list("abc"), ["a", "b"]),
        ("$[0,3:]", list("abcde"), ["a", "d", "e"]),
        ("$[-1]", list("abc"), "c"),
        ("$[0,-1]", list("abc"), ["a", "c"]),
        ("$.features", {"features": [1, 2], "id": 7}, [1, 2]),
        (
            "$['id','SageMakerOutput']",
            {"id": 1, "SageMakerOutput": 2, "x": 3},
            {"id": 1, "SageMakerOutput": 2},
        ),
        ("$.a.*", {"a": {"b": 1, "c": 2}}, [1, 2]),
    ],
)
def test_json_path_subset(path, value, expected):
    assert JsonPath.parse(path, "InputFilter").apply(value) == expected


def test_json_path_errors_name_the_field_and_the_index():
    with pytest.raises(ValueError, match="OutputFilter"):
        JsonPath.parse("id", "OutputFilter")
    with pytest.raises(ValueError, match="not a supported JSONPath"):
        JsonPath.parse("$..deep", "InputFilter")
    with pytest.raises(TransformError, match="index 5 is outside the record's 2"):
        JsonPath.parse("$[5]", "OutputFilter").apply([1, 2])


def test_defaults_are_aws_documented_ones():
    spec = resolve(request())
    assert (spec.max_payload_mb, spec.concurrency, spec.strategy) == (6, 1, "MultiRecord")
    assert (spec.compression, spec.assemble, spec.join) == ("None", "None", False)
    assert spec.input_filter.identity and spec.output_filter.identity
    assert resolve(request(TransformInput={"SplitType": None})).split == "None"
    env = resolve(request(BatchStrategy="SingleRecord", Environment={"A": "1"}))
    assert env.container_environment() == {
        "A": "1",
        "SAGEMAKER_BATCH": "true",
        "SAGEMAKER_MAX_PAYLOAD_IN_MB": "6",
        "SAGEMAKER_BATCH_STRATEGY": "SINGLE_RECORD",
        "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "1",
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"MaxPayloadInMB": 101}, "MaxPayloadInMB: 101"),
        ({"MaxPayloadInMB": 30, "MaxConcurrentTransforms": 4}, "exceeds 100 MB"),
        ({"BatchStrategy": "Lots"}, "BatchStrategy"),
        ({"Environment": {f"K{i}": "v" for i in range(17)}}, "at most 16"),
        (
            {"DataProcessing": {"JoinSource": "Input"}, "TransformOutput": {"Accept": "text/csv"}},
            "AssembleWith to be Line",
        ),
        (
            {
                "DataProcessing": {"InputFilter": "$[1:]"},
                "TransformInput": {"ContentType": "image/png"},
            },
            "TransformInput.ContentType",
        ),
        ({"TransformOutput": {"S3OutputPath": "bucket/out"}}, "S3OutputPath"),
    ],
)
def test_refusals_name_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        resolve(request(**fields))


def test_mini_batches_fill_the_payload_and_refuse_a_record_above_it():
    records = [b"x" * (MIB // 2 - 1)] * 5  # each half a MiB with its newline
    one_mb = resolve(request(MaxPayloadInMB=1))
    assert list(mini_batches(records, one_mb, "b/k")) == [(0, 2), (2, 4), (4, 5)]
    single = resolve(request(BatchStrategy="SingleRecord"))
    assert list(mini_batches(records[:3], single, "b/k")) == [(0, 1), (1, 2), (2, 3)]
    unlimited = resolve(request(MaxPayloadInMB=0))
    assert list(mini_batches(records, unlimited, "b/k")) == [(0, 5)]
    with pytest.raises(TransformError, match="b/k: Too much data for max payload size"):
        list(mini_batches([b"x" * MIB], one_mb, "b/k"))


def test_split_and_answers_and_joins():
    assert split_records(b"1,2\n\n3,4\n", "Line") == [b"1,2", b"3,4"]
    assert split_records(b"1,2\n3,4\n", "None") == [b"1,2\n3,4\n"]
    with pytest.raises(TransformError, match="RecordIO"):
        split_records(b"", "RecordIO")
    assert answer_records(b"0.1\n0.2\n", 2, "b/k") == [b"0.1", b"0.2"]
    assert answer_records(b'{"predictions": [{"score": 1}, {"score": 2}]}', 2, "b/k") == [
        b'{"score": 1}',
        b'{"score": 2}',
    ]
    with pytest.raises(TransformError, match="1 line"):
        answer_records(b"0.1\n", 2, "b/k")
    assert join_record(["id", "1"], ["0.5"], "csv") == ["id", "1", "0.5"]
    assert join_record({"key": 1}, {"label": 1}, "json") == {
        "key": 1,
        "SageMakerOutput": {"label": 1},
    }
    assert join_record([1, 2], 0.5, "json") == {"SageMakerInput": [1, 2], "SageMakerOutput": 0.5}


def test_byo_transform_request_leaves_unset_fields_to_sagemaker():
    plain = job_request("j", "m", "s3://b/in/", "s3://b/out", Options())
    assert "BatchStrategy" not in plain and "MaxPayloadInMB" not in plain
    assert "DataProcessing" not in plain
    assert plain["TransformInput"]["SplitType"] == "Line"
    joined = job_request(
        "j",
        "m",
        "s3://b/in/",
        "s3://b/out",
        Options(strategy="SingleRecord", concurrency=2, input_filter="$[1:]", join_input=True),
    )
    assert joined["BatchStrategy"] == "SingleRecord" and joined["MaxConcurrentTransforms"] == 2
    assert joined["DataProcessing"] == {"InputFilter": "$[1:]", "JoinSource": "Input"}
    resolve(joined)  # what byo sends, the embedded AWS accepts

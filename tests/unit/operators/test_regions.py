"""A multi-region stack's outputs seen one region at a time, --regions values, the image a
mirrored version serves with, and which failures send a request to the next region."""

from __future__ import annotations

import io
import json
import os

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from click.testing import CliRunner

from operators import regions
from operators.aws import Clients
from operators.cli import cli
from operators.config import Settings
from operators.errors import ConfigError
from operators.invoke import FAILED_REGION_REST_S, fails_over, send_rows
from operators.regions import Target

ACCOUNT = "123456789012"


def platform(name: str, region: str, image: str) -> dict:
    return {
        "name": name,
        "region": region,
        "account_id": ACCOUNT,
        "endpoint_name": name,
        "data_bucket": f"{name}-data-{ACCOUNT}-{region}",
        "model_package_group": f"{name}-models",
        "serving_image": image,
    }


PRIMARY_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
SECONDARY_IMAGE = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture
def outputs(tmp_path):
    path = tmp_path / "outputs.json"
    raw = {
        "primary_region": "us-east-1",
        "stack_regions": ["us-east-1", "us-west-2"],
        "regions": {
            "us-east-1": platform("byo", "us-east-1", PRIMARY_IMAGE),
            "us-west-2": platform("byo-dr", "us-west-2", SECONDARY_IMAGE),
        },
        "replication": {"prefixes": ["models/"]},
    }
    path.write_text(json.dumps({k: {"value": v} for k, v in raw.items()}))
    return path


def test_the_primary_is_the_default_view_and_region_picks_another(outputs):
    settings = Settings({}, {}, None, outputs)
    assert settings.require("endpoint_name") == "byo"
    assert settings.get("stack_regions") == ["us-east-1", "us-west-2"]
    assert settings.for_region("us-west-2").require("endpoint_name") == "byo-dr"
    assert Settings({}, {"BYO_REGION": "us-west-2"}, None, outputs).get("region") == "us-west-2"
    with pytest.raises(ConfigError, match=r"eu-west-1.*us-east-1, us-west-2"):
        _ = settings.for_region("eu-west-1").outputs


def test_a_single_region_stack_reads_as_before(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"endpoint_name": {"value": "e"}, "region": {"value": "eu-west-1"}}))
    settings = Settings({}, {}, None, path)
    assert settings.require("endpoint_name") == "e"
    assert regions.stack_regions(settings) == ["eu-west-1"]
    assert regions.select(settings, None) == ["eu-west-1"]


def test_regions_values_keep_the_stacks_order_and_refuse_strangers(outputs):
    settings = Settings({}, {}, None, outputs)
    assert regions.select(settings, "all") == ["us-east-1", "us-west-2"]
    assert regions.select(settings, "us-west-2, us-east-1") == ["us-east-1", "us-west-2"]
    assert regions.select(settings, None) == ["us-east-1"]
    for bad in ("eu-west-1", ",", "us-west-2,mars-1"):
        with pytest.raises(ConfigError, match="the stack's regions are us-east-1, us-west-2"):
            regions.select(settings, bad)


def test_a_mirrored_version_serves_with_the_regions_image(outputs):
    settings = Settings({}, {}, None, outputs)
    east, west = (
        regions.Region(n, settings.for_region(n), Clients()) for n in ("us-east-1", "us-west-2")
    )
    assert regions.regional_image(PRIMARY_IMAGE, east, west) == SECONDARY_IMAGE
    own = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/byo/serving:1.4"
    assert regions.regional_image(own, east, west) == (
        f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/byo/serving:1.4"
    )
    other = "999999999999.dkr.ecr.us-east-1.amazonaws.com/theirs:1"
    assert regions.regional_image(other, east, west) == other


def error(code: str, message: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "InvokeEndpoint",
    )


@pytest.mark.parametrize(
    ("exc", "moves"),
    [
        (error("ValidationError", "Endpoint byo of account 1 not found.", 400), True),
        (error("ServiceUnavailable", "down", 503), True),
        (error("InternalFailure", "oops", 500), True),
        (EndpointConnectionError(endpoint_url="https://runtime.sagemaker"), True),
        (error("ModelError", "the model raised", 424), False),
        (error("ValidationError", "Body must be CSV", 400), False),
    ],
)
def test_which_failures_fail_over(exc, moves):
    assert fails_over(exc) is moves


def test_regions_and_endpoint_together_are_a_usage_error(outputs):
    rows = outputs.parent / "rows.csv"
    rows.write_text("1,2\n")
    for args in (
        ["invoke", "--file", str(rows), "--regions", "all", "--endpoint", "x"],
        ["deploy", "1", "--variant", "v", "--regions", "all", "--endpoint", "x"],
    ):
        result = CliRunner().invoke(cli, ["--outputs", str(outputs), *args])
        assert result.exit_code == 2, result.output
        assert "--regions" in result.output


def test_region_option_is_for_the_command_only(outputs, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    result = CliRunner().invoke(
        cli, ["--outputs", str(outputs), "--region", "eu-west-1", "model", "list"]
    )
    assert isinstance(result.exception, ConfigError), result.output
    assert "region 'eu-west-1': the stack's regions are us-east-1, us-west-2" in str(
        result.exception
    )
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert "AWS_REGION" not in os.environ


def runtime_stub(region: str):
    runtime = boto3.client(
        "sagemaker-runtime",
        region_name=region,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    return runtime, Stubber(runtime)


def answer(variant: str) -> dict:
    return {
        "Body": StreamingBody(io.BytesIO(b"0.5"), 3),
        "ContentType": "text/csv",
        "InvokedProductionVariant": variant,
    }


def test_a_region_that_failed_over_rests_then_is_tried_first_again():
    east, east_stub = runtime_stub("us-east-1")
    west, west_stub = runtime_stub("us-west-2")
    gone = {"service_error_code": "ValidationError", "http_status_code": 400}
    east_stub.add_client_error(
        "invoke_endpoint", service_message="Endpoint byo of account 1 not found.", **gone
    )
    east_stub.add_response("invoke_endpoint", answer("variant-a"))
    for _ in range(3):
        west_stub.add_response("invoke_endpoint", answer("variant-a"))
    targets = [Target("us-east-1", "byo", east), Target("us-west-2", "byo-dr", west)]
    now, done = [0.0], [0]

    def row_done() -> None:  # rows 1-3 at t=0 (the east rests after the first), row 4 after
        done[0] += 1
        if done[0] == 3:
            now[0] = FAILED_REGION_REST_S + 1

    with east_stub, west_stub:
        summary = send_rows(
            Clients(),
            "unused",
            ["1", "2", "3", "4"],
            failover=targets,
            clock=lambda: now[0],
            on_row=row_done,
        )
    east_stub.assert_no_pending_responses()
    west_stub.assert_no_pending_responses()
    assert summary.per_region == {"us-west-2": 3, "us-east-1": 1}
    assert summary.failovers == {"us-east-1 -> us-west-2": 1}
    assert not summary.errors

"""The embedded CodeBuild's pure parts: buildspec parsing (what CodeBuild would reject is a
BuildspecError naming the field) and the StartBuild request an EventBridge target makes."""

from __future__ import annotations

import json
import textwrap

import botocore.session
import pytest

from localaws.runtime.codebuild import BuildspecError, PhaseSpec, parse_buildspec
from localaws.runtime.events import start_build_request

MODULE_BUILDSPEC = textwrap.dedent(
    """\
    version: 0.2
    env:
      shell: bash
      variables:
        PUSH: true
        RETRIES: 3
      parameter-store:
        TOKEN: /byo/token
      exported-variables:
        - IMAGE_REF
    phases:
      pre_build:
        on-failure: ABORT
        commands:
          - aws ecr get-login-password | docker login --username AWS --password-stdin $REGISTRY
      build:
        commands:
          - docker build -f $DOCKERFILE -t $REPOSITORY_URI:$IMAGE_TAG .
        finally:
          - echo done
      post_build:
        commands:
          - docker push $REPOSITORY_URI:$IMAGE_TAG
    artifacts:
      files: [imagedefinitions.json]
    """
)


def test_the_modules_buildspec_is_read_with_its_phases_and_env():
    spec = parse_buildspec(MODULE_BUILDSPEC)
    assert spec.version == "0.2"
    assert list(spec.phases) == ["pre_build", "build", "post_build"]
    assert spec.phases["pre_build"].on_failure == "ABORT"
    assert spec.phases["build"] == PhaseSpec(
        ("docker build -f $DOCKERFILE -t $REPOSITORY_URI:$IMAGE_TAG .",), ("echo done",), None
    )
    assert spec.variables == {"PUSH": "true", "RETRIES": "3"}
    assert spec.parameter_store == {"TOKEN": "/byo/token"}
    assert spec.exported_variables == ("IMAGE_REF",)
    assert spec.not_applied == ("artifacts",)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("phases:\n  build:\n    commands: [make]\n", "version: missing"),
        ("version: 0.3\nphases: {}\n", "version: 0.3"),
        ("version: 0.2\n", "phases: missing"),
        ("version: 0.2\nphases:\n  biuld:\n    commands: [make]\n", "phases/biuld"),
        ("version: 0.2\nphases:\n  build:\n    commands: make\n", "phases/build/commands"),
        ("version: 0.2\nphases:\n  build:\n    finally: [make]\n", "phases/build/commands"),
        (
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n",
            "phases/build/commands[0]",
        ),
        (
            "version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n    commands: [make]\n",
            "phases/build/on-failure",
        ),
        ("version: 0.2\nphases:\n  build:\n    command: [make]\n", "phases/build/command"),
        ("version: 0.2\nenv:\n  variables:\n    A: [1]\nphases: {}\n", "env/variables/A"),
        ("version: 0.2\nenv:\n  variables:\n    1A: x\nphases: {}\n", "env/variables"),
        ("version: 0.2\nenv:\n  shell: sh\nphases: {}\n", "env/shell"),
        ("version: 0.2\nenv:\n  exported-variables: A\nphases: {}\n", "env/exported-variables"),
        ("version: 0.2\nartefacts: {}\nphases: {}\n", "artefacts"),
        ("version: 0.2\nphases: [build]\n", "phases: expected a mapping"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("version: 0.2\nphases:\n  build: {commands: [a\n", "not valid YAML"),
    ],
)
def test_a_buildspec_codebuild_rejects_names_the_field(text, field):
    with pytest.raises(BuildspecError) as rejected:
        parse_buildspec(text)
    assert field in str(rejected.value)


def test_a_version_0_1_buildspec_is_read():
    spec = parse_buildspec("version: 0.1\nphases:\n  install:\n    commands: [make deps]\n")
    assert spec.version == "0.1"
    assert spec.phases["install"].commands == ("make deps",)


START_BUILD = (
    botocore.session.get_session()
    .get_service_model("codebuild")
    .operation_model("StartBuild")
    .input_shape.members
)
PROJECT = "arn:aws:codebuild:us-east-1:123456789012:project/image-serving"


def test_a_codebuild_target_starts_the_project_with_the_start_build_parameters_of_its_input():
    payload = json.dumps(
        {
            "environmentVariablesOverride": [{"name": "IMAGE_TAG", "value": "7"}],
            "sourceVersion": "3HL4kqtJlcpXroDTDmJ",
            "projectName": "another-project",
            "detail": {"not": "a StartBuild parameter"},
        }
    )
    assert start_build_request(PROJECT, payload, START_BUILD) == {
        "projectName": "image-serving",
        "environmentVariablesOverride": [{"name": "IMAGE_TAG", "value": "7"}],
        "sourceVersion": "3HL4kqtJlcpXroDTDmJ",
    }


@pytest.mark.parametrize(
    "payload", [json.dumps({"source": "aws.s3", "detail": {}}), '"text"', "not json"]
)
def test_a_whole_event_or_a_text_input_starts_the_project_as_it_is_defined(payload):
    assert start_build_request(PROJECT, payload, START_BUILD) == {"projectName": "image-serving"}

"""The runtime's CodeBuild, through the CodeBuild, S3, ECR, EventBridge, SQS and CloudWatch Logs
APIs only: builds of projects made as the build module makes them (an S3 ZIP bundle as the
source, an inline buildspec that logs in to ECR, runs `docker build -f $DOCKERFILE -t
$REPOSITORY_URI:$IMAGE_TAG .` and pushes), with the fake engine as the machine's docker
(tests/helpers/fake_engine.py) or with none, and an `aws` stand-in on PATH for the one call the
buildspec makes (`aws ecr get-login-password`, through boto3 to the emulator the build points at).

An own emulator: the fake engine first on its PATH; the runtime's services but EventBridge are
off in it (not under test here, they only slow its start and stop); a test advances its clock.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.aws import unique
from tests.helpers.emulator import Emulator, own_emulator
from tests.helpers.fake_engine import FakeEngine
from tests.helpers.flow import wait_for

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
BUILD_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/byo-build"
OTHERS_OFF = {
    "LOCALAWS_RUNTIME_OFF": "lambda,batch,alarms,scaling,deployments,transform,stepfunctions,"
    "replication"
}
NO_ENGINE = (
    "no container engine (docker or podman) on this machine: this build runs docker; "
    "`make images` builds the images locally"
)
PHASES = [
    "SUBMITTED",
    "QUEUED",
    "PROVISIONING",
    "DOWNLOAD_SOURCE",
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
    "FINALIZING",
    "COMPLETED",
]
BUILDSPEC = textwrap.dedent(
    """\
    version: 0.2
    env:
      variables:
        GREETING: from-the-buildspec
        IMAGE_TAG: overridden-by-the-project
      exported-variables:
        - IMAGE_REF
    phases:
      install:
        commands:
          - docker version
          - echo "build $CODEBUILD_BUILD_ID number $CODEBUILD_BUILD_NUMBER by $CODEBUILD_INITIATOR"
          - echo "source $CODEBUILD_SRC_DIR region $AWS_DEFAULT_REGION"
      pre_build:
        commands:
          - aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS --password-stdin $REGISTRY
          - IMAGE_REF=$REPOSITORY_URI:$IMAGE_TAG
      build:
        commands:
          - docker build -f $DOCKERFILE -t $IMAGE_REF .
        finally:
          - echo "the build phase's finally ran"
      post_build:
        commands:
          - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING greeting=$GREETING"
          - docker push $IMAGE_REF
    """  # noqa: E501 (the login line is one command, as the module writes it)
)
DOCKERFILE = textwrap.dedent(
    """\
    FROM python:3.12-slim
    WORKDIR /opt/app
    COPY serving/app.py /opt/app/app.py
    CMD ["python", "/opt/app/app.py"]
    """
)
AWS_STAND_IN = textwrap.dedent(
    """\
    import base64, sys
    import boto3
    if sys.argv[1:3] != ["ecr", "get-login-password"]:
        sys.exit(f"aws stand-in: only `aws ecr get-login-password`, not {sys.argv[1:]}")
    token = boto3.client("ecr").get_authorization_token()["authorizationData"][0]
    print(base64.b64decode(token["authorizationToken"]).decode().partition(":")[2])
    """
)


def bundle(files: dict[str, str]) -> bytes:
    """A ZIP as `make bundle` writes it (stored, fixed times)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, text in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


SOURCE = {"serving/Dockerfile": DOCKERFILE, "serving/app.py": "print('serving')\n"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[FakeEngine]:
    root = tmp_path_factory.mktemp("codebuild-engine")
    fake = FakeEngine.install(root / "bin", root / "state", images={})
    stand_in = root / "bin" / "aws"
    stand_in.write_text(f"#!{sys.executable}\n{AWS_STAND_IN}")
    stand_in.chmod(0o755)
    yield fake
    fake.kill_all()


@pytest.fixture(scope="module")
def emu(tmp_path_factory, engine) -> Iterator[Emulator]:
    path = f"{engine.state.parent / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
    env = {**OTHERS_OFF, "PATH": path, "LOCALAWS_CONTAINER_ENGINE": "docker"}
    with own_emulator(tmp_path_factory.mktemp("codebuild-emulator"), env=env) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def bucket(emu) -> str:
    name = unique("bundles")
    s3 = emu.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="bundle/images.zip", Body=bundle(SOURCE))
    return name


@pytest.fixture(scope="module")
def repository(emu) -> str:
    return emu.client("ecr").create_repository(repositoryName=unique("byo/serving"))["repository"][
        "repositoryUri"
    ]


def create_project(
    emu: Emulator, location: str, repository_uri: str, buildspec: str | None = BUILDSPEC
) -> str:
    """A project as terraform/modules/build makes one per image."""
    name = unique("image-serving")
    source = {"type": "S3", "location": location}
    if buildspec is not None:
        source["buildspec"] = buildspec
    variables = {
        "REPOSITORY_URI": repository_uri,
        "REGISTRY": REGISTRY,
        "IMAGE_TAG": "1",
        "DOCKERFILE": "serving/Dockerfile",
        "IMAGE_NAME": "serving",
    }
    emu.client("codebuild").create_project(
        name=name,
        source=source,
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "privilegedMode": True,
            "environmentVariables": [
                {"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()
            ],
        },
        serviceRole=f"arn:aws:iam::{ACCOUNT}:role/codebuild-{name}",
        logsConfig={
            "cloudWatchLogs": {"status": "ENABLED", "groupName": f"/byo/build/{name}"},
        },
        encryptionKey=BUILD_KEY,
        timeoutInMinutes=20,
    )
    return name


@pytest.fixture(scope="module")
def project(emu, bucket, repository) -> str:
    return create_project(emu, f"{bucket}/bundle/images.zip", repository)


def describe(emu: Emulator, build_id: str) -> dict:
    return emu.client("codebuild").batch_get_builds(ids=[build_id])["builds"][0]


def finished(emu: Emulator, build_id: str, timeout_s: float = 30) -> dict:
    def done() -> dict | None:
        build = describe(emu, build_id)
        return build if build["buildStatus"] != "IN_PROGRESS" else None

    return wait_for(f"build {build_id} to finish", done, timeout_s=timeout_s, poll_s=0.2)


def phases(build: dict) -> dict[str, dict]:
    return {phase["phaseType"]: phase for phase in build["phases"]}


def log_lines(emu: Emulator, build: dict) -> list[str]:
    logs = build["logs"]
    events = emu.client("logs").get_log_events(
        logGroupName=logs["groupName"], logStreamName=logs["streamName"], startFromHead=True
    )["events"]
    return [event["message"] for event in events]


def state_changes(emu: Emulator, project_name: str) -> str:
    """A queue that gets the project's CodeBuild Build State Change events."""
    sqs, events = emu.client("sqs"), emu.client("events")
    url = sqs.create_queue(QueueName=unique("codebuild-events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    rule = unique("codebuild-state")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.codebuild"],
                "detail-type": ["CodeBuild Build State Change"],
                "detail": {"project-name": [project_name]},
            }
        ),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn["QueueArn"]}])
    return url


def received(emu: Emulator, url: str, count: int) -> list[dict]:
    sqs, bodies = emu.client("sqs"), []

    def more() -> bool:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        bodies.extend(json.loads(m["Body"]) for m in answer.get("Messages", []))
        return len(bodies) >= count

    wait_for(f"{count} events", more, timeout_s=20, poll_s=0)
    return bodies


def test_without_a_container_engine_a_docker_build_fails_in_provisioning(emu, engine, project):
    queue_url = state_changes(emu, project)
    before = len(engine.calls())
    engine.configure(info="down")  # docker on PATH, its daemon not answering: no engine
    try:
        build_id = emu.client("codebuild").start_build(projectName=project)["build"]["id"]
        build = finished(emu, build_id)
    finally:
        engine.configure(info="ok")
    assert build["buildStatus"] == "FAILED"
    assert [p["phaseType"] for p in build["phases"]] == [
        "SUBMITTED",
        "QUEUED",
        "PROVISIONING",
        "FINALIZING",
        "COMPLETED",
    ]
    provisioning = phases(build)["PROVISIONING"]
    assert provisioning["phaseStatus"] == "FAILED"
    assert provisioning["contexts"][0]["message"] == NO_ENGINE
    assert {call["argv"][0] for call in engine.calls()[before:]} == {"info"}, "a command ran"
    assert NO_ENGINE in "\n".join(log_lines(emu, build))

    statuses = [e["detail"]["build-status"] for e in received(emu, queue_url, 2)]
    assert statuses == ["IN_PROGRESS", "FAILED"]


def test_a_docker_build_logs_in_builds_and_pushes_into_the_emulators_ecr(
    emu, engine, project, repository
):
    started = emu.client("codebuild").start_build(projectName=project)["build"]
    assert (started["buildStatus"], started["currentPhase"]) == ("IN_PROGRESS", "QUEUED")
    before = len(engine.calls())
    build = finished(emu, started["id"])
    assert build["buildStatus"] == "SUCCEEDED", build["phases"]
    assert [p["phaseType"] for p in build["phases"]] == PHASES
    assert {p.get("phaseStatus") for p in build["phases"][:-1]} == {"SUCCEEDED"}
    assert build["buildComplete"] and build["endTime"] >= build["startTime"]
    assert (build["encryptionKey"], build["timeoutInMinutes"]) == (BUILD_KEY, 20)
    assert build["logs"]["groupName"] == f"/byo/build/{project}"
    assert build["logs"]["streamName"] == started["id"].partition(":")[2]
    image = f"{repository}:1"
    assert build["exportedEnvironmentVariables"] == [{"name": "IMAGE_REF", "value": image}]

    calls = engine.calls()[before:]
    (built,) = [c for c in calls if c["argv"][0] == "build"]
    assert built["argv"] == ["build", "-f", "serving/Dockerfile", "-t", image, "."]
    assert engine.built(image)["files"] == ["serving/Dockerfile", "serving/app.py"]
    assert Path(built["cwd"]).name == "src", built["cwd"]  # the unzipped bundle
    # login and push to the emulator's ECR are the runtime's own (it has no registry); the
    # push asks the engine for the image's id.
    assert not [c for c in calls if c["argv"][0] in ("login", "push")]
    assert ["image", "inspect", "--format", "{{.Id}}", image] in [c["argv"] for c in calls]

    ecr = emu.client("ecr")
    repository_name = repository.partition("/")[2]
    (described,) = ecr.describe_images(repositoryName=repository_name)["imageDetails"]
    assert described["imageTags"] == ["1"]
    (pushed,) = ecr.batch_get_image(repositoryName=repository_name, imageIds=[{"imageTag": "1"}])[
        "images"
    ]
    assert json.loads(pushed["imageManifest"])["config"]["digest"] == engine.built(image)["Id"]

    lines = log_lines(emu, build)
    text = "\n".join(lines)
    assert f"build {started['id']} number {started['buildNumber']} by root" in lines
    assert f"source {built['cwd']} region {REGION}" in lines
    assert "Login Succeeded" in lines
    assert any(
        line.endswith("Running command docker build -f $DOCKERFILE -t $IMAGE_REF .")
        for line in lines
    )
    assert f"Successfully tagged {image}" in lines
    assert "post_build succeeding=1 greeting=from-the-buildspec" in lines
    assert f"1: digest: {described['imageDigest']}" in text
    assert "Phase complete: POST_BUILD State: SUCCEEDED" in text


def test_a_failing_build_command_fails_the_build_phase_and_post_build_still_runs(
    emu, engine, project
):
    overrides = [
        {"name": "DOCKERFILE", "value": "serving/Missing.Dockerfile", "type": "PLAINTEXT"},
        {"name": "IMAGE_TAG", "value": "never-built", "type": "PLAINTEXT"},
    ]
    build_id = emu.client("codebuild").start_build(
        projectName=project, environmentVariablesOverride=overrides
    )["build"]["id"]
    build = finished(emu, build_id)
    assert build["buildStatus"] == "FAILED"
    assert [p["phaseType"] for p in build["phases"]] == PHASES
    by_type = phases(build)
    failed = [p["phaseType"] for p in build["phases"] if p.get("phaseStatus") == "FAILED"]
    assert failed[0] == "BUILD"
    (context,) = by_type["BUILD"]["contexts"]
    assert context["statusCode"] == "COMMAND_EXECUTION_ERROR"
    assert "docker build -f $DOCKERFILE" in context["message"]
    assert "exit status 1" in context["message"]
    # post_build ran (and failed: there is no image to push); artifacts were still attempted
    assert by_type["POST_BUILD"]["phaseStatus"] == "FAILED"
    assert by_type["UPLOAD_ARTIFACTS"]["phaseStatus"] == "SUCCEEDED"
    lines = log_lines(emu, build)
    assert "the build phase's finally ran" in lines
    assert "post_build succeeding=0 greeting=from-the-buildspec" in lines
    assert any("Missing.Dockerfile: no such file or directory" in line for line in lines)


def test_on_failure_continue_goes_on_abort_stops_and_the_shell_keeps_its_state(emu, project):
    buildspec = textwrap.dedent(
        """\
        version: 0.2
        phases:
          install:
            on-failure: CONTINUE
            commands:
              - cd serving
              - printf 'no newline at the end'
              - "false"
              - echo skipped after the failure
          pre_build:
            commands:
              - echo "in $(basename "$PWD") succeeding=$CODEBUILD_BUILD_SUCCEEDING"
          build:
            on-failure: ABORT
            commands:
              - exit 4
          post_build:
            commands:
              - echo "post_build after an ABORT"
        """
    )
    build_id = emu.client("codebuild").start_build(
        projectName=project, buildspecOverride=buildspec
    )["build"]["id"]
    build = finished(emu, build_id)
    assert build["buildStatus"] == "FAILED"
    statuses = {p["phaseType"]: p.get("phaseStatus") for p in build["phases"]}
    assert statuses == {
        "SUBMITTED": "SUCCEEDED",
        "QUEUED": "SUCCEEDED",
        "PROVISIONING": "SUCCEEDED",
        "DOWNLOAD_SOURCE": "SUCCEEDED",
        "INSTALL": "FAILED",
        "PRE_BUILD": "SUCCEEDED",
        "BUILD": "FAILED",
        "FINALIZING": "SUCCEEDED",
        "COMPLETED": None,
    }
    assert "exit status 4" in phases(build)["BUILD"]["contexts"][0]["message"]
    lines = log_lines(emu, build)
    assert "no newline at the end" in lines
    assert "in serving succeeding=0" in lines
    assert not [line for line in lines if "skipped" in line or "after an ABORT" in line]


def test_an_upload_of_the_bundle_starts_a_build_through_an_eventbridge_rule(emu, repository):
    s3, events, codebuild = emu.client("s3"), emu.client("events"), emu.client("codebuild")
    bucket = unique("bundles-events")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    name = create_project(emu, f"{bucket}/bundle/images.zip", repository)
    rule = unique("bundle-uploaded")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [bucket]}, "object": {"key": ["bundle/images.zip"]}},
            }
        ),
    )
    events.put_targets(
        Rule=rule,
        Targets=[
            {
                "Id": "build",
                "Arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/{name}",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/events-codebuild",
                "InputTransformer": {
                    "InputPathsMap": {"size": "$.detail.object.size"},
                    "InputTemplate": '{"environmentVariablesOverride": [{"name": "IMAGE_TAG", '
                    '"value": "bundle-<size>", "type": "PLAINTEXT"}]}',
                },
            }
        ],
    )
    body = bundle(SOURCE)
    s3.put_object(Bucket=bucket, Key="bundle/images.zip", Body=body)
    (build_id,) = wait_for(
        "the build the upload starts",
        lambda: codebuild.list_builds_for_project(projectName=name)["ids"],
        timeout_s=20,
    )
    build = finished(emu, build_id)
    assert build["buildStatus"] == "SUCCEEDED", build["phases"]
    tag = f"bundle-{len(body)}"
    variables = {v["name"]: v["value"] for v in build["environment"]["environmentVariables"]}
    assert variables["IMAGE_TAG"] == tag
    images = emu.client("ecr").describe_images(repositoryName=repository.partition("/")[2])
    assert tag in {t for image in images["imageDetails"] for t in image.get("imageTags", [])}


def long_build(emu: Emulator, project: str, seconds: str, **extra) -> str:
    """A build whose build phase sleeps `seconds` (a number no other process sleeps)."""
    buildspec = f"version: 0.2\nphases:\n  build:\n    commands:\n      - sleep {seconds}\n"
    build_id = emu.client("codebuild").start_build(
        projectName=project, buildspecOverride=buildspec, **extra
    )["build"]["id"]
    wait_for(
        "the build phase", lambda: describe(emu, build_id)["currentPhase"] == "BUILD", timeout_s=20
    )
    wait_for("the sleep", lambda: sleeping(seconds), timeout_s=10, poll_s=0.1)
    return build_id


def sleeping(seconds: str) -> bool:
    found = subprocess.run(["pgrep", "-f", f"sleep {seconds}"], capture_output=True, text=True)
    return bool(found.stdout.strip())


def test_stop_build_stops_a_running_build(emu, project):
    build_id = long_build(emu, project, "29.51")
    stopped = emu.client("codebuild").stop_build(id=build_id)["build"]
    assert stopped["buildStatus"] == "STOPPED"
    assert phases(stopped)["BUILD"]["phaseStatus"] == "STOPPED"
    assert [p["phaseType"] for p in stopped["phases"]][-3:] == ["BUILD", "FINALIZING", "COMPLETED"]
    assert not sleeping("29.51"), "the build's command still runs"
    assert describe(emu, build_id)["buildStatus"] == "STOPPED"


def test_a_build_past_its_timeout_times_out(emu, project):
    build_id = long_build(emu, project, "29.52", timeoutInMinutesOverride=5)
    emu.advance_clock(5 * 60 + 1)
    build = finished(emu, build_id, timeout_s=10)
    assert build["buildStatus"] == "TIMED_OUT"
    assert build["timeoutInMinutes"] == 5
    assert phases(build)["BUILD"]["phaseStatus"] == "TIMED_OUT"
    assert not sleeping("29.52")


def test_a_bad_source_fails_in_download_source_naming_its_location(emu, bucket, repository):
    s3, codebuild = emu.client("s3"), emu.client("codebuild")
    s3.put_object(Bucket=bucket, Key="bad/not-a.zip", Body=b"this is no zip file")
    s3.put_object(Bucket=bucket, Key="bad/no-buildspec.zip", Body=bundle(SOURCE))
    # No inline buildspec: the source's buildspec.yml is the build's, and these have none.
    name = create_project(emu, f"{bucket}/bad/no-buildspec.zip", repository, buildspec=None)
    expected = {
        f"{bucket}/bad/missing.zip": "NoSuchKey",
        f"{bucket}/bad/not-a.zip": "not a valid zip file",
        f"{bucket}/bad/no-buildspec.zip": "no buildspec",
    }
    ids = []
    for location, why in expected.items():
        build_id = codebuild.start_build(projectName=name, sourceLocationOverride=location)[
            "build"
        ]["id"]
        ids.append(build_id)
        build = finished(emu, build_id)
        assert build["buildStatus"] == "FAILED"
        assert build["source"]["location"] == location
        assert [p["phaseType"] for p in build["phases"]][-3:] == [
            "DOWNLOAD_SOURCE",
            "FINALIZING",
            "COMPLETED",
        ]
        (context,) = phases(build)["DOWNLOAD_SOURCE"]["contexts"]
        assert why in context["message"] and location in context["message"], context

    assert codebuild.list_builds_for_project(projectName=name)["ids"] == ids[::-1]
    answer = codebuild.batch_get_builds(ids=[ids[0], f"{name}:no-such-build"])
    assert [b["id"] for b in answer["builds"]] == [ids[0]]
    assert answer["buildsNotFound"] == [f"{name}:no-such-build"]


def test_buildspec_errors_name_the_field(emu, project):
    buildspec = "version: 0.2\nphases:\n  build:\n    commands: docker build .\n"
    build_id = emu.client("codebuild").start_build(
        projectName=project, buildspecOverride=buildspec
    )["build"]["id"]
    build = finished(emu, build_id)
    (context,) = phases(build)["DOWNLOAD_SOURCE"]["contexts"]
    assert context["statusCode"] == "YAML_FILE_ERROR"
    assert "phases/build/commands" in context["message"]

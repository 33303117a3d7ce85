"""scripts/images.sh (make images / make push) with stand-in `docker`, `podman` and `aws`
commands first on PATH: they record their arguments, so nothing is built, logged in or pushed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

SCRIPT = REPO / "scripts" / "images.sh"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    """docker and podman whose daemon does not answer; `docker-up` makes docker answer."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    for name in ("docker", "podman"):
        (bin_dir / name).write_text(
            "#!/bin/sh\n"
            f'echo "{name} $*" >> {calls}\n'
            f'if [ "$1" = info ] && [ ! -e {tmp_path}/{name}-up ]; then\n'
            '  echo "Cannot connect to the daemon" >&2; exit 1\n'
            "fi\n"
            f'if [ "$1" = login ]; then cat > {tmp_path}/login-stdin; fi\n'
        )
        (bin_dir / name).chmod(0o755)
    (bin_dir / "aws").write_text(f'#!/bin/sh\necho "aws $*" >> {calls}\necho s3cret\n')
    (bin_dir / "aws").chmod(0o755)
    return tmp_path


def run(stubs: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=REPO,
        env={**os.environ, "PATH": f"{stubs / 'bin'}{os.pathsep}{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def calls(stubs: Path) -> list[str]:
    path = stubs / "calls"
    return [c for c in path.read_text().splitlines() if " info" not in c] if path.exists() else []


def test_build_without_an_engine_fails_with_one_line(stubs):
    done = run(stubs, "build")
    assert done.returncode == 1
    assert done.stderr == (
        "images.sh: no container engine: neither docker nor podman is on PATH with a daemon that "
        "answers `info` (install one, or start its daemon)\n"
    )
    assert calls(stubs) == []


def test_engine_must_be_docker_or_podman(stubs):
    done = run(stubs, "build", ENGINE="lxc")
    assert (done.returncode, done.stderr) == (
        1,
        "images.sh: ENGINE must be docker or podman, not 'lxc'\n",
    )


def test_build_uses_podman_when_docker_does_not_answer(stubs):
    (stubs / "podman-up").touch()
    done = run(stubs, "build", TAG="t1")
    assert done.returncode == 0, done.stderr
    assert calls(stubs) == [
        "podman build -f serving/Dockerfile -t byo/serving:t1 .",
        "podman build -f batch_processor/Dockerfile -t byo/batch-processor:t1 .",
        "podman build -f operators/Dockerfile -t byo/operators:t1 .",
    ]


def test_the_default_tag_is_git_describe(stubs):
    (stubs / "docker-up").touch()
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    assert run(stubs, "build").returncode == 0
    assert calls(stubs)[0] == f"docker build -f serving/Dockerfile -t byo/serving:{described} ."


def test_push_refuses_the_embedded_aws(stubs):
    done = run(stubs, "push", "build/outputs-local.json", TARGET="local")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "images.sh: push needs TARGET=aws: the embedded AWS (TARGET=local) has no container "
        "registry"
    )


def test_push_needs_the_outputs(stubs, tmp_path):
    missing = tmp_path / "outputs-aws.json"
    done = run(stubs, "push", str(missing), TARGET="aws")
    assert (done.returncode, done.stderr) == (
        1,
        f"images.sh: {missing} does not exist: make outputs TARGET=aws first\n",
    )


def test_push_logs_in_to_the_stacks_registry_then_tags_and_pushes_each_image(stubs, tmp_path):
    (stubs / "docker-up").touch()
    outputs = tmp_path / "outputs-aws.json"
    urls = {key: f"{REGISTRY}/byo/{key}" for key in ("batch-processor", "serving", "operators")}
    outputs.write_text(json.dumps({"ecr_repository_urls": {"sensitive": False, "value": urls}}))
    done = run(stubs, "push", str(outputs), TARGET="aws", TAG="0.1.0")
    assert done.returncode == 0, done.stderr
    made = calls(stubs)
    # aws and docker login run at once, as the two ends of a pipe.
    assert sorted(made[3:5]) == [
        "aws ecr get-login-password --region eu-west-1",
        f"docker login --username AWS --password-stdin {REGISTRY}",
    ]
    assert (stubs / "login-stdin").read_text() == "s3cret\n"
    assert made[:3] + made[5:] == [
        "docker image inspect byo/serving:0.1.0",
        "docker image inspect byo/batch-processor:0.1.0",
        "docker image inspect byo/operators:0.1.0",
        f"docker tag byo/serving:0.1.0 {REGISTRY}/byo/serving:0.1.0",
        f"docker push {REGISTRY}/byo/serving:0.1.0",
        f"docker tag byo/batch-processor:0.1.0 {REGISTRY}/byo/batch-processor:0.1.0",
        f"docker push {REGISTRY}/byo/batch-processor:0.1.0",
        f"docker tag byo/operators:0.1.0 {REGISTRY}/byo/operators:0.1.0",
        f"docker push {REGISTRY}/byo/operators:0.1.0",
    ]


def test_push_names_a_missing_output(stubs, tmp_path):
    (stubs / "docker-up").touch()
    outputs = tmp_path / "outputs-aws.json"
    outputs.write_text(json.dumps({"ecr_repository_urls": {"value": {"serving": "x/y"}}}))
    done = run(stubs, "push", str(outputs), TARGET="aws", TAG="1")
    assert done.returncode == 1
    assert done.stderr == (
        f"images.sh: {outputs}'s ecr_repository_urls has no batch-processor, operators\n"
    )

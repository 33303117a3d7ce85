"""localaws.runtime.images: an image URI → a Dockerfile of the repository → the process it runs."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pytest

from localaws.runtime.images import (
    PULL_ERROR,
    START_ERROR,
    ImageError,
    dockerfiles,
    parse,
    repository_of,
    resolve,
)
from tests.helpers.paths import REPO

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
VENV_BIN = Path(sys.executable).parent
HOST_PATH = "/usr/bin:/bin"


def dockerfile(tmp_path: Path, text: str, files: tuple[str, ...] = ()) -> Path:
    """A Dockerfile (and the files it copies) in a directory of its own: its build context."""
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    path = tmp_path / "Dockerfile"
    path.write_text(textwrap.dedent(text))
    return path


# ---------------------------------------------------------------------------------------------
# The repository's own images
# ---------------------------------------------------------------------------------------------
def test_the_batch_processor_image_runs_python_m_batch_processor_job():
    image = resolve(f"{ECR}/byo/batch-processor:abc123", env={})
    launch = image.launch(["--bucket", "b", "--key", "input/x.csv"], HOST_PATH)

    assert image.dockerfile == REPO / "batch_processor" / "Dockerfile"
    program = [sys.executable, "-m", "batch_processor.job"]
    assert launch.argv == [*program, "--bucket", "b", "--key", "input/x.csv"]
    assert launch.cwd == REPO  # WORKDIR /opt/program: the repository root, by its COPYs
    assert launch.env["PYTHONPATH"] == str(REPO)
    assert launch.env["PYTHONUNBUFFERED"] == "1"
    assert launch.env["PATH"] == f"{VENV_BIN}:{HOST_PATH}"
    assert image.user == "10001"
    assert image.host_path("/opt/program/requirements.txt") == (
        REPO / "batch_processor" / "requirements.txt"
    )


def test_the_batch_processor_image_without_a_command_runs_its_entrypoint_alone():
    launch = resolve(f"{ECR}/byo/batch-processor:1", env={}).launch([], HOST_PATH)
    assert launch.argv == [sys.executable, "-m", "batch_processor.job"]


def test_the_operators_image_runs_byo_from_the_venv():
    launch = resolve(f"{ECR}/byo/operators:1", env={}).launch(["monitor", "run"], HOST_PATH)

    assert launch.argv == [str(VENV_BIN / "byo"), "monitor", "run"]
    assert launch.cwd == REPO


def test_the_repositorys_dockerfiles_are_known_by_their_directories():
    known = dockerfiles(env={})
    assert known["batch_processor"] == REPO / "batch_processor" / "Dockerfile"
    assert known["operators"] == REPO / "operators" / "Dockerfile"
    assert known["serving"] == REPO / "serving" / "Dockerfile"


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        (f"{ECR}/byo/batch-processor:tag", "byo/batch-processor"),
        ("byo/serving:local", "byo/serving"),
        ("localhost:5000/operators", "operators"),
        (f"{ECR}/byo/operators@sha256:{'0' * 64}", "byo/operators"),
        ("python:3.12-slim", "python"),
    ],
)
def test_an_image_uri_names_its_repository(image, repository):
    assert repository_of(image) == repository


# ---------------------------------------------------------------------------------------------
# Mappings
# ---------------------------------------------------------------------------------------------
def test_an_image_no_dockerfile_maps_says_which_and_how_to_add_one():
    with pytest.raises(ImageError) as raised:
        resolve(f"{ECR}/byo/unknown-thing:1", env={})
    message = str(raised.value)
    assert raised.value.kind == PULL_ERROR and message.startswith("CannotPullContainerError: ")
    assert f"{ECR}/byo/unknown-thing:1" in message and "'byo/unknown-thing'" in message
    assert "LOCALAWS_IMAGES=unknown-thing=path/to/Dockerfile" in message


def test_localaws_images_adds_and_overrides_mappings(tmp_path):
    path = dockerfile(tmp_path, 'FROM scratch\nENTRYPOINT ["python", "-c", "pass"]\n')
    env = {"LOCALAWS_IMAGES": f"my-tool={path}, batch-processor={path}"}

    assert resolve(f"{ECR}/team/my_tool:2", env).dockerfile == path  # "-" is "_"
    assert resolve(f"{ECR}/byo/batch-processor:1", env).dockerfile == path
    assert resolve(f"{ECR}/byo/operators:1", env).dockerfile == REPO / "operators" / "Dockerfile"


@pytest.mark.parametrize("entry", ["nothing-to-map", "=x/Dockerfile", "name="])
def test_a_malformed_localaws_images_entry_is_named(entry):
    expected = re.escape(f"LOCALAWS_IMAGES entry '{entry}' is not name=path")
    with pytest.raises(ImageError, match=expected):
        dockerfiles({"LOCALAWS_IMAGES": entry})


def test_a_mapping_to_a_missing_dockerfile_says_so(tmp_path):
    env = {"LOCALAWS_IMAGES": f"gone={tmp_path / 'Dockerfile'}"}
    with pytest.raises(ImageError, match="does not exist"):
        resolve("gone:1", env)


# ---------------------------------------------------------------------------------------------
# Dockerfiles written here
# ---------------------------------------------------------------------------------------------
def test_the_job_command_replaces_cmd_after_an_exec_entrypoint(tmp_path):
    image = parse(
        dockerfile(tmp_path, 'FROM scratch\nENTRYPOINT ["python", "-m", "app"]\nCMD ["--help"]\n')
    )
    assert image.argv(None) == ["python", "-m", "app", "--help"]
    assert image.argv([]) == ["python", "-m", "app", "--help"]
    assert image.argv(["--run", "x"]) == ["python", "-m", "app", "--run", "x"]


def test_cmd_alone_is_the_process_and_a_command_replaces_it(tmp_path):
    image = parse(dockerfile(tmp_path, 'FROM scratch\nCMD ["python3", "-V"]\n'))
    assert image.launch(None, HOST_PATH).argv == [sys.executable, "-V"]
    assert image.launch(["sh", "-c", "true"], HOST_PATH).argv[1:] == ["-c", "true"]


def test_shell_forms_run_under_sh_and_a_shell_entrypoint_ignores_the_command(tmp_path):
    shell_cmd = parse(dockerfile(tmp_path, "FROM scratch\nCMD echo $HOME && exit 3\n"))
    assert shell_cmd.argv(None) == ["/bin/sh", "-c", "echo $HOME && exit 3"]

    shell_entry = parse(dockerfile(tmp_path, "FROM scratch\nENTRYPOINT exec python -V\nCMD x\n"))
    assert shell_entry.argv(["ignored"]) == ["/bin/sh", "-c", "exec python -V"]


def test_only_the_final_stage_counts_and_an_entrypoint_resets_an_inherited_cmd(tmp_path):
    text = """\
        FROM python:3.12 AS build
        ENV BUILD_ONLY=1
        CMD ["build"]
        FROM build AS base
        ENV FROM_BASE=1
        FROM base
        ENTRYPOINT ["python", "-m", "served"]
        """
    image = parse(dockerfile(tmp_path, text))
    # A stage FROM an earlier one inherits its ENV; the inherited CMD goes with a new ENTRYPOINT.
    assert image.env == {"BUILD_ONLY": "1", "FROM_BASE": "1"}
    assert image.argv(None) == ["python", "-m", "served"]

    fresh = parse(dockerfile(tmp_path, 'FROM a AS one\nENV ONE=1\nFROM b\nCMD ["two"]\n'))
    assert fresh.env == {} and fresh.argv(None) == ["two"]


def test_copy_maps_container_paths_to_the_context(tmp_path):
    text = """\
        FROM scratch
        ARG HOME_DIR=/srv/app
        ENV APP_HOME=${HOME_DIR} LIBS=/srv/app/lib:/usr/lib
        WORKDIR $HOME_DIR
        COPY lib/ lib/
        COPY tools/run.py bin/
        COPY settings.json /etc/app/settings.json
        ENTRYPOINT ["python", "/srv/app/bin/run.py", "--config", "/etc/app/settings.json"]
        """
    files = ("lib/util.py", "tools/run.py", "settings.json")
    image = parse(dockerfile(tmp_path, text, files))
    launch = image.launch(None, HOST_PATH)

    assert image.workdir == "/srv/app"
    assert image.host_path("/srv/app/lib/util.py") == tmp_path / "lib" / "util.py"
    assert image.host_path("/srv/app/bin/run.py") == tmp_path / "tools" / "run.py"
    assert image.host_path("/elsewhere") is None
    # COPY lib/ /srv/app/lib/ makes /srv/app the context root: WORKDIR, ENV values, arguments.
    assert launch.cwd == tmp_path
    assert launch.env["APP_HOME"] == str(tmp_path)
    assert launch.env["LIBS"] == f"{tmp_path / 'lib'}:/usr/lib"
    assert launch.argv == [
        sys.executable,
        str(tmp_path / "tools" / "run.py"),
        "--config",
        str(tmp_path / "settings.json"),
    ]


def test_a_workdir_nothing_was_copied_to_leaves_the_cwd_to_the_runtime(tmp_path):
    image = parse(dockerfile(tmp_path, 'FROM scratch\nWORKDIR /data\nCMD ["python", "-V"]\n'))
    assert image.launch(None, HOST_PATH).cwd is None


def test_copy_from_a_stage_follows_that_stages_files(tmp_path):
    text = """\
        FROM scratch AS build
        COPY src/ /build/src/
        FROM scratch
        COPY --from=build /build/src /app/src
        COPY --from=python:3.12 /usr/local/bin/python /usr/local/bin/python
        """
    image = parse(dockerfile(tmp_path, text, ("src/main.py",)))
    assert image.host_path("/app/src/main.py") == tmp_path / "src" / "main.py"
    assert image.host_path("/usr/local/bin/python") is None  # from another image


def test_a_copy_source_missing_from_the_context_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match=r"COPY source 'missing\.py' does not exist"):
        parse(dockerfile(tmp_path, "FROM scratch\nCOPY missing.py /app/\n"))


def test_nothing_to_run_and_a_program_not_found_are_start_errors(tmp_path):
    nothing = parse(dockerfile(tmp_path, "FROM scratch\nENV A=1\n"))
    with pytest.raises(ImageError, match="no command specified") as raised:
        nothing.launch(None, HOST_PATH)
    assert raised.value.kind == START_ERROR

    missing = parse(dockerfile(tmp_path, 'FROM scratch\nENTRYPOINT ["no-such-program-x"]\n'))
    with pytest.raises(ImageError, match="'no-such-program-x': executable file not found"):
        missing.launch(None, HOST_PATH)


def test_programs_come_from_the_venv_then_path_and_absolute_ones_stay(tmp_path):
    image = parse(dockerfile(tmp_path, 'FROM scratch\nENTRYPOINT ["/bin/sh", "-c"]\n'))
    assert image.launch(["exit 0"], HOST_PATH).argv == ["/bin/sh", "-c", "exit 0"]
    via_path = parse(dockerfile(tmp_path, 'FROM scratch\nENTRYPOINT ["env"]\n'))
    assert via_path.launch(None, HOST_PATH).argv[0] in ("/usr/bin/env", "/bin/env")
    no_dockerfile_stage = tmp_path / "empty" / "Dockerfile"
    no_dockerfile_stage.parent.mkdir()
    no_dockerfile_stage.write_text("# nothing\n")
    with pytest.raises(ImageError, match="no FROM instruction"):
        parse(no_dockerfile_stage)

"""scripts/bundle.py (make bundle): the images' source bundle is the same bytes for the same
tracked files, different for a changed one, and holds exactly what the Dockerfiles copy."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

SCRIPT = REPO / "scripts" / "bundle.py"

DOCKERFILES = {
    "serving/Dockerfile": "FROM python:3.12-slim\nCOPY serving/requirements.txt /r.txt\n"
    "COPY serving/ /opt/program/serving/\n",
    "batch_processor/Dockerfile": "FROM python:3.12-slim\n"
    "COPY batch_processor/__init__.py \\\n     batch_processor/job.py /opt/program/\n"
    "COPY --from=builder /wheels /wheels\n",
    "operators/Dockerfile": "FROM python:3.12-slim\n# COPY commented/ out\n"
    "COPY pyproject.toml README.md /opt/program/\nCOPY operators/ /opt/program/operators/\n",
}
OTHER = {
    ".dockerignore": ".git\n",
    "README.md": "# readme\n",
    "pyproject.toml": "[project]\nname = 'x'\n",
    "serving/requirements.txt": "flask\n",
    "serving/server.py": "print('serve')\n",
    "batch_processor/__init__.py": "",
    "batch_processor/job.py": "print('job')\n",
    "batch_processor/trigger.py": "print('not copied')\n",
    "operators/__init__.py": "",
    "operators/run.sh": "#!/bin/sh\n",
    "tests/test_x.py": "not copied\n",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        },
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name, text in {**DOCKERFILES, **OTHER}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "operators/run.sh").chmod(0o755)
    (root / "serving/untracked.py").write_text("not tracked\n")
    git(root, "init", "-q")
    git(root, "add", *DOCKERFILES, *OTHER)
    git(root, "commit", "-q", "-m", "fixture")
    return root


def bundle(root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def digest(out: Path) -> str:
    return hashlib.sha256((out / "source.zip").read_bytes()).hexdigest()


def test_the_repository_bundles_to_the_same_bytes_twice(tmp_path: Path) -> None:
    first, second = bundle(REPO, tmp_path / "a"), bundle(REPO, tmp_path / "b")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    sha = digest(tmp_path / "a")
    assert digest(tmp_path / "b") == sha
    assert first.stdout.split()[0] == sha
    assert (tmp_path / "a" / "source.zip.sha256").read_text() == f"{sha}  source.zip\n"
    names = zipfile.ZipFile(tmp_path / "a" / "source.zip").namelist()
    assert {"serving/Dockerfile", "operators/Dockerfile", "batch_processor/job.py"} <= set(names)
    assert "pyproject.toml" in names and "README.md" in names
    assert not [n for n in names if n.startswith(("tests/", "terraform/", "localaws/"))]


def test_the_bundle_holds_exactly_the_tracked_files_the_dockerfiles_copy(
    repo: Path, tmp_path: Path
) -> None:
    made = bundle(repo, tmp_path / "out")
    assert made.returncode == 0, made.stderr
    archive = zipfile.ZipFile(tmp_path / "out" / "source.zip")
    assert archive.namelist() == [
        ".dockerignore",
        "README.md",
        "batch_processor/Dockerfile",
        "batch_processor/__init__.py",
        "batch_processor/job.py",
        "operators/Dockerfile",
        "operators/__init__.py",
        "operators/run.sh",
        "pyproject.toml",
        "serving/Dockerfile",
        "serving/requirements.txt",
        "serving/server.py",
    ]
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_STORED
        mode = info.external_attr >> 16
        assert mode == (0o100755 if info.filename == "operators/run.sh" else 0o100644)
    assert archive.read("serving/server.py") == b"print('serve')\n"


def test_a_changed_file_changes_the_bundle_and_a_fresh_checkout_does_not(
    repo: Path, tmp_path: Path
) -> None:
    assert bundle(repo, tmp_path / "before").returncode == 0
    # Another clone: other mtimes, inode order and owner; the same bytes.
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)
    os.utime(clone / "serving/server.py", (1_000_000_000, 1_000_000_000))
    assert bundle(clone, tmp_path / "clone-out").returncode == 0
    assert digest(tmp_path / "clone-out") == digest(tmp_path / "before")

    (repo / "serving/server.py").write_text("print('changed')\n")
    assert bundle(repo, tmp_path / "after").returncode == 0
    assert digest(tmp_path / "after") != digest(tmp_path / "before")
    # A file no Dockerfile copies changes nothing.
    (repo / "serving/server.py").write_text("print('serve')\n")
    (repo / "batch_processor/trigger.py").write_text("print('changed')\n")
    assert bundle(repo, tmp_path / "again").returncode == 0
    assert digest(tmp_path / "again") == digest(tmp_path / "before")


def test_a_copied_path_git_does_not_track_is_an_error_naming_it(repo: Path, tmp_path: Path) -> None:
    git(repo, "rm", "-q", "--cached", "README.md")
    made = bundle(repo, tmp_path / "out")
    assert made.returncode == 1
    assert "README.md" in made.stderr and "git does not track" in made.stderr
    assert not (tmp_path / "out" / "source.zip").exists()

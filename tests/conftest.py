"""Shared fixtures: one embedded AWS emulator per test session (per xdist worker), on a free port.

The emulator runs as its own process and is stopped by PID at the end of the session.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.emulator import Emulator, start_emulator
from tests.helpers.paths import MODEL_MONITOR_REFERENCE
from tests.helpers.processes import stop_process

# Tests never reach real AWS: fixed fake credentials and region, whatever the caller's shell holds.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="test",
    AWS_SECRET_ACCESS_KEY="test",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The interoperability tests read AWS's own files in place: without them, say where they
    were looked for, once, instead of failing every such test on a missing file."""
    if not (MODEL_MONITOR_REFERENCE / "SOURCES.md").is_file():
        raise pytest.UsageError(
            f"{MODEL_MONITOR_REFERENCE}: the real Model Monitor and Clarify files are not there "
            "(they live in the shared directory beside the repository, ../shared; set "
            "BYO_SHARED_DIR to use another)"
        )


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """A running emulator with its SageMaker hosting; the standard endpoint variables point every
    boto3 client in the tests at them."""
    emu = start_emulator(tmp_path_factory.mktemp("emulator"))
    endpoints = {"AWS_ENDPOINT_URL": emu.url, "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": emu.runtime_url}
    previous = {name: os.environ.get(name) for name in endpoints}
    os.environ.update(endpoints)
    try:
        yield emu
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        stop_process(emu.proc)


@contextmanager
def shared(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """A directory every xdist worker of this run shares (the base temp's parent under xdist),
    held exclusively: (directory, whether it is complete already). The first worker makes what
    goes in it while the others wait, instead of each making its own at the same time."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    root.mkdir(parents=True, exist_ok=True)
    with open(root.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / ".complete"
        yield root, done.exists()
        done.touch()


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic dataset (full size, default seed) as CSV, made once per run. Tests
    read it and never write it."""
    from sample.generate import generate, write_csv

    with shared(tmp_path_factory, "data") as (directory, complete):
        path = directory / "creditcard.csv"
        if not complete:
            write_csv(generate(), path)
    return path


@pytest.fixture(scope="session")
def trained_model(dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    """The model `make model` builds, trained once per run. Tests read it and never write it."""
    from operators.pipeline.training import TrainResult, train

    with shared(tmp_path_factory, "model") as (directory, complete):
        if not complete:
            return train(dataset, directory)
        evaluation_path = directory / "evaluation.json"
        return TrainResult(
            directory / "model.tar.gz", evaluation_path, json.loads(evaluation_path.read_text())
        )


# Wall times that tests report with `record_property("timing:<what>", seconds)` are printed at the
# end of the run (collected from xdist workers' reports too).
_TIMINGS: list[tuple[str, str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name.startswith("timing:"):
            _TIMINGS.append((report.nodeid, name.removeprefix("timing:"), float(value)))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _TIMINGS:
        return
    terminalreporter.section("wall times")
    for nodeid, what, seconds in _TIMINGS:
        terminalreporter.write_line(f"{seconds:8.1f} s  {what}  ({nodeid.split('::')[-1]})")


# Tests whose every case is a work unit of its own under `--dist loadfile`: they share no
# fixture but tmp_path, and a file of them on one worker ran ~10 minutes of CPU-bound
# `terraform test`s in a row.
_ONE_UNIT_PER_TEST = ("tests/terraform/test_modules.py",)


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which would answer first
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, in collection order (pyproject's testpaths: the longest first), except
    that each case of _ONE_UNIT_PER_TEST is handed out alone, so both workers share them."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return nodeid if path in _ONE_UNIT_PER_TEST else path

    return Scheduling(config, log)

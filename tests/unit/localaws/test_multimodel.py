"""A multi-model container's cache on its own: one load for concurrent first requests,
ModelNotReadyException past the wait, the memory budget setting and TargetModel's constraints.
Its S3 is a directory (the objects are real model.tar.gz files; loading is the real one)."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError

from localaws.hosting.models import HostingError
from localaws.hosting.multimodel import (
    MultiModelContainer,
    MultiModelSettingError,
    check_target_model,
    memory_budget,
)
from serving.inference import Options
from tests.helpers.models import xgboost_model


class DirectoryS3:
    """download_file from objects kept as files under root/<bucket>/<key>; each download waits
    for `gate` (set: no wait) and is counted."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.gate = threading.Event()
        self.gate.set()
        self.downloads = 0
        self._lock = threading.Lock()

    def download_file(self, bucket: str, key: str, path: str) -> None:
        with self._lock:
            self.downloads += 1
        self.gate.wait(timeout=10)
        source = self.root / bucket / key
        if not source.is_file():
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        shutil.copyfile(source, path)


@pytest.fixture
def store(tmp_path):
    s3 = DirectoryS3(tmp_path / "s3")
    built = xgboost_model(tmp_path)
    (tmp_path / "s3" / "b" / "mme").mkdir(parents=True)
    built.tarball(tmp_path / "s3" / "b" / "mme" / "a.tar.gz")
    return s3, built, tmp_path


def container(s3, tmp_path, **overrides) -> MultiModelContainer:
    settings = {
        "where": "model m, container c",
        "hostname": "c",
        "prefix": "s3://b/mme/",
        "s3": s3,
        "cache_dir": tmp_path / "cache",
        "pickle_locations": (),
        "options": Options(),
        "budget_bytes": 1 << 30,
        **overrides,
    }
    return MultiModelContainer(**settings)


def csv(X: np.ndarray) -> bytes:
    return "".join(
        ",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n" for r in X
    ).encode()


def waiting_for_the_load(mme: MultiModelContainer, target: str, requests: int) -> None:
    """Until `requests` threads wait for target's load (the Event's waiters: test-only peek)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        loading = mme._loading.get(target)
        if loading is not None and len(loading.done._cond._waiters) == requests:
            return
        time.sleep(0.005)
    raise AssertionError(f"{requests} requests did not all wait for {target}")


def test_concurrent_first_requests_load_the_model_once(store):
    s3, built, tmp = store
    mme = container(s3, tmp)
    seen: list[tuple[str, float, str]] = []
    s3.gate.clear()
    with ThreadPoolExecutor(8) as pool:
        futures = [
            pool.submit(
                mme.invoke, csv(built.X), "text/csv", None, "a.tar.gz", lambda *m: seen.append(m)
            )
            for _ in range(8)
        ]
        waiting_for_the_load(mme, "a.tar.gz", 8)
        s3.gate.set()
        answers = [f.result(timeout=20) for f in futures]
    assert s3.downloads == 1
    for answer in answers:
        np.testing.assert_allclose(np.array(answer.body.split(), dtype=float), built.expected)
    hits = [value for name, value, _ in seen if name == "ModelCacheHit"]
    assert hits == [0.0] * 8  # all of them waited for the one load
    assert len([name for name, _, _ in seen if name == "ModelLoadingWaitTime"]) == 8
    assert len([name for name, _, _ in seen if name == "ModelDownloadingTime"]) == 1


def test_a_load_beyond_the_wait_answers_model_not_ready_and_goes_on(store):
    s3, built, tmp = store
    mme = container(s3, tmp, wait_s=0.05)
    s3.gate.clear()
    with pytest.raises(HostingError) as caught:
        mme.invoke(csv(built.X), "text/csv", None, "a.tar.gz", lambda *m: None)
    assert (caught.value.status, caught.value.code) == (429, "ModelNotReadyException")
    s3.gate.set()
    deadline = time.monotonic() + 10
    while not mme.loaded and time.monotonic() < deadline:
        time.sleep(0.01)
    seen: list[tuple[str, float, str]] = []  # the retry, once the load finished, is a cache hit
    answer = mme.invoke(csv(built.X), "text/csv", None, "a.tar.gz", lambda *m: seen.append(m))
    np.testing.assert_allclose(np.array(answer.body.split(), dtype=float), built.expected)
    assert ("ModelCacheHit", 1.0, "None") in seen
    assert s3.downloads == 1


def test_a_failed_load_is_retried_by_the_next_request(store):
    s3, built, tmp = store
    mme = container(s3, tmp)
    with pytest.raises(HostingError) as caught:
        mme.invoke(csv(built.X), "text/csv", None, "b.tar.gz", lambda *m: None)
    assert caught.value.code == "ValidationError"
    assert "Failed to download model data(bucket: b, key: mme/b.tar.gz)" in str(caught.value)
    shutil.copyfile(tmp / "s3" / "b" / "mme" / "a.tar.gz", tmp / "s3" / "b" / "mme" / "b.tar.gz")
    answer = mme.invoke(csv(built.X), "text/csv", None, "b.tar.gz", lambda *m: None)
    np.testing.assert_allclose(np.array(answer.body.split(), dtype=float), built.expected)
    assert list((tmp / "cache").iterdir()) and mme.loaded == ["b.tar.gz"]


def test_a_prefix_without_a_slash_is_joined_with_one(store):
    s3, _, tmp = store
    assert container(s3, tmp, prefix="s3://b/mme").url("a.tar.gz") == "s3://b/mme/a.tar.gz"
    with pytest.raises(HostingError, match="is not an s3://BUCKET/PREFIX"):
        container(s3, tmp, prefix="/local/models/")


def test_memory_budget_setting():
    assert memory_budget({}) == 1024 * 1024 * 1024
    assert memory_budget({"LOCALAWS_MME_MEMORY_MB": "0.5"}) == 512 * 1024
    for bad in ("0", "-3", "lots"):
        with pytest.raises(MultiModelSettingError, match="LOCALAWS_MME_MEMORY_MB"):
            memory_budget({"LOCALAWS_MME_MEMORY_MB": bad})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "missing a target model header"),
        ("", "length greater than or equal to 1"),
        ("m" * 1025, "length less than or equal to 1024"),
        ("\tmodel.tar.gz", "regular expression pattern"),
        ("a\nb.tar.gz", "regular expression pattern"),
    ],
)
def test_target_model_constraints(value, expected):
    with pytest.raises(HostingError, match=expected) as caught:
        check_target_model(value, "model m")
    assert (caught.value.status, caught.value.code) == (400, "ValidationError")


def test_valid_target_models_pass():
    for value in ("a.tar.gz", "team b/model 1.tar.gz", "m" * 1024):
        assert check_target_model(value, "model m") == value

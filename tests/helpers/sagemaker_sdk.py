"""The sagemaker SDK's Model Monitor file classes over local files: an in-memory session stands
in for S3 (the classes upload a local file, then read it back by URI; save() writes it back)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")


class InMemorySession:
    """What Statistics / Constraints / ConstraintViolations call on a sagemaker Session."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    default_bucket_prefix = None

    def default_bucket(self) -> str:
        return "in-memory"

    def upload_data(self, path, bucket="in-memory", key_prefix="", extra_args=None, callback=None):
        name = Path(path).name
        key = key_prefix if key_prefix.endswith(name) else f"{key_prefix.rstrip('/')}/{name}"
        self.objects[(bucket, key)] = Path(path).read_bytes()
        return f"s3://{bucket}/{key}"

    def upload_string_as_file_body(self, body, bucket, key, kms_key=None):
        self.objects[(bucket, key)] = body.encode() if isinstance(body, str) else body
        return f"s3://{bucket}/{key}"

    def read_s3_file(self, bucket, key_prefix):
        return self.objects[(bucket, key_prefix)].decode()


def _load(cls_name: str, path: Path, session: InMemorySession | None = None):
    from sagemaker import model_monitor

    cls = getattr(model_monitor, cls_name)
    return cls.from_file_path(str(path), sagemaker_session=session or InMemorySession())


def sdk_statistics(path: Path):
    return _load("Statistics", path)


def sdk_constraints(path: Path):
    return _load("Constraints", path)


def sdk_violations(path: Path):
    return _load("ConstraintViolations", path)


def sdk_constraints_saved(path: Path, edit: Callable[[Any], None]) -> dict[str, Any]:
    """Load constraints with the SDK, edit them as a user would, save(), and return what the
    SDK wrote."""
    session = InMemorySession()
    constraints = _load("Constraints", path, session)
    edit(constraints)
    constraints.save()
    return json.loads(session.read_s3_file(*_bucket_key(constraints.file_s3_uri)))


def _bucket_key(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key

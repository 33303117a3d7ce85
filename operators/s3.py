"""S3 as the operators use it: URIs, objects and JSON documents, content-addressed uploads."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from operators.errors import ConfigError

JSON_TYPE = "application/json"


def split_uri(uri: str, what: str = "S3 URI") -> tuple[str, str]:
    """s3://BUCKET/KEY → (BUCKET, KEY); KEY may be empty or a prefix."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket:
        raise ConfigError(f"{what} {uri!r} is not an s3://BUCKET/KEY URI")
    return bucket, key


def join_uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}"


def get_bytes(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def get_bytes_or_none(s3: Any, bucket: str, key: str) -> bytes | None:
    """The object's bytes, or None when there is no such object."""
    try:
        return get_bytes(s3, bucket, key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise


def put_json(s3: Any, bucket: str, key: str, document: Any) -> str:
    """Write a JSON document (indented, a final newline); returns its s3:// URI."""
    body = (json.dumps(document, indent=2, default=str) + "\n").encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=JSON_TYPE)
    return join_uri(bucket, key)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Uploaded:
    bucket: str
    key: str
    size: int
    sha256: str

    @property
    def uri(self) -> str:
        return join_uri(self.bucket, self.key)


def upload_content_addressed(
    s3: Any, bucket: str, prefix: str, files: dict[str, Path], digest: str | None = None
) -> list[Uploaded]:
    """Upload {name: file} under PREFIX<sha256 of the first file, 16 hex>/<name>, each with its
    own sha256 in its metadata: the first file (the model) names the folder, so the same model
    always lands at the same key. `digest` is the first file's sha256 when the caller has it."""
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        raise ConfigError(f"missing {', '.join(missing)}")
    first = next(iter(files.values()))
    folder = f"{prefix}{(digest or sha256_of(first))[:16]}"
    uploaded = []
    for name, path in files.items():
        checksum = digest if path is first and digest else sha256_of(path)
        key = f"{folder}/{name}"
        extra: dict[str, Any] = {"Metadata": {"sha256": checksum}}
        if name.endswith(".json"):
            extra["ContentType"] = JSON_TYPE
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
        uploaded.append(Uploaded(bucket, key, path.stat().st_size, checksum))
    return uploaded

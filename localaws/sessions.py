"""The clients the embedded AWS makes of itself (the hosting's, the runtime's), from one boto3
session.

A client from a session of its own reads botocore's data again: the partitions and endpoints
(~1 MB of JSON) and the service's model (SageMaker's alone is ~1.5 MB). The runtime makes one per
service, region and caller: from fresh sessions, that JSON was a third of the emulator's start
(4.3-5.0 s of CPU). One session's loader reads each file once; each client still gets its own
region, credentials and endpoint.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_session: boto3.session.Session | None = None


def client(
    service: str,
    *,
    region: str,
    endpoint_url: str,
    access_key: str,
    secret_key: str,
    config: Config,
) -> Any:
    """A client of `service` at `endpoint_url` in `region`, signing as `access_key`."""
    global _session
    with _lock:  # a boto3 session is not safe to share between threads; its clients are
        if _session is None:
            _session = boto3.session.Session()
        return _session.client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

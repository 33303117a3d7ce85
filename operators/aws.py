"""The one place AWS clients are created.

Where requests go is decided only by the environment, as boto3 reads it: AWS_ENDPOINT_URL (and
the per-service AWS_ENDPOINT_URL_<SERVICE>) for the embedded emulator or LocalStack; nothing for
real AWS. Code never branches on local vs AWS.
"""

from __future__ import annotations

import os
import threading
from functools import cached_property

import boto3
from botocore.config import Config

# Adaptive retries back off on throttling; a few attempts keep emulator failures fast.
_CLIENT_CONFIG = Config(retries={"max_attempts": 4, "mode": "adaptive"}, connect_timeout=5)

_lock = threading.Lock()  # a boto3 session is not safe to share between threads; its clients are
_sessions: dict[tuple, boto3.session.Session] = {}


def shared_session(region_name: str | None = None) -> boto3.session.Session:
    """The process's boto3 session for the environment as it is now: one per region and set of
    AWS_* variables. A session of its own parses botocore's endpoints and every service model
    again, 0.2-0.3 s of CPU per first client (a poll that made `Clients()` each time paid it on
    every call)."""
    key = (region_name, tuple(sorted(i for i in os.environ.items() if i[0].startswith("AWS_"))))
    with _lock:
        if key not in _sessions:
            _sessions[key] = boto3.session.Session(region_name=region_name)
        return _sessions[key]


class Clients:
    """Lazily created boto3 clients sharing one session; pass one of these to the operators."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session or shared_session()
        self._clients: dict[str, object] = {}

    @cached_property
    def region(self) -> str:
        return self._session.region_name or "us-east-1"

    def client(self, service: str):
        with _lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(
                    service, region_name=self.region, config=_CLIENT_CONFIG
                )
            return self._clients[service]

    @property
    def s3(self):
        return self.client("s3")

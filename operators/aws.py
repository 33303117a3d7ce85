"""The one place AWS clients are created.

Where requests go is decided only by the environment, as boto3 reads it: AWS_ENDPOINT_URL (and
the per-service AWS_ENDPOINT_URL_<SERVICE>) for the embedded emulator or LocalStack; nothing for
real AWS. Code never branches on local vs AWS.
"""

from __future__ import annotations

from functools import cached_property

import boto3
from botocore.config import Config

# Adaptive retries back off on throttling; a few attempts keep emulator failures fast.
_CLIENT_CONFIG = Config(retries={"max_attempts": 4, "mode": "adaptive"}, connect_timeout=5)


class Clients:
    """Lazily created boto3 clients sharing one session; pass one of these to the operators."""

    def __init__(self, session: boto3.session.Session | None = None) -> None:
        self._session = session or boto3.session.Session()
        self._clients: dict[str, object] = {}

    @cached_property
    def region(self) -> str:
        return self._session.region_name or "us-east-1"

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self._session.client(
                service, region_name=self.region, config=_CLIENT_CONFIG
            )
        return self._clients[service]

    @property
    def s3(self):
        return self.client("s3")

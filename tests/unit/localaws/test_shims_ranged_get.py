"""A ranged GetObject reads the range from the object's buffer, not the whole object."""

from __future__ import annotations

import boto3
from moto import mock_aws
from moto.s3.models import s3_backends

from localaws import shims

SIZE = 4 * 2**20


class CountingBuffer:
    """An object's buffer that counts the bytes read from it."""

    def __init__(self, buffer) -> None:
        self.buffer, self.read_bytes = buffer, 0

    def read(self, *args):
        data = self.buffer.read(*args)
        self.read_bytes += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self.buffer, name)


def test_a_ranged_get_reads_only_its_range_and_a_plain_get_the_whole_object(monkeypatch):
    # In-process moto: not the emulator the session's fixture points the endpoint variables at.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    shims.apply()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="ranged")
        body = bytes(range(256)) * (SIZE // 256)
        s3.put_object(Bucket="ranged", Key="k", Body=body)
        account = boto3.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
        key = s3_backends[account]["aws"].buckets["ranged"].keys["k"]  # moto's: set by the env
        counting = key._value_buffer = CountingBuffer(key._value_buffer)

        got = s3.get_object(Bucket="ranged", Key="k", Range="bytes=1000-66535")["Body"].read()
        assert got == body[1000:66536]
        assert counting.read_bytes == len(got)  # moto alone read 4 MiB, then sliced a copy

        counting.read_bytes = 0
        assert s3.get_object(Bucket="ranged", Key="k", Range="bytes=-5")["Body"].read() == body[-5:]
        assert counting.read_bytes == 5

        counting.read_bytes = 0  # a multi-range is answered with the whole object, as moto does
        assert s3.get_object(Bucket="ranged", Key="k", Range="bytes=0-1,5-6")["Body"].read() == body
        assert counting.read_bytes == SIZE

        counting.read_bytes = 0
        assert s3.get_object(Bucket="ranged", Key="k")["Body"].read() == body
        assert counting.read_bytes == SIZE

"""Replays a landed raw object (or any JSON Lines file) as a tick's payload: a source whose name
ends in `.gz` (how the lake stores raw now) is gunzipped, any other is read as it is (raw objects
landed before, and plain files), so the payload is the provider's bytes exactly."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from marketdata_assets.errors import ConfigError


class ReplayProvider:
    """Reads JSON Lines from a local path or an s3://bucket/key URI, bytes untouched (a `.gz`
    source unpacked as the lake packed it)."""

    name = "replay"

    def __init__(self, source: str):
        self.source = source
        if not source.startswith("s3://") and not Path(source).is_file():
            raise ConfigError(f"--source {source!r}: no such file")

    def fetch(self, tick: datetime) -> bytes:
        from marketdata_assets.lake import LakeError
        from marketdata_assets.lake.codecs import unpacked

        s3 = self.source.startswith("s3://")
        stored = _read_s3(self.source) if s3 else Path(self.source).read_bytes()
        try:
            return unpacked(self.source, stored)
        except LakeError as error:
            raise ConfigError(f"--source {self.source!r}: {error}") from None


def _read_s3(uri: str) -> bytes:
    import boto3
    from botocore.exceptions import ClientError

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise ConfigError(f"--source {uri!r}: an S3 source is s3://BUCKET/KEY")
    try:
        response = boto3.client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        raise ConfigError(f"--source {uri!r}: S3 GetObject failed: {error}") from None
    body: bytes = response["Body"].read()
    return body


def check_source(uri: str) -> None:
    """A source in S3 must exist (HeadObject), so a typo is bad input, not a failed run."""
    if not uri.startswith("s3://"):
        return  # a local file is checked when the provider is built
    from botocore.exceptions import BotoCoreError, ClientError

    from marketdata_assets.lake.aws import describe
    from marketdata_assets.stores import aws_client

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        aws_client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        status = error.response.get("Error", {}).get("Code", "")
        reason = "no such object" if status in ("404", "NoSuchKey") else describe(error)
        raise ConfigError(f"--source {uri!r}: S3 HeadObject failed: {reason}") from None
    except BotoCoreError as error:
        raise ConfigError(f"--source {uri!r}: S3 HeadObject failed: {error}") from None

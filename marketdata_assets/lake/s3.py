"""The lake in an S3 bucket: the same keys as the local lake, bytes through boto3."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from marketdata_assets.lake.aws import describe


class LakeError(RuntimeError):
    """A lake operation failed; the message names the operation and the key."""


class S3ObjectStore:
    """Objects in `bucket`. PutObject is atomic: readers see the old object or the new one."""

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    def _fail(self, operation: str, key: str, error: Exception) -> LakeError:
        return LakeError(f"S3 {operation} s3://{self.bucket}/{key} failed: {describe(error)}")

    def put(self, key: str, body: bytes) -> str:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
        except (ClientError, BotoCoreError) as error:
            raise self._fail("PutObject", key, error) from error
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise self._fail("GetObject", key, error) from error
        return body

    def keys(self, prefix: str) -> list[str]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as error:
            raise self._fail("ListObjectsV2", prefix, error) from error

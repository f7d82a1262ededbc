"""The lake in an S3 bucket: the same keys as the local lake, bytes through boto3."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from marketdata_assets.lake.aws import describe
from marketdata_assets.lake.objects import LakeError

FETCHERS = 8  # GETs in flight at once (the client's pool holds 16 connections)


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
        return self.location(key)

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise self._fail("GetObject", key, error) from error
        return body

    def get_many(self, keys: Sequence[str]) -> list[bytes]:
        if len(keys) < 2:
            return [self.get(key) for key in keys]
        with ThreadPoolExecutor(min(FETCHERS, len(keys))) as pool:
            return list(pool.map(self.get, keys))

    def keys(self, prefix: str) -> list[str]:
        return sorted(item["Key"] for item in self._listed(prefix))

    def keys_after(self, prefix: str, start_after: str, limit: int) -> list[str]:
        try:
            page = self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=prefix, StartAfter=start_after, MaxKeys=limit
            )
        except (ClientError, BotoCoreError) as error:
            raise self._fail("ListObjectsV2", prefix, error) from error
        return sorted(item["Key"] for item in page.get("Contents", []))

    def folders(self, prefix: str) -> list[str]:
        return sorted(
            folder["Prefix"]
            for page in self._pages(prefix, Delimiter="/")
            for folder in page.get("CommonPrefixes", [])
        )

    def versions(self, prefix: str) -> dict[str, str]:
        listed = sorted(self._listed(prefix), key=lambda item: str(item["Key"]))
        return {item["Key"]: str(item["ETag"]) for item in listed}

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def local_path(self, key: str) -> Path | None:
        return None

    def _listed(self, prefix: str) -> list[dict[str, Any]]:
        return [item for page in self._pages(prefix) for item in page.get("Contents", [])]

    def _pages(self, prefix: str, **options: str) -> list[dict[str, Any]]:
        """ListObjectsV2's pages under `prefix`, every one fetched here: the paginator requests
        a page as it is iterated, so a failure on any page is one LakeError too."""
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            return list(paginator.paginate(Bucket=self.bucket, Prefix=prefix, **options))
        except (ClientError, BotoCoreError) as error:
            raise self._fail("ListObjectsV2", prefix, error) from error

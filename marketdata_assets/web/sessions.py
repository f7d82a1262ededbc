"""The daily datasets' session objects as the dashboard reads them: each answer computed from an
object (every symbol's bars at an interval, daily bars, analytics) is kept while the object is
unchanged, and one symbol's rows are sliced out of it (objects are sorted by symbol)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from marketdata_assets.lake import ObjectStore
from marketdata_assets.settings import StorageSettings
from marketdata_assets.web.kept import Kept, KeptObjects

FETCHERS = 8  # concurrent S3 GETs of session objects


class SessionObjects:
    """The daily datasets' session objects (`history.query.Sessions`): each answer computed from
    an object is kept while the object's version is unchanged; versions are listed at most every
    LISTING_S seconds."""

    def __init__(self, settings: StorageSettings, lake: ObjectStore, listings: Kept, size: int):
        self.settings, self.lake, self._listings = settings, lake, listings
        self.kept = KeptObjects(size)

    def keys(self, dataset: str) -> frozenset[str]:
        return self._versions(dataset)[0]

    def held(self, dataset: str) -> int:
        """A fingerprint of the objects `dataset` holds and their versions."""
        return self._versions(dataset)[2]

    def answers(
        self,
        keys: Sequence[str],
        kind: Hashable,
        compute: Callable[[str, pa.Table], pa.Table],
        symbol: str | None,
    ) -> list[pa.Table]:
        if not keys:
            return []
        versions = self._versions(keys[0].partition("/")[0])[1]

        def one(key: str) -> tuple[pa.Table, dict[str, tuple[int, int]] | None]:
            def computed() -> tuple[pa.Table, dict[str, tuple[int, int]] | None]:
                table = pq.read_table(io.BytesIO(self.lake.get(key)))
                answer = compute(key, table).combine_chunks()
                return answer, _runs(answer.column("symbol"))

            return self.kept.get((key, kind), versions.get(key), computed, _table_bytes)

        asked = [((key, kind), versions.get(key)) for key in keys]
        found = self.kept.peek(asked)
        missing = [key for key, answer in zip(keys, found, strict=True) if answer is None]
        if len(missing) > 1 and self.settings.profile != "local":
            with ThreadPoolExecutor(FETCHERS) as pool:  # S3 GETs concurrently
                fetched = dict(zip(missing, pool.map(one, missing), strict=True))
        else:
            fetched = {key: one(key) for key in missing}
        return [
            _rows_of(answer if answer is not None else fetched[key], symbol)
            for key, answer in zip(keys, found, strict=True)
        ]

    def _versions(self, dataset: str) -> tuple[frozenset[str], dict[str, Hashable], int]:
        """The keys `dataset` holds, each object's version (local: its time and size; S3: its
        ETag), and their hash."""

        def listed() -> tuple[frozenset[str], dict[str, Hashable], int]:
            prefix = f"{dataset}/"
            if self.settings.profile == "local":
                root = self.settings.data_dir
                versions: dict[str, Hashable] = {
                    key: (stat.st_mtime_ns, stat.st_size)
                    for key in self.lake.keys(prefix)
                    if (stat := file_stat(root / key)) is not None
                }
            else:
                versions = _etags(self.lake, prefix)
            return frozenset(versions), versions, hash(tuple(versions.items()))

        return self._listings.get(("versions", dataset), listed)


def _etags(lake: ObjectStore, prefix: str) -> dict[str, Hashable]:
    """Each S3 object's ETag under `prefix`."""
    from botocore.exceptions import BotoCoreError, ClientError

    from marketdata_assets.lake.aws import describe
    from marketdata_assets.lake.s3 import LakeError, S3ObjectStore

    assert isinstance(lake, S3ObjectStore)
    try:
        pages = lake.client.get_paginator("list_objects_v2").paginate(
            Bucket=lake.bucket, Prefix=prefix
        )
        return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}
    except (ClientError, BotoCoreError) as error:
        message = f"S3 ListObjectsV2 s3://{lake.bucket}/{prefix} failed: {describe(error)}"
        raise LakeError(message) from error


def _rows_of(
    answer: tuple[pa.Table, dict[str, tuple[int, int]] | None], symbol: str | None
) -> pa.Table:
    """The rows of `symbol` (None: every row) of a kept answer (its table and symbols' runs)."""
    table, runs = answer
    if symbol is None:
        return table
    if runs is None:
        return table.filter(pc.field("symbol") == symbol)
    start, length = runs.get(symbol, (0, 0))
    return table.slice(start, length)


def _runs(symbols: pa.ChunkedArray) -> dict[str, tuple[int, int]] | None:
    """Where each symbol's rows start and how many they are, when each symbol's rows are
    together (objects are sorted by symbol); None when they are not."""
    encoded = pc.run_end_encode(symbols.combine_chunks())
    ends = encoded.run_ends.to_pylist()
    values = encoded.values.to_pylist()
    if len(set(values)) != len(values):
        return None
    starts = [0, *ends][: len(ends)]
    return {
        value: (start, end - start) for value, start, end in zip(values, starts, ends, strict=True)
    }


def _table_bytes(decoded: tuple[pa.Table, object]) -> int:
    return decoded[0].nbytes


def file_stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None

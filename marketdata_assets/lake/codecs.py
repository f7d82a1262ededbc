"""How each dataset's value becomes bytes, by its registered codec: raw stays as fetched (and is
stored gzip-compressed when its file name ends in `.gz`: the name, not the content, says how an
object is stored, so an older uncompressed object and any bytes a provider sent read back
exactly), tables become Parquet (daily ones sorted by symbol then time), manifests become JSON.

A table is written only when it holds exactly its registered schema's columns and dtypes, so
no object of another schema lands under a dataset's prefix; a column pandas cannot type (an
empty list column) is written as its registered type, and read as it by `table`, also from
objects written before (whose `reasons` in a session without rejected rows is typed null)."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from marketdata_assets.lake.datasets import dataset
from marketdata_assets.lake.objects import LakeError, ObjectStore, present_key
from marketdata_assets.lake.schemas import conform, dtype_violations

ROW_GROUP_ROWS = 8192
GZIP, GZIP_MAGIC = ".gz", b"\x1f\x8b"
# A fixed mtime keeps a rerun's object byte-identical. Each dataset names its level
# (`Dataset.gzip_level`): zlib's default 6 for a tick's small raw, 1 for a session's whole days.


def encode(name: str, value: object) -> bytes:
    """The bytes of one `name` object holding `value`."""
    spec = dataset(name)
    if spec.codec == "bytes":
        if not isinstance(value, bytes):
            raise TypeError(f"{name} objects are bytes as fetched, got {type(value).__name__}")
        return packed(spec.file, value, spec.gzip_level or 6)
    if spec.codec == "json":
        return (json.dumps(value, sort_keys=True, separators=(",", ":")) + "\n").encode()
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name} objects are DataFrames, got {type(value).__name__}")
    wrong = dtype_violations(value, spec.columns) if spec.columns else []
    if wrong:
        raise TypeError(f"{name} objects hold the {name} schema: {'; '.join(wrong)}")
    if spec.sort_by:
        value = value.sort_values(list(spec.sort_by), kind="stable", ignore_index=True)
    sink = io.BytesIO()
    pq.write_table(
        conform(pa.Table.from_pandas(value, preserve_index=False), spec.columns),
        sink,
        compression="zstd",
        # Sorted by symbol, small row groups let a reader of one symbol skip the others' by
        # their min/max statistics (a session of 500 symbols is ~24 groups, not one).
        row_group_size=ROW_GROUP_ROWS if spec.sort_by else None,
    )
    return sink.getvalue()


def decode(name: str, body: bytes, key: str | None = None) -> object:
    """The value one stored `name` object holds (tables as they were written; bytes as fetched,
    unpacked by the name of `key`, by default the dataset's current one); an object that is no
    readable Parquet or gzip is a LakeError naming `key` (or the dataset)."""
    spec = dataset(name)
    if spec.codec == "bytes":
        return unpacked(key or spec.file, body)
    if spec.codec == "json":
        return json.loads(body)
    return typed_table(name, key or f"a {name} object", body).to_pandas()


def packed(key: str, body: bytes, level: int = 6) -> bytes:
    """`body` as stored at `key`: gzip-compressed (at zlib `level`) when the key's name ends in
    `.gz`."""
    return gzip.compress(body, level, mtime=0) if key.endswith(GZIP) else body


def unpacked(key: str, stored: bytes) -> bytes:
    """The bytes an object stored at `key` holds (`packed` undone); a `.gz` object that is no
    whole gzip stream is a LakeError naming `key`."""
    if not key.endswith(GZIP):
        return stored
    if not stored.startswith(GZIP_MAGIC):  # gzip reads an empty object as empty bytes
        raise LakeError(f"read {key} failed: not a whole gzip object (no gzip header)")
    try:
        return gzip.decompress(stored)
    except (OSError, EOFError, zlib.error) as error:
        cause = " ".join(str(error).split()) or type(error).__name__
        raise LakeError(f"read {key} failed: not a whole gzip object ({cause})") from None


def read_payload(store: ObjectStore, keys: Sequence[str]) -> bytes | None:
    """The bytes held by the first of `keys` (one object's names, `keys.object_keys` or
    `keys.day_keys`) the store holds, unpacked; None when it holds none of them."""
    key = present_key(store, keys)
    return None if key is None else unpacked(key, store.get(key))


def typed_table(name: str, key: str, body: bytes, filters: object = None) -> pa.Table:
    """The table of the `name` object at `key` (`parquet_table`), each column its registered
    type where Arrow typed it null."""
    return conform(parquet_table(key, body, filters), dataset(name).columns)


def parquet_table(key: str, body: bytes, filters: object = None) -> pa.Table:
    """The table the Parquet object at `key` holds; a corrupt, truncated or empty object is a
    LakeError naming `key` (one line: exit 1 on the CLI, 503 on the API), not a traceback."""
    try:
        return pq.read_table(io.BytesIO(body), filters=filters)
    except (pa.ArrowException, OSError) as error:
        raise unreadable(key, error) from None


def unreadable(key: str, error: BaseException) -> LakeError:
    """The one line of an object at `key` that is no readable Parquet."""
    cause = " ".join(str(error).split())
    return LakeError(f"read {key} failed: not a readable Parquet object ({cause})")

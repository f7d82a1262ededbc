"""How each dataset's value becomes bytes, by its registered codec: raw stays as fetched,
tables become Parquet (daily ones sorted by symbol then time), manifests become JSON.

A table is written only when it holds exactly its registered schema's columns and dtypes, so
no object of another schema lands under a dataset's prefix; a column pandas cannot type (an
empty list column) is written as its registered type, and read as it by `table`, also from
objects written before (whose `reasons` in a session without rejected rows is typed null)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from marketdata_assets.lake.datasets import dataset
from marketdata_assets.lake.objects import LakeError
from marketdata_assets.lake.schemas import conform, dtype_violations

ROW_GROUP_ROWS = 8192


def encode(name: str, value: object) -> bytes:
    """The bytes of one `name` object holding `value`."""
    spec = dataset(name)
    if spec.codec == "bytes":
        if not isinstance(value, bytes):
            raise TypeError(f"{name} objects are bytes as fetched, got {type(value).__name__}")
        return value
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
    """The value one stored `name` object holds (tables as they were written); a table that is
    no readable Parquet is a LakeError naming `key` (or the dataset)."""
    spec = dataset(name)
    if spec.codec == "bytes":
        return body
    if spec.codec == "json":
        return json.loads(body)
    return typed_table(name, key or f"a {name} object", body).to_pandas()


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

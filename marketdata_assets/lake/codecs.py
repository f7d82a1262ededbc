"""How each dataset's value becomes bytes: raw stays as fetched, tables become Parquet."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def encode(dataset: str, value: object) -> bytes:
    if dataset == "raw":
        if not isinstance(value, bytes):
            raise TypeError(f"raw objects are bytes as fetched, got {type(value).__name__}")
        return value
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{dataset} objects are DataFrames, got {type(value).__name__}")
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(value, preserve_index=False), sink, compression="zstd")
    return sink.getvalue()


def decode(dataset: str, body: bytes) -> object:
    if dataset == "raw":
        return body
    return pq.read_table(io.BytesIO(body)).to_pandas()

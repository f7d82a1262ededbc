"""Every dataset's schema is fixed by the registry (issue 20, item 6): an empty or all-null
column is written as its registered Arrow type (pandas holds a list column as objects, which an
empty frame does not type), and objects written before, whose `reasons` is typed null in a
session without rejected rows, are read as `list<string>`, across sessions with good ones."""

from __future__ import annotations

import io
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketdata_assets.lake import DATASETS, LocalObjectStore, day_key
from marketdata_assets.lake.codecs import decode, encode, typed_table
from marketdata_assets.lake.schemas import arrow_schema

pytestmark = pytest.mark.domain

TABLES = [d.name for d in DATASETS.values() if d.columns]
# What the registry's `string` is as pandas 3 writes it: the same column to Parquet and Athena.
SAME = {(pa.string(), pa.large_string())}


def empty(name: str) -> pd.DataFrame:
    dtypes = DATASETS[name].dtypes
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in dtypes.items()})


def all_null(name: str) -> pd.DataFrame:
    """Two rows, every nullable column null (the required ones zero / false)."""
    frame = {}
    for column in DATASETS[name].columns:
        dtype = DATASETS[name].dtypes[column.name]
        if not column.nullable:
            frame[column.name] = pd.Series(
                [0, 0] if dtype == "int64" else [False, False], dtype=dtype
            )
        elif dtype == "object":
            frame[column.name] = pd.Series([None, None], dtype=object)
        else:
            frame[column.name] = pd.Series([None, None], dtype=dtype)
    return pd.DataFrame(frame)


def assert_registry_types(name: str, table: pa.Table) -> None:
    wanted = arrow_schema(DATASETS[name].columns, described=False)
    for field in wanted:
        found = table.schema.field(field.name).type
        assert found == field.type or (field.type, found) in SAME, (name, field.name, found)


@pytest.mark.parametrize("name", TABLES)
@pytest.mark.parametrize("frame", [empty, all_null])
def test_an_empty_or_all_null_object_is_written_in_its_registered_types(name, frame) -> None:
    body = encode(name, frame(name))
    assert_registry_types(name, pq.read_table(io.BytesIO(body)))


def old_empty_quarantine() -> bytes:
    """A session without rejected rows as the old code wrote it: `reasons` typed null."""
    table = pa.Table.from_pandas(empty("bars_quarantine"), preserve_index=False)
    assert pa.types.is_null(table.schema.field("reasons").type)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def rejected_rows() -> pd.DataFrame:
    frame = all_null("bars_quarantine").head(1)
    frame["symbol"] = pd.Series(["AAPL"], dtype="str")
    frame["reasons"] = pd.Series([["non_positive_price", "high_below_low"]], dtype=object)
    frame["session"] = pd.Series([pd.Timestamp("2026-11-24")], dtype="datetime64[us]")
    return frame


def test_old_null_typed_reasons_read_across_sessions_with_a_good_one(tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    old, new = (
        day_key("bars_quarantine", date(2026, 11, 23)),
        day_key("bars_quarantine", date(2026, 11, 24)),
    )
    store.put(old, old_empty_quarantine())
    store.put(new, encode("bars_quarantine", rejected_rows()))
    # As pyarrow read the dataset's folder before: the two sessions' schemas do not agree.
    with pytest.raises(pa.ArrowException):
        pq.read_table(tmp_path / "bars_quarantine")
    tables = [typed_table("bars_quarantine", key, store.get(key)) for key in (old, new)]
    for table in tables:
        assert_registry_types("bars_quarantine", table)
    sessions = pa.concat_tables(tables)  # the same schema: no promotion needed
    assert sessions.column("reasons").to_pylist() == [["non_positive_price", "high_below_low"]]
    frames = [decode("bars_quarantine", store.get(key), key) for key in (old, new)]
    assert [list(cell) for cell in pd.concat(frames)["reasons"]] == [
        ["non_positive_price", "high_below_low"]
    ]
    found = duckdb.sql("SELECT symbol, unnest(reasons) AS reason FROM sessions ORDER BY reason")
    assert found is not None and found.fetchall() == [
        ("AAPL", "high_below_low"),
        ("AAPL", "non_positive_price"),
    ]
    # Written by the registry's types, the folder reads as one dataset again.
    store.put(old, encode("bars_quarantine", empty("bars_quarantine")))
    assert pq.read_table(tmp_path / "bars_quarantine").column("reasons").to_pylist() == [
        ["non_positive_price", "high_below_low"]
    ]

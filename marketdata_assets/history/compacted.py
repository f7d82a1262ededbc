"""The compacted layout of closed periods: each calendar month's `minute_bars` session objects
folded into one `minute_bars_monthly` object, read in their place while it is current.

The session objects stay the unit of backfill and rewrite. A monthly object holds the rows of
the month's session objects as the lake held them when it was written, sorted by symbol then
start, one row group per symbol (a reader of one symbol skips the others' by their min/max
statistics), and a manifest in its Parquet metadata: each session object's key and version
(`ObjectStore.versions`: a local file's time, size and inode; an S3 ETag), listed before their
bytes were read, so a session rewritten meanwhile is recorded older than its bytes.

A reader lists the session objects' versions (the listing it makes anyway; on S3 the same
request) and takes a monthly object only when every session in its manifest is held at exactly
the version recorded: a session rewritten, or removed, since the month was compacted makes the
object stale, and the month is read from its session objects instead. Sessions held but absent
from the manifest (backfilled or landed after the compaction) are read from their objects beside
it. No Dagster and no Great Expectations here.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from marketdata_assets.lake import LakeError, ObjectStore, day_key
from marketdata_assets.lake.codecs import typed_table, unreadable
from marketdata_assets.lake.datasets import dataset
from marketdata_assets.lake.keys import day_of_key, month_key

# The session dataset each monthly dataset compacts.
COMPACTED = {"minute_bars": "minute_bars_monthly"}
MANIFEST = b"marketdata.sessions"  # Parquet metadata: {session object key: its version}
_ROW_GROUP_LIMIT = 1 << 17  # a symbol's rows per row group at most (a month holds ~8k)


@dataclass(frozen=True)
class Compaction:
    """What compacting one month wrote: its key, the sessions it holds, rows and bytes."""

    key: str
    sessions: int
    rows: int
    bytes: int


def month_of(day: date) -> date:
    """The first day of `day`'s calendar month (what names its compacted object)."""
    return day.replace(day=1)


def compact(store: ObjectStore, name: str, month: date) -> Compaction | None:
    """Fold the session objects of `name` held in `month` into its monthly object, recording
    the versions listed before reading them; None (nothing written) when none is held."""
    target = COMPACTED[name]
    versions = _in_month(name, store.versions(f"{name}/"), month)
    if not versions:
        return None
    keys = sorted(versions)
    bodies = store.get_many(keys)
    # The session objects' own columns and types (what a reader of them decodes), sorted.
    tables = [typed_table(name, key, body) for key, body in zip(keys, bodies, strict=True)]
    table = pa.concat_tables(tables, promote_options="default").replace_schema_metadata(None)
    table = table.sort_by([(column, "ascending") for column in dataset(target).sort_by])
    manifest = json.dumps(versions, sort_keys=True)
    body = _encode(table, table.schema.with_metadata({MANIFEST: manifest}))
    key = month_key(target, month)
    store.put(key, body)
    return Compaction(key, len(keys), table.num_rows, len(body))


def _in_month(name: str, versions: Mapping[str, str], month: date) -> dict[str, str]:
    """The versions of `name`'s session objects among `versions` whose session is in `month`."""
    found = {}
    for key, version in versions.items():
        try:
            day = day_of_key(key)
        except (StopIteration, ValueError):  # not a session's object
            continue
        if month_of(day) == month and day_key(name, day) == key:
            found[key] = version
    return found


def _encode(table: pa.Table, schema: pa.Schema) -> bytes:
    """`table` (sorted by symbol) as Parquet, one row group per symbol's run of rows."""
    sink = io.BytesIO()
    ends = pc.run_end_encode(table["symbol"].combine_chunks()).run_ends.to_pylist()
    # LZ4 decodes about 1.4 times as fast as zstd here, for a file about 1.2 times as large.
    with pq.ParquetWriter(sink, schema, compression="lz4") as writer:
        start = 0
        for end in ends:
            writer.write_table(table.slice(start, end - start), row_group_size=_ROW_GROUP_LIMIT)
            start = end
    return sink.getvalue()


@dataclass(frozen=True)
class Covered:
    """What current monthly objects answer of a read: their rows (of the symbol asked) and
    the sessions of the read they hold; the read's other sessions come from their objects."""

    tables: list[pa.Table]
    days: frozenset[date]


def covered(
    lake: ObjectStore,
    name: str,
    days: Iterable[date],
    versions: Mapping[str, str],
    symbol: str | None,
) -> Covered:
    """The monthly objects of `name` current against `versions` (the session objects' listed
    versions) that can answer `days`: any that holds one of them when a symbol is asked (its
    other symbols' row groups are skipped), else only one whose sessions are all asked (a
    read of every symbol of some sessions would decode the whole month)."""
    target = COMPACTED.get(name)
    wanted = frozenset(days)
    if target is None or not wanted:
        return Covered([], frozenset())
    held = lake.versions(f"{target}/")
    tables: list[pa.Table] = []
    answered: set[date] = set()
    for month in sorted({month_of(day) for day in wanted}):
        key = month_key(target, month)
        if key not in held:
            continue
        parquet, footer = _opened(lake, key, held[key])
        if any(versions.get(session) != version for session, version in footer.manifest):
            continue  # stale: a session rewritten or removed since the month was compacted
        holds = footer.days
        if not holds & wanted or (symbol is None and not holds <= wanted):
            continue
        tables.append(_rows_of(key, parquet, footer, symbol))
        answered |= holds & wanted
    return Covered(tables, frozenset(answered))


@dataclass(frozen=True)
class _Footer:
    """What a reader needs of a monthly object's footer: it parsed, the manifest, and each row
    group's least and greatest symbol (None: no statistics)."""

    metadata: pq.FileMetaData
    manifest: tuple[tuple[str, str], ...]
    days: frozenset[date]  # the sessions of the manifest
    symbols: tuple[tuple[str | None, str | None], ...]


def _opened(lake: ObjectStore, key: str, version: str) -> tuple[pq.ParquetFile, _Footer]:
    """The monthly object at `key` opened, and its footer (a local file's kept while its
    version is unchanged: parsing a footer of hundreds of row groups costs about 1 ms)."""
    path = lake.local_path(key)
    try:
        if path is None:
            parquet = pq.ParquetFile(io.BytesIO(lake.get(key)))
            return parquet, _footer(key, parquet.metadata)
        footer = _local_footer(str(path), key, version)
        return pq.ParquetFile(path, metadata=footer.metadata), footer
    except (pa.ArrowException, OSError) as error:
        raise unreadable(key, error) from None


@lru_cache(maxsize=256)
def _local_footer(path: str, key: str, version: str) -> _Footer:
    """The footer of the file at `path` (`version` keys the cache: a rewrite is parsed again)."""
    return _footer(key, pq.read_metadata(path))


def _footer(key: str, metadata: pq.FileMetaData) -> _Footer:
    try:
        manifest = json.loads((metadata.metadata or {})[MANIFEST])
    except (KeyError, ValueError):
        raise LakeError(f"read {key} failed: a compacted object without its manifest") from None
    column = metadata.schema.to_arrow_schema().get_field_index("symbol")
    symbols = []
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics
        known = stats is not None and stats.has_min_max
        symbols.append((stats.min, stats.max) if known else (None, None))
    days = frozenset(day_of_key(session) for session in manifest)
    return _Footer(metadata, tuple(sorted(manifest.items())), days, tuple(symbols))


def _rows_of(key: str, parquet: pq.ParquetFile, footer: _Footer, symbol: str | None) -> pa.Table:
    """The rows of `symbol` (None: every row) of the monthly object `parquet`: the row groups
    whose symbol statistics may hold it."""
    groups = [
        group
        for group, (least, most) in enumerate(footer.symbols)
        if symbol is None or least is None or most is None or least <= symbol <= most
    ]
    try:
        table = parquet.read_row_groups(groups)
    except (pa.ArrowException, OSError) as error:
        raise unreadable(key, error) from None
    if symbol is not None and any(footer.symbols[g] != (symbol, symbol) for g in groups):
        table = table.filter(pc.equal(table["symbol"], symbol))  # groups holding others too
    return table.replace_schema_metadata(None)

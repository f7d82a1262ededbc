"""Reading the history: a symbol's (or every symbol's) bars at an interval, and session analytics.

DuckDB filters and aggregates in one query (`intervals` holds the SQL): over the lake's Parquet
files in place when the store has them as files, or over Arrow tables of the objects fetched
(DuckDB's httpfs cannot be installed offline); a month compacted and current is read from its
one object instead of its sessions' (`compacted`). An answer is an Arrow table; its rows as
dicts are made when asked for. No Dagster and no Great Expectations on this path.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, cached_property
from typing import Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from marketdata_assets.history import compacted
from marketdata_assets.history.held import bounds, days_held, sessions_held, span
from marketdata_assets.history.intervals import ANALYTICS, NUM_MACRO, Query, bars_query
from marketdata_assets.lake import LakeError, ObjectStore
from marketdata_assets.lake.codecs import parquet_table, typed_table
from marketdata_assets.market.backfill_range import fillable, suggested, unfillable


@dataclass(frozen=True)
class History:
    """The rows read for `symbol` (None: every symbol) from `first` to `last` (the range asked,
    defaults applied), ordered by symbol then time, as a table (a bar's `start` a UTC timestamp)
    and as `rows`; at an intraday interval, `daily_only` holds the sessions of the range held
    only as daily bars (a provider without their minutes), which the rows omit."""

    symbol: str | None
    first: date
    last: date
    table: pa.Table
    daily_only: list[date] = field(default_factory=list)

    @cached_property
    def rows(self) -> list[dict[str, object]]:
        """The rows as dicts, a bar's start as ISO text (`2026-11-25T14:30:00Z`)."""
        table = self.table
        if "start" in table.column_names and pa.types.is_timestamp(
            table.schema.field("start").type
        ):
            # Whole seconds, as text: Arrow's cast writes `2026-11-25 14:30:00`.
            text = pc.cast(pc.cast(table["start"], pa.timestamp("s"), safe=False), pa.string())
            iso = pc.binary_join_element_wise(pc.utf8_replace_slice(text, 10, 11, "T"), "Z", "")
            table = table.set_column(table.schema.get_field_index("start"), "start", iso)
        return table.to_pylist()


class Sessions(Protocol):
    """Session objects and answers a long-lived reader keeps at hand (the dashboard's)."""

    def keys(self, dataset: str) -> frozenset[str]:
        """The keys of the objects `dataset` holds."""
        ...

    def answers(
        self,
        keys: Sequence[str],
        kind: Hashable,
        compute: Callable[[str, pa.Table], pa.Table],
        symbol: str | None,
    ) -> list[pa.Table]:
        """For each key, the rows of `symbol` (None: every row) of `compute(key, the object at
        key, decoded)`, whose rows are ordered by symbol; `kind` names `compute`."""
        ...


def bars(
    lake: ObjectStore,
    symbol: str | None,
    interval: str = "1m",
    first: date | None = None,
    last: date | None = None,
    sessions: Sessions | None = None,
) -> History:
    """`symbol`'s bars of `interval` in the sessions from `first` to `last`, read from the lake
    or from `sessions` when given.

    Defaults: `last` is the latest session the table holds; `first` is `last` for intraday
    intervals and the `DEFAULT_SESSIONS`th session up to `last` for 1d.

    Intraday intervals answer 1-minute bars only: the sessions of the range where `symbol` (None:
    any symbol) has a daily bar but no minute bar are named in `daily_only`, not answered."""
    history = _read(lake, bars_query(interval), symbol, first, last, sessions)
    if interval == "1d":
        return history
    return replace(history, daily_only=_daily_only(lake, history, sessions))


def _daily_only(lake: ObjectStore, history: History, sessions: Sessions | None) -> list[date]:
    """The sessions of `history`'s range where its symbol has a daily bar and no minute bar
    (a session's bars start on its UTC date: NYSE hours never cross midnight UTC)."""
    with_minutes = _days_of(history.table)
    held = days_held("daily_bars", _keys(lake, "daily_bars", sessions))
    candidates = [
        day for day in held if history.first <= day <= history.last and day not in with_minutes
    ]
    if not candidates:
        return []
    daily = _read(lake, bars_query("1d"), history.symbol, candidates[0], candidates[-1], sessions)
    with_daily = _days_of(daily.table)
    return [day for day in candidates if day in with_daily]


def _days_of(table: pa.Table) -> set[date]:
    """The UTC dates of the bars of `table`."""
    if not table.num_rows:
        return set()
    return set(pc.unique(pc.cast(table["start"], pa.date32())).to_pylist())


def daily_only_note(history: History) -> str | None:
    """What an intraday read says of the sessions it held only as daily bars; None: none."""
    if not history.daily_only:
        return None
    days = ", ".join(day.isoformat() for day in history.daily_only)
    return (
        f"{len(history.daily_only)} session(s) held only as daily bars, not in this answer: "
        f"{days} (--interval 1d reads them)"
    )


def analytics(
    lake: ObjectStore,
    symbol: str | None,
    first: date | None = None,
    last: date | None = None,
    sessions: Sessions | None = None,
) -> History:
    """`symbol`'s session analytics from `first` to `last` (defaults as for 1d bars), read from
    the lake or from `sessions` when given."""
    return _read(lake, ANALYTICS, symbol, first, last, sessions)


def closes_on(
    lake: ObjectStore, session: date, sessions: Sessions | None = None
) -> dict[str, float]:
    """Each symbol's close in `session` from `daily_bars` (one read for every symbol, from
    `sessions` when given); empty when the lake holds no daily bars of the session."""
    if session not in days_held("daily_bars", _keys(lake, "daily_bars", sessions)):
        return {}
    rows = bars(lake, None, "1d", session, session, sessions).rows
    return {str(r["symbol"]): r["close"] for r in rows if isinstance(r["close"], float)}


def _read(
    lake: ObjectStore,
    query: Query,
    symbol: str | None,
    first: date | None,
    last: date | None,
    sessions: Sessions | None,
) -> History:
    name = query.dataset
    keys_held, versions = _listed(lake, name, sessions)
    held = days_held(name, keys_held)
    first, last = span(list(held), first, last, query.back)
    days = [day for day in sessions_held(name, keys_held) if first <= day <= last]
    if not days:
        return History(symbol, first, last, pa.table({f: pa.nulls(0) for f in query.fields}))
    keys = [held[day] for day in days]
    if sessions is not None:
        # A bar never spans two sessions: the answer is each session's answer, in session order.
        day_of = dict(zip(keys, days, strict=True))

        def compute(key: str, source: pa.Table) -> pa.Table:
            return _session_answer(query, day_of[key], source)

        parts = sessions.answers(keys, query.name, compute, symbol)
        # Promoting types costs a few ms over hundreds of sessions: only when their types differ.
        same = all(part.schema.equals(parts[0].schema) for part in parts)
        table = pa.concat_tables(parts, promote_options="none" if same else "default")
        return History(symbol, first, last, table.combine_chunks())
    # The months compacted and current answer their sessions; the others' objects are read.
    months = compacted.covered(lake, name, days, versions, symbol)
    rest = [held[day] for day in days if day not in months.days]
    try:
        with _database().cursor() as con:
            con.register("sessions", bounds(days))
            con.register("src", _source(con, lake, rest, symbol, months.tables))
            found = con.sql(query.sql_for(symbol), params=query.params(symbol)).to_arrow_table()
    except (duckdb.InvalidInputException, duckdb.IOException) as error:
        raise _unreadable_file(lake, rest, error) from None
    return History(symbol, first, last, found.rename_columns(list(query.fields)))


def _source(
    con: duckdb.DuckDBPyConnection,
    lake: ObjectStore,
    keys: list[str],
    symbol: str | None,
    tables: Sequence[pa.Table] = (),
) -> duckdb.DuckDBPyRelation | pa.Table:
    """The rows of `tables` and of the objects at `keys`: their files scanned by DuckDB in place
    (which pushes the symbol filter into the scan) when there are no tables, or the objects
    fetched and decoded (`symbol`'s rows)."""
    paths = [lake.local_path(key) for key in keys]
    files = [str(path) for path in paths if path is not None]
    if not tables and len(files) == len(keys):
        return con.read_parquet(files)
    only = None if symbol is None else pc.field("symbol") == symbol
    bodies = lake.get_many(keys)
    fetched = [
        typed_table(key.partition("/")[0], key, body, only)
        for key, body in zip(keys, bodies, strict=True)
    ]
    return pa.concat_tables([*tables, *fetched], promote_options="default")


def _unreadable_file(lake: ObjectStore, keys: list[str], error: Exception) -> Exception:
    """The LakeError naming the first of the files at `keys` that is no readable Parquet (DuckDB
    failed scanning them in place); `error` itself when every file reads (not the lake's fault)."""
    for key in keys:
        path = lake.local_path(key)
        if path is None:
            continue
        try:
            parquet_table(key, path.read_bytes())  # the bytes: the line names no server path
        except LakeError as unread:
            return unread
    return error


def _session_answer(query: Query, day: date, source: pa.Table) -> pa.Table:
    """Every symbol's rows of `query` in session `day`, from the session's object `source`."""
    with _database().cursor() as con:
        con.register("sessions", bounds([day]))
        con.register("src", source)
        sql, params = query.sql_for(None), query.params(None)
        found: pa.Table = con.sql(sql, params=params).to_arrow_table()
    return found.rename_columns(list(query.fields))


def _listed(
    lake: ObjectStore, name: str, sessions: Sessions | None
) -> tuple[frozenset[str], dict[str, str]]:
    """The keys of the objects `name` holds and, where a compacted month may answer for them
    (a lake read of a compacted dataset), their versions (the same listing on S3)."""
    if sessions is None and name in compacted.COMPACTED:
        versions = lake.versions(f"{name}/")
        return frozenset(versions), versions
    return _keys(lake, name, sessions), {}


def _keys(lake: ObjectStore, name: str, sessions: Sessions | None) -> frozenset[str]:
    """The keys of the objects `name` holds: listed in the lake, or as `sessions` knows them."""
    if sessions is None:
        return frozenset(lake.keys(f"{name}/"))
    return sessions.keys(name)


@cache
def _database() -> duckdb.DuckDBPyConnection:
    """The process's in-memory DuckDB (opening one costs about 0.1 s). Each read takes a cursor
    of its own and only registers its inputs (a name registered on a cursor is seen by that
    cursor alone; a view created in the catalog would clash between concurrent reads)."""
    con = duckdb.connect()
    con.execute(NUM_MACRO)
    return con


def what_to_run(history: History) -> str:
    """What an empty read says: no history in its range, and the backfill that fills it."""
    return _hint(history)


def _hint(history: History) -> str:
    symbols = () if history.symbol is None else (history.symbol,)
    command = suggested(history.first, history.last, symbols)
    whose = "" if history.symbol is None else f" for {history.symbol}"
    if note := daily_only_note(history):
        return f"no minute bars{whose} in {history.first}..{history.last}: {note}"
    if why := unfillable(history.first, history.last):
        # The command fills the nearest session, not the range asked: say why, so that a range
        # of closed days does not read as a backfill to run (it may name a session held).
        nearest, _ = fillable(history.first, history.last)
        return (
            f"no history{whose} in {history.first}..{history.last}: {why}; the nearest "
            f"session a backfill can run is {nearest}: run `{command}`"
        )
    return f"no history{whose} in {history.first}..{history.last}: run `{command}`"

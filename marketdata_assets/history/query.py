"""Reading the history: a symbol's (or every symbol's) bars at an interval, and session analytics.

DuckDB filters and aggregates in one query: over the local lake's Parquet files directly, or over
Arrow tables fetched from S3 (DuckDB's httpfs cannot be installed offline). Intraday bars are
built from `minute_bars` within each session, aligned to the session's open as the NYSE calendar
gives it (09:30 New York), so a session missing its first minutes still aligns and no bin spans
closed hours. No Dagster and no Great Expectations on this path.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from marketdata_assets import stores
from marketdata_assets.lake import day_key
from marketdata_assets.lake.keys import day_of_key
from marketdata_assets.market.calendar import EXCHANGE_TZ, session_bounds, sessions_in
from marketdata_assets.settings import StorageSettings

# Minutes per bar of the intervals built from minute_bars; "1d" reads daily_bars.
MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}
BAR_FIELDS = ("symbol", "start", "open", "high", "low", "close", "volume", "vwap")
ANALYTICS_FIELDS = (
    *("symbol", "session", "open", "high", "low", "close", "volume", "vwap"),
    *("return", "overnight_return", "realized_vol", "range"),
)
# Sessions read when no first session is given, at 1d and by analytics (intraday: one).
DEFAULT_SESSIONS = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FETCHERS = 8  # concurrent S3 GETs

# `src` holds the dataset's rows of the sessions read, `sessions` their calendar bounds in µs;
# `{only}` becomes the symbol filter (a bound parameter), or TRUE for every symbol. Timestamps
# are handled as µs since the epoch, so no time zone setting can shift them; `num` turns NaN
# into null, as JSON needs.
_NUM_MACRO = "CREATE MACRO num(x) AS CASE WHEN isnan(x) THEN NULL ELSE x END"
_IN_SESSIONS = """
FROM src AS b JOIN sessions AS s ON s.day = epoch_us(b.start) // 86400000000
WHERE {only} AND epoch_us(b.start) >= s.open_us AND epoch_us(b.start) < s.close_us
"""
_MINUTE_SQL = f"""
SELECT b.symbol, strftime(make_timestamp(epoch_us(b.start)), '%Y-%m-%dT%H:%M:%SZ'),
       num(b.open), num(b.high), num(b.low), num(b.close), b.volume,
       CASE WHEN b.volume > 0 THEN num((b.high + b.low + b.close) / 3) END
{_IN_SESSIONS} ORDER BY b.symbol, b.start
"""
_AGGREGATE_SQL = f"""
WITH minutes AS (
    SELECT b.symbol, b.start AS minute, b.open, b.high, b.low, b.close, b.volume,
           s.open_us + (epoch_us(b.start) - s.open_us) // $width * $width AS bucket
    {_IN_SESSIONS}
)
SELECT symbol, strftime(make_timestamp(bucket), '%Y-%m-%dT%H:%M:%SZ'),
       num(arg_min(open, minute)), num(max(high)), num(min(low)), num(arg_max(close, minute)),
       sum(volume)::BIGINT,
       num(sum((high + low + close) / 3 * volume) / nullif(sum(volume), 0))
FROM minutes GROUP BY symbol, bucket ORDER BY symbol, bucket
"""
_DAILY_SQL = """
SELECT b.symbol,
       strftime(make_timestamp(coalesce(epoch_us(b.first_minute), s.open_us)),
                '%Y-%m-%dT%H:%M:%SZ'),
       num(b.open), num(b.high), num(b.low), num(b.close), b.volume, num(b.vwap)
FROM src AS b JOIN sessions AS s ON s.day = CAST(b.session AS DATE) - DATE '1970-01-01'
WHERE {only} ORDER BY b.symbol, b.session
"""
_ANALYTICS_SQL = """
SELECT b.symbol, strftime(b.session, '%Y-%m-%d'), num(b.open), num(b.high), num(b.low),
       num(b.close), b.volume, num(b.vwap), num(b."return"), num(b.overnight_return),
       num(b.realized_vol), num(b."range")
FROM src AS b WHERE {only} ORDER BY b.symbol, b.session
"""


@dataclass(frozen=True)
class History:
    """The rows read for `symbol` (None: every symbol) from `first` to `last` (the range asked,
    defaults applied), ordered by symbol then time."""

    symbol: str | None
    first: date
    last: date
    rows: list[dict[str, object]]


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


@dataclass(frozen=True)
class _Query:
    name: str  # the interval, or "analytics"
    dataset: str
    sql: str
    fields: tuple[str, ...]
    back: int  # sessions read when no first session is given
    width_us: int | None = None  # aggregated bars: their width


def bars(
    settings: StorageSettings,
    symbol: str | None,
    interval: str = "1m",
    first: date | None = None,
    last: date | None = None,
    sessions: Sessions | None = None,
) -> History:
    """`symbol`'s bars of `interval` in the sessions from `first` to `last`, read from the lake
    or from `sessions` when given.

    Defaults: `last` is the latest session the table holds; `first` is `last` for intraday
    intervals and the `DEFAULT_SESSIONS`th session up to `last` for 1d."""
    if interval not in (*MINUTES, "1d"):
        raise ValueError(f"interval {interval!r}: must be one of {', '.join(MINUTES)}, 1d")
    if interval == "1d":
        query = _Query("1d", "daily_bars", _DAILY_SQL, BAR_FIELDS, DEFAULT_SESSIONS)
    elif interval == "1m":
        query = _Query("1m", "minute_bars", _MINUTE_SQL, BAR_FIELDS, 1)
    else:
        width = MINUTES[interval] * 60_000_000
        query = _Query(interval, "minute_bars", _AGGREGATE_SQL, BAR_FIELDS, 1, width)
    return _read(settings, query, symbol, first, last, sessions)


def analytics(
    settings: StorageSettings,
    symbol: str | None,
    first: date | None = None,
    last: date | None = None,
    sessions: Sessions | None = None,
) -> History:
    """`symbol`'s session analytics from `first` to `last` (defaults as for 1d bars), read from
    the lake or from `sessions` when given."""
    query = _Query(
        "analytics", "session_analytics", _ANALYTICS_SQL, ANALYTICS_FIELDS, DEFAULT_SESSIONS
    )
    return _read(settings, query, symbol, first, last, sessions)


def closes_before(
    settings: StorageSettings, day: date, sessions: Sessions | None = None
) -> tuple[date | None, dict[str, float]]:
    """The last session before `day` that `daily_bars` holds, and each symbol's close in it
    (one read for every symbol, from `sessions` when given); (None, {}) when it holds none."""
    held = [s for s in _days_held("daily_bars", _keys(settings, "daily_bars", sessions)) if s < day]
    if not held:
        return None, {}
    rows = bars(settings, None, "1d", held[-1], held[-1], sessions).rows
    closes = {str(r["symbol"]): r["close"] for r in rows if isinstance(r["close"], float)}
    return held[-1], closes


def _read(
    settings: StorageSettings,
    query: _Query,
    symbol: str | None,
    first: date | None,
    last: date | None,
    sessions: Sessions | None,
) -> History:
    name = query.dataset
    keys_held = _keys(settings, name, sessions)
    held = _days_held(name, keys_held)
    first, last = _span(list(held), first, last, query.back)
    days = [day for day in _sessions_held(name, keys_held) if first <= day <= last]
    if not days:
        return History(symbol, first, last, [])
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
        rows = table.combine_chunks().to_pylist()
        return History(symbol, first, last, rows)
    params: dict[str, object] = {} if symbol is None else {"symbol": symbol}
    if query.width_us is not None:
        params["width"] = query.width_us
    sql = query.sql.format(only="TRUE" if symbol is None else "b.symbol = $symbol")
    with _database().cursor() as con:
        con.register("sessions", _bounds(days))
        if settings.profile == "local":
            # DuckDB scans the files itself and pushes the symbol filter into the scan.
            files = [str(settings.data_dir / key) for key in keys]
            con.register("src", con.read_parquet(files))
        else:
            with ThreadPoolExecutor(_FETCHERS) as pool:
                bodies = list(pool.map(stores.lake_store(settings).get, keys))
            only = None if symbol is None else pc.field("symbol") == symbol
            tables = [pq.read_table(io.BytesIO(body), filters=only) for body in bodies]
            con.register("src", pa.concat_tables(tables, promote_options="default"))
        found = con.execute(sql, params).fetchall()
    return History(
        symbol, first, last, [dict(zip(query.fields, row, strict=True)) for row in found]
    )


def _session_answer(query: _Query, day: date, source: pa.Table) -> pa.Table:
    """Every symbol's rows of `query` in session `day`, from the session's object `source`."""
    params = {} if query.width_us is None else {"width": query.width_us}
    with _database().cursor() as con:
        con.register("sessions", _bounds([day]))
        con.register("src", source)
        found: pa.Table = con.sql(query.sql.format(only="TRUE"), params=params).to_arrow_table()
    return found.rename_columns(list(query.fields))


def _keys(settings: StorageSettings, name: str, sessions: Sessions | None) -> frozenset[str]:
    """The keys of the objects `name` holds: listed in the lake, or as `sessions` knows them."""
    if sessions is None:
        return frozenset(stores.lake_store(settings).keys(f"{name}/"))
    return sessions.keys(name)


@cache
def _database() -> duckdb.DuckDBPyConnection:
    """The process's in-memory DuckDB (opening one costs about 0.1 s). Each read takes a cursor
    of its own and only registers its inputs (a name registered on a cursor is seen by that
    cursor alone; a view created in the catalog would clash between concurrent reads)."""
    con = duckdb.connect()
    con.execute(_NUM_MACRO)
    return con


def _span(
    present: list[date], first: date | None, last: date | None, back: int
) -> tuple[date, date]:
    """The range to read: `last` defaults to the latest session held (never before `first`),
    else the latest session up to today; `first` to the `back`th session up to `last`."""
    if last is None:
        candidates = [day for day in (present[-1] if present else None, first) if day]
        last = max(candidates) if candidates else _latest_session()
    if first is None:
        recent = _sessions_in(last - timedelta(days=7 * back + 7), last)[-back:]
        first = recent[0] if recent else last
    return first, last


@lru_cache(maxsize=64)
def _days_held(name: str, keys: frozenset[str]) -> dict[date, str]:
    """The sessions whose object of `name` is among `keys`, oldest first, and their keys."""
    days = {}
    for key in keys:
        try:
            day = day_of_key(key)
        except (StopIteration, ValueError):  # not an object of a session
            continue
        if day_key(name, day) == key:
            days[day] = key
    return dict(sorted(days.items()))


@lru_cache(maxsize=64)
def _sessions_held(name: str, keys: frozenset[str]) -> list[date]:
    """The NYSE sessions among the days whose object of `name` is among `keys`, oldest first."""
    days = _days_held(name, keys)
    return [day for day in _sessions_in(min(days), max(days)) if day in days] if days else []


@lru_cache(maxsize=1024)
def _sessions_in(first: date, last: date) -> list[date]:
    """`sessions_in` (a calendar lookup costs about 1 ms); callers never change the list."""
    return sessions_in(first, last)


def _latest_session() -> date:
    today = datetime.now(ZoneInfo(EXCHANGE_TZ)).date()
    recent = sessions_in(today - timedelta(days=14), today)
    return recent[-1] if recent else today


def _bounds(days: list[date]) -> pa.Table:
    """Each session's day number, open and close in µs since the epoch (UTC), from the calendar."""
    bounds = [_session_us(day) for day in days]
    return pa.table(
        {
            "day": [(day - _EPOCH.date()).days for day in days],
            "open_us": [opened for opened, _ in bounds],
            "close_us": [closed for _, closed in bounds],
        }
    )


@cache
def _session_us(day: date) -> tuple[int, int]:
    """A session's open and close in µs since the epoch (a calendar lookup costs about 2 ms)."""
    opened, closed = session_bounds(day)
    return _us(opened), _us(closed)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def bars_table(history: History) -> str:
    """Bars as an aligned table, times in New York; an empty result says what to run."""
    if not history.rows:
        return _hint(history)
    header = f"{'SYMBOL':<8} {'START':<19} {'OPEN':>11} {'HIGH':>11} {'LOW':>11} {'CLOSE':>11}"
    lines = [f"{header} {'VOLUME':>12} {'VWAP':>11}"]
    for r in history.rows:
        prices = " ".join(_number(r[k], "11.4f") for k in ("open", "high", "low", "close"))
        start = _new_york(str(r["start"]))
        lines.append(
            f"{r['symbol']:<8} {start:<19} {prices} {r['volume']:>12} {_number(r['vwap'], '11.4f')}"
        )
    return "\n".join(lines)


def analytics_table(history: History) -> str:
    """Session analytics as an aligned table (returns and range in percent)."""
    if not history.rows:
        return _hint(history)
    prices = ("open", "high", "low", "close")
    shares = ("return", "overnight_return", "realized_vol", "range")
    header = " ".join(f"{k.upper():>11}" for k in prices)
    labels = " ".join(f"{label:>10}" for label in ("RETURN", "OVERNIGHT", "REALIZ.VOL", "RANGE"))
    lines = [f"{'SYMBOL':<8} {'SESSION':<10} {header} {'VOLUME':>12} {'VWAP':>11} {labels}"]
    for r in history.rows:
        cells = " ".join(_number(r[k], "11.4f") for k in prices)
        percents = " ".join(_percent(r[k]) for k in shares)
        lines.append(
            f"{r['symbol']:<8} {r['session']:<10} {cells} {r['volume']:>12} "
            f"{_number(r['vwap'], '11.4f')} {percents}"
        )
    return "\n".join(lines)


def what_to_run(history: History) -> str:
    """What an empty read says: no history in its range, and the backfill that fills it."""
    return _hint(history)


def _hint(history: History) -> str:
    span = f"--from {history.first} --to {history.last}"
    if history.symbol is None:
        return f"no history in {history.first}..{history.last}: run `marketdata backfill {span}`"
    return (
        f"no history for {history.symbol} in {history.first}..{history.last}: "
        f"run `marketdata backfill {span} --symbols {history.symbol}`"
    )


def _new_york(iso: str) -> str:
    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(EXCHANGE_TZ))
    return f"{moment:%Y-%m-%d %H:%M} ET"


def _number(value: object, spec: str) -> str:
    width = int(spec.split(".")[0])
    return format(value, spec) if isinstance(value, int | float) else "-".rjust(width)


def _percent(value: object) -> str:
    return f"{value * 100:>+9.2f}%" if isinstance(value, int | float) else "-".rjust(10)

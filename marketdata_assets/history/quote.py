"""A symbol's quote, as a trader reads one: its latest price, the change against its own close in
the NYSE session before the price's (`history.change`), and the day's open, high, low and volume
in the price's session (`calendar.session_of`), from the session's 1-minute bars when the lake
holds them for the symbol, else from the validated ticks held that session, else none.

Ticks of a session are read from its compacted `validated_daily` object when held, else from the
session's minute objects of `validated` (one object per tick: at most 390 per session), and only
the ticks observed while the session traded count (its open to its close). Their volume is the
provider's cumulative day volume (`day_volume`), the largest seen. No Dagster here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from marketdata_assets.history.change import change_of, no_splits
from marketdata_assets.lake import ObjectStore, day_key
from marketdata_assets.lake.codecs import typed_table
from marketdata_assets.lake.datasets import DATASETS
from marketdata_assets.lake.keys import date_prefix
from marketdata_assets.latest import LatestPrice
from marketdata_assets.market.backfill_range import suggested
from marketdata_assets.market.calendar import last_ended_session, session_bounds, session_of
from marketdata_assets.market.state import market_state
from marketdata_assets.market.ticks import format_tick


@dataclass(frozen=True)
class Day:
    """A symbol's figures in one session so far, and what they were read from."""

    open: float | None
    high: float | None
    low: float | None
    volume: int | None
    source: str  # "minute_bars" or "ticks"


def day_from_bars(rows: Sequence[dict[str, object]], until: datetime) -> Day | None:
    """The day of a symbol's 1-minute bars of one session (in time order) up to the bar holding
    `until` (the quote's time: later bars are not yet the day of that price); None without any."""
    rows = [row for row in rows if _started_by(row["start"], until)]
    prices = [
        row for row in rows if all(isinstance(row[k], float) for k in ("open", "high", "low"))
    ]
    if not prices:
        return None
    return Day(
        open=_number(prices[0]["open"]),
        high=max(_number(row["high"]) for row in prices),
        low=min(_number(row["low"]) for row in prices),
        volume=sum(int(row["volume"]) for row in rows if isinstance(row["volume"], int)),
        source="minute_bars",
    )


def _started_by(start: object, until: datetime) -> bool:
    started = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
    return started <= until


def tick_keys(lake: ObjectStore, session: date) -> list[str]:
    """The objects holding the session's validated ticks: its `validated_daily` object when the
    lake holds one, else the `validated` object of each of its tick minutes (a session never
    crosses midnight UTC: all of them lie under the session's date)."""
    compacted = day_key("validated_daily", session)
    if compacted in lake.keys(date_prefix("validated_daily", session)):
        return [compacted]
    suffix = "/" + DATASETS["validated"].file
    return sorted(
        key for key in lake.keys(date_prefix("validated", session)) if key.endswith(suffix)
    )


def days_from_ticks(lake: ObjectStore, keys: Sequence[str], session: date) -> dict[str, Day]:
    """Every symbol's day in `session` from the validated ticks in the objects at `keys`
    (`tick_keys`), counting the ticks observed from the session's open to its close."""
    if not keys:
        return {}
    tables = [
        typed_table(key.partition("/")[0], key, body).select(
            ["symbol", "price", "day_volume", "event_ts"]
        )
        for key, body in zip(keys, lake.get_many(keys), strict=True)
    ]
    opened, closed = session_bounds(session)
    ticks = pa.concat_tables(tables, promote_options="default")
    traded = (pc.field("event_ts") >= opened.to_pydatetime()) & (
        pc.field("event_ts") < closed.to_pydatetime()
    )
    ticks = ticks.filter(traded & pc.field("price").is_valid())
    if ticks.num_rows == 0:
        return {}
    ordered = ticks.sort_by([("symbol", "ascending"), ("event_ts", "ascending")])
    found = ordered.group_by("symbol", use_threads=False).aggregate(
        [("price", "first"), ("price", "max"), ("price", "min"), ("day_volume", "max")]
    )
    return {
        row["symbol"]: Day(
            row["price_first"], row["price_max"], row["price_min"], row["day_volume_max"], "ticks"
        )
        for row in found.to_pylist()
    }


def quote_of(
    symbol: str,
    prices: Sequence[LatestPrice],
    newest_tick: datetime,
    now: datetime,
    closes: Callable[[date], dict[str, float]],
    day_of: Callable[[str, date, datetime], Day | None],
    splits: Callable[[date], Mapping[str, float]] = no_splits,
) -> dict[str, object]:
    """`symbol`'s quote from the latest-price rows `prices` (every symbol's), the newest tick
    run (`stale`: the symbol's row is of an older tick than the newest), the market at `now`,
    `closes(session)` (every symbol's close in a session held), `day_of(symbol, session,
    until)` (its day up to the quote's time) and `splits(session)` (the splits with that
    ex-date: the previous close is divided by the symbol's, `history.change`).
    Without a row for `symbol` every figure is null and `message` says what to run."""
    market = "open" if market_state(now).open else "closed"
    price = next((p for p in prices if p.symbol == symbol), None)
    if price is None:
        return {
            **dict.fromkeys(QUOTE_FIELDS),
            "symbol": symbol,
            "market": market,
            "message": f"no price for {symbol} yet: run `marketdata tick --symbols {symbol}`",
        }
    session = session_of(price.event_ts)
    change = change_of(symbol, price.price, price.event_ts, closes, splits)
    day = day_of(symbol, session, price.event_ts) if session is not None else None
    newest = max([newest_tick, *(p.tick for p in prices)])
    return {
        # As /api/latest's row (`tick.views.latest_row`; test_quote holds them equal).
        "symbol": symbol,
        "price": price.price,
        "currency": price.currency,
        "event_ts": price.event_ts.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z",
        "tick": format_tick(price.tick),
        "session": session.isoformat() if session else None,
        "previous_close": change.previous_close,
        "previous_close_split": change.split,
        "previous_session": change.basis.isoformat() if change.basis else None,
        "change": change.change,
        "change_pct": change.change_pct,
        "change_note": change.note,
        "day_open": day.open if day else None,
        "day_high": day.high if day else None,
        "day_low": day.low if day else None,
        "day_volume": day.volume if day else None,
        "day_source": day.source if day else None,
        "day_note": None if day or session is None else _no_day(symbol, session, now),
        "market": market,
        "stale": price.tick < newest,
        "message": None,
    }


QUOTE_FIELDS = (
    "symbol", "price", "currency", "event_ts", "tick", "session", "previous_close",
    "previous_close_split", "previous_session", "change", "change_pct", "change_note",
    "day_open", "day_high", "day_low", "day_volume", "day_source", "day_note", "market", "stale",
    "message",
)  # fmt: skip


def _no_day(symbol: str, session: date, now: datetime) -> str:
    """Why a quote has no day figures, with the backfill that fills them once the session has
    ended (a backfill refuses a session still trading)."""
    held = f"no minute bars or ticks of {symbol} in the session {session} are held"
    if session > last_ended_session(now):
        return held
    return f"{held}: run `{suggested(session, session, [symbol], now)}`"


def _number(value: object) -> float:
    assert isinstance(value, float)
    return value

"""What the dashboard reads, and how long it keeps it.

A dashboard is read in bursts (a page fetches several endpoints, clients refresh together) while
the data changes once a minute: the latest-price rows are kept a second (on SQLite, until its
file changes), listings a few seconds, a minute's objects by the set of objects the minute holds
(a rerun rewrites identical bytes), history reads and forecasts by the sessions held. The
history's session objects are kept decoded while unchanged (a file's time and size, an S3 ETag,
listed every few seconds), so a new symbol or range is answered from memory. Every cache is
bounded in bytes (the least recently used dropped first): the reader holds at most
READER_BYTES of answers, however many distinct ranges, symbols or limits are asked.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from marketdata_assets.history.change import change_of
from marketdata_assets.lake import ObjectStore
from marketdata_assets.market.calendar import EXCHANGE_TZ, nyse_open
from marketdata_assets.tick import views
from marketdata_assets.web import minutes
from marketdata_assets.web.actions import Actions
from marketdata_assets.web.kept import Kept
from marketdata_assets.web.quotes import Quotes
from marketdata_assets.web.sessions import SessionObjects

if TYPE_CHECKING:
    from marketdata_assets.history.query import History
    from marketdata_assets.latest import LatestPrice, LatestPriceStore

LATEST_S = 1.0  # how long latest-price rows are reused (SQLite: less, when the file changes)
LISTING_S = 5.0  # how long a listing (newest tick, recent minutes, sessions held) is reused
OBJECT_S = 300.0  # how long a minute's decoded objects are reused
HISTORY_S = 300.0  # how long a history answer is reused while the sessions held are unchanged
FORECAST_S = 3600.0  # how long a forecast is reused while the history it read is unchanged
# Session answers kept, in all: 500 symbols' 1-minute bars of a session are about 15 MB, their
# 5-minute bars 3 MB, a session's daily bars 40 KB.
SESSION_BYTES = 256 * 2**20
# The other caches' bounds, in bytes (each entry sized by `kept.footprint`): encoded history
# answers (a symbol's year of 1-minute bars is about 15 MB of JSON), forecasts, a minute's rows
# and quarantined records, listings, latest-price rows. With SESSION_BYTES, what the reader
# holds in all is at most READER_BYTES.
HISTORY_BYTES = 64 * 2**20
FORECAST_BYTES = 8 * 2**20
OBJECT_BYTES = 32 * 2**20
LISTING_BYTES = 16 * 2**20
LATEST_BYTES = 8 * 2**20
READER_BYTES = (
    SESSION_BYTES + HISTORY_BYTES + FORECAST_BYTES + OBJECT_BYTES + LISTING_BYTES + LATEST_BYTES
)
# Without a tick, the reason filter searches the newest days holding quarantined rows.
QUARANTINE_SEARCH_DAYS = 7
_NEW_YORK = ZoneInfo(EXCHANGE_TZ)


class Reader:
    """The dashboard's reads over a lake and a latest-price table (built once, reused by every
    request)."""

    def __init__(
        self, lake: ObjectStore, table: LatestPriceStore, session_bytes: int = SESSION_BYTES
    ):
        self.lake = lake
        self.table = table
        self._listings = Kept(LISTING_S, LISTING_BYTES)
        self.sessions = SessionObjects(self.lake, self._listings, session_bytes)
        self._objects = Kept(OBJECT_S, OBJECT_BYTES)
        self._latest = Kept(LATEST_S, LATEST_BYTES)
        self._history = Kept(HISTORY_S, HISTORY_BYTES)
        self._forecasts = Kept(FORECAST_S, FORECAST_BYTES)
        self.actions = Actions(lake, self.sessions, self._history)
        self.quotes = Quotes(
            lake, self.sessions, self._listings, self._objects, self._prices, self.newest_tick,
            self._closes_on, self._splits_on,
        )  # fmt: skip

    def latest_json(self, now: datetime) -> bytes | None:
        """The latest-price rows (`marketdata latest --json`) with the change against each
        symbol's previous session (`history.change`; split-adjusted on an ex-date), whether a
        newer tick has run since (`stale`), the price's age at `now` (`age_s`) and its `status`
        (`stale`, else `closed` while the market is closed at `now`, else `current`), as a JSON
        list; None when the table is empty.

        Encoding 500 rows costs more than reading them: each row is kept encoded but for its
        age and status, which are appended per request."""
        rows = self._latest.get(self._table_state(), self._latest_rows)
        if not rows:
            return None
        now_us = now.timestamp() * 1e6
        trading = nyse_open(now)
        encoded = ",".join(
            f'{row}{round((now_us - event_us) / 1e6, 3)},"status":"{_status(stale, trading)}"}}'
            for event_us, stale, row in rows
        )
        return f"[{encoded}]".encode()

    def _latest_rows(self) -> list[tuple[float, bool, str]]:
        """(event time in µs, stale, the row's JSON up to its age's value) of every symbol."""
        prices = self.table.all()
        if not prices:
            return []
        newest = max([self.newest_tick(), *(price.tick for price in prices)])
        rows = []
        for price in prices:
            change = change_of(
                price.symbol, price.price, price.event_ts, self._closes_on, self._splits_on
            )
            stale = price.tick < newest
            row = {**views.latest_row(price), **change.fields(), "stale": stale}
            encoded = json.dumps(row, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            rows.append((price.event_ts.timestamp() * 1e6, stale, f'{encoded[:-1]},"age_s":'))
        return rows

    def _prices(self) -> list[LatestPrice]:
        """The table's rows, kept as the encoded rows are."""
        return self._latest.get(("prices", self._table_state()), self.table.all)

    def _table_state(self) -> Hashable:
        """What changes when the latest-price table does (SQLite: its files' size and time;
        DynamoDB: nothing to look at, its rows are kept LATEST_S)."""
        return self.table.version()

    def newest_tick(self) -> datetime:
        """The newest minute holding a run record or a raw object (the epoch when none does)."""
        return self._listings.get("newest", partial(minutes.newest_tick, self.lake))

    def ticks(self, limit: int) -> list[dict[str, object]]:
        """The newest `limit` ticks, newest first, in the status shape plus `raw`, `reasons` and
        (from a run record) `checks`. A minute whose only object is a malformed run record is
        left out (a warning line on stderr names its key)."""
        recent = self._listings.get(
            ("minutes", limit), partial(minutes.recent_minutes, self.lake, limit)
        )
        rows = [
            self._objects.get(
                ("tick", tick, frozenset(keys.items())),
                partial(minutes.tick_row, self.lake, tick, keys),
            )
            for tick, keys in recent
        ]
        return [row for row in rows if row is not None]

    def quarantine(
        self, tick: datetime | None, reason: str | None, limit: int
    ) -> list[dict[str, object]]:
        """Quarantined records (`marketdata quarantine --json`), newest tick first, of `tick`
        (None: the newest QUARANTINE_SEARCH_DAYS days holding any) with `reason` (None: any),
        at most `limit`, each with the command that replays its tick."""
        found: list[dict[str, object]] = []
        for key in minutes.quarantine_keys(self.lake, tick, QUARANTINE_SEARCH_DAYS):
            records = partial(minutes.quarantine_records, self.lake, key)
            for record in self._objects.get(("quarantine", key), records):
                if reason is None or reason in record["reasons"]:  # type: ignore[operator]
                    found.append(record)
                    if len(found) == limit:
                        return found
        return found

    def quarantined_history(
        self,
        first: date | None,
        last: date | None,
        symbol: str | None,
        reason: str | None,
        limit: int,
    ) -> tuple[list[dict[str, object]], str]:
        """The history's quarantined rows (`marketdata quarantine --history --json`), newest
        session first, of `symbol` and `reason` (None: any), at most `limit`; and what an empty
        answer says. The sessions' objects are kept decoded while unchanged (`sessions`)."""
        from marketdata_assets.history.quarantine_rows import matching

        answer = self._history.get(
            ("bars_quarantine", first, last, self.sessions.held("bars_quarantine")),
            partial(self._quarantined_history, first, last),
        )
        return matching(answer, symbol, reason, limit, "history bars")

    def _quarantined_history(
        self, first: date | None, last: date | None
    ) -> tuple[list[dict[str, object]], str, str]:
        """Every quarantined row of the range, what an empty answer says, and the range read
        (a tuple: kept, its footprint counts every row)."""
        from marketdata_assets.history.quarantined import quarantined_bars, what_to_run

        answer = quarantined_bars(self.lake, first, last, self.sessions)
        return answer.rows, what_to_run(answer), f"{answer.first}..{answer.last}"

    def bars_json(
        self,
        symbol: str,
        interval: str,
        first: date | None,
        last: date | None,
        adjust: str = "splits",
    ) -> bytes:
        """`history.query.bars`' rows adjusted for corporate actions (`history.adjusted`) as the
        API answers them (JSON; empty: what to run), kept while the sessions held are the same."""
        from marketdata_assets.history import query
        from marketdata_assets.history.adjusted import adjusted_bars

        # An intraday answer also names the sessions held only as daily bars: it reads both.
        datasets = ("daily_bars",) if interval == "1d" else ("minute_bars", "daily_bars")
        held = tuple(self.sessions.held(name) for name in (*datasets, "corporate_actions"))

        def answer() -> bytes:
            found = query.bars(self.lake, symbol, interval, first, last, self.sessions)
            return history_json(adjusted_bars(self.lake, found, adjust, self.sessions))

        return self._history.get(("bars", symbol, interval, first, last, adjust, held), answer)

    def analytics_json(
        self, symbol: str, first: date | None, last: date | None, adjust: str = "splits"
    ) -> bytes:
        """`history.query.analytics`' rows as the API answers them, adjusted as `bars_json`'s
        and kept as they are."""
        from marketdata_assets.history import query
        from marketdata_assets.history.adjusted import adjusted_analytics

        names = ("session_analytics", "corporate_actions", "daily_bars")
        held = tuple(self.sessions.held(name) for name in names)

        def answer() -> bytes:
            found = query.analytics(self.lake, symbol, first, last, self.sessions)
            return history_json(adjusted_analytics(self.lake, found, adjust, self.sessions))

        return self._history.get(("analytics", symbol, first, last, adjust, held), answer)

    def forecast(self, symbol: str, horizon: str) -> dict[str, object]:
        """`marketdata forecast --json`'s object plus its `verdict` in words and `newest_session`,
        the newest session whose minute bars are held (null: none); without a materialised
        forecast, `served_model` null and a `message` naming what to run."""
        held = tuple(
            self.sessions.held(name)
            for name in ("price_forecasts", "forecast_skill", "minute_bars")
        )
        return self._forecasts.get(
            (symbol, horizon, held), partial(self._forecast, symbol, horizon)
        )

    def _forecast(self, symbol: str, horizon: str) -> dict[str, object]:
        # What price_forecasts and forecast_skill hold: no model library loads here.
        from marketdata_assets.forecasting.panel import NotEnoughHistory
        from marketdata_assets.forecasting.served import NotServed, read_forecast
        from marketdata_assets.history.held import sessions_held

        # What the page compares the forecast's `as_of` with: a refresh would forecast from it.
        held = sessions_held("minute_bars", self.sessions.keys("minute_bars"))
        newest = {"newest_session": held[-1].isoformat() if held else None}
        try:
            served = read_forecast(self.lake, symbol, horizon)
        except (NotEnoughHistory, NotServed) as error:
            message = (
                f"not enough history yet: {error}"
                if isinstance(error, NotEnoughHistory)
                else str(error)
            )
            empty = {"symbol": symbol, "horizon": horizon, "served_model": None, **newest}
            return {**empty, "message": message}
        return {**served, "verdict": views.forecast_verdict(served), **newest}

    def symbols(self, configured: tuple[str, ...]) -> list[dict[str, object]]:
        """The known symbols (`marketdata symbols --json`), listed every few seconds."""
        from marketdata_assets.history.symbols import known_symbols

        return self._listings.get(
            ("symbols", configured), lambda: known_symbols(configured, self.table, self.lake)
        )

    def _closes_on(self, session: date) -> dict[str, float]:
        from marketdata_assets.history.query import closes_on

        return self._listings.get(
            ("closes", session), lambda: closes_on(self.lake, session, self.sessions)
        )

    def _splits_on(self, session: date) -> dict[str, float]:
        """Each symbol's split ratio with `session` as ex-date (the previous close of a price
        of that session is divided by it, `history.change`)."""
        from marketdata_assets.gate.splits import split_ratios
        from marketdata_assets.history.adjusted import actions_frame

        return self._listings.get(
            ("splits", session),
            lambda: split_ratios(actions_frame(self.lake, None, session, session, self.sessions)),
        )


def answer_json(rows: list[dict[str, object]], message: str) -> bytes:
    """An API answer: the rows, or, when there are none, `{"rows": [], "message": message}`
    (encoded as FastAPI's JSONResponse encodes)."""
    content = rows if rows else {"rows": [], "message": message}
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def history_json(history: History) -> bytes:
    """A history read's API answer: its rows, or the backfill that fills its range. An intraday
    read with sessions held only as daily bars answers the object `{"rows": [...], "message":
    ..., "daily_only": ["YYYY-MM-DD", ...]}` (the shape of the empty answer, which clients read
    already), so a bare list always means every session of the range had minute bars."""
    from marketdata_assets.history.query import daily_only_note, what_to_run

    note = daily_only_note(history)
    if note is None:  # the hint is worked out only for an empty answer, which shows it
        return answer_json(history.rows, "" if history.rows else what_to_run(history))
    content = {
        "rows": history.rows,
        "message": what_to_run(history) if not history.rows else note,
        "daily_only": [day.isoformat() for day in history.daily_only],
    }
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _status(stale: bool, trading: bool) -> str:
    return "stale" if stale else "current" if trading else "closed"

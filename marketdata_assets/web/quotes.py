"""A symbol's quote as the dashboard reads it (`history.quote`): the latest-price rows as the
reader keeps them, the session's 1-minute bars from the reader's session objects, and, for a
session without them, every symbol's day from the ticks held, kept while the session's tick
objects are unchanged (listed every few seconds)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marketdata_assets.history.quote import Day
    from marketdata_assets.lake import ObjectStore
    from marketdata_assets.latest import LatestPrice
    from marketdata_assets.web.kept import Kept
    from marketdata_assets.web.sessions import SessionObjects


class Quotes:
    """Quotes over a reader's lake, session objects and caches (`Reader.quote`)."""

    def __init__(
        self,
        lake: ObjectStore,
        sessions: SessionObjects,
        listings: Kept,
        objects: Kept,
        prices: Callable[[], list[LatestPrice]],
        newest_tick: Callable[[], datetime],
        closes: Callable[[date], dict[str, float]],
        splits: Callable[[date], dict[str, float]],
    ):
        self.lake, self.sessions, self._listings, self._objects = lake, sessions, listings, objects
        self._prices, self._newest_tick, self._closes = prices, newest_tick, closes
        self._splits = splits

    def quote(self, symbol: str, now: datetime) -> dict[str, object]:
        """`history.quote.quote_of` of `symbol` at `now`."""
        from marketdata_assets.history.quote import quote_of

        return quote_of(
            symbol,
            self._prices(),
            self._newest_tick(),
            now,
            self._closes,
            self._day,
            self._splits,
        )

    def _day(self, symbol: str, session: date, until: datetime) -> Day | None:
        """`symbol`'s day in `session` up to `until`: from its minute bars, else from the
        ticks held (none is newer than the symbol's latest price)."""
        from marketdata_assets.history import query, quote

        rows = query.bars(self.lake, symbol, "1m", session, session, self.sessions).rows
        if (day := quote.day_from_bars(rows, until)) is not None:
            return day
        keys = self._listings.get(
            ("ticks of", session), partial(quote.tick_keys, self.lake, session)
        )
        days = self._objects.get(
            ("days", session, tuple(keys)),
            partial(quote.days_from_ticks, self.lake, keys, session),
        )
        return days.get(symbol)

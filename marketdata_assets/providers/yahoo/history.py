"""Yahoo's chart API as a history source (its bodies are read by `providers.chart`).

One request per symbol and session: `GET /v8/finance/chart/{symbol}?period1=<open>&period2=
<close>&interval=1m&includePrePost=false&events=div,splits` (the body also carries the
session's splits and dividends, `providers.chart_events`). Yahoo keeps 1-minute bars for 30
days only: an older session is asked for its daily bar (`interval=1d`), and the parse says so
in a note. Yahoo fills a minute without trades with null in all five fields: such a row is no
bar.

Yahoo's bars are split-adjusted as of the request: one more request per symbol (the first
session it fetches, kept for the later ones) asks for the splits from that session's open to the
end of the fetch's day, and each session's envelope records that answer as its `basis`
(`yahoo.basis` reads the bars back to the traded basis).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import httpx

from marketdata_assets.market.calendar import session_bounds
from marketdata_assets.providers.deadlines import transport
from marketdata_assets.providers.fetching import FetchPolicy, Request, fetch_all
from marketdata_assets.providers.history import (
    HISTORY_FETCH_POLICY,
    Fetched,
    fetched,
    payload,
    require_session,
)
from marketdata_assets.providers.yahoo.quotes import check_response

MINUTE_BARS_KEPT_DAYS = 30
DAILY_NOTE = f"Yahoo keeps 1-minute bars for {MINUTE_BARS_KEPT_DAYS} days"


class YahooHistory:
    name = "yahoo"

    def __init__(
        self,
        policy: FetchPolicy | None,
        base_url: str,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ):
        self.policy = policy or HISTORY_FETCH_POLICY
        self.base_url = base_url
        self.today = today
        # symbol -> (the session its answer's splits start from, the answer)
        self._basis: dict[str, tuple[date, Fetched]] = {}

    def requests_needed(self, sessions: Sequence[date], symbols: Sequence[str]) -> int:
        bases = sum(symbol not in self._basis for symbol in set(symbols)) if sessions else 0
        return len(set(sessions)) * len(set(symbols)) + bases

    def symbols(self) -> None:
        return None

    def fetch(self, session: date, symbols: Sequence[str]) -> bytes:
        require_session(session)
        names = sorted(set(symbols))
        requests = self.requests(session, names)
        # a kept basis answer covers this session when its splits start at or before it
        stale = [s for s in names if s not in self._basis or self._basis[s][0] > session]
        bases = self.basis_requests(session, stale)
        client = httpx.Client(
            transport=transport(self.policy.workers), headers={"User-Agent": "marketdata/0.1"}
        )
        with client:
            answers = fetch_all(self.name, requests + bases, check_response, self.policy, client)
        found = fetched(requests + bases, answers)
        for answer in found[len(requests) :]:
            if answer.error is None:
                self._basis[answer.symbol] = (session, answer)
        asked = {answer.symbol: answer for answer in found[len(requests) :]}
        lines = []
        for answer in found[: len(requests)]:
            basis = asked.get(answer.symbol) or self._basis[answer.symbol][1]
            lines.append(answer.line(self.name, session, basis))
        return payload(lines)

    def basis_requests(self, session: date, symbols: Sequence[str]) -> list[Request]:
        """Pure: one request per symbol for its splits from the session's open to the end of
        the fetch's day (UTC), the actions known when the bars are fetched."""
        opens, _ = session_bounds(session)
        end = datetime.combine(self.today() + timedelta(days=1), datetime.min.time(), UTC)
        params = {
            "period1": str(int(opens.timestamp())),
            "period2": str(int(end.timestamp())),
            "interval": "3mo",
            "events": "splits",
        }
        base = self.base_url.rstrip("/")
        return [
            Request(symbol, f"{base}/v8/finance/chart/{quote(symbol, safe='')}", params)
            for symbol in symbols
        ]

    def requests(self, session: date, symbols: Sequence[str]) -> list[Request]:
        """Pure: one chart request per symbol for the session's regular hours."""
        opens, closes = session_bounds(session)
        recent = (self.today() - session).days < MINUTE_BARS_KEPT_DAYS
        params = {
            "period1": str(int(opens.timestamp())),
            "period2": str(int(closes.timestamp())),
            "interval": "1m" if recent else "1d",
            "includePrePost": "false",
            "events": "div,splits",  # the session's corporate actions, in the same body
        }
        base = self.base_url.rstrip("/")
        return [
            Request(symbol, f"{base}/v8/finance/chart/{quote(symbol, safe='')}", params)
            for symbol in symbols
        ]

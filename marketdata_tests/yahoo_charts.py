"""Yahoo chart bodies as Yahoo shapes them, for any symbol and window of 1-minute bars: the
recorded `meta` (payloads/yahoo_chart_AAPL.json) and one bar per minute of the window, so a
test or a bench can answer `range=1d` and `period1`/`period2` requests with bodies of the sizes
Yahoo sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from marketdata_assets.market.calendar import session_bounds
from marketdata_tests.provider_server import ProviderServer, Reply

PAYLOADS = Path(__file__).with_name("payloads")
_RECORDED = json.loads((PAYLOADS / "yahoo_chart_AAPL.json").read_text())


def chart_window(
    symbol: str, first: int, end: int, *, range_: str = "", market_time: int | None = None
) -> str:
    """The chart body of `symbol`'s 1-minute bars starting in [first, end) (epoch seconds,
    whole minutes), `meta.range` as Yahoo echoes it ("" for a period1/period2 request) and
    `meta.regularMarketTime` `market_time` (default: the recorded one)."""
    result = _RECORDED["chart"]["result"][0]
    meta = {**result["meta"], "symbol": symbol, "range": range_}
    if market_time is not None:
        meta["regularMarketTime"] = market_time
    starts = list(range(first - first % 60 + (60 if first % 60 else 0), end, 60))
    price = float(meta["regularMarketPrice"])
    quote = {
        "open": [round(price + (i % 7) * 0.01, 2) for i in range(len(starts))],
        "high": [round(price + (i % 7) * 0.01 + 0.05, 2) for i in range(len(starts))],
        "low": [round(price + (i % 7) * 0.01 - 0.05, 2) for i in range(len(starts))],
        "close": [round(price + (i % 5) * 0.01, 2) for i in range(len(starts))],
        "volume": [120_000 + 37 * i for i in range(len(starts))],
    }
    body = {
        "chart": {
            "result": [{"meta": meta, "timestamp": starts, "indicators": {"quote": [quote]}}],
            "error": None,
        }
    }
    return json.dumps(body)


def chart_answer(symbol: str, query: dict[str, str], tick: datetime) -> str:
    """What Yahoo answers a tick's chart request at `tick`: `range=1d` gives the session's
    bars from its open up to the tick's minute, `period1`/`period2` the bars in that window
    (never past `tick`'s minute: later minutes have not happened); the quote's time is 5 s
    into the minute asked for (the window's last, else `tick`'s), as in the recorded body."""
    now = int(tick.timestamp()) + 60
    if "period1" in query:
        end = min(int(query["period2"]), now)
        return chart_window(symbol, int(query["period1"]), end, market_time=end - 55)
    quoted = now - 55
    opens, _ = session_bounds(tick.date())
    first = int(opens.timestamp())
    return chart_window(symbol, first, now, range_=query.get("range", "1d"), market_time=quoted)


class ChartServer(ProviderServer):
    """Yahoo's chart API on loopback as it answers at `tick` (`chart_answer`), each answer
    `latency()` seconds late, over kept-alive connections; records what ProviderServer does."""

    def __init__(self, tick: datetime, latency: Callable[[], float] = lambda: 0.0) -> None:
        super().__init__(lambda path, _: path.rsplit("/", 1)[-1], str, keep_alive=True)
        self.tick, self.latency = tick, latency

    def reply(self, path: str) -> tuple[Reply, str]:
        parts = urlsplit(path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        symbol = self.symbol_of(parts.path, query)
        with self.lock:
            self.requests.append(symbol)
            self.queries.append(query)
            delay = self.latency()
        return (200, chart_answer(symbol, query, self.tick), delay, False), symbol

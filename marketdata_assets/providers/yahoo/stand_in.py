"""An offline stand-in for Yahoo's chart endpoint, to measure what a Yahoo tick costs
(`marketdata cost --provider yahoo`): a loopback server answering `/v8/finance/chart/{symbol}`
with bodies shaped and sized like the recorded ones (`marketdata_tests/payloads`), holding the
1-minute bars the request asks for up to the simulated minute: `range=1d` the session so far
(about 22 KB a symbol by the close), `period1`/`period2` the bars in that window.

Prices are a deterministic walk per symbol and minute, as float32 values the way Yahoo sends
them (229.8699951171875), so most quotes change from one minute to the next.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

_NEW_YORK = ZoneInfo("America/New_York")
_PATH = "/v8/finance/chart/"
_NOT_FOUND = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data"}}}


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from `parts`."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def _f32(value: float) -> float:
    """`value` as the float32 Yahoo sends, written back as a double."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _price(symbol: str, minute: datetime) -> float:
    base = 20 + 480 * _unit(symbol)
    return base * (1 + 0.02 * (_unit(symbol, minute.date()) - 0.5) + 0.004 * _unit(symbol, minute))


def _bars(symbol: str, start: datetime, end: datetime) -> dict[str, list[object]]:
    """The 1-minute bars from `start` to `end` (exclusive), inside the New York session."""
    day = start.astimezone(_NEW_YORK).date()
    session_open = datetime(day.year, day.month, day.day, 9, 30, tzinfo=_NEW_YORK)
    minute = max(start, session_open.astimezone(UTC))
    end = min(end, (session_open + timedelta(hours=6, minutes=30)).astimezone(UTC))
    bars: dict[str, list[object]] = {n: [] for n in ("timestamp", *_QUOTE)}
    while minute < end:
        close = _price(symbol, minute)
        spread = close * 0.001 * _unit("spread", symbol, minute)
        bars["timestamp"].append(int(minute.timestamp()))
        bars["open"].append(_f32(close - spread / 2))
        bars["high"].append(_f32(close + spread))
        bars["low"].append(_f32(close - spread))
        bars["close"].append(_f32(close))
        bars["volume"].append(int(2_000 + 200_000 * _unit("volume", symbol, minute)))
        minute += timedelta(minutes=1)
    return bars


_QUOTE = ("open", "high", "low", "close", "volume")


def chart_body(symbol: str, query: dict[str, str], now: datetime) -> str:
    """The chart body for `symbol` and the request's `query`, as Yahoo answers at `now`."""
    minute = now.replace(second=0, microsecond=0)
    if "period1" in query:
        start = datetime.fromtimestamp(int(query["period1"]), UTC)
        end = min(datetime.fromtimestamp(int(query.get("period2", now.timestamp())), UTC), now)
    else:
        day = now.astimezone(_NEW_YORK).date()
        start = datetime(day.year, day.month, day.day, tzinfo=_NEW_YORK).astimezone(UTC)
        end = minute + timedelta(minutes=1)
    bars = _bars(symbol, start, end)
    price = _f32(_price(symbol, minute))
    meta = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "NMS",
        "fullExchangeName": "NasdaqGS",
        "instrumentType": "EQUITY",
        "firstTradeDate": 345479400,
        "regularMarketTime": int(now.timestamp()),
        "hasPrePostMarketData": True,
        "gmtoffset": int(now.astimezone(_NEW_YORK).utcoffset().total_seconds()),  # type: ignore[union-attr]
        "timezone": now.astimezone(_NEW_YORK).tzname(),
        "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": price,
        "fiftyTwoWeekHigh": _f32(price * 1.3),
        "fiftyTwoWeekLow": _f32(price * 0.7),
        "regularMarketDayHigh": _f32(price * 1.01),
        "regularMarketDayLow": _f32(price * 0.99),
        "regularMarketVolume": sum(v for v in bars["volume"] if isinstance(v, int)) or 1_000,
        "longName": f"{symbol} Incorporated",
        "shortName": f"{symbol} Inc.",
        "chartPreviousClose": _f32(price * 0.995),
        "previousClose": _f32(price * 0.995),
        "scale": 3,
        "priceHint": 2,
        "currentTradingPeriod": {
            name: {"timezone": "EST", "start": 1764064800, "end": 1764104400, "gmtoffset": -18000}
            for name in ("pre", "regular", "post")
        },
        "tradingPeriods": [[{"timezone": "EST", "start": 1764081000, "end": 1764104400}]],
        "dataGranularity": query.get("interval", "1m"),
        "range": query.get("range", ""),
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    timestamps = bars.pop("timestamp")
    result = {"meta": meta, "timestamp": timestamps, "indicators": {"quote": [bars]}}
    return json.dumps({"chart": {"result": [result], "error": None}}, separators=(",", ":"))


class _Handler(BaseHTTPRequestHandler):
    server: _StandIn

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        if url.path.startswith(_PATH):
            status, body = 200, chart_body(url.path[len(_PATH) :], query, self.server.clock())
        else:
            status, body = 404, json.dumps(_NOT_FOUND)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, clock: Callable[[], datetime]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.clock = clock


@contextmanager
def serving(clock: Callable[[], datetime]) -> Iterator[dict[str, str]]:
    """The stand-in on a free loopback port while the block runs; yields the variable that
    points the provider at it."""
    server = _StandIn(clock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"MARKETDATA_YAHOO_URL": f"http://127.0.0.1:{server.server_address[1]}"}
    finally:
        server.shutdown()
        server.server_close()

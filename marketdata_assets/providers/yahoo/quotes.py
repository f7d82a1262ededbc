"""Yahoo Finance through the chart endpoint (/v8/finance/chart/{symbol}).

Not `yfinance`: it hides failed downloads behind empty frames, and its HTTP layer cannot be
intercepted in tests. Here every failure is a typed error in the raw payload.

The quote is the chart's `meta`, mapped onto the Quote fields by `QUOTE_FIELDS`; `event_ts` is
`regularMarketTime` (epoch seconds) in UTC and `trading_day` that moment's date in
`exchangeTimezoneName`. `regularMarketVolume` is the session's cumulative volume; the minute
volumes of `indicators.quote` are another quantity and never stand in for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx

from marketdata_assets.market.zones import standard_exchange_tz
from marketdata_assets.providers.deadlines import transport
from marketdata_assets.providers.fetching import (
    Answer,
    FetchError,
    FetchPolicy,
    Request,
    check_status,
    detail,
    fetch_all,
    json_body,
)

# Quote field -> the chart `meta` field holding it, as sent (curation types it). Derived from
# `regularMarketTime` instead: `event_ts` and `trading_day`.
QUOTE_FIELDS = {
    "symbol": "symbol",
    "price": "regularMarketPrice",
    "currency": "currency",
    "day_volume": "regularMarketVolume",
    "exchange": "exchangeName",  # the code (NMS, NYQ); fullExchangeName is display text
    "exchange_tz": "exchangeTimezoneName",
}

# A tick asks for its own minute and this much before it (period1): the last complete bar.
WINDOW_BEFORE_S = 60


def build_requests(symbols: Sequence[str], base_url: str, tick: datetime) -> list[Request]:
    """Pure: one chart request per symbol (symbols are validated, so safe in a path) for the
    tick's window only (`window`): the quote is the chart's `meta`, which Yahoo sends whatever
    the window, so a tick lands a minute's bars, not the day's (the history job fetches those,
    once per session)."""
    first, end = window(tick)
    params = {"period1": str(first), "period2": str(end), "interval": "1m"}
    base = base_url.rstrip("/")
    return [Request(symbol, f"{base}/v8/finance/chart/{symbol}", params) for symbol in symbols]


def window(tick: datetime) -> tuple[int, int]:
    """The epoch seconds [period1, period2) a tick asks for: the minute before the tick's and
    the tick's own, so the body holds at most those two bars (`range=1d` sent the session's
    every bar: about 21 KB a symbol by the close, against about 1 KB)."""
    start = int(tick.timestamp()) // 60 * 60
    return start - WINDOW_BEFORE_S, start + 60


def check_response(response: Answer) -> None:
    """Raise FetchError unless the response holds a chart result. Total: whatever the body's
    shape, the outcome is a pass or a typed FetchError."""
    if response.status == 404:
        raise FetchError("UnknownSymbol", "Yahoo answered Not Found", retryable=False, status=404)
    check_status(response)
    body = json_body(response)
    chart = body.get("chart") if isinstance(body, dict) else None
    if not isinstance(chart, dict):
        raise FetchError("UnexpectedBody", "no chart object", retryable=False)
    error = chart.get("error")
    if error:
        said = error.get("description", error) if isinstance(error, dict) else error
        raise FetchError("ProviderError", detail(said), retryable=False)
    result = chart.get("result")
    if not result:
        raise FetchError("MalformedJson", "no chart result", retryable=True)
    if not isinstance(result, list) or not isinstance(result[0], dict):
        raise FetchError(
            "UnexpectedBody", "the chart result is not a list of objects", retryable=False
        )


def parse(body: str) -> dict[str, object] | None:
    """Pure and total: a chart body to the Quote fields as sent, None when it holds no result's
    `meta`.

    Fields of the wrong type pass through for curation to null; an `event_ts` that no datetime
    can hold (NaN, inf, 1e20, a boolean), or a `trading_day` without a known zone, is None.
    """
    try:
        meta = json.loads(body)["chart"]["result"][0]["meta"]
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None
    if not isinstance(meta, dict):
        return None
    moment = _moment(meta.get("regularMarketTime"))
    return {
        **{field: meta.get(name) for field, name in QUOTE_FIELDS.items()},
        "event_ts": moment.isoformat() if moment else None,
        "trading_day": _local_day(moment, meta.get("exchangeTimezoneName")),
    }


def _local_day(moment: datetime | None, zone: object) -> str | None:
    """`moment`'s date in the IANA zone `zone`, ISO; None without both or past datetime's range."""
    name = standard_exchange_tz(zone)
    if moment is None or name is None:
        return None
    try:
        return moment.astimezone(ZoneInfo(name)).date().isoformat()
    except OverflowError:  # 9999-12-31T23:00Z is in year 10000 east of UTC
        return None


def _moment(epoch: object) -> datetime | None:
    """Epoch seconds as an aware UTC datetime; None unless a real number a datetime can hold."""
    if isinstance(epoch, bool) or not isinstance(epoch, int | float):
        return None
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, ValueError, OSError):  # NaN, inf, 1e20, before year 1
        return None


class YahooProvider:
    name = "yahoo"

    def __init__(self, symbols: Sequence[str], policy: FetchPolicy | None = None, *, base_url: str):
        self.symbols = tuple(symbols)
        self.policy = policy or FetchPolicy()
        self.base_url = base_url

    def fetch(self, tick: datetime) -> bytes:
        client = httpx.Client(
            transport=transport(self.policy.workers), headers={"User-Agent": "marketdata/0.1"}
        )
        with client:
            return fetch_all(
                self.name,
                build_requests(self.symbols, self.base_url, tick),
                check_response,
                self.policy,
                client,
            )

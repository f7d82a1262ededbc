"""Yahoo Finance through the chart endpoint (/v8/finance/chart/{symbol}).

Not `yfinance`: it hides failed downloads behind empty frames, and its HTTP layer cannot be
intercepted in tests. Here every failure is a typed error in the raw payload.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from marketdata_assets.providers.fetching import (
    Answer,
    FetchError,
    FetchPolicy,
    Request,
    check_status,
    fetch_all,
    json_body,
)

DEFAULT_URL = "https://query1.finance.yahoo.com"


def build_requests(symbols: Sequence[str], base_url: str) -> list[Request]:
    """Pure: one chart request per symbol (symbols are validated, so safe in a path)."""
    return [
        Request(
            symbol,
            f"{base_url.rstrip('/')}/v8/finance/chart/{symbol}",
            {"range": "1d", "interval": "1m"},
        )
        for symbol in symbols
    ]


def check_response(response: Answer) -> None:
    """Raise FetchError unless the response holds a chart result."""
    if response.status == 404:
        raise FetchError("UnknownSymbol", "Yahoo answered Not Found", retryable=False, status=404)
    check_status(response)
    chart = json_body(response)
    error = chart.get("chart", {}).get("error") if isinstance(chart, dict) else None
    if error:
        raise FetchError("ProviderError", str(error.get("description", error)), retryable=False)
    if not isinstance(chart, dict) or not (chart.get("chart") or {}).get("result"):
        raise FetchError("MalformedJson", "no chart result", retryable=True)


def parse(body: str) -> dict[str, object] | None:
    """Pure: a chart body to a raw record (None when it holds no result)."""
    import json

    try:
        result = json.loads(body)["chart"]["result"][0]
        meta = result["meta"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    volumes = [
        v
        for v in (result.get("indicators", {}).get("quote") or [{}])[0].get("volume") or []
        if v is not None
    ]
    moment = meta.get("regularMarketTime")
    return {
        "symbol": meta.get("symbol"),
        "price": meta.get("regularMarketPrice"),
        "volume": meta.get("regularMarketVolume", volumes[-1] if volumes else None),
        "currency": meta.get("currency"),
        "event_ts": datetime.fromtimestamp(moment, UTC).isoformat()
        if isinstance(moment, int | float)
        else None,
        "exchange": meta.get("exchangeName"),
        "exchange_timezone": meta.get("exchangeTimezoneName"),
    }


class YahooProvider:
    name = "yahoo"

    def __init__(
        self, symbols: Sequence[str], policy: FetchPolicy | None = None, base_url: str | None = None
    ):
        self.symbols = tuple(symbols)
        self.policy = policy or FetchPolicy()
        self.base_url = base_url or os.environ.get("MARKETDATA_YAHOO_URL") or DEFAULT_URL

    def fetch(self, tick: datetime) -> bytes:
        with httpx.Client(headers={"User-Agent": "marketdata/0.1"}) as client:
            return fetch_all(
                self.name,
                build_requests(self.symbols, self.base_url),
                check_response,
                self.policy,
                client,
            )

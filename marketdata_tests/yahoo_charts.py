"""Yahoo chart bodies as Yahoo shapes them, for any symbol and window of 1-minute bars: the
recorded `meta` (payloads/yahoo_chart_AAPL.json) and one bar per minute of the window, so a
test or a bench can answer `range=1d` and `period1`/`period2` requests with bodies of the sizes
Yahoo sends."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from marketdata_assets.market.calendar import session_bounds

PAYLOADS = Path(__file__).with_name("payloads")
_RECORDED = json.loads((PAYLOADS / "yahoo_chart_AAPL.json").read_text())


def chart_window(symbol: str, first: int, end: int, *, range_: str = "") -> str:
    """The chart body of `symbol`'s 1-minute bars starting in [first, end) (epoch seconds,
    whole minutes), `meta.range` as Yahoo echoes it ("" for a period1/period2 request)."""
    result = _RECORDED["chart"]["result"][0]
    meta = {**result["meta"], "symbol": symbol, "range": range_}
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
    (never past the tick's minute: later minutes have not happened)."""
    now = int(tick.timestamp()) + 60
    if "period1" in query:
        return chart_window(symbol, int(query["period1"]), min(int(query["period2"]), now))
    opens, _ = session_bounds(tick.date())
    return chart_window(symbol, int(opens.timestamp()), now, range_=query.get("range", "1d"))

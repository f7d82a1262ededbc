"""The stub's history: its seeded market's 1-minute sessions (`market`) as chart-shaped bodies.

A symbol's bars depend only on (seed, symbol, session): fetching a subset of symbols, or
fetching again, gives the same bodies, byte for byte. The body of an ex-date session carries the
symbol's corporate actions (`actions`) as Yahoo's chart `events` do: a split's numerator and
denominator, a dividend's amount (its yield times the raw close of the session before).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from fractions import Fraction

import numpy as np

from marketdata_assets.market.calendar import previous_session, session_minutes
from marketdata_assets.providers.history import envelope, payload, require_session
from marketdata_assets.providers.stub.actions import actions_on
from marketdata_assets.providers.stub.market import session_bars


class StubHistory:
    name = "stub"

    def __init__(self, *, seed: int = 7):
        self.seed = seed

    def requests_needed(self, sessions: Sequence[date], symbols: Sequence[str]) -> int:
        return 0

    def symbols(self) -> None:
        return None

    def fetch(self, session: date, symbols: Sequence[str]) -> bytes:
        require_session(session)
        names = sorted(set(symbols))
        if not names:
            return b""
        starts = session_minutes(session).as_unit("s").asi8
        bars = session_bars(self.seed, session, names)
        times = _joined(starts[np.newaxis, :])[0]
        fields = [_joined(bars[name]) for name in ("open", "high", "low", "close", "volume")]
        lines = [
            envelope(
                self.name,
                name,
                session,
                _chart(name, times, [f[i] for f in fields], self._events(name, session)),
            )
            for i, name in enumerate(names)
        ]
        return payload(lines)

    def _events(self, symbol: str, session: date) -> str:
        """The `"events":{…},` member of the symbol's body in `session` ("" without actions)."""
        found = actions_on(symbol, session)
        if not found:
            return ""
        epoch = int(session_minutes(session)[0].timestamp())
        events: dict[str, dict[str, object]] = {}
        for action in found:
            if action.kind == "split":
                numerator, denominator = (
                    Fraction(action.value).limit_denominator(1000).as_integer_ratio()
                )
                events.setdefault("splits", {})[str(epoch)] = {
                    "date": epoch,
                    "numerator": numerator,
                    "denominator": denominator,
                    "splitRatio": f"{numerator}:{denominator}",
                }
            else:
                before = previous_session(session) or session
                close = float(session_bars(self.seed, before, [symbol])["close"][0, -1])
                amount = round(action.value * close, 2)
                events.setdefault("dividends", {})[str(epoch)] = {"amount": amount, "date": epoch}
        return f'"events":{json.dumps(events, separators=(",", ":"), sort_keys=True)},'


def _joined(rows: np.ndarray) -> list[str]:
    """Each row of numbers as JSON list items ("1.5,2,3.25"): shortest round-trip text, as
    Python writes floats (the formatting is pyarrow's, an order of magnitude faster)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    count, width = rows.shape
    texts = pc.cast(pa.array(rows.ravel()), pa.string())
    lists = pa.ListArray.from_arrays(pa.array(np.arange(count + 1) * width, pa.int32()), texts)
    return pc.binary_join(lists, ",").to_pylist()


def _chart(symbol: str, times: str, fields: list[str], events: str = "") -> str:
    """A chart body: `times` and the five quote `fields` (open, high, low, close, volume) are
    JSON list items; `events` its `"events":{…},` member, or ""."""
    meta = json.dumps(
        {
            "currency": "USD",
            "symbol": symbol,
            "exchangeName": "STUB",
            "exchangeTimezoneName": "America/New_York",
            "dataGranularity": "1m",
        },
        separators=(",", ":"),
    )
    opens, highs, lows, closes, volumes = fields
    return (
        f'{{"chart":{{"result":[{{"meta":{meta},{events}"timestamp":[{times}],"indicators":{{"quote":'
        f'[{{"open":[{opens}],"high":[{highs}],"low":[{lows}],"close":[{closes}],'
        f'"volume":[{volumes}]}}]}}}}],"error":null}}}}'
    )

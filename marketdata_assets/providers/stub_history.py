"""A deterministic, seeded history: realistic 1-minute sessions as Yahoo-chart-shaped bodies.

Each symbol's session closes follow one geometric random walk in calendar days, read at any day
without generating the days before it: the walk is built by Brownian-bridge refinement over a
fixed span of 2**15 days (Lévy's construction), so a day's value takes 15 seeded draws, each a
hash of (seed, symbol, node). The walk is anchored so a symbol trades near its familiar level on
`ANCHOR_DAY`. The walk from one session's close to the next is split into the overnight gap
(variance GAP_VOLATILITY**2) and the session (the rest): the open is the walk's Brownian-bridge
point between the two closes, and the minutes bridge from the open to the close with U-shaped
volatility and volume (busy at the open and the close). So every price is a point of one
Brownian motion: no past minute, gap or session predicts the next (a random walk at every scale,
which the forecasts' leakage canary relies on). Prices are rounded to cents (rounding is
monotone, so high >= max(open, close) and low <= min(open, close) hold after it), volumes are
whole shares.

A symbol's bars depend only on (seed, symbol, session): fetching a subset of symbols, or
fetching again, gives the same bodies, byte for byte.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from marketdata_assets.market.calendar import session_minutes, sessions_in
from marketdata_assets.providers.history import envelope, payload, require_session
from marketdata_assets.providers.stub import BASE_PRICES

ANCHOR_DAY = date(2026, 11, 2)  # the walk is at the symbol's base price here
_SPAN_START = date(2000, 1, 3).toordinal()
_SPAN_LEVELS = 15  # the walk spans 2**15 days (to 2089)
DAY_VOLATILITY = 0.014  # per calendar day of the walk: about 1.7 % from one session to the next
GAP_VOLATILITY = 0.004  # the overnight gap; the session takes the rest of the walk's variance
_MASK = (1 << 64) - 1


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
        keys = np.array([zlib.crc32(name.encode()) for name in names], dtype=np.uint64)
        base = np.log(
            [BASE_PRICES.get(name, 10.0 + zlib.crc32(name.encode()) % 490) for name in names]
        )
        anchor = self._walk(keys, ANCHOR_DAY.toordinal())
        close = base + DAY_VOLATILITY * (self._walk(keys, session.toordinal()) - anchor)
        before = _previous_session(session)
        previous_close = base + DAY_VOLATILITY * (self._walk(keys, before.toordinal()) - anchor)
        starts = session_minutes(session).as_unit("s").asi8
        walked = DAY_VOLATILITY**2 * (session.toordinal() - before.toordinal())
        bars = self._bars(keys, session, len(starts), previous_close, close, walked)
        times = _joined(starts[np.newaxis, :])[0]
        fields = [_joined(bars[name]) for name in ("open", "high", "low", "close", "volume")]
        lines = [
            envelope(self.name, name, session, _chart(name, times, [f[i] for f in fields]))
            for i, name in enumerate(names)
        ]
        return payload(lines)

    def _bars(
        self,
        keys: np.ndarray,
        session: date,
        minutes: int,
        opened: np.ndarray,
        closed: np.ndarray,
        walked: float,
    ) -> dict[str, np.ndarray]:
        """Each symbol's session (one row per symbol): a walk from the previous close (`opened`,
        plus a gap) to `closed`, `walked` the walk's variance between the two, prices in cents,
        whole-share volumes. Each symbol's draws come from its own generator, so a symbol's bars
        do not depend on the others fetched."""
        draws = np.stack(
            [
                np.random.default_rng(
                    [self.seed & _MASK, int(key), session.toordinal()]
                ).standard_normal(1 + 4 * minutes)
                for key in keys
            ]
        )
        gap, steps, up, down, busy = (
            draws[:, :1],
            *np.split(draws[:, 1:], 4, axis=1),
        )
        at = (np.arange(minutes) + 0.5) / minutes
        edge = (2 * at - 1) ** 2  # 0 at midday, 1 at the open and the close
        variance = 0.6 + 2.4 * edge
        overnight = min(GAP_VOLATILITY**2 / walked, 0.5)  # the gap's share of the walk
        variance *= (1 - overnight) * walked / variance.sum()
        # the walk at the open, given both closes: a Brownian bridge's point
        middle = opened + overnight * (closed - opened)
        spread = np.sqrt(overnight * (1 - overnight) * walked)
        first = middle[:, np.newaxis] + spread * gap
        wander = np.cumsum(np.sqrt(variance) * steps, axis=1)
        spent = np.cumsum(variance) / variance.sum()
        # a bridge: the path ends at `closed`
        path = first + wander - spent * (wander[:, -1:] - (closed[:, np.newaxis] - first))
        closes = np.exp(path)
        opens = np.exp(np.concatenate((first, path[:, :-1]), axis=1))
        reach = np.sqrt(variance) * 0.6
        highs = np.maximum(opens, closes) * np.exp(np.abs(up) * reach)
        lows = np.minimum(opens, closes) * np.exp(-np.abs(down) * reach)
        shares = (2_000 + keys % 50 * 1_000).astype(np.float64)[:, np.newaxis]
        volumes = np.rint(shares * (0.5 + 3.0 * edge) * np.exp(0.35 * busy))
        prices = {"open": opens, "high": highs, "low": lows, "close": closes}
        return {name: np.round(values, 2) for name, values in prices.items()} | {
            "volume": np.maximum(1, volumes).astype(np.int64)
        }

    def _walk(self, keys: np.ndarray, day: int) -> np.ndarray:
        """Each symbol's standard Brownian motion at `day` (an ordinal), by bridge refinement."""
        offset = min(max(day - _SPAN_START, 0), 1 << _SPAN_LEVELS)
        lo, hi = 0, 1 << _SPAN_LEVELS
        at_lo = np.zeros(len(keys))
        at_hi = np.sqrt(hi) * self._normal(keys, hi)
        while True:
            if offset == lo:
                return at_lo
            if offset == hi:
                return at_hi
            mid = (lo + hi) // 2
            at_mid = (at_lo + at_hi) / 2 + np.sqrt((hi - lo) / 4) * self._normal(keys, mid)
            if offset < mid:
                hi, at_hi = mid, at_mid
            else:
                lo, at_lo = mid, at_mid

    def _normal(self, keys: np.ndarray, node: int) -> np.ndarray:
        """A standard normal per key for this walk node: Box-Muller over two hashed uniforms."""
        salt = _splitmix(np.array([(self.seed * 0x9E3779B97F4A7C15 + node * 2) & _MASK], np.uint64))
        first = _splitmix(keys ^ salt)
        second = _splitmix(first ^ np.uint64(0xD1B54A32D192ED03))
        u1 = ((first >> np.uint64(11)).astype(np.float64) + 1.0) / 2.0**53
        u2 = (second >> np.uint64(11)).astype(np.float64) / 2.0**53
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _splitmix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, elementwise (uint64 arithmetic wraps)."""
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _previous_session(session: date) -> date:
    """The session before `session` (the day before, where the calendar knows none)."""
    earlier = sessions_in(session - timedelta(days=14), session - timedelta(days=1))
    return earlier[-1] if earlier else session - timedelta(days=1)


def _joined(rows: np.ndarray) -> list[str]:
    """Each row of numbers as JSON list items ("1.5,2,3.25"): shortest round-trip text, as
    Python writes floats (the formatting is pyarrow's, an order of magnitude faster)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    count, width = rows.shape
    texts = pc.cast(pa.array(rows.ravel()), pa.string())
    lists = pa.ListArray.from_arrays(pa.array(np.arange(count + 1) * width, pa.int32()), texts)
    return pc.binary_join(lists, ",").to_pylist()


def _chart(symbol: str, times: str, fields: list[str]) -> str:
    """A chart body: `times` and the five quote `fields` (open, high, low, close, volume) are
    JSON list items."""
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
        f'{{"chart":{{"result":[{{"meta":{meta},"timestamp":[{times}],"indicators":{{"quote":'
        f'[{{"open":[{opens}],"high":[{highs}],"low":[{lows}],"close":[{closes}],'
        f'"volume":[{volumes}]}}]}}}}],"error":null}}}}'
    )

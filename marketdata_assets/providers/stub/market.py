"""The stub's one seeded market: every symbol's 1-minute bars, and its price at any minute.

Each symbol's session closes follow one geometric random walk in calendar days, read at any day
without generating the days before it: the walk is built by Brownian-bridge refinement over a
fixed span of 2**15 days (Lévy's construction), so a day's value takes 15 seeded draws, each a
hash of (seed, symbol, node). The walk is anchored so a symbol trades near its familiar level on
`ANCHOR_DAY`. The walk from one session's close to the next is split into the overnight gap
(variance GAP_VOLATILITY**2) and the session (the rest): the open is the walk's Brownian-bridge
point between the two closes, and the minutes bridge from the open to the close with U-shaped
volatility and volume (busy at the open and the close). So every price is a point of one
Brownian motion: no past minute, gap or session predicts the next (a random walk at every scale,
which the forecasts' leakage canary relies on). The stub's splits and dividends (`actions`) scale
a symbol's prices (a split its volumes too) from each ex-date on. Prices are rounded to cents
(rounding is monotone, so high >= max(open, close) and low <= min(open, close) hold after it),
volumes are whole shares. A symbol's bars depend only on (seed, symbol, session).

The tick's price at minute T (`price_at`) is that market's: in a session, the close of the bar
starting at T; between sessions (the stub quotes around the clock), a seeded Brownian bridge
from the last close to the next session's first open, so the first bar opens where the quotes
before it ended. Outside the calendar's span (20 years back to one year ahead) there are no
sessions: the price is a seeded walk from a daily open.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from marketdata_assets.market.calendar import session_minutes, sessions_in
from marketdata_assets.providers.stub.actions import scales

# Rough late-2026 price levels so the table looks familiar; unknown symbols get a hashed level.
BASE_PRICES = {
    "AAPL": 230.0, "MSFT": 420.0, "GOOGL": 175.0, "AMZN": 200.0, "NVDA": 140.0,
    "META": 580.0, "TSLA": 250.0, "JPM": 220.0, "V": 290.0, "KO": 64.0,
}  # fmt: skip
ANCHOR_DAY = date(2026, 11, 2)  # the walk is at the symbol's base price here
_SPAN_START = date(2000, 1, 3).toordinal()
_SPAN_LEVELS = 15  # the walk spans 2**15 days (to 2089)
DAY_VOLATILITY = 0.014  # per calendar day of the walk: about 1.7 % from one session to the next
GAP_VOLATILITY = 0.004  # the overnight gap; the session takes the rest of the walk's variance
QUIET_VOLATILITY = 0.0002  # a minute's move between sessions (quotes around the clock)
MINUTE_VOLATILITY = 0.0008  # a minute's move outside the calendar's span
_MASK = (1 << 64) - 1
_MINUTE = timedelta(minutes=1)


def symbol_key(symbol: str) -> int:
    return zlib.crc32(symbol.encode())


def base_price(symbol: str) -> float:
    return BASE_PRICES.get(symbol, 10.0 + symbol_key(symbol) % 490)


def session_bars(seed: int, session: date, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Each of `names`' bars of `session` (one row per name, one column per minute)."""
    keys = np.array([symbol_key(name) for name in names], dtype=np.uint64)
    base = np.log([base_price(name) for name in names])
    anchor = _walk(seed, keys, ANCHOR_DAY.toordinal())
    close = base + DAY_VOLATILITY * (_walk(seed, keys, session.toordinal()) - anchor)
    before = _previous_session(session)
    previous_close = base + DAY_VOLATILITY * (_walk(seed, keys, before.toordinal()) - anchor)
    walked = DAY_VOLATILITY**2 * (session.toordinal() - before.toordinal())
    minutes = len(session_minutes(session))
    scale = scales(tuple(names), session)  # its corporate actions (`actions`)
    return _bars(seed, keys, session, minutes, previous_close, close, walked, scale)


def prices_at(symbols: Sequence[str], tick: datetime, seed: int) -> list[float]:
    """Each symbol's price at minute `tick` (UTC): see the module's docstring."""
    tick = tick.astimezone(UTC)
    here = _session_of(tick)
    if here is not None:
        session, index = here
        return [float(closes[index]) for _, closes in _days(seed, session, symbols)]
    last, following = _neighbours(tick)
    if last is None or following is None:
        return [_unlisted_price(symbol, tick, seed) for symbol in symbols]
    closed_at = _bars_span(last)[1] + _MINUTE
    span = int((_bars_span(following)[0] - closed_at) / _MINUTE)
    at = int((tick - closed_at) / _MINUTE)
    ends = zip(_days(seed, last, symbols), _days(seed, following, symbols), strict=True)
    prices = []
    for symbol, ((_, closes), (opened, _)) in zip(symbols, ends, strict=True):
        start, end = np.log(closes[-1]), np.log(opened)
        steps = np.random.default_rng(
            [seed & _MASK, symbol_key(symbol), last.toordinal(), 2]
        ).standard_normal(span)
        wander = np.cumsum(steps) * QUIET_VOLATILITY
        bridge = (wander[at - 1] if at else 0.0) - at / span * wander[-1]
        prices.append(round(float(np.exp(start + (end - start) * at / span + bridge)), 2))
    return prices


def price_at(symbol: str, tick: datetime, seed: int) -> float:
    """The symbol's price at minute `tick` (UTC)."""
    return prices_at([symbol], tick, seed)[0]


_DAYS: dict[tuple[int, date, str], tuple[float, np.ndarray]] = {}


def _days(seed: int, session: date, symbols: Sequence[str]) -> list[tuple[float, np.ndarray]]:
    """Each symbol's first open and closes of the session, kept (a tick asks every minute);
    the missing ones made in one pass."""
    missing = [symbol for symbol in dict.fromkeys(symbols) if (seed, session, symbol) not in _DAYS]
    if missing:
        if len(_DAYS) + len(missing) > 20_000:
            _DAYS.clear()
        bars = session_bars(seed, session, missing)
        for row, symbol in enumerate(missing):
            _DAYS[(seed, session, symbol)] = (float(bars["open"][row, 0]), bars["close"][row])
    return [_DAYS[(seed, session, symbol)] for symbol in symbols]


@lru_cache(maxsize=64)
def _bars_span(day: date) -> tuple[datetime, datetime]:
    """The start of the session's first and last 1-minute bars (UTC)."""
    starts = session_minutes(day)
    return starts[0].to_pydatetime(), starts[-1].to_pydatetime()


@lru_cache(maxsize=64)
def _session_of(tick: datetime) -> tuple[date, int] | None:
    """The session whose bar starts at `tick`, and the bar's position; None between sessions.
    (A session never crosses UTC midnight, so its day is the tick's UTC date.)"""
    for day in sessions_in(tick.date(), tick.date()):
        first, last = _bars_span(day)
        if first <= tick <= last:
            return day, int((tick - first) / _MINUTE)
    return None


@lru_cache(maxsize=64)
def _neighbours(tick: datetime) -> tuple[date | None, date | None]:
    """The last session that closed before `tick` and the first that opens after it."""
    around = sessions_in(tick.date() - timedelta(days=14), tick.date() + timedelta(days=14))
    before = [day for day in around if _bars_span(day)[1] < tick]
    after = [day for day in around if _bars_span(day)[0] > tick]
    return (before[-1] if before else None), (after[0] if after else None)


def _unlisted_price(symbol: str, tick: datetime, seed: int) -> float:
    """A walk that starts each UTC day from a seeded open (no calendar to follow)."""
    day = tick.astimezone(UTC).date().toordinal()
    minute_of_day = tick.hour * 60 + tick.minute
    rng = np.random.default_rng([seed, day, symbol_key(symbol)])
    opening, *_ = rng.standard_normal(1) * 0.02
    steps = rng.standard_normal(minute_of_day + 1) * MINUTE_VOLATILITY
    return round(float(base_price(symbol) * np.exp(opening + steps.sum())), 4)


def _bars(
    seed: int,
    keys: np.ndarray,
    session: date,
    minutes: int,
    opened: np.ndarray,
    closed: np.ndarray,
    walked: float,
    scale: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Each symbol's session (one row per symbol): a walk from the previous close (`opened`,
    plus a gap) to `closed`, `walked` the walk's variance between the two, prices and volumes
    times `scale` (the symbol's corporate actions so far): prices in cents, whole-share
    volumes. Each symbol's draws come from its own generator, so a symbol's bars do not depend
    on the others fetched."""
    draws = np.stack(
        [
            np.random.default_rng([seed & _MASK, int(key), session.toordinal()]).standard_normal(
                1 + 4 * minutes
            )
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
    volumes = np.rint(shares * (0.5 + 3.0 * edge) * np.exp(0.35 * busy) * scale[1][:, np.newaxis])
    prices = {"open": opens, "high": highs, "low": lows, "close": closes}
    scaled = scale[0][:, np.newaxis]
    return {name: np.round(values * scaled, 2) for name, values in prices.items()} | {
        "volume": np.maximum(1, volumes).astype(np.int64)
    }


def _walk(seed: int, keys: np.ndarray, day: int) -> np.ndarray:
    """Each symbol's standard Brownian motion at `day` (an ordinal), by bridge refinement."""
    offset = min(max(day - _SPAN_START, 0), 1 << _SPAN_LEVELS)
    lo, hi = 0, 1 << _SPAN_LEVELS
    at_lo = np.zeros(len(keys))
    at_hi = np.sqrt(hi) * _normal(seed, keys, hi)
    while True:
        if offset == lo:
            return at_lo
        if offset == hi:
            return at_hi
        mid = (lo + hi) // 2
        at_mid = (at_lo + at_hi) / 2 + np.sqrt((hi - lo) / 4) * _normal(seed, keys, mid)
        if offset < mid:
            hi, at_hi = mid, at_mid
        else:
            lo, at_lo = mid, at_mid


def _normal(seed: int, keys: np.ndarray, node: int) -> np.ndarray:
    """A standard normal per key for this walk node: Box-Muller over two hashed uniforms."""
    salt = _splitmix(np.array([(seed * 0x9E3779B97F4A7C15 + node * 2) & _MASK], np.uint64))
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

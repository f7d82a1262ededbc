"""Back-adjustment: the factors corporate actions put on the prices and volumes before them.

Stored bars stay raw; a reader adjusts them (`none`: the stored prices, `splits`: split-adjusted
as Yahoo's charts show, `all`: splits and cash dividends, a total-return series). The rule is
CRSP's, which the vendors' adjusted series follow:

- a split of ratio r (new shares per old: 4 for 4:1, 1.5 for 3:2) on ex-date E: every price of
  a bar before E is divided by r, every volume multiplied by r (rounded to whole shares);
- a cash dividend D on E: every price before E is multiplied by 1 - D / C, C the raw close of
  the session before E (a dividend whose C is unknown, or not above D, adjusts nothing);
- the factors compound: a bar's multiplier is the product of the factors of its symbol's
  actions with an ex-date after the bar's session. A bar on or after an ex-date is untouched by
  that action, so the newest prices always equal the stored ones.

Pure numpy and pandas: no Dagster, no Great Expectations.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from marketdata_assets.history.daily import session_days
from marketdata_assets.market.calendar import previous_session
from marketdata_assets.market.records import ADJUSTMENTS as RECORD_ADJUSTMENTS

Adjustment = Literal["none", "splits", "all"]
ADJUSTMENTS: tuple[str, ...] = RECORD_ADJUSTMENTS
DEFAULT_ADJUSTMENT: Adjustment = "splits"
_PRICES = ("open", "high", "low", "close", "vwap")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# (symbol, ex-date) -> the raw close of the symbol's session before the ex-date.
PreviousCloses = Mapping[tuple[str, date], float]


def adjustment(text: str) -> Adjustment:
    """`text` as an adjustment; a ValueError naming the rule otherwise."""
    if text not in ADJUSTMENTS:
        raise ValueError(f"adjust {text!r}: must be one of {', '.join(ADJUSTMENTS)}")
    return text  # type: ignore[return-value]


def factors(
    actions: pd.DataFrame, previous_closes: PreviousCloses, adjust: Adjustment
) -> pd.DataFrame:
    """One row per action that adjusts under `adjust`: symbol, day (the ex-date, epoch days),
    price (the factor on prices before it) and volume (the factor on volumes before it).

    `actions` holds at least symbol, ex_date (a date at midnight), kind and value."""
    adjustment(adjust)
    empty = pd.DataFrame({"symbol": pd.Series(dtype="str"), "day": pd.Series(dtype="int64"),
                          "price": pd.Series(dtype="float64"),
                          "volume": pd.Series(dtype="float64")})  # fmt: skip
    if adjust == "none" or actions.empty:
        return empty
    kinds = ("split",) if adjust == "splits" else ("split", "dividend")
    rows = []
    for symbol, ex_date, kind, value in zip(
        actions["symbol"], actions["ex_date"], actions["kind"], actions["value"], strict=True
    ):
        if kind not in kinds:
            continue
        day = pd.Timestamp(ex_date).date()
        if kind == "split":
            rows.append((symbol, _epoch_day(day), 1.0 / value, float(value)))
            continue
        close = previous_closes.get((symbol, day))
        if close is not None and np.isfinite(close) and close > value:
            rows.append((symbol, _epoch_day(day), 1.0 - value / close, 1.0))
    if not rows:
        return empty
    frame = pd.DataFrame(rows, columns=["symbol", "day", "price", "volume"])
    return frame.astype(empty.dtypes.to_dict())


def multipliers(
    table: pd.DataFrame, symbols: np.ndarray, days: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's price and volume multipliers: the product of the factors (`factors`) of its
    symbol's actions with an ex-date after its day (`days`: epoch days)."""
    price = np.ones(len(symbols))
    volume = np.ones(len(symbols))
    if table.empty or not len(symbols):
        return price, volume
    symbols = np.asarray(symbols, dtype=object)
    for symbol, group in table.groupby("symbol", sort=False):
        mine = np.flatnonzero(symbols == symbol)
        if not len(mine):
            continue
        ordered = group.sort_values("day", kind="stable")
        ex_days = ordered["day"].to_numpy(np.int64)
        # suffix products: the factor of every action at or after position k
        after_price = np.r_[np.cumprod(ordered["price"].to_numpy()[::-1])[::-1], 1.0]
        after_volume = np.r_[np.cumprod(ordered["volume"].to_numpy()[::-1])[::-1], 1.0]
        first_later = np.searchsorted(ex_days, days[mine], side="right")
        price[mine] = after_price[first_later]
        volume[mine] = after_volume[first_later]
    return price, volume


def adjust_bars(
    bars: pd.DataFrame,
    actions: pd.DataFrame,
    previous_closes: PreviousCloses,
    adjust: Adjustment,
) -> pd.DataFrame:
    """`bars` (minute_bars' or daily_bars' columns: a `session`, else the New York date of
    `start`, is each bar's day) with prices and volumes adjusted; `none` returns them as they
    are."""
    table = factors(actions, previous_closes, adjust)
    if table.empty or bars.empty:
        return bars
    if "session" in bars:
        days = bars["session"].to_numpy("datetime64[D]").astype(np.int64)
    else:
        days = session_days(bars["start"])
    price, volume = multipliers(table, bars["symbol"].to_numpy(object), days)
    adjusted = bars.copy()
    for name in _PRICES:
        if name in adjusted:
            adjusted[name] = adjusted[name].to_numpy("float64") * price
    if "volume" in adjusted:
        scaled = np.rint(adjusted["volume"].to_numpy("float64") * volume)
        adjusted["volume"] = scaled.astype(bars["volume"].dtype)
    return adjusted


def previous_closes_of(actions: pd.DataFrame, daily: pd.DataFrame) -> dict[tuple[str, date], float]:
    """For each action, the raw close of its symbol in the NYSE session before its ex-date,
    when `daily` (daily_bars' columns) holds that session."""
    if actions.empty or daily.empty:
        return {}
    closes = {
        (symbol, pd.Timestamp(session).date()): float(close)
        for symbol, session, close in zip(
            daily["symbol"], daily["session"], daily["close"], strict=True
        )
    }
    found: dict[tuple[str, date], float] = {}
    for symbol, ex_date in zip(actions["symbol"], actions["ex_date"], strict=True):
        day = pd.Timestamp(ex_date).date()
        try:
            before = previous_session(day)
        except ValueError:  # not a session: no action of it adjusts anything
            continue
        if before is not None and (symbol, before) in closes:
            found[(symbol, day)] = closes[(symbol, before)]
    return found


def _epoch_day(day: date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL

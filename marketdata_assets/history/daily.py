"""Daily bars: each symbol's session summarised from its 1-minute bars.

The session of a bar is the New York date of its `start`. open is the first bar's open, close
the last bar's close, high and low the extremes, volume the sum, vwap = sum(typical * volume) /
sum(volume) with typical = (high + low + close) / 3 (null when the volume is 0), minutes the
count of 1-minute bars, first_minute and last_minute their first and last starts, source the
bars' sources (sorted, unique, joined by ","). A session with no 1-minute bar of the symbol
takes its numbers from its 1d bar instead (minutes 0, no first or last minute); when it has
both, the minutes win.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketdata_assets.market_hours import EXCHANGE_TZ
from marketdata_assets.records import DAILY_BAR_SCHEMA

_KEYS = ["symbol", "session"]


def session_dates(starts: pd.Series) -> pd.Series:
    """The New York date (datetime64[us], midnight) of each UTC instant."""
    local = starts.dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None)
    return local.dt.normalize().astype("datetime64[us]")


def daily_bars(bars: pd.DataFrame) -> pd.DataFrame:
    """DAILY_BAR_SCHEMA rows, one per symbol and session of `bars` (BAR_SCHEMA, 1m and 1d bars
    of any number of sessions), sorted by symbol then session."""
    frame = bars.assign(session=session_dates(bars["start"]))
    frame = frame.sort_values([*_KEYS, "start"], kind="stable", ignore_index=True)
    minute_bars = frame[frame["interval"] == "1m"]
    day_bars = frame[frame["interval"] == "1d"]
    if len(minute_bars):
        day_bars = day_bars[
            ~pd.MultiIndex.from_frame(day_bars[_KEYS]).isin(
                pd.MultiIndex.from_frame(minute_bars[_KEYS])
            )
        ]
    minutes = _summary(minute_bars)
    days = _summary(day_bars.drop_duplicates(_KEYS, keep="first"))
    no_minute = pd.Series(pd.NaT, index=days.index, dtype=DAILY_BAR_SCHEMA["first_minute"])
    days = days.assign(minutes=0, first_minute=no_minute, last_minute=no_minute)
    daily = pd.concat([minutes, days], ignore_index=True) if len(days) else minutes
    daily = daily.sort_values(_KEYS, kind="stable", ignore_index=True)
    return daily[list(DAILY_BAR_SCHEMA)].astype(DAILY_BAR_SCHEMA)


def _summary(bars: pd.DataFrame) -> pd.DataFrame:
    """One row per symbol and session of `bars` (sorted by symbol, session, start)."""
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3
    grouped = bars.assign(weighted=typical * bars["volume"]).groupby(_KEYS, sort=True)
    summary = grouped.agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        weighted=("weighted", "sum"),
        minutes=("start", "size"),
        first_minute=("start", "min"),
        last_minute=("start", "max"),
    ).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = summary["weighted"] / summary["volume"]
    summary["vwap"] = vwap.where(summary["volume"] > 0)
    sources = (
        bars[[*_KEYS, "source"]]
        .drop_duplicates()
        .sort_values([*_KEYS, "source"])
        .groupby(_KEYS, sort=True)["source"]
        .agg(",".join)
        .reset_index()
    )
    return summary.merge(sources, on=_KEYS, how="left").drop(columns="weighted")

"""The history a forecast reads: every symbol's 1-minute closes and session opens and closes.

A panel is built from `minute_bars` (BAR_SCHEMA) and optionally `daily_bars`; `load_panel` reads
the last sessions a lake store holds, straight from their Parquet objects (no Dagster, no GE).

Forecasts train and are judged on the total-return basis (`all`, `total_return`): a 4:1 split is
a -139 % log return in the traded prices and a dividend a drop of the cash paid, neither a move
a model should learn or be judged on. Each symbol's prices are back-adjusted (`history.adjust`)
by its actions with an ex-date up to its own last session in the panel, and no later: its last
price stays the traded one, so a served forecast (the last price times the forecast return) is
of the price users see, and an evaluation as of a session reads no action after it. A constant
factor scales a whole session, so minute returns stay the traded ones; only a return across an
ex-date changes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from marketdata_assets.forecasting.windows import MIN_ORIGINS, MIN_TRAINING_SESSIONS
from marketdata_assets.history.adjust import Adjustment, adjust_bars, previous_closes_of
from marketdata_assets.history.adjusted import actions_frame
from marketdata_assets.history.daily import US_PER_DAY, session_days, symbol_session_keys
from marketdata_assets.lake import ObjectStore, day_key
from marketdata_assets.lake.keys import day_of_key
from marketdata_assets.lake.schemas import BAR_SCHEMA
from marketdata_assets.market.backfill_range import recent, suggested

MINUTE_COLUMNS = {
    "symbol": "str",
    "session": "datetime64[us]",
    "start": "datetime64[us, UTC]",
    "close": "float64",
}
DAILY_COLUMNS = {
    "symbol": "str",
    "session": "datetime64[us]",
    "open": "float64",
    "close": "float64",
}
_READ_TYPES = {c: BAR_SCHEMA[c] for c in ("symbol", "start", "interval", "open", "close")}
_READ = list(_READ_TYPES)
BASIS: Adjustment = "all"  # the adjustment forecasts read: splits and cash dividends


class NotEnoughHistory(ValueError):
    """Too few sessions in the lake to evaluate a forecast; the message names the backfill."""


@dataclass(frozen=True)
class Panel:
    """Each symbol's 1-minute closes (`minute`, sorted by symbol then start, `session` the New
    York date) and each symbol-session's open and close (`daily`, sorted by symbol then session)."""

    minute: pd.DataFrame
    daily: pd.DataFrame

    @cached_property
    def sessions(self) -> list[date]:
        """The sessions holding at least one 1-minute bar, oldest first."""
        days = pd.unique(self.minute["session"].to_numpy())
        return sorted(pd.Timestamp(day).date() for day in days)

    @cached_property
    def symbols(self) -> list[str]:
        return sorted(pd.unique(self.minute["symbol"]).tolist())


def panel_from_bars(minute_bars: pd.DataFrame, daily_bars: pd.DataFrame | None = None) -> Panel:
    """The panel of `minute_bars` (BAR_SCHEMA columns; only 1m bars are read, `open` may be
    absent). A session's open is its first bar's open (its first close when there is no open
    column) and its close the last bar's close, unless `daily_bars` (DAILY_BAR_SCHEMA) holds the
    symbol-session: then they are its open and close."""
    bars = minute_bars
    if "interval" in bars:
        bars = bars[bars["interval"].eq("1m").to_numpy(dtype=bool, na_value=False)]
    bars = bars.sort_values(["symbol", "start"], kind="stable", ignore_index=True)
    days = session_days(bars["start"]) if len(bars) else np.zeros(0, dtype=np.int64)
    minute = pd.DataFrame(
        {
            "symbol": bars["symbol"].astype("str"),
            "session": pd.Series((days * US_PER_DAY).astype("datetime64[us]")),
            "start": bars["start"].astype("datetime64[us, UTC]"),
            "close": bars["close"].astype("float64"),
        }
    )
    key = symbol_session_keys(bars)[0] if len(bars) else days
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
    last = np.r_[first[1:], len(key)] - 1 if len(key) else key
    opens = bars["open"] if "open" in bars else bars["close"]
    daily = pd.DataFrame(
        {
            "symbol": minute["symbol"].take(first).reset_index(drop=True),
            "session": minute["session"].take(first).reset_index(drop=True),
            "open": opens.to_numpy(dtype=np.float64)[first],
            "close": minute["close"].to_numpy()[last],
        }
    ).astype(DAILY_COLUMNS)
    if daily_bars is not None:
        given = daily_bars[list(DAILY_COLUMNS)].astype(DAILY_COLUMNS)
        keys = ["symbol", "session"]
        merged = daily[keys].merge(given, on=keys, how="left", validate="one_to_one")
        daily = merged.fillna({"open": daily["open"], "close": daily["close"]})
    return Panel(minute, daily.astype(DAILY_COLUMNS))


def total_return(panel: Panel, actions: pd.DataFrame | None) -> Panel:
    """`panel` with its minute closes and session opens and closes adjusted (BASIS) for
    `actions` (corporate_actions rows; None or empty: the panel as it is), each symbol's by its
    actions up to its last session in the panel."""
    if actions is None or actions.empty or panel.daily.empty:
        return panel
    last = panel.daily.groupby("symbol", sort=False)["session"].max()
    ends = actions["symbol"].map(last).to_numpy("datetime64[us]")
    ex_dates = pd.to_datetime(actions["ex_date"]).to_numpy("datetime64[us]")
    mine = actions[~np.isnat(ends) & (ex_dates <= ends)].reset_index(drop=True)
    if mine.empty:
        return panel
    closes = previous_closes_of(mine, panel.daily)  # raw closes, before any adjustment
    minute = adjust_bars(panel.minute, mine, closes, BASIS).astype(MINUTE_COLUMNS)
    daily = adjust_bars(panel.daily, mine, closes, BASIS).astype(DAILY_COLUMNS)
    return Panel(minute, daily)


def load_panel(
    store: ObjectStore, symbols: Sequence[str] | None, last: date | None, sessions: int
) -> Panel:
    """The panel of `symbols` (None: every symbol) over the last `sessions` sessions up to `last`
    (None: the latest) whose `minute_bars` object the lake holds, on the total-return basis of
    the lake's corporate_actions over those sessions."""
    days = held_sessions(store, "minute_bars")
    held = [day for day in days if last is None or day <= last][-sessions:] if sessions else []
    only = None if symbols is None else [("symbol", "in", list(symbols))]
    frames = [
        pq.read_table(
            io.BytesIO(store.get(day_key("minute_bars", day))), columns=_READ, filters=only
        )
        for day in held
    ]
    if not frames:
        return panel_from_bars(pd.DataFrame({c: [] for c in _READ}).astype(_READ_TYPES))
    actions = actions_frame(store, None, held[0], held[-1])
    panel = panel_from_bars(pa.concat_tables(frames).to_pandas())
    return total_return(panel, actions)


def held_sessions(store: ObjectStore, dataset: str) -> list[date]:
    """The sessions whose object of the daily `dataset` the lake holds, oldest first."""
    return sorted(day for key in store.keys(f"{dataset}/") if (day := _day(dataset, key)))


def not_enough_history(
    held: int, needed: int, symbols: Sequence[str], last: date | None = None
) -> NotEnoughHistory:
    """The error for `held` sessions of history where `needed` are needed, naming the backfill of
    the `needed` sessions up to `last` (default: the latest session that has ended), and the
    fewest an answer needs (fewer training sessions before the origins)."""
    first, last = recent(needed, last)
    names = ",".join(symbols) if symbols else "the symbols"
    least = MIN_TRAINING_SESSIONS + MIN_ORIGINS
    return NotEnoughHistory(
        f"{held} sessions of minute bars for {names} in the lake, {needed} needed for full "
        f"training windows (at least {least} to answer at all): run "
        f"`{suggested(first, last, symbols)}` first"
    )


def _day(dataset: str, key: str) -> date | None:
    """The session of a `dataset` object key, or None for any other key."""
    try:
        day = day_of_key(key)
    except (StopIteration, ValueError):
        return None
    return day if day_key(dataset, day) == key else None

"""Splits in the tick gate: on a split's ex-date the as-of price reference is brought to the
post-split basis before `price_jump` judges the session's first tick.

A split of ratio r (new shares per old) on ex-date E makes every price from E's open on r times
smaller: judged against the pre-split reference, a correct post-split price is a jump, and would
wait for the level-shift confirmations. So the first tick at or after E's open divides the
reference's prices of each split symbol (its last accepted price and any pending level) by r,
once: the reference is on the basis of the tick that wrote it, so only a reference written
before E's open is divided, and the reference that tick writes is on E's basis (a later tick of
E divides nothing). When no tick ran on E, the first tick after takes E's split with its own
session's: every session opened since the reference was written counts. A quote before the open
is the last trade of the session before, on the old basis. A shift nobody announced (no action
in `corporate_actions` for E) still goes through the confirmations; dividends are left alone (a
cash dividend moves the price far less than the jump threshold). No Dagster here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from marketdata_assets.gate.reference import Reference, States
from marketdata_assets.lake import ObjectStore, day_keys, present_key
from marketdata_assets.lake.codecs import decode
from marketdata_assets.market.calendar import EXCHANGE_TZ, session_bounds, sessions_in

ACTIONS = "corporate_actions"
EXCHANGE = ZoneInfo(EXCHANGE_TZ)


def ex_dates_to_apply(written: datetime | None, tick: datetime) -> list[date]:
    """The sessions whose splits a reference written by the tick `written` must take before
    `tick` is judged: every session whose open falls after `written` and at or before `tick`,
    oldest first. Usually none (a later tick of the session) or the tick's own session; more
    when no tick ran in the sessions between (a split on a day the schedule missed still
    applies the next session). Empty without a reference."""
    if written is None or tick <= written:
        return []
    first = written.astimezone(EXCHANGE).date()
    last = tick.astimezone(EXCHANGE).date()
    return [
        day
        for day in sessions_in(first, last)
        if written < session_bounds(day)[0].to_pydatetime() <= tick
    ]


def split_ratios(actions: pd.DataFrame) -> dict[str, float]:
    """Each symbol's split ratio in `actions` (corporate_actions' columns; several splits of one
    symbol compound), in symbol order; dividends count for nothing."""
    splits = actions[actions["kind"] == "split"]
    ratios: dict[str, float] = {}
    for symbol, value in zip(splits["symbol"], splits["value"], strict=True):
        ratios[str(symbol)] = ratios.get(str(symbol), 1.0) * float(value)
    return dict(sorted(ratios.items()))


def splits_on(store: ObjectStore, session: date) -> dict[str, float]:
    """The split ratios of the session's `corporate_actions` object (one listing of its folder
    and one read); empty when the lake holds none for that session."""
    key = present_key(store, day_keys(ACTIONS, session))
    if key is None:
        return {}
    frame = decode(ACTIONS, store.get(key), key)
    assert isinstance(frame, pd.DataFrame)
    return split_ratios(frame)


def adjusted_for_splits(
    reference: Reference,
    written: datetime | None,
    tick: datetime,
    splits_of: Callable[[date], Mapping[str, float]],
) -> tuple[Reference, dict[str, float]]:
    """The reference written by the tick `written`, as `tick` is judged against it: on the
    post-split basis of every session opened since it was written (`ex_dates_to_apply`; their
    ratios compound), read from `splits_of(session)` (only then, and only for a reference
    holding a symbol); and the ratios applied."""
    sessions = ex_dates_to_apply(written, tick)
    if not sessions or not len(reference):
        return reference, {}
    ratios: dict[str, float] = {}
    for session in sessions:
        for symbol, ratio in splits_of(session).items():
            ratios[symbol] = ratios.get(symbol, 1.0) * ratio
    return on_post_split_basis(reference, ratios)


def on_post_split_basis(
    reference: Reference, ratios: Mapping[str, float]
) -> tuple[Reference, dict[str, float]]:
    """`reference` with each split symbol's last accepted price and pending level divided by its
    ratio, and the ratios it applied (those of the symbols it holds); the reference itself when
    none applies. Every other field (event time, ticks, counts) is kept."""
    states = States.of(reference)
    held = {symbol: ratio for symbol, ratio in ratios.items() if symbol in states}
    if not held:
        return reference, {}
    divisor = np.ones(len(states))
    index = pd.Index(states.symbols)
    divisor[index.get_indexer(list(held))] = list(held.values())
    columns = dict(states.columns)
    columns["price"] = columns["price"] / divisor
    columns["pending_price"] = columns["pending_price"] / divisor
    return States(states.symbols, columns), held

"""The stub market's corporate actions: a fixed schedule, the same for every seed.

A split of ratio r on ex-date E divides every price of the symbol from E on by r; a dividend of
yield q on E multiplies them by 1 - q (the price drops by the cash paid), its amount being q
times the symbol's raw close of the session before E, in cents. So the stub's raw bars step
down on each ex-date as a real listing's do, while its split- and dividend-adjusted series is
the market's random walk (to the cent). The history bodies of an ex-date session carry the
session's actions as Yahoo's chart `events` (`history`).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import NamedTuple

import numpy as np


class StubAction(NamedTuple):
    symbol: str
    ex_date: date
    kind: str  # split or dividend
    value: float  # a split's ratio (new shares per old); a dividend's yield


# Inside the README's week of history (2026-11-30..2026-12-04, AAPL and MSFT) and beside it.
STUB_ACTIONS = (
    StubAction("AAPL", date(2026, 12, 2), "split", 4.0),
    StubAction("MSFT", date(2026, 12, 3), "dividend", 0.0025),
    StubAction("NVDA", date(2026, 12, 1), "split", 1.5),
    StubAction("KO", date(2026, 12, 1), "dividend", 0.008),
)


def actions_on(symbol: str, session: date) -> list[StubAction]:
    """The symbol's actions with ex-date `session`."""
    return [a for a in STUB_ACTIONS if a.symbol == symbol and a.ex_date == session]


def scales(names: tuple[str, ...], session: date) -> tuple[np.ndarray, np.ndarray]:
    """Each symbol's factors on the walk's prices and volumes in `session`: on prices every
    split's 1 / r and every dividend's 1 - q with an ex-date on or before it; on volumes every
    such split's r."""
    found = [_scale(name, session) for name in names]
    return (
        np.array([price for price, _ in found], dtype=np.float64),
        np.array([volume for _, volume in found], dtype=np.float64),
    )


@lru_cache(maxsize=4096)
def _scale(symbol: str, session: date) -> tuple[float, float]:
    price, volume = 1.0, 1.0
    for action in STUB_ACTIONS:
        if action.symbol == symbol and action.ex_date <= session:
            if action.kind == "split":
                price, volume = price / action.value, volume * action.value
            else:
                price *= 1.0 - action.value
    return price, volume

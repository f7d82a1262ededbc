"""Corporate-action candidates as a reader finds them, before the payload's frame.

Each vendor's actions reader (`spec.History.actions`) returns `ActionRow`s; `providers.actions`
assembles the rows of a payload into one candidate frame. Shared by every vendor; names none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple

import numpy as np

from marketdata_assets.providers.bars import WHOLE


class ActionRow(NamedTuple):
    """One action as a reader found it (None where it could not read a field)."""

    item: int
    symbol: str | None
    ex_date: date | None
    kind: str | None
    value: float
    currency: str | None
    problem: str | None = None


def unreadable(symbol: str | None, item: int = WHOLE) -> ActionRow:
    """An `unparseable` action row."""
    return ActionRow(item, symbol, None, None, np.nan, None, "unparseable")


# (envelope, session) -> the action rows it carries; (envelope, item) -> row `item`'s text.
ActionsReader = Callable[[dict[str, Any], date], list[ActionRow]]
ActionTexter = Callable[[dict[str, Any], int], str]

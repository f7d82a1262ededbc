"""A price's change, measured against its own symbol's close in the NYSE session before the
session the price belongs to (`calendar.session_of`): a Sunday's price against Thursday's close
(the price is Friday's), Monday's pre-market price against Friday's. When the lake holds no close
of that symbol in that session, there is no change, and the note says why and what to run:
never a close of another session, or of the newest session held for another symbol.

On a split's ex-date the previous close is on the old basis: when the symbol split (ratio r, new
shares per old) with the price's session as ex-date, the close is divided by r (the split-adjusted
close, as `--adjust splits` reads it) and `split` says so; dividends are not taken out (a
quote's change is the price move, as vendors show it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from marketdata_assets.market.backfill_range import suggested
from marketdata_assets.market.calendar import previous_session, session_of


@dataclass(frozen=True)
class Change:
    previous_close: float | None
    basis: date | None  # the session whose close the change is measured against
    change: float | None
    change_pct: float | None
    note: str | None  # why there is no change (None when there is one)
    split: float | None = None  # the split ratio the basis session's close was divided by

    def fields(self) -> dict[str, object]:
        """The API's fields: previous_close, previous_close_split, change, change_pct,
        change_basis, change_note."""
        return {
            "previous_close": self.previous_close,
            "previous_close_split": self.split,
            "change": self.change,
            "change_pct": self.change_pct,
            "change_basis": self.basis.isoformat() if self.basis else None,
            "change_note": self.note,
        }


def basis_session(event_ts: datetime) -> date | None:
    """The session whose close a price observed at `event_ts` is compared with."""
    session = session_of(event_ts)
    return previous_session(session) if session is not None else None


def no_splits(session: date) -> dict[str, float]:
    """A lake without corporate actions: no symbol split in any session."""
    return {}


def change_of(
    symbol: str,
    price: float,
    event_ts: datetime,
    closes: Callable[[date], dict[str, float]],
    splits: Callable[[date], Mapping[str, float]] = no_splits,
) -> Change:
    """`price`'s change against `symbol`'s close in its basis session, from `closes(session)`
    (every symbol's close in a session the lake holds; empty when it holds none), divided by
    the ratio of its split on the price's session, from `splits(session)` (symbol -> ratio)."""
    session, basis = session_of(event_ts), basis_session(event_ts)
    if session is None or basis is None:
        return Change(None, None, None, None, "no NYSE session before the price's to compare with")
    previous = closes(basis).get(symbol)
    if previous is None:
        day = basis.isoformat()
        missing = (
            f"no close of {symbol} on {day} (the session before the price's) is held: run "
            f"`{suggested(basis, basis, [symbol])}`"
        )
        return Change(None, None, None, None, missing)
    split = splits(session).get(symbol)
    if split is not None:
        previous = previous / split
    change = price - previous
    percent = 100 * change / previous if previous else None
    note = None if percent is not None else f"the close of {symbol} on {basis} is 0: no change %"
    return Change(previous, basis, change, percent, note, split)

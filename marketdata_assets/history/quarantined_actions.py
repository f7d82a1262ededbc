"""Reading the actions gate's quarantine (`actions_quarantine`): the corporate-action rows it
refused, each with its session, what was read of it, its reason codes and its text as received.

`GET /api/quarantine/actions` answers these rows (the quality page lists them). Actions are few:
by default every session held is read (`marketdata actions` reads its dataset so too). No
Dagster, no Great Expectations on this path: objects are decoded by their registered schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from marketdata_assets.history.held import days_held, span
from marketdata_assets.history.intervals import DEFAULT_SESSIONS
from marketdata_assets.history.quarantine_rows import keys_held, session_rows
from marketdata_assets.lake import ObjectStore
from marketdata_assets.market.backfill_range import suggested

if TYPE_CHECKING:
    from marketdata_assets.history.query import Sessions

DATASET = "actions_quarantine"
# An answer row's fields, in order: the session, what the parser read of the row (null where it
# could not), the reason codes, and the row's own text as received.
FIELDS = (
    "session",
    "row",
    "symbol",
    "ex_date",
    "kind",
    "value",
    "currency",
    "source",
    "problem",
    "reasons",
    "raw",
)


@dataclass(frozen=True)
class QuarantinedActions:
    """The refused rows of the sessions read (`first`..`last`; None: no session is held), newest
    session first and in source order within a session; `held` counts the sessions held."""

    first: date | None
    last: date | None
    rows: list[dict[str, object]]
    held: int


def quarantined_actions(
    lake: ObjectStore,
    first: date | None = None,
    last: date | None = None,
    sessions: Sessions | None = None,
) -> QuarantinedActions:
    """The action rows the actions gate refused in the sessions from `first` to `last` (each
    open when None: every session held), read from the lake or from `sessions` when given."""
    by_day = days_held(DATASET, keys_held(lake, DATASET, sessions))
    read = {
        day: key
        for day, key in reversed(by_day.items())
        if (first is None or day >= first) and (last is None or day <= last)
    }
    rows = session_rows(lake, DATASET, FIELDS, read, sessions, _ex_date)
    if by_day:
        first = first or next(iter(by_day))
        last = last or next(reversed(by_day))
    return QuarantinedActions(first, last, rows, len(by_day))


def _ex_date(value: datetime) -> str:
    return value.date().isoformat()  # the ex-date: a New York date at midnight


def what_to_run(answer: QuarantinedActions) -> str:
    """What an empty answer says: no history held, or no action refused in the range read."""
    if not answer.held:
        first, last = span([], answer.first, answer.last, DEFAULT_SESSIONS)
        return (
            "no corporate actions quarantined: no session of history is held yet; run "
            f"`{suggested(first, last)}`"
        )
    return (
        f"no corporate actions quarantined in {answer.first}..{answer.last}: every action "
        "landed passed the actions gate"
    )

"""Reading the history's quarantine: the source rows the bars gate refused (`bars_quarantine`),
each with its session, what was read of it, its reason codes and its text exactly as landed.

`marketdata quarantine --history` and `GET /api/quarantine/history` answer these rows. No
Dagster, no Great Expectations and no DuckDB on this path: the session objects are decoded by
their registered schema (`lake.codecs.typed_table`), so a corrupt object is one line naming its
key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from marketdata_assets.history.held import days_held, sessions_held, span
from marketdata_assets.history.intervals import DEFAULT_SESSIONS
from marketdata_assets.history.quarantine_rows import keys_held, session_rows
from marketdata_assets.lake import ObjectStore
from marketdata_assets.market.backfill_range import suggested

if TYPE_CHECKING:
    from marketdata_assets.history.query import Sessions

DATASET = "bars_quarantine"
# An answer row's fields, in order: the session, what the parser read of the row (null where
# it could not), the reason codes, and the row's own text as received.
FIELDS = (
    "session",
    "row",
    "symbol",
    "start",
    "interval",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "source",
    "problem",
    "reasons",
    "raw",
)


@dataclass(frozen=True)
class Quarantined:
    """The quarantined rows read from `first` to `last` (the range asked, defaults applied),
    newest session first and in source order within a session; `held` is the sessions whose
    objects the lake holds at all (oldest first)."""

    first: date
    last: date
    rows: list[dict[str, object]]
    held: list[date]


def quarantined_bars(
    lake: ObjectStore,
    first: date | None = None,
    last: date | None = None,
    sessions: Sessions | None = None,
) -> Quarantined:
    """The history rows the bars gate quarantined in the sessions from `first` to `last`, read
    from the lake or from `sessions` when given.

    Defaults, as for daily bars: `last` is the newest session `bars_quarantine` holds, `first`
    the DEFAULT_SESSIONS-th NYSE session up to `last`."""
    keys = keys_held(lake, DATASET, sessions)
    by_day = days_held(DATASET, keys)
    held = sessions_held(DATASET, keys)
    first, last = span(held, first, last, DEFAULT_SESSIONS)
    read = {day: by_day[day] for day in reversed(held) if first <= day <= last}
    rows = session_rows(lake, DATASET, FIELDS, read, sessions, _utc_stamp)
    return Quarantined(first, last, rows, held)


def _utc_stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def what_to_run(answer: Quarantined) -> str:
    """What an empty answer says: no history held, or no row refused in the range read."""
    span_asked = f"{answer.first}..{answer.last}"
    if not answer.held:
        return (
            f"no history bars quarantined: no session of history is held yet; run "
            f"`{suggested(answer.first, answer.last)}`"
        )
    every = f"--from {answer.held[0]} --to {answer.held[-1]}"
    return (
        f"no history bars quarantined in {span_asked}: every source row passed the bars gate; "
        f"`marketdata quarantine --history {every}` reads every session held"
    )


def quarantined_table(answer: Quarantined) -> str:
    """A line per quarantined row: session, symbol, source row, reasons and the row's text
    (shown as a Python string literal: a control character or markup is never interpreted)."""
    if not answer.rows:
        return f"({what_to_run(answer)})"
    lines = [f"{'SESSION':<10} {'SYMBOL':<8} {'ROW':>6} {'REASONS':<32} TEXT"]
    for r in answer.rows:
        reasons = ",".join(r["reasons"])  # type: ignore[arg-type]
        symbol = "-" if r["symbol"] is None else repr(r["symbol"])[1:-1]
        text = "-" if r["raw"] is None else repr(r["raw"])
        lines.append(f"{r['session']:<10} {symbol[:8]:<8} {r['row']:>6} {reasons:<32} {text[:120]}")
    return "\n".join(lines)

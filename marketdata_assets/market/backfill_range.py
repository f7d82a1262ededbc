"""The ranges a backfill can run: sessions from the first partition (2010-01-04) up to the last
session that has ended. `refusal` says in one line why a typed range holds none it can run;
`suggested` is the one command every message that names a backfill prints, a range `refusal`
accepts that covers what was asked. No Dagster here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from marketdata_assets.market.calendar import (
    FIRST_SESSION,
    closed_days,
    closed_reason,
    last_ended_session,
    last_known_day,
    sessions_in,
)


def refusal(first: date, last: date, now: datetime | None = None) -> str | None:
    """Why a backfill of `first`..`last` cannot run (one line), or None when it can: the range
    must start on or after the first session, and hold a session that has ended."""
    span = f"--from {first} --to {last}"
    if first > last:
        return f"--from {first} is after --to {last}: the range must not be empty"
    if first < FIRST_SESSION:
        return (
            f"--from {first}: before the first session a backfill can run, {FIRST_SESSION} "
            f"(start the range there or later)"
        )
    ended = last_ended_session(now)
    if first > ended:
        return f"{span}: after the last session that has ended, {ended}"
    if not sessions_in(first, last):
        closed = [f"{day} {closed_reason(day)}" for day in closed_days(first, last)]
        if first == last:
            return f"{first} is not an NYSE session: {closed_reason(first)}"
        return f"{span}: no NYSE session in the range ({', '.join(closed)})"
    return None


def fillable(first: date, last: date, now: datetime | None = None) -> tuple[date, date]:
    """The range a backfill can run that covers what of `first`..`last` can be filled: from
    its first session to its last session that has ended; when it holds none, the nearest
    session that has ended before its end (the first session, for a range before it)."""
    ended = last_ended_session(now)
    held = sessions_in(max(first, FIRST_SESSION), min(last, ended))
    if held:
        return held[0], held[-1]
    before = sessions_in(FIRST_SESSION, min(max(last, FIRST_SESSION), ended))
    nearest = before[-1] if before else FIRST_SESSION
    return nearest, nearest


def unfillable(first: date, last: date, now: datetime | None = None) -> str | None:
    """Why no session of `first`..`last` can be backfilled, for a hint that then names the
    nearest one instead (`fillable`), or None when one can: every day of it closed, none of
    its sessions ended yet, or all of it before the first session."""
    if first > last:
        return None
    if last < FIRST_SESSION:
        return f"the history starts at {FIRST_SESSION}"
    if first > last_known_day():  # no calendar to name its closed days (year 9999 included)
        return f"{first} is beyond the NYSE calendar, which ends {last_known_day()}"
    if not sessions_in(first, last):
        if first == last:
            return f"{first} is not an NYSE session ({closed_reason(first)})"
        shut = closed_days(first, min(last, last_known_day()))
        closed = ", ".join(f"{day} {closed_reason(day)}" for day in shut)
        return f"no NYSE session in the range ({closed})"
    ended = last_ended_session(now)
    if first > ended:
        return f"{first} has not ended yet" if first == last else "no session of it has ended yet"
    return None


def recent(count: int, last: date | None = None, now: datetime | None = None) -> tuple[date, date]:
    """The first and last of the `count` sessions up to `last` (default, and at most: the last
    session that has ended at `now`): the range a backfill runs to hold that many sessions."""
    end = min(last or last_ended_session(now), last_ended_session(now))
    span = sessions_in(end - timedelta(days=2 * count + 14), end)[-count:]
    return (span[0] if span else end), end


def suggested(
    first: date, last: date, symbols: Sequence[str] = (), now: datetime | None = None
) -> str:
    """The backfill command that fills `first`..`last` (what of it can be filled), as printed in
    every hint: `marketdata backfill --from A --to B [--symbols S,T]`."""
    lo, hi = fillable(first, last, now)
    names = f" --symbols {','.join(symbols)}" if symbols else ""
    return f"marketdata backfill --from {lo} --to {hi}{names}"

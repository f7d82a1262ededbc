"""The one key layout both lake backends use, over the dataset registry (`lake.datasets`).

Minute datasets (one object per tick): <dataset>/date=YYYY-MM-DD/minute=HHMM/<file>.
Daily datasets (one object per NYSE session): <dataset>/date=YYYY-MM-DD/<file>.
Monthly datasets (one object per calendar month): <dataset>/month=YYYY-MM/<file>.
Keys are built only from these fixed names, a tick and a date: never from a symbol.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from marketdata_assets.lake.datasets import DATASETS, dataset

if TYPE_CHECKING:
    from marketdata_assets.lake.objects import ObjectStore

# How far back a tick looks for the newest earlier object (weekends and holidays included).
LOOKBACK_DAYS = 7


def date_prefix(name: str, day: date) -> str:
    """The folder holding one day's objects of `name` (a UTC day, or a session's date)."""
    return f"{dataset(name).name}/date={day:%Y-%m-%d}/"


def tick_prefix(name: str, tick: datetime) -> str:
    """The folder holding one tick's objects of the minute dataset `name`."""
    dataset(name, "minute")
    tick = tick.astimezone(UTC)
    return f"{date_prefix(name, tick.date())}minute={tick:%H%M}/"


def object_key(name: str, tick: datetime) -> str:
    """The key of one tick's object in the minute dataset `name`."""
    return tick_prefix(name, tick) + DATASETS[name].file


def day_key(name: str, day: date) -> str:
    """The key of one session's object in the daily dataset `name`."""
    dataset(name, "day")
    return date_prefix(name, day) + DATASETS[name].file


def object_keys(name: str, tick: datetime) -> tuple[str, ...]:
    """Every key one tick's `name` object may have: the one written now (`object_key`) first,
    then those objects written before had (`Dataset.legacy_files`). One folder holds them all."""
    return tuple(tick_prefix(name, tick) + file for file in DATASETS[name].files)


def day_keys(name: str, day: date) -> tuple[str, ...]:
    """Every key one session's `name` object may have, the one written now first."""
    dataset(name, "day")
    return tuple(date_prefix(name, day) + file for file in DATASETS[name].files)


def month_key(name: str, month: date) -> str:
    """The key of one calendar month's object (the month holding `month`) in the monthly
    dataset `name`."""
    dataset(name, "month")
    return f"{dataset(name).name}/month={month:%Y-%m}/{DATASETS[name].file}"


def day_of_key(key: str) -> date:
    """The date in a key built by `day_key` or `object_key`."""
    part = next(p for p in key.split("/") if p.startswith("date="))
    return date.fromisoformat(part.removeprefix("date="))


def tick_of_key(key: str) -> datetime | None:
    """The minute of a minute object's key (`…/date=YYYY-MM-DD/minute=HHMM/…`), else None."""
    parts = key.split("/")
    if len(parts) != 4 or not parts[1].startswith("date=") or not parts[2].startswith("minute="):
        return None
    try:
        minute = datetime.strptime(f"{parts[1][5:]} {parts[2][7:]}", "%Y-%m-%d %H%M")
    except ValueError:
        return None
    return minute.replace(tzinfo=UTC)


def latest_key_before(
    store: ObjectStore, name: str, tick: datetime, lookback_days: int = LOOKBACK_DAYS
) -> str | None:
    """The key of the newest `name` object from a minute strictly before `tick`, walking back
    over minutes and days without one.

    Its cost does not grow with the day: a minute dataset holds one object per minute folder,
    so the few minutes before `tick` are one listing of at most RECENT_MINUTES keys starting
    at the first of them (S3's StartAfter and MaxKeys). Only when they hold none does it ask
    for the day's first key (a listing of one key) and walk back WINDOW_MINUTES at a time to
    it, then over earlier days the same way (an empty day costs that one-key listing). A rerun
    of an old minute finds the object before it, not the newest in the lake."""
    bound = object_key(name, tick)
    tick = tick.astimezone(UTC)
    for back in range(lookback_days + 1):
        day = tick.date() - timedelta(days=back)
        end = tick.hour * 60 + tick.minute if back == 0 else MINUTES_A_DAY
        found = _newest_of_day(store, name, day, end, bound, recent=back == 0)
        if found is not None:
            return found
    return None


# The minutes one listing covers, so at most this many keys come back (one object a minute):
# the tick's last few minutes first (a tick a minute finds its predecessor there), then hours.
RECENT_MINUTES = 5
WINDOW_MINUTES = 60
MINUTES_A_DAY = 24 * 60


def _minute_key(prefix: str, minute: int) -> str:
    """The start of minute `minute`'s folder under a day's `prefix` (1440: after every one)."""
    return f"{prefix}minute={minute // 60:02d}{minute % 60:02d}"


def _newest_of_day(
    store: ObjectStore, name: str, day: date, end: int, bound: str, recent: bool
) -> str | None:
    """The newest `name` object of `day` from a minute before `end` (a key before `bound`):
    the RECENT_MINUTES before `end` first when `recent`, then, from the day's first key on,
    WINDOW_MINUTES at a time, newest first."""
    prefix = date_prefix(name, day)
    stop = end
    if recent:
        stop = max(end - RECENT_MINUTES, 0)
        found = _newest_between(store, name, prefix, stop, end, bound)
        if found is not None:
            return found
    first = store.keys_after(prefix, "", 1)
    if not first or first[0] >= _minute_key(prefix, stop):
        return None  # the day holds nothing before the minutes already listed
    floor = _minute_of(first[0], prefix)
    while stop > floor:
        start = max(stop - WINDOW_MINUTES, floor)
        found = _newest_between(store, name, prefix, start, stop, bound)
        if found is not None:
            return found
        stop = start
    return None


def _newest_between(
    store: ObjectStore, name: str, prefix: str, start: int, stop: int, bound: str
) -> str | None:
    """The newest `name` object in the minute folders [start, stop) of a day's `prefix`: one
    listing, continued only when the folders hold more than one object a minute."""
    if stop <= start:
        return None
    suffix = "/" + DATASETS[name].file
    after, until = _minute_key(prefix, start), _minute_key(prefix, stop)
    limit = stop - start + 1  # one past the window: a full window needs no second page
    newest = None
    while True:
        page = store.keys_after(prefix, after, limit)
        inside = [key for key in page if key < until]
        held = [key for key in inside if key.endswith(suffix) and key < bound]
        newest = held[-1] if held else newest  # pages ascend: a later page's keys are newer
        if len(page) < limit or len(inside) < len(page):
            return newest  # the listing passed the window's last minute
        after = page[-1]


def _minute_of(key: str, prefix: str) -> int:
    """The minute of the day of a key under a day's `prefix` (0 for a key that names none)."""
    part = key.removeprefix(prefix).split("/")[0].removeprefix("minute=")
    if len(part) == 4 and part.isdigit():
        return min(int(part[:2]) * 60 + int(part[2:]), MINUTES_A_DAY)
    return 0

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


def month_key(name: str, month: date) -> str:
    """The key of one calendar month's object (the month holding `month`) in the monthly
    dataset `name`."""
    dataset(name, "month")
    return f"{dataset(name).name}/month={month:%Y-%m}/{DATASETS[name].file}"


def day_of_key(key: str) -> date:
    """The date in a key built by `day_key` or `object_key`."""
    part = next(p for p in key.split("/") if p.startswith("date="))
    return date.fromisoformat(part.removeprefix("date="))


def latest_key_before(
    store: ObjectStore, name: str, tick: datetime, lookback_days: int = LOOKBACK_DAYS
) -> str | None:
    """The key of the newest `name` object from a minute strictly before `tick`, walking back
    over minutes and days without one (one listing per UTC day)."""
    bound = object_key(name, tick)
    suffix = "/" + DATASETS[name].file
    day = tick.astimezone(UTC).date()
    for back in range(lookback_days + 1):
        keys = [
            key
            for key in store.keys(date_prefix(name, day - timedelta(days=back)))
            if key.endswith(suffix) and key < bound
        ]
        if keys:
            return max(keys)
    return None

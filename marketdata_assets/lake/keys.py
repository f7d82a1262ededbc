"""The one key layout both lake backends use: <dataset>/date=YYYY-MM-DD/minute=HHMM/<file>."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marketdata_assets.lake.objects import ObjectStore

# Dataset -> the single object a tick writes into it.
DATASETS = {
    "raw": "ticks.jsonl",
    "curated": "ticks.parquet",
    "validated": "ticks.parquet",
    "quarantine": "ticks.parquet",
    "reference": "reference.parquet",  # the gate's as-of price reference after the tick
}
# How far back a tick looks for the newest earlier object (weekends and holidays included).
LOOKBACK_DAYS = 7


def _check(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r}: must be one of {', '.join(DATASETS)}")


def date_prefix(dataset: str, day: date) -> str:
    """The folder holding one UTC day's objects of `dataset`."""
    _check(dataset)
    return f"{dataset}/date={day:%Y-%m-%d}/"


def tick_prefix(dataset: str, tick: datetime) -> str:
    """The folder holding one tick's objects of `dataset`."""
    tick = tick.astimezone(UTC)
    return f"{date_prefix(dataset, tick.date())}minute={tick:%H%M}/"


def object_key(dataset: str, tick: datetime) -> str:
    """The key of one tick's object in `dataset`; built only from fixed names and the tick."""
    return tick_prefix(dataset, tick) + DATASETS[dataset]


def latest_key_before(
    store: ObjectStore, dataset: str, tick: datetime, lookback_days: int = LOOKBACK_DAYS
) -> str | None:
    """The key of the newest `dataset` object from a minute strictly before `tick`, walking back
    over minutes and days without one (one listing per UTC day)."""
    bound = object_key(dataset, tick)
    name = "/" + DATASETS[dataset]
    day = tick.astimezone(UTC).date()
    for back in range(lookback_days + 1):
        keys = [
            key
            for key in store.keys(date_prefix(dataset, day - timedelta(days=back)))
            if key.endswith(name) and key < bound
        ]
        if keys:
            return max(keys)
    return None

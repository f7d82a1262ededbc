"""The dataset registry and the one key layout both lake backends use.

Minute datasets (one object per tick): <dataset>/date=YYYY-MM-DD/minute=HHMM/<file>.
Daily datasets (one object per NYSE session): <dataset>/date=YYYY-MM-DD/<file>.
Keys are built only from these fixed names, a tick and a date: never from a symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from marketdata_assets.lake.objects import ObjectStore

Grain = Literal["minute", "day"]
Codec = Literal["bytes", "parquet", "json"]


@dataclass(frozen=True)
class Dataset:
    """One lake dataset: its name (the key's first part), grain, codec, object file name, the
    Dagster asset that writes it (if any) and, for tables, the columns objects are sorted by."""

    name: str
    grain: Grain
    codec: Codec
    file: str
    asset: str | None = None
    sort_by: tuple[str, ...] = ()


_BARS_ORDER = ("symbol", "start")
_SESSION_ORDER = ("symbol", "session")

REGISTRY: tuple[Dataset, ...] = (
    # the minute tick
    Dataset("raw", "minute", "bytes", "ticks.jsonl", "raw_ticks"),
    Dataset("curated", "minute", "parquet", "ticks.parquet", "curated_ticks"),
    Dataset("validated", "minute", "parquet", "ticks.parquet", "validated_ticks"),
    Dataset("quarantine", "minute", "parquet", "ticks.parquet", "quarantined_ticks"),
    # the gate's as-of price reference after the tick
    Dataset("reference", "minute", "parquet", "reference.parquet", "price_reference"),
    # every tick's run record (CLI or Lambda): outcome, counts, every check's result
    Dataset("runs", "minute", "json", "run.json"),
    # history: one object per NYSE session
    Dataset("raw_history", "day", "bytes", "part.jsonl", "raw_history"),
    Dataset("minute_bars", "day", "parquet", "part.parquet", "minute_bars", _BARS_ORDER),
    Dataset("bars_quarantine", "day", "parquet", "part.parquet", "bars_quarantine", _BARS_ORDER),
    Dataset("daily_bars", "day", "parquet", "part.parquet", "daily_bars", _SESSION_ORDER),
    Dataset(
        "session_analytics", "day", "parquet", "part.parquet", "session_analytics", _SESSION_ORDER
    ),
    Dataset(
        "validated_daily",
        "day",
        "parquet",
        "part.parquet",
        "validated_daily",
        ("symbol", "event_ts"),
    ),
    # forecasts: the walk-forward's skill table and the served forecasts, as of each session
    Dataset(
        "forecast_skill",
        "day",
        "parquet",
        "part.parquet",
        "forecast_skill",
        ("symbol", "horizon", "model"),
    ),
    Dataset(
        "price_forecasts",
        "day",
        "parquet",
        "part.parquet",
        "price_forecasts",
        ("symbol", "horizon"),
    ),
    # which symbols a backfill finished for each session (written last, by the backfill)
    Dataset("history_done", "day", "json", "part.json"),
)
DATASETS: dict[str, Dataset] = {d.name: d for d in REGISTRY}
# The minute datasets the tick graph writes (its run record is written beside them, not by it).
MINUTE_DATASETS = tuple(d.name for d in REGISTRY if d.grain == "minute" and d.asset)
DAY_DATASETS = tuple(d.name for d in REGISTRY if d.grain == "day")
_OF_ASSET = {d.asset: d for d in REGISTRY if d.asset}
# How far back a tick looks for the newest earlier object (weekends and holidays included).
LOOKBACK_DAYS = 7


def dataset(name: str, grain: Grain | None = None) -> Dataset:
    """The registered dataset `name` (of `grain`, when given); anything else is a ValueError."""
    found = DATASETS.get(name)
    if found is None or (grain is not None and found.grain != grain):
        names = [d.name for d in REGISTRY if grain is None or d.grain == grain]
        raise ValueError(f"dataset {name!r}: must be one of {', '.join(names)}")
    return found


def dataset_of_asset(asset: str) -> Dataset:
    """The dataset the Dagster asset `asset` writes."""
    if asset not in _OF_ASSET:
        raise ValueError(f"asset {asset!r} writes no lake dataset")
    return _OF_ASSET[asset]


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

"""The one key layout both lake backends use: <dataset>/date=YYYY-MM-DD/minute=HHMM/<file>."""

from __future__ import annotations

from datetime import UTC, datetime

# Dataset -> the single object a tick writes into it.
DATASETS = {
    "raw": "ticks.jsonl",
    "curated": "ticks.parquet",
    "validated": "ticks.parquet",
    "quarantine": "ticks.parquet",
}


def tick_prefix(dataset: str, tick: datetime) -> str:
    """The folder holding one tick's objects of `dataset`."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset {dataset!r}: must be one of {', '.join(DATASETS)}")
    tick = tick.astimezone(UTC)
    return f"{dataset}/date={tick:%Y-%m-%d}/minute={tick:%H%M}/"


def object_key(dataset: str, tick: datetime) -> str:
    """The key of one tick's object in `dataset`; built only from fixed names and the tick."""
    return tick_prefix(dataset, tick) + DATASETS[dataset]

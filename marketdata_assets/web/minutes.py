"""The lake's minute objects as the dashboard reads them: the days that hold a dataset's objects
(one listing of its day folders), the newest minutes, and a tick's row from its run record or,
for ticks without one, from its raw, validated and quarantine objects."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime

from marketdata_assets.lake import ObjectStore, object_key, object_keys
from marketdata_assets.lake.codecs import unpacked
from marketdata_assets.lake.keys import date_prefix
from marketdata_assets.lake.keys import tick_of_key as tick_of
from marketdata_assets.market.ticks import format_tick
from marketdata_assets.operations import run_records
from marketdata_assets.tick import curation, views

# Minute datasets a tick's row reads: its run record, raw payload and the gate's two outputs.
TICK_DATASETS = ("runs", "raw", "validated", "quarantine")


def newest_tick(lake: ObjectStore) -> datetime:
    """The newest minute holding a run record or a raw object (the epoch when none does)."""
    newest = datetime(1970, 1, 1, tzinfo=UTC)
    for name in ("runs", "raw"):
        days = minute_days(lake, name)
        if days:
            ticks = [tick_of(key) for key in lake.keys(date_prefix(name, days[-1]))]
            newest = max([newest, *(tick for tick in ticks if tick is not None)])
    return newest


def recent_minutes(lake: ObjectStore, limit: int) -> list[tuple[datetime, dict[str, str]]]:
    """The newest `limit` minutes holding a run record or a raw object, newest first, with
    the key of each of TICK_DATASETS' objects the minute holds."""
    days = sorted({*minute_days(lake, "runs"), *minute_days(lake, "raw")})
    found: list[tuple[datetime, dict[str, str]]] = []
    for day in reversed(days):
        minutes: dict[datetime, dict[str, str]] = {}
        for name in TICK_DATASETS:
            for key in lake.keys(date_prefix(name, day)):
                tick = tick_of(key)
                # an object under an earlier name of its dataset counts, the current one first
                if tick is not None and key in object_keys(name, tick):
                    objects = minutes.setdefault(tick, {})
                    if name not in objects or key == object_key(name, tick):
                        objects[name] = key
        held = [(t, keys) for t, keys in minutes.items() if "runs" in keys or "raw" in keys]
        found += sorted(held, key=lambda item: item[0], reverse=True)
        if len(found) >= limit:
            break
    return found[:limit]


def tick_row(lake: ObjectStore, tick: datetime, keys: dict[str, str]) -> dict[str, object] | None:
    """One tick's row: from its run record when it has one, else from its objects; None when
    its only object is a run record that is no record (a warning on stderr names its key)."""
    reasons = _reasons(lake, keys["quarantine"]) if "quarantine" in keys else {}
    found = run_records.parse(keys["runs"], lake.get(keys["runs"])) if "runs" in keys else None
    if isinstance(found, run_records.Skipped):
        run_records.warn(found)
        if "raw" not in keys:
            return None
    elif found is not None:
        record = found
        row = run_records.status_row(record)
        row["raw"] = record.get("raw")
        row["reasons"] = reasons
        row["checks"] = [
            {name: check.get(name) for name in ("asset", "check", "passed", "severity")}
            for check in record.get("checks", [])
            if check.get("evaluated")
        ]
        for detail in ("source", "cause", "reason"):
            if record.get(detail) is not None:
                row[detail] = record[detail]
        return row
    payload = unpacked(keys["raw"], lake.get(keys["raw"]))
    validated = _rows(lake, keys["validated"]) if "validated" in keys else None
    quarantined = _rows(lake, keys["quarantine"]) if "quarantine" in keys else None
    return {
        "tick": format_tick(tick),
        "outcome": "succeeded" if validated is not None else "failed",
        "validated": validated,
        "quarantined": quarantined,
        "provider_errors": curation.provider_errors(payload),
        "duration_ms": None,
        "request_id": None,
        "raw": sum(1 for _ in curation.raw_records(payload)),
        "reasons": reasons,
    }


def _rows(lake: ObjectStore, key: str) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(io.BytesIO(lake.get(key))).num_rows)


def _reasons(lake: ObjectStore, key: str) -> dict[str, int]:
    """Quarantined rows per reason code in one quarantine object."""
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(lake.get(key)), columns=["reasons"])
    return dict(Counter(code for codes in table.column("reasons").to_pylist() for code in codes))


def minute_days(lake: ObjectStore, name: str) -> list[date]:
    """The UTC days holding objects of the minute dataset `name`, oldest first, from one listing
    of its day folders (never of every object)."""
    prefix = f"{name}/"
    days = []
    for folder in lake.folders(prefix):
        part = folder.removeprefix(prefix).rstrip("/")
        if part.startswith("date="):
            try:
                days.append(date.fromisoformat(part.removeprefix("date=")))
            except ValueError:
                continue
    return sorted(days)


def quarantine_keys(lake: ObjectStore, tick: datetime | None, days: int) -> list[str]:
    """The tick quarantine objects to read, newest first: `tick`'s, or those of the newest
    `days` days holding any."""
    if tick is not None:
        key = object_key("quarantine", tick)
        return [key] if key in lake.keys(date_prefix("quarantine", tick.date())) else []
    held = minute_days(lake, "quarantine")[-days:]
    return [
        key
        for day in reversed(held)
        for key in reversed(lake.keys(date_prefix("quarantine", day)))
        if (found := tick_of(key)) is not None and key == object_key("quarantine", found)
    ]


def quarantine_records(lake: ObjectStore, key: str) -> list[dict[str, object]]:
    """The records of the quarantine object at `key`, each with the command replaying its tick."""
    tick = tick_of(key)
    assert tick is not None
    replay = views.replay_command(lake, tick)
    return [
        {**record, "replay": replay}
        for record in views.quarantine_object_records(lake.get(key), key)
    ]
